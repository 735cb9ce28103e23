"""微网实格 (issue 21): micro-grids below a 网格 and their heads (微网格员).

A micro-grid is a building or a unit of its grid (`unit_id`), or a set of households the user
chose (`microgrid_households`; typically 30–50). A household's micro-grid is its chosen set if
it is in one, else the micro-grid of its unit, else that of its building. Each micro-grid has a
head: a resident (head_resident_id, name and phone taken from the record unless given) or
anyone else (a volunteer, a property manager), with a role (楼栋长, 单元长, 党员中心户 …).

Visits fall to a micro-grid head through membership (`due_visits`: the due list of the
micro-grid's residents); events are assigned to a micro-grid explicitly (`assign_event`).
"""
from __future__ import annotations

import datetime as dt

from db.driver import sqlite3
from shequ_desktop.casework import visits
from shequ_desktop.casework.events import add_note
from shequ_desktop.core import phone as phones
from shequ_desktop.core.access import NotPermitted, named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import MICROGRID_OF, SUBTREE_SQL, Places, grid_of
from shequ_desktop.core.validation import clean_text

ROLES = ("楼栋长", "单元长", "党员中心户", "楼长", "志愿者", "物业管理员", "其他")
LABELS = {"name": "微网格名称", "grid_id": "所属网格", "unit_id": "范围", "head_name": "微网格员",
          "head_role": "身份", "head_phone": "联系电话", "head_resident_id": "微网格员",
          "notes": "备注"}
MAX_NAME = 30
MAX_ROLE = 10


def _grid_of(conn: sqlite3.Connection, unit_id: int) -> int | None:
    return grid_of(conn, unit_id)


def _clean(ctx: Context, values: dict, current: dict | None) -> dict:
    """The stored values of a micro-grid, or ValidationError naming what is wrong."""
    merged = {**(current or {}), **values}
    errors: list[FieldError] = []

    def wrong(name: str, message: str) -> None:
        errors.append(FieldError(name, LABELS[name], message))

    out: dict = {}
    name = clean_text(merged.get("name"), multiline=False)
    if not name:
        wrong("name", "不能为空")
    elif len(name) > MAX_NAME:
        wrong("name", f"不能超过{MAX_NAME}个字")
    out["name"] = name
    grid = ctx.conn.execute("SELECT level FROM grid_units WHERE id = ?",
                            (merged.get("grid_id"),)).fetchone()
    if grid is None or grid[0] != "grid":
        wrong("grid_id", "请选择一个网格（微网格建在网格之下）")
    out["grid_id"] = merged.get("grid_id")
    unit_id = merged.get("unit_id")
    if unit_id is not None:
        unit = ctx.conn.execute("SELECT level, name FROM grid_units WHERE id = ?",
                                (unit_id,)).fetchone()
        if unit is None or unit[0] not in ("building", "unit"):
            wrong("unit_id", "范围应为一栋楼或一个单元（或不选，另选户）")
        elif _grid_of(ctx.conn, unit_id) != merged.get("grid_id"):
            wrong("unit_id", f"“{unit[1]}”不在所选网格内")
    out["unit_id"] = unit_id
    resident_id = merged.get("head_resident_id")
    resident = None
    if resident_id is not None:
        resident = ctx.get("residents", resident_id)
        if resident["status"] != ON_RECORD:
            wrong("head_resident_id", f"{resident['name']}已{resident['status']}")
    out["head_resident_id"] = resident_id
    head = clean_text(merged.get("head_name"), multiline=False) or (
        resident["name"] if resident else None)
    if head and len(head) > 50:
        wrong("head_name", "不能超过50个字")
    out["head_name"] = head
    role = clean_text(merged.get("head_role"), multiline=False)
    if role and len(role) > MAX_ROLE:
        wrong("head_role", f"不能超过{MAX_ROLE}个字")
    if head and not role:
        wrong("head_role", f"请写明身份（如{'、'.join(ROLES[:3])}）")
    out["head_role"] = role
    number = merged.get("head_phone")
    if (number is None or not str(number).strip()) and resident:
        number = resident["phone"]              # a resident head's own phone by default
    if number is not None and str(number).strip():
        try:
            number = phones.check(str(number))
        except ValueError as exc:
            wrong("head_phone", str(exc))
    else:
        number = None
    out["head_phone"] = number
    out["notes"] = clean_text(merged.get("notes")) or None
    if errors:
        raise ValidationError(errors)
    if ctx.conn.execute("SELECT 1 FROM microgrids WHERE grid_id = ? AND name = ? AND id IS NOT ?",
                        (out["grid_id"], name, (current or {}).get("id"))).fetchone():
        raise ValidationError([FieldError("name", LABELS["name"], f"本网格已有“{name}”")])
    return out


