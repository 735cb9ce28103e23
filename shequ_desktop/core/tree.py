"""The grid hierarchy read, never written: levels, ancestors, subtrees, names and the
tree order of every unit (`Places`). Roles, scope, search and every feature read the tree
through here; the unit services that change it are shequ_desktop.places.grid."""
from __future__ import annotations

from typing import NamedTuple

from db.driver import sqlite3
from shequ_desktop.core.addresses import format_address
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.pinyin import sort_key as name_key
from shequ_desktop.core.statuses import ON_RECORD

LEVELS = ("street", "community", "grid", "compound", "building", "unit")
LEVEL_LABELS = {"street": "街道", "community": "社区", "grid": "网格", "compound": "小区/院落",
                "building": "楼栋", "unit": "单元"}
ROOT_LEVELS = ("street", "community")
HOUSE_LEVELS = ("building", "unit")   # houses hang on a unit, or on a building without units


def ancestors(conn: sqlite3.Connection, unit_id: int) -> list[int]:
    """The unit itself and every unit above it, nearest first."""
    rows = conn.execute("""
        WITH RECURSIVE up(id, parent_id, depth) AS (
            SELECT id, parent_id, 0 FROM grid_units WHERE id = ?
            UNION ALL
            SELECT g.id, g.parent_id, up.depth + 1 FROM grid_units g JOIN up ON g.id = up.parent_id)
        SELECT id FROM up ORDER BY depth""", (unit_id,)).fetchall()
    return [r[0] for r in rows]


def unit_by_code(conn: sqlite3.Connection, code: str | None) -> int | None:
    """The id of the unit with this code, or else this name (None for None); the command
    line's --unit. DomainError when there is none."""
    if code is None:
        return None
    row = conn.execute("SELECT id FROM grid_units WHERE code = ? OR (code IS NULL AND name = ?)"
                       " ORDER BY code IS NULL LIMIT 1", (code, code)).fetchone()
    if row is None:
        raise DomainError(f"没有编码或名称为“{code}”的网格单元")
    return row[0]


def unit_name(conn: sqlite3.Connection, unit_id: int | None) -> str:
    """A unit's name ('' for None or a unit that is gone)."""
    row = conn.execute("SELECT name FROM grid_units WHERE id = ?", (unit_id,)).fetchone()
    return row[0] if row else ""


def grid_of(conn: sqlite3.Connection, unit_id: int) -> int | None:
    """The 网格 a unit belongs to (itself when it is one), or None above grid level."""
    ids = ancestors(conn, unit_id)
    levels = dict(conn.execute(
        f"SELECT id, level FROM grid_units WHERE id IN ({','.join('?' * len(ids))})", ids))
    return next((uid for uid in ids if levels[uid] == "grid"), None)


def path_names(conn: sqlite3.Connection, unit_id: int) -> list[str]:
    """Names from the top down to the unit, e.g. ['幸福街道', '阳光社区', '第一网格']."""
    ids = ancestors(conn, unit_id)
    names = dict(conn.execute(
        f"SELECT id, name FROM grid_units WHERE id IN ({','.join('?' * len(ids))})", ids))
    return [names[i] for i in reversed(ids)]


SUBTREE_SQL = """
    WITH RECURSIVE subtree(id) AS (
        SELECT ? UNION ALL SELECT g.id FROM grid_units g JOIN subtree s ON g.parent_id = s.id)
"""


def descendants(conn: sqlite3.Connection, unit_id: int) -> list[int]:
    """The unit and every unit below it."""
    return [r[0] for r in conn.execute(SUBTREE_SQL + "SELECT id FROM subtree", (unit_id,))]


_UNIT_KEYS = ("id", "parent_id", "level", "code", "name", "sort")
TOP_LEVELS = ("street", "community", "grid")   # what a tree shows before any grid is opened


def _unit_rows(conn: sqlite3.Connection, sql: str, params=()) -> list[dict]:
    cur = conn.cursor()
    cur.row_factory = None    # plain tuples: a street has thousands of units
    return [dict(zip(_UNIT_KEYS, r)) for r in cur.execute(sql, params)]


def all_units(conn: sqlite3.Connection, levels: tuple[str, ...] = LEVELS) -> list[dict]:
    """Units of the given levels, siblings in their order (for building a tree)."""
    return _unit_rows(conn, f"""
        SELECT {', '.join(_UNIT_KEYS)} FROM grid_units
        WHERE level IN ({', '.join('?' * len(levels))}) ORDER BY parent_id, sort, id""", levels)


