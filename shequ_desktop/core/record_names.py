"""What a person calls a record: 居民 王芳, not 居民 1808 (the audit log, history lists)."""
from __future__ import annotations

from db.driver import sqlite3

# entity -> the SQL expression naming one of its rows
_NAME = {"residents": "name", "volunteers": "name", "users": "coalesce(display_name, username)",
         "households": "coalesce(household_no, '#' || id)", "grid_units": "name",
         "houses": "room_no", "volunteer_teams": "name", "activities": "title",
         "tags": "name"}


def names(conn: sqlite3.Connection, records) -> dict[tuple[str, int], str]:
    """{(entity, id): name} for the (entity, id) pairs that still exist and have a name."""
    wanted: dict[str, set[int]] = {}
    for entity, record_id in records:
        if entity in _NAME and record_id is not None:
            wanted.setdefault(entity, set()).add(record_id)
    out: dict[tuple[str, int], str] = {}
    for entity, ids in wanted.items():
        ids_ = sorted(ids)
        for start in range(0, len(ids_), 500):
            chunk = ids_[start:start + 500]
            try:
                rows = conn.execute(f"SELECT id, {_NAME[entity]} FROM {entity} WHERE id IN "
                                    f"({', '.join('?' * len(chunk))})", chunk).fetchall()
            except sqlite3.OperationalError:      # a table this database does not have yet
                break
            out.update({(entity, r[0]): r[1] for r in rows if r[1]})
    return out


def person_of_login(conn: sqlite3.Connection, username: str | None) -> str:
    """The signed-in user's name as a person (display name), else the login name."""
    if not username:
        return ""
    try:
        row = conn.execute("SELECT display_name FROM users WHERE username = ?",
                           (username,)).fetchone()
    except sqlite3.OperationalError:
        row = None
    return (row[0] if row and row[0] else None) or username
