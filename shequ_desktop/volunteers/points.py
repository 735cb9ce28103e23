"""Points (积分), star levels (星级) and hours of volunteers.

Points are earned per service hour at the rate in force when the record is entered (setting
"volunteers.points_per_hour", default 1) and kept on the record, so a later change of rate does
not rewrite history. Manual adjustments need a reason; redemptions (积分兑换) and negative
adjustments never take a balance below zero — checked inside the write transaction, which
holds the database's write lock (BEGIN IMMEDIATE), so two PCs cannot both spend the same points.

Star levels come from cumulative hours (setting "volunteers.star_hours", default
[100, 300, 600, 1000, 1500] for 一星 … 五星).
"""
from __future__ import annotations

import datetime as dt
import math
from typing import Any

from db.driver import sqlite3
from shequ_desktop.core import audit, settings
from shequ_desktop.core.access import Access, named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.pinyin import sort_key
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.validation import clean_text, parse_date
from shequ_desktop.volunteers.roster import IN_SCOPE, VOLUNTEERS

RATE_KEY = "volunteers.points_per_hour"
STARS_KEY = "volunteers.star_hours"
DEFAULT_RATE = 1.0
DEFAULT_STARS = (100, 300, 600, 1000, 1500)
STAR_NAMES = ("", "一星", "二星", "三星", "四星", "五星")
MAX_POINTS = 100000


# --- settings ----------------------------------------------------------------------------------

def rate(conn: sqlite3.Connection) -> float:
    return float(settings.get(conn, RATE_KEY, DEFAULT_RATE))


def _clean_rate(value) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise DomainError(f"每小时积分“{value}”不是数字") from None
    if not math.isfinite(number):
        raise DomainError(f"每小时积分“{value}”不是数字")
    if not 0 < number <= 1000:
        raise DomainError(f"每小时积分“{number:g}”应大于 0、不超过 1000")
    return number


def _clean_stars(hours) -> list[float]:
    try:
        values = [float(h) for h in hours]
    except (TypeError, ValueError):
        raise DomainError("星级时长应为数字") from None
    if not all(map(math.isfinite, values)):
        raise DomainError("星级时长应为数字")
    if len(values) != 5 or any(h <= 0 for h in values) or values != sorted(set(values)):
        raise DomainError("星级时长应为五个由小到大、互不相同的正数（一星到五星）")
    return values


def set_rate(conn: sqlite3.Connection, value: float) -> None:
    settings.put(conn, RATE_KEY, _clean_rate(value))


def star_thresholds(conn: sqlite3.Connection) -> tuple[float, ...]:
    return tuple(float(h) for h in settings.get(conn, STARS_KEY, list(DEFAULT_STARS)))


def set_star_thresholds(conn: sqlite3.Connection, hours: list[float]) -> None:
    settings.put(conn, STARS_KEY, _clean_stars(hours))


def save_settings(ctx: Context, per_hour: float, star_hours: list[float]) -> None:
    """The points rate and star thresholds together, audited, in one transaction. Points
    already earned keep the rate they were earned at; star levels follow the new thresholds."""
    if ctx.access is not None:
        ctx.access.check_table("settings")          # settings.put bypasses Context's check
    per_hour, star_hours = _clean_rate(per_hour), _clean_stars(star_hours)
    with ctx.transaction():
        old = (rate(ctx.conn), list(star_thresholds(ctx.conn)))
        set_rate(ctx.conn, per_hour)
        set_star_thresholds(ctx.conn, star_hours)
        audit.record(ctx.conn, ctx.user, "update", entity="settings", summary=(
            f"修改志愿者积分与星级设置：每小时 {per_hour:g} 分；星级时长 "
            + "/".join(f"{h:g}" for h in star_hours) + " 小时"),
                     detail={"old": {"points_per_hour": old[0], "star_hours": old[1]}})


def star(hours: float, thresholds: tuple[float, ...] = DEFAULT_STARS) -> int:
    """0 (none) to 5: how many thresholds the cumulative hours reach. Hours are compared
    rounded to 0.01 h: a float sum of 2-decimal hours such as 99.99999999999991 is 100."""
    hours = round(hours, 2)
    return sum(1 for t in thresholds if hours >= round(t, 2))


def star_name(level: int) -> str:
    return STAR_NAMES[level]


def points_for(hours: float, per_hour: float) -> float:
    return round(hours * per_hour, 2)


# --- balance, adjustments, redemptions -------------------------------------------------------

_BALANCE_SQL = """
    SELECT coalesce((SELECT sum(points) FROM service_records WHERE volunteer_id = :v), 0)
         + coalesce((SELECT sum(points) FROM point_adjustments WHERE volunteer_id = :v), 0)
         - coalesce((SELECT sum(points) FROM point_redemptions WHERE volunteer_id = :v), 0)
"""


def balance(conn: sqlite3.Connection, volunteer_id: int) -> float:
    return round(conn.execute(_BALANCE_SQL, {"v": volunteer_id}).fetchone()[0], 2)


