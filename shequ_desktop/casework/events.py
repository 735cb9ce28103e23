"""Events (事件) through a closed loop: 上报 → 受理 → 处置中 → 办结 → 归档, with 退回 one step back.

Every change of an event writes a line in its log (event_log: who, when, from/to status, note)
in the same transaction. The deadline is set on 受理, in working days by the Chinese holiday
calendar (shequ_desktop.core.workdays). An event is overdue when it is not 办结/归档 and the day is
after its deadline; it was closed on time when closed_at <= deadline.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Iterable

from db.driver import sqlite3
from shequ_desktop.core import workdays
from shequ_desktop.core.access import Access, scope
from shequ_desktop.core.context import Change, Context, Result
from shequ_desktop.core.errors import (
    DomainError,
    FieldError,
    NotFoundError,
    ValidationError,
)
from shequ_desktop.core.search import search
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import MICROGRID_OF, SUBTREE_SQL, grid_of, path_key, path_names
from shequ_desktop.core.validation import clean_text, parse_date
from shequ_desktop.population.resident_list import rows as resident_rows

REPORTED, ACCEPTED, IN_PROGRESS, CLOSED, ARCHIVED = STATUSES = (
    "上报", "受理", "处置中", "办结", "归档")
OPEN_STATUSES = (REPORTED, ACCEPTED, IN_PROGRESS)
DONE_STATUSES = (CLOSED, ARCHIVED)
# The action that brings an event into each status (the log's `action` column too).
ACTIONS = {REPORTED: "上报", ACCEPTED: "受理", IN_PROGRESS: "处置", CLOSED: "办结",
           ARCHIVED: "归档"}
SEND_BACK = "退回"
NOTE = "备注"
DEFAULT_DEADLINE_DAYS = 5
MAX_DEADLINE_DAYS = 365
TABLES = ("events", "event_log", "event_categories")   # what the events page listens to


def _today(on) -> dt.date:
    if on is None:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(parse_date(on))
    except ValueError as exc:
        raise ValidationError([FieldError("date", "日期", str(exc))]) from None


def _now() -> str:
    """Local wall-clock time of a log line, as the user reads it (updated_at stays UTC)."""
    return dt.datetime.now().isoformat(sep=" ", timespec="seconds")


_text = clean_text


def _required(value: Any, name: str, label: str) -> str:
    text = _text(value)
    if text is None:
        raise ValidationError([FieldError(name, label, "不能为空")])
    return text


def _get_event(ctx: Context, event_id: int) -> dict:
    row = ctx.conn.execute("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"找不到事件（编号 {event_id}）")
    return dict(row)


def _log(ctx: Context, event_id: int, action: str, from_status: str | None,
         to_status: str | None, note: str | None) -> list[Change]:
    _, changes = ctx.insert("event_log", {
        "event_id": event_id, "at": _now(), "user": ctx.user, "action": action,
        "from_status": from_status, "to_status": to_status, "note": note})
    return changes


def _check_step(event: dict, target: str) -> None:
    """Refuse anything but the next step of the loop, with the reason."""
    current = event["status"]
    action = ACTIONS[target]
    if current == target:
        raise DomainError(f"事件已是“{current}”，不能再{action}")
    if current == ARCHIVED:
        raise DomainError(f"事件已归档，不能再{action}")
    step = STATUSES.index(current) + 1
    if STATUSES.index(target) < step:
        raise DomainError(f"事件当前为“{current}”，不能再{action}")
    if STATUSES.index(target) > step:
        raise DomainError(f"事件当前为“{current}”，需先{ACTIONS[STATUSES[step]]}，才能{action}")


def _transition(ctx: Context, event_id: int, target: str, values: dict, note: str | None,
                action: str | None = None) -> Result:
    with ctx.transaction():
        event = _get_event(ctx, event_id)
        if action is None:
            _check_step(event, target)
        accepted = values.get("accepted_at")
        if accepted and accepted < event["found_at"]:
            raise ValidationError([FieldError("accepted_at", "受理日期",
                                              f"早于发现时间 {event['found_at']}")])
        changes = ctx.update("events", event_id, {**values, "status": target}, event)
        changes += _log(ctx, event_id, action or ACTIONS[target], event["status"], target, note)
    return Result(event_id, changes)


# --- the loop ----------------------------------------------------------------------------------

def report_event(ctx: Context, unit_id: int, category_id: int, description: str, found_at,
                 reporter: str, location: str | None = None, household_id: int | None = None,
                 resident_id: int | None = None) -> Result:
    """上报: a new event in a grid unit."""
    errors: list[FieldError] = []
    description = _text(description)
    reporter = _text(reporter)
    if description is None:
        errors.append(FieldError("description", "事件描述", "不能为空"))
    if reporter is None:
        errors.append(FieldError("reporter", "上报人", "不能为空"))
    try:
        found = parse_date(found_at if found_at not in (None, "") else dt.date.today())
        if found > dt.date.today().isoformat():
            errors.append(FieldError("found_at", "发现时间", f"“{found}”晚于今天"))
    except ValueError as exc:
        errors.append(FieldError("found_at", "发现时间", str(exc)))
    if errors:
        raise ValidationError(errors)
    with ctx.transaction():
        ctx.get("grid_units", unit_id)
        category = _get_category(ctx, category_id)
        if not category["active"]:
            raise DomainError(f"事件类别“{category['name']}”已停用，请选择其他类别")
        if household_id is not None:
            ctx.get("households", household_id)
        if resident_id is not None:
            _check_resident(ctx, unit_id, resident_id)
        new_id, changes = ctx.insert("events", {
            "category_id": category_id, "unit_id": unit_id, "household_id": household_id,
            "resident_id": resident_id, "description": description,
            "location": _text(location), "found_at": found, "reporter": reporter,
            "status": REPORTED})
        changes += _log(ctx, new_id, ACTIONS[REPORTED], None, REPORTED, None)
    return Result(new_id, changes)


def accept(ctx: Context, event_id: int, deadline_days: int = DEFAULT_DEADLINE_DAYS,
           note: str | None = None, *, on=None) -> Result:
    """受理: the deadline is the `deadline_days`-th working day after the day of acceptance.

    `on` is the day of acceptance (today unless given, e.g. for a paper record entered late).
    """
    day = _today(on)
    if day > dt.date.today():
        raise ValidationError([FieldError("accepted_at", "受理日期", f"“{day}”晚于今天")])
    text = "" if deadline_days is None else str(deadline_days).strip()
    days = int(text) if text.isdigit() else 0
    if not 1 <= days <= MAX_DEADLINE_DAYS:
        raise ValidationError([FieldError("deadline_days", "办理期限",
                                          f"应为 1 至 {MAX_DEADLINE_DAYS} 个工作日")])
    deadline = workdays.add_workdays(day, days)
    line = f"期限 {days} 个工作日，至 {deadline.isoformat()}"
    warning = workdays.calendar_note(day, deadline)
    if warning:
        line += f"（{warning}）"
    note = _text(note)
    return _transition(ctx, event_id, ACCEPTED, {
        "accepted_at": day.isoformat(), "deadline_days": days,
        "deadline": deadline.isoformat()}, f"{line}；{note}" if note else line)


def start(ctx: Context, event_id: int, note: str | None = None) -> Result:
    """处置: work on the event has begun."""
    return _transition(ctx, event_id, IN_PROGRESS, {}, _text(note))


def close(ctx: Context, event_id: int, resolution: str | None, *, on=None) -> Result:
    """办结: refused without a resolution (how it was resolved)."""
    day = _today(on)
    if day > dt.date.today():
        raise ValidationError([FieldError("closed_at", "办结日期", f"“{day}”晚于今天")])
    text = _text(resolution)
    with ctx.transaction():
        event = _get_event(ctx, event_id)
        _check_step(event, CLOSED)
        if text is None:
            raise ValidationError([FieldError("resolution", "办结情况",
                                              "办结必须填写处置结果，不能为空")])
        if event["accepted_at"] and day.isoformat() < event["accepted_at"]:
            raise ValidationError([FieldError("closed_at", "办结日期",
                                              f"早于受理日期 {event['accepted_at']}")])
        return _transition(ctx, event_id, CLOSED,
                           {"resolution": text, "closed_at": day.isoformat()}, text)


def archive(ctx: Context, event_id: int, note: str | None = None) -> Result:
    """归档: a closed event is filed."""
    return _transition(ctx, event_id, ARCHIVED, {}, _text(note))


def send_back(ctx: Context, event_id: int, note: str | None) -> Result:
    """退回: one step back, with the reason. An archived event is not sent back."""
    text = _text(note)
    with ctx.transaction():
        event = _get_event(ctx, event_id)
        current = event["status"]
        if current == ARCHIVED:
            raise DomainError("事件已归档，不能退回")
        if current == REPORTED:
            raise DomainError("事件当前为“上报”，已是第一步，不能退回")
        if text is None:
            raise ValidationError([FieldError("note", "退回原因", "退回必须说明原因")])
        target = STATUSES[STATUSES.index(current) - 1]
        # Leaving a step undoes what it set; the log keeps the old values.
        undo = {ACCEPTED: {"accepted_at": None, "deadline_days": None, "deadline": None},
                IN_PROGRESS: {}, CLOSED: {"resolution": None, "closed_at": None}}[current]
        return _transition(ctx, event_id, target, undo, text, action=SEND_BACK)


def add_note(ctx: Context, event_id: int, note: str) -> Result:
    """A line in the event's log without a change of status."""
    text = _required(note, "note", "备注")
    with ctx.transaction():
        event = _get_event(ctx, event_id)
        changes = _log(ctx, event_id, NOTE, event["status"], event["status"], text)
    return Result(event_id, changes)


