"""The import wizard, driven offscreen through its pages over real files and a real database
(background work runs synchronously in tests)."""
import pytest
from PySide6.QtCore import QItemSelectionModel, QSettings
from PySide6.QtWidgets import QMessageBox, QWizard

from ui import app as ui_app
from ui import background, file_dialogs
from ui.dialogs import import_wizard
from ui.dialogs.import_wizard import ImportWizard, PlanModel
from tests.conftest import make_id
from tests.transfer.test_import import dump, problem_rows, write_xlsx


@pytest.fixture
def sheet(tmp_path):
    return write_xlsx(tmp_path / "居民.xlsx", problem_rows())


@pytest.fixture
def wizard(qtbot, ctx, db_path, place):
    w = ImportWizard(ctx, db_path, place.unit)      # a 单元 in the tree: its 网格 is chosen
    qtbot.addWidget(w)
    w.show()
    return w


def to_preview(w, path):
    w.file_page.path.setText(str(path))
    assert w.file_page.sheet.currentText() == "居民"
    w.next()
    assert w.currentPage() is w.mapping_page
    w.next()
    assert w.currentPage() is w.preview_page


def test_the_whole_way_through(qtbot, wizard, sheet, conn, place):
    w = wizard
    assert w.file_page.target.currentData() == place.grid
    assert w.file_page.target.currentText() == "幸福街道 / 阳光社区 / 第一网格"
    w.file_page.path.setText(str(sheet))
    w.next()
    page = w.mapping_page
    assert page.header_label.text().startswith("表头在第 3 行")
    assert [c.currentData() for c in page.combos] == [
        None, "household_no", "name", "id_number", "relation_to_head", "gender", "birth_date",
        "phone", "address", "notes"]
    assert page.table.item(2, 1).text() == "王建国、李秀英、王小明"
    w.next()
    preview = w.preview_page
    assert preview.counts.text().startswith("共 13 行：新增 8，更新 0，无变化 0，跳过 0，错误 5。")
    model = preview.model
    assert model.rowCount() == 13
    assert model.index(0, 2).data() == make_id("1960-05-06", "1", seq=1)[:6] + "********" \
        + make_id("1960-05-06", "1", seq=1)[-4:]
    assert model.index(3, 3).data() == "错误"
    preview.only_errors.setChecked(True)
    assert model.rowCount() == 5
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0   # a dry run
    with qtbot.waitSignal(w.imported) as signal:
        w.next()
    assert signal.args[0]["created"] == 8
    assert w.run_page.result.text() == ("导入完成：新增 8 人（4 户），更新 0 人，无变化 0，跳过 0，"
                                        "错误 5 行未导入。")
    assert w.run_page.save_errors.isVisible()
    assert w.run_page.isComplete()
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 8


def test_model_passes_the_model_tester(qtmodeltester, wizard, sheet):
    to_preview(wizard, sheet)
    qtmodeltester.check(wizard.preview_page.model)
    qtmodeltester.check(wizard.preview_page.model, force_py=True)
    qtmodeltester.check(PlanModel())


def test_the_user_fixes_the_mapping(qtbot, wizard, tmp_path, conn):
    path = write_xlsx(tmp_path / "odd.xlsx", [["王芳", make_id("1990-02-02", "2"), "户主", "1-1-102"]],
                      ["人名", "身份证号", "与户主关系", "现住址"], title=None, sheet="居民")
    wizard.file_page.path.setText(str(path))
    wizard.next()
    page = wizard.mapping_page
    assert not page.isComplete()                      # no 姓名 column yet
    page.combos[0].setCurrentIndex(page.combos[0].findData("name"))
    assert page.isComplete()
    page.combos[3].setCurrentIndex(page.combos[3].findData("id_number"))
    assert not page.isComplete()                      # one field, two columns
    page.combos[3].setCurrentIndex(page.combos[3].findData("address"))
    wizard.next()
    assert wizard.preview_page.counts.text().startswith("共 1 行：新增 1")
    wizard.next()
    assert conn.execute("SELECT name FROM residents").fetchone()[0] == "王芳"
    # remembered: the next wizard maps 人名 to 姓名 by itself
    again = ImportWizard(wizard.ctx, wizard.db_path)
    qtbot.addWidget(again)
    again.show()
    again.file_page.path.setText(str(path))
    again.next()
    assert again.mapping_page.combos[0].currentData() == "name"


