"""The window's backups by hand, restore and backup folder are an administrator's, as on the
command line (issue 18): a backup is the whole database; automatic backups go on for all."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox

from shequ_desktop.security import backups
from shequ_desktop.security.users import User
from ui import app as ui_app
from ui.safety import Safety


@pytest.mark.parametrize("role", ["网格员", "只读"])
def test_only_an_administrator_backs_up_restores_or_moves_the_backups(
        qtbot, tmp_path, conn, db_path, place, monkeypatch, role):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    settings.setValue("backup/folder", str(tmp_path / "usb"))
    user = User(2, "zhang", "张网格", role, frozenset({place.grid}) if role == "网格员"
                else frozenset())
    window = ui_app.build_main_window(conn, db_path, settings, user=user)
    qtbot.addWidget(window)
    safety = Safety(window)
    actions = (safety.backup_action, safety.restore_action, safety.folder_action)
    assert not any(a.isEnabled() for a in actions) and "只有管理员" in actions[0].toolTip()
    warned, asked = [], []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: asked.append(1))
    safety.backup_now()
    safety.restore_from_file()
    safety.choose_folder()
    assert len(warned) == 3 and asked == [] and not (tmp_path / "usb").exists()
    safety.backup_if_due()                                  # the automatic one still runs
    assert len(backups.backups(tmp_path / "usb", "test",
                               backups.database_id(conn, create=False))) == 1
