"""Issue 21, part 2 in the GUI: the 微网格 page — micro-grids of the chosen grid, their
residents, the head's visit list and assigned events, making a resident the head, choosing
households and printing the 公示牌 — real widgets offscreen over real SQLite files."""
import datetime as dt

import pytest
from pypdf import PdfReader

from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, tags
from shequ_desktop.community import microgrids
from tests.conftest import make_id
from ui.pages.microgrids_page import HouseholdsDialog, MicrogridDialog, MicrogridsPage

TODAY = dt.date.today()


@pytest.fixture
def setup(ctx, place, family):
    _hh, ids = family
    building = grid.create_unit(ctx, place.grid, "building", "2号楼", floors=6).id
    house = houses.create_house(ctx, building, {"room_no": "201", "floor": 2}).id
    other = households.create_household(ctx, house, {
        "name": "赵一", "id_number": make_id("1950-01-01", "1", seq=80)}).id
    lonely = ctx.conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    tags.assign_tag(ctx, ids["head"], lonely, (TODAY - dt.timedelta(days=20)).isoformat())
    mg = microgrids.create_microgrid(ctx, place.grid, "1号楼微网格", unit_id=place.building,
                                     head_name="孙楼长", head_role="楼栋长",
                                     head_phone="13900001111").id
    return {"ids": ids, "building": building, "other": other, "mg": mg}


@pytest.fixture
def page(qtbot, ctx, db_path, place, setup):
    page = MicrogridsPage(ctx, db_path)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.set_unit(place.grid)
    return page


def test_the_page_lists_the_grids_microgrids_and_the_chosen_ones_people(page, setup,
                                                                        qtmodeltester):
    assert [r["name"] for r in page.model.rows] == ["1号楼微网格"]
    assert page.model.index(0, 2).data() == "孙楼长"
    assert sorted(r["name"] for r in page.residents.rows) == ["李秀英", "王小明", "王建国"]
    assert [r["name"] for r in page.due.rows] == ["王建国"]         # the head's visit list
    assert page.tabs.tabText(1) == "走访清单（1）"
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.residents)


def test_a_new_chosen_households_microgrid_takes_its_households(page, monkeypatch, setup, conn):
    monkeypatch.setattr(MicrogridDialog, "ask", classmethod(lambda cls, parent, scopes,
                                                            values=None: {
        "name": "联系户", "unit_id": None, "head_name": "周", "head_role": "党员中心户",
        "head_phone": None, "notes": None}))
    page.add_microgrid()
    page.select("联系户")
    assert page.households_button.isEnabled()
    monkeypatch.setattr(HouseholdsDialog, "ask", classmethod(
        lambda cls, parent, choices, chosen: [hid for hid, _label in choices
                                              if hid == setup["other"]]))
    page.choose_households()
    assert microgrids.household_ids(conn, page.current_id()) == [setup["other"]]
    assert [r["name"] for r in page.residents.rows] == ["赵一"]


def test_making_a_resident_the_head_takes_their_name_and_phone(page, conn, setup):
    page.select("1号楼微网格")
    row = [r["name"] for r in page.residents.rows].index("王建国")
    page.resident_view.setCurrentIndex(page.residents.index(row, 0))
    page.make_head()
    stored = conn.execute("SELECT head_name, head_phone, head_resident_id FROM microgrids"
                          " WHERE id = ?", (setup["mg"],)).fetchone()
    assert tuple(stored) == ("王建国", "13912345678", setup["ids"]["head"])
    assert page.model.index(0, 2).data() == "王建国"


def test_the_board_is_printed_from_the_page(page, tmp_path):
    out = tmp_path / "board.pdf"
    result = page.print_board(path=str(out), phone="028-88889999")
    assert result["rows"] == 1
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert "孙楼长" in text and "028-88889999" in text


def test_the_dialogs_answer_what_was_entered(qtbot):
    dialog = MicrogridDialog([(None, "选定的户"), (7, "1号楼")])
    qtbot.addWidget(dialog)
    dialog.name.setText("1号楼微网格")
    dialog.scope.setCurrentIndex(1)
    dialog.head.setText("孙")
    dialog.role.setCurrentText("单元长")
    assert dialog.answer() == {"name": "1号楼微网格", "unit_id": 7, "head_name": "孙",
                               "head_role": "单元长", "head_phone": None, "notes": None}
    pick = HouseholdsDialog([(1, "101 王"), (2, "102 李")], {2})
    qtbot.addWidget(pick)
    assert pick.answer() == [2] and pick.count.text() == "已选 1 户"


def test_the_main_window_has_the_page(qtbot, conn):
    from ui.main_window import MainWindow
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    assert isinstance(window.show_page("microgrids"), MicrogridsPage)
