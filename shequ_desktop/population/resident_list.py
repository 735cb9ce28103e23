"""The query behind the resident table: which residents, in what order, shown how.

`ResidentQuery.ids()` returns every matching id in display order (one SQL query, sorted by
SQLite); `ResidentQuery.rows()` returns the display values for a page of those ids. A lazy table
model asks for the ids once and for rows page by page (DESIGN.md §7).
"""
from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, replace
from typing import NamedTuple

from db.driver import sqlite3
from shequ_desktop.core import codes, search, validation
from shequ_desktop.core.access import RESIDENT_IN_SUBTREE, Access, scope
from shequ_desktop.core.addresses import format_address
from shequ_desktop.core.fields import field, fields
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.core.tree import MICROGRID_OF

STATUSES = (ON_RECORD, MOVED_OUT, DECEASED)

# Shown by default, in this order; the rest of the registry follows (for a column chooser).
DEFAULT_COLUMNS = ("name", "gender", "birth_date", "age", "id_number", "phone",
                   "relation_to_head", "residence_type", "address", "grid", "status")
COLUMNS = DEFAULT_COLUMNS + ("community", "compound", "household_no") + tuple(
    f.name for f in fields("residents") if f.name not in DEFAULT_COLUMNS)

_EXTRA = {"address": ("地址", 16), "grid": ("网格", 6), "age": ("年龄", 3),
          "community": ("社区", 7), "compound": ("小区", 7), "household_no": ("户号", 6)}

# Address parts: houses hang on a unit (单元) or directly on a building (楼栋); the grid (网格)
# is at most four levels up (unit → building → compound → grid).
_JOINS = """
    LEFT JOIN households h ON h.id = r.household_id
    LEFT JOIN houses ho ON ho.id = h.house_id
    LEFT JOIN grid_units u1 ON u1.id = ho.unit_id
    LEFT JOIN grid_units u2 ON u2.id = u1.parent_id
"""
_GRID_JOINS = """
    LEFT JOIN grid_units u3 ON u3.id = u2.parent_id
    LEFT JOIN grid_units u4 ON u4.id = u3.parent_id
"""
_BUILDING = ("CASE WHEN u1.level = 'building' THEN u1.name "
             "WHEN u2.level = 'building' THEN u2.name END")
_UNIT = "CASE WHEN u1.level = 'unit' THEN u1.name END"
_GRID = ("CASE 'grid' WHEN u1.level THEN u1.name WHEN u2.level THEN u2.name "
         "WHEN u3.level THEN u3.name WHEN u4.level THEN u4.name END")
_COMMUNITY_JOIN = "LEFT JOIN grid_units u5 ON u5.id = u4.parent_id"
_COMPOUND = ("CASE 'compound' WHEN u1.level THEN u1.name WHEN u2.level THEN u2.name "
             "WHEN u3.level THEN u3.name END")
_COMMUNITY = ("CASE 'community' WHEN u2.level THEN u2.name WHEN u3.level THEN u3.name "
              "WHEN u4.level THEN u4.name WHEN u5.level THEN u5.name END")


def _natural(expr: str) -> list[str]:
    """Numbered names in number order: '3号楼' before '12号楼', room '501' before '1201'."""
    return [f"length({expr})", expr]


# Sort keys per column (whitelist): (SQL expressions, needs address joins, needs grid joins).
# "address" has its own query (ResidentQuery._address_sql).
_ORDER: dict[str, tuple[list[str], bool, bool]] = {
    "id": ([], False, False),
    # Pinyin initials first, so 安 comes before 张 as in a printed roster.
    "name": (["r.name_initials", "r.name"], False, False),
    "age": (["r.birth_date"], False, False),          # direction reversed below
    "address": ([], True, False),
    "community": ([], True, False),
    "compound": ([], True, False),
    "grid": (["ho.id IS NULL", _GRID], True, True),
    "household_no": (["h.household_no IS NULL", "length(h.household_no)", "h.household_no"],
                     True, False),
}
# 社区 and 小区 are parts of the address: sorting by them sorts by address.
_BY_ADDRESS = ("address", "community", "compound")
for _f in fields("residents"):
    _ORDER.setdefault(_f.name, ([f"r.{_f.name}"], False, False))
del _f

# Buildings and units ranked once by natural name order (a few thousand rows), so sorting
# residents by address sorts by one integer and the room number.
_UNIT_RANK = f"""unit_rank(id, k) AS (
    SELECT u1.id, row_number() OVER (ORDER BY {", ".join(_natural(_BUILDING) + _natural(_UNIT))},
                                     u1.id)
    FROM grid_units u1 LEFT JOIN grid_units u2 ON u2.id = u1.parent_id
    WHERE u1.level IN ('building', 'unit') {{within}})
"""


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:            # 29 February
        return day.replace(year=day.year - years, day=28)


def label(column: str) -> str:
    """The Chinese column header."""
    if column in _EXTRA:
        return _EXTRA[column][0]
    return field("residents", column).label


def width(column: str) -> int:
    """Display width in Chinese characters (from the field registry)."""
    if column in _EXTRA:
        return _EXTRA[column][1]
    return field("residents", column).width


