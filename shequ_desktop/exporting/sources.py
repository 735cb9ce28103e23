"""What an export can list: one source per kind of record, each a SELECT plus the columns a
template may name (key → label, kind). Templates (resources/export_templates/*.json) pick and
order these columns; adding a template needs no code.

Kinds: text, code:<table>, id (ID number: masked, written as text), phone (masked, text),
bool (是/否), number.
"""
from __future__ import annotations

from db.driver import sqlite3
from dataclasses import dataclass
from typing import Callable, Iterator

from shequ_desktop import codes, grid, volunteers
from shequ_desktop.addresses import format_address
from shequ_desktop.errors import DomainError
from shequ_desktop.fields import HOUSEHOLD_FIELDS, RESIDENT_FIELDS, VOLUNTEER_FIELDS


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"


def _registry_columns(fields) -> list[Column]:
    kinds = {"id_number": "id", "phone": "phone", "bool": "bool", "int": "number",
             "float": "number"}
    return [Column(f.name, f.label, f"code:{f.code_table}" if f.code_table
                   else kinds.get(f.kind, "text")) for f in fields]


PLACE_COLUMNS = [Column("address", "现住址"), Column("community", "所属社区"),
                 Column("grid", "所属网格"), Column("compound", "小区"),
                 Column("building", "楼栋"), Column("unit", "单元"), Column("room", "房号")]
_PLACE_SQL = """ho.room_no AS _room, u.name AS _u_name, u.level AS _u_level, u.id AS _u_id,
    b.name AS _b_name, b.level AS _b_level, b.id AS _b_id"""
_PLACE_JOINS = """LEFT JOIN houses ho ON ho.id = h.house_id
    LEFT JOIN grid_units u ON u.id = ho.unit_id
    LEFT JOIN grid_units b ON b.id = u.parent_id"""
_UNIT_FILTER = "ho.unit_id IN (SELECT id FROM subtree)"


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    columns: tuple[Column, ...]
    select: str                     # SELECT … with named result columns, {where} placeholder
    place: bool = False             # derive address/community/grid from the _place columns
    requires: str | None = None     # a table that must exist
    filter: str = _UNIT_FILTER

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


_RESIDENT_SELECT = f"""
    SELECT r.*, r.uuid AS resident_key, h.uuid AS household_key, h.household_no,
           hd.name AS head_name, h.notes AS _h_notes, {_PLACE_SQL}
    FROM residents r
    LEFT JOIN households h ON h.id = r.household_id
    LEFT JOIN residents hd ON hd.id = h.head_resident_id
    {_PLACE_JOINS}
    WHERE r.status = '在册' {{where}}
    ORDER BY h.id, r.relation_to_head = '02' DESC, r.id"""

_HOUSEHOLD_SELECT = f"""
    SELECT h.*, h.uuid AS household_key, hd.name AS head_name, hd.id_number AS head_id_number,
           hd.phone AS head_phone, h.notes AS _h_notes,
           (SELECT count(*) FROM residents m WHERE m.household_id = h.id
            AND m.status = '在册') AS members, {_PLACE_SQL}
    FROM households h
    LEFT JOIN residents hd ON hd.id = h.head_resident_id
    {_PLACE_JOINS}
    WHERE h.status = '在册' {{where}}
    ORDER BY h.id"""

_PERSON = [Column("name", "姓名"), Column("id_number", "身份证号", "id"),
           Column("phone", "联系电话", "phone")]

SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("residents", "居民",
           (*_registry_columns(RESIDENT_FIELDS), Column("household_no", "户号"),
            Column("household_key", "户标识"), Column("resident_key", "人员标识"),
            Column("head_name", "户主姓名"), *PLACE_COLUMNS),
           _RESIDENT_SELECT, place=True),
    Source("households", "户",
           (*_registry_columns(HOUSEHOLD_FIELDS), Column("household_key", "户标识"),
            Column("head_name", "户主姓名"), Column("head_id_number", "户主身份证号", "id"),
            Column("head_phone", "户主联系电话", "phone"), Column("members", "在册人数", "number"),
            *PLACE_COLUMNS),
           _HOUSEHOLD_SELECT, place=True),
    Source("focus", "重点人群",
           (Column("tag", "重点人群类别"), Column("since", "纳入日期"),
            Column("visit_interval_days", "走访周期(天)", "number"), *_PERSON,
            Column("gender", "性别", "code:gender"), Column("birth_date", "出生日期"),
            Column("last_visit", "最近走访日期"), Column("notes", "备注"), *PLACE_COLUMNS),
           f"""SELECT t.name AS tag, rt.since, t.visit_interval_days, r.name, r.id_number,
                      r.phone, r.gender, r.birth_date, rt.notes, h.notes AS _h_notes,
                      (SELECT max(v.visited_on) FROM visits v
                       WHERE v.resident_id = r.id) AS last_visit, {_PLACE_SQL}
               FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
               JOIN residents r ON r.id = rt.resident_id
               LEFT JOIN households h ON h.id = r.household_id {_PLACE_JOINS}
               WHERE rt.until IS NULL AND r.status = '在册' {{where}}
               ORDER BY t.sort, r.id""", place=True),
    Source("visits", "走访记录",
           (Column("visited_on", "走访日期"), *_PERSON, Column("method", "走访方式"),
            Column("visitor", "走访人"), Column("findings", "走访情况"),
            Column("follow_up", "需要跟进", "bool"), Column("follow_up_note", "跟进事项"),
            *PLACE_COLUMNS),
           f"""SELECT v.*, r.name, r.id_number, r.phone, h.notes AS _h_notes, {_PLACE_SQL}
               FROM visits v JOIN residents r ON r.id = v.resident_id
               LEFT JOIN households h ON h.id = r.household_id {_PLACE_JOINS}
               WHERE 1 {{where}} ORDER BY v.visited_on, v.id""", place=True),
    Source("events", "事件",
           (Column("found_at", "发现时间"), Column("category", "事件类别"),
            Column("description", "事件描述"), Column("location", "发生地点"),
            Column("unit_name", "所属网格单元"), Column("reporter", "上报人"),
            Column("status", "状态"), Column("accepted_at", "受理时间"),
            Column("deadline", "办理期限"), Column("resolution", "办理结果"),
            Column("closed_at", "办结时间"), Column("resident_name", "涉及居民")),
           """SELECT e.*, c.name AS category, g.name AS unit_name, r.name AS resident_name
              FROM events e JOIN event_categories c ON c.id = e.category_id
              JOIN grid_units g ON g.id = e.unit_id
              LEFT JOIN residents r ON r.id = e.resident_id
              WHERE 1 {where} ORDER BY e.found_at, e.id""",
           filter="e.unit_id IN (SELECT id FROM subtree)"),
    Source("volunteers", "志愿者",
           (*_registry_columns(VOLUNTEER_FIELDS), Column("team", "所属队伍"),
            Column("hours", "累计服务时长(小时)", "number"),
            Column("balance", "积分余额", "number")),
           """SELECT v.*, t.name AS team,
                (SELECT coalesce(sum(s.hours), 0) FROM service_records s
                 WHERE s.volunteer_id = v.id) AS hours,
                (SELECT coalesce(sum(s.points), 0) FROM service_records s
                 WHERE s.volunteer_id = v.id)
                + (SELECT coalesce(sum(a.points), 0) FROM point_adjustments a
                   WHERE a.volunteer_id = v.id)
                - (SELECT coalesce(sum(p.points), 0) FROM point_redemptions p
                   WHERE p.volunteer_id = v.id) AS balance
              FROM volunteers v LEFT JOIN volunteer_teams t ON t.id = v.team_id
              WHERE 1 {where} ORDER BY v.id""",
           requires="volunteers", filter=volunteers.IN_SCOPE),
    Source("service_hours", "服务时长",
           (Column("starts_at", "活动开始"), Column("ends_at", "活动结束"),
            Column("title", "活动名称"), Column("category", "活动类别"), *_PERSON,
            Column("hours", "服务时长(小时)", "number"), Column("points", "积分", "number"),
            Column("notes", "备注")),
           """SELECT a.starts_at, a.ends_at, a.title, a.category, v.name, v.id_number,
                     v.phone, s.hours, s.points, s.notes
              FROM service_records s JOIN activities a ON a.id = s.activity_id
              JOIN volunteers v ON v.id = s.volunteer_id
              WHERE 1 {where} ORDER BY a.starts_at, s.id""",
           requires="service_records", filter="a.unit_id IN (SELECT id FROM subtree)"),
)}


