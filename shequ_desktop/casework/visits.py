"""Focus-group visits (走访): recording them, and who is due for one.

A resident's next visit is due from their last visit and the shortest visit interval among the
focus-group tags (重点人群) active on the day asked about. Someone with an active tag who was
never visited is due from the day the earliest of those tags began; they sort first, because a
focus-group member nobody has ever visited is a data-quality problem as much as a late visit.

The due list is one SQL query over resident_tags (about 50,000 active rows for a street), with
the last visit looked up per resident through the visits(resident_id, visited_on) index.
Addresses and grid names come from the grid_units table read once (a few thousand rows).
"""
from __future__ import annotations

import calendar
import datetime as dt
import unicodedata
from typing import Any, Iterable

from db.driver import sqlite3
from shequ_desktop.core.access import Access, named_scope, scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.core.tree import MICROGRID_OF, Places
from shequ_desktop.core.validation import clean_text, parse_date

METHODS = ("入户", "电话", "视频", "其他")
LABELS = {"resident_id": "走访对象", "visited_on": "走访日期", "method": "走访方式",
          "visitor": "走访人", "findings": "走访情况", "follow_up": "需要跟进",
          "follow_up_note": "跟进事项"}
MAX_VISITOR = 50
MAX_TEXT = 2000
NEVER = "从未走访"


# --- recording ---------------------------------------------------------------------------------

def _text(value: Any) -> str | None:
    return clean_text(unicodedata.normalize("NFC", str(value))) if value is not None else None


def _clean(visited_on, method, visitor, findings, follow_up, follow_up_note,
           today: dt.date) -> tuple[dict, list[FieldError]]:
    """The values that do not depend on the resident, and what is wrong with them."""
    errors: list[FieldError] = []

    def wrong(name: str, message: str) -> None:
        errors.append(FieldError(name, LABELS[name], message))

    day = None
    if visited_on is None or (isinstance(visited_on, str) and not visited_on.strip()):
        wrong("visited_on", "不能为空")
    else:
        try:
            day = parse_date(visited_on)
        except ValueError as exc:
            wrong("visited_on", str(exc))
        else:
            if day > today.isoformat():
                wrong("visited_on", f"“{day}”晚于今天，不能登记未来的走访")
    method = _text(method)
    if method not in METHODS:
        wrong("method", "请选择走访方式" if method is None else
              f"“{method}”不是可选的走访方式（{'、'.join(METHODS)}）")
    visitor = _text(visitor)
    if visitor is None:
        wrong("visitor", "不能为空")
    elif len(visitor) > MAX_VISITOR:
        wrong("visitor", f"不能超过{MAX_VISITOR}个字")
    findings = _text(findings)
    if findings and len(findings) > MAX_TEXT:
        wrong("findings", f"不能超过{MAX_TEXT}个字")
    follow_up = bool(follow_up)
    note = _text(follow_up_note) if follow_up else None
    if follow_up and note is None:
        wrong("follow_up_note", "需要跟进时请写明跟进事项")
    elif note and len(note) > MAX_TEXT:
        wrong("follow_up_note", f"不能超过{MAX_TEXT}个字")
    values = {"visited_on": day, "method": method, "visitor": visitor, "findings": findings,
              "follow_up": 1 if follow_up else 0, "follow_up_note": note}
    return values, errors


def _resident_errors(resident: dict, day: str | None) -> list[FieldError]:
    errors = []
    if resident["status"] != ON_RECORD:
        errors.append(FieldError("resident_id", LABELS["resident_id"],
                                 f"{resident['name']}已{resident['status']}，不能登记走访"))
    birth = resident["birth_date"]
    if day and birth and day < birth:
        errors.append(FieldError("visited_on", LABELS["visited_on"],
                                 f"“{day}”早于{resident['name']}的出生日期 {birth}"))
    return errors


def record_visits(ctx: Context, resident_ids: Iterable[int], visited_on, method: str,
                  visitor: str, findings: str | None = None, follow_up: bool = False,
                  follow_up_note: str | None = None) -> list[Result]:
    """The same visit for several residents (a building walk): all recorded, or none.

    Raises ValidationError naming every field (and resident) that is wrong.
    """
    ids = list(dict.fromkeys(resident_ids))
    values, errors = _clean(visited_on, method, visitor, findings, follow_up, follow_up_note,
                            dt.date.today())
    if not ids:
        errors.insert(0, FieldError("resident_id", LABELS["resident_id"], "请至少选择一位居民"))
    results: list[Result] = []
    with ctx.transaction():
        people = [ctx.get("residents", rid) for rid in ids]     # NotFoundError when missing
        for person in people:
            errors += _resident_errors(person, values["visited_on"])
        if errors:
            raise ValidationError(errors)
        for person in people:
            new_id, changes = ctx.insert("visits", {"resident_id": person["id"], **values})
            results.append(Result(new_id, changes))
    return results