def age(birth_date: str | None, death_date: str | None = None,
        today: dt.date | None = None) -> int | None:
    """Age today, or at death; None when the birth date is missing or not a date."""
    try:
        until = dt.date.fromisoformat(death_date) if death_date else today
        return validation.age(birth_date, until)
    except ValueError:
        return None


class _Select(NamedTuple):
    """A query for resident ids: WITH clause, SELECT without ORDER BY, the ORDER BY terms."""
    head: str
    select: str
    order: str
    params: list


@dataclass
class ResidentQuery:
    unit_id: int | None = None        # a grid unit: residents whose house is in its subtree
    statuses: tuple = (ON_RECORD,)        # empty: every status
    order_by: str = "id"
    descending: bool = False
    text: str = ""                    # the search box (search.clause)
    tag_ids: tuple = ()               # in any of these focus groups (active assignment)
    age_min: int | None = None
    age_max: int | None = None
    gender: str | None = None         # GB/T 2261.1 code
    residence_type: str | None = None  # code of the residence_type table
    microgrid_id: int | None = None   # living in this 微网格 (tree.MICROGRID_OF)
    # The signed-in user's: a 网格员 sees only their units (with no unit chosen, all of them;
    # a unit outside them is NotPermitted). None: everyone.
    access: Access | None = None

    def _check(self) -> None:
        if self.order_by not in _ORDER:
            raise ValueError(f"cannot sort residents by {self.order_by!r}")
        unknown = set(self.statuses or ()) - set(STATUSES)
        if unknown:
            raise ValueError(f"unknown resident status {sorted(unknown)}")

    def _scope(self) -> tuple[str, object] | None:
        """(WITH clause defining subtree(id), its parameter), or None for every resident."""
        return scope(self.access, self.unit_id)

    def _where(self, lookup_only: bool = False) -> tuple[str, list]:
        """The WHERE conditions on r: status, then the filters and the search text.

        `lookup_only`: another table drives the query (see search.clause)."""
        plus = "+" if lookup_only else ""
        parts, params = [], []
        if self.statuses:
            # Under a unit the residents are reached through their household: "+" keeps
            # SQLite from walking the status index instead.
            column = "r.status" if self._scope() is None else "+r.status"
            parts.append(f"{column} IN ({', '.join('?' * len(self.statuses))})")
            params += self.statuses
        if self.tag_ids:
            parts.append(f"{plus}r.id IN (SELECT resident_id FROM resident_tags WHERE until IS NULL"
                         f" AND tag_id IN ({', '.join('?' * len(self.tag_ids))}))")
            params += self.tag_ids
        today = dt.date.today()
        if self.age_min is not None:
            parts.append("r.birth_date <= ?")
            params.append(_years_before(today, self.age_min).isoformat())
        if self.age_max is not None:
            parts.append("r.birth_date > ?")
            params.append(_years_before(today, self.age_max + 1).isoformat())
        for column in ("gender", "residence_type"):
            if getattr(self, column) is not None:
                parts.append(f"r.{column} = ?")
                params.append(getattr(self, column))
        if self.microgrid_id is not None:
            parts.append(f"{plus}r.household_id IN (SELECT hh.id FROM households hh JOIN houses ho"
                         " ON ho.id = hh.house_id WHERE "
                         f"{MICROGRID_OF.format(hh='hh', ho='ho')} = ?)")
            params.append(self.microgrid_id)
        if self.text.strip():
            sql, more = search.clause(self.text, lookup_only)
            if sql:
                parts.append(sql)
                params += more
        return " AND ".join(parts) or "1", params

    def _sql(self) -> _Select:
        """The SELECT of matching ids in order (for every order except address)."""
        self._check()
        keys, address_joins, grid_joins = _ORDER[self.order_by]
        head = ""
        source = "residents r" + (_JOINS if address_joins else "")
        where, params = self._where()
        within = self._scope()
        if within is not None:
            head = within[0]
            where += " AND " + RESIDENT_IN_SUBTREE
            params = [within[1], *params]
        if grid_joins:
            source += _GRID_JOINS
        desc = self.descending != (self.order_by == "age")   # older first = earlier birth
        order = ", ".join(f"{k}{' DESC' if desc else ''}" for k in keys)
        tie = " DESC" if self.descending else ""
        order = f"{order}, r.id{tie}" if order else f"r.id{tie}"
        return _Select(head, f"SELECT r.id FROM {source} WHERE {where}", order, params)

    def _address_sql(self) -> list[_Select]:
        """Residents with a house by (building, unit, room); then those without one."""
        self._check()
        where, where_params = self._where(lookup_only=True)    # the houses drive this one
        d = " DESC" if self.descending else ""
        within = self._scope()
        if within is not None:
            head = within[0] + ", " + _UNIT_RANK.format(
                within="AND u1.id IN (SELECT id FROM subtree)")
            params = [within[1]]
        else:
            head = "WITH " + _UNIT_RANK.format(within="")
            params = []
        housed = _Select(
            head, "SELECT r.id FROM unit_rank ur"
                  " CROSS JOIN houses ho ON ho.unit_id = ur.id"
                  " CROSS JOIN households h ON h.house_id = ho.id"
                  f" CROSS JOIN residents r ON r.household_id = h.id WHERE {where}",
            f"ur.k{d}, length(ho.room_no){d}, ho.room_no{d}, r.id{d}", params + where_params)
        if within is not None:
            return [housed]
        where, where_params = self._where()
        homeless = _Select(
            "", "SELECT r.id FROM residents r LEFT JOIN households h ON h.id = r.household_id"
                f" WHERE h.house_id IS NULL AND {where}", f"r.id{d}", where_params)
        return [housed, homeless]

    def ids(self, conn: sqlite3.Connection, limit: int | None = None) -> list[int]:
        """Every matching resident id in display order (or the first `limit` of them)."""
        queries = self._address_sql() if self.order_by in _BY_ADDRESS else [self._sql()]
        out: list[int] = []
        for q in queries:
            cap = "" if limit is None else f" LIMIT {int(limit) - len(out)}"
            # One JSON array parsed in C: about twice as fast as a row per id at 200k rows.
            # (SQLite keeps a subquery's ORDER BY for the aggregate over it; tests hold it.)
            text = conn.execute(f"{q.head} SELECT json_group_array(id) FROM "
                                f"({q.select} ORDER BY {q.order}{cap})", q.params).fetchone()[0]
            out += json.loads(text)
            if limit is not None and len(out) >= limit:
                break
        return out

    def count(self, conn: sqlite3.Connection) -> int:
        """How many residents match (without fetching their ids)."""
        q = replace(self, order_by="id")._sql()
        return conn.execute(f"{q.head} SELECT count(*) FROM ({q.select})",
                            q.params).fetchone()[0]

    @staticmethod
    def rows(conn: sqlite3.Connection, ids: list[int]) -> list[dict]:
        """Display values for `ids`, in that order (ids not found are left out)."""
        return rows(conn, ids)


