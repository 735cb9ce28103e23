"""Copies of a database through SQLite's online backup API, and integrity checks.

Every copy is written to a temporary file beside its target, checked, flushed to disk and only
then renamed into place, so a half-written copy never carries a real name.
"""
from __future__ import annotations

import errno
import os
from db.driver import sqlite3
from pathlib import Path
from typing import Callable

from db import encryption, migrate
from db.connection import APPLICATION_ID, db_path, open_read_only
from db.errors import DiskFullError, NotADatabaseError, StorageError, translate

PAGES_PER_STEP = 2048


def check_file(path: str | os.PathLike, *, full: bool = False) -> str | None:
    """None when the file is a sound database of ours that this program can open, else what
    is wrong (Chinese). `full`: SQLite's complete integrity check and the foreign keys (slow);
    otherwise its quick check (0.28 s at street scale). Never changes the file."""
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        return f"文件“{path}”不存在或是空的。"
    try:
        conn = open_read_only(path)
    except StorageError as exc:
        return str(exc)
    except sqlite3.Error as exc:
        return f"无法打开“{path}”：{exc}"
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != APPLICATION_ID:
            return f"“{path}”不是社区网格工作台的数据库。"
        problems = [row[0] for row in conn.execute(
            f"PRAGMA {'integrity_check' if full else 'quick_check'}(5)")]
        if problems != ["ok"]:
            return f"“{path}”已损坏：{'；'.join(problems)}"
        if full:
            fk = conn.execute("PRAGMA foreign_key_check").fetchone()
            if fk:
                return f"“{path}”的数据不一致：表 {fk[0]} 中有记录引用了不存在的 {fk[2]}。"
        migrate.check_not_newer(conn, str(path))
    except StorageError as exc:
        return str(exc)
    except sqlite3.DatabaseError as exc:
        return f"“{path}”已损坏或不是数据库文件：{exc}"
    finally:
        conn.close()
    return None


def damage(path: str | os.PathLike) -> str | None:
    """What is wrong with an existing database file of ours (its header says so), or None:
    a new, foreign or unreadable file is left to open_db, which explains those. An encrypted
    file is checked with its key (known once the user has signed in)."""
    path = Path(path)
    if encryption.is_encrypted(path):
        return check_file(path) if encryption.key_of(path) is not None else None
    try:
        with open(path, "rb") as handle:
            header = handle.read(100)
    except OSError:
        return None
    if (len(header) < 100 or not header.startswith(b"SQLite format 3\x00")
            or int.from_bytes(header[68:72], "big") != APPLICATION_ID):
        return None
    return check_file(path)


def _write_copy(source: sqlite3.Connection, target: Path,
                progress: Callable[[int, int], None] | None, full_check: bool) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)

    def step(_status, remaining, total):
        if progress is not None:
            progress(total - remaining, total)

    key = encryption.key_of(db_path(source))
    try:
        dest = sqlite3.connect(os.fspath(partial))
        try:
            if key is not None:                 # the copy has the same key as the original
                encryption.apply_key(dest, key)
            source.backup(dest, pages=PAGES_PER_STEP, progress=step)
            dest.execute("PRAGMA journal_mode = DELETE")   # one self-contained file
        finally:
            dest.close()
        problem = check_file(partial, full=full_check)
        if problem:
            raise StorageError(f"复制后的校验未通过：{problem}")
        with open(partial, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, target)
    except sqlite3.Error as exc:
        error = translate(exc, str(target))
        if isinstance(error, DiskFullError):         # the copy's disk, not the database's
            raise DiskFullError(f"“{target}”所在的磁盘空间不足或无法写入，这份副本没有写成；"
                                "数据库本身没有受影响。请换一个位置或清理磁盘后重试。") from exc
        raise error from exc
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise DiskFullError(f"“{target}”所在的磁盘空间不足，这份副本没有写成；"
                                "数据库本身没有受影响。请换一个位置或清理磁盘后重试。") from exc
        raise StorageError(f"无法写入“{target}”：{exc.strerror or exc}") from exc
    finally:
        partial.unlink(missing_ok=True)
    return target


def copy_database(source: sqlite3.Connection, target: str | os.PathLike,
                  progress: Callable[[int, int], None] | None = None) -> Path:
    """Copy an open database to `target` (replaced only once the copy is whole and sound).

    `progress(done_pages, total_pages)` may raise to cancel; the target is then untouched.
    """
    return _write_copy(source, Path(target), progress, full_check=False)


def copy_file(backup: str | os.PathLike, target: str | os.PathLike) -> Path:
    """A sound copy of a database file (a backup being restored) at `target`."""
    problem = check_file(backup, full=True)
    if problem:
        raise NotADatabaseError(f"备份文件不能用于恢复：{problem}")
    source = open_read_only(backup)
    try:
        return _write_copy(source, Path(target), None, full_check=False)
    finally:
        source.close()
