"""Settings kept in the database (shared by every PC using it): JSON values by key
(the `settings` table of m001)."""
from __future__ import annotations

import json
from typing import Any

from db import atomic
from db.driver import sqlite3


def get(conn: sqlite3.Connection, key: str, default: Any = None) -> Any:
    row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
    return default if row is None else json.loads(row[0])


def put(conn: sqlite3.Connection, key: str, value: Any) -> None:
    with atomic(conn):
        conn.execute("INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT(key)"
                     " DO UPDATE SET value = excluded.value",
                     (key, json.dumps(value, ensure_ascii=False)))


SITE_KEY = "sync.site_id"


def site_id(conn: sqlite3.Connection) -> str:
    """This installation's id for the multi-PC exchange: a uuid made on first need."""
    site = get(conn, SITE_KEY)
    if site is None:
        import uuid
        site = uuid.uuid4().hex
        put(conn, SITE_KEY, site)
    return site
