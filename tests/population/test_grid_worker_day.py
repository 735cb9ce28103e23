"""Issue 20 in the domain: addresses with 社区 and 小区, 户号 and room use after 新立户, a
迁入日期 on every new member, ledgers that name the community."""
import datetime as dt

from shequ_desktop.places import buildings, grid, houses
from shequ_desktop.reports import checks, ledger_rows as ledgers
from shequ_desktop.population import households, residents
from shequ_desktop.core.addresses import format_address, house_address
from shequ_desktop.reports.pdf.long_table import _Layout
from shequ_desktop.population.resident_list import COLUMNS, ResidentQuery, label, rows

from conftest import make_id


def test_address_names_community_compound_building_unit_and_room():
    assert format_address("阳光社区", "幸福花园", "3号楼", "2单元", "501") == \
        "阳光社区 幸福花园 3号楼2单元501"
    assert format_address("阳光社区", None, "12号楼", None, "301") == "阳光社区 12号楼301"
    assert format_address("阳光社区", "幸福花园", "3号楼", "2单元", None) == ""


def _two_communities(ctx):
    """Two communities, each with 第1网格 and a 1号楼1单元101 (as in every street)."""
    street = grid.create_unit(ctx, None, "street", "幸福街道").id
    out = {}
    for name, compound in (("阳光社区", "幸福花园"), ("明月社区", None)):
        c = grid.create_unit(ctx, street, "community", name).id
        g = grid.create_unit(ctx, c, "grid", "第1网格").id
        parent = grid.create_unit(ctx, g, "compound", compound).id if compound else g
        b = grid.create_unit(ctx, parent, "building", "1号楼", floors=6).id
        u = grid.create_unit(ctx, b, "unit", "1单元").id
        out[name] = (c, b, houses.create_house(ctx, u, {"room_no": "101", "floor": 1,
                                                         "usage": "空置"}).id)
    return out


def test_resident_table_tells_the_same_room_in_two_communities_apart(ctx):
    place = _two_communities(ctx)
    for n, (name, (_c, _b, house)) in enumerate(place.items()):
        households.create_household(ctx, house, {
            "name": f"王{'一二'[n]}", "id_number": make_id("1970-05-06", "1", seq=10 + n)})
    assert {"community", "compound", "household_no"} <= set(COLUMNS)
    assert [label(c) for c in ("community", "compound", "household_no")] == ["社区", "小区", "户号"]
    got = rows(ctx.conn, ResidentQuery(order_by="community").ids(ctx.conn))
    assert sorted((r["address"], r["community"], r["compound"]) for r in got) == [
        ("明月社区 1号楼1单元101", "明月社区", None),
        ("阳光社区 幸福花园 1号楼1单元101", "阳光社区", "幸福花园")]
    assert all(r["household_no"] for r in got)
    assert house_address(ctx.conn, place["阳光社区"][2]) == "阳光社区 幸福花园 1号楼1单元101"


def test_new_household_in_an_empty_room_gets_a_number_and_uses_the_room(ctx):
    place = _two_communities(ctx)
    _c, building, house = place["阳光社区"]
    before = buildings.building_map(ctx.conn, building)
    assert [c.usage for c in before.cells.values()] == ["空置"]
    hh = households.create_household(ctx, house, {"name": "周杰",
                                                  "id_number": make_id("1980-01-02", "1")})
    record = ctx.get("households", hh.id)
    assert record["household_no"] and record["household_no"].endswith(f"{hh.id:06d}")
    assert ctx.get("houses", house)["usage"] == "自住"
    after = buildings.building_map(ctx.conn, building)
    assert [c.usage for c in after.cells.values()] == ["自住"]
    vacant = {r.key: r.count for r in checks.run_checks(ctx.conn)}["vacant_house_with_residents"]
    assert vacant == 0


