"""社区体检 (issue 21): the yearly check-up of a compound (or a community) against the 完整社区
items (resources/checkup_items.json: six areas, 20 items), a status and notes per item, and
findings that become improvement items with an owner and a deadline — each an event in the
closed loop (events.py), so it is followed through, overdue and printed like any other.

`compare` puts a year beside the one before for the report (pdf/checkup_report.py).
"""
from __future__ import annotations

import datetime as dt
import json
from functools import cache

from db.driver import sqlite3
from shequ_desktop.community import media
from shequ_desktop.community.follow_ups import clean_item, open_event
from shequ_desktop.core.access import named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.resources import resource_path
from shequ_desktop.core.validation import clean_text, parse_date

FINDING_CATEGORY = "其他"
MAX_TEXT = 2000
MAX_PHOTO = 20 * 1024 * 1024
# status -> rank (higher is better); 不适用 is not ranked
RANK = {"不达标": 0, "基本达标": 1, "达标": 2}


@cache
def _data() -> dict:
    return json.loads(resource_path("checkup_items.json").read_text(encoding="utf-8"))


def statuses() -> list[str]:
    return list(_data()["statuses"])


def areas() -> list[tuple[str, list[tuple[str, str]]]]:
    """[(area, [(item code, item name), …]), …] in the checklist's order."""
    return [(a["name"], [tuple(i) for i in a["items"]]) for a in _data()["areas"]]


def items() -> dict[str, tuple[str, str]]:
    """item code -> (area, item name)."""
    return {code: (area, name) for area, entries in areas() for code, name in entries}


def start_checkup(ctx: Context, unit_id: int, year: int, checked_on=None,
                  inspector: str | None = None) -> Result:
    """A check-up of a compound or community for a year (one per unit and year)."""
    try:
        day = parse_date(checked_on or dt.date.today())
    except ValueError as exc:
        raise ValidationError([FieldError("checked_on", "体检日期", str(exc))]) from None
    if day > dt.date.today().isoformat():
        raise ValidationError([FieldError("checked_on", "体检日期", f"“{day}”晚于今天")])
    if not 2000 <= int(year) <= 2100:
        raise ValidationError([FieldError("year", "年度", f"“{year}”不是年份")])
    with ctx.transaction():
        unit = ctx.get("grid_units", unit_id)
        if unit["level"] not in ("compound", "community"):
            raise DomainError("社区体检按小区（或整个社区）进行，请选择小区或社区")
        if ctx.conn.execute("SELECT 1 FROM checkups WHERE unit_id = ? AND year = ?",
                            (unit_id, int(year))).fetchone():
            raise DomainError(f"“{unit['name']}”{year}年的体检已经建立")
        new_id, changes = ctx.insert("checkups", {
            "unit_id": unit_id, "year": int(year), "checked_on": day,
            "inspector": clean_text(inspector, multiline=False) if inspector else None})
    return Result(new_id, changes)


def set_result(ctx: Context, checkup_id: int, item: str, status: str,
               notes: str | None = None) -> Result:
    """The status (and notes) of one item; setting it again replaces it."""
    if item not in items():
        raise DomainError(f"体检清单中没有“{item}”这一项")
    if status not in statuses():
        raise ValidationError([FieldError("status", "状态", f"应为{'、'.join(statuses())}之一")])
    notes = clean_text(notes) if notes else None
    if notes and len(notes) > MAX_TEXT:
        raise ValidationError([FieldError("notes", "说明", f"不能超过{MAX_TEXT}个字")])
    with ctx.transaction():
        ctx.get("checkups", checkup_id)
        row = ctx.conn.execute("SELECT * FROM checkup_results WHERE checkup_id = ? AND item = ?",
                               (checkup_id, item)).fetchone()
        if row is None:
            new_id, changes = ctx.insert("checkup_results", {
                "checkup_id": checkup_id, "item": item, "status": status, "notes": notes})
            return Result(new_id, changes)
        return Result(row["id"], ctx.update("checkup_results", row["id"],
                                            {"status": status, "notes": notes}, dict(row)))


def add_finding(ctx: Context, checkup_id: int, item: str, content: str, owner: str | None,
                deadline_days: int | None = None) -> Result:
    """An improvement item: an event of the checked unit (其他, reported on the check-up's
    day by the owner; accepted with `deadline_days` working days when given)."""

    if item not in items():
        raise DomainError(f"体检清单中没有“{item}”这一项")
    text, owner = clean_item(content, owner, "整改事项")
    with ctx.transaction():
        checkup = ctx.get("checkups", checkup_id)
        name = items()[item][1]
        event = open_event(ctx, checkup["unit_id"], FINDING_CATEGORY,
                           f"【社区体检 {checkup['year']}·{name}】{text}", checkup["checked_on"],
                           owner or checkup["inspector"] or ctx.user, deadline_days=deadline_days,
                           note="社区体检整改")
        new_id, more = ctx.insert("checkup_findings", {
            "checkup_id": checkup_id, "item": item, "content": text, "owner": owner,
            "event_id": event.id})
    return Result(new_id, event.changes + more)


def add_photo(ctx: Context, checkup_id: int, item: str, path=None, *,
              name: str | None = None, data: bytes | None = None) -> Result:
    """A photo of one item of a check-up (kept in the database, encrypted with it, like a
    meeting's attachments)."""
    if item not in items():
        raise DomainError(f"体检清单中没有“{item}”这一项")
    name, data = media.read_upload(path, name=name, data=data, limit=MAX_PHOTO, what="照片")
    with ctx.transaction():
        ctx.get("checkups", checkup_id)
        return media.attach(ctx, "checkup_photos", {"checkup_id": checkup_id, "item": item},
                            name, data)


