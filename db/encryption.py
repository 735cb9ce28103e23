"""Encryption at rest: which key opens which database file, and turning a plain file into an
encrypted one (SQLCipher 4, AES-256 with an HMAC on every page).

Keys are 32 random bytes given to SQLCipher raw (`x'…'`), so opening costs no key derivation:
the slow part (scrypt on a password) happens once, at sign-in, in shequ_desktop/core/keys.py.

The process remembers the key of every file it has opened (`use_key`). A file it has no key
for (a backup of the same database, a restored copy) is tried with the keys it knows.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from db.driver import sqlite3

PLAIN_HEADER = b"SQLite format 3\x00"
KEY_BYTES = 32

_KEYS: dict[str, bytes] = {}


def _real(path: str | os.PathLike) -> str:
    return os.path.realpath(os.fspath(path))


def use_key(path: str | os.PathLike, key: bytes) -> None:
    """Open `path` with `key` from now on (also a file not created yet: it is born encrypted)."""
    if len(key) != KEY_BYTES:
        raise ValueError("database key must be 32 bytes")
    _KEYS[_real(path)] = key


def key_of(path: str | os.PathLike) -> bytes | None:
    return _KEYS.get(_real(path))


def forget_keys() -> None:
    _KEYS.clear()


def is_encrypted(path: str | os.PathLike) -> bool:
    """True for a file that looks like an encrypted database: no plain SQLite header, and
    whole pages (a size in multiples of 512 bytes; a text or spreadsheet file rarely is)."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(PLAIN_HEADER))
        size = os.path.getsize(path)
    except OSError:
        return False
    return header != PLAIN_HEADER and size >= 1024 and size % 512 == 0


def candidate_keys(path: str | os.PathLike) -> list[bytes]:
    """Keys to try on `path`, its own first. Empty for a plain file, or for a new file nobody
    registered a key for (it is created plain)."""
    own = key_of(path)
    if not is_encrypted(path):
        return [own] if own is not None and not _has_content(path) else []
    others = [k for k in _KEYS.values() if k != own]
    return ([own] if own is not None else []) + others


def _has_content(path: str | os.PathLike) -> bool:
    try:
        return os.path.getsize(path) > 0
    except OSError:
        return False


def apply_key(conn: sqlite3.Connection, key: bytes) -> None:
    """Must be the first statement on a connection. SQLCipher's own log is switched off
    first: it would print every failed page check (a wrong key) on stderr."""
    conn.execute("PRAGMA cipher_log_level = NONE")
    conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")


def opens_with(conn: sqlite3.Connection) -> bool:
    """Whether the key just applied (or none) lets this connection read the file."""
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        return True
    except sqlite3.DatabaseError:
        return False


def _check_copy(partial: Path, key: bytes) -> None:
    check = sqlite3.connect(os.fspath(partial))
    try:
        apply_key(check, key)
        result = check.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        check.close()
    if result != "ok":
        raise sqlite3.DatabaseError(f"encrypted copy failed its check: {result}")
    with open(partial, "rb+") as handle:
        os.fsync(handle.fileno())


def encrypt_file(path: str | os.PathLike, key: bytes,
                 keep_going: Callable[[], bool] | None = None) -> None:
    """Replace the plain database at `path` by an encrypted copy under `key`.

    It holds the file exclusively while it works (another program waits, or gets "locked"):
    the copy is written beside it, checked, flushed and renamed over the original in one step,
    so a crash leaves either the plain file or the encrypted one, never a mixture.
    `keep_going()` is asked now and then; False stops the work (sqlite3.OperationalError
    "interrupted") and leaves the plain file as it was. (The old plaintext blocks stay in the
    disk's free space until overwritten; the file system cannot be asked to wipe them.)"""
    path = Path(path)
    partial = path.with_name(path.name + ".encrypting")
    partial.unlink(missing_ok=True)
    conn = sqlite3.connect(os.fspath(path), isolation_level=None, timeout=5)
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute("PRAGMA journal_mode = DELETE")      # folds the WAL in, removes it
        # Another program that opens the file meanwhile waits until the copy has replaced it
        # (its writes would otherwise go to the plain file that is about to disappear).
        conn.execute("PRAGMA locking_mode = EXCLUSIVE")
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
        conn.execute("ATTACH DATABASE ? AS encrypted KEY ?", (os.fspath(partial),
                                                              f"x'{key.hex()}'"))
        if keep_going is not None:
            conn.set_progress_handler(lambda: 0 if keep_going() else 1, 5_000)
        conn.execute("SELECT sqlcipher_export('encrypted')")
        conn.set_progress_handler(None, 0)
        for pragma in ("user_version", "application_id"):      # not copied by the export
            value = conn.execute(f"PRAGMA main.{pragma}").fetchone()[0]
            conn.execute(f"PRAGMA encrypted.{pragma} = {int(value)}")
        conn.execute("DETACH DATABASE encrypted")
        _check_copy(partial, key)
        conn.close()                      # Windows renames no open file
        os.replace(partial, path)
    except BaseException:
        conn.close()
        partial.unlink(missing_ok=True)
        raise
    use_key(path, key)
