"""Issue 21, part 4 in the GUI: the 社区体检 page — the check-ups of the chosen unit, the
checklist beside the year before, recording results for several items at once, improvement
items as events and the report — real widgets offscreen over real SQLite files."""
import datetime as dt

import pytest
from pypdf import PdfReader

from shequ_desktop.community import checkups
from shequ_desktop.places import grid
from shequ_desktop.core.errors import DomainError
from ui.pages.checkups_page import CheckupsPage, ResultDialog, StartDialog

YEAR = dt.date.today().year


@pytest.fixture
def compound(ctx, place):
    unit = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    last = checkups.start_checkup(ctx, unit, YEAR - 1, f"{YEAR - 1}-10-01").id
    checkups.set_result(ctx, last, "C2", "不达标")
    this = checkups.start_checkup(ctx, unit, YEAR).id
    checkups.set_result(ctx, this, "C2", "达标")
    return unit


@pytest.fixture
def page(qtbot, ctx, db_path, compound):
    page = CheckupsPage(ctx, db_path)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    page.set_unit(compound)
    return page


def test_the_page_shows_the_checklist_beside_last_year(page, qtmodeltester):
    assert [r["year"] for r in page.model.rows] == [YEAR, YEAR - 1]
    row = page.checklist.row_of("C2")
    assert [page.checklist.index(row, c).data() for c in (3, 4, 5)] == ["不达标", "达标", "↑"]
    assert page.checklist.rowCount() == 20
    assert "好转 1 项" in page.summary.text()
    qtmodeltester.check(page.checklist)


def test_results_for_several_items_and_an_improvement_item(page, monkeypatch, conn):
    page.select_items(["D1", "D2"])
    monkeypatch.setattr(ResultDialog, "ask", classmethod(
        lambda cls, parent, names, finding=False: {"status": "不达标", "notes": "缺少场地"}
        if not finding else {"content": "改造口袋公园", "owner": "物业", "deadline_days": 20}))
    page.set_results()
    rows = {r["item"]: r for r in page.checklist.rows}
    assert rows["D1"]["this"] == rows["D2"]["this"] == "不达标"
    page.select_items(["D1"])
    page.add_finding()
    assert [f["content"] for f in page.findings.rows] == ["改造口袋公园"]
    assert page.findings.rows[0]["status"] == "受理"
    assert page.model.rows[0]["open_findings"] == 1


def test_a_new_checkup_and_the_report(page, monkeypatch, tmp_path, ctx, compound):
    with pytest.raises(DomainError, match="已经建立"):
        checkups.start_checkup(ctx, compound, YEAR)       # one check-up per unit and year
    monkeypatch.setattr(StartDialog, "ask", classmethod(lambda cls, parent: {
        "year": YEAR - 2, "checked_on": f"{YEAR - 2}-09-01", "inspector": "两委"}))
    page.start()
    assert sorted(r["year"] for r in page.model.rows) == [YEAR - 2, YEAR - 1, YEAR]
    page.view.setCurrentIndex(page.model.index(0, 0))
    out = tmp_path / "report.pdf"
    assert page.print_report(str(out))["pages"] >= 1
    assert "幸福花园" in PdfReader(str(out)).pages[0].extract_text()


def test_the_dialogs_answer_what_was_entered(qtbot):
    start = StartDialog()
    qtbot.addWidget(start)
    start.inspector.setText("两委")
    assert start.answer()["inspector"] == "两委" and start.answer()["year"] == YEAR
    result = ResultDialog(["公共活动场地"])
    qtbot.addWidget(result)
    result.status.setCurrentText("基本达标")
    assert result.answer() == {"status": "基本达标", "notes": None}
    finding = ResultDialog(["公共活动场地"], finding=True)
    qtbot.addWidget(finding)
    finding.notes.setText("改造")
    finding.days.setValue(10)
    assert finding.answer() == {"content": "改造", "owner": None, "deadline_days": 10}


def test_the_main_window_has_the_page(qtbot, conn):
    from ui.main_window import MainWindow
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    assert isinstance(window.show_page("checkups"), CheckupsPage)


def test_photos_per_item_are_added_shown_as_thumbnails_and_deleted(page, monkeypatch, tmp_path,
                                                                   conn):
    from PIL import Image
    from PySide6.QtWidgets import QMessageBox

    shots = []
    for i, colour in enumerate(((200, 80, 80), (80, 200, 80))):
        shots.append(tmp_path / f"充电桩{i}.jpg")
        Image.new("RGB", (320, 240), colour).save(shots[-1])
    assert not page.photo_button.isEnabled()          # no item chosen yet
    page.select_items(["C2"])
    assert page.photo_button.isEnabled()
    page.add_photos([str(p) for p in shots])
    assert page.photo_list.count() == 2 and page.photo_label.text() == "C2 的照片：2 张"
    assert not page.photo_list.item(0).icon().isNull()
    assert page.checklist.index(page.checklist.row_of("C2"), 6).data() == "2"
    page.select_items(["D1"])
    assert page.photo_list.count() == 0
    page.select_items([])
    assert page.photo_list.count() == 2 and "本次体检的照片：2 张" in page.photo_label.text()
    page.photo_list.item(0).setSelected(True)
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    page.delete_photo()
    assert page.photo_list.count() == 1
    assert conn.execute("SELECT count(*) FROM checkup_photo_data").fetchone()[0] == 1
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, title, text: warned.append(text))
    page.select_items(["C2"])
    page.add_photos([str(tmp_path / "不存在.jpg")])
    assert page.photo_list.count() == 1 and "无法读取" in warned[0]