# --- the resident an event concerns ------------------------------------------------------------

def resident_area(conn: sqlite3.Connection, unit_id: int) -> int:
    """Where the resident an event concerns may live: the event's grid (its unit's, when the
    event is filed on a building or a unit), or the unit itself above grid level. Keeping
    them together keeps a unit's data package whole: the event travels with its resident."""
    return grid_of(conn, unit_id) or unit_id


def _check_resident(ctx: Context, unit_id: int, resident_id: int) -> dict:
    person = ctx.get("residents", resident_id)
    area = resident_area(ctx.conn, unit_id)
    lives = ctx.conn.execute(SUBTREE_SQL + """
        SELECT 1 FROM households h JOIN houses ho ON ho.id = h.house_id
        WHERE h.id = ? AND ho.unit_id IN (SELECT id FROM subtree)""",
                             (area, person["household_id"])).fetchone()
    if not lives:
        raise DomainError(f"{person['name']}不住在“{' / '.join(path_names(ctx.conn, area))}”，"
                          "不能关联到这里的事件")
    return person


def set_resident(ctx: Context, event_id: int, resident_id: int | None) -> Result:
    """Link the event to the resident it concerns (None: unlink); noted in the event's log.
    A user who may not change the event is refused even when nothing would change."""
    with ctx.transaction():
        event = _get_event(ctx, event_id)
        _check_may_change(ctx.conn, ctx.access, event)
        if resident_id == event["resident_id"]:
            return Result(event_id, [])
        note = "取消关联居民"
        if resident_id is not None:
            note = f"关联居民：{_check_resident(ctx, event['unit_id'], resident_id)['name']}"
        changes = ctx.update("events", event_id, {"resident_id": resident_id}, event)
        changes += _log(ctx, event_id, NOTE, event["status"], event["status"], note)
    return Result(event_id, changes)


