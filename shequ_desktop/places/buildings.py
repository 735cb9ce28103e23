"""The building view (楼栋图, "以房管人"): a building's floors × rooms, each with its household."""
from __future__ import annotations

from dataclasses import dataclass, field

from db.driver import sqlite3
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import ON_RECORD


@dataclass
class Cell:
    house_id: int
    unit: str               # unit name ("" when the building has no units)
    room_no: str
    floor: int | None
    usage: str
    household_id: int | None = None
    head_name: str | None = None
    members: int = 0
    focus: list[str] = field(default_factory=list)   # focus-group tags of any member


@dataclass
class BuildingMap:
    building_id: int
    name: str
    floors: list[int]                     # top floor first, as the building is drawn
    columns: list[tuple[str, str]]        # (unit, room suffix) in drawing order
    cells: dict[tuple[int, str, str], Cell]   # (floor, unit, suffix) -> cell

    def cell(self, floor: int, column: tuple[str, str]) -> Cell | None:
        return self.cells.get((floor, *column))


def _suffix(room_no: str, floor: int | None) -> str:
    """'501' on floor 5 -> '01': the position on the floor, so rooms line up in columns."""
    if floor is not None and room_no.startswith(str(floor)) and len(room_no) > len(str(floor)):
        return room_no[len(str(floor)):]
    return room_no


def building_map(conn: sqlite3.Connection, building_id: int) -> BuildingMap:
    b = conn.execute("SELECT id, name, level FROM grid_units WHERE id = ?",
                     (building_id,)).fetchone()
    if b is None or b["level"] != "building":
        raise DomainError("请选择一栋楼")
    rows = conn.execute(f"""
        SELECT ho.id, CASE WHEN u.level = 'unit' THEN u.name ELSE '' END AS unit, u.sort,
               ho.room_no, ho.floor, ho.usage, h.id AS household_id, hd.name AS head_name,
               (SELECT count(*) FROM residents r WHERE r.household_id = h.id
                AND r.status = '{ON_RECORD}') AS members,
               (SELECT group_concat(DISTINCT t.name) FROM residents r
                JOIN resident_tags rt ON rt.resident_id = r.id AND rt.until IS NULL
                JOIN tags t ON t.id = rt.tag_id
                WHERE r.household_id = h.id AND r.status = '{ON_RECORD}') AS focus
        FROM houses ho JOIN grid_units u ON u.id = ho.unit_id
        LEFT JOIN households h ON h.house_id = ho.id AND h.status = '{ON_RECORD}'
        LEFT JOIN residents hd ON hd.id = h.head_resident_id
        WHERE u.id = ? OR u.parent_id = ?
        ORDER BY u.sort, u.id, ho.floor, ho.room_no""", (building_id, building_id)).fetchall()
    cells: dict[tuple[int, str, str], Cell] = {}
    columns: list[tuple[str, str]] = []
    for r in rows:
        floor = r["floor"] if r["floor"] is not None else 0
        column = (r["unit"], _suffix(r["room_no"], r["floor"]))
        if column not in columns:
            columns.append(column)
        key = (floor, *column)
        if key in cells:   # a second active household in one room: show the first, count all
            cells[key].members += r["members"]
            continue
        cells[key] = Cell(r["id"], r["unit"], r["room_no"], r["floor"], r["usage"],
                          r["household_id"], r["head_name"], r["members"],
                          sorted(set((r["focus"] or "").split(",")) - {""}))
    unit_order = {unit: i for i, unit in enumerate(dict.fromkeys(c[0] for c in columns))}
    columns.sort(key=lambda c: (unit_order[c[0]], c[1]))
    floors = sorted({k[0] for k in cells}, reverse=True)
    return BuildingMap(building_id, b["name"], floors, columns, cells)