def record_visit(ctx: Context, resident_id: int, visited_on, method: str, visitor: str,
                 findings: str | None = None, follow_up: bool = False,
                 follow_up_note: str | None = None) -> Result:
    """Record one visit. Raises ValidationError (Chinese reason per field) when refused."""
    return record_visits(ctx, [resident_id], visited_on, method, visitor, findings,
                         follow_up, follow_up_note)[0]


# --- history -----------------------------------------------------------------------------------

_HISTORY_SQL = """
    SELECT v.id, v.resident_id, r.name, v.visited_on, v.method, v.visitor, v.findings,
           v.follow_up, v.follow_up_note
    FROM visits v JOIN residents r ON r.id = v.resident_id
"""


def history(conn: sqlite3.Connection, resident_id: int, limit: int | None = None) -> list[dict]:
    """A resident's visits, newest first."""
    sql = _HISTORY_SQL + " WHERE v.resident_id = ? ORDER BY v.visited_on DESC, v.id DESC"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in conn.execute(sql, (resident_id,))]


def household_visits(conn: sqlite3.Connection, household_id: int,
                     limit: int | None = None) -> list[dict]:
    """Visits to anyone who is or was a member of the household, newest first."""
    sql = (_HISTORY_SQL + " WHERE r.household_id = ?"
           " ORDER BY v.visited_on DESC, v.id DESC")
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [dict(r) for r in conn.execute(sql, (household_id,))]


# --- who is due --------------------------------------------------------------------------------

# One row per focus-group member on the day :on (in the scope): their shortest interval,
# earliest tag start, tag ids, last visit up to :visits_until, and the due day as a Julian day
# number (julianday()), kept only when it is not after :horizon. The aggregate runs once as a
# co-routine, so the last-visit lookup (visits_resident index) runs once per member.
_MEMBERS_SQL = """(
      SELECT rt.resident_id, min(t.visit_interval_days) AS interval_days,
             min(rt.since) AS first_since, TAG_IDS
             (SELECT max(v.visited_on) FROM visits v
              WHERE v.resident_id = rt.resident_id AND v.visited_on <= :visits_until)
                 AS last_visit
      FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
      WHERE rt.since <= :on AND (rt.until IS NULL OR rt.until >= :on)
        AND t.visit_interval_days IS NOT NULL AND t.active = 1 {pre_scope}
      GROUP BY rt.resident_id) a"""
_DUE_JD = """max(coalesce(julianday(a.last_visit) + a.interval_days, 0),
           julianday(a.first_since))"""     # a visit before the tag does not count
_IN_PLACE = """CROSS JOIN residents r ON r.id = a.resident_id
LEFT JOIN households h ON h.id = r.household_id
LEFT JOIN houses ho ON ho.id = h.house_id"""
_DUE_SQL = f"""
{{head}}
SELECT a.resident_id, r.name, r.household_id, ho.unit_id, ho.room_no,
       a.interval_days, a.tag_ids, a.last_visit, {_DUE_JD} AS due_jd
FROM {_MEMBERS_SQL.replace("TAG_IDS", "group_concat(rt.tag_id) AS tag_ids,")}
{_IN_PLACE}
WHERE r.status = '{ON_RECORD}' AND due_jd <= :horizon {{post_scope}}
"""
# due_counts(): the same members counted in SQL. With no unit, the residents' rows are not
# needed: 在册 is tested by leaving out the few moved out or dead (status has three values).
_DUE_COUNTS_SQL = f"""
{{head}}
SELECT count(*), coalesce(sum(due_jd < :today), 0), coalesce(sum(last_visit IS NULL), 0)
FROM (SELECT a.last_visit, {_DUE_JD} AS due_jd
      FROM {_MEMBERS_SQL.replace("TAG_IDS", "")} {{join}}
      WHERE {{active}} {{post_scope}})
WHERE due_jd <= :horizon
"""
_ACTIVE_ONLY = f"""a.resident_id NOT IN (SELECT r.id FROM residents r INDEXED BY residents_status
                                        WHERE r.status IN ('{MOVED_OUT}', '{DECEASED}'))"""
# Under a unit, only residents whose house lies in its subtree. For a small unit the members
# are picked before the aggregate (through houses → households → residents); for a whole
# street, where that list would be everyone, the house's unit is checked after the join.
_PRE_SCOPE = """AND rt.resident_id IN (
    SELECT r2.id FROM subtree s CROSS JOIN houses ho2 ON ho2.unit_id = s.id
    CROSS JOIN households h2 ON h2.house_id = ho2.id
    CROSS JOIN residents r2 ON r2.household_id = h2.id)"""
