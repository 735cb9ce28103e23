"""The household view, the building view, their small dialogs and the picker queries, as real
widgets over real SQLite files (offscreen). Dialog answers are monkeypatched where a test is
about the view; the dialogs themselves are driven in their own tests."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QColor  # noqa: E402
from PySide6.QtWidgets import QMessageBox  # noqa: E402

from shequ_desktop.places import grid, houses, pickers  # noqa: E402
from shequ_desktop.population import households, residents, tags
from tests.conftest import TODAY, make_id  # noqa: E402
from ui.dialogs import move_dialogs  # noqa: E402
from ui.dialogs.move_dialogs import (HousePickerDialog, HouseholdPickerDialog,  # noqa: E402
                                     MoveOutDialog, NewHeadDialog, RelationDialog)
from ui.pages.building_page import USAGE_COLORS, BuildingView  # noqa: E402
from ui.pages.household_view import HouseholdView  # noqa: E402


def head_of(conn, household_id):
    return conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                        (household_id,)).fetchone()[0]


def resident(conn, resident_id):
    return dict(conn.execute("SELECT * FROM residents WHERE id = ?", (resident_id,)).fetchone())


def event_count(conn):
    return conn.execute("SELECT count(*) FROM resident_events").fetchone()[0]


@pytest.fixture
def neighbour(ctx, place):
    """A second household in room 102: head 张伟 with household number 2024-0002."""
    hh = households.create_household(ctx, place.house2, {
        "name": "张伟", "id_number": make_id("1980-01-02", "1", seq=41)},
        {"household_no": "2024-0002"})
    return hh.id


@pytest.fixture
def elsewhere(ctx, place):
    """Another community with a household whose head is also a 王."""
    community = grid.create_unit(ctx, place.street, "community", "月亮社区").id
    building = grid.create_unit(ctx, community, "building", "9号楼").id
    house = houses.create_house(ctx, building, {"room_no": "101", "floor": 1}).id
    return households.create_household(ctx, house, {
        "name": "王建设", "id_number": make_id("1966-06-06", "1", seq=42)}).id


@pytest.fixture
def no_warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: shown.append(args))
    return shown


@pytest.fixture
def view(qtbot, ctx, family):
    v = HouseholdView(ctx)
    qtbot.addWidget(v)
    v.show_household(family[0])
    return v


def answer(monkeypatch, dialog, value):
    """Make `dialog.ask(...)` return `value`; returns the list of the calls' arguments."""
    calls = []

    def ask(*args):
        calls.append(args)
        return value

    monkeypatch.setattr(dialog, "ask", ask)
    return calls


def refuse_everything(monkeypatch):
    for name in ("DateDialog", "MoveOutDialog", "RelationDialog", "MoveRelationDialog",
                 "NewHeadDialog", "HouseholdPickerDialog", "HousePickerDialog"):
        monkeypatch.setattr(getattr(move_dialogs, name), "ask",
                            lambda *a, _n=name: pytest.fail(f"{_n} was not expected"))


# --- pickers (domain) ------------------------------------------------------------------------

def test_find_households_by_number_head_name_and_initials(ctx, place, family, neighbour,
                                                          elsewhere):
    hh, _ids = family
    conn = ctx.conn
    community = pickers.household_scope(conn, hh, "community")
    assert community == place.community

    found = pickers.find_households(conn, community, "王")
    assert [h["id"] for h in found] == [hh]                      # 王建设 lives elsewhere
    number = ctx.get("households", hh)["household_no"]      # given by create_household
    assert found[0] == {"id": hh, "household_no": number, "head_name": "王建国",
                        "members": 3, "address": "阳光社区 1号楼1单元101"}
    assert [h["id"] for h in pickers.find_households(conn, None, "王")] == [hh, elsewhere]
    assert [h["id"] for h in pickers.find_households(conn, community, "0002")] == [neighbour]
    assert [h["id"] for h in pickers.find_households(conn, community, "wjg")] == [hh]
    assert [h["id"] for h in pickers.find_households(conn, community, "")] == [hh, neighbour]
    assert [h["id"] for h in pickers.find_households(conn, community, "", exclude_id=hh)] == \
        [neighbour]
    assert pickers.find_households(conn, community, "%") == []   # not a wildcard