def create_microgrid(ctx: Context, grid_id: int, name: str, *, unit_id: int | None = None,
                     head_name: str | None = None, head_role: str | None = None,
                     head_phone: str | None = None, head_resident_id: int | None = None,
                     notes: str | None = None) -> Result:
    values = {"grid_id": grid_id, "name": name, "unit_id": unit_id, "head_name": head_name,
              "head_role": head_role, "head_phone": head_phone,
              "head_resident_id": head_resident_id, "notes": notes}
    with ctx.transaction():
        clean = _clean(ctx, values, None)
        clean["sort"] = ctx.conn.execute("SELECT coalesce(max(sort), 0) + 1 FROM microgrids"
                                         " WHERE grid_id = ?", (grid_id,)).fetchone()[0]
        new_id, changes = ctx.insert("microgrids", clean)
    return Result(new_id, changes)


def update_microgrid(ctx: Context, microgrid_id: int, values: dict) -> Result:
    with ctx.transaction():
        current = ctx.get("microgrids", microgrid_id)
        clean = _clean(ctx, values, current)
        return Result(microgrid_id, ctx.update("microgrids", microgrid_id, clean, current))


def delete_microgrid(ctx: Context, microgrid_id: int) -> Result:
    """Remove a micro-grid: its chosen households are free again, its events unassigned."""
    with ctx.transaction():
        changes = []
        for (link,) in ctx.conn.execute("SELECT id FROM microgrid_households WHERE"
                                        " microgrid_id = ?", (microgrid_id,)).fetchall():
            changes += ctx.delete("microgrid_households", link)
        for (event,) in ctx.conn.execute("SELECT id FROM events WHERE microgrid_id = ?",
                                         (microgrid_id,)).fetchall():
            changes += ctx.update("events", event, {"microgrid_id": None})
        changes += ctx.delete("microgrids", microgrid_id)
    return Result(microgrid_id, changes)


def set_households(ctx: Context, microgrid_id: int, household_ids: list[int]) -> Result:
    """The chosen households of a micro-grid (replacing the earlier choice). A household
    already in another chosen set moves here; every household must be in its grid."""
    wanted = list(dict.fromkeys(household_ids))
    with ctx.transaction():
        mg = ctx.get("microgrids", microgrid_id)
        outside = []
        for hid in wanted:
            row = ctx.conn.execute("SELECT ho.unit_id FROM households h JOIN houses ho"
                                   " ON ho.id = h.house_id WHERE h.id = ?", (hid,)).fetchone()
            if row is None or _grid_of(ctx.conn, row[0]) != mg["grid_id"]:
                outside.append(str(hid))
        if outside:
            raise DomainError(f"这些户不在本微网格所属的网格内：{'、'.join(outside[:10])}")
        changes = []
        have = dict(ctx.conn.execute("SELECT household_id, id FROM microgrid_households"
                                     " WHERE microgrid_id = ?", (microgrid_id,)).fetchall())
        for hid, link in have.items():
            if hid not in wanted:
                changes += ctx.delete("microgrid_households", link)
        for hid in wanted:
            if hid in have:
                continue
            elsewhere = ctx.conn.execute("SELECT id FROM microgrid_households WHERE"
                                         " household_id = ?", (hid,)).fetchone()
            if elsewhere:
                changes += ctx.update("microgrid_households", elsewhere[0],
                                      {"microgrid_id": microgrid_id})
            else:
                changes += ctx.insert("microgrid_households", {
                    "microgrid_id": microgrid_id, "household_id": hid})[1]
    return Result(microgrid_id, changes)