def _points(value: Any, label: str, *, positive: bool) -> float:
    try:
        number = round(float(str(value).strip()), 2)
    except (TypeError, ValueError):
        raise ValidationError([FieldError("points", label, f"“{value}”不是数字")]) from None
    if not math.isfinite(number):
        raise ValidationError([FieldError("points", label, f"“{value}”不是数字")])
    if number == 0 or (positive and number < 0):
        raise ValidationError([FieldError("points", label,
                                          "应大于 0" if positive else "不能为 0")])
    if abs(number) > MAX_POINTS:
        raise ValidationError([FieldError("points", label, f"不能超过 {MAX_POINTS}")])
    return number


def _day(value, label: str, field: str, person: dict) -> str:
    """The date of an adjustment or redemption: not in the future, not before they joined."""
    try:
        day = parse_date(value or dt.date.today())
    except ValueError as exc:
        raise ValidationError([FieldError(field, label, str(exc))]) from None
    if day > dt.date.today().isoformat():
        raise ValidationError([FieldError(field, label, f"“{day}”晚于今天")])
    if day < person["joined_on"]:
        raise ValidationError([FieldError(field, label,
                                          f"“{day}”早于其加入日期 {person['joined_on']}")])
    return day


def lowest(conn: sqlite3.Connection, volunteer_id: int) -> tuple[float, str | None]:
    """The lowest running balance of the ledger and the date it is reached ((0, None) when it
    never goes below zero)."""
    low, when = 0.0, None
    for row in ledger(conn, volunteer_id):
        if row["balance"] < low:
            low, when = row["balance"], row["date"]
    return low, when


def check_not_negative(ctx: Context, volunteer_id: int, name: str | None = None,
                       before: float = 0.0) -> None:
    """Raise DomainError if the volunteer's running balance goes below zero at any date of the
    ledger (call inside the write, after it). `before`: the lowest balance before the write
    (lowest()[0]), so that a ledger already negative (old data) does not block other writes
    that do not make it worse."""
    low, when = lowest(ctx.conn, volunteer_id)
    if low < min(before, 0.0) - 1e-9:
        name = name or ctx.get("volunteers", volunteer_id)["name"]
        final = balance(ctx.conn, volunteer_id)
        where = "" if final == low else f"在 {when} "
        raise DomainError(f"{name}的积分余额{where}将变为 {low:g}，积分不能为负")


def adjust(ctx: Context, volunteer_id: int, points, reason: str, made_on=None) -> Result:
    """A manual adjustment (+ or −) with its reason; refused if the balance would go negative."""
    amount = _points(points, "调整积分", positive=False)
    why = clean_text(reason)
    if not why:
        raise ValidationError([FieldError("reason", "调整原因", "积分调整必须写明原因")])
    with ctx.transaction():
        person = ctx.get("volunteers", volunteer_id)
        day = _day(made_on, "调整日期", "made_on", person)
        before = lowest(ctx.conn, volunteer_id)[0]
        new_id, changes = ctx.insert("point_adjustments", {
            "volunteer_id": volunteer_id, "points": amount, "reason": why, "made_on": day,
            "made_by": ctx.user})
        if amount < 0:
            check_not_negative(ctx, volunteer_id, person["name"], before)
        return Result(new_id, changes)


def redeem(ctx: Context, volunteer_id: int, points, item: str, redeemed_on=None) -> Result:
    """积分兑换: refused when the balance does not cover it."""
    amount = _points(points, "兑换积分", positive=True)
    what = clean_text(item, multiline=False)
    if not what:
        raise ValidationError([FieldError("item", "兑换物品", "请写明兑换的物品或服务")])
    with ctx.transaction():          # BEGIN IMMEDIATE: the balance cannot move under us
        person = ctx.get("volunteers", volunteer_id)
        day = _day(redeemed_on, "兑换日期", "redeemed_on", person)
        have = balance(ctx.conn, volunteer_id)
        before = lowest(ctx.conn, volunteer_id)[0]
        if amount > have:
            raise DomainError(f"{person['name']}的积分余额为 {have:g}，不足以兑换 {amount:g} 分")
        new_id, changes = ctx.insert("point_redemptions", {
            "volunteer_id": volunteer_id, "points": amount, "item": what, "redeemed_on": day,
            "made_by": ctx.user})
        check_not_negative(ctx, volunteer_id, person["name"], before)   # back-dated
        return Result(new_id, changes)


def ledger(conn: sqlite3.Connection, volunteer_id: int) -> list[dict]:
    """The points ledger (积分明细), oldest first, with the running balance.

    Rows: date, kind (服务/调整/兑换), text, hours (service only), points (signed), balance,
    by (who entered it, for adjustments and redemptions)."""
    rows = conn.execute("""
        SELECT substr(a.starts_at, 1, 10) AS date, '服务' AS kind, a.title AS text,
               s.hours, s.points, NULL AS made_by, 0 AS k, s.id
        FROM service_records s JOIN activities a ON a.id = s.activity_id
        WHERE s.volunteer_id = :v
        UNION ALL
        SELECT made_on, '调整', reason, NULL, points, made_by, 1, id
        FROM point_adjustments WHERE volunteer_id = :v
        UNION ALL
        SELECT redeemed_on, '兑换', item, NULL, -points, made_by, 2, id
        FROM point_redemptions WHERE volunteer_id = :v
        ORDER BY 1, 7, 8""", {"v": volunteer_id}).fetchall()
    out, total = [], 0.0
    for date, kind, text, hours, points, by, _k, _id in rows:
        total = round(total + points, 2)
        out.append({"date": date, "kind": kind, "text": text, "hours": hours,
                    "points": points, "balance": total, "by": by})
    return out