def subtree_units(conn: sqlite3.Connection, unit_id: int) -> list[dict]:
    """Every unit below `unit_id` (not itself), siblings in their order."""
    return _unit_rows(conn, SUBTREE_SQL + f"""
        SELECT {', '.join('g.' + k for k in _UNIT_KEYS)} FROM subtree s
        JOIN grid_units g ON g.id = s.id WHERE g.id <> ? ORDER BY g.parent_id, g.sort, g.id""",
                      (unit_id, unit_id))


def unit_counts(conn: sqlite3.Connection) -> dict[int, tuple[int, int]]:
    """Active households and residents under every unit (its whole subtree): {id: (户, 人)}.

    One aggregate over the houses (about 0.1 s for a street), then summed up the tree.
    """
    counts: dict[int, list[int]] = {}
    for unit_id, households, residents in conn.execute(f"""
            SELECT ho.unit_id, count(*),
                   sum((SELECT count(*) FROM residents r
                        WHERE r.household_id = h.id AND r.status = '{ON_RECORD}'))
            FROM households h JOIN houses ho ON ho.id = h.house_id
            WHERE h.status = '{ON_RECORD}' GROUP BY ho.unit_id"""):
        counts[unit_id] = [households, residents or 0]
    parent = dict(conn.execute("SELECT id, parent_id FROM grid_units"))
    totals: dict[int, list[int]] = {uid: [0, 0] for uid in parent}
    for unit_id, (households, residents) in counts.items():
        node = unit_id
        while node is not None:
            totals[node][0] += households
            totals[node][1] += residents
            node = parent.get(node)
    return {uid: (h, r) for uid, (h, r) in totals.items()}


def child_levels(level: str | None) -> list[str]:
    """Levels a new unit may have under a unit of `level` (None: at the top)."""
    if level is None:
        return list(ROOT_LEVELS)
    return list(LEVELS[LEVELS.index(level) + 1:])


def chooser_order(units: list[dict]) -> list[tuple[dict, int]]:
    """Units as a chooser offers them, with each one's depth: depth first, siblings in the
    natural order of their names (第2网格 before 第10网格, Chinese by pinyin). A unit whose
    parent is not among `units` starts a tree of its own at depth 0."""
    listed = {u["id"] for u in units}
    children: dict[int | None, list[dict]] = {}
    for u in units:
        children.setdefault(u["parent_id"] if u["parent_id"] in listed else None, []).append(u)
    out: list[tuple[dict, int]] = []

    def add(parent: int | None, depth: int) -> None:
        for u in sorted(children.get(parent, ()), key=lambda u: (name_key(u["name"]), u["id"])):
            out.append((u, depth))
            add(u["id"], depth + 1)

    add(None, 0)
    return out


def path_key(path: str) -> tuple:
    """Sort key of a unit path 「阳光社区 / 第2网格」: part by part, in natural order."""
    return tuple(name_key(part) for part in path.split(" / "))


def move_targets(conn: sqlite3.Connection, unit_id: int) -> list[tuple[int, str]]:
    """Where a unit may be moved: (id, "社区 / 网格 / 小区") of every unit of a higher level
    outside its own subtree, in tree order."""
    units = {u["id"]: u for u in all_units(conn)}
    level = LEVELS.index(units[unit_id]["level"])
    own = set(descendants(conn, unit_id))

    def path(uid: int) -> str:
        names = []
        while uid is not None:
            names.append(units[uid]["name"])
            uid = units[uid]["parent_id"]
        return " / ".join(reversed(names))

    return sorted(((uid, path(uid)) for uid, u in units.items()
                   if LEVELS.index(u["level"]) < level and uid not in own
                   and uid != units[unit_id]["parent_id"]), key=lambda t: path_key(t[1]))


class GridTitle(NamedTuple):
    """A ledger's group heading by grid: '阳光社区 第1网格' (grids repeat across communities)."""
    community: str
    grid: str

    def __str__(self) -> str:
        return f"{self.community} {self.grid}".strip()


