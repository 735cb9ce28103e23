"""Signing in through the real dialogs (offscreen): first administrator, login, idle lock."""
import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QDialog, QLineEdit

from shequ_desktop.core import audit, keys
from shequ_desktop.security import unlock, users
from shequ_desktop.core.context import Context
from ui import app as ui_app
from ui import login


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


def test_first_admin_dialog_checks_the_password_then_signs_in(qtbot, conn, db_path):
    dialog = login.FirstAdminDialog(
        lambda u, p, d: (users.create_first_admin(Context(conn), db_path, u, p, d),
                         users.load(conn, u)))
    qtbot.addWidget(dialog)
    dialog.password.setText("12345678")
    dialog.again.setText("12345678")
    dialog.submit()
    assert "不能全是数字" in dialog.error.text() and users.needs_admin(conn)
    dialog.password.setText("Jiedao-2026")
    dialog.submit()
    assert "不一致" in dialog.error.text()
    dialog.again.setText("Jiedao-2026")
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    key, user = dialog.outcome
    assert user.role == "管理员" and len(key) == 32


def test_login_dialog_says_what_is_wrong_and_the_demo_is_filled_in(qtbot, conn, db_path):
    users.create_demo_admin(Context(conn), db_path)
    dialog = login.LoginDialog(db_path)
    qtbot.addWidget(dialog)
    assert dialog.username.text() == "admin" and dialog.password.text() == "demo2026"
    assert "演示数据库" in dialog.intro.text()
    dialog.password.setText("wrong-pass")
    dialog.submit()
    assert "用户名或密码错误" in dialog.error.text() and dialog.result() != QDialog.DialogCode.Accepted
    dialog.password.setText("demo2026")
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted and dialog.login == "admin"
    assert len(dialog.db_key) == 32
    users.record_login(conn, db_path, users.load(conn, dialog.login))
    assert audit.entries(conn, action="login_failed")


def test_idle_lock_keeps_open_work_and_asks_for_the_password(qtbot, conn, db_path, tmp_path,
                                                            monkeypatch):
    users.create_first_admin(Context(conn), db_path, "admin", "Jiedao-2026")
    user = users.load(conn, "admin")
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    settings.setValue("security/idle_minutes", 1)
    window = ui_app.build_main_window(conn, db_path, settings, user=user)
    qtbot.addWidget(window)
    assert window.ctx.user == "admin" and window.ctx.access.role == "管理员"
    lock = login.IdleLock(window, settings)
    assert lock.timer.isActive() and lock.timer.interval() == 60_000
    unsaved = QLineEdit(window)
    unsaved.setText("写了一半的走访记录")
    asked = []

    window.show()

    def answer(dialog):
        asked.append(dialog.username.isReadOnly())
        assert not window.isVisible()                       # nothing readable while locked
        dialog.password.setText("Jiedao-2026")
        dialog.submit()
        return dialog.result()

    monkeypatch.setattr(login.LoginDialog, "exec", answer)
    assert lock.lock() and asked == [True]
    assert unsaved.text() == "写了一半的走访记录" and window.isVisible()
    monkeypatch.setattr(login.LoginDialog, "exec", lambda dialog: QDialog.DialogCode.Rejected)
    closed = []
    monkeypatch.setattr(window, "close", lambda: closed.append(1))
    assert not lock.lock() and closed == [1]


def test_changing_ones_own_password_and_locking_by_hand(qtbot, conn, db_path, tmp_path,
                                                        monkeypatch):
    users.create_first_admin(Context(conn), db_path, "admin", "Jiedao-2026")
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(conn, db_path, settings, user=users.load(conn, "admin"))
    qtbot.addWidget(window)
    lock = login.IdleLock(window, settings)
    locked = []
    monkeypatch.setattr(lock, "lock", lambda: locked.append(1))
    login.add_account_actions(window, lock)
    texts = [a.text() for a in window.file_menu.actions()]
    assert texts[:2] == ["修改密码…", "锁定窗口"]
    dialog = login.ChangePasswordDialog(window)
    qtbot.addWidget(dialog)
    dialog.old.setText("wrong-pass")
    dialog.new.setText("Newpass-2026")
    dialog.again.setText("Newpass-2026")
    dialog.submit()
    assert "用户名或密码错误" in dialog.error.text()
    dialog.old.setText("Jiedao-2026")
    dialog.submit()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert users.sign_in(conn, db_path, "admin", "Newpass-2026")[0].username == "admin"
    assert audit.entries(conn, action="user")[0]["summary"].endswith("修改了自己的密码")
    window.file_menu.actions()[1].trigger()
    assert locked == [1]


# --- opening an encrypted database (ui/start.py) -----------------------------------------------

