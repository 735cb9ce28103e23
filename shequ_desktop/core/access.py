"""Who may change what: roles and grid scope, enforced in the write path (Context), not only
hidden in the GUI.

管理员 may do everything; 只读 may change nothing; a 网格员 may change only records that belong
to the grid units assigned to them (or to units below those), and not the shared lists
(focus-group categories, event categories, users, settings). A record belongs to the unit
found by following its references up to a grid unit (a resident → household → house → unit);
records that belong to no unit (a volunteer activity of the whole community) are the
administrator's.

Reads are scoped too: a 网格员 reads only what belongs to their units' subtrees (`readable`,
worked out once when Context.access is set at sign-in). `scope()` gives the resident lists,
the search and the figures the units to cover; Context.get refuses a record outside them.
Volunteers and teams are read by their places (PLACES): a volunteer of another grid (by team
and home) is refused; one with neither place is community-wide.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, replace

from db.driver import sqlite3
from shequ_desktop.core.errors import DomainError, ReadOnlyError
from shequ_desktop.core.tree import SUBTREE_SQL, Places, ancestors, grid_of, unit_name

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
    "services": ("resident_id", "residents"),
    "microgrids": ("grid_id", "grid_units"),
    "microgrid_households": ("microgrid_id", "microgrids"),
    "meetings": ("unit_id", "grid_units"),
    "meeting_participants": ("meeting_id", "meetings"),
    "meeting_items": ("meeting_id", "meetings"),
    "meeting_attachments": ("meeting_id", "meetings"),
    "checkups": ("unit_id", "grid_units"),
    "checkup_results": ("checkup_id", "checkups"),
    "checkup_findings": ("checkup_id", "checkups"),
    "checkup_photos": ("checkup_id", "checkups"),
    "site_plans": ("unit_id", "grid_units"),
    "site_plan_buildings": ("plan_id", "site_plans"),
}
ADMIN_ONLY = {"tags", "event_categories", "users", "settings"}
# Records placed by more than one reference, for reads (check_read): the units of a volunteer
# (their team's unit, then their home — the rule of volunteers.IN_SCOPE, which the register
# uses) and of a team (its unit). A record with no unit at all is community-wide.
PLACES = {
    "volunteers": """SELECT (SELECT t.unit_id FROM volunteer_teams t WHERE t.id = :team_id),
        (SELECT ho.unit_id FROM residents r JOIN households h ON h.id = r.household_id
         JOIN houses ho ON ho.id = h.house_id WHERE r.id = :resident_id)""",
    "volunteer_teams": "SELECT :unit_id",
}


OUTSIDE = "网格员只能查看分配给自己的网格中的数据"
# A 网格员's units and every unit below them, as the `subtree(id)` a SUBTREE_SQL query
# defines (one parameter: their unit ids as a JSON array). Read from the tree as it is now.
READ_SCOPE_SQL = """
    WITH RECURSIVE subtree(id) AS (
        SELECT value FROM json_each(?)
        UNION SELECT g.id FROM grid_units g JOIN subtree s ON g.parent_id = s.id)
