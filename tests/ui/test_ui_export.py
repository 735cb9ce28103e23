"""The export dialog offscreen: templates per kind, the unmask confirmation, the scope, and the
file it writes (read back)."""
import csv
import json

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel, QMessageBox
from python_calamine import CalamineWorkbook

from shequ_desktop.core import audit
from ui import app as ui_app
from ui.dialogs import export_dialog
from ui.dialogs.export_dialog import ExportDialog


@pytest.fixture
def shown(monkeypatch):
    messages = []
    monkeypatch.setattr(export_dialog.QMessageBox, "information",
                        staticmethod(lambda *a: messages.append(a[2])))
    return messages


@pytest.fixture
def dialog(qtbot, ctx, db_path, family, place, tmp_path):
    d = ExportDialog(ctx, db_path, place.grid, folder=str(tmp_path))
    qtbot.addWidget(d)
    d.show()
    return d


def test_defaults_and_templates_per_kind(dialog, tmp_path):
    assert dialog.what.currentData() == "residents"
    assert dialog.template.currentData() == "district_residents"
    assert {dialog.template.itemData(i) for i in range(dialog.template.count())} == {
        "district_residents", "full_residents", "gbt31000_population"}
    assert dialog.unmask.isChecked()             # the district's upload template
    dialog.template.setCurrentIndex(dialog.template.findData("full_residents"))
    assert not dialog.unmask.isChecked()
    dialog.template.setCurrentIndex(dialog.template.findData("district_residents"))
    assert dialog.path.text().startswith(str(tmp_path / "区级平台实有人口上传表_"))
    assert dialog.path.text().endswith(".xlsx")
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    assert dialog.path.text().endswith(".csv")
    dialog.what.setCurrentIndex(dialog.what.findData("households"))
    assert dialog.template.currentData() == "households"
    assert dialog.scope.isChecked()
    assert dialog.scope.text() == "只导出“幸福街道 / 阳光社区 / 第一网格”及其下级"
    dialog.path.setText("")
    assert not dialog.ok_button().isEnabled()


def test_a_masked_upload_file_is_not_made_silently(dialog, shown, monkeypatch, tmp_path,
                                                    conn):
    warned = []
    monkeypatch.setattr(export_dialog.QMessageBox, "warning",
                        staticmethod(lambda *a: warned.append(a[2])))
    out = tmp_path / "up.xlsx"
    dialog.path.setText(str(out))
    dialog.unmask.setChecked(False)
    dialog.ok_button().click()
    assert dialog.result["rows"] == 3
    assert warned[0].startswith(f"已导出 3 行到：\n{out}") and "已脱敏" in warned[0]
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("实有人口").to_python()
    head = dict(zip(rows[0], rows[1]))
    assert head["联系电话"] == "139****5678"
    assert json.loads(audit.entries(conn, action="export")[0]["detail"])["unmask"] is False


def test_a_masked_working_export_says_done(dialog, shown, tmp_path):
    dialog.template.setCurrentIndex(dialog.template.findData("full_residents"))
    out = tmp_path / "full.xlsx"
    dialog.path.setText(str(out))
    dialog.ok_button().click()
    assert shown == [f"已导出 3 行到：\n{out}"]


