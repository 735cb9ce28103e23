"""Who may change what: roles and grid scope, enforced in the write path (Context), not only
hidden in the GUI.

管理员 may do everything; 只读 may change nothing; a 网格员 may change only records that belong
to the grid units assigned to them (or to units below those), and not the shared lists
(focus-group categories, event categories, users, settings). A record belongs to the unit
found by following its references up to a grid unit (a resident → household → house → unit);
records that belong to no unit (a volunteer activity of the whole community) are the
administrator's.
"""
from __future__ import annotations

from db.driver import sqlite3
from dataclasses import dataclass

from shequ_desktop.errors import DomainError, ReadOnlyError

ADMIN, GRID_WORKER, READ_ONLY = "管理员", "网格员", "只读"
ROLES = (ADMIN, GRID_WORKER, READ_ONLY)

# table -> (column referring up, the table it refers to); grid_units ends the walk
PARENT = {
    "houses": ("unit_id", "grid_units"),
    "households": ("house_id", "houses"),
    "residents": ("household_id", "households"),
    "resident_tags": ("resident_id", "residents"),
    "resident_events": ("resident_id", "residents"),
    "visits": ("resident_id", "residents"),
    "events": ("unit_id", "grid_units"),
    "event_log": ("event_id", "events"),
    "activities": ("unit_id", "grid_units"),
    "service_records": ("activity_id", "activities"),
}
ADMIN_ONLY = {"tags", "event_categories", "users", "settings"}


class NotPermitted(DomainError):
    pass


@dataclass(frozen=True)
class Access:
    role: str
    unit_ids: frozenset[int] = frozenset()    # the units assigned to a 网格员

    def check_table(self, table: str) -> None:
        if self.role == READ_ONLY:
            raise ReadOnlyError("只读用户不能修改数据")
        if self.role == GRID_WORKER and table in ADMIN_ONLY:
            raise NotPermitted("只有管理员可以修改这项设置")

    def check_record(self, conn: sqlite3.Connection, table: str, values: dict) -> None:
        """Refuse a 网格员's change to a record outside their units (values: the record's
        columns, as stored or as about to be stored)."""
        if self.role != GRID_WORKER:
            return
        unit = unit_of(conn, table, values)
        if unit is None:
            if table == "grid_units" or table in PARENT:
                raise NotPermitted("网格员只能修改分配给自己的网格中的数据")
            return                                   # community-wide records (volunteers)
        if not self.unit_ids.intersection(_ancestors(conn, unit)):
            from shequ_desktop.grid import grid_of, unit_name
            raise NotPermitted(f"网格员只能修改分配给自己的网格中的数据"
                               f"（这条记录属于“{unit_name(conn, grid_of(conn, unit) or unit)}”）")


def unit_of(conn: sqlite3.Connection, table: str, values: dict) -> int | None:
    """The grid unit a record belongs to, or None when it belongs to no unit. A grid unit
    belongs to its parent: a 网格员 may add, rename or move buildings below their grid, and
    only there, but not change the grid itself."""
    if table == "grid_units":
        return values.get("parent_id")
    while table in PARENT:
        column, parent = PARENT[table]
        ref = values.get(column)
        if ref is None:
            return None
        if parent == "grid_units":
            return ref
        row = conn.execute(f"SELECT * FROM {parent} WHERE id = ?", (ref,)).fetchone()
        if row is None:
            return None
        table, values = parent, dict(row)
    return None


def _ancestors(conn: sqlite3.Connection, unit_id: int) -> set[int]:
    from shequ_desktop.grid import ancestors
    return set(ancestors(conn, unit_id))