def _answer(monkeypatch, cls, **fields):
    """Make `cls.exec` fill in the fields and press OK, recording the dialogs it saw."""
    seen = []

    def answer(dialog):
        seen.append(dialog)
        for name, value in fields.items():
            getattr(dialog, name).setText(value)
        dialog.submit()
        return dialog.result()

    monkeypatch.setattr(cls, "exec", answer)
    return seen


def _plain_street(path, admin=True):
    import db
    from shequ_desktop.demo import street as demo

    conn = db.open_db(path)
    demo.generate(conn, residents=120, seed=2)
    if admin:
        users.create_first_admin(Context(conn), path, "admin", "Jiedao-2026")
    n = conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    conn.close()
    return n


def test_a_plain_database_of_an_older_version_is_encrypted_after_sign_in(qapp, tmp_path,
                                                                        monkeypatch):
    import db
    from ui import start

    from db.backup import check_file
    from shequ_desktop.security import backups
    from ui.safety import backup_folder

    path = tmp_path / "old.db"
    n = _plain_street(path)
    conn = db.open_db(path)
    old_backup = backups.make_backup(conn, backup_folder(), "admin")   # a plain copy
    name = conn.execute("SELECT name FROM residents LIMIT 1").fetchone()[0]
    conn.close()
    assert not db.is_encrypted(old_backup)
    _answer(monkeypatch, login.LoginDialog, username="admin", password="Jiedao-2026")
    shown = []                  # its recovery key was never shown (a killed first encryption)
    monkeypatch.setattr(login.RecoveryKeyDialog, "exec", lambda dialog: shown.append(1) or 1)
    session = start.open_session(path)
    assert session.user.username == "admin"
    assert shown == [1] and not keys.KeyFile.load(path).recovery_pending()
    assert session.conn.execute("SELECT count(*) FROM residents").fetchone()[0] == n
    session.conn.close()
    assert db.is_encrypted(path)
    assert audit.entries(db.open_db(path), action="login")
    assert db.is_encrypted(old_backup) and name.encode() not in old_backup.read_bytes()
    assert check_file(old_backup, full=True) is None        # still a sound backup


def test_the_recovery_key_opens_a_database_whose_key_file_is_lost(qapp, tmp_path, monkeypatch):
    import db
    from ui import start

    path = tmp_path / "old.db"
    _plain_street(path)
    key = keys.KeyFile.load(path).unwrap("admin", "Jiedao-2026")
    unlock.encrypt_plain(path, key)
    keys.KeyFile.path_for(path).unlink()
    db.forget_keys()
    seen = _answer(monkeypatch, login.RecoveryDialog, key_text=keys.recovery_text(key),
                   password="Newpass-2026", again="Newpass-2026")
    session = start.open_session(path)
    assert len(seen) == 1 and "找不到密钥文件" in seen[0].intro.text()
    assert session.user.role == "管理员" and session.db_key == key
    session.conn.close()
    assert keys.KeyFile.load(path).unwrap("admin", "Newpass-2026") == key


def test_forgot_password_in_the_login_dialog_uses_the_recovery_key(qtbot, tmp_path,
                                                                   monkeypatch):
    path = tmp_path / "old.db"
    _plain_street(path)
    key = keys.KeyFile.load(path).unwrap("admin", "Jiedao-2026")
    _answer(monkeypatch, login.RecoveryDialog, key_text="AAAA-BBBB",
            password="Newpass-2026", again="Newpass-2026")
    dialog = login.LoginDialog(path)
    qtbot.addWidget(dialog)
    dialog.recover()
    assert dialog.result() != QDialog.DialogCode.Accepted          # a mistyped key
    _answer(monkeypatch, login.RecoveryDialog, key_text=keys.recovery_text(key),
            password="Newpass-2026", again="Newpass-2026")
    dialog.recover()
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.login == "admin" and dialog.db_key == key


def test_a_plain_database_without_users_gets_its_administrator_then_is_encrypted(
        qapp, tmp_path, monkeypatch):
    import db
    from ui import start

    path = tmp_path / "init.db"
    n = _plain_street(path, admin=False)
    _answer(monkeypatch, login.FirstAdminDialog, display_name="张三",
            password="Jiedao-2026", again="Jiedao-2026")
    shown = []
    monkeypatch.setattr(login.RecoveryKeyDialog, "exec",
                        lambda dialog: shown.append(dialog.text) or 1)
    session = start.open_session(path)
    assert session.user.role == "管理员" and session.user.display_name == "张三"
    assert session.conn.execute("SELECT count(*) FROM residents").fetchone()[0] == n
    session.conn.close()
    assert db.is_encrypted(path) and keys.from_recovery_text(shown[0]) == session.db_key
