"""What an imported register had beyond our fields (issue 15): residents.extras, a JSON object
column label -> text. The details panel shows it; an export of a person can carry it."""
from __future__ import annotations

import json

from db.driver import sqlite3

CHECKING = "待核对"            # the note an import leaves when it chose a household head


def parse(text: str | None) -> dict[str, str]:
    """The extras of a stored value ({} for none or for text that is not a JSON object)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def of_resident(conn: sqlite3.Connection, resident_id: int) -> dict[str, str]:
    row = conn.execute("SELECT extras FROM residents WHERE id = ?", (resident_id,)).fetchone()
    return parse(row[0]) if row else {}


def labels(conn: sqlite3.Connection, resident_ids: list[int] | None = None) -> list[str]:
    """Every extras label of these residents (all when None), most common first: the extra
    columns an export of them would add."""
    sql = ("SELECT j.key, count(*) FROM residents r, json_each(r.extras) j "
           "WHERE r.extras IS NOT NULL")
    args: list = []
    if resident_ids is not None:
        sql += f" AND r.id IN ({','.join('?' * len(resident_ids))})"
        args = list(resident_ids)
    sql += " GROUP BY j.key ORDER BY count(*) DESC, min(r.id), min(j.id)"
    return [k for k, _n in conn.execute(sql, args)]
