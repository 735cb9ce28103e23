"""Automatic and manual backups: naming, rotation (7 daily, 4 weekly, 12 monthly), restore.

A backup is `<database stem>-<database id>-YYYYMMDD-HHMMSS.db` in a folder the user chooses
(a USB drive, say), with the key file beside it (`….db.keys`: without it nobody could sign in
to the restored database). The database id (a setting made at the first backup) keeps apart
two databases of the same file name backed up to one stick; rotation only ever deletes this
database's own backups.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import shutil
from db.driver import sqlite3
import uuid
from pathlib import Path

from db import db_path
from db.backup import check_file, copy_database, copy_file
from shequ_desktop import audit, settings
from shequ_desktop.keys import KeyFile
from shequ_desktop.paths import data_dir
from shequ_desktop.progress import Progress, report

KEEP = {"daily": 7, "weekly": 4, "monthly": 12}
_STAMP = "%Y%m%d-%H%M%S"


def default_folder() -> Path:
    return data_dir() / "backups"


def database_id(conn: sqlite3.Connection, *, create: bool = True) -> str | None:
    """Eight hex digits that tell this database (and its restored copies) from others."""
    found = settings.get(conn, "database_id")
    if found is None and create:
        found = uuid.uuid4().hex[:8]
        settings.put(conn, "database_id", found)
    return found


def _keys_of(file: Path) -> Path:
    return KeyFile.path_for(file)


def backups(folder: str | Path, stem: str, db_id: str) -> list[tuple[dt.datetime, Path]]:
    """(time taken, file) of this database's backups in the folder, newest first."""
    folder = Path(folder)
    pattern = re.compile(re.escape(f"{stem}-{db_id}-") + r"(\d{8}-\d{6})\.db$")
    found = []
    if not folder.is_dir():
        return []
    for file in folder.iterdir():
        match = pattern.match(file.name)
        if match:
            try:
                found.append((dt.datetime.strptime(match.group(1), _STAMP), file))
            except ValueError:
                continue
    return sorted(found, reverse=True)


def encrypt_plain_backups(folder: str | Path, stem: str, db_id: str | None, key: bytes,
                          progress: Progress = None) -> list[Path]:
    """After a database was encrypted: its backups taken before (plain copies of every
    resident, often on a USB stick) are encrypted under the same key, each in place and whole.
    Returns those encrypted."""
    from db import encrypt_file, is_encrypted

    if db_id is None:
        return []
    plain = [f for _t, f in backups(folder, stem, db_id) if not is_encrypted(f)]
    for done, file in enumerate(plain):
        report(progress, done, len(plain))
        encrypt_file(file, key)
    report(progress, len(plain), len(plain))
    return plain


def backup_to(conn: sqlite3.Connection, target: str | Path, actor: str, *,
              progress: Progress = None) -> Path:
    """A checked copy of the open database, with its key file, at `target`; recorded.
    `progress` returning False cancels (Cancelled); nothing is then left behind."""
    target = Path(target)
    source = Path(db_path(conn))
    audit.anchor(conn)                  # the backup's key file holds its chain's anchor
    copy_database(conn, target, lambda done, total: report(progress, done, total))
    if _keys_of(source).exists():
        shutil.copy2(_keys_of(source), _keys_of(target))
    audit.record(conn, actor, "backup", summary=f"备份到 {target}")
    return target


def make_backup(conn: sqlite3.Connection, folder: str | Path, actor: str, *,
                now: dt.datetime | None = None, progress: Progress = None) -> Path:
    """This database's backup for now in `folder`, then rotation."""
    now = now or dt.datetime.now()
    stem, db_id = Path(db_path(conn)).stem, database_id(conn)
    target = backup_to(conn, Path(folder) / f"{stem}-{db_id}-{now.strftime(_STAMP)}.db",
                       actor, progress=progress)
    rotate(folder, stem, db_id, now=now)
    return target


def is_due(folder: str | Path, stem: str, db_id: str | None, *,
           now: dt.datetime | None = None) -> bool:
    """At most one automatic backup a day while the program runs (a backup dated in the
    future, from a PC with a wrong clock, does not count)."""
    now = now or dt.datetime.now()
    if db_id is None:
        return True
    taken = [t for t, _f in backups(folder, stem, db_id) if t <= now]
    return not taken or taken[0].date() < now.date()