def test_upload_asks_first_naming_the_file_and_is_recorded(dialog, shown, monkeypatch,
                                                          tmp_path, conn):
    asked = []
    answers = [False, True]
    monkeypatch.setattr(export_dialog, "confirm_upload",
                        lambda parent, path, title, count: asked.append((path, title, count))
                        or answers.pop(0))
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    out = tmp_path / "full"
    dialog.path.setText(str(out))
    assert dialog.unmask.isChecked()
    dialog.ok_button().click()                   # the user said no: nothing written
    written = tmp_path / "full.csv"
    assert not written.exists() and dialog.result is None
    assert asked[0] == (str(written), "区级平台实有人口上传表", 3)
    dialog.ok_button().click()
    with open(written, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert dict(zip(rows[0], rows[1]))["联系电话"] == "13912345678"
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "测试员" and "未脱敏" in entry["summary"]
    assert str(written) in entry["summary"]
    assert json.loads(entry["detail"])["rows"] == 3


def test_the_upload_confirmation_names_the_file_and_needs_a_tick(qtbot, tmp_path):
    path = str(tmp_path / "实有人口_上传.xlsx")
    box = export_dialog.UploadConfirmDialog(path, "区级平台实有人口上传表", 1234)
    qtbot.addWidget(box)
    box.show()
    text = " ".join(label.text() for label in box.findChildren(QLabel))
    assert path in text and "1234 条" in text and "审计日志" in text
    assert not box.confirm.isEnabled()
    box.sure.setChecked(True)
    assert box.confirm.isEnabled()
    with qtbot.waitSignal(box.accepted):
        box.confirm.click()


def test_a_platform_template_shows_its_columns_and_fills_a_copy(dialog, shown, monkeypatch,
                                                               tmp_path, conn):
    from tests.transfer.test_export_fill import tianque_template
    template = tianque_template(tmp_path / "aid.xlsx")
    dialog.set_platform(str(template))
    assert not dialog.template.isEnabled() and dialog.mapping.rowCount() == 35
    assert "救助原因" in dialog.unfilled.text()
    assert dialog.mapping.cellWidget(0, 1).currentData() == "name"
    gender = dialog.mapping.cellWidget(2, 1)
    assert gender.currentData() == "gender"
    dialog.mapping.cellWidget(2, 2).setChecked(True)           # 性别 as its code
    assert dialog.path.text().endswith(".xlsx") and "aid_已填_" in dialog.path.text()
    dialog.unmask.setChecked(False)
    warned = []
    monkeypatch.setattr(export_dialog.QMessageBox, "warning",
                        staticmethod(lambda *a: warned.append(a[2])))
    dialog.ok_button().click()
    rows = CalamineWorkbook.from_path(dialog.result["files"][0]).get_sheet_by_index(0) \
        .to_python()
    assert rows[6][0] == "王建国" and rows[6][2] == "1"
    assert "已脱敏" in warned[0]
    remembered = [e for e in conn.execute("SELECT key FROM settings") if
                  e[0].startswith("export_template:")]
    assert len(remembered) == 1


def test_a_template_that_is_not_a_spreadsheet_is_refused(dialog, monkeypatch, tmp_path):
    warned = []
    monkeypatch.setattr(export_dialog.QMessageBox, "warning",
                        staticmethod(lambda *a: warned.append(a[2])))
    bad = tmp_path / "note.xls"
    bad.write_text("不是表格", encoding="utf-8")
    dialog.set_platform(str(bad))
    assert dialog.platform is None and dialog.template.isEnabled()
    assert "不是 Excel/WPS 表格文件" in warned[0]


def test_a_failed_export_keeps_the_dialog_open(dialog, monkeypatch, tmp_path):
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: warned.append(a[2])))
    dialog.path.setText(str(tmp_path / "no" / "such" / "x.xlsx"))
    dialog.ok_button().click()
    assert dialog.result is None and dialog.isVisible()
    assert "不存在" in warned[0]


def test_file_menu_export(qtbot, conn, db_path, family, tmp_path, monkeypatch):
    window = ui_app.build_main_window(conn, db_path,
                                      QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    opened = []
    monkeypatch.setattr(ExportDialog, "exec", lambda self: opened.append(self) or 0)
    window.export_action.trigger()
    assert len(opened) == 1 and opened[0].what.currentData() == "residents"
    opened[0].close()


def test_the_division_code_is_set_in_the_dialog(dialog, monkeypatch, conn):
    warned = []
    monkeypatch.setattr(export_dialog.QMessageBox, "warning",
                        staticmethod(lambda *a: warned.append(a[2])))
    dialog.division.setText("51")
    dialog._save_division()
    assert "6、9 或 12 位数字" in warned[0]
    dialog.division.setText("510104001001")
    dialog._save_division()
    from shequ_desktop.transfer.exporting import coding
    assert coding.division_code(conn) == "510104001001"


def test_a_focus_register_is_filled_with_the_chosen_group(dialog, shown, monkeypatch, ctx,
                                                         tmp_path, town_tags):
    from tests.transfer.test_export_fill import tianque_template
    dialog.what.setCurrentIndex(dialog.what.findData("focus"))
    dialog.set_platform(str(tianque_template(tmp_path / "aid.xlsx")))
    assert dialog.tag.isVisible()
    dialog.tag.setCurrentIndex(dialog.tag.findData("残疾人"))
    dialog.unmask.setChecked(False)
    monkeypatch.setattr(export_dialog.QMessageBox, "warning", staticmethod(lambda *a: None))
    dialog.ok_button().click()
    assert dialog.result["rows"] == 1
    rows = CalamineWorkbook.from_path(dialog.result["files"][0]).get_sheet_by_index(0) \
        .to_python()
    assert rows[6][0] == "李秀英" and len(rows) == 7


@pytest.fixture
def town_tags(ctx, conn, family):
    from shequ_desktop.population import tags
    _hh, people = family
    disabled = conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    other = conn.execute("SELECT id FROM tags WHERE name <> '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, people["wife"], disabled, "2024-01-01")
    tags.assign_tag(ctx, people["son"], other, "2024-01-01")