_POST_SCOPE = "AND ho.unit_id IN (SELECT id FROM subtree)"
_IN_MICROGRID = f" AND {MICROGRID_OF.format(hh='h', ho='ho')} = :microgrid_id"
_JD = 1721424.5          # julianday('0001-01-01') - 1: a Julian day number minus this is an ordinal
_ALL = 10 ** 9


def _iso(day) -> str:
    if day is None:
        return dt.date.today().isoformat()
    try:
        return parse_date(day)
    except ValueError as exc:
        raise DomainError(str(exc)) from None


def _due_parts(conn: sqlite3.Connection, on: str, unit_id: int | None,
               horizon: dt.date | None, visits_until: str | None,
               access: Access | None = None, microgrid_id: int | None = None
               ) -> tuple[str, str, str, dict]:
    """(WITH clause, pre-scope, post-scope, parameters) of the due queries; the WITH clause
    is empty for the whole database. `microgrid_id`: only members living in that 微网格
    (tree.MICROGRID_OF; the post-scope then needs the residents' houses joined)."""
    pre = post = ""
    head, params = named_scope(access, unit_id)
    params.update({"on": on, "visits_until": visits_until or on,
                   "horizon": _ALL if horizon is None else horizon.toordinal() + _JD})
    if head:
        level = None if unit_id is None else conn.execute(
            "SELECT level FROM grid_units WHERE id = ?", (unit_id,)).fetchone()
        if level is not None and level[0] == "street":
            post = _POST_SCOPE
        else:
            pre = _PRE_SCOPE
    if microgrid_id is not None:
        post += _IN_MICROGRID
        params["microgrid_id"] = microgrid_id
    return head, pre, post, params


def _raw_due(conn: sqlite3.Connection, on: str, unit_id: int | None,
             horizon: dt.date | None, visits_until: str | None = None,
             access: Access | None = None, microgrid_id: int | None = None) -> list[tuple]:
    """(resident_id, name, household_id, unit_id, room_no, interval_days, tag_ids,
    last_visit, due as a Julian day number) of the members due by `horizon` (None: all),
    unordered."""
    head, pre, post, params = _due_parts(conn, on, unit_id, horizon, visits_until, access,
                                         microgrid_id)
    cur = conn.cursor()
    cur.row_factory = None          # plain tuples: tens of thousands of rows for a street
    return cur.execute(_DUE_SQL.format(head=head, pre_scope=pre, post_scope=post),
                       params).fetchall()


def is_overdue(row: dict) -> bool:
    """走访逾期, the one definition (首页, 走访, 数据质量): the visit was due before the day
    asked about; someone never visited counts from the day their focus group began."""
    return row["days_overdue"] > 0


def due_counts(conn: sqlite3.Connection, on: dt.date | str | None = None,
               unit_id: int | None = None, within_days: int = 7,
               access: Access | None = None) -> dict:
    """How many rows due() would list, counted in SQL: {"due": n, "overdue": those with
    days_overdue > 0, "never_visited": those never visited}."""
    on_iso = _iso(on)
    day = dt.date.fromisoformat(on_iso)
    head, pre, post, params = _due_parts(conn, on_iso, unit_id,
                                         day + dt.timedelta(days=within_days), None, access)
    params["today"] = day.toordinal() + _JD
    join, active = ("", _ACTIVE_ONLY) if not head else (_IN_PLACE, f"r.status = '{ON_RECORD}'")
    due, overdue, never = conn.execute(_DUE_COUNTS_SQL.format(
        head=head, pre_scope=pre, post_scope=post, join=join, active=active), params).fetchone()
    return {"due": due, "overdue": overdue, "never_visited": never}