_CODE_TABLES = {f.name: f.code_table for f in fields("residents") if f.kind == "code"}
_BOOLS = tuple(f.name for f in fields("residents") if f.kind == "bool")
_CHUNK = 500   # stay far below SQLite's limit on bound parameters


def rows(conn: sqlite3.Connection, ids: list[int]) -> list[dict]:
    """Display values for the residents `ids`, in the given order.

    Each dict has every key of COLUMNS plus `id` and `household_id`; code fields hold their
    labels, dates are ISO text, id_number and phone as stored, missing values are None.
    """
    found: dict[int, dict] = {}
    today = dt.date.today()
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start:start + _CHUNK])
        sql = (f"SELECT r.*, {_BUILDING} AS _building, {_UNIT} AS _unit, "
               f"ho.room_no AS _room, {_GRID} AS _grid, {_COMPOUND} AS _compound, "
               f"{_COMMUNITY} AS _community, h.household_no AS _household_no "
               f"FROM residents r {_JOINS} {_GRID_JOINS} {_COMMUNITY_JOIN}"
               f" WHERE r.id IN ({', '.join('?' * len(chunk))})")
        for row in conn.execute(sql, chunk):
            found[row["id"]] = _display(dict(row), today)
    return [found[i] for i in ids if i in found]


def _display(raw: dict, today: dt.date) -> dict:
    out = {"id": raw["id"], "household_id": raw["household_id"]}
    for name in COLUMNS:
        if name in _EXTRA:
            continue
        value = raw.get(name)
        if name in _CODE_TABLES and value is not None:
            value = codes.table(_CODE_TABLES[name]).label(value) or value
        elif name in _BOOLS:
            value = "是" if value else "否"
        out[name] = value
    out["age"] = age(raw["birth_date"], raw["death_date"], today)
    out["address"] = format_address(raw["_community"], raw["_compound"], raw["_building"],
                                    raw["_unit"], raw["_room"])
    out["grid"] = raw["_grid"]
    out["community"] = raw["_community"]
    out["compound"] = raw["_compound"]
    out["household_no"] = raw["_household_no"]
    return out


def household_members(conn: sqlite3.Connection, household_id: int | None,
                      include_inactive: bool = False) -> list[dict]:
    """Members of a household for display: id, name, relation label, status, age.

    The head first, then by relation code and birth date.
    """
    if household_id is None:
        return []
    sql = """SELECT r.id, r.name, r.relation_to_head, r.status, r.birth_date, r.death_date,
                    r.id = h.head_resident_id AS is_head
             FROM residents r JOIN households h ON h.id = r.household_id
             WHERE r.household_id = ?"""
    if not include_inactive:
        sql += f" AND r.status = '{ON_RECORD}'"
    sql += " ORDER BY is_head DESC, r.relation_to_head, r.birth_date, r.id"
    relation = codes.table("relation")
    today = dt.date.today()
    return [{"id": r["id"], "name": r["name"],
             "relation": relation.label(r["relation_to_head"]) or r["relation_to_head"] or "",
             "status": r["status"], "age": age(r["birth_date"], r["death_date"], today),
             "is_head": bool(r["is_head"])}
            for r in conn.execute(sql, (household_id,))]