# --- hours -------------------------------------------------------------------------------------

def period_bounds(date_from, date_to) -> tuple[str, str]:
    try:
        start = parse_date(date_from) if date_from else "0001-01-01"
        end = parse_date(date_to) if date_to else "9999-12-31"
    except ValueError as exc:
        raise DomainError(f"日期{exc}") from None
    if start > end:
        raise DomainError(f"起始日期 {start} 晚于截止日期 {end}")
    return start, end


def hours_summary(conn: sqlite3.Connection, date_from=None, date_to=None, *,
                  today: dt.date | None = None, team_id: int | None = None,
                  include_left: bool = True, volunteer_id: int | None = None,
                  unit_id: int | None = None, access: Access | None = None) -> list[dict]:
    """One row per volunteer (by name, id): id, name, status, team_id, team, phone, joined_on,
    hours (in the period; all time when no dates), month, year (of `today`), total, star,
    star_name, activities (in the period), points (balance).

    `unit_id`: only the volunteers whose team or home lies under that grid unit
    (volunteers.IN_SCOPE); None: everyone (with a 网格员's `access`: those of their units,
    see access.scope).

    One pass over service_records joined to activities, grouped by volunteer; balances from
    one aggregate of each points table.
    """
    start, end = period_bounds(date_from, date_to)
    today = today or dt.date.today()
    where, params = [], {"start": start, "end": end + " 99", "month": f"{today:%Y-%m}",
                         "year": f"{today:%Y}"}
    if team_id is not None:
        where.append("v.team_id = :team")
        params["team"] = team_id
    if not include_left:
        where.append(f"v.status = '{ON_RECORD}'")
    if volunteer_id is not None:
        where.append("v.id = :vid")
        params["vid"] = volunteer_id
    head, unit_params = named_scope(access, unit_id)
    if head:
        where.append(IN_SCOPE)
        params.update(unit_params)
    head = head.rstrip() + "," if head else "WITH"
    sql = f"""
        {head} h AS (
            SELECT s.volunteer_id AS vid,
                   sum(CASE WHEN a.starts_at BETWEEN :start AND :end THEN s.hours END) AS hours,
                   count(CASE WHEN a.starts_at BETWEEN :start AND :end THEN 1 END) AS acts,
                   sum(CASE WHEN substr(a.starts_at, 1, 7) = :month THEN s.hours END) AS month,
                   sum(CASE WHEN substr(a.starts_at, 1, 4) = :year THEN s.hours END) AS year,
                   sum(s.hours) AS total, sum(s.points) AS earned
            FROM service_records s JOIN activities a ON a.id = s.activity_id
            GROUP BY s.volunteer_id),
        adj AS (SELECT volunteer_id AS vid, sum(points) AS p FROM point_adjustments
                GROUP BY volunteer_id),
        red AS (SELECT volunteer_id AS vid, sum(points) AS p FROM point_redemptions
                GROUP BY volunteer_id)
        SELECT v.id, v.name, v.status, v.team_id, t.name AS team, v.phone, v.joined_on,
               coalesce(h.hours, 0), coalesce(h.acts, 0), coalesce(h.month, 0),
               coalesce(h.year, 0), coalesce(h.total, 0),
               coalesce(h.earned, 0) + coalesce(adj.p, 0) - coalesce(red.p, 0)
        FROM {VOLUNTEERS} v
        LEFT JOIN volunteer_teams t ON t.id = v.team_id
        LEFT JOIN h ON h.vid = v.id
        LEFT JOIN adj ON adj.vid = v.id
        LEFT JOIN red ON red.vid = v.id
        {"WHERE " + " AND ".join(where) if where else ""}
        ORDER BY v.name, v.id"""
    thresholds = star_thresholds(conn)
    cur = conn.cursor()
    cur.row_factory = None
    out = []
    for (vid, name, status, team_id_, team, phone, joined, hours, acts, month, year, total,
         points) in cur.execute(sql, params):
        level = star(total, thresholds)
        out.append({"id": vid, "name": name, "status": status, "team_id": team_id_,
                    "team": team, "phone": phone, "joined_on": joined,
                    "hours": round(hours, 2), "activities": acts, "month": round(month, 2),
                    "year": round(year, 2), "total": round(total, 2), "star": level,
                    "star_name": star_name(level), "points": round(points, 2)})
    # By pinyin (刘 before 马, not by code point); a name's key is computed once.
    keys = {n: sort_key(n) for n in {r["name"] for r in out}}
    out.sort(key=lambda r: (keys[r["name"]], r["id"]))
    return out