def test_find_households_leaves_out_closed_ones(ctx, place, neighbour):
    zhang = head_of(ctx.conn, neighbour)
    residents.move_out(ctx, zhang, TODAY, "外省")               # the last member: closed
    assert pickers.find_households(ctx.conn, place.community, "张") == []


def test_list_houses_by_building_or_grid(ctx, place, family):
    other = grid.create_unit(ctx, place.grid, "building", "2号楼").id
    far = houses.create_house(ctx, other, {"room_no": "301", "floor": 3, "usage": "空置"}).id
    conn = ctx.conn
    building = pickers.house_scope(conn, place.house, "building")
    assert building == place.building
    assert pickers.house_scope(conn, place.house, "grid") == place.grid

    rows = pickers.list_houses(conn, building)
    assert [(h["address"], h["households"], h["head_name"]) for h in rows] == [
        ("阳光社区 1号楼1单元101", 1, "王建国"), ("阳光社区 1号楼1单元102", 0, None)]
    assert [h["id"] for h in pickers.list_houses(conn, building, only_empty=True)] == \
        [place.house2]
    in_grid = pickers.list_houses(conn, place.grid, exclude_id=place.house)
    assert [(h["id"], h["address"], h["usage"]) for h in in_grid] == [
        (place.house2, "阳光社区 1号楼1单元102", "自住"), (far, "阳光社区 2号楼301", "空置")]


def test_scopes_of_a_household_without_house_and_households_of_residents(ctx, place, family):
    hh, ids = family
    homeless = households.create_household(ctx, None, {
        "name": "刘流", "id_number": make_id("1990-09-09", "1", seq=43)}).id
    assert pickers.household_scope(ctx.conn, homeless, "community") is None
    assert pickers.household_scope(ctx.conn, hh, "building") == place.building
    liu = head_of(ctx.conn, homeless)
    assert pickers.households_of_residents(ctx.conn, [ids["son"], liu, None, 99999]) == \
        {hh, homeless}


# --- household view ----------------------------------------------------------------------------

def test_household_view_lists_members_head_first(ctx, view, family):
    hh, ids = family
    assert view.member_names() == ["王建国", "李秀英", "王小明"]
    head_item = view.table.item(0, 0)
    assert head_item.font().bold() and not view.table.item(1, 0).font().bold()
    assert [view.table.item(r, 1).text() for r in range(3)] == ["户主", "妻", "子"]
    assert view.address.text() == "阳光社区 1号楼1单元101"
    assert "3" in view.count.text()
    assert view.title.text() == "户号 " + ctx.get("households", hh)["household_no"]

    # A moved-out member is hidden, and shown greyed once 显示已迁出/死亡 is ticked.
    residents.move_out(ctx, ids["son"], TODAY, "外省")
    assert view.member_names() == ["王建国", "李秀英"]
    view.show_inactive.setChecked(True)
    assert view.member_names() == ["王建国", "李秀英", "王小明"]
    assert view.table.item(2, 3).text() == "迁出"
    assert view.table.item(2, 0).foreground().color() != view.table.item(1, 0).foreground().color()


def test_selecting_a_member_lists_their_history(view, family):
    _hh, ids = family
    assert view.select_resident(ids["son"])
    assert view.history_lines() == ["2010-01-01 迁入 阳光社区 1号楼1单元101"]
    assert "王小明" in view.history_box.title()
    # the head cannot be made head again; a member can
    view.select_resident(ids["head"])
    assert not view.buttons["set_head"].isEnabled()
    view.select_resident(ids["wife"])
    assert view.buttons["set_head"].isEnabled()


