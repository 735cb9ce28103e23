"""What each monthly ledger (台账) lists: the rows, in order and in groups, read with SQL.

`table(conn, kind, ...)` returns a LedgerTable for the engine (shequ_desktop/reports/pdf/long_table.py),
which draws it; shequ_desktop.reports.pdf.ledger_print.build() puts the two together and records the print.
Columns of registry fields take their label and width from the field registry (fields.py).
ID numbers and phones are masked unless `unmask` is asked for (the caller records that).

The roster of a month is taken at the month's end: residents on record then (those who moved
out or died after it still count), focus-group tags active on that day, visits made in the
month, events open at some time during the month, houses as they are now.
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Callable

from db.driver import sqlite3
from shequ_desktop.casework.events import DONE_STATUSES, STATUSES
from shequ_desktop.core import codes
from shequ_desktop.core.access import Access, named_scope
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.fields import Field, field, fields
from shequ_desktop.core.masking import mask, mask_id, mask_phone
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.core.tree import GridTitle, Places
from shequ_desktop.reports.pdf.long_table import Column, Group, LedgerTable

KINDS = {
    "residents": "人口信息台账",
    "focus": "重点人群台账",
    "visits": "走访记录台账",
    "events": "事件台账",
    "houses": "房屋台账",
    "volunteers": "志愿服务台账",
    "services": "一老一小服务台账",
}
# kind -> {grouping key: label}; the first is the ledger's usual grouping.
GROUPINGS = {
    "residents": {"grid": "按网格", "building": "按楼栋"},
    "focus": {"tag": "按重点人群类别", "grid": "按网格"},
    "visits": {"grid": "按网格"},
    "events": {"status": "按状态", "grid": "按网格"},
    "houses": {"building": "按楼栋", "grid": "按网格"},
    "volunteers": {"team": "按服务队"},
    "services": {"kind": "按服务项目", "grid": "按网格"},
}
# The volunteer tables come with migration m007 (the volunteers feature).
NEEDS_TABLES = {"volunteers": ("volunteers", "service_records", "activities"),
                "services": ("services",)}


# --- the period ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Month:
    first: dt.date
    last: dt.date

    @property
    def label(self) -> str:
        return f"{self.first.year}年{self.first.month}月"

    @property
    def key(self) -> str:
        return f"{self.first.year:04d}-{self.first.month:02d}"


def parse_month(text: str | None, today: dt.date | None = None) -> Month:
    """'YYYY-MM' (also 'YYYY年M月', 'YYYY/M'); None: this month. DomainError if unreadable."""
    today = today or dt.date.today()
    if text is None or not str(text).strip():
        year, month = today.year, today.month
    else:
        m = re.fullmatch(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?\s*", str(text))
        if not m or not 1 <= int(m[2]) <= 12 or int(m[1]) < 1900:
            raise DomainError(f"月份“{text}”看不懂，应写成 YYYY-MM，如 {today:%Y-%m}")
        year, month = int(m[1]), int(m[2])
    return Month(dt.date(year, month, 1),
                 dt.date(year, month, calendar.monthrange(year, month)[1]))


def natural(text: str | None) -> tuple:
    """'2号楼' before '12号楼', '501' before '1201': numbers compared as numbers."""
    return tuple(int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or "") if p)


def _labels(table: str) -> Callable[[str | None], str]:
    """A code's label (the code itself when unknown, "" for none)."""
    mapping = {item.code: item.label for item in codes.table(table)}
    return lambda code: "" if code is None else mapping.get(code, code)


def _col(entity: str, name: str, label: str | None = None, width: float | None = None,
         align: str = "left") -> Column:
    f = field(entity, name)
    return Column(label or f.label, f.width if width is None else width, align, f.min_chars)


def _masker(unmask: bool) -> tuple[Callable, Callable]:
    if unmask:
        plain = lambda v: v or ""   # noqa: E731
        return plain, plain
    return mask_id, mask_phone