def test_member_added_without_moved_in_date_gets_today_as_in_the_history(ctx, family):
    hh, people = family
    today = dt.date.today().isoformat()
    wife = ctx.get("residents", people["wife"])
    assert wife["moved_in_at"] == today
    assert residents.history(ctx, people["wife"])[0].startswith(f"{today} 迁入")
    assert ctx.get("residents", people["son"])["moved_in_at"] == "2010-01-01"


def test_grouped_ledger_names_the_community_and_subtotals_it(ctx):
    place = _two_communities(ctx)
    for n, (_name, (_c, _b, house)) in enumerate(place.items()):
        households.create_household(ctx, house, {
            "name": f"王{'一二'[n]}", "id_number": make_id("1970-05-06", "1", seq=10 + n),
            "moved_in_at": "2020-01-01"})
    table = ledgers.table(ctx.conn, "residents", group="grid")
    assert [g.title for g in table.groups] == ["阳光社区 第1网格", "明月社区 第1网格"]
    assert [g.section for g in table.groups] == ["阳光社区", "明月社区"]
    assert table.groups[0].rows[0][10] == "阳光社区 幸福花园 1号楼1单元101"
    layout = _Layout(table, "Helvetica")
    lines = [item[2] for page in layout.paginate(None, table.row_count) for item in page
             if isinstance(item[2], str)]
    assert "阳光社区　小计：1 人" in lines and "明月社区　小计：1 人" in lines


def test_a_name_typed_with_a_space_between_chinese_characters_is_saved_without_it(ctx, place):
    hh = households.create_household(ctx, place.house, {
        "name": " 周 杰 ", "id_number": make_id("1980-01-02", "1")})
    head = ctx.get("households", hh.id)["head_resident_id"]
    assert ctx.get("residents", head)["name"] == "周杰"
    residents.update_resident(ctx, head, {"name": "欧阳　娜娜"})
    assert ctx.get("residents", head)["name"] == "欧阳娜娜"
    residents.update_resident(ctx, head, {"name": "Maria  Lopez"})
    assert ctx.get("residents", head)["name"] == "Maria Lopez"


def test_demo_activities_of_a_season_fall_in_its_months(conn):
    from shequ_desktop.demo import street as demo
    demo.generate(conn, residents=3000, seed=4)
    months = {}
    for title, starts in conn.execute("SELECT title, starts_at FROM activities"):
        months.setdefault(title, set()).add(int(starts[5:7]))
    assert months.get("重阳节慰问", {10}) <= {10} and months.get("暑期托管", {7}) <= {7, 8}
    from shequ_desktop.demo.volunteers import in_season
    assert in_season("重阳节慰问", "为老服务", 10) == "重阳节慰问"
    assert in_season("重阳节慰问", "为老服务", 12) == "敬老院陪伴"
    assert in_season("暑期托管", "关爱儿童", 11) == "四点半课堂"


def test_choosers_sort_chinese_by_pinyin_and_numbers_as_numbers():
    from shequ_desktop.core.pinyin import sort_key
    assert sorted(["侯磊", "刘洋", "初晓", "马丽", "安然"], key=sort_key) == \
        ["安然", "初晓", "侯磊", "刘洋", "马丽"]
    assert sorted(["第10网格", "第2网格", "第1网格"], key=sort_key) == \
        ["第1网格", "第2网格", "第10网格"]


def test_volunteer_register_and_leader_choices_follow_pinyin(ctx):
    from shequ_desktop.volunteers import points as volunteer_points, roster as volunteers
    for n, name in enumerate(["侯磊", "刘洋", "初晓"]):
        volunteers.create_volunteer(ctx, {"name": name, "joined_on": "2026-01-0" + str(n + 1)})
    assert [v["name"] for v in volunteer_points.hours_summary(ctx.conn)] == ["初晓", "侯磊", "刘洋"]
    assert [v["name"] for v in volunteers.leader_choices(ctx.conn, None)] == \
        ["初晓", "侯磊", "刘洋"]