def test_set_head_through_the_view(ctx, view, family, monkeypatch, no_warnings):
    hh, ids = family
    calls = answer(monkeypatch, RelationDialog, "11")           # old head becomes 夫
    view.select_resident(ids["wife"])
    view.buttons["set_head"].click()

    assert "王建国" in calls[0][2]                               # the prompt names the old head
    assert head_of(ctx.conn, hh) == ids["wife"]
    assert resident(ctx.conn, ids["head"])["relation_to_head"] == "11"
    assert resident(ctx.conn, ids["wife"])["relation_to_head"] == "02"
    assert view.member_names()[0] == "李秀英"                    # redrawn from the change
    assert view.table.item(0, 0).font().bold()
    assert no_warnings == []


def test_set_head_cancelled_changes_nothing(ctx, view, family, monkeypatch):
    hh, ids = family
    answer(monkeypatch, RelationDialog, None)
    view.select_resident(ids["son"])
    before = event_count(ctx.conn)
    view.buttons["set_head"].click()
    assert head_of(ctx.conn, hh) == ids["head"] and event_count(ctx.conn) == before


def test_move_member_to_another_household(ctx, view, family, neighbour, monkeypatch,
                                          no_warnings, place):
    hh, ids = family
    picked = answer(monkeypatch, HouseholdPickerDialog, neighbour)
    answer(monkeypatch, move_dialogs.MoveRelationDialog, ("99", "2024-05-01"))
    monkeypatch.setattr(NewHeadDialog, "ask", lambda *a: pytest.fail("son is not the head"))
    view.select_resident(ids["son"])
    view.buttons["move_to"].click()

    _parent, _conn, scope, exclude = picked[0]
    assert (scope, exclude) == (place.community, hh)
    son = resident(ctx.conn, ids["son"])
    assert (son["household_id"], son["relation_to_head"], son["status"]) == \
        (neighbour, "99", "在册")
    assert view.member_names() == ["王建国", "李秀英"]
    view.show_household(neighbour)
    assert view.member_names() == ["张伟", "王小明"]
    view.select_resident(ids["son"])
    assert view.history_lines()[-1] == \
        "2024-05-01 户间迁移 阳光社区 1号楼1单元102（原 阳光社区 1号楼1单元101）"
    assert no_warnings == []


def test_move_out_of_the_head_asks_for_a_successor_and_cancel_changes_nothing(
        ctx, view, family, monkeypatch, no_warnings):
    hh, ids = family
    answer(monkeypatch, MoveOutDialog, (TODAY.isoformat(), "外省"))
    asked = answer(monkeypatch, NewHeadDialog, None)
    view.select_resident(ids["head"])
    before = event_count(ctx.conn)
    view.buttons["move_out"].click()

    assert len(asked) == 1
    _parent, leaving, candidates = asked[0]
    assert leaving == "王建国"
    assert sorted(c["name"] for c in candidates) == ["李秀英", "王小明"]
    assert resident(ctx.conn, ids["head"])["status"] == "在册"
    assert head_of(ctx.conn, hh) == ids["head"]
    assert event_count(ctx.conn) == before
    assert view.member_names() == ["王建国", "李秀英", "王小明"]
    assert no_warnings == []


def test_move_out_of_the_head_with_a_successor(ctx, view, family, monkeypatch, no_warnings):
    hh, ids = family
    answer(monkeypatch, MoveOutDialog, ("2025-01-02", "海淀区某社区"))
    answer(monkeypatch, NewHeadDialog, ids["wife"])
    view.select_resident(ids["head"])
    view.buttons["move_out"].click()
    head = resident(ctx.conn, ids["head"])
    assert (head["status"], head["moved_out_at"], head["moved_out_to"]) == \
        ("迁出", "2025-01-02", "海淀区某社区")
    assert head_of(ctx.conn, hh) == ids["wife"]
    assert view.member_names() == ["李秀英", "王小明"]
    assert no_warnings == []