def test_per_row_decision_in_the_preview(qtbot, wizard, tmp_path, ctx, conn, family):
    _, p = family
    rows = [["王建国", make_id("1970-05-06", "1"), "户主", "13700001111"],
            ["李秀英", make_id("1972-03-08", "2"), "妻", "13700002222"]]
    path = write_xlsx(tmp_path / "dup.xlsx", rows, ["姓名", "身份证号", "与户主关系", "手机号"],
                      title=None, sheet="居民")
    to_preview(wizard, path)
    preview = wizard.preview_page
    model = preview.model
    assert [model.index(r, 3).data() for r in range(2)] == ["跳过", "跳过"]
    assert model.index(0, 5).data() == "按身份证号匹配到已登记人员；不同：联系电话"
    preview.view.selectionModel().select(
        model.index(1, 0), QItemSelectionModel.SelectionFlag.Select
        | QItemSelectionModel.SelectionFlag.Rows)
    preview.decision.setCurrentIndex(preview.decision.findData("update"))
    preview.decide_selected()
    assert [model.index(r, 4).data() for r in range(2)] == ["跳过", "覆盖"]
    assert preview.counts.text().startswith("共 2 行：新增 0，更新 1，无变化 0，跳过 1")
    wizard.next()
    assert ctx.get("residents", p["head"])["phone"] == "13912345678"
    assert ctx.get("residents", p["wife"])["phone"] == "13700002222"


def test_cancel_leaves_the_database_unchanged(qtbot, wizard, sheet, conn, monkeypatch):
    to_preview(wizard, sheet)
    before = dump(conn)
    monkeypatch.setattr(background.Task, "progress", lambda self, done, total: False)
    wizard.next()
    assert wizard.run_page.result.text() == "已取消，未导入任何数据。"
    assert not wizard.run_page.save_errors.isVisible()
    assert dump(conn) == before


def test_save_error_report(qtbot, wizard, sheet, tmp_path, monkeypatch):
    to_preview(wizard, sheet)
    out = tmp_path / "错误.xlsx"
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(out), "")))
    shown = []
    monkeypatch.setattr(import_wizard.QMessageBox, "information",
                        staticmethod(lambda *a: shown.append(a[2])))
    assert wizard.preview_page.save_errors.isEnabled()
    assert wizard.save_error_report() == str(out)
    assert out.exists()
    assert shown[0].startswith("已把 5 行错误写入")


def test_unreadable_file_stays_on_the_first_page(qtbot, wizard, tmp_path, monkeypatch):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名\n".encode("utf-16"))
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: warned.append(a[2])))
    wizard.file_page.path.setText(str(bad))
    wizard.next()
    assert wizard.currentPage() is wizard.file_page
    assert "UTF-16" in warned[0]


def test_file_menu_opens_the_wizard_and_its_changes_reach_the_pages_without_a_refresh(
        qtbot, ctx, conn, db_path, place, sheet, tmp_path):
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(conn, db_path, settings)
    qtbot.addWidget(window)
    assert [a.text() for a in window.file_menu.actions()][:2] == ["导入表格(&I)…", "导出(&E)…"]
    window.import_action.trigger()
    wizards = window.findChildren(QWizard)
    assert len(wizards) == 1
    w = wizards[0]
    page = window.show_page("residents")
    assert page.count() == 0
    refreshed = []
    window.refresh = lambda: refreshed.append(True)
    w.file_page.path.setText(str(sheet))
    w.next()
    w.next()
    w.next()
    assert refreshed == [] and page.count() == 8          # delivered as changes, not F5
    w.close()
