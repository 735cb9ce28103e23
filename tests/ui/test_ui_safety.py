"""The GUI's backups, restore, and a damaged database at start (real files, real widgets)."""
import datetime as dt

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QApplication, QMessageBox

import db
from db.backup import check_file
from shequ_desktop.security import backups, users
from shequ_desktop.core import keys
from shequ_desktop.population import residents
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import ReadOnlyError
from ui import app as ui_app
from ui import login
from ui import safety as safety_module
from ui.safety import Safety


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path):
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    QSettings().setValue("backup/folder", str(tmp_path / "usb"))
    yield
    QSettings().clear()


@pytest.fixture
def setup(qtbot, tmp_path, family, conn, db_path):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    settings.setValue("backup/folder", str(tmp_path / "usb"))
    window = ui_app.build_main_window(conn, db_path, settings)
    qtbot.addWidget(window)
    return window, Safety(window), tmp_path / "usb"


def made(conn, folder):
    return backups.backups(folder, "test", backups.database_id(conn, create=False) or "-")


def test_a_daily_backup_is_taken_once(setup):
    window, safety, folder = setup
    safety.start()
    assert safety.timer.isActive()
    safety.backup_if_due()                                 # due: taken
    found = made(window.conn, folder)
    assert len(found) == 1 and check_file(found[0][1]) is None
    safety.backup_if_due()                                 # not twice the same day
    assert len(made(window.conn, folder)) == 1


def test_a_database_found_damaged_stays_read_only_and_is_never_backed_up(setup, family,
                                                                         monkeypatch):
    window, _safety, folder = setup
    damaged = Safety(window, damaged="“test.db”已损坏：page 7 is never used")
    damaged.start()
    assert window.ctx.read_only == safety_module.DAMAGED
    with pytest.raises(ReadOnlyError, match="已损坏"):
        residents.record_death(window.ctx, family[1]["son"], "2026-11-01")
    calls = []
    monkeypatch.setattr(damaged, "_backup", lambda **kw: calls.append(kw))
    damaged.backup_if_due()
    damaged.backup_on_close()
    assert calls == []


def test_backup_on_close_and_by_hand(setup, monkeypatch):
    window, safety, folder = setup
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
    safety.backup_now()
    assert shown and str(folder) in shown[0]
    safety.backup_on_close()
    assert len(list(folder.glob("test-*.db"))) >= 1
    assert [a.text() for a in window.file_menu.actions()][:3] == \
        ["立即备份(&B)", "从备份恢复…", "备份文件夹…"]


def test_restore_from_the_window(setup, db_path, family, monkeypatch):
    window, safety, folder = setup
    good = backups.make_backup(window.conn, folder, "张三")
    residents.record_death(window.ctx, family[1]["son"], "2026-11-01")
    monkeypatch.setattr(QMessageBox, "information", lambda *a: None)
    quit_called = []
    monkeypatch.setattr(safety_module.QCoreApplication, "quit", lambda: quit_called.append(1))
    safety.restore(good)
    assert quit_called
    conn = db.open_db(db_path)
    assert conn.execute("SELECT status FROM residents WHERE id = ?",
                        (family[1]["son"],)).fetchone()[0] == "在册"
    conn.close()


def damage_file(path):
    """Garble the last two pages (search index pages: the rest can still be looked at)."""
    data = bytearray(path.read_bytes())
    data[-8192:] = b"\x07" * 8192
    path.write_bytes(bytes(data))


def signs_in(monkeypatch):
    """The login dialog answered with the administrator's password."""
    def answer(dialog):
        dialog.username.setText("admin")
        dialog.password.setText("Admin-2026")
        dialog.submit()
        return dialog.result()

    monkeypatch.setattr(login.LoginDialog, "exec", answer)


@pytest.fixture
def damaged_db(tmp_path, monkeypatch):
    """A database with an administrator, a backup in the folder, then damaged on disk."""
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)
    from shequ_desktop.demo import street as demo
    path = tmp_path / "street.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=200, seed=3)
    users.create_first_admin(Context(conn), path, "admin", "Admin-2026")
    backups.make_backup(conn, tmp_path / "usb", "admin", now=dt.datetime(2026, 11, 20, 9, 0))
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    damage_file(path)
    return path


def test_at_start_a_damaged_database_is_opened_read_only_without_writing(qapp, damaged_db,
                                                                          monkeypatch):
    offered = []

    def choose(path, problem, parent=None):
        offered.append(problem)
        return "read"

    monkeypatch.setattr(safety_module, "when_damaged", choose)
    signs_in(monkeypatch)
    monkeypatch.setattr(QApplication, "exec", staticmethod(lambda: 0))
    before = damaged_db.read_bytes()
    assert ui_app.main(["--db", str(damaged_db)]) == 0
    assert offered and "已损坏" in offered[0]
    assert damaged_db.read_bytes() == before                    # not one byte written
    wal = damaged_db.with_name(damaged_db.name + "-wal")
    assert not wal.exists() or wal.stat().st_size == 0         # and nothing waiting in a WAL


def test_at_start_the_newest_good_backup_is_offered_and_restored(qapp, damaged_db,
                                                                 monkeypatch):
    texts = []

    def restore_button(box):
        texts.append(box.informativeText())
        box.buttons()[0].click()                       # 从这个备份恢复
        return 0

    monkeypatch.setattr(QMessageBox, "exec", restore_button)
    monkeypatch.setattr(QMessageBox, "information", lambda *a: None)
    assert safety_module.when_damaged(damaged_db, "已损坏") == "restored"
    assert "20261120-090000" in texts[0]
    assert db.backup.check_file(damaged_db) is None
    assert list(damaged_db.parent.glob("street.db.damaged-*"))