def household_ids(conn: sqlite3.Connection, microgrid_id: int) -> list[int]:
    """The active households that belong to the micro-grid (by the rule in the docstring)."""
    # A micro-grid lies in one grid: only that grid's houses are looked at (a street's 70,000
    # households evaluated one by one took 0.3 s).
    return [r[0] for r in conn.execute(SUBTREE_SQL.replace(
        "SELECT ?", "SELECT grid_id FROM microgrids WHERE id = ?") + f"""
        SELECT hh.id FROM households hh JOIN houses ho ON ho.id = hh.house_id
        WHERE ho.unit_id IN (SELECT id FROM subtree) AND hh.status = '{ON_RECORD}'
          AND {MICROGRID_OF.format(hh='hh', ho='ho')} = ?
        ORDER BY hh.id""", (microgrid_id, microgrid_id))]


def households_in_building(conn: sqlite3.Connection, microgrid_id: int,
                           building_id: int) -> set[int]:
    """The micro-grid's active households living in one building (the 楼栋图 marks their
    rooms): by the same rule as household_ids, looking only at the building's houses."""
    return {r[0] for r in conn.execute(SUBTREE_SQL + f"""
        SELECT hh.id FROM households hh JOIN houses ho ON ho.id = hh.house_id
        WHERE ho.unit_id IN (SELECT id FROM subtree) AND hh.status = '{ON_RECORD}'
          AND {MICROGRID_OF.format(hh='hh', ho='ho')} = ?""", (building_id, microgrid_id))}


def of_grid(conn: sqlite3.Connection, unit_id: int | None, access=None) -> list[dict]:
    """The micro-grids of the one 网格 `unit_id` is (or lies in), in the user's scope; empty
    when `unit_id` is None or above grid level (a community, the whole street): a list's
    micro-grid chooser offers these."""
    grid = None if unit_id is None else _grid_of(conn, unit_id)
    if grid is None:
        return []
    try:
        return [m for m in list_microgrids(conn, access, grid) if m["grid_id"] == grid]
    except NotPermitted:            # a 网格员 given a building of the grid, not the grid
        return []


def resident_ids(conn: sqlite3.Connection, microgrid_id: int) -> list[int]:
    ids = household_ids(conn, microgrid_id)
    if not ids:
        return []
    return [r[0] for r in conn.execute(
        f"SELECT id FROM residents WHERE status = '{ON_RECORD}' AND household_id IN"
        f" ({','.join('?' * len(ids))}) ORDER BY household_id, id", ids)]


def microgrid_of(conn: sqlite3.Connection, household_id: int) -> int | None:
    row = conn.execute(f"""SELECT {MICROGRID_OF.format(hh='hh', ho='ho')} FROM households hh
                           JOIN houses ho ON ho.id = hh.house_id WHERE hh.id = ?""",
                       (household_id,)).fetchone()
    return row[0] if row else None


