"""The export dialog offscreen: templates per kind, the unmask confirmation, the scope, and the
file it writes (read back)."""
import csv
import json

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QMessageBox
from python_calamine import CalamineWorkbook

from shequ_desktop import audit
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
        "district_residents", "full_residents"}
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


def test_masked_export_by_default(dialog, shown, tmp_path, conn):
    out = tmp_path / "up.xlsx"
    dialog.path.setText(str(out))
    dialog.ok_button().click()
    assert dialog.result["rows"] == 3
    assert shown[0] == f"已导出 3 行到：\n{out}"
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("实有人口").to_python()
    head = dict(zip(rows[0], rows[1]))
    assert head["联系电话"] == "139****5678"
    assert json.loads(audit.entries(conn, action="export")[0]["detail"])["unmask"] is False


def test_unmask_asks_first_and_is_recorded(dialog, shown, monkeypatch, tmp_path, conn):
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(export_dialog.QMessageBox, "question",
                        staticmethod(lambda *a: answers.pop(0)))
    dialog.unmask.setChecked(True)
    assert not dialog.unmask.isChecked()               # the user said no
    dialog.unmask.setChecked(True)
    assert dialog.unmask.isChecked()
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    out = tmp_path / "full"
    dialog.path.setText(str(out))
    dialog.ok_button().click()
    written = tmp_path / "full.csv"
    with open(written, encoding="utf-8-sig") as f:
        rows = list(csv.reader(f))
    assert dict(zip(rows[0], rows[1]))["联系电话"] == "13912345678"
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "测试员" and "未脱敏" in entry["summary"]
    assert json.loads(entry["detail"])["rows"] == 3


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