def test_a_refused_death_date_is_shown_not_raised(ctx, view, family, monkeypatch,
                                                   no_warnings):
    _hh, ids = family
    answer(monkeypatch, move_dialogs.DateDialog, "1999-01-01")   # before the son was born
    view.select_resident(ids["son"])
    view.buttons["death"].click()
    assert len(no_warnings) == 1 and "早于出生日期" in no_warnings[0][2]
    assert resident(ctx.conn, ids["son"])["status"] == "在册"


def test_whole_household_moves_to_a_picked_house(ctx, view, family, place, monkeypatch):
    hh, _ids = family
    calls = answer(monkeypatch, HousePickerDialog, place.house2)
    view.buttons["move_household"].click()
    assert calls[0][2] == place.house                           # picker starts from our house
    assert ctx.get("households", hh)["house_id"] == place.house2
    assert view.address.text() == "阳光社区 1号楼1单元102"


def test_add_member_and_double_click_emit_signals(qtbot, view, family, monkeypatch):
    hh, ids = family
    refuse_everything(monkeypatch)
    with qtbot.waitSignal(view.addMemberRequested) as added:
        view.buttons["add_member"].click()
    assert added.args == [hh]
    item = view.table.item(2, 0)
    with qtbot.waitSignal(view.residentActivated) as activated:
        view.table.itemDoubleClicked.emit(item)
    assert activated.args == [ids["son"]]


def test_household_view_redraws_only_for_its_own_changes(ctx, view, family, place, neighbour):
    hh, _ids = family
    before = view.reloads
    residents.add_member(ctx, neighbour, {"name": "张小红",
                                          "id_number": make_id("2015-01-01", "2", seq=44)}, "女")
    assert view.reloads == before                               # another household
    residents.add_member(ctx, hh, {"name": "王小红",
                                   "id_number": make_id("2012-02-02", "2", seq=45)}, "女")
    assert view.reloads == before + 1
    assert "王小红" in view.member_names()
    houses.update_house(ctx, place.house2, {"usage": "出租"})
    assert view.reloads == before + 1                           # not our house
    houses.update_house(ctx, place.house, {"area": 88.5})
    assert view.reloads == before + 2


# --- the dialogs themselves --------------------------------------------------------------------

def test_relation_dialog_needs_a_choice_and_leaves_out_head_codes(qtbot):
    d = RelationDialog("设为户主", "原户主与新户主的关系是？")
    qtbot.addWidget(d)
    codes = [d.relation.itemData(i) for i in range(d.relation.count())]
    assert "01" not in codes and "02" not in codes and "12" in codes
    assert not d.ok_button().isEnabled() and d.answer() is None
    d.set_relation("51")
    assert d.ok_button().isEnabled() and d.answer() == "51"


def test_move_relation_and_move_out_dialogs_default_to_today(qtbot):
    d = move_dialogs.MoveRelationDialog("王小明", "1号楼1单元102")
    qtbot.addWidget(d)
    d.set_relation("20")
    assert d.answer() == ("20", TODAY.isoformat())
    out = MoveOutDialog("王建国")
    qtbot.addWidget(out)
    out.destination.setText("  外省 ")
    assert out.answer() == (TODAY.isoformat(), "外省")
    assert out.date.maximumDate() == out.date.date()             # no future dates


def test_new_head_dialog_returns_the_chosen_member(qtbot, family):
    _hh, ids = family
    d = NewHeadDialog("王建国", [{"id": ids["wife"], "name": "李秀英", "relation": "妻", "age": 50},
                                 {"id": ids["son"], "name": "王小明", "relation": "子", "age": 20}])
    qtbot.addWidget(d)
    assert d.list.count() == 2 and not d.ok_button().isEnabled()
    d.select(ids["son"])
    assert d.answer() == ids["son"] and d.ok_button().isEnabled()


def test_household_picker_dialog_searches_the_community(qtbot, ctx, place, family, neighbour,
                                                        elsewhere):
    hh, _ids = family
    d = HouseholdPickerDialog(ctx.conn, place.community, exclude_id=neighbour)
    qtbot.addWidget(d)
    assert d.ids() == [hh]
    d.search.setText("张")
    assert d.ids() == [] and not d.ok_button().isEnabled()
    d = HouseholdPickerDialog(ctx.conn, place.community)
    qtbot.addWidget(d)
    d.search.setText("张伟")
    assert d.ids() == [neighbour] and d.answer() == neighbour
    assert d.table.item(0, 3).text() == "阳光社区 1号楼1单元102"


