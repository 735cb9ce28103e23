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
import uuid
from glob import escape as glob_escape
from pathlib import Path
from typing import Callable

from db import (
    StorageError,
    connect,
    db_path,
    encrypt_file,
    encryption,
    is_encrypted,
    key_of,
    open_db,
)
from db.backup import check_file, copy_database, copy_file
from db.driver import sqlite3
from shequ_desktop.core import audit, settings
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.keys import KeyFile
from shequ_desktop.core.paths import data_dir
from shequ_desktop.core.progress import Progress, report

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
    """(time taken, file) of this database's backups in the folder, the last made first: by
    their sequence number (`…-HHMMSS-N.db`, made by make_backup), not by the PC's clock,
    which may be wrong (older backups without a number come before all numbered ones, by
    time)."""
    return [(taken, file) for _seq, taken, file in _numbered(folder, stem, db_id)]


def _numbered(folder: str | Path, stem: str, db_id: str) -> list[tuple[int, dt.datetime, Path]]:
    folder = Path(folder)
    pattern = re.compile(re.escape(f"{stem}-{db_id}-") + r"(\d{8}-\d{6})(?:-(\d+))?\.db$")
    found = []
    if not folder.is_dir():
        return []
    for file in folder.iterdir():
        match = pattern.match(file.name)
        if match:
            try:
                found.append((int(match.group(2) or 0),
                              dt.datetime.strptime(match.group(1), _STAMP), file))
            except ValueError:
                continue
    return sorted(found, reverse=True)


