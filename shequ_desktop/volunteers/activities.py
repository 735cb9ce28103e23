"""Volunteer activities (志愿活动) and their service records, entered as a sign-in sheet
(签到表): tick who came; hours default to the activity's length and can be changed per person.

Rules for the hours of a record (志愿服务记录与证明出具办法: hours are the time actually
served): more than 0, not more than the activity lasted, and not more than 24 in one day
together with the volunteer's other activities starting that day. A volunteer recorded in two
activities whose times overlap is flagged: the sheet is saved only when the user confirms.
Times are local 'YYYY-MM-DD HH:MM'; a day is the day an activity starts.

One record holds at most 24 hours (the schema's CHECK), also for an activity spanning several
days: a camp of several days is entered as one activity per day, so each day's hours stand on
their own record and the 24-hour day rule holds per day.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from db.driver import sqlite3
from shequ_desktop.core.access import Access
from shequ_desktop.core.context import Change, Context, Result
from shequ_desktop.core.errors import (
    ConflictError,
    DomainError,
    FieldError,
    ValidationError,
)
from shequ_desktop.core.pinyin import sort_key
from shequ_desktop.core.tree import SUBTREE_SQL
from shequ_desktop.core.validation import clean_record
from shequ_desktop.volunteers import points as volunteer_points
from shequ_desktop.volunteers import roster as volunteers

MAX_DAY_HOURS = 24.0
MAX_LENGTH_DAYS = 7          # an activity longer than a week is a typing error
_TIME = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?[ T]+(\d{1,2})[:：时](\d{1,2})分?")
_EPS = 1e-6


def parse_time(value: Any) -> str:
    """'YYYY-MM-DD HH:MM' from a datetime or text such as '2024-3-2 9:00' or '2024年3月2日 9:30'."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    m = _TIME.fullmatch(text)
    if not m:
        raise ValueError(f"“{text}”不是可识别的时间（请写成 2024-03-02 09:00）")
    try:
        return dt.datetime(*(int(g) for g in m.groups())).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        raise ValueError(f"“{text}”不是有效时间") from None


def length_hours(starts_at: str, ends_at: str) -> float:
    """How long an activity lasts, in hours (two decimals)."""
    start = dt.datetime.fromisoformat(starts_at)
    end = dt.datetime.fromisoformat(ends_at)
    return round((end - start).total_seconds() / 3600, 2)


# --- activities --------------------------------------------------------------------------------

def _activity_values(ctx: Context, values: dict, current: dict | None) -> dict:
    plain = {k: v for k, v in values.items() if k not in ("starts_at", "ends_at", "unit_id")}
    errors: list[FieldError] = []
    try:
        clean = clean_record("activities", plain, existing=current)
    except ValidationError as exc:
        errors += exc.errors
        clean = {}
    times = {}
    for key, label in (("starts_at", "开始时间"), ("ends_at", "结束时间")):
        if key in values or current is None:
            try:
                times[key] = parse_time(values.get(key))
            except ValueError as exc:
                errors.append(FieldError(key, label, str(exc)))
        else:
            times[key] = current[key]
    if len(times) == 2:
        hours = length_hours(times["starts_at"], times["ends_at"])
        if hours <= 0:
            errors.append(FieldError("ends_at", "结束时间",
                                     f"{times['ends_at']} 应晚于开始时间 {times['starts_at']}"))
        elif hours > MAX_LENGTH_DAYS * 24:
            errors.append(FieldError("ends_at", "结束时间",
                                     f"活动长达 {hours:g} 小时，请核对开始和结束时间"))
    if errors:
        raise ValidationError(errors)
    clean.update(times)
    if "unit_id" in values:
        if values["unit_id"] is not None:
            ctx.get("grid_units", values["unit_id"])
        clean["unit_id"] = values["unit_id"]
    return clean


def create_activity(ctx: Context, values: dict[str, Any]) -> Result:
    """title, category (服务类别), organiser, place, starts_at, ends_at, unit_id, notes."""
    with ctx.transaction():
        new_id, changes = ctx.insert("activities", _activity_values(ctx, values, None))
        return Result(new_id, changes)