def _scope_sql(q: _Query, column: str) -> tuple[str, str]:
    """(WITH prefix, AND condition) restricting `column` (a grid unit id) to the query's
    scope (access.scope: the subtree of :unit); nothing for the whole database."""
    if not q.head:
        return "", ""
    return q.head, f"AND {column} IN (SELECT id FROM subtree)"


def _rows(conn: sqlite3.Connection, sql: str, params: dict) -> list[tuple]:
    cur = conn.cursor()
    cur.row_factory = None          # plain tuples: up to a street's residents
    return cur.execute(sql, params).fetchall()


def _groups(rows: list[tuple[tuple, str, tuple]], grouped: bool) -> list[Group]:
    """rows: (sort key, group title, cells), sorted by key; consecutive equal titles form a
    group. Ungrouped: one group without a heading."""
    rows.sort(key=lambda r: r[0])
    if not grouped:
        return [Group(None, [r[2] for r in rows])]
    groups: list[Group] = []
    last = None
    for _key, title, cells in rows:
        if not groups or last != title:
            last = title
            if isinstance(title, GridTitle):       # 社区 + 网格, subtotalled by 社区 too
                groups.append(Group(str(title), [], section=title.community or None))
            else:
                groups.append(Group(title, []))
        groups[-1].rows.append(cells)
    return groups


def _on_roster(alias: str = "r") -> str:
    """SQL: the resident was on record at :end (moved in by then, not yet gone)."""
    return (f"(coalesce({alias}.moved_in_at, '') <= :end AND ({alias}.status = '{ON_RECORD}'"
            f" OR ({alias}.status = '{MOVED_OUT}' AND coalesce({alias}.moved_out_at, '') > :end)"
            f" OR ({alias}.status = '{DECEASED}' AND coalesce({alias}.death_date, '') > :end)))")


# --- the ledgers ----------------------------------------------------------------------------------


@dataclass
class _Query:
    """What a ledger function gets."""
    conn: sqlite3.Connection
    places: Places
    unit_id: int | None
    month: Month
    group: str | None
    unmask: bool
    today: dt.date
    access: Access | None = None

    def __post_init__(self) -> None:
        self.head, self.scope_params = named_scope(self.access, self.unit_id)

    def params(self, **more) -> dict:
        return {**self.scope_params, "start": self.month.first.isoformat(),
                "end": self.month.last.isoformat(), **more}

    @property
    def until(self) -> dt.date:
        """The day counts are taken on: the month's end, or today for the running month."""
        return min(self.month.last, self.today)


def _ledger_fields() -> tuple[list[Field], list[Field]]:
    """The resident fields the 人口信息台账 shows (Field.ledger), in registry order: one-line
    fields before the address, multi-line ones (备注) after it."""
    chosen = [f for f in fields("residents") if f.ledger]
    return [f for f in chosen if not f.multiline], [f for f in chosen if f.multiline]


def _cell(f: Field, unmask: bool) -> Callable:
    """raw value -> the cell of field `f`: labels for codes, masked by the field's rule."""
    if f.code_table:
        return _labels(f.code_table)
    if f.kind == "bool":
        return lambda v: "" if v is None else ("是" if v else "否")
    if f.mask and not unmask:
        return lambda v: mask(f.mask, v)
    return lambda v: "" if v is None else str(v)


def _field_column(f: Field) -> Column:
    align = "center" if f.width <= 2 else "right" if f.kind in ("int", "float") else "left"
    return Column(f.label, f.width, align, f.min_chars)