def delete_photo(ctx: Context, photo_id: int) -> Result:
    return media.remove(ctx, "checkup_photos", photo_id)


def photo_data(conn: sqlite3.Connection, photo_id: int) -> tuple[str, bytes]:
    return media.fetch(conn, "checkup_photos", photo_id, "照片")


def photos(conn: sqlite3.Connection, checkup_id: int) -> dict[str, list[dict]]:
    """item code -> [{id, name, size, held}] (held: the bytes are here, not still on their
    way in a data package)."""
    out: dict[str, list[dict]] = {}
    for r in conn.execute("""
            SELECT p.id, p.item, p.name, p.size,
                   EXISTS (SELECT 1 FROM checkup_photo_data d WHERE d.photo_id = p.id) AS held
            FROM checkup_photos p WHERE p.checkup_id = ? ORDER BY p.item, p.id""",
                          (checkup_id,)):
        out.setdefault(r["item"], []).append(dict(r))
    return out


def get_checkup(conn: sqlite3.Connection, checkup_id: int, access=None) -> dict:
    """The check-up with its unit's name, results by item and findings with their event."""
    row = conn.execute("SELECT c.*, g.name AS unit_name FROM checkups c JOIN grid_units g"
                       " ON g.id = c.unit_id WHERE c.id = ?", (checkup_id,)).fetchone()
    if row is None:
        raise DomainError(f"找不到社区体检（编号 {checkup_id}）")
    checkup = dict(row)
    if access is not None:
        access.check_read(conn, "checkups", checkup)
    checkup["results"] = {r["item"]: dict(r) for r in conn.execute(
        "SELECT id, item, status, notes FROM checkup_results WHERE checkup_id = ?",
        (checkup_id,))}
    checkup["findings"] = [dict(r) for r in conn.execute("""
        SELECT f.id, f.item, f.content, f.owner, f.event_id, e.status, e.deadline, e.closed_at
        FROM checkup_findings f LEFT JOIN events e ON e.id = f.event_id
        WHERE f.checkup_id = ? ORDER BY f.id""", (checkup_id,))]
    checkup["photos"] = photos(conn, checkup_id)
    return checkup


def list_checkups(conn: sqlite3.Connection, *, access=None, unit_id: int | None = None,
                  year: int | None = None) -> list[dict]:
    """Check-ups in scope, newest year first, with counts by status and of open findings."""
    head, params = named_scope(access, unit_id)
    where = ["1"]
    if head:
        where.append("c.unit_id IN (SELECT id FROM subtree)")
    if year:
        where.append("c.year = :year")
        params["year"] = int(year)
    rows = []
    for r in conn.execute(head + f"""
            SELECT c.id, c.unit_id, g.name AS unit_name, c.year, c.checked_on, c.inspector,
                   (SELECT count(*) FROM checkup_results x WHERE x.checkup_id = c.id) AS checked,
                   (SELECT count(*) FROM checkup_results x WHERE x.checkup_id = c.id
                    AND x.status = '达标') AS passed,
                   (SELECT count(*) FROM checkup_results x WHERE x.checkup_id = c.id
                    AND x.status = '不达标') AS failed,
                   (SELECT count(*) FROM checkup_findings f WHERE f.checkup_id = c.id)
                       AS findings,
                   (SELECT count(*) FROM checkup_findings f JOIN events e ON e.id = f.event_id
                    WHERE f.checkup_id = c.id AND e.status IN ('上报', '受理', '处置中'))
                       AS open_findings
            FROM checkups c JOIN grid_units g ON g.id = c.unit_id
            WHERE {' AND '.join(where)} ORDER BY c.year DESC, g.name, c.id""", params):
        rows.append({**dict(r), "items": len(items())})
    return rows


def compare(conn: sqlite3.Connection, checkup_id: int, access=None) -> dict:
    """This check-up beside the same unit's check-up of the year before (if any): per item
    (area, code, name, last status, this status, change: '↑', '↓', '=', '' when either is
    missing or 不适用), counts by status for both years, and this year's findings."""
    this = get_checkup(conn, checkup_id, access)
    before = conn.execute("SELECT id FROM checkups WHERE unit_id = ? AND year = ?",
                          (this["unit_id"], this["year"] - 1)).fetchone()
    last = get_checkup(conn, before[0], access) if before else None
    rows = []
    for area, entries in areas():
        for code, name in entries:
            now = this["results"].get(code, {}).get("status")
            then = last["results"].get(code, {}).get("status") if last else None
            change = ""
            if now in RANK and then in RANK:
                change = "↑" if RANK[now] > RANK[then] else "↓" if RANK[now] < RANK[then] else "="
            rows.append({"area": area, "item": code, "name": name, "last": then, "this": now,
                         "change": change,
                         "notes": this["results"].get(code, {}).get("notes") or ""})

    def counts(checkup):
        out = {s: 0 for s in statuses()}
        for r in (checkup or {}).get("results", {}).values():
            out[r["status"]] += 1
        return out

    return {"this": this, "last": last, "rows": rows, "this_counts": counts(this),
            "last_counts": counts(last) if last else None}