def due(conn: sqlite3.Connection, on: dt.date | str | None = None, unit_id: int | None = None,
        within_days: int = 7, include_not_due: bool = False,
        access: Access | None = None, microgrid_id: int | None = None) -> list[dict]:
    """Focus-group members whose visit is overdue or due within `within_days` of `on` (today
    when None), in the subtree of `unit_id` (everyone when None; with a 网格员's `access`,
    their units, and a unit outside them is NotPermitted).

    Each row: resident_id, name, household_id, address, grid, community, tags (names, in tag
    order), interval_days (the shortest among the active tags), last_visit (ISO or None),
    due_on (ISO), days_overdue (> 0 when overdue, <= 0 when not), never_visited.
    Never-visited first, then the most overdue, then by resident id. A negative `within_days`
    lists only the overdue (-1: due yesterday or earlier); `include_not_due` lists every
    focus-group member whose tags carry a visit interval. `microgrid_id`: only those living
    in that 微网格 (by tree.MICROGRID_OF), within the same scope.
    """
    on_iso = _iso(on)
    day = dt.date.fromisoformat(on_iso)
    horizon = None if include_not_due else day + dt.timedelta(days=within_days)
    raw = _raw_due(conn, on_iso, unit_id, horizon, access=access, microgrid_id=microgrid_id)
    raw.sort(key=lambda r: (r[7] is not None, r[8], r[0]))
    places = Places(conn)
    names, rank = {}, {}
    for i, (tag_id, name) in enumerate(conn.execute("SELECT id, name FROM tags ORDER BY sort, id")):
        names[tag_id], rank[tag_id] = name, i
    tag_lists: dict[str, list[str]] = {}        # a few dozen distinct combinations
    days: dict[int, str] = {}                   # ordinal -> ISO date, a few thousand
    place_of = places.of
    ordinal = day.toordinal()
    out = []
    for rid, name, household_id, unit, room, interval, tag_ids, last, due_jd in raw:
        due_ord = int(due_jd - _JD)
        tags = tag_lists.get(tag_ids)
        if tags is None:
            ids = sorted({int(t) for t in tag_ids.split(",")}, key=rank.__getitem__)
            tags = tag_lists[tag_ids] = [names[t] for t in ids]
        due_on = days.get(due_ord)
        if due_on is None:
            due_on = days[due_ord] = dt.date.fromordinal(due_ord).isoformat()
        community, grid_name, _building, _label, prefix = place_of(unit)
        out.append({
            "resident_id": rid, "name": name, "household_id": household_id,
            "address": prefix + room if room else "", "grid": grid_name,
            "community": community, "tags": tags.copy(),
            "interval_days": interval, "last_visit": last, "due_on": due_on,
            "days_overdue": ordinal - due_ord, "never_visited": last is None})
    return out


def due_records(conn: sqlite3.Connection, on: dt.date | str | None = None,
                unit_code: str | None = None, within_days: int = 7,
                include_not_due: bool = False, access: Access | None = None) -> list[dict]:
    """due() as JSON-ready rows for `shequ visits due --json` (unit by grid_units.code).

    Raises DomainError for an unknown unit code or an unreadable date.
    """
    unit_id = None
    if unit_code is not None:
        row = conn.execute("SELECT id FROM grid_units WHERE code = ?", (unit_code,)).fetchone()
        if row is None:
            raise DomainError(f"没有编码为“{unit_code}”的网格单元")
        unit_id = row[0]
    keys = ("resident_id", "name", "address", "community", "grid", "tags", "interval_days",
            "last_visit", "due_on", "days_overdue", "never_visited")
    return [{k: row[k] for k in keys}
            for row in due(conn, on, unit_id, within_days, include_not_due, access)]


# --- monthly figures ---------------------------------------------------------------------------

def month_figures(conn: sqlite3.Connection, year: int, month: int,
                  unit_id: int | None = None, access: Access | None = None) -> dict:
    """Figures for the monthly report, for the focus-group members of the unit:

    due       应访: members (tags active at month end) whose visit fell due by the month's
              end, counting only visits made before the month began (those overdue at its
              start and those never visited included);
    done      已访: how many of those were visited during the month;
    visits    走访人次: visits made during the month to residents of the unit;
    overdue   月末逾期: members still overdue at the month's end (visits up to that day).
    """
    if not 1 <= month <= 12:
        raise DomainError(f"月份“{month}”不对")
    first = dt.date(year, month, 1)
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    start, end = first.isoformat(), last.isoformat()
    before = (first - dt.timedelta(days=1)).isoformat()
    due_ids = {r[0] for r in _raw_due(conn, end, unit_id, last, before, access)}
    visited = {r[0] for r in conn.execute(
        "SELECT DISTINCT resident_id FROM visits WHERE visited_on BETWEEN ? AND ?", (start, end))}
    within = scope(access, unit_id)
    if within is None:
        visits = conn.execute("SELECT count(*) FROM visits WHERE visited_on BETWEEN ? AND ?",
                              (start, end)).fetchone()[0]
    else:
        visits = conn.execute(within[0] + """
            SELECT count(*) FROM subtree s CROSS JOIN houses ho ON ho.unit_id = s.id
            CROSS JOIN households h ON h.house_id = ho.id
            CROSS JOIN residents r ON r.household_id = h.id
            CROSS JOIN visits v ON v.resident_id = r.id
            WHERE v.visited_on BETWEEN ? AND ?""", (within[1], start, end)).fetchone()[0]
    overdue = len(_raw_due(conn, end, unit_id, last - dt.timedelta(days=1), access=access))
    return {"year": year, "month": month, "due": len(due_ids), "done": len(due_ids & visited),
            "visits": visits, "overdue": overdue}