def rotate(folder: str | Path, stem: str, db_id: str, *,
           now: dt.datetime | None = None) -> list[Path]:
    """Keep the newest backup of each of the last 7 days, 4 weeks and 12 months; delete the
    rest (with their key files). Returns what was deleted."""
    found = backups(folder, stem, db_id)
    keep: set[Path] = set()
    periods = {
        "daily": lambda t: t.date(),
        "weekly": lambda t: t.isocalendar()[:2],
        "monthly": lambda t: (t.year, t.month),
    }
    for kind, period_of in periods.items():
        seen: list = []
        for taken, file in found:                       # newest first
            period = period_of(taken)
            if period not in seen:
                seen.append(period)
                if len(seen) > KEEP[kind]:
                    break
                keep.add(file)
    deleted = []
    for _taken, file in found:
        if file not in keep:
            file.unlink(missing_ok=True)
            _keys_of(file).unlink(missing_ok=True)
            deleted.append(file)
    return deleted


def newest_good(folder: str | Path, stem: str, db_id: str | None) -> Path | None:
    """The newest backup of this database that passes the checks and that this program can
    open (offered when the database is damaged)."""
    if db_id is None:
        return None
    for _taken, file in backups(folder, stem, db_id):
        if check_file(file) is None:
            return file
    return None


def restore(db_file: str | Path, backup_file: str | Path, folder: str | Path,
            actor: str) -> Path:
    """Replace the database (and its key file) by a backup. Everything is checked and copied
    beside the database before anything is replaced; the current database and key file are
    copied to `folder` first (or, when damaged, beside it) — never deleted. Returns where the
    previous database went. Raises before touching anything when the backup is unusable."""
    from db import StorageError, encrypt_file, is_encrypted, key_of, open_db, open_read_only

    db_file, backup_file = Path(db_file), Path(backup_file)
    stamp = dt.datetime.now().strftime(_STAMP)
    incoming = copy_file(backup_file, db_file.with_name(db_file.name + ".restoring"))
    incoming_keys = _keys_of(db_file).with_name(_keys_of(db_file).name + ".restoring")
    damaged = check_file(db_file) is not None
    try:
        if _keys_of(backup_file).exists():
            shutil.copy2(_keys_of(backup_file), incoming_keys)
        if not damaged:
            current = open_read_only(db_file)
            try:
                kept = copy_database(current, Path(folder) / f"{db_file.stem}-恢复前-{stamp}.db")
            finally:
                current.close()
        else:
            kept = db_file.with_name(f"{db_file.name}.damaged-{stamp}")
            if db_file.exists():
                shutil.copy2(db_file, kept)
        if _keys_of(db_file).exists():
            shutil.copy2(_keys_of(db_file), _keys_of(kept))
    except BaseException:
        incoming.unlink(missing_ok=True)
        incoming_keys.unlink(missing_ok=True)
        raise
    # The swap: renames only. The old file's journal or WAL must never be replayed into the
    # restored file: they go beside the kept copy (a damaged file's with its own name, so the
    # copy can still be recovered; a sound file's content is already in its copy).
    try:
        for suffix in ("-wal", "-shm", "-journal"):
            side = db_file.with_name(db_file.name + suffix)
            if side.exists():
                side.replace(kept.with_name(kept.name + ("" if damaged else ".old") + suffix))
        os.replace(incoming, db_file)
        if incoming_keys.exists():
            os.replace(incoming_keys, _keys_of(db_file))
    except OSError as exc:
        incoming.unlink(missing_ok=True)
        incoming_keys.unlink(missing_ok=True)
        raise StorageError(
            f"恢复进行到一半时出错（{exc.strerror or exc}）。恢复前的数据库保存在“{kept}”，"
            "请关闭所有程序后再恢复一次，或把这些文件交给维护人员。") from exc
    key = key_of(db_file)
    if key is not None and not is_encrypted(db_file):   # a backup from before encryption
        encrypt_file(db_file, key)
    conn = open_db(db_file)                 # applies migrations an older backup lacks
    try:
        audit.record(conn, actor, "restore", summary=f"从 {backup_file} 恢复",
                     detail={"backup": str(backup_file), "previous": str(kept)})
        audit.anchor(conn, restored=True)
    finally:
        conn.close()
    return kept