def update_activity(ctx: Context, activity_id: int, values: dict[str, Any], *,
                    expected: dict | None = None, accept_overlaps: bool = False) -> Result:
    """Change an activity. Refused when a service record already entered would no longer
    hold: shorter than its hours, moved outside someone's joined/left dates, over 24 h a day,
    a points ledger going below zero at some date; OverlapError when moving it makes someone's
    activities overlap, unless `accept_overlaps`. `expected`: the activity as the form read it
    (ConflictError when someone else saved it in between)."""
    with ctx.transaction():
        current = ctx.get("activities", activity_id)
        volunteers.check_version("activities", current, expected)
        clean = _activity_values(ctx, values, current)
        recorded = dict(ctx.conn.execute(
            "SELECT volunteer_id, hours FROM service_records WHERE activity_id = ?",
            (activity_id,)).fetchall())
        moved = any(clean.get(k, current[k]) != current[k] for k in ("starts_at", "ends_at"))
        before = ({v: volunteer_points.lowest(ctx.conn, v)[0] for v in recorded}
                  if moved else {})
        overlapping_before = {(p.volunteer_id, p.message) for p in
                              check_sheet(ctx.conn, activity_id, recorded) if not p.blocking}
        changes = ctx.update("activities", activity_id, clean, current)
        new = {**current, **clean}
        length = length_hours(new["starts_at"], new["ends_at"])
        too_long = ctx.conn.execute(f"""
            SELECT v.name, s.hours FROM service_records s
            JOIN {volunteers.VOLUNTEERS} v ON v.id = s.volunteer_id
            WHERE s.activity_id = ? AND s.hours > ? + 1e-6 ORDER BY v.name""",
                                    (activity_id, length)).fetchall()
        if too_long:
            raise DomainError(f"活动时长改为 {length:g} 小时后，以下已登记的服务时长超过活动时长："
                              + "、".join(f"{r[0]} {r[1]:g} 小时" for r in too_long))
        problems = check_sheet(ctx.conn, activity_id, recorded)
        blocking = [p for p in problems if p.blocking]
        if blocking:                # e.g. moved to before someone joined
            raise DomainError("改动后已登记的服务记录不再成立：" + "；".join(map(str, blocking)))
        new_flags = [p for p in problems if not p.blocking
                     and (p.volunteer_id, p.message) not in overlapping_before]
        if new_flags and not accept_overlaps:
            raise OverlapError(new_flags)
        for vid, low in before.items():      # the ledger's order of dates changed
            volunteer_points.check_not_negative(ctx, vid, before=low)
        return Result(activity_id, changes)


def delete_activity(ctx: Context, activity_id: int) -> Result:
    """Only an activity nobody has signed in to can be deleted."""
    with ctx.transaction():
        current = ctx.get("activities", activity_id)
        n = ctx.conn.execute("SELECT count(*) FROM service_records WHERE activity_id = ?",
                             (activity_id,)).fetchone()[0]
        if n:
            raise DomainError(f"活动“{current['title']}”已有 {n} 条服务记录，不能删除")
        return Result(activity_id, ctx.delete("activities", activity_id))


def list_activities(conn: sqlite3.Connection, date_from: str | None = None,
                    date_to: str | None = None, unit_id: int | None = None,
                    access: Access | None = None) -> list[dict]:
    """Activities starting in the period, newest first, each with length (hours), people
    (signed in) and hours (their sum). With `unit_id` (or a 网格员's `access`): those of
    volunteers.near_units() (a community's activities show under each of its grids) and
    those with no unit."""
    start, end = volunteer_points.period_bounds(date_from, date_to)
    scope = ""
    near = volunteers.near_units(conn, unit_id, access)
    if near is not None:
        scope = f" AND (a.unit_id IS NULL OR a.unit_id IN ({','.join(map(str, near))}))"
    rows = conn.execute(f"""
        SELECT a.id, a.title, a.category, a.organiser, a.place, a.starts_at, a.ends_at,
               a.unit_id, a.notes, count(s.id) AS people, coalesce(sum(s.hours), 0) AS hours
        FROM activities a LEFT JOIN service_records s ON s.activity_id = a.id
        WHERE a.starts_at BETWEEN ? AND ? {scope}
        GROUP BY a.id ORDER BY a.starts_at DESC, a.id DESC""",
                        (start, end + " 99")).fetchall()
    out = []
    for r in rows:
        row = dict(r)
        row["length"] = length_hours(row["starts_at"], row["ends_at"])
        row["hours"] = round(row["hours"], 2)
        out.append(row)
    return out