def may_change(conn: sqlite3.Connection, access: Access | None, event: dict) -> bool:
    """Whether the user may change the event (the write path's own rules, asked in advance so
    the GUI can offer only what would go through): not a 只读 user, not a 网格员 outside
    the event's grid."""
    try:
        _check_may_change(conn, access, event)
    except DomainError:
        return False
    return True


def _check_may_change(conn: sqlite3.Connection, access: Access | None, event: dict) -> None:
    if access is not None:
        access.check_table("events")
        access.check_record(conn, "events", event)


def resident_choices(conn: sqlite3.Connection, unit_id: int, text: str,
                     access: Access | None = None, limit: int = 30) -> list[dict]:
    """Residents an event filed on `unit_id` may concern, found by `text` (name, pinyin
    initials, ID or phone fragment, address) among those living in its resident_area():
    dicts of id, name, id_number, birth_date, address."""
    area = resident_area(conn, unit_id)
    if access is not None and not access.may_read(area):
        area = unit_id
    found = search(conn, text, limit=limit, access=access, unit_id=area)
    return [{"id": r["id"], "name": r["name"], "id_number": r["id_number"],
             "birth_date": r["birth_date"], "address": r["address"] or ""}
            for r in resident_rows(conn, [r["id"] for r in found])]


def resident_by_key(conn: sqlite3.Connection, key: str) -> int:
    """A resident named by ID number (身份证号) or record id, for the command line."""
    key = key.strip()
    row = conn.execute(f"SELECT id FROM residents WHERE id_number = ? ORDER BY status != '{ON_RECORD}',"
                       " id LIMIT 1", (key.upper(),)).fetchone()
    if row is None and key.isdigit() and len(key) < 12:
        row = conn.execute("SELECT id FROM residents WHERE id = ?", (int(key),)).fetchone()
    if row is None:
        raise NotFoundError(f"找不到居民“{key}”（请给身份证号或居民编号）")
    return row[0]