def test_house_picker_dialog_scopes_and_empty_rooms(qtbot, ctx, place, family):
    other = grid.create_unit(ctx, place.grid, "building", "2号楼").id
    far = houses.create_house(ctx, other, {"room_no": "301", "floor": 3}).id
    d = HousePickerDialog(ctx.conn, place.house)
    qtbot.addWidget(d)
    assert [d.scope.itemText(i) for i in range(d.scope.count())] == ["本楼栋", "本网格", "本社区"]
    assert d.ids() == [place.house2]
    d.scope.setCurrentIndex(1)
    assert d.ids() == [place.house2, far]
    d.filter.setText("2号楼")
    assert d.ids() == [far] and d.answer() == far


# --- building view -----------------------------------------------------------------------------

@pytest.fixture
def tower(ctx, place, family):
    """1号楼: 1单元 rooms x01/x02 on floors 1-3, 2单元 rooms 101 (空置) and 301 (出租)."""
    for floor in (2, 3):
        for room in ("01", "02"):
            houses.create_house(ctx, place.unit, {"room_no": f"{floor}{room}", "floor": floor})
    unit2 = grid.create_unit(ctx, place.building, "unit", "2单元").id
    vacant = houses.create_house(ctx, unit2, {"room_no": "101", "floor": 1, "usage": "空置"}).id
    rented = houses.create_house(ctx, unit2, {"room_no": "301", "floor": 3, "usage": "出租"}).id
    tenant = households.create_household(ctx, rented, {
        "name": "租客甲", "id_number": make_id("1995-02-02", "1", seq=46)}).id
    return {"vacant": vacant, "rented": rented, "tenant": tenant}


@pytest.fixture
def bview(qtbot, ctx, place, tower):
    v = BuildingView(ctx)
    qtbot.addWidget(v)
    v.resize(900, 600)
    v.show()
    qtbot.waitExposed(v)
    v.show_building(place.building)
    return v


def test_building_view_draws_floors_rooms_and_counts(bview):
    table = bview.table
    assert table.rowCount() == 3 and table.columnCount() == 3
    assert [table.verticalHeaderItem(r).text() for r in range(3)] == ["3层", "2层", "1层"]
    assert [table.horizontalHeaderItem(c).text() for c in range(3)] == \
        ["1单元\n01", "1单元\n02", "2单元\n01"]
    rooms = [[bview.cell_of(table.item(r, c)) for c in range(3)] for r in range(3)]
    assert [[c.room_no if c else None for c in row] for row in rooms] == [
        ["301", "302", "301"], ["201", "202", None], ["101", "102", "101"]]
    assert bview.title.text() == "1号楼"
    assert bview.counts.text() == "户数 2　人数 4　空置 1"


def test_building_view_cell_shows_head_and_members(bview, family):
    hh, _ids = family
    item = bview.table.item(2, 0)                           # floor 1, 1单元 01
    cell = bview.cell_of(item)
    assert (cell.room_no, cell.head_name, cell.members, cell.household_id) == \
        ("101", "王建国", 3, hh)
    assert "王建国" in item.toolTip() and "3 人" in item.toolTip()
    assert bview.cell_of(bview.table.item(2, 1)).household_id is None


def test_building_view_colours_by_usage(bview):
    own = bview.item_at(1, ("1单元", "01")).background().color()
    vacant = bview.item_at(1, ("2单元", "01")).background().color()
    rented = bview.item_at(3, ("2单元", "01")).background().color()
    assert own == QColor(USAGE_COLORS["自住"]) and vacant == QColor(USAGE_COLORS["空置"])
    assert len({own.name(), vacant.name(), rented.name()}) == 3