# --- the sign-in sheet -------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    volunteer_id: int
    name: str
    message: str
    blocking: bool          # False: a flag the user may accept (overlapping activities)

    def __str__(self) -> str:
        return f"{self.name}：{self.message}"


class OverlapError(DomainError):
    """Some volunteers are also recorded in an activity at an overlapping time."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("以下志愿者同一时间还登记在其他活动中：" + "；".join(map(str, problems)))


def sheet_scope(conn: sqlite3.Connection, activity_id: int) -> int | None:
    """The unit whose volunteers a sign-in sheet lists by default: the community of the
    activity's unit (volunteers.community_of); None (everyone) when the activity has no unit."""
    row = conn.execute("SELECT unit_id FROM activities WHERE id = ?", (activity_id,)).fetchone()
    return volunteers.community_of(conn, row[0]) if row else None


def sheet(conn: sqlite3.Connection, activity_id: int,
          access: Access | None = None) -> list[dict]:
    """The sign-in sheet: everyone in the register on the activity's day (with a 网格员's
    `access`: those of the register they see, volunteers.readable_ids), and anyone already
    recorded (never left out, so a sheet is not shown with people missing). Rows:
    volunteer_id, name, team, came, hours (recorded, or the activity's length),
    record_id, version (of the record; read_state), local (of the activity's community —
    sheet_scope, volunteers.IN_SCOPE — or the activity has no unit: the sheet shows these by
    default); by team then name."""
    act = conn.execute("SELECT starts_at, ends_at FROM activities WHERE id = ?",
                       (activity_id,)).fetchone()
    if act is None:
        raise DomainError(f"找不到志愿活动（编号 {activity_id}）")
    day = act["starts_at"][:10]
    length = length_hours(act["starts_at"], act["ends_at"])
    unit = sheet_scope(conn, activity_id)
    head, local = "", "1"
    if unit is not None:
        head, local = SUBTREE_SQL.replace("?", ":unit"), volunteers.IN_SCOPE
    rows = conn.execute(head + f"""
        SELECT v.id, v.name, t.name AS team, s.id AS record_id, s.version, s.hours,
               {local} AS local
        FROM {volunteers.VOLUNTEERS} v
        LEFT JOIN volunteer_teams t ON t.id = v.team_id
        LEFT JOIN service_records s ON s.volunteer_id = v.id AND s.activity_id = :a
        WHERE s.id IS NOT NULL
           OR (v.joined_on <= :day AND (v.left_on IS NULL OR v.left_on >= :day))
        ORDER BY t.name IS NULL, t.name, v.name, v.id""",
                        {"a": activity_id, "day": day, "unit": unit})
    seen = volunteers.readable_ids(conn, access)
    if seen is not None:
        rows = [r for r in rows if r["record_id"] is not None or r["id"] in seen]
    return [{"volunteer_id": r["id"], "name": r["name"], "team": r["team"],
             "came": r["record_id"] is not None, "record_id": r["record_id"],
             "version": r["version"],
             "hours": r["hours"] if r["hours"] is not None else min(length, MAX_DAY_HOURS),
             "local": bool(r["local"])}
            for r in sorted(rows, key=lambda r: (r["team"] is None, sort_key(r["team"]),
                                                 sort_key(r["name"]), r["id"]))]


def _hours(value: Any) -> float | None:
    """Hours typed on the sheet, rounded to 0.01; None when not a (finite) number."""
    try:
        number = float(unicodedata.normalize("NFKC", str(value)).strip())
    except (TypeError, ValueError):
        return None
    return round(number, 2) if math.isfinite(number) else None


