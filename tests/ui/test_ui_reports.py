"""The reports page (台账报表) and the PDF preview: real widgets offscreen over a real demo
database; the PDFs they make are read back with pypdf. Dialogs (confirmation, file, print) are
answered by monkeypatching their static calls."""
import json
import re
import shutil

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import QDialog, QFileDialog, QMessageBox
from pypdf import PdfReader

import db
from shequ_desktop.core import audit, settings
from shequ_desktop.demo import street as demo
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.core.context import Context
from shequ_desktop.reports.pdf import fonts
from shequ_desktop.reports.pdf import ledger_print as printing
from ui import background
from ui.pages.reports_page import MONTHLY, ReportsPage
from ui.pdf_preview import PdfFile, paint_pages


@pytest.fixture(scope="module")
def demo_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("reports") / "demo.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=600, seed=4)
    conn.close()
    return path


@pytest.fixture
def ctx(demo_file, tmp_path):
    path = tmp_path / "demo.db"
    shutil.copy(demo_file, path)
    conn = db.open_db(path)
    yield Context(conn, "网格员甲")
    conn.close()


@pytest.fixture
def page(qtbot, ctx):
    page = ReportsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    return page


def pdf_pages(path) -> list[str]:
    return [p.extract_text() for p in PdfReader(str(path)).pages]


def choose(combo, data) -> None:
    index = combo.findData(data)
    assert index >= 0, data
    combo.setCurrentIndex(index)


def first_grid(conn) -> tuple[int, str]:
    return tuple(conn.execute("SELECT id, name FROM grid_units WHERE level = 'grid'"
                              " ORDER BY id LIMIT 1").fetchone())


def test_the_page_offers_every_ledger_and_generates_one_with_a_preview(page, ctx):
    kinds = [page.kind.itemData(i) for i in range(page.kind.count())]
    assert kinds[:len(ledgers.KINDS)] == list(ledgers.KINDS)
    grid_id, grid_name = first_grid(ctx.conn)
    page.set_unit(grid_id)
    assert page.unit.currentData() == grid_id
    choose(page.kind, "residents")
    assert [page.group.itemData(i) for i in range(page.group.count())] == [
        "grid", "building", None]
    choose(page.group, "building")
    before = len(audit.entries(ctx.conn))
    page.generate()

    path = page.last["path"]
    pages = pdf_pages(path)
    assert page.preview.page_count() == len(pages) > 1
    assert f"网格：{grid_name}" in pages[0] and "小计" in "\n".join(pages)
    assert f"共 {len(pages)} 页" in page.status.text()
    assert page.preview.count_label.text() == f"页 共 {len(pages)} 页"
    assert not page.preview.image.pixmap().isNull()
    assert page.print_button.isEnabled() and page.save_button.isEnabled()
    entries = audit.entries(ctx.conn)
    assert len(entries) == before + 1 and entries[0]["action"] == "print"
    assert entries[0]["actor"] == "网格员甲"
    assert json.loads(entries[0]["detail"])["unit"] == grid_id


def test_preview_turns_pages_and_zooms(page, qtbot):
    choose(page.kind, "houses")
    page.generate()
    preview = page.preview
    assert preview.index == 0 and not preview.prev_button.isEnabled()
    width = preview.image.pixmap().width()
    preview.next_button.click()
    assert preview.index == 1 and preview.page_box.value() == 2
    preview.page_box.setValue(preview.page_count())
    assert preview.index == preview.page_count() - 1 and not preview.next_button.isEnabled()
    choose(preview.zoom, 50)
    assert preview.image.pixmap().width() < width


def test_a_deeper_unit_from_the_tree_is_added_to_the_choices(page, ctx):
    building, name = ctx.conn.execute("SELECT id, name FROM grid_units WHERE level = 'building'"
                                      " ORDER BY id LIMIT 1").fetchone()
    count = page.unit.count()
    page.set_unit(building)
    assert page.unit.count() == count + 1
    assert page.unit.currentData() == building and name in page.unit.currentText()
    page.set_unit(None)
    assert page.unit.currentData() is None and page.unit.currentText() == "全部"


def test_unmasking_asks_first_is_recorded_and_lasts_one_print(page, ctx, monkeypatch):
    answers = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: answers.pop(0))
    answers.append(QMessageBox.StandardButton.No)
    page.unmask.setChecked(True)
    assert not page.unmask.isChecked()
    answers.append(QMessageBox.StandardButton.Yes)
    page.unmask.setChecked(True)
    assert page.unmask.isChecked()

    choose(page.kind, "residents")
    page.generate()
    text = "\n".join(pdf_pages(page.last["path"]))
    assert re.search(r"\d{17}[\dX]", text)                   # full ID numbers
    assert [e["action"] for e in audit.entries(ctx.conn, limit=2)] == ["print", "unmask"]
    assert not page.unmask.isChecked()                       # for this one print only
    page.generate()
    assert not re.search(r"\d{17}[\dX]", "\n".join(pdf_pages(page.last["path"])))


def test_save_as_copies_the_pdf_and_records_it(page, ctx, tmp_path, monkeypatch):
    choose(page.kind, "events")
    page.generate()
    target = tmp_path / "out" / "事件台账"
    target.parent.mkdir()
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    page.save_as()
    saved = target.with_suffix(".pdf")
    assert saved.read_bytes() == page.last["path"].read_bytes()
    entry = audit.entries(ctx.conn, limit=1)[0]
    assert entry["action"] == "print" and str(saved) in entry["summary"]
    assert str(saved) in page.status.text()

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        lambda *a, **k: (str(tmp_path / "missing" / "x.pdf"), ""))
    page.save_as()
    assert warnings and "无法写入" in warnings[0]


