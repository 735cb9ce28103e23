"""Focus groups (重点人群) and their assignment to residents, with since/until."""
from __future__ import annotations

import datetime as dt

from db.driver import sqlite3
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.validation import clean_record, parse_date


def _check_tag(ctx: Context, clean: dict, own_id: int | None = None) -> None:
    if clean.get("visit_interval_days") == 0:
        raise ValidationError([FieldError("visit_interval_days", "走访周期(天)",
                                          "至少为 1 天；不需走访请留空")])
    if "name" in clean and ctx.conn.execute(
            "SELECT 1 FROM tags WHERE name = ? AND id IS NOT ?", (clean["name"], own_id)).fetchone():
        raise ValidationError([FieldError("name", "名称", f"已有“{clean['name']}”")])


def create_tag(ctx: Context, name: str, visit_interval_days: int | None = None) -> Result:
    clean = clean_record("tags", {"name": name, "visit_interval_days": visit_interval_days})
    with ctx.transaction():
        _check_tag(ctx, clean)
        new_id, changes = ctx.insert("tags", clean)
    return Result(new_id, changes)


def update_tag(ctx: Context, tag_id: int, values: dict) -> Result:
    with ctx.transaction():
        current = ctx.get("tags", tag_id)
        clean = clean_record("tags", values, existing=current)
        _check_tag(ctx, clean, tag_id)
        return Result(tag_id, ctx.update("tags", tag_id, clean, current))


def _day(value, label: str, name: str) -> str:
    try:
        iso = parse_date(value or dt.date.today())
    except ValueError as exc:
        raise ValidationError([FieldError(name, label, str(exc))]) from None
    if iso > dt.date.today().isoformat():
        raise ValidationError([FieldError(name, label, f"“{iso}”晚于今天")])
    return iso


def assign_tag(ctx: Context, resident_id: int, tag_id: int, since=None,
               notes: str | None = None) -> Result:
    since = _day(since, "开始日期", "since")
    with ctx.transaction():
        resident = ctx.get("residents", resident_id)
        tag = ctx.get("tags", tag_id)
        if resident["status"] != ON_RECORD:
            raise DomainError(f"{resident['name']}已{resident['status']}，不能再标记为{tag['name']}")
        if ctx.conn.execute(
                "SELECT 1 FROM resident_tags WHERE resident_id = ? AND tag_id = ? AND until IS NULL",
                (resident_id, tag_id)).fetchone():
            raise DomainError(f"{resident['name']}已在“{tag['name']}”中")
        new_id, changes = ctx.insert("resident_tags", {
            "resident_id": resident_id, "tag_id": tag_id, "since": since, "notes": notes})
    return Result(new_id, changes)


def end_tag(ctx: Context, resident_tag_id: int, until=None) -> Result:
    until = _day(until, "结束日期", "until")
    with ctx.transaction():
        current = ctx.get("resident_tags", resident_tag_id)
        if current["until"] is not None:
            raise DomainError(f"该标记已于 {current['until']} 结束")
        if until < current["since"]:
            raise ValidationError([FieldError("until", "结束日期",
                                              f"早于开始日期 {current['since']}")])
        return Result(resident_tag_id, ctx.update("resident_tags", resident_tag_id,
                                                  {"until": until}, current))


def active_tags(ctx: Context, resident_id: int) -> list[dict]:
    return [dict(r) for r in ctx.conn.execute("""
        SELECT rt.id, rt.tag_id, t.name, rt.since FROM resident_tags rt
        JOIN tags t ON t.id = rt.tag_id
        WHERE rt.resident_id = ? AND rt.until IS NULL ORDER BY t.sort""", (resident_id,))]


def all_tags(conn: sqlite3.Connection, active_only: bool = False) -> list[dict]:
    sql = "SELECT * FROM tags" + (" WHERE active = 1" if active_only else "")
    return [dict(r) for r in conn.execute(sql + " ORDER BY sort, id")]