def check_sheet(conn: sqlite3.Connection, activity_id: int,
                entries: Mapping[int, Any]) -> list[Problem]:
    """What is wrong with a sign-in sheet {volunteer_id: hours} before it is saved: blocking
    problems (hours, dates, the 24-hour day) and flags (overlapping activities)."""
    act = conn.execute("SELECT * FROM activities WHERE id = ?", (activity_id,)).fetchone()
    if act is None:
        raise DomainError(f"找不到志愿活动（编号 {activity_id}）")
    day = act["starts_at"][:10]
    length = length_hours(act["starts_at"], act["ends_at"])
    problems: list[Problem] = []
    for vid, raw in entries.items():
        person = conn.execute("SELECT id, name, joined_on, left_on FROM "
                              f"{volunteers.VOLUNTEERS} v WHERE id = ?", (vid,)).fetchone()
        if person is None:
            raise DomainError(f"找不到志愿者（编号 {vid}）")
        name = person["name"]

        def block(message: str) -> None:
            problems.append(Problem(vid, name, message, True))

        hours = _hours(raw)
        if hours is None:
            block(f"服务时长“{raw}”不是数字")
            continue
        if hours <= 0:
            block("服务时长应大于 0")
        elif hours > length + _EPS:
            block(f"服务时长 {hours:g} 小时超过活动时长 {length:g} 小时")
        elif hours > MAX_DAY_HOURS:
            block(f"服务时长 {hours:g} 小时超过一天 24 小时"
                  + ("（跨天的活动请按天分别登记为多个活动）" if length > MAX_DAY_HOURS else ""))
            continue
        if person["joined_on"] > day:
            block(f"活动日期 {day} 早于其加入日期 {person['joined_on']}")
        if person["left_on"] and person["left_on"] < day:
            block(f"已于 {person['left_on']} 退出，不能登记 {day} 的活动")
        others = conn.execute("""
            SELECT a.id, a.title, a.starts_at, a.ends_at, s.hours
            FROM service_records s JOIN activities a ON a.id = s.activity_id
            WHERE s.volunteer_id = ? AND s.activity_id <> ?
              AND (a.starts_at BETWEEN ? AND ? OR (a.starts_at < ? AND a.ends_at > ?))""",
                              (vid, activity_id, day, day + " 99", act["ends_at"],
                               act["starts_at"])).fetchall()
        same_day = sum(o["hours"] for o in others if o["starts_at"][:10] == day)
        if hours > 0 and same_day + hours > MAX_DAY_HOURS + _EPS:
            block(f"{day} 当天合计 {same_day + hours:g} 小时（其他活动 {same_day:g} 小时），"
                  "超过 24 小时")
        for o in others:
            if o["starts_at"] < act["ends_at"] and o["ends_at"] > act["starts_at"]:
                problems.append(Problem(vid, name, f"时间与“{o['title']}”（{o['starts_at']}—"
                                                   f"{o['ends_at'][11:]}）重叠", False))
    return problems


SHEET_CHANGED = "签到表已被他人修改，请重新打开"


def read_state(rows: Iterable[dict]) -> dict[int, tuple[int, int]]:
    """What a sign-in sheet was built from (rows of sheet()): {volunteer_id: (record_id,
    version)} of the records that existed — save_sheet's `read`."""
    return {r["volunteer_id"]: (r["record_id"], r["version"]) for r in rows if r["record_id"]}