"""
# Residents (r) of the subtree, reached through its houses' households (their indexes).
RESIDENT_IN_SUBTREE = ("r.household_id IN (SELECT h.id FROM subtree s"
                       " CROSS JOIN houses ho ON ho.unit_id = s.id"
                       " CROSS JOIN households h ON h.house_id = ho.id)")


class NotPermitted(DomainError):
    pass


@dataclass(frozen=True)
class Access:
    role: str
    unit_ids: frozenset[int] = frozenset()    # the units assigned to a 网格员
    # What a 网格员 may read (with_read_scope): their units and every unit below them, and
    # the units above them (whose names they may see, not their contents).
    readable: frozenset[int] | None = None
    above: frozenset[int] = frozenset()

    @property
    def restricted(self) -> bool:
        """Reads are limited to the user's units (a 网格员)."""
        return self.role == GRID_WORKER

    def with_read_scope(self, conn: sqlite3.Connection) -> Access:
        """This access with `readable` and `above` worked out (one query for each)."""
        if not self.restricted or self.readable is not None:
            return self
        roots = json.dumps(sorted(self.unit_ids))
        below = conn.execute(READ_SCOPE_SQL + "SELECT id FROM subtree JOIN grid_units USING (id)",
                             (roots,)).fetchall()
        up = conn.execute("""
            WITH RECURSIVE up(id) AS (
                SELECT g.parent_id FROM json_each(?) x JOIN grid_units g ON g.id = x.value
                UNION SELECT g.parent_id FROM grid_units g JOIN up u ON g.id = u.id)
            SELECT id FROM up WHERE id IS NOT NULL""", (roots,)).fetchall()
        readable = frozenset(r[0] for r in below)
        return replace(self, readable=readable,
                       above=frozenset(r[0] for r in up) - readable)

    def roots(self, conn: sqlite3.Connection) -> list[int]:
        """The user's units that are not below another of them, in tree order."""

        order = Places(conn).order
        return sorted((u for u in self.unit_ids
                       if u in order and not self._below_another(conn, u)),
                      key=order.__getitem__)

    def _below_another(self, conn: sqlite3.Connection, unit_id: int) -> bool:
        return bool((self.unit_ids - {unit_id}).intersection(_ancestors(conn, unit_id)))

    def may_read(self, unit_id: int | None) -> bool:
        """The unit is within what the user may read (always, unless a 网格员)."""
        if not self.restricted:
            return True
        if self.readable is None:
            raise ValueError("call with_read_scope(conn) first (setting Context.access does)")
        return unit_id in self.readable

    def check_read_unit(self, unit_id: int) -> None:
        """Refuse a 网格员 a unit outside their units' subtrees."""
        if not self.may_read(unit_id):
            raise NotPermitted(OUTSIDE)

    def check_read(self, conn: sqlite3.Connection, table: str, values: dict) -> None:
        """Refuse a 网格员 a record outside their units (values: the record's columns)."""
        if not self.restricted:
            return
        if table == "grid_units":
            if values.get("id") not in self.above:
                self.check_read_unit(values.get("id"))
            return
        if table in PLACES:
            self._check_read_places(conn, table, values)
            return
        unit = unit_of(conn, table, values)
        if unit is None:
            if table in PARENT:
                raise NotPermitted(OUTSIDE)
            return                                   # community-wide records
        try:
            self.check_read_unit(unit)
        except NotPermitted:
            raise _outside(conn, unit, "查看") from None

    def _check_read_places(self, conn: sqlite3.Connection, table: str, values: dict) -> None:
        """A volunteer or a team (PLACES): readable when one of its places is the 网格员's, or
        when it has none (community-wide); a team also when its unit is above theirs."""
        if table == "volunteer_teams" and values.get("unit_id") in self.above:
            return
        refs = {k: values.get(k) for k in ("team_id", "resident_id", "unit_id")}
        units = [u for u in conn.execute(PLACES[table], refs).fetchone() if u is not None]
        if units and not any(u in self.readable for u in units):
            raise _outside(conn, units[-1], "查看")

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
            raise _outside(conn, unit, "修改")


def is_admin(access: Access | None) -> bool:
    """Every right: no sign-in (a database without users) or an administrator. Backups,
    restores and users are theirs alone (a backup is the whole database)."""
    return access is None or access.role == ADMIN


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


def _outside(conn: sqlite3.Connection, unit: int, verb: str) -> NotPermitted:
    return NotPermitted(f"网格员只能{verb}分配给自己的网格中的数据"
                        f"（这条记录属于“{unit_name(conn, grid_of(conn, unit) or unit)}”）")


def _ancestors(conn: sqlite3.Connection, unit_id: int) -> set[int]:
    return set(ancestors(conn, unit_id))


def scope(access: Access | None, unit_id: int | None) -> tuple[str, object] | None:
    """What a list or a figure covers: (a WITH clause defining `subtree(id)`, its one
    parameter), or None for the whole database. A chosen unit is its subtree (NotPermitted
    for a 网格员 when it is outside theirs); no unit is everything, or a 网格员's own units."""
    if unit_id is not None:
        if access is not None:
            access.check_read_unit(unit_id)
        return SUBTREE_SQL, unit_id
    if access is not None and access.restricted:
        return READ_SCOPE_SQL, json.dumps(sorted(access.unit_ids))
    return None


def named_scope(access: Access | None, unit_id: int | None,
                name: str = "unit") -> tuple[str, dict]:
    """scope() for queries with named parameters: (WITH clause defining `subtree(id)` with
    `:name`, {name: its value}), or ("", {}) for the whole database."""
    within = scope(access, unit_id)
    if within is None:
        return "", {}
    return within[0].replace("?", f":{name}", 1), {name: within[1]}