def _residents(q: _Query) -> tuple[list[Column], list[Group]]:
    """人口信息台账: everyone on record at the month's end, by grid (or building), household
    by household with the head first. Its columns are the registry's ledger fields."""
    before, after = _ledger_fields()
    shown = before + after
    cells = [_cell(f, q.unmask) for f in shown]
    head, scope = _scope_sql(q, "ho.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT ho.unit_id, ho.room_no, h.id, r.relation_to_head, r.id, r.birth_date,
               {', '.join('r.' + f.name for f in shown)}
        FROM residents r JOIN households h ON h.id = r.household_id
        JOIN houses ho ON ho.id = h.house_id
        WHERE {_on_roster()} {scope}""", q.params())
    place_of, grid_key, order = q.places.of, q.places.grid_key, q.places.order
    rooms: dict[str, tuple] = {}
    out = []
    split = len(before)
    for row in rows:
        unit, room, hh, rel, rid, birth = row[:6]
        values = [f(v) for f, v in zip(cells, row[6:])]
        _community, grid_name, building, building_label, prefix = place_of(unit)
        room_key = rooms.get(room)
        if room_key is None:
            room_key = rooms[room] = natural(room)
        key = (order.get(unit, -1), room_key, hh, rel != "02", rel or "99", birth or "", rid)
        if q.group == "building":
            title = building_label or prefix
            key = (order.get(building, -1), *key)
        else:
            title = q.places.grid_title(unit)
            key = (grid_key(unit)[0], *key)
        out.append((key, title, (*values[:split], q.places.address(unit, room), *values[split:])))
    columns = ([_field_column(f) for f in before] + [Column("住址", 13)]
               + [_field_column(f) for f in after])
    return columns, _groups(out, q.group is not None)


def _focus(q: _Query) -> tuple[list[Column], list[Group]]:
    """重点人群台账: members of each focus group at the month's end, with their last visit."""
    show_id, show_phone = _masker(q.unmask)
    gender = _labels("gender")
    head, scope = _scope_sql(q, "ho.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT t.sort, t.id, t.name, t.visit_interval_days, rt.since, ho.unit_id, ho.room_no,
               r.id, r.name, r.gender, r.birth_date, r.id_number, r.phone,
               (SELECT max(v.visited_on) FROM visits v
                WHERE v.resident_id = r.id AND v.visited_on <= :end)
        FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
        JOIN residents r ON r.id = rt.resident_id
        LEFT JOIN households h ON h.id = r.household_id
        LEFT JOIN houses ho ON ho.id = h.house_id
        WHERE rt.since <= :end AND (rt.until IS NULL OR rt.until >= :end)
          AND {_on_roster()} {scope}""", q.params())
    place_of, grid_key = q.places.of, q.places.grid_key
    end = q.month.last
    out = []
    for (tag_sort, tag_id, tag, interval, since, unit, room, rid, name, sex, birth, id_no,
         phone, last) in rows:
        _community, grid_name, _b, _bl, prefix = place_of(unit)
        address = q.places.address(unit, room)
        age = ""
        if birth:
            b = dt.date.fromisoformat(birth)
            age = str(end.year - b.year - ((end.month, end.day) < (b.month, b.day)))
        if q.group == "grid":
            key, title = ((grid_key(unit), natural(address), tag_sort, tag_id, rid),
                          q.places.grid_title(unit))
        else:
            key, title = (tag_sort, tag_id, grid_key(unit), natural(address), rid), tag
        cells = (name, gender(sex), age, show_id(id_no), show_phone(phone), address, tag,
                 since, "" if interval is None else str(interval), last or "从未走访")
        if q.group == "tag":                    # the focus group is the heading
            cells = cells[:6] + cells[7:]
        out.append((key, title, cells))
    columns = [_col("residents", "name"), _col("residents", "gender", align="center"),
               Column("年龄", 2.5, "right"), _col("residents", "id_number"),
               _col("residents", "phone"), Column("住址", 12), _col("tags", "name", "重点人群"),
               Column("列入日期", 6), _col("tags", "visit_interval_days", align="right"),
               Column("最近走访", 6)]
    if q.group == "tag":
        del columns[6]
    return columns, _groups(out, q.group is not None)


def _visits(q: _Query) -> tuple[list[Column], list[Group]]:
    """走访记录台账: the visits made in the month, by grid, by day."""
    head, scope = _scope_sql(q, "ho.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT v.visited_on, v.id, ho.unit_id, ho.room_no, r.name, v.method, v.visitor,
               v.findings, v.follow_up, v.follow_up_note,
               (SELECT group_concat(t.name, '、') FROM resident_tags rt
                JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = r.id
                AND rt.since <= v.visited_on
                AND (rt.until IS NULL OR rt.until >= v.visited_on))
        FROM visits v JOIN residents r ON r.id = v.resident_id
        LEFT JOIN households h ON h.id = r.household_id
        LEFT JOIN houses ho ON ho.id = h.house_id
        WHERE v.visited_on BETWEEN :start AND :end {scope}""", q.params())
    place_of, grid_key = q.places.of, q.places.grid_key
    out = []
    for day, vid, unit, room, name, method, visitor, findings, follow, note, tags in rows:
        _community, grid_name, _b, _bl, prefix = place_of(unit)
        out.append(((grid_key(unit), day, vid), q.places.grid_title(unit), (
            day, name, q.places.address(unit, room), tags or "", method, visitor,
            findings or "", (note or "需跟进") if follow else "")))
    columns = [Column("走访日期", 6), _col("residents", "name"), Column("住址", 11),
               Column("重点人群", 9), Column("方式", 3, "center"), Column("走访人", 4.5),
               Column("走访情况", 15), Column("跟进事项", 9)]
    return columns, _groups(out, q.group is not None)


def _events(q: _Query) -> tuple[list[Column], list[Group]]:
    """事件台账: events open at some time in the month (found by its end, not closed before
    it began), with their status now and how many days they were open."""

    head, scope = _scope_sql(q, "e.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT e.id, e.found_at, c.name, e.unit_id, e.location, e.description, r.name,
               e.reporter, e.status, e.accepted_at, e.deadline, e.closed_at
        FROM events e JOIN event_categories c ON c.id = e.category_id
        LEFT JOIN residents r ON r.id = e.resident_id
        WHERE substr(e.found_at, 1, 10) <= :end
          AND (e.closed_at IS NULL OR substr(e.closed_at, 1, 10) >= :start) {scope}""",
                 q.params())
    until = q.until
    grid_key = q.places.grid_key
    rank = {s: i for i, s in enumerate(STATUSES)}
    out = []
    for (eid, found, category, unit, location, text, resident, reporter, status, accepted,
         deadline, closed) in rows:
        found_day = dt.date.fromisoformat(found[:10])
        closed_day = dt.date.fromisoformat(closed[:10]) if closed else None
        done = status in DONE_STATUSES and closed_day is not None and closed_day <= until
        end = closed_day if done else until
        days = max(0, (end - found_day).days)
        late = ""
        if deadline and end.isoformat() > deadline[:10]:
            late = f"{(end - dt.date.fromisoformat(deadline[:10])).days}"
        grid_order, grid_name = grid_key(unit)
        if q.group == "grid":
            key, title = (grid_order, found, eid), q.places.grid_title(unit) or "未归属网格"
        else:
            key, title = (rank.get(status, 9), found, eid), status
        out.append((key, title, (
            str(eid), found[:10], category, grid_name, location or "", text, resident or "",
            reporter,
            status, (accepted or "")[:10], (deadline or "")[:10], (closed or "")[:10],
            str(days), late)))
    columns = [Column("编号", 3, "right"), Column("发现日期", 6), Column("类别", 4.5),
               Column("网格", 5), Column("地点", 7), Column("事件描述", 13),
               Column("涉及居民", 4), Column("上报人", 4), Column("状态", 3.5, "center"), Column("受理日期", 6),
               Column("办结时限", 6), Column("办结日期", 6), Column("历时(天)", 3.5, "right"),
               Column("超期(天)", 3.5, "right")]
    return columns, _groups(out, q.group is not None)


def _houses(q: _Query) -> tuple[list[Column], list[Group]]:
    """房屋台账: every house by building, with its usage, owner and who lives there."""
    show_id, show_phone = _masker(q.unmask)
    usage_label = _labels("house_usage")
    head, scope = _scope_sql(q, "ho.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT ho.id, ho.unit_id, ho.room_no, ho.floor, ho.area, ho.usage, ho.owner_name,
               ho.owner_phone, ho.owner_id_number, ho.notes,
               (SELECT count(*) FROM households h WHERE h.house_id = ho.id
                AND h.status = '{ON_RECORD}'),
               (SELECT count(*) FROM households h JOIN residents r ON r.household_id = h.id
                WHERE h.house_id = ho.id AND r.status = '{ON_RECORD}'),
               (SELECT group_concat(r.name, '、') FROM households h
                JOIN residents r ON r.id = h.head_resident_id
                WHERE h.house_id = ho.id AND h.status = '{ON_RECORD}')
        FROM houses ho WHERE 1 {scope}""", q.params())
    place_of, grid_key, order = q.places.of, q.places.grid_key, q.places.order
    out = []
    usage_counts: dict[str, dict[str, int]] = {}
    for (hid, unit, room, floor, area, usage, owner, phone, owner_id, notes, households,
         residents, heads) in rows:
        _community, grid_name, building, building_label, prefix = place_of(unit)
        if q.group == "grid":
            title = q.places.grid_title(unit)
            key = (grid_key(unit), order.get(unit, -1), natural(room), hid)
        else:
            title = building_label or prefix
            key = (order.get(building, -1), order.get(unit, -1), natural(room), hid)
        counts = usage_counts.setdefault(title, {})
        counts[usage] = counts.get(usage, 0) + 1
        out.append((key, title, (
            prefix, room, "" if floor is None else str(floor),
            "" if area is None else f"{area:g}", usage_label(usage), owner or "",
            show_phone(phone), show_id(owner_id), str(households), str(residents),
            heads or "", notes or "")))
    columns = [Column("楼栋单元", 9), _col("houses", "room_no"),
               _col("houses", "floor", align="right"), _col("houses", "area", align="right"),
               _col("houses", "usage", "用途", align="center"), _col("houses", "owner_name"),
               _col("houses", "owner_phone"), _col("houses", "owner_id_number"),
               Column("在册户数", 4, "right"), Column("在册人数", 4, "right"),
               Column("户主", 6), _col("houses", "notes", width=7)]
    groups = _groups(out, q.group is not None)
    usages = [item.code for item in codes.table("house_usage")]
    for g in groups:
        counts = usage_counts.get(g.title, {}) if g.title is not None else {}
        g.note = "、".join(f"{usage_label(u)} {counts[u]}" for u in usages if counts.get(u))
    return columns, groups


def _volunteers(q: _Query) -> tuple[list[Column], list[Group]]:
    """志愿服务台账: every volunteer on record at the month's end (or who served in the
    year), with service hours and points earned in the month and in the year to its end, and
    the points balance at its end."""
    show_id, show_phone = _masker(q.unmask)
    gender = _labels("gender")
    year_start = q.month.first.replace(month=1).isoformat()
    # A unit narrows to volunteers of its teams, or living in it, or who served in its
    # activities.
    head, scope = "WITH ", ""
    if q.head:
        head = q.head + ", "
        scope = """AND (vt.unit_id IN (SELECT id FROM subtree)
            OR v.resident_id IN (SELECT r.id FROM subtree s JOIN houses ho ON ho.unit_id = s.id
                JOIN households h ON h.house_id = ho.id JOIN residents r
                ON r.household_id = h.id)
            OR v.id IN (SELECT sr.volunteer_id FROM service_records sr JOIN activities a
                ON a.id = sr.activity_id WHERE a.unit_id IN (SELECT id FROM subtree)))"""
    rows = _rows(q.conn, head + f"""
        served AS (
            SELECT sr.volunteer_id,
                   sum(CASE WHEN substr(a.starts_at, 1, 10) >= :start THEN sr.hours END) AS mh,
                   sum(CASE WHEN substr(a.starts_at, 1, 10) >= :start THEN sr.points END) AS mp,
                   sum(sr.hours) AS yh, sum(sr.points) AS yp
            FROM service_records sr JOIN activities a ON a.id = sr.activity_id
            WHERE substr(a.starts_at, 1, 10) BETWEEN :year_start AND :end
            GROUP BY sr.volunteer_id),
        earned AS (
            SELECT sr.volunteer_id, sum(sr.points) AS p FROM service_records sr
            JOIN activities a ON a.id = sr.activity_id
            WHERE substr(a.starts_at, 1, 10) <= :end GROUP BY sr.volunteer_id),
        adjusted AS (
            SELECT volunteer_id, sum(points) AS p FROM point_adjustments
            WHERE made_on <= :end GROUP BY volunteer_id),
        redeemed AS (
            SELECT volunteer_id, sum(points) AS p FROM point_redemptions
            WHERE redeemed_on <= :end GROUP BY volunteer_id)
        SELECT v.id, v.name, v.gender, v.id_number, v.phone, vt.name, vt.id, v.joined_on,
               v.status, s.mh, s.mp, s.yh, s.yp,
               coalesce(e.p, 0) + coalesce(ad.p, 0) - coalesce(rd.p, 0)
        FROM volunteers v LEFT JOIN volunteer_teams vt ON vt.id = v.team_id
        LEFT JOIN served s ON s.volunteer_id = v.id
        LEFT JOIN earned e ON e.volunteer_id = v.id
        LEFT JOIN adjusted ad ON ad.volunteer_id = v.id
        LEFT JOIN redeemed rd ON rd.volunteer_id = v.id
        WHERE v.joined_on <= :end
          AND (v.left_on IS NULL OR v.left_on >= :year_start OR s.yh IS NOT NULL) {scope}""",
                 q.params(year_start=year_start))

    def number(value) -> str:
        return "" if not value else f"{value:g}"

    out = []
    for (vid, name, sex, id_no, phone, team, team_id, joined, status, mh, mp, yh, yp,
         balance) in rows:
        title = team or "未加入服务队"
        key = (team is None, team or "", natural(name), vid)
        cells = (name, gender(sex), show_id(id_no), show_phone(phone), team or "",
                 joined or "", status, number(mh), number(mp), number(yh), number(yp),
                 f"{balance or 0:g}")
        if q.group is not None:                 # the team is the group's heading
            cells = cells[:4] + cells[5:]
        out.append((key, title, cells))
    columns = [Column("姓名", 5), Column("性别", 2, "center"), Column("身份证号", 11),
               Column("联系电话", 7), Column("服务队", 8), Column("加入日期", 6),
               Column("状态", 3, "center"), Column("本月时长", 4.5, "right"),
               Column("本月积分", 4.5, "right"), Column("本年时长", 4.5, "right"),
               Column("本年积分", 4.5, "right"), Column("积分余额", 4.5, "right")]
    if q.group is not None:
        del columns[4]
    return columns, _groups(out, q.group is not None)


def _services(q: _Query) -> tuple[list[Column], list[Group]]:
    """一老一小服务台账: the services given in the month, by kind (or grid), by day."""
    head, scope = _scope_sql(q, "ho.unit_id")
    rows = _rows(q.conn, head + f"""
        SELECT s.served_on, s.id, s.kind, ho.unit_id, ho.room_no, r.name, r.birth_date,
               s.provider, s.content,
               (SELECT group_concat(t.name, '、') FROM resident_tags rt
                JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = r.id
                AND rt.since <= s.served_on
                AND (rt.until IS NULL OR rt.until >= s.served_on))
        FROM services s JOIN residents r ON r.id = s.resident_id
        LEFT JOIN households h ON h.id = r.household_id
        LEFT JOIN houses ho ON ho.id = h.house_id
        WHERE s.served_on BETWEEN :start AND :end {scope}""", q.params())
    place_of, grid_key = q.places.of, q.places.grid_key
    end = q.month.last
    out = []
    for day, sid, kind, unit, room, name, birth, provider, content, groups in rows:
        _community, grid_name, _b, _bl, prefix = place_of(unit)
        age = ""
        if birth:
            b = dt.date.fromisoformat(birth)
            age = str(end.year - b.year - ((end.month, end.day) < (b.month, b.day)))
        cells = (day, name, age, prefix + room if room else "", groups or "", kind, provider,
                 content or "")
        if q.group == "grid":
            out.append(((grid_key(unit), day, sid), grid_name, cells))
        else:
            out.append(((kind, day, sid), kind, cells))
    columns = [Column("服务日期", 6), _col("residents", "name"), Column("年龄", 2.5, "right"),
               Column("住址", 11), Column("重点人群", 8), Column("服务项目", 4.5),
               Column("服务人", 4.5), Column("服务内容", 15)]
    return columns, _groups(out, q.group is not None)


# kind -> (rows function, count unit, landscape)
_LEDGERS = {
    "residents": (_residents, "人", True),
    "focus": (_focus, "人次", True),
    "visits": (_visits, "次", True),
    "events": (_events, "件", True),
    "houses": (_houses, "套", True),
    "volunteers": (_volunteers, "人", True),
    "services": (_services, "次", True),
}


def scope_title(conn: sqlite3.Connection, places: Places, unit_id: int | None,
                access: Access | None) -> tuple[int | None, list[tuple[str, str]]]:
    """(the unit to print, the title block's unit lines). A 网格员 without a chosen unit
    prints their one unit as if chosen; several units are named one by one."""
    if unit_id is None and access is not None and access.restricted:
        roots = access.roots(conn)
        if len(roots) == 1:
            unit_id = roots[0]
        else:
            return None, [("网格", "、".join(places.units[u][2] for u in roots))]
    return unit_id, places.scope(unit_id)


def available(conn: sqlite3.Connection) -> list[str]:
    """The kinds this database can print (the volunteer ledger needs the volunteer tables)."""
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    return [k for k in KINDS if set(NEEDS_TABLES.get(k, ())) <= tables]


def table(conn: sqlite3.Connection, kind: str, *, unit_id: int | None = None,
          month: str | None = None, unmask: bool = False, group: str | None = "",
          today: dt.date | None = None, access: Access | None = None) -> LedgerTable:
    """The ledger `kind` for the subtree of `unit_id` (None: everything, or with a 网格员's
    `access` their units; a unit outside them is NotPermitted) and `month`
    ('YYYY-MM', None: this month). `group`: a key of GROUPINGS[kind], "" for the ledger's usual
    grouping, None for none. Raises DomainError for an unknown kind, grouping, month or unit,
    or a ledger whose tables this database does not have yet."""
    if kind not in KINDS:
        raise DomainError(f"没有“{kind}”这种台账（可选：{'、'.join(KINDS)}）")
    if kind not in available(conn):
        raise DomainError(f"{KINDS[kind]}需要的数据表还没有建立（请先升级数据库）")
    if group == "":
        group = next(iter(GROUPINGS[kind]))
    if group is not None and group not in GROUPINGS[kind]:
        raise DomainError(f"{KINDS[kind]}不能按“{group}”分组（可选："
                          f"{'、'.join(GROUPINGS[kind])}）")
    today = today or dt.date.today()
    period = parse_month(month, today)
    places = Places(conn)
    if unit_id is not None and unit_id not in places.units:
        raise DomainError(f"找不到网格单元（编号 {unit_id}）")
    unit_id, info = scope_title(conn, places, unit_id, access)
    fn, count_unit, landscape = _LEDGERS[kind]
    columns, groups = fn(_Query(conn, places, unit_id, period, group, unmask, today, access))
    info.append(("期间", period.label))
    if kind == "volunteers":
        info.append(("时长单位", "小时"))
    return LedgerTable(
        title=KINDS[kind], columns=columns, groups=groups, info=info,
        printed_on=today.isoformat(), landscape=landscape, count_unit=count_unit)
