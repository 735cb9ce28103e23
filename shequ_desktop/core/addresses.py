"""One way to write an address: 社区 + 小区 + 楼栋 + 单元 + 房号, the parts that exist.

A street database has a 第1网格 and a 1号楼1单元101 in every community, so an address without
its community and compound names is ambiguous. Search results, the resident table, the details
panel, the household page, ledgers and exports all write addresses through `format_address`.
"""
from __future__ import annotations

from db.driver import sqlite3


def format_address(community: str | None = None, compound: str | None = None,
                   building: str | None = None, unit: str | None = None,
                   room: str | None = None) -> str:
    """'阳光社区 幸福花园 3号楼2单元501'; '' when there is no room (no house)."""
    if not room:
        return ""
    place = "".join(p for p in (building, unit, room) if p)
    return " ".join(p for p in (community, compound, place) if p)


def unit_names(conn: sqlite3.Connection, unit_ids) -> dict[int, dict[str, str]]:
    """For each grid unit id: {level: name} of it and every unit above it (nearest first)."""
    ids = sorted({u for u in unit_ids if u is not None})
    out: dict[int, dict[str, str]] = {u: {} for u in ids}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = conn.execute(f"""
            WITH RECURSIVE up(origin, id, parent_id, level, name, depth) AS (
                SELECT id, id, parent_id, level, name, 0 FROM grid_units
                WHERE id IN ({', '.join('?' * len(chunk))})
                UNION ALL
                SELECT up.origin, g.id, g.parent_id, g.level, g.name, up.depth + 1
                FROM grid_units g JOIN up ON g.id = up.parent_id)
            SELECT origin, level, name FROM up ORDER BY origin, depth""", chunk)
        for origin, level, name in rows:
            out[origin].setdefault(level, name)
    return out


def address_of(names: dict[str, str], room: str | None) -> str:
    """The address of `room` in the unit whose ancestry is `names` (see unit_names)."""
    return format_address(names.get("community"), names.get("compound"),
                          names.get("building"), names.get("unit"), room)


def house_address(conn: sqlite3.Connection, house_id: int | None) -> str:
    """The full address of a house ('' when there is none)."""
    if house_id is None:
        return ""
    row = conn.execute("SELECT unit_id, room_no FROM houses WHERE id = ?",
                       (house_id,)).fetchone()
    if row is None:
        return ""
    return address_of(unit_names(conn, [row[0]])[row[0]], row[1])
