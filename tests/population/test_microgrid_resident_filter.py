"""The resident list filters by micro-grid (issue 21, 微网实格: "the lists can filter by
micro-grid"): a building's micro-grid, a chosen set of households overriding it, and the
signed-in 网格员's scope still holding."""
import pytest

from shequ_desktop.places import grid
from shequ_desktop.community import microgrids
from shequ_desktop.core.access import GRID_WORKER, Access
from shequ_desktop.population.resident_list import ResidentQuery
from tests.community.test_microgrids import block  # noqa: F401 (the fixture: 2号楼 with 赵一, 钱二)


@pytest.fixture
def two_sets(ctx, place, block):
    """2号楼's micro-grid, and a chosen set taking 赵一's household out of it."""
    building, (zhao, _qian) = block
    whole = microgrids.create_microgrid(ctx, place.grid, "2号楼微网格", unit_id=building,
                                        head_name="孙楼长", head_role="楼栋长").id
    chosen = microgrids.create_microgrid(ctx, place.grid, "党员联系户", head_name="周党员",
                                         head_role="党员中心户").id
    microgrids.set_households(ctx, chosen, [zhao])
    return whole, chosen


def names(conn, query):
    ids = query.ids(conn)
    assert query.count(conn) == len(ids)
    return sorted(r[0] for r in conn.execute(
        f"SELECT name FROM residents WHERE id IN ({','.join('?' * len(ids))})", ids))


def test_the_resident_list_filters_by_micro_grid(conn, ctx, place, two_sets):
    whole, chosen = two_sets
    assert names(conn, ResidentQuery(microgrid_id=whole)) == ["钱二"]
    assert names(conn, ResidentQuery(microgrid_id=chosen)) == ["赵一"]
    assert ResidentQuery(microgrid_id=chosen, text="钱").count(conn) == 0
    assert ResidentQuery(microgrid_id=whole, unit_id=place.grid).count(conn) == 1
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    worker = Access(GRID_WORKER, frozenset({other}))
    assert ResidentQuery(microgrid_id=whole, access=worker).count(conn) == 0
