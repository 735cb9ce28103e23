"""Schema migrations with sqlite-utils `Migrations`, imported only when something is pending.

Migration functions live in db/schema.py, in order, and are never edited once released.
"""
from __future__ import annotations

from db.driver import sqlite3

from db.errors import NewerDatabaseError
from db.schema import MIGRATIONS

SET_NAME = "shequ"
TABLE = "_sqlite_migrations"


def known() -> list[str]:
    return [fn.__name__ for fn in MIGRATIONS]


def applied(conn: sqlite3.Connection) -> list[str]:
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?",
                        (TABLE,)).fetchone():
        return []
    return [r[0] for r in conn.execute(
        f"SELECT name FROM {TABLE} WHERE migration_set = ? ORDER BY rowid", (SET_NAME,))]


def pending(conn: sqlite3.Connection) -> list[str]:
    done = set(applied(conn))
    return [name for name in known() if name not in done]


def check_not_newer(conn: sqlite3.Connection, shown: str = "") -> None:
    unknown = [name for name in applied(conn) if name not in set(known())]
    if unknown:
        raise NewerDatabaseError(
            f"数据库“{shown}”由更新版本的社区网格工作台写入（包含本程序不认识的结构：{unknown[-1]}），"
            "为避免损坏数据，本程序不会打开它。请升级程序后再打开。")


def apply(conn: sqlite3.Connection) -> list[str]:
    """Apply every pending migration in one transaction: all of them, or none."""
    from sqlite_utils import Database, Migrations

    todo = pending(conn)
    migrations = Migrations(SET_NAME)
    for fn in MIGRATIONS:
        migrations()(fn)
    db = Database(conn)
    with db.atomic():
        migrations.apply(db)
    return todo