def test_printing_paints_every_page_on_the_printer(page, ctx, tmp_path, monkeypatch):
    choose(page.kind, "focus")
    page.generate()
    expected = len(pdf_pages(page.last["path"]))
    out = tmp_path / "printed.pdf"

    def accept(dialog):
        printer = dialog.printer()
        printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
        printer.setOutputFileName(str(out))
        printer.setResolution(72)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(QPrintDialog, "exec", accept)
    page.print_current()
    printed = PdfReader(str(out))
    assert len(printed.pages) == expected
    assert float(printed.pages[0].mediabox.width) > float(printed.pages[0].mediabox.height)
    entry = audit.entries(ctx.conn, limit=1)[0]
    assert f"送打印机 {expected} 页" in entry["summary"]

    monkeypatch.setattr(QPrintDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    before = len(audit.entries(ctx.conn))
    page.print_current()
    assert len(audit.entries(ctx.conn)) == before


def test_paint_pages_stops_when_cancelled(page, tmp_path):
    choose(page.kind, "houses")
    page.generate()
    printer = QPrinter()
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "p.pdf"))
    printer.setResolution(72)
    pdf = PdfFile(page.last["path"])
    try:
        assert paint_pages(pdf, printer, progress=lambda done, total: done < 2) == 2
    finally:
        pdf.close()
    assert len(PdfReader(str(tmp_path / "p.pdf")).pages) == 2


def test_cancelling_generation_leaves_nothing(page, ctx, monkeypatch):
    monkeypatch.setattr(background.Task, "progress", lambda self, done, total: False)
    before = len(audit.entries(ctx.conn))
    choose(page.kind, "residents")
    page.generate()
    assert page.status.text() == "已取消"
    assert page.last is None and page.preview.page_count() == 0
    assert page.generate_button.isEnabled() and not page.print_button.isEnabled()
    assert len(audit.entries(ctx.conn)) == before
    assert list(page.folder.iterdir()) == []


def test_a_refused_ledger_says_why(page, ctx, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    page.unit.addItem("已删除的网格", 999999)        # a unit gone since the list was read
    choose(page.unit, 999999)
    choose(page.kind, "visits")
    page.generate()
    assert warnings == ["找不到网格单元（编号 999999）"]
    assert "找不到网格单元" in page.status.text() and page.last is None


def test_font_choice_is_kept_in_the_database_and_a_bad_one_warns(page, ctx, tmp_path):
    path = fonts.available()[0][0]
    page.set_font(path)
    assert settings.get(ctx.conn, printing.FONT_SETTING) == path
    assert page.font_box.currentData() == path and page.font_warning.isHidden()
    bad = tmp_path / "broken.ttf"
    bad.write_bytes(b"not a font")
    page.set_font(str(bad))
    assert page.font_box.currentData() == str(bad)
    assert not page.font_warning.isHidden() and "无法使用" in page.font_warning.text()
    page.set_font(None)
    assert settings.get(ctx.conn, printing.FONT_SETTING) is None


def test_the_monthly_report_is_generated_and_previewed_too(page, ctx):
    grid_id, grid_name = first_grid(ctx.conn)
    page.set_unit(grid_id)
    choose(page.kind, MONTHLY)
    assert not page.group.isEnabled() and not page.unmask.isEnabled()
    page.generate()
    pages = pdf_pages(page.last["path"])
    assert page.preview.page_count() == len(pages) >= 1
    assert "月度工作报表" in pages[0] and grid_name in pages[0]
    assert f"第 1 页 共 {len(pages)} 页" in pages[0]
    assert page.status.text().startswith("月度工作报表")


def test_the_main_window_shows_the_reports_page_for_the_tree_unit(qtbot, ctx, tmp_path):
    from ui import app as ui_app

    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    window = ui_app.build_main_window(
        ctx.conn, db.db_path(ctx.conn),
        QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    grid_id, _name = first_grid(ctx.conn)
    window._on_unit(grid_id)
    reports = window.show_page("reports")
    assert isinstance(reports, ReportsPage)
    assert window.pages.tabText(window.pages.currentIndex()) == "台账报表"
    assert reports.unit.currentData() == grid_id


def test_choosing_another_unit_in_the_tree_keeps_the_generated_preview(page, ctx):
    page.generate()
    pages = page.preview.page_count()
    assert pages > 1
    grid_id, _name = first_grid(ctx.conn)
    page.set_unit(grid_id)
    assert page.preview.page_count() == pages and page.last is not None
    assert "预览仍是原来范围的报表" in page.status.text()


def test_month_arrows_step_months_wherever_the_cursor_sits(page, qtbot):
    from PySide6.QtCore import Qt

    edit = page.month
    start = edit.date()
    edit.setFocus()
    edit.lineEdit().end(False)                      # the cursor after 「月」
    qtbot.keyClick(edit, Qt.Key.Key_Up)
    assert edit.date() == start.addMonths(1)
    edit.lineEdit().home(False)                     # the cursor before the year
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    qtbot.keyClick(edit, Qt.Key.Key_Down)
    assert edit.date() == start.addMonths(-1)
