"""From a database file to a signed-in session, before the main window exists.

The database is encrypted, so signing in comes first: the password unlocks the database key
(key file beside the database), and only then can the file be checked and opened.
- A new file: 载入演示数据 (then the documented demo login) or a blank community with its first
  administrator; either way the file is encrypted from its first byte, and the administrator
  is shown the recovery key.
- An existing file: sign in (or use the recovery key); then the quick check (a damaged file is
  opened read-only, or restored from the newest good backup); a plain file from an older
  version is encrypted in place; a plain file without users gets its first administrator.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QMessageBox

import db
from db.driver import sqlite3
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.places import founding as community
from shequ_desktop.security import unlock, users

# Imports inside functions here are lazy for start-up: each step loads what it needs when it
# runs (the window only after the password is accepted).

QUIT, FAILED = 0, 1
CHECKING = "正在检查数据库文件，请稍候几秒再保存。"


def _tr(text: str) -> str:
    return QCoreApplication.translate("start", text)


@dataclass
class Session:
    conn: sqlite3.Connection
    user: users.User
    db_key: bytes | None
    damaged: str | None          # what is wrong with a database opened read-only
    # Pages checked before opening (new, converted or damaged files); otherwise they are
    # checked after the window shows (check_pages_in_background) and the login is recorded
    # then.
    checked: bool = True


def open_database(path: Path) -> sqlite3.Connection | None:
    """open_db, telling the user in Chinese what is wrong; None when it cannot be opened."""
    try:
        return db.open_db(path)
    except db.StorageError as exc:
        message = str(exc)
    except (sqlite3.Error, OSError) as exc:
        message = _tr("无法打开数据库文件“{0}”：{1}").format(path, exc)
    QMessageBox.critical(None, _tr("无法打开数据库"), message)
    return None


def open_session(path: Path) -> Session | int:
    """The signed-in session, or the exit code (QUIT: the user chose to stop; FAILED)."""
    from ui import login

    if unlock.is_new(path):
        return _new_database(path)
    name = key = None
    if unlock.has_key_file(path) or db.is_encrypted(path):
        dialog = (login.LoginDialog(path) if unlock.has_key_file(path)
                  else login.RecoveryDialog(path))
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return QUIT
        name, key = dialog.login, dialog.db_key
    return signed_in(path, name, key)


def signed_in(path: Path, name: str | None, key: bytes | None) -> Session | int:
    """After the password (or the recovery key) was accepted: open the database for `name`.
    Only what opening needs is checked here; the pages are checked in the background once
    the window shows (check_pages_in_background)."""
    # A plain file of an older version is copied into an encrypted one next: its pages are
    # checked first. An encrypted file's pages are checked once the window shows.
    pages = not db.is_encrypted(path)
    damaged = _check(path, pages=pages)
    if isinstance(damaged, int):
        return damaged
    converted = damaged is None and key is not None and not db.is_encrypted(path)
    if converted and not _encrypt(path, key):      # a plain database of an older version
        return QUIT
    conn = open_database(path)
    if conn is None:
        return FAILED
    if converted:
        _encrypt_backups(conn, path, key)
    try:
        if name is None:
            conn.close()
            if damaged is not None:
                QMessageBox.critical(None, _tr("无法登录"), _tr(
                    "这个数据库已损坏，而且还没有任何用户，无法登录。请从备份恢复。"))
                return FAILED
            created = _first_admin(lambda u, p, d: (u, unlock.encrypt_with_first_admin(
                path, u, p, d)), path)
            if created is None:
                return QUIT
            name, key = created
            conn = open_database(path)
            if conn is None:
                return FAILED
        if damaged is None and community.is_empty(Context(conn)):
            from ui.first_start import run_first_start
            if not run_first_start(conn, path):
                conn.close()
                return QUIT
        user = users.load(conn, name)
        checked = pages or damaged is not None
        if checked and damaged is None:
            users.record_login(conn, path, user)
        if (damaged is None and key is not None and user.role == users.ADMIN
                and unlock.recovery_pending(path)):
            from ui import login  # the dialogs: not needed at start

            login.RecoveryKeyDialog(key, path).exec()     # never shown: a start was killed
            unlock.recovery_shown(path)
    except (DomainError, db.StorageError) as exc:
        conn.close()
        QMessageBox.critical(None, _tr("无法登录"), str(exc))
        return FAILED
    return Session(conn, user, key, damaged, checked)


def _check(path: Path, pages: bool) -> str | None | int:
    """None when sound; what is wrong when damaged and to be opened read-only; or an exit
    code when the user chose to stop. A restored backup counts as sound."""
    from db.backup import damage
    from ui import safety

    damaged = damage(path, pages=pages)     # pages: 0.3–1.9 s for a street; else milliseconds
    if damaged is None:
        return None
    choice = safety.when_damaged(path, damaged)
    if choice is None:
        return FAILED
    if choice == "restored":
        return None
    db.mark_read_only(path)
    return damaged


def check_pages_in_background(window, path: Path, safety) -> None:
    """SQLite's quick check off the GUI thread once the window is on screen (1.6–1.9 s of
    CPU for a street). A damaged file turns the window read-only and says what to do;
    automatic backups (safety.start) begin only after the check, never of a damaged file."""
    from db.backup import check_file
    from ui import background

    if safety.damaged is not None:
        safety.start()
        return
    ctx = window.ctx
    ctx.read_only = CHECKING           # nothing is written before the file is known sound

    def checked(problem: str | None) -> None:
        if ctx.read_only == CHECKING:
            ctx.read_only = None
        if problem is not None:
            safety.damaged = problem
            QMessageBox.critical(window, _tr("数据库已损坏"), _tr(
                "检查发现数据库文件已损坏，为保护数据，现在只能查看，不能修改。\n\n{0}\n\n"
                "请用 文件 → 从备份恢复… 恢复最新的完好备份。").format(problem))
        elif window.user is not None:
            users.record_login(window.conn, path, window.user)
        safety.start()

    window.page_check = background.run(lambda _conn, _progress: check_file(path), None,
                                       parent=window, quiet=True, on_success=checked,
                                       on_failure=lambda exc: checked(str(exc)))


def _encrypt(path: Path, key: bytes) -> bool:
    """Encrypt a plain database in the background (a street takes seconds); False when the
    user cancelled or it failed (the file is then left as it was, and they were told)."""
    from ui import background

    return background.run_and_wait(
        lambda _conn, progress: unlock.encrypt_plain(path, key, progress), None,
        label=_tr("正在加密数据库，请稍候…"))


def _encrypt_backups(conn: sqlite3.Connection, path: Path, key: bytes) -> None:
    """The plain backups of a database just encrypted are encrypted too (in the background;
    a failure is shown and leaves the rest as they were)."""
    from shequ_desktop.security import backups
    from ui import background
    from ui.safety import backup_folder

    db_id = backups.database_id(conn, create=False)
    background.run_and_wait(
        lambda _conn, progress: backups.encrypt_plain_backups(
            backup_folder(), path.stem, db_id, key, progress), None,
        label=_tr("正在加密以前的备份…"))


def _first_admin(make, path: Path):
    """The first-administrator dialog; `make` returns (user name, key). The recovery key is
    shown before going on. None when the user gave up."""
    from ui import login

    dialog = login.FirstAdminDialog(make)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    login.RecoveryKeyDialog(dialog.outcome[1], path).exec()
    unlock.recovery_shown(path)
    return dialog.outcome


def _new_database(path: Path) -> Session | int:
    """The first start on a new file. Everything is built under a temporary name beside it
    (unlock.building_name) and renamed into place with its key file once it can be opened."""
    from ui.first_start import FirstStartDialog, load_demo, load_package

    building = unlock.building_name(path)
    while True:
        unlock.discard_new(building)                 # left by a crash or a cancel
        choice = FirstStartDialog()
        if choice.exec() != QDialog.DialogCode.Accepted:
            return QUIT
        if choice.choice in ("demo", "package"):
            conn, key = unlock.create_database(building)
            conn.close()
            if choice.choice == "demo":
                if not load_demo(building):
                    continue
                unlock.finish_new(building, path)
                return open_session(path)          # the login dialog, demo account filled in
            if not load_package(building):           # a grid handed out by the office
                continue
            made = _first_admin(lambda u, p, d: _add_admin(building, key, u, p, d), path)
        else:
            made = _first_admin(lambda u, p, d, c=choice: _blank(building, c, u, p, d), path)
        if made is None:
            unlock.discard_new(building)
            return QUIT
        unlock.finish_new(building, path)
        conn = db.open_db(path)
        user = users.load(conn, made[0])
        users.record_login(conn, path, user)
        return Session(conn, user, made[1], None)


def _add_admin(building: Path, key: bytes, username: str, password: str,
               display_name: str | None) -> tuple[str, bytes]:
    conn = db.open_db(building)
    try:
        users.create_first_admin(Context(conn, username), building, username, password,
                                 display_name, key)
    finally:
        conn.close()
    return username, key


def _blank(building: Path, choice, username: str, password: str,
           display_name: str | None) -> tuple[str, bytes]:
    """A blank community with its first administrator (nothing is left if either fails)."""
    unlock.discard_new(building)
    conn, key = unlock.create_database(building)
    try:
        ctx = Context(conn, username)
        users.create_first_admin(ctx, building, username, password, display_name, key)
        community.init_community(ctx, choice.community_name, choice.street_name)
    except BaseException:
        conn.close()
        unlock.discard_new(building)
        raise
    conn.close()
    return username, key