def encrypt_plain_backups(folder: str | Path, stem: str, db_id: str | None, key: bytes,
                          progress: Progress = None) -> list[Path]:
    """After a database was encrypted: its backups taken before (plain copies of every
    resident, often on a USB stick) are encrypted under the same key, each in place and whole.
    Returns those encrypted."""

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
    made = _numbered(folder, stem, db_id)
    seq = (made[0][0] if made else 0) + 1                 # the order they were made in
    if Path(folder).is_dir():                             # copies cut off by a kill
        for left in Path(folder).glob(f"{glob_escape(stem)}-{db_id}-*.db.partial"):
            left.unlink(missing_ok=True)
    target = backup_to(conn, Path(folder) / f"{stem}-{db_id}-{now.strftime(_STAMP)}-{seq}.db",
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
    """Keep the last made backup of each of the last 7 days, 4 weeks and 12 months (days by
    the date in their names, taken in the order they were made: a PC whose clock is behind
    its newest backup does not rotate its new backups away); delete the rest (with their key
    files). Returns what was deleted."""
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


BUSY = ("另一个程序（或本程序的另一个窗口）正打开着数据库“{0}”：请先关闭它，再从备份恢复。"
        "未作任何修改")


def restore(db_file: str | Path, backup_file: str | Path, folder: str | Path,
            actor: str, *, on_step: Callable[[str], None] | None = None) -> Path:
    """Replace the database (and its key file) by a backup. Everything is checked and copied
    beside the database before anything is replaced; the current database and key file are
    copied to `folder` first (or, when damaged, beside it) — never deleted. Returns where the
    previous database went. Raises before touching anything when the backup is unusable.

    A sound database is held exclusively from the start: refused (StorageError) while another
    program has it open — its later edits would land in no database — and its WAL folded into
    the file, so no step leaves a committed transaction only in a file set aside. A kill at
    any step leaves the current database whole (or the backup whole in its place, the
    current one kept). The backup's key file is checked before anything is replaced.
    `on_step(name)` is called at each step (the crash tests kill there)."""

    step = on_step or (lambda _name: None)
    db_file, backup_file = Path(db_file), Path(backup_file)
    stamp = dt.datetime.now().strftime(_STAMP)
    damaged = check_file(db_file) is not None
    incoming_keys = _keys_of(db_file).with_name(_keys_of(db_file).name + ".restoring")
    new_keys = _backup_keys(db_file, backup_file)           # before anything is replaced
    incoming = copy_file(backup_file, db_file.with_name(db_file.name + ".restoring"))
    step("copied")
    try:
        hold = None if damaged else _hold(db_file)
    except BaseException:
        incoming.unlink(missing_ok=True)
        raise
    try:
        step("held")
        try:
            if new_keys is not None:
                shutil.copy2(new_keys, incoming_keys)
            if not damaged:
                kept = copy_database(hold, Path(folder) / f"{db_file.stem}-恢复前-{stamp}.db")
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
        step("kept")
        # The swap: renames only. A damaged file's journal or WAL goes beside its copy (it may
        # still be recovered from there); a held sound file has none left (folded in).
        try:
            for suffix in ("-wal", "-shm", "-journal"):
                side = db_file.with_name(db_file.name + suffix)
                if side.exists():
                    side.replace(kept.with_name(kept.name + ("" if damaged else ".old") + suffix))
            step("aside")
            if incoming_keys.exists():
                os.replace(incoming_keys, _keys_of(db_file))
            step("keys")
            if hold is not None and os.name == "nt":   # Windows renames no open file
                hold.close()
            os.replace(incoming, db_file)
        except OSError as exc:
            incoming.unlink(missing_ok=True)
            incoming_keys.unlink(missing_ok=True)
            raise StorageError(
                f"恢复进行到一半时出错（{exc.strerror or exc}）。恢复前的数据库保存在“{kept}”，"
                "请关闭所有程序后再恢复一次，或把这些文件交给维护人员。") from exc
        step("swapped")
    finally:
        if hold is not None:
            hold.close()
    key = key_of(db_file)
    if key is not None and not is_encrypted(db_file):   # a backup from before encryption
        encrypt_file(db_file, key)
    step("encrypted")
    conn = open_db(db_file)                 # applies migrations an older backup lacks
    try:
        audit.record(conn, actor, "restore", summary=f"从 {backup_file} 恢复",
                     detail={"backup": str(backup_file), "previous": str(kept)})
        audit.anchor(conn, restored=True)
    finally:
        conn.close()
    step("recorded")
    return kept


def _hold(db_file: Path) -> sqlite3.Connection:
    """A connection holding the database exclusively, its WAL folded into the file (other
    programs are refused meanwhile); StorageError when another one has it open."""

    hold = connect(db_file, busy_timeout_ms=2000)
    try:
        mode = hold.execute("PRAGMA journal_mode = DELETE").fetchone()[0]
        hold.execute("PRAGMA locking_mode = EXCLUSIVE")
        hold.execute("BEGIN EXCLUSIVE")
        hold.execute("COMMIT")
        if str(mode).lower() != "delete":
            raise sqlite3.OperationalError("database is locked")
    except sqlite3.OperationalError as exc:
        hold.close()
        if "locked" in str(exc) or "busy" in str(exc):
            raise StorageError(BUSY.format(db_file)) from None
        raise
    except BaseException:
        hold.close()
        raise
    return hold


def _backup_keys(db_file: Path, backup_file: Path) -> Path | None:
    """The backup's key file, if it is to replace the current one; checked first. None keeps
    the current key file (the backup has none, or a damaged one while the current key file
    opens the backup). StorageError when nothing could sign in to the restored database."""

    theirs = _keys_of(backup_file)
    if not theirs.exists():
        return None
    try:
        KeyFile.load(backup_file)
        return theirs
    except DomainError as exc:
        problem = str(exc)
    key = key_of(db_file)
    if not is_encrypted(backup_file):
        return None
    if key is not None and _keyfile_present(db_file) and _opens_with(backup_file, key):
        return None                            # the current key file opens it: kept
    raise StorageError(f"备份的密钥文件已损坏（{problem}），恢复后将无法登录。未作任何修改")


def _keyfile_present(db_file: Path) -> bool:
    try:
        KeyFile.load(db_file)
        return True
    except Exception:                          # noqa: BLE001 - missing or damaged
        return False


def _opens_with(file: Path, key: bytes) -> bool:

    conn = sqlite3.connect(os.fspath(file))
    try:
        encryption.apply_key(conn, key)
        return encryption.opens_with(conn)
    finally:
        conn.close()