class Places:
    """Every grid unit read once (a street has a few thousand): the tree order, and for a
    unit houses hang on its community, grid, building and address prefix."""

    def __init__(self, conn: sqlite3.Connection):
        cur = conn.cursor()
        cur.row_factory = None
        rows = cur.execute("SELECT id, parent_id, level, name, sort FROM grid_units"
                           " ORDER BY parent_id, sort, id").fetchall()
        self.units = {r[0]: r[1:4] for r in rows}
        children: dict[int | None, list[int]] = {}
        for uid, parent, *_rest in rows:
            children.setdefault(parent, []).append(uid)
        self.order: dict[int, int] = {}
        stack = list(reversed(children.get(None, [])))
        while stack:                         # depth first, siblings in their order
            uid = stack.pop()
            self.order[uid] = len(self.order)
            stack.extend(reversed(children.get(uid, [])))
        self._cache: dict[int, tuple] = {}

    def of(self, unit_id: int | None) -> tuple[str, str, int | None, str, str]:
        """(community, grid, building id, building label, address prefix) for houses on
        `unit_id`, e.g. ('阳光社区', '第1网格', 17, '幸福花园 3号楼', '阳光社区 幸福花园 3号楼1单元')."""
        if unit_id not in self.units:
            return "", "", None, "", ""
        found = self._cache.get(unit_id)
        if found is None:
            names, building, node = {}, None, unit_id
            while node is not None and node in self.units:
                parent, level, name = self.units[node]
                if level == "building":
                    building = node
                names.setdefault(level, name)
                node = parent
            prefix = format_address(names.get("community"), names.get("compound"),
                                    names.get("building"), names.get("unit"), "\0")[:-1]
            label = (names.get("compound", "") + " " + names["building"]).strip() \
                if building else ""
            found = self._cache[unit_id] = (names.get("community", ""), names.get("grid", ""),
                                            building, label, prefix)
        return found

    def address(self, unit_id: int | None, room: str | None) -> str:
        """The full address (addresses.format_address) of `room` in `unit_id`."""
        return self.of(unit_id)[4] + room if room else ""

    def grid_title(self, unit_id: int | None) -> GridTitle | None:
        """The community and grid a unit lies in; None outside any grid."""
        community, grid_name = self.of(unit_id)[:2]
        return GridTitle(community, grid_name) if grid_name else None

    def grid_key(self, unit_id: int | None) -> tuple[int, str]:
        """(tree order of the grid, its name): groups by grid come in tree order."""
        node = unit_id
        while node is not None and node in self.units:
            parent, level, name = self.units[node]
            if level == "grid":
                return self.order[node], name
            node = parent
        return -1, ""

    def scope(self, unit_id: int | None) -> list[tuple[str, str]]:
        """The title block's (label, value) pairs for a unit (None: the whole database)."""
        if unit_id is None:
            communities = [name for _parent, level, name in self.units.values()
                           if level == "community"]
            value = "、".join(communities) if 0 < len(communities) <= 3 else "全部"
            return [("社区", value), ("网格", "全部")]
        chain, node = {}, unit_id
        while node is not None and node in self.units:
            parent, level, name = self.units[node]
            chain.setdefault(level, name)
            node = parent
        level = self.units[unit_id][1]
        out = []
        if level == "street":
            out.append(("街道", chain["street"]))
        out.append(("社区", chain.get("community", "全部")))
        out.append(("网格", chain.get("grid", "全部")))
        if level in ("compound", "building", "unit"):
            place = format_address(None, chain.get("compound"), chain.get("building"),
                                   chain.get("unit"), "\0")[:-1].strip()
            out.append((LEVEL_LABELS[level], place or chain[level]))
        return out


# The micro-grid (微网格, shequ_desktop.community.microgrids) a household lies in: its own choice,
# else the micro-grid of its unit, else of its building; `hh` is the households alias joined to
# its house `ho`. Here, below both, so the resident list can filter by it.
MICROGRID_OF = """coalesce(
    (SELECT mh.microgrid_id FROM microgrid_households mh WHERE mh.household_id = {hh}.id),
    (SELECT m.id FROM microgrids m WHERE m.unit_id = {ho}.unit_id ORDER BY m.id LIMIT 1),
    (SELECT m.id FROM microgrids m JOIN grid_units u ON u.parent_id = m.unit_id
     WHERE u.id = {ho}.unit_id ORDER BY m.id LIMIT 1))"""
