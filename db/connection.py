"""The one place connections are made; an encrypted file is opened with its key here
(db/encryption.py), so nothing else needs to know whether a database is encrypted."""
from __future__ import annotations

import contextlib
import os
from db.driver import sqlite3
import stat
from pathlib import Path

from db import encryption, migrate
from db.errors import (
    EncryptedDatabaseError,
    NotADatabaseError,
    ReadOnlyDatabaseError,
    StorageError,
    translate,
)

APPLICATION_ID = 0x53514454  # "SQDT": marks files written by this program
BUSY_TIMEOUT_MS = 5000


def connect(path: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """A raw connection with the pragmas every connection needs; no migrations.

    Transactions are explicit (`atomic`), so the driver's implicit ones are off.
    """
    conn = _keyed(path, lambda: sqlite3.connect(os.fspath(path), isolation_level=None,
                                                timeout=busy_timeout_ms / 1000))
    conn.row_factory = sqlite3.Row
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        conn.execute("PRAGMA foreign_keys = ON")
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, os.fspath(path)) from exc
    return conn


_READ_ONLY: set[str] = set()


def mark_read_only(path: str | os.PathLike) -> None:
    """From now on this process opens the file read-only (a damaged database: every open_db,
    the background workers' included, gives a connection that cannot write)."""
    _READ_ONLY.add(os.path.realpath(path))


def open_db(path: str | os.PathLike, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """Open (or create) a database, check it is ours and not newer, apply pending migrations.

    Raises a StorageError subclass with a Chinese message; on error nothing in the file changes.
    """
    if os.path.realpath(path) in _READ_ONLY:
        return open_read_only(path)
    path = Path(path)
    shown = str(path)
    if path.is_dir():
        raise NotADatabaseError(f"“{shown}”是一个文件夹，不是数据库文件。")
    exists = path.exists() and path.stat().st_size > 0
    if exists and (not os.access(path, os.W_OK) or not path.stat().st_mode & stat.S_IWUSR):
        raise ReadOnlyDatabaseError(
            f"数据库文件“{shown}”是只读的，无法打开进行编辑。请检查文件属性或权限。")
    if not exists and not os.access(path.parent if str(path.parent) else ".", os.W_OK):
        raise ReadOnlyDatabaseError(f"无法在“{path.parent}”中创建数据库文件：没有写入权限。")
    conn = connect(path, busy_timeout_ms=busy_timeout_ms)
    try:
        _check_ours(conn, shown)
        migrate.check_not_newer(conn, shown)
        if conn.execute("PRAGMA journal_mode").fetchone()[0].lower() != "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        if migrate.pending(conn):
            migrate.apply(conn)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'").fetchone():
            analyze(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise translate(exc, shown) from exc
    except StorageError:
        conn.close()
        raise
    return conn


def open_read_only(path: str | os.PathLike) -> sqlite3.Connection:
    """A damaged database, for looking only: no migrations, no pragmas that write."""
    uri = f"{Path(path).resolve().as_uri()}?mode=ro"
    try:
        conn = _keyed(path, lambda: sqlite3.connect(uri, uri=True, isolation_level=None))
    except sqlite3.Error as exc:
        raise translate(exc, os.fspath(path)) from exc
    conn.row_factory = sqlite3.Row
    return conn


def _keyed(path, open_raw) -> sqlite3.Connection:
    """A connection from `open_raw()`, unlocked with the file's key when it is encrypted (or
    new and given a key). Raises EncryptedDatabaseError when no known key opens it."""
    keys = encryption.candidate_keys(path)
    if not keys:
        if encryption.is_encrypted(path):
            raise EncryptedDatabaseError(
                f"数据库“{path}”已加密，需要登录（输入密码或恢复密钥）后才能打开。")
        return open_raw()
    for key in keys:
        conn = open_raw()
        encryption.apply_key(conn, key)
        if encryption.opens_with(conn):
            encryption.use_key(path, key)
            return conn
        conn.close()
    raise EncryptedDatabaseError(
        f"无法解密数据库“{path}”：密钥不对。它可能是另一个数据库的文件，或已损坏。")


def db_path(conn: sqlite3.Connection) -> str:
    """The file a connection is on (a worker thread opens its own connection to it)."""
    return conn.execute("PRAGMA database_list").fetchone()[2]


def analyze(conn: sqlite3.Connection) -> None:
    """Table statistics for the query planner. Without them SQLite walks the status index
    (nearly every resident is 在册) instead of a selective one: 45 ms instead of 5 ms for an
    address search at street scale. 0.1 s for a street; run after bulk loads."""
    conn.execute("ANALYZE")


def _check_ours(conn: sqlite3.Connection, shown: str) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    if app_id == APPLICATION_ID:
        return
    has_tables = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    if app_id != 0 or has_tables:
        raise NotADatabaseError(
            f"“{shown}”是其他程序的数据库，不是社区网格工作台的数据库，未作任何修改。")


@contextlib.contextmanager
def atomic(conn: sqlite3.Connection):
    """One logical change: all of it or none of it. Nested blocks become savepoints."""
    if conn.in_transaction:
        name = f"sp_{id(object()):x}"
        conn.execute(f"SAVEPOINT {name}")
        try:
            yield conn
        except BaseException:
            if conn.in_transaction:
                conn.execute(f"ROLLBACK TO {name}")
                conn.execute(f"RELEASE {name}")
            raise
        conn.execute(f"RELEASE {name}")
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.Error as exc:
        raise translate(exc) from exc
    try:
        yield conn
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise translate(exc) from exc
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise translate(exc) from exc
