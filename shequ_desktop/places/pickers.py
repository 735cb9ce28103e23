"""Queries behind the small pickers of the household view: find a household to move a
resident into, find a house to move a household to, and which part of the grid to look in.
"""
from __future__ import annotations

from db.driver import sqlite3
from shequ_desktop.core.addresses import address_of, unit_names
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import SUBTREE_SQL

# Where a house is: its unit (or building without units), the building, a compound above it.
_PLACE = """
    JOIN grid_units u ON u.id = ho.unit_id
    LEFT JOIN grid_units b ON b.id = u.parent_id AND u.level = 'unit'
    LEFT JOIN grid_units c ON c.id = coalesce(b.parent_id, u.parent_id) AND c.level = 'compound'
"""
_PLACE_COLUMNS = """ho.unit_id, c.name AS compound, coalesce(b.name, u.name) AS building,
    CASE WHEN u.level = 'unit' THEN u.name END AS unit, ho.room_no, ho.floor"""
# Compounds in their tree order, then natural order: '3号楼' before '12号楼', '501' before '1201'.
_PLACE_ORDER = """c.sort, c.id, length(coalesce(b.name, u.name)),
    coalesce(b.name, u.name), length(u.name), u.name, length(ho.room_no), ho.room_no"""


def _with_addresses(conn: sqlite3.Connection, rows: list) -> list[tuple]:
    """(row, full address) for rows with unit_id and room_no."""
    names = unit_names(conn, [r["unit_id"] for r in rows])
    return [(r, address_of(names[r["unit_id"]], r["room_no"])) for r in rows]


def _ancestor_of_level(conn: sqlite3.Connection, unit_id: int, level: str) -> int | None:
    row = conn.execute("""
        WITH RECURSIVE up(id, parent_id, level) AS (
            SELECT id, parent_id, level FROM grid_units WHERE id = ?
            UNION ALL
            SELECT g.id, g.parent_id, g.level FROM grid_units g JOIN up ON g.id = up.parent_id)
        SELECT id FROM up WHERE level = ? LIMIT 1""", (unit_id, level)).fetchone()
    return row[0] if row else None


def house_scope(conn: sqlite3.Connection, house_id: int | None, level: str) -> int | None:
    """The unit of `level` ('building', 'grid', 'community' …) the house lies in, or None."""
    if house_id is None:
        return None
    row = conn.execute("SELECT unit_id FROM houses WHERE id = ?", (house_id,)).fetchone()
    return _ancestor_of_level(conn, row[0], level) if row else None


def household_scope(conn: sqlite3.Connection, household_id: int, level: str) -> int | None:
    """The unit of `level` the household's house lies in; None when it has no house."""
    row = conn.execute("SELECT house_id FROM households WHERE id = ?",
                       (household_id,)).fetchone()
    return house_scope(conn, row[0], level) if row else None


def find_households(conn: sqlite3.Connection, scope_unit_id: int | None, text: str = "",
                    exclude_id: int | None = None, limit: int = 100) -> list[dict]:
    """Active households under `scope_unit_id` (None: everywhere) whose 户号 contains `text`,
    whose head's name contains it, or whose head's pinyin initials start with it.

    Each: {id, household_no, head_name, members, address}, in address order.
    """
    text = " ".join(str(text or "").split())
    where = ["h.status = ?"]
    params: list = [ON_RECORD]
    if text:
        where.append("(instr(h.household_no, ?) > 0 OR instr(hd.name, ?) > 0"
                     " OR hd.name_initials GLOB ?)")
        glob = text.lower() + "*" if text.isascii() and text.isalpha() else None
        params += [text, text, glob]
    if exclude_id is not None:
        where.append("h.id <> ?")
        params.append(exclude_id)
    head = ""
    source = "households h JOIN houses ho ON ho.id = h.house_id"
    if scope_unit_id is not None:
        head = SUBTREE_SQL
        source = ("subtree s CROSS JOIN houses ho ON ho.unit_id = s.id"
                  " CROSS JOIN households h ON h.house_id = ho.id")
        params = [scope_unit_id, *params]
    sql = f"""{head}
        SELECT h.id, h.household_no, hd.name AS head_name,
               (SELECT count(*) FROM residents r WHERE r.household_id = h.id
                AND r.status = '{ON_RECORD}') AS members, {_PLACE_COLUMNS}
        FROM {source} {_PLACE}
        LEFT JOIN residents hd ON hd.id = h.head_resident_id
        WHERE {' AND '.join(where)}
        ORDER BY {_PLACE_ORDER}, h.id LIMIT {int(limit)}"""
    return [{"id": r["id"], "household_no": r["household_no"], "head_name": r["head_name"],
             "members": r["members"], "address": address}
            for r, address in _with_addresses(conn, conn.execute(sql, params).fetchall())]


def list_houses(conn: sqlite3.Connection, scope_unit_id: int, *, only_empty: bool = False,
                exclude_id: int | None = None) -> list[dict]:
    """Houses under a building or grid: {id, address, floor, usage, households, head_name}.

    `households` counts the active households living there; `only_empty` keeps rooms with none.
    """
    params: list = [scope_unit_id]
    where = "1"
    if exclude_id is not None:
        where += " AND ho.id <> ?"
        params.append(exclude_id)
    having = "HAVING count(h.id) = 0" if only_empty else ""
    sql = f"""{SUBTREE_SQL}
        SELECT ho.id, ho.usage, count(h.id) AS households, min(hd.name) AS head_name,
               {_PLACE_COLUMNS}
        FROM subtree s CROSS JOIN houses ho ON ho.unit_id = s.id {_PLACE}
        LEFT JOIN households h ON h.house_id = ho.id AND h.status = '{ON_RECORD}'
        LEFT JOIN residents hd ON hd.id = h.head_resident_id
        WHERE {where}
        GROUP BY ho.id {having}
        ORDER BY {_PLACE_ORDER}"""
    return [{"id": r["id"], "address": address, "floor": r["floor"],
             "usage": r["usage"], "households": r["households"], "head_name": r["head_name"]}
            for r, address in _with_addresses(conn, conn.execute(sql, params).fetchall())]


def households_of_residents(conn: sqlite3.Connection, resident_ids) -> set[int]:
    """The households these residents belong to (for a view deciding whether a change
    concerns it)."""
    ids = [i for i in set(resident_ids) if i is not None]
    out: set[int] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        out.update(r[0] for r in conn.execute(
            f"SELECT DISTINCT household_id FROM residents WHERE id IN ({marks})"
            " AND household_id IS NOT NULL", chunk))
    return out