def list_microgrids(conn: sqlite3.Connection, access=None, unit_id: int | None = None
                    ) -> list[dict]:
    """The micro-grids in scope (of the grids in the subtree of `unit_id`, or of the grid
    above it), with their grid's name, scope text and counts of households, residents and
    focus-group members."""

    if unit_id is not None:
        grid = _grid_of(conn, unit_id)
        if grid is not None:
            unit_id = grid
    head, params = named_scope(access, unit_id)
    scoped = "WHERE m.grid_id IN (SELECT id FROM subtree)" if head else ""
    places = Places(conn)
    rows = [dict(r) for r in conn.execute(head + f"""
        SELECT m.*, g.name AS grid_name FROM microgrids m JOIN grid_units g ON g.id = m.grid_id
        {scoped} ORDER BY g.id, m.sort, m.id""", params)]
    if not rows:
        return rows
    counts = {}
    for mg, households, residents, focus in conn.execute(f"""
            SELECT mg, count(DISTINCT hh_id), count(r.id),
                   count(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM resident_tags rt
                       WHERE rt.resident_id = r.id AND rt.until IS NULL) THEN r.id END)
            FROM (SELECT hh.id AS hh_id, {MICROGRID_OF.format(hh='hh', ho='ho')} AS mg
                  FROM households hh JOIN houses ho ON ho.id = hh.house_id
                  WHERE hh.status = '{ON_RECORD}') x
            LEFT JOIN residents r ON r.household_id = x.hh_id AND r.status = '{ON_RECORD}'
            WHERE mg IS NOT NULL GROUP BY mg"""):
        counts[mg] = (households, residents, focus)
    for row in rows:
        row["households"], row["residents"], row["focus"] = counts.get(row["id"], (0, 0, 0))
        if row["unit_id"] is not None:
            row["scope"] = places.of(row["unit_id"])[4].strip()
        else:
            row["scope"] = f"选定的 {row['households']} 户"
    return rows


def due_visits(conn: sqlite3.Connection, microgrid_id: int, on: dt.date | None = None,
               access=None, within_days: int = 7) -> list[dict]:
    """The visits due or overdue among the micro-grid's residents: its head's visit list."""

    mg = conn.execute("SELECT grid_id FROM microgrids WHERE id = ?", (microgrid_id,)).fetchone()
    if mg is None:
        raise DomainError(f"找不到微网格（编号 {microgrid_id}）")
    return visits.due(conn, on, mg[0], within_days=within_days, access=access,
                      microgrid_id=microgrid_id)


def assign_event(ctx: Context, event_id: int, microgrid_id: int | None) -> Result:
    """Assign an event to a micro-grid head (None: unassign); logged in the event's log."""

    with ctx.transaction():
        event = ctx.get("events", event_id)
        changes = []
        note = "取消指派微网格员"
        if microgrid_id is not None:
            mg = ctx.get("microgrids", microgrid_id)
            if _grid_of(ctx.conn, event["unit_id"]) != mg["grid_id"]:
                raise DomainError(f"事件不在“{mg['name']}”所属的网格内，不能指派给它")
            note = f"指派给微网格员 {mg['head_name'] or '（未设）'}（{mg['name']}）"
        changes += ctx.update("events", event_id, {"microgrid_id": microgrid_id}, event)
        changes += add_note(ctx, event_id, note).changes
    return Result(event_id, changes)


def contacts(conn: sqlite3.Connection, grid_id: int) -> dict:
    """A grid's contact list: its name and community, its 网格员 (users assigned to it) and
    each micro-grid with its head."""
    import json

    grid = conn.execute("SELECT id, name, parent_id, level FROM grid_units WHERE id = ?",
                        (grid_id,)).fetchone()
    if grid is None or grid["level"] != "grid":
        raise DomainError("请选择一个网格")
    community = conn.execute("SELECT name FROM grid_units WHERE id = ?",
                             (grid["parent_id"],)).fetchone()
    workers = []
    for user in conn.execute("SELECT display_name, username, unit_ids FROM users"
                             " WHERE role = '网格员' AND active = 1 ORDER BY id"):
        if grid_id in json.loads(user["unit_ids"]):
            workers.append(user["display_name"] or user["username"])
    return {"grid": grid["name"], "community": community[0] if community else "",
            "workers": workers,
            "microgrids": [m for m in list_microgrids(conn, None, grid_id)
                           if m["grid_id"] == grid_id]}