def save_sheet(ctx: Context, activity_id: int, entries: Mapping[int, Any], *,
               accept_overlaps: bool = False,
               read: Mapping[int, tuple[int, int]] | None = None) -> Result:
    """Save a sign-in sheet `entries` {volunteer_id: hours}: new ones are added (points at
    today's rate), changed hours updated (points recomputed), people unticked removed. All or
    nothing.

    `read`: what the sheet was built from (read_state(sheet(...))); then only the records in
    it that are no longer ticked are removed, and the save is refused (ConflictError,
    SHEET_CHANGED) when the activity's records are no longer exactly those — another PC saved
    the sheet in between. Without `read` the records become exactly `entries`.

    Raises ValidationError for blocking problems, OverlapError for overlaps not accepted,
    DomainError when removing a record would take someone's points below zero at some date,
    and NotPermitted when a 网格员 adds a volunteer outside their grids (Context.get).
    """
    entries = {int(k): v for k, v in entries.items()}
    with ctx.transaction():
        if read is not None:
            now = {r[0]: (r[1], r[2]) for r in ctx.conn.execute(
                "SELECT volunteer_id, id, version FROM service_records WHERE activity_id = ?",
                (activity_id,))}
            if now != {int(k): tuple(v) for k, v in read.items()}:
                raise ConflictError(SHEET_CHANGED, {})
        if ctx.access is not None and ctx.access.restricted:
            signed = {r[0] for r in ctx.conn.execute(
                "SELECT volunteer_id FROM service_records WHERE activity_id = ?",
                (activity_id,))}
            for vid in set(entries) - signed:          # a 网格员 adds only whom they see
                ctx.get("volunteers", vid)
        problems = check_sheet(ctx.conn, activity_id, entries)
        blocking = [p for p in problems if p.blocking]
        if blocking:
            raise ValidationError([FieldError("hours", p.name, p.message) for p in blocking])
        flags = [p for p in problems if not p.blocking]
        if flags and not accept_overlaps:
            raise OverlapError(flags)
        per_hour = volunteer_points.rate(ctx.conn)
        existing = {r["volunteer_id"]: dict(r) for r in ctx.conn.execute(
            "SELECT * FROM service_records WHERE activity_id = ?", (activity_id,))}
        before = {vid: volunteer_points.lowest(ctx.conn, vid)[0] for vid in existing}
        changes: list[Change] = []
        lowered = set(existing) - set(entries)       # whose earned points may go down
        for vid, raw in entries.items():
            hours = _hours(raw)
            points = volunteer_points.points_for(hours, per_hour)
            old = existing.pop(vid, None)
            if old is None:
                changes += ctx.insert("service_records", {
                    "activity_id": activity_id, "volunteer_id": vid, "hours": hours,
                    "points": points})[1]
            elif abs(old["hours"] - hours) > _EPS:
                changes += ctx.update("service_records", old["id"],
                                      {"hours": hours, "points": points}, old)
                if points < old["points"]:
                    lowered.add(vid)
        for vid, old in existing.items():
            changes += ctx.delete("service_records", old["id"])
        for vid in sorted(lowered):
            volunteer_points.check_not_negative(ctx, vid, before=before[vid])
        return Result(activity_id, changes)


def overlaps(conn: sqlite3.Connection, volunteer_ids: Iterable[int] | None = None) -> list[dict]:
    """Every pair of a volunteer's service records whose activities overlap in time:
    volunteer_id, name, first/second activity id, title and start."""
    scope = ""
    if volunteer_ids is not None:
        ids = ",".join(str(int(v)) for v in volunteer_ids) or "NULL"
        scope = f"AND s1.volunteer_id IN ({ids})"
    return [dict(r) for r in conn.execute(f"""
        SELECT s1.volunteer_id, v.name, a1.id AS first_id, a1.title AS first_title,
               a1.starts_at AS first_starts, a2.id AS second_id, a2.title AS second_title,
               a2.starts_at AS second_starts
        FROM service_records s1
        JOIN service_records s2 ON s2.volunteer_id = s1.volunteer_id
                               AND s2.activity_id > s1.activity_id
        JOIN activities a1 ON a1.id = s1.activity_id
        JOIN activities a2 ON a2.id = s2.activity_id
        JOIN {volunteers.VOLUNTEERS} v ON v.id = s1.volunteer_id
        WHERE a1.starts_at < a2.ends_at AND a2.starts_at < a1.ends_at {scope}
        ORDER BY v.name, a1.starts_at""")]


def service_history(conn: sqlite3.Connection, volunteer_id: int, date_from=None,
                    date_to=None) -> list[dict]:
    """A volunteer's service in the period, oldest first: activity_id, title, category,
    organiser, place, starts_at, ends_at, hours, points."""
    start, end = volunteer_points.period_bounds(date_from, date_to)
    return [dict(r) for r in conn.execute("""
        SELECT a.id AS activity_id, a.title, a.category, a.organiser, a.place, a.starts_at,
               a.ends_at, s.hours, s.points
        FROM service_records s JOIN activities a ON a.id = s.activity_id
        WHERE s.volunteer_id = ? AND a.starts_at BETWEEN ? AND ?
        ORDER BY a.starts_at, a.id""", (volunteer_id, start, end + " 99"))]