def of_resident(conn: sqlite3.Connection, resident_id: int,
                on: dt.date | str | None = None) -> list[dict]:
    """The events that concern a resident, newest found first (as list_events shows them)."""
    rows = _select(conn, "", ["e.resident_id = ?"], [resident_id], _today(on))
    return sorted(rows, key=lambda e: (e["found_at"], e["id"]), reverse=True)


# --- categories --------------------------------------------------------------------------------

def _get_category(ctx: Context, category_id: int) -> dict:
    row = ctx.conn.execute("SELECT * FROM event_categories WHERE id = ?",
                           (category_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"找不到事件类别（编号 {category_id}）")
    return dict(row)


def _category_name(ctx: Context, name: str, own_id: int | None = None) -> str:
    text = _required(name, "name", "类别名称")
    if "\n" in text or len(text) > 20:
        raise ValidationError([FieldError("name", "类别名称", "应为一行，不超过20个字")])
    if ctx.conn.execute("SELECT 1 FROM event_categories WHERE name = ? AND id IS NOT ?",
                        (text, own_id)).fetchone():
        raise ValidationError([FieldError("name", "类别名称", f"已有“{text}”")])
    return text


def create_category(ctx: Context, name: str) -> Result:
    with ctx.transaction():
        text = _category_name(ctx, name)
        sort = ctx.conn.execute(
            "SELECT coalesce(max(sort), -1) + 1 FROM event_categories").fetchone()[0]
        new_id, changes = ctx.insert("event_categories", {"name": text, "sort": sort})
    return Result(new_id, changes)


def rename_category(ctx: Context, category_id: int, name: str) -> Result:
    with ctx.transaction():
        current = _get_category(ctx, category_id)
        text = _category_name(ctx, name, category_id)
        return Result(category_id, ctx.update("event_categories", category_id,
                                              {"name": text}, current))


def set_category_active(ctx: Context, category_id: int, active: bool) -> Result:
    """A category in use is never deleted: it is switched off for new events."""
    with ctx.transaction():
        current = _get_category(ctx, category_id)
        return Result(category_id, ctx.update("event_categories", category_id,
                                              {"active": 1 if active else 0}, current))


def categories(conn: sqlite3.Connection, include_inactive: bool = False) -> list[dict]:
    where = "" if include_inactive else "WHERE active = 1"
    return [dict(r) for r in conn.execute(
        f"SELECT id, name, sort, active FROM event_categories {where} ORDER BY sort, id")]


# --- queries -----------------------------------------------------------------------------------

def _statuses(status: str | Iterable[str] | None) -> tuple[str, ...] | None:
    if status is None:
        return None
    wanted = (status,) if isinstance(status, str) else tuple(status)
    unknown = [s for s in wanted if s not in STATUSES]
    if unknown:
        raise DomainError(f"未知的事件状态“{unknown[0]}”（应为 {'/'.join(STATUSES)}）")
    return wanted


def _places(conn: sqlite3.Connection, unit_ids: set[int]) -> dict[int, tuple[str, str]]:
    """unit id -> (grid name, path from the top) for the units of the events listed."""
    if not unit_ids:
        return {}
    rows = conn.execute("""
        WITH RECURSIVE up(start, id, parent_id, level, name, depth) AS (
            SELECT g.id, g.id, g.parent_id, g.level, g.name, 0 FROM grid_units g
            WHERE g.id IN (SELECT value FROM json_each(?))
            UNION ALL
            SELECT up.start, g.id, g.parent_id, g.level, g.name, up.depth + 1
            FROM grid_units g JOIN up ON g.id = up.parent_id)
        SELECT start, level, name FROM up ORDER BY start, depth DESC""",
                        (json.dumps(sorted(unit_ids)),)).fetchall()
    chains: dict[int, list[tuple[str, str]]] = {}
    for start_id, level, name in rows:
        chains.setdefault(start_id, []).append((level, name))
    out = {}
    for unit_id, chain in chains.items():
        grids = [name for level, name in chain if level == "grid"]
        # A unit above the grids (community, street) stands for itself.
        out[unit_id] = (grids[0] if grids else chain[-1][1], " / ".join(n for _, n in chain))
    return out


def _days(a: str, b: dt.date) -> int:
    return (b - dt.date.fromisoformat(a)).days


# An event's 微网格: the one it is assigned to (microgrids.assign_event), else that of the
# household of the resident it concerns (tree.MICROGRID_OF). An event without either (filed on
# a building, concerning no one) has none: assigning it is how it gets one. `e` is the event, `r`
# its resident (_select's aliases).
EVENT_MICROGRID = f"""coalesce(e.microgrid_id, (
    SELECT {MICROGRID_OF.format(hh='hh', ho='ho')} FROM households hh
    JOIN houses ho ON ho.id = hh.house_id WHERE hh.id = coalesce(r.household_id, e.household_id)))"""


def list_events(conn: sqlite3.Connection, status: str | Iterable[str] | None = None,
                category_id: int | None = None, unit_id: int | None = None,
                overdue: bool | None = None, on: dt.date | str | None = None,
                access: Access | None = None, resident_id: int | None = None,
                microgrid_id: int | None = None) -> list[dict]:
    """Events, open ones first (awaiting acceptance, then by deadline), then closed ones.

    unit_id: that unit's whole subtree (access.scope: a 网格员's units when None, and a unit
    outside them is NotPermitted). overdue: True only overdue ones, False only not
    overdue, None both. `on`: the day overdue and days open are counted for (today).
    resident_id: only the events that concern that resident.
    microgrid_id: only the events of that 微网格 (EVENT_MICROGRID: assigned to it, or, not
    assigned, concerning a resident who lives in it).
    Each row: the event's columns, plus category, resident (the name of the resident it
    concerns, or None), grid (the grid's name), unit_path,
    days_open (calendar days from found_at to closed_at or `on`), overdue (bool),
    overdue_days (calendar days past the deadline: as of `on` for an open event, at
    closing for one closed late, else 0).
    """
    day = _today(on)
    where, params = [], []
    prefix, within = "", scope(access, unit_id)
    if within is not None:
        prefix = within[0]
        params.append(within[1])
        where.append("e.unit_id IN (SELECT id FROM subtree)")
    wanted = _statuses(status)
    if wanted is not None:
        where.append(f"e.status IN ({', '.join('?' * len(wanted))})")
        params.extend(wanted)
    if category_id is not None:
        where.append("e.category_id = ?")
        params.append(category_id)
    if resident_id is not None:
        where.append("e.resident_id = ?")
        params.append(resident_id)
    if microgrid_id is not None:
        where.append(f"{EVENT_MICROGRID} = ?")
        params.append(microgrid_id)
    if overdue is not None:
        is_overdue = "(e.status IN ('上报', '受理', '处置中') AND e.deadline < ?)"
        where.append(is_overdue if overdue else f"NOT coalesce({is_overdue}, 0)")
        params.append(day.isoformat())
    return _select(conn, prefix, where, params, day)


def get_event(conn: sqlite3.Connection, event_id: int, on: dt.date | str | None = None
              ) -> dict | None:
    """One event as list_events shows it (with category, grid and days), or None."""
    rows = _select(conn, "", ["e.id = ?"], [event_id], _today(on))
    return rows[0] if rows else None


def _select(conn: sqlite3.Connection, prefix: str, where: list[str], params: list,
            day: dt.date) -> list[dict]:
    rows = conn.execute(prefix + f"""
        SELECT e.*, c.name AS category, r.name AS resident FROM events e
        JOIN event_categories c ON c.id = e.category_id
        LEFT JOIN residents r ON r.id = e.resident_id
        {'WHERE ' + ' AND '.join(where) if where else ''}
        ORDER BY e.status IN ('办结', '归档'),
                 CASE WHEN e.status IN ('办结', '归档') THEN '' ELSE coalesce(e.deadline, '')
                 END,
                 e.closed_at DESC, e.id DESC""", params).fetchall()
    events = [dict(r) for r in rows]
    places = _places(conn, {e["unit_id"] for e in events})
    today = day.isoformat()
    for e in events:
        e["grid"], e["unit_path"] = places.get(e["unit_id"], ("", ""))
        done = e["status"] in DONE_STATUSES
        end = dt.date.fromisoformat(e["closed_at"]) if done and e["closed_at"] else day
        e["days_open"] = max(0, _days(e["found_at"], end))
        e["overdue"] = not done and e["deadline"] is not None and today > e["deadline"]
        late = _days(e["deadline"], end) if e["deadline"] else 0
        e["overdue_days"] = max(0, late) if (e["overdue"] or done) else 0
    return events


def log(conn: sqlite3.Connection, event_id: int) -> list[dict]:
    """The event's log, oldest first: at, user, action, from_status, to_status, note."""
    return [dict(r) for r in conn.execute(
        "SELECT id, at, user, action, from_status, to_status, note FROM event_log "
        "WHERE event_id = ? ORDER BY id", (event_id,))]


def figures(conn: sqlite3.Connection, start, end, unit_id: int | None = None,
            today: dt.date | None = None, access: Access | None = None) -> dict[str, int]:
    """The monthly report's counts for the period start..end (both days included).

    opened: events found (found_at) in the period. closed: events closed (closed_at) in the
    period; closed_on_time: of those, closed on or before their deadline. overdue: events
    overdue at the end of the period (or today, for a period not over yet): accepted, past
    their deadline, and not closed by then.
    """
    first, last = parse_date(start), parse_date(end)
    on = min(last, (today or dt.date.today()).isoformat())
    prefix, where, params = "", "", []
    within = scope(access, unit_id)
    if within is not None:
        prefix, where, params = within[0], "AND unit_id IN (SELECT id FROM subtree)", [within[1]]
    row = conn.execute(prefix + f"""
        SELECT
            coalesce(sum(found_at BETWEEN ? AND ?), 0),
            coalesce(sum(closed_at BETWEEN ? AND ?), 0),
            coalesce(sum(closed_at BETWEEN ? AND ? AND closed_at <= deadline), 0),
            coalesce(sum(accepted_at <= ? AND deadline < ?
                         AND (closed_at IS NULL OR closed_at > ?)), 0)
        FROM events WHERE 1 {where}""",
                       [*params, first, last, first, last, first, last, on, on, on]).fetchone()
    return dict(zip(("opened", "closed", "closed_on_time", "overdue"), row))


RECORD_KEYS = ("id", "category", "grid", "unit_path", "resident_id", "resident", "description",
               "location", "found_at",
               "reporter", "status", "accepted_at", "deadline_days", "deadline", "closed_at",
               "resolution", "days_open", "overdue", "overdue_days")


def list_records(conn: sqlite3.Connection, status: str | None = None, overdue: bool = False,
                 on: dt.date | str | None = None, access: Access | None = None,
                 resident_id: int | None = None) -> list[dict]:
    """JSON-ready rows for `shequ events list [--status S] [--overdue] [--on DATE]
    [--resident ID] --json`."""
    rows = list_events(conn, status=status, overdue=True if overdue else None, on=on,
                       access=access, resident_id=resident_id)
    return [{k: r[k] for k in RECORD_KEYS} for r in rows]


def unit_choices(conn: sqlite3.Connection, unit_id: int | None = None,
                 access: Access | None = None) -> list[tuple[int, str]]:
    """Where a new event may be filed: (id, "社区 / 网格") of every grid (a 网格员's: those
    they may read), in natural order (tree.path_key), and first, when `unit_id` lies below a grid (a building,
    a unit), that unit itself as "网格 / 楼栋 / 单元"."""
    rows = conn.execute("""
        SELECT g.id, coalesce(p.name || ' / ', '') || g.name FROM grid_units g
        LEFT JOIN grid_units p ON p.id = g.parent_id
        WHERE g.level = 'grid' ORDER BY p.sort, p.id, g.sort, g.id""").fetchall()
    choices = sorted(((r[0], r[1]) for r in rows if access is None or access.may_read(r[0])),
                     key=lambda c: path_key(c[1]))
    if unit_id is not None and unit_id not in {c[0] for c in choices}:
        places = _places(conn, {unit_id})
        level = conn.execute("SELECT level FROM grid_units WHERE id = ?", (unit_id,)).fetchone()
        if unit_id in places and level and level[0] in ("compound", "building", "unit"):
            path = places[unit_id][1].split(" / ")
            grid_name = places[unit_id][0]
            below = path[path.index(grid_name):] if grid_name in path else path[-2:]
            choices.insert(0, (unit_id, " / ".join(below)))
    return choices
