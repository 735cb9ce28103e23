"""Getting at an encrypted database (issue 4): the key comes from a user's password (through
the key file) or from the recovery key; a new database is born encrypted, and a plain one (made
by an older version, or by `shequ init`) is encrypted in place.

Nothing here knows about Qt: the GUI's dialogs and the command line both call these.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import db
from db.driver import sqlite3
from db.errors import translate
from shequ_desktop.core import audit
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.keys import KeyFile, from_recovery_text, new_db_key
from shequ_desktop.core.progress import Cancelled
from shequ_desktop.security import users


def is_new(db_file: str | os.PathLike) -> bool:
    path = Path(db_file)
    return not path.exists() or path.stat().st_size == 0


def has_key_file(db_file: str | os.PathLike) -> bool:
    return KeyFile.path_for(db_file).exists()


def unlock(db_file: str | os.PathLike, username: str, password: str) -> bytes:
    """The database key for a user's password; from now on the file opens with it."""
    key = KeyFile.load(db_file).unwrap(username.strip(), password)
    db.use_key(db_file, key)
    return key


def check_recovery_key(db_file: str | os.PathLike, text: str) -> bytes:
    """The key written in a recovery text, if it opens this database (else DomainError)."""
    try:
        key = from_recovery_text(text)
    except ValueError as exc:
        raise DomainError(str(exc)) from None
    if db.is_encrypted(db_file):
        conn = sqlite3.connect(os.fspath(db_file))
        try:
            db.encryption.apply_key(conn, key)
            if not db.encryption.opens_with(conn):
                raise DomainError("恢复密钥与这个数据库不符：请核对是否是这个数据库的恢复密钥")
        finally:
            conn.close()
    db.use_key(db_file, key)
    return key


def reset_with_recovery_key(conn: sqlite3.Connection, db_file, key: bytes, username: str,
                            password: str) -> users.User:
    """After check_recovery_key: give an active administrator a new password (the key file is
    made anew if it was lost), and record it in the audit trail."""
    user = users.load(conn, username.strip())
    if user.role != users.ADMIN:
        raise DomainError("只能用恢复密钥为管理员重设密码")
    keyfile = KeyFile.load(db_file) if has_key_file(db_file) else KeyFile.create(db_file)
    keyfile.set_password(user.username, password, key)
    audit.record(conn, user.username, "user", entity="users", entity_id=user.id,
                 summary=f"用恢复密钥重设了“{user.username}”的密码")
    return user


def create_database(db_file: str | os.PathLike) -> tuple[sqlite3.Connection, bytes]:
    """A new, empty, encrypted database under a new key (the caller adds the first
    administrator at once: until then only the returned key opens it)."""
    if not is_new(db_file):
        raise DomainError(f"“{db_file}”已存在，未作修改")
    key = new_db_key()
    db.use_key(db_file, key)
    return db.open_db(db_file), key


def building_name(db_file: str | os.PathLike) -> Path:
    """Where a new database is filled (demo data, a package, its first administrator) before
    it and its key file get their real names: a crash meanwhile leaves the real name free."""
    return Path(f"{os.fspath(db_file)}.new")


def finish_new(building: Path, db_file: str | os.PathLike) -> None:
    """Give a filled new database (all connections closed) and its key file their real names,
    the key file first: the real name never holds a file nobody can open."""
    key = db.key_of(building)
    os.replace(KeyFile.path_for(building), KeyFile.path_for(db_file))
    os.replace(building, db_file)
    if key is not None:
        db.use_key(db_file, key)


def discard_new(building: Path) -> None:
    """A new database that was never finished (left by a cancel or a crash)."""
    for file in (building, Path(f"{building}-wal"), Path(f"{building}-shm"),
                 Path(f"{building}.encrypting"), KeyFile.path_for(building)):
        file.unlink(missing_ok=True)


def encrypt_plain(db_file: str | os.PathLike, key: bytes,
                  progress: Callable[[int, int], bool] | None = None) -> None:
    """Encrypt a plain database in place under `key` (no connection may be open on it).
    `progress(0, 0)` is called now and then; False from it cancels, leaving the file plain."""
    if db.is_encrypted(db_file):
        return
    keep_going = None if progress is None else (lambda: progress(0, 0) is not False)
    try:
        db.encrypt_file(db_file, key, keep_going)
    except sqlite3.OperationalError as exc:
        if "interrupt" in str(exc).lower():
            raise Cancelled() from None
        raise translate(exc, os.fspath(db_file)) from exc


def encrypt_with_first_admin(db_file: str | os.PathLike, username: str, password: str,
                             display_name: str | None = None) -> bytes:
    """A plain database without users (an older version's, or `shequ init`'s): create its
    first administrator under a new key, then encrypt it. Returns the key (the recovery key)."""
    conn = db.open_db(db_file)
    try:
        key = users.create_first_admin(Context(conn, username), db_file, username, password,
                                       display_name)
    finally:
        conn.close()
    encrypt_plain(db_file, key)
    return key


def recovery_pending(db_file: str | os.PathLike) -> bool:
    """Whether the recovery key of this database was never shown (see KeyFile)."""
    try:
        return KeyFile.load(db_file).recovery_pending()
    except DomainError:
        return False


def recovery_shown(db_file: str | os.PathLike) -> None:
    """The recovery key has been shown (printed, or its dialog kept): no more reminders.
    A database still being built (building_name) has its key file there."""
    for candidate in (db_file, building_name(db_file)):
        if has_key_file(candidate):
            try:
                KeyFile.load(candidate).set_recovery_pending(False)
            except DomainError:          # a write-protected folder: shown again next time
                pass
            return


# --- the command line ------------------------------------------------------------------------
NO_TERMINAL = ("数据库已加密，需要密码：请设置环境变量 SHEQU_PASSWORD（多个用户时再设 SHEQU_USER），"
               "或 SHEQU_RECOVERY_KEY，或在终端中运行以输入密码")


def ask(prompt: str, secret: bool) -> str:
    import getpass
    import sys

    if not sys.stdin.isatty():
        raise DomainError(NO_TERMINAL)
    return getpass.getpass(prompt) if secret else input(prompt)


def credentials(db_file, environ=os.environ, ask=ask) -> tuple[str, str]:
    """(user name, password) for a command: SHEQU_USER (else the only user, else asked) and
    SHEQU_PASSWORD (else asked at the terminal)."""
    names = KeyFile.load(db_file).users()
    username = environ.get("SHEQU_USER") or (names[0] if len(names) == 1 else
                                             ask("用户名：", False))
    password = environ.get("SHEQU_PASSWORD") or ask(f"“{username}”的密码：", True)
    return username, password


def unlock_for_command(db_file, environ=os.environ, ask=ask) -> None:
    """Before a command opens an encrypted database: its key from SHEQU_RECOVERY_KEY or from a
    user's password. A plain or new database needs nothing."""
    if not db.is_encrypted(db_file) or db.key_of(db_file) is not None:
        return
    if environ.get("SHEQU_RECOVERY_KEY"):
        check_recovery_key(db_file, environ["SHEQU_RECOVERY_KEY"])
        return
    if not has_key_file(db_file):
        raise DomainError(f"数据库已加密，但找不到密钥文件“{KeyFile.path_for(db_file)}”："
                          "请设置环境变量 SHEQU_RECOVERY_KEY（恢复密钥）")
    unlock(db_file, *credentials(db_file, environ, ask))
