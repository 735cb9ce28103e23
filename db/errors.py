"""Storage errors with a message a user can act on, in Chinese."""
from db.driver import sqlite3


class StorageError(Exception):
    """A problem with the database file; str() is the message for the user."""


class NotADatabaseError(StorageError):
    pass


class EncryptedDatabaseError(StorageError):
    """Encrypted, and no key this program knows opens it."""


class NewerDatabaseError(StorageError):
    pass


class ReadOnlyDatabaseError(StorageError):
    pass


class DatabaseLockedError(StorageError):
    pass


class DiskFullError(StorageError):
    pass


def translate(exc: sqlite3.Error, path: str = "") -> Exception:
    """Map a sqlite3 error to a StorageError when it is one a user can do something about."""
    text = str(exc).lower()
    where = f"（{path}）" if path else ""
    if "database is locked" in text or "database table is locked" in text:
        return DatabaseLockedError(
            f"数据库文件正被其他程序或另一个窗口占用{where}，请关闭后重试。")
    if "disk is full" in text or "disk i/o error" in text:
        return DiskFullError(
            f"磁盘空间不足或无法写入{where}，本次修改未保存。请清理磁盘后重试。")
    if "readonly" in text or "read-only" in text:
        return ReadOnlyDatabaseError(
            f"数据库文件是只读的{where}，无法保存修改。请检查文件属性或权限。")
    if "not a database" in text or "malformed" in text or "file is encrypted" in text:
        return NotADatabaseError(
            f"该文件不是有效的数据库，或已损坏{where}。")
    return exc
