import pytest

from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, tags
from shequ_desktop.places.buildings import building_map
from shequ_desktop.core.errors import DomainError
from tests.conftest import make_id


def test_building_map_floors_rooms_and_households(ctx, place, family):
    hh_id, ids = family
    unit2 = grid.create_unit(ctx, place.building, "unit", "2单元").id
    houses.create_house(ctx, unit2, {"room_no": "101", "floor": 1, "usage": "空置"})
    rented = houses.create_house(ctx, unit2, {"room_no": "201", "floor": 2, "usage": "出租"}).id
    households.create_household(ctx, rented, {"name": "租客甲",
                                              "id_number": make_id("1995-02-02", "1", seq=77)})
    tag = ctx.conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, ids["son"], tag)

    m = building_map(ctx.conn, place.building)
    assert m.name == "1号楼" and m.floors == [2, 1]
    assert m.columns == [("1单元", "01"), ("1单元", "02"), ("2单元", "01")]
    home = m.cell(1, ("1单元", "01"))
    assert (home.head_name, home.members, home.usage, home.focus) == \
        ("王建国", 3, "自住", ["残疾人"])
    assert home.household_id == hh_id
    assert m.cell(1, ("1单元", "02")).household_id is None
    assert m.cell(2, ("2单元", "01")).head_name == "租客甲"
    assert m.cell(1, ("2单元", "01")).usage == "空置"
    assert m.cell(2, ("1单元", "01")) is None


def test_building_map_needs_a_building(ctx, place):
    with pytest.raises(DomainError, match="请选择一栋楼"):
        building_map(ctx.conn, place.grid)