def _red_pixels(view, item) -> int:
    rect = view.table.visualItemRect(item)
    image = view.table.viewport().grab().toImage()
    top_right = [(x, y) for x in range(rect.center().x(), rect.right())
                 for y in range(rect.top(), rect.center().y())]
    return sum(1 for x, y in top_right
               if (c := image.pixelColor(x, y)).red() > 180 and c.green() < 90 and c.blue() < 90)


def test_building_view_marks_focus_households(ctx, bview, family):
    _hh, ids = family
    item = bview.item_at(1, ("1单元", "01"))
    assert _red_pixels(bview, item) == 0 and "重点" not in item.toolTip()
    before = bview.reloads
    tag = ctx.conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, ids["son"], tag)
    assert bview.reloads == before + 1                       # the change concerns the building
    item = bview.item_at(1, ("1单元", "01"))
    assert "残疾人" in item.toolTip()
    assert _red_pixels(bview, item) > 20                     # the red 「重点」 badge is drawn
    assert _red_pixels(bview, bview.item_at(3, ("2单元", "01"))) == 0


def test_clicking_a_room_emits_its_household_or_house(qtbot, bview, family, tower, place):
    hh, _ids = family

    def click(item):
        rect = bview.table.visualItemRect(item)
        qtbot.mouseClick(bview.table.viewport(), Qt.MouseButton.LeftButton,
                         pos=QPoint(rect.center()))

    with qtbot.waitSignal(bview.householdActivated) as got:
        click(bview.item_at(1, ("1单元", "01")))
    assert got.args == [hh]
    with qtbot.waitSignal(bview.householdActivated) as got:
        click(bview.item_at(3, ("2单元", "01")))
    assert got.args == [tower["tenant"]]
    with qtbot.waitSignal(bview.houseActivated) as got:
        click(bview.item_at(1, ("1单元", "02")))
    assert got.args == [place.house2]


def test_building_view_redraws_only_for_its_own_changes(ctx, bview, place, family, elsewhere):
    hh, _ids = family
    before = bview.reloads
    residents.add_member(ctx, elsewhere, {"name": "王二",
                                          "id_number": make_id("2010-01-01", "1", seq=47)}, "子")
    assert bview.reloads == before
    residents.add_member(ctx, hh, {"name": "王小红",
                                   "id_number": make_id("2012-02-02", "2", seq=48)}, "女")
    assert bview.reloads == before + 1
    assert bview.cell_of(bview.item_at(1, ("1单元", "01"))).members == 4
    assert bview.counts.text() == "户数 2　人数 5　空置 1"


def test_building_title_names_the_compound_and_a_tall_building_fits(qtbot, ctx, place):
    compound = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    building = grid.create_unit(ctx, compound, "building", "3号楼", floors=24).id
    for u in (1, 2):
        unit = grid.create_unit(ctx, building, "unit", f"{u}单元").id
        with ctx.transaction():
            for floor in range(1, 25):
                for room in range(1, 5):
                    if (floor, room) != (24, 4):
                        houses.create_house(ctx, unit, {"room_no": f"{floor}{room:02d}",
                                                        "floor": floor})
    v = BuildingView(ctx)
    qtbot.addWidget(v)
    v.show_building(building)
    assert v.title.text() == "幸福花园 3号楼"
    assert (v.table.rowCount(), v.table.columnCount()) == (24, 8)
    assert len(v.cells) == 2 * 24 * 4 - 2
    assert v.cell_of(v.table.item(0, 3)) is None              # 24层 1单元 04 does not exist
    assert v.cell_of(v.table.item(23, 7)).room_no == "104"
    assert v.counts.text() == "户数 0　人数 0　空置 0"


def test_building_view_explains_a_unit_that_is_not_a_building(qtbot, ctx, place):
    v = BuildingView(ctx)
    qtbot.addWidget(v)
    v.show_building(place.grid)
    assert v.building_id is None and v.table.rowCount() == 0
    assert v.placeholder.text() == "请选择一栋楼"
