"""What an export can list: one source per kind of record, each a SELECT plus the columns a
template may name (key → label, kind). Templates (resources/export_templates/*.json) pick and
order these columns; adding a template needs no code.

Kinds: text, code:<table>, id and phone (the field's masking rule, Field.mask: masked unless
the export is for upload, written as text), bool (是/否), number, date.

A column's coding says how a template wants it written: code-table values as label or code,
dates as real dates ("") or as text ("YYYYMMDD", "YYYY-MM-DD").
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterator

from db.driver import sqlite3
from shequ_desktop.core import codes, tree
from shequ_desktop.core.addresses import format_address
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.fields import fields
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.population.extras import parse
from shequ_desktop.transfer.importing.plan import address_from_notes
from shequ_desktop.volunteers import roster as volunteers


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: str = "text"
    coding: str = "label"       # code-table columns: "label" or "code"
    dates: str = ""             # date columns: "" (a real date), "YYYYMMDD" or "YYYY-MM-DD"
    synonyms: tuple[str, ...] = ()  # other header texts that name it (filling a template)


def registry_column(f) -> Column:
    """The export column of a registry field: masked by its masking rule, coded by its table."""
    kinds = {"bool": "bool", "int": "number", "float": "number", "date": "date"}
    kind = (f"code:{f.code_table}" if f.code_table else f.mask if f.mask
            else kinds.get(f.kind, "text"))
    return Column(f.name, f.label, kind, synonyms=f.synonyms)


PLACE_COLUMNS = [Column("address", "现住址", synonyms=(
                     "现住地址", "现居住地址", "居住地址", "现居住地", "住址", "家庭住址",
                     "现住地详址", "现住门（楼）详址", "现住门(楼)详址")),
                 Column("community", "所属社区", synonyms=("社区", "社区/村")),
                 Column("grid", "所属网格", synonyms=("网格", "网格名称")),
                 Column("compound", "小区"),
                 Column("building", "楼栋"), Column("unit", "单元"), Column("room", "房号")]
_PLACE_SQL = """ho.room_no AS _room, u.name AS _u_name, u.level AS _u_level, u.id AS _u_id,
    b.name AS _b_name, b.level AS _b_level, b.id AS _b_id"""
_PLACE_JOINS = """LEFT JOIN houses ho ON ho.id = h.house_id
    LEFT JOIN grid_units u ON u.id = ho.unit_id
    LEFT JOIN grid_units b ON b.id = u.parent_id"""
_UNIT_FILTER = "ho.unit_id IN (SELECT id FROM subtree)"
EXTRA = "extra:"     # a column of residents.extras (a focus group's own field): extra:<label>


@dataclass(frozen=True)
class Source:
    name: str
    title: str
    extra: tuple[Column, ...]       # columns besides the registry fields of `entity`
    select: str                     # SELECT … with named result columns, {where} placeholder
    place: bool = False             # derive address/community/grid from the _place columns
    requires: str | None = None     # a table that must exist
    filter: str = _UNIT_FILTER
    entity: str | None = None       # the registry entity whose fields are its columns
    alias: str = ""                 # the entity's table in `select` (for sheet filters)
    filters: dict | None = None     # other filter keys: key -> SQL expression in `select`

    @property
    def columns(self) -> tuple[Column, ...]:
        """The registry fields of `entity` (read now: a field added to the registry is a
        column), then the source's own columns."""
        own = tuple(registry_column(f) for f in fields(self.entity)) if self.entity else ()
        return (*own, *self.extra)

    def column(self, key: str) -> Column:
        for c in self.columns:
            if c.key == key:
                return c
        if key.startswith(EXTRA) and self.entity == "residents":
            return Column(key, key[len(EXTRA):])
        raise KeyError(key)


_RESIDENT_SELECT = f"""
    SELECT r.*, r.uuid AS resident_key, h.uuid AS household_key, h.household_no,
           hd.name AS head_name, hd.id_number AS head_id_number, hd.phone AS head_phone,
           CASE WHEN r.separated THEN '02' ELSE '01' END AS household_match,
           h.notes AS _h_notes, {_PLACE_SQL}
    FROM residents r
    LEFT JOIN households h ON h.id = r.household_id
    LEFT JOIN residents hd ON hd.id = h.head_resident_id
    {_PLACE_JOINS}
    WHERE r.status = '{ON_RECORD}' {{where}}
    ORDER BY h.id, r.relation_to_head = '02' DESC, r.id"""

_HOUSEHOLD_SELECT = f"""
    SELECT h.*, h.uuid AS household_key, hd.name AS head_name, hd.id_number AS head_id_number,
           hd.phone AS head_phone, h.notes AS _h_notes,
           (SELECT count(*) FROM residents m WHERE m.household_id = h.id
            AND m.status = '{ON_RECORD}') AS members, {_PLACE_SQL}
    FROM households h
    LEFT JOIN residents hd ON hd.id = h.head_resident_id
    {_PLACE_JOINS}
    WHERE h.status = '{ON_RECORD}' {{where}}
    ORDER BY h.id"""

_PERSON = [Column("name", "姓名"), Column("id_number", "身份证号", "id"),
           Column("phone", "联系电话", "phone")]

