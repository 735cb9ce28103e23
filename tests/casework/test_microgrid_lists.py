"""Issue 21 (微网实格): the 走访 and 事件 lists filter by micro-grid — visits.due and
events.list_events take `microgrid_id` (tree.MICROGRID_OF), within the user's scope."""
import datetime as dt

import pytest

from shequ_desktop.casework import events, visits
from shequ_desktop.community import microgrids
from shequ_desktop.core.access import GRID_WORKER, Access
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, tags
from tests.community.test_microgrids import block  # noqa: F401 (the fixture: 2号楼 with 赵一, 钱二)
from tests.conftest import make_id
from tests.population.test_microgrid_resident_filter import two_sets  # noqa: F401 (fixture)

TODAY = dt.date.today()


def head_of(conn, household_id):
    return conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                        (household_id,)).fetchone()[0]


@pytest.fixture
def lists(ctx, conn, place, family, block, two_sets):
    """王建国 (1号楼, in no micro-grid), 赵一 (党员联系户), 钱二 (2号楼微网格) and 吴三 of a
    second grid's micro-grid all 独居老人 since 30 days, never visited; one event for each
    of them, and one on 2号楼 concerning no one, assigned to 2号楼微网格."""
    _hh, ids = family
    building, (zhao, qian) = block
    whole, chosen = two_sets
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    house = houses.create_house(ctx, grid.create_unit(ctx, other, "building", "9号楼").id,
                                {"room_no": "101", "floor": 1}).id
    wu = households.create_household(ctx, house, {
        "name": "吴三", "id_number": make_id("1950-02-02", "1", seq=90)}).id
    far = microgrids.create_microgrid(ctx, other, "第二网格微网格", unit_id=None,
                                      head_name="吴", head_role="志愿者").id
    microgrids.set_households(ctx, far, [wu])
    lonely = conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    since = (TODAY - dt.timedelta(days=30)).isoformat()
    people = {"王建国": ids["head"], "赵一": head_of(conn, zhao), "钱二": head_of(conn, qian),
              "吴三": head_of(conn, wu)}
    category = conn.execute("SELECT id FROM event_categories ORDER BY id").fetchone()[0]
    found = {}
    for name, rid in people.items():
        tags.assign_tag(ctx, rid, lonely, since)
        unit = other if name == "吴三" else place.grid
        found[name] = events.report_event(ctx, unit, category, f"{name}的事", TODAY, "孙",
                                          resident_id=rid).id
    stairs = events.report_event(ctx, building, category, "楼道堆物", TODAY, "孙").id
    microgrids.assign_event(ctx, stairs, whole)
    return {"whole": whole, "chosen": chosen, "far": far, "other": other, "events": found}


def due_names(conn, unit_id=None, access=None, **options):
    return sorted(r["name"] for r in visits.due(conn, TODAY, unit_id, access=access, **options))


def descriptions(conn, **options):
    return sorted(e["description"] for e in events.list_events(conn, on=TODAY, **options))


def test_the_visit_list_of_a_microgrid_is_exactly_its_residents(conn, place, lists):
    assert due_names(conn) == ["吴三", "王建国", "赵一", "钱二"]
    assert due_names(conn, microgrid_id=lists["chosen"]) == ["赵一"]
    assert due_names(conn, place.grid, microgrid_id=lists["whole"]) == ["钱二"]
    assert due_names(conn, within_days=-1, microgrid_id=lists["far"]) == ["吴三"]
    assert due_names(conn, place.grid, microgrid_id=lists["far"]) == []   # not in that grid
    rows = microgrids.due_visits(conn, lists["whole"], TODAY)          # the head's list
    assert [r["name"] for r in rows] == ["钱二"]


def test_the_event_list_of_a_microgrid_is_assigned_or_concerns_its_residents(
        ctx, conn, place, lists):
    assert descriptions(conn, microgrid_id=lists["chosen"]) == ["赵一的事"]
    assert descriptions(conn, microgrid_id=lists["whole"]) == ["楼道堆物", "钱二的事"]
    assert descriptions(conn, unit_id=lists["other"], microgrid_id=lists["far"]) == ["吴三的事"]
    # An assignment outweighs where the resident lives: 赵一's event goes to 2号楼微网格.
    microgrids.assign_event(ctx, lists["events"]["赵一"], lists["whole"])
    assert descriptions(conn, microgrid_id=lists["chosen"]) == []
    assert descriptions(conn, microgrid_id=lists["whole"]) == ["楼道堆物", "赵一的事", "钱二的事"]
    events.set_resident(ctx, lists["events"]["钱二"], None)       # concerns no one now
    assert descriptions(conn, microgrid_id=lists["whole"]) == ["楼道堆物", "赵一的事"]


def test_a_grid_worker_sees_a_microgrids_lists_only_in_their_grid(conn, place, lists):
    worker = Access(GRID_WORKER, frozenset({place.grid}))
    assert due_names(conn, access=worker, microgrid_id=lists["chosen"]) == ["赵一"]
    assert due_names(conn, access=worker, microgrid_id=lists["far"]) == []
    assert descriptions(conn, access=worker, microgrid_id=lists["whole"]) == [
        "楼道堆物", "钱二的事"]
    assert descriptions(conn, access=worker, microgrid_id=lists["far"]) == []