def _query(conn: sqlite3.Connection, source: Source,
           within: tuple[str, object] | None) -> tuple[str, str, tuple]:
    """(WITH prefix, SELECT, parameters): the source's rows, within the scope (access.scope:
    a WITH clause defining `subtree`, its parameter; None for the whole database)."""
    if source.requires and not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (source.requires,)).fetchone():
        raise DomainError(f"数据库中还没有{source.title}数据（请先升级程序）")
    if within is None:
        return "", source.select.format(where=""), ()
    return within[0], source.select.format(where=f"AND {source.filter}"), (within[1],)


def count(conn: sqlite3.Connection, source: Source,
          within: tuple[str, object] | None) -> int:
    prefix, select, params = _query(conn, source, within)
    return conn.execute(f"{prefix}SELECT count(*) FROM ({select})", params).fetchone()[0]


def rows(conn: sqlite3.Connection, source: Source, keys: list[str],
         within: tuple[str, object] | None) -> Iterator[list]:
    """The source's records as lists of raw values in the order of `keys`."""
    prefix, select, params = _query(conn, source, within)
    sql = prefix + select
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    index = {n: i for i, n in enumerate(names)}
    place = _Places(conn) if source.place else None
    derived = {k for k in keys if k not in index}
    for k in derived:
        if not (source.place and k in {c.key for c in PLACE_COLUMNS}):
            raise KeyError(k)
    picks = [index.get(k) for k in keys]
    for record in cur:
        out = [record[i] if i is not None else None for i in picks]
        if derived:
            where = place.of(record, index)
            for n, k in enumerate(keys):
                if picks[n] is None:
                    out[n] = where[k]
        yield out


class _Places:
    """Address and community/grid names of a house, from its unit and building rows."""

    def __init__(self, conn: sqlite3.Connection):
        units = {u["id"]: u for u in grid.all_units(conn)}
        self.units = units
        self._above: dict[int, dict] = {}

    def _ancestry(self, unit_id: int | None) -> dict:
        if unit_id is None:
            return {}
        if unit_id not in self._above:
            found, node = {}, self.units.get(unit_id)
            while node is not None:
                found.setdefault(node["level"], node["name"])
                node = self.units.get(node["parent_id"])
            self._above[unit_id] = found
        return self._above[unit_id]

    def of(self, record, index: dict[str, int]) -> dict[str, str]:
        room = record[index["_room"]]
        if room is None:
            from shequ_desktop.importing.plan import address_from_notes
            text = address_from_notes(record[index["_h_notes"]])
            return {"address": text, "community": "", "grid": "", "compound": "",
                    "building": "", "unit": "", "room": ""}
        up = self._ancestry(record[index["_u_id"]])
        building = up.get("building", "")
        unit = up.get("unit", "")
        compound = up.get("compound", "")
        return {"address": format_address(up.get("community"), compound, building, unit, room),
                "community":
                up.get("community", ""), "grid": up.get("grid", ""), "compound": compound,
                "building": building, "unit": unit, "room": room}


def code_labels(kind: str) -> Callable[[str], str] | None:
    if not kind.startswith("code:"):
        return None
    table = codes.table(kind[5:])
    labels = {item.code: item.label for item in table}
    return lambda code: labels.get(code, code)