SOURCES: dict[str, Source] = {s.name: s for s in (
    Source("residents", "居民",
           (Column("household_no", "户号"),
            Column("household_key", "户标识"), Column("resident_key", "人员标识"),
            Column("head_name", "户主姓名"),
            Column("head_id_number", "户主公民身份号码", "id",
                   synonyms=("户主身份证号", "户主身份证号码", "户主证件号码")),
            Column("head_phone", "户主联系方式", "phone",
                   synonyms=("户主联系电话", "户主电话", "户主手机")),
            Column("household_match", "人户一致标识", "code:household_match"),
            Column("division_code", "现住地", synonyms=("现住地行政区划", "现住地代码",
                                                         "现住地行政区划代码")),
            *PLACE_COLUMNS),
           _RESIDENT_SELECT, place=True, entity="residents", alias="r"),
    Source("households", "户",
           (Column("household_key", "户标识"),
            Column("head_name", "户主姓名"), Column("head_id_number", "户主身份证号", "id"),
            Column("head_phone", "户主联系电话", "phone"), Column("members", "在册人数", "number"),
            *PLACE_COLUMNS),
           _HOUSEHOLD_SELECT, place=True, entity="households", alias="h"),
    Source("focus", "重点人群",
           (Column("tag", "重点人群类别", synonyms=("人群类别", "重点人群")),
            Column("since", "纳入日期", "date", synonyms=("列入日期",)),
            Column("visit_interval_days", "走访周期(天)", "number"),
            Column("last_visit", "最近走访日期", "date"), Column("head_name", "户主姓名"),
            *PLACE_COLUMNS),
           f"""SELECT r.*, t.name AS tag, rt.since, t.visit_interval_days, rt.notes,
                      hd.name AS head_name, h.notes AS _h_notes,
                      (SELECT max(v.visited_on) FROM visits v
                       WHERE v.resident_id = r.id) AS last_visit, {_PLACE_SQL}
               FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
               JOIN residents r ON r.id = rt.resident_id
               LEFT JOIN households h ON h.id = r.household_id
               LEFT JOIN residents hd ON hd.id = h.head_resident_id {_PLACE_JOINS}
               WHERE rt.until IS NULL AND r.status = '{ON_RECORD}' {{where}}
               ORDER BY t.sort, r.id""", place=True, entity="residents", alias="r",
           filters={"tag": "t.name"}),
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
           (Column("team", "所属队伍"),
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
           requires="volunteers", filter=volunteers.IN_SCOPE, entity="volunteers",
           alias="v"),
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


def _query(conn: sqlite3.Connection, source: Source, within: tuple[str, object] | None,
           only: tuple[tuple[str, tuple], ...] = ()) -> tuple[str, str, tuple]:
    """(WITH prefix, SELECT, parameters): the source's rows, within the scope (access.scope:
    a WITH clause defining `subtree`, its parameter; None for the whole database), and with
    `only` ((registry field, allowed values), …) those whose field has one of the values."""
    if source.requires and not conn.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
            (source.requires,)).fetchone():
        raise DomainError(f"数据库中还没有{source.title}数据（请先升级程序）")
    names = {f.name: f"{source.alias}.{f.name}" for f in fields(source.entity)
             if source.alias} if source.entity else {}
    names.update(source.filters or {})
    where, params = "", []
    for name, values in only:
        if name not in names:
            raise DomainError(f"{source.title}没有可用来筛选的字段“{name}”")
        where += f" AND {names[name]} IN ({', '.join('?' * len(values))})"
        params += list(values)
    if within is None:
        return "", source.select.format(where=where), tuple(params)
    return (within[0], source.select.format(where=f"AND {source.filter}{where}"),
            (within[1], *params))


def count(conn: sqlite3.Connection, source: Source,
          within: tuple[str, object] | None, only=()) -> int:
    prefix, select, params = _query(conn, source, within, only)
    return conn.execute(f"{prefix}SELECT count(*) FROM ({select})", params).fetchone()[0]


def rows(conn: sqlite3.Connection, source: Source, keys: list[str],
         within: tuple[str, object] | None, constants: dict | None = None,
         only=()) -> Iterator[list]:
    """The source's records as lists of raw values in the order of `keys` (`constants`: values
    of keys the same on every row, such as the division code)."""
    prefix, select, params = _query(conn, source, within, only)
    sql = prefix + select
    cur = conn.cursor()
    cur.row_factory = None
    cur.execute(sql, params)
    names = [d[0] for d in cur.description]
    index = {n: i for i, n in enumerate(names)}
    place = _Places(conn) if source.place else None
    constants = {k: v for k, v in (constants or {}).items() if k not in index}
    derived = {k for k in keys if k not in index and k not in constants}
    extra_keys = [(n, k[len(EXTRA):]) for n, k in enumerate(keys)
                  if k in derived and k.startswith(EXTRA) and "extras" in index]
    derived -= {keys[n] for n, _label in extra_keys}
    for k in derived:
        if not (source.place and k in {c.key for c in PLACE_COLUMNS}):
            raise KeyError(k)
    picks = [index.get(k) for k in keys]
    fixed = [(n, constants[k]) for n, k in enumerate(keys) if k in constants]
    for record in cur:
        out = [record[i] if i is not None else None for i in picks]
        for n, value in fixed:
            out[n] = value
        if extra_keys:
            have = parse(record[index["extras"]])
            for n, label in extra_keys:
                out[n] = have.get(label)
        if derived:
            where = place.of(record, index)
            for n, k in enumerate(keys):
                if picks[n] is None and k in derived:
                    out[n] = where[k]
        yield out


class _Places:
    """Address and community/grid names of a house, from its unit and building rows."""

    def __init__(self, conn: sqlite3.Connection):
        units = {u["id"]: u for u in tree.all_units(conn)}
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
