"""Volunteers (志愿者) and their teams (志愿服务队).

A volunteer who lives in the community is linked to their resident record: name, ID number,
gender, birth date and phone are those of the resident record (the one to correct); the copies
kept on the volunteer row are only a fallback, so every read goes through VOLUNTEERS, which
takes these fields from the resident while linked.
Anyone else is registered on their own, with the same ID-number validation as residents
(GB 11643, birth date and gender derived from it). An ID number is registered once.
People are never deleted: leaving sets 退出 and the date, and keeps their service history.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from db.driver import sqlite3
from shequ_desktop.core import idnumber
from shequ_desktop.core.access import Access, scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import (
    ConflictError,
    DomainError,
    FieldError,
    NotFoundError,
    ValidationError,
)
from shequ_desktop.core.fields import fields
from shequ_desktop.core.masking import mask_id
from shequ_desktop.core.pinyin import sort_key
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import SUBTREE_SQL, ancestors, descendants
from shequ_desktop.core.validation import (
    agree_with_id,
    clean_record,
    clean_text,
    parse_date,
)

ACTIVE, LEFT = ON_RECORD, "退出"
COPIED = ("name", "id_number", "gender", "birth_date", "phone")   # from a linked resident
MAX_TEAM_NAME = 50

# The volunteers as they read: a linked volunteer's personal data are the resident's as they are
# now (corrections of the resident record show at once). Use as `FROM {VOLUNTEERS} v`.
VOLUNTEERS = "(SELECT " + ", ".join(
    ["v.id", "v.resident_id"]
    + [f"CASE WHEN r.id IS NULL THEN v.{k} ELSE r.{k} END AS {k}" for k in COPIED]
    + [f"v.{k}" for k in ("skills", "team_id", "joined_on", "left_on", "status", "notes",
                          "uuid", "version", "updated_at")]) + """
    FROM volunteers v LEFT JOIN residents r ON r.id = v.resident_id)"""


def check_version(table: str, current: dict, expected: dict | None) -> None:
    """Refuse (ConflictError) when the record changed since `expected` (the record as the editor
    read it) was read; say what changed. No check when `expected` is None."""
    if expected is None or current["version"] == expected.get("version"):
        return

    try:
        labels = {f.name: f.label for f in fields(table)}
    except KeyError:
        labels = {}
    labels = {"name": "名称", "leader_id": "队长", "team_id": "服务队", "unit_id": "所属网格",
              "founded_on": "成立日期", "notes": "备注", **labels}
    changed = {k: (expected.get(k), v) for k, v in current.items()
               if k in labels and expected.get(k) != v}
    detail = "、".join(f"{labels[k]}（{old or '空'} → {new or '空'}）"
                      for k, (old, new) in changed.items())
    title = current.get("name") or current.get("title") or ""
    raise ConflictError(f"{title}的信息已被他人修改，本次保存未生效。"
                        + (f"对方修改了：{detail}。" if detail else "")
                        + "请重新打开后再编辑。", changed)


def _iso(value: Any, label: str, field: str) -> str:
    try:
        return parse_date(value)
    except ValueError as exc:
        raise ValidationError([FieldError(field, label, str(exc))]) from None


def _id_rules(values: dict, today: dt.date) -> list[FieldError]:
    """Birth date and gender follow the ID number (as for residents)."""

    number = values.get("id_number")
    return agree_with_id(values, idnumber.parse(number, today)) if number else []


def _check_unique(conn: sqlite3.Connection, number: str | None, own_id: int | None) -> None:
    if not number:
        return
    row = conn.execute("SELECT id, name FROM volunteers WHERE id_number = ? AND id IS NOT ?",
                       (number, own_id)).fetchone()
    if row:
        raise ValidationError([FieldError(
            "id_number", "身份证号", f"已登记为志愿者（{row['name']}，编号 {row['id']}）")])


def _resident_values(ctx: Context, resident_id: int) -> dict:
    person = ctx.get("residents", resident_id)
    if person["status"] != ACTIVE:
        raise DomainError(f"{person['name']}已{person['status']}，不能登记为本社区居民志愿者")
    return {k: person[k] for k in COPIED}


def _check_team(ctx: Context, team_id: int | None) -> None:
    if team_id is not None:
        ctx.get("volunteer_teams", team_id)          # NotFoundError when missing


def create_volunteer(ctx: Context, values: dict[str, Any], *, resident_id: int | None = None,
                     team_id: int | None = None, today: dt.date | None = None) -> Result:
    """Register a volunteer. With `resident_id`, the personal data come from the resident.

    `values`: the registry fields of volunteers (name, id_number, …, joined_on, skills, notes).
    Raises ValidationError naming every wrong field.
    """
    today = today or dt.date.today()
    values = dict(values)
    values.setdefault("joined_on", today.isoformat())
    with ctx.transaction():
        if resident_id is not None:
            values.update(_resident_values(ctx, resident_id))
        clean = clean_record("volunteers", {k: v for k, v in values.items()
                                            if k not in ("status", "left_on")}, today=today)
        errors = _id_rules(clean, today)
        if clean.get("joined_on") and clean["joined_on"] > today.isoformat():
            errors.append(FieldError("joined_on", "加入日期", f"“{clean['joined_on']}”晚于今天"))
        if errors:
            raise ValidationError(errors)
        _check_unique(ctx.conn, clean.get("id_number"), None)
        _check_team(ctx, team_id)
        new_id, changes = ctx.insert("volunteers", {**clean, "resident_id": resident_id,
                                                    "team_id": team_id, "status": ACTIVE})
        return Result(new_id, changes)


def update_volunteer(ctx: Context, volunteer_id: int, values: dict[str, Any],
                     today: dt.date | None = None, expected: dict | None = None) -> Result:
    """Change the given fields. A linked volunteer's personal data follow the resident record
    and cannot be changed here; `team_id` may be given to move them to another team (they stop
    leading the old one). `expected`: the record as the editor read it (ConflictError when
    someone else saved in between)."""
    today = today or dt.date.today()
    values = {k: v for k, v in values.items() if k != "status"}   # 退出/rejoin change that
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        check_version("volunteers", current, expected)
        team_given = "team_id" in values
        team_id = values.pop("team_id", None)
        if current["resident_id"] is not None:
            shown = get(ctx.conn, volunteer_id)
            fixed = [k for k in COPIED if k in values and values[k] != shown[k]]
            if fixed:
                raise DomainError("该志愿者关联了居民档案，姓名、身份证号等请在居民档案中修改")
            values = {k: v for k, v in values.items() if k not in COPIED}
        clean = clean_record("volunteers", values, existing=current, today=today)
        merged = {**current, **clean}
        if "id_number" in clean or "gender" in clean or "birth_date" in clean:
            errors = _id_rules(merged, today)
            if errors:
                raise ValidationError(errors)
            clean.update({k: merged[k] for k in ("gender", "birth_date")})
        _check_unique(ctx.conn, merged.get("id_number"), volunteer_id)
        _check_dates(ctx.conn, volunteer_id, merged, today, set(clean))
        changes = []
        if team_given:
            if team_id != current["team_id"]:        # a team they may not read stays theirs
                _check_team(ctx, team_id)
            clean["team_id"] = team_id
            changes += _stop_leading(ctx, volunteer_id, keep=team_id)
        return Result(volunteer_id,
                      ctx.update("volunteers", volunteer_id, clean, current) + changes)


def _stop_leading(ctx: Context, volunteer_id: int, keep: int | None = None) -> list:
    """Clear the volunteer's leadership of every team but `keep` (moved away, or left)."""
    changes = []
    for team in ctx.conn.execute("SELECT * FROM volunteer_teams WHERE leader_id = ? "
                                 "AND id IS NOT ?", (volunteer_id, keep)).fetchall():
        changes += ctx.update("volunteer_teams", team["id"], {"leader_id": None}, dict(team))
    return changes


def _check_dates(conn: sqlite3.Connection, volunteer_id: int, merged: dict,
                 today: dt.date, changed: set[str]) -> None:
    """Joined and left dates (those `changed`): not in the future, in order, and around every
    service record (the sign-in sheet refuses activities outside them; editing must not undo
    that)."""
    joined, left = merged.get("joined_on"), merged.get("left_on")
    errors = []
    if joined and joined > today.isoformat():
        errors.append(FieldError("joined_on", "加入日期", f"“{joined}”晚于今天"))
    if merged.get("status") == ACTIVE and left:
        errors.append(FieldError("left_on", "退出日期",
                                 "在册志愿者没有退出日期（退出请用“退出…”）"))
    elif left and joined and left < joined:
        errors.append(FieldError("left_on", "退出日期", f"“{left}”早于加入日期 {joined}"))
    elif left and left > today.isoformat():
        errors.append(FieldError("left_on", "退出日期", f"“{left}”晚于今天"))
    first, last = conn.execute("""
        SELECT min(substr(a.starts_at, 1, 10)), max(substr(a.starts_at, 1, 10))
        FROM service_records s JOIN activities a ON a.id = s.activity_id
        WHERE s.volunteer_id = ?""", (volunteer_id,)).fetchone()
    if first and joined and joined > first:
        errors.append(FieldError("joined_on", "加入日期",
                                 f"“{joined}”晚于其第一次服务（{first}）"))
    if last and left and left < last:
        errors.append(FieldError("left_on", "退出日期", f"“{left}”早于其最后一次服务（{last}）"))
    errors = [e for e in errors if e.field in changed]
    if errors:
        raise ValidationError(errors)


def link_resident(ctx: Context, volunteer_id: int, resident_id: int) -> Result:
    """Link a volunteer to the resident record of the same person (copying its data)."""
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        values = _resident_values(ctx, resident_id)
        if (current["id_number"] and values["id_number"]
                and current["id_number"] != values["id_number"]):
            raise DomainError(f"{current['name']}的身份证号与居民{values['name']}的不同，"
                              "不是同一人")
        _check_unique(ctx.conn, values["id_number"], volunteer_id)
        return Result(volunteer_id, ctx.update("volunteers", volunteer_id,
                                               {**values, "resident_id": resident_id}, current))


def unlink_resident(ctx: Context, volunteer_id: int) -> Result:
    """Cut the link to the resident record (e.g. linked to the wrong person, or moved away):
    the resident's personal data as they are now stay as the volunteer's own and become
    editable."""
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        if current["resident_id"] is None:
            raise DomainError(f"{current['name']}未关联居民档案")
        shown = get(ctx.conn, volunteer_id)
        return Result(volunteer_id, ctx.update(
            "volunteers", volunteer_id,
            {"resident_id": None, **{k: shown[k] for k in COPIED}}, current))


KEEP = object()            # edit_volunteer: leave the resident link as it is


def edit_volunteer(ctx: Context, volunteer_id: int, values: dict[str, Any],
                   resident_id: Any = KEEP, today: dt.date | None = None,
                   expected: dict | None = None) -> Result:
    """The edit form's save, in one transaction: link to another resident (`resident_id`),
    unlink (None) or keep the link (KEEP), then update_volunteer with `values` (the personal
    fields are left out while linked). `expected`: the record as the form read it."""
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        check_version("volunteers", current, expected)
        changes = []
        if resident_id is None and current["resident_id"] is not None:
            changes += unlink_resident(ctx, volunteer_id).changes
        linked = current["resident_id"] if resident_id is KEEP else resident_id
        own = {k: v for k, v in values.items() if linked is None or k not in COPIED}
        changes += update_volunteer(ctx, volunteer_id, own, today).changes
        if resident_id not in (KEEP, None, current["resident_id"]):
            changes += link_resident(ctx, volunteer_id, resident_id).changes
        return Result(volunteer_id, changes)


def leave(ctx: Context, volunteer_id: int, left_on=None, reason: str | None = None,
          today: dt.date | None = None) -> Result:
    """退出: the volunteer stays on record with their hours and points. The date may not be
    in the future, before they joined or before their last service."""
    today = today or dt.date.today()
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        if current["status"] == LEFT:
            raise DomainError(f"{current['name']}已于 {current['left_on']} 退出")
        day = _iso(left_on or today, "退出日期", "left_on")
        values = {"status": LEFT, "left_on": day}
        _check_dates(ctx.conn, volunteer_id, {**current, **values}, today, {"left_on"})
        note = clean_text(reason)
        if note:
            values["notes"] = "\n".join(filter(None, (current["notes"], f"退出原因：{note}")))
        changes = ctx.update("volunteers", volunteer_id, values, current)
        changes += _stop_leading(ctx, volunteer_id)
        return Result(volunteer_id, changes)


def rejoin(ctx: Context, volunteer_id: int) -> Result:
    with ctx.transaction():
        current = ctx.get("volunteers", volunteer_id)
        if current["status"] == ACTIVE:
            raise DomainError(f"{current['name']}仍在册")
        return Result(volunteer_id, ctx.update("volunteers", volunteer_id,
                                               {"status": ACTIVE, "left_on": None}, current))


# --- teams -------------------------------------------------------------------------------------

def _team_values(ctx: Context, values: dict, own_id: int | None) -> dict:
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    if "name" in values or own_id is None:
        name = clean_text(values.get("name"), multiline=False)
        if not name:
            errors.append(FieldError("name", "队名", "不能为空"))
        elif len(name) > MAX_TEAM_NAME:
            errors.append(FieldError("name", "队名", f"不能超过{MAX_TEAM_NAME}个字"))
        elif ctx.conn.execute("SELECT 1 FROM volunteer_teams WHERE name = ? AND id IS NOT ?",
                              (name, own_id)).fetchone():
            errors.append(FieldError("name", "队名", f"已有名为“{name}”的服务队"))
        out["name"] = name
    if values.get("founded_on"):
        try:
            out["founded_on"] = parse_date(values["founded_on"])
        except ValueError as exc:
            errors.append(FieldError("founded_on", "成立日期", str(exc)))
    elif "founded_on" in values:
        out["founded_on"] = None
    if "unit_id" in values:
        if values["unit_id"] is not None:
            ctx.get("grid_units", values["unit_id"])
        out["unit_id"] = values["unit_id"]
    if "notes" in values:
        out["notes"] = clean_text(values["notes"])
    if errors:
        raise ValidationError(errors)
    return out


def create_team(ctx: Context, values: dict[str, Any]) -> Result:
    """A team: name (unique), unit_id, founded_on, notes, leader_id (joins the team)."""
    with ctx.transaction():
        clean = _team_values(ctx, values, None)
        team_id, changes = ctx.insert("volunteer_teams", clean)
        if values.get("leader_id") is not None:
            changes += set_leader(ctx, team_id, values["leader_id"]).changes
        return Result(team_id, changes)


def update_team(ctx: Context, team_id: int, values: dict[str, Any],
                expected: dict | None = None) -> Result:
    """`expected`: the team as the form read it (ConflictError when changed since)."""
    with ctx.transaction():
        current = ctx.get("volunteer_teams", team_id)
        check_version("volunteer_teams", current, expected)
        changes = ctx.update("volunteer_teams", team_id,
                             _team_values(ctx, values, team_id), current)
        if "leader_id" in values and values["leader_id"] != current["leader_id"]:
            changes += set_leader(ctx, team_id, values["leader_id"]).changes
        return Result(team_id, changes)


def set_leader(ctx: Context, team_id: int, volunteer_id: int | None) -> Result:
    """The team's leader (队长); a leader from outside the team joins it."""
    with ctx.transaction():
        ctx.get("volunteer_teams", team_id)
        changes = []
        if volunteer_id is not None:
            person = ctx.get("volunteers", volunteer_id)
            if person["status"] != ACTIVE:
                raise DomainError(f"{person['name']}已退出，不能担任队长")
            changes += ctx.update("volunteers", volunteer_id, {"team_id": team_id}, person)
            changes += _stop_leading(ctx, volunteer_id, keep=team_id)
        changes += ctx.update("volunteer_teams", team_id, {"leader_id": volunteer_id})
        return Result(team_id, changes)


def leader_choices(conn: sqlite3.Connection, team_id: int | None,
                   access: Access | None = None) -> list[dict]:
    """Active volunteers who could lead a team (id, name, team), its own members first; with
    a 网格员's `access`, those of the register they see (readable_ids) and the team's leader
    (kept, so that saving the team does not drop them)."""
    rows = conn.execute(f"""
        SELECT v.id, v.name, t.name AS team, v.team_id FROM {VOLUNTEERS} v
        LEFT JOIN volunteer_teams t ON t.id = v.team_id
        WHERE v.status = '{ON_RECORD}'""")
    seen = readable_ids(conn, access)
    if seen is not None and team_id is not None:
        leader = conn.execute("SELECT leader_id FROM volunteer_teams WHERE id = ?",
                              (team_id,)).fetchone()
        seen.add(leader and leader[0])
    mine = team_id or -1
    out = [dict(r) for r in rows if seen is None or r["id"] in seen]
    by_name = {n: sort_key(n) for n in {r["name"] for r in out}}
    return sorted(out, key=lambda r: (r["team_id"] != mine, by_name[r["name"]], r["id"]))


def near_units(conn: sqlite3.Connection, unit_id: int | None,
               access: Access | None = None) -> set[int] | None:
    """The units whose teams and activities show under `unit_id`: those under it or above
    it (a community's show under each of its grids); with no unit, a 网格员's units and those
    above them (NotPermitted for a unit outside theirs); None: every unit."""

    if unit_id is not None:
        if access is not None:
            access.check_read_unit(unit_id)
        return {*ancestors(conn, unit_id), *descendants(conn, unit_id)}
    if access is not None and access.restricted:
        return {*access.readable, *access.above}
    return None


def teams(conn: sqlite3.Connection, unit_id: int | None = None,
          access: Access | None = None) -> list[dict]:
    """Teams with their leader's name and how many active members they have, by name: every
    team, or (`unit_id`, a 网格员's `access`) those of near_units() or with no unit."""
    scope = ""
    near = near_units(conn, unit_id, access)
    if near is not None:
        scope = f"WHERE t.unit_id IS NULL OR t.unit_id IN ({','.join(map(str, near))})"
    return sorted((dict(r) for r in conn.execute(f"""
        SELECT t.id, t.name, t.unit_id, t.leader_id, l.name AS leader, t.founded_on, t.notes,
               (SELECT count(*) FROM volunteers v WHERE v.team_id = t.id AND v.status = '{ON_RECORD}')
                   AS members
        FROM volunteer_teams t LEFT JOIN {VOLUNTEERS} l ON l.id = t.leader_id
        {scope}""")), key=lambda t: (sort_key(t["name"]), t["id"]))


# --- where volunteers are (the grid tree, the sign-in sheet) ----------------------------------

# A volunteer's places are the unit of their team and the house they live in (when linked to a
# resident). With grid.SUBTREE_SQL in front, IN_SCOPE holds for a volunteer `v` when either place
# lies in `subtree`, or when neither is known (no team unit, no house): those few are listed
# everywhere rather than nowhere.
_TEAM_UNIT = "SELECT t.unit_id FROM volunteer_teams t WHERE t.id = v.team_id"
_HOME_UNIT = """SELECT ho.unit_id FROM residents r JOIN households h ON h.id = r.household_id
                JOIN houses ho ON ho.id = h.house_id WHERE r.id = v.resident_id"""
IN_SCOPE = f"""(({_TEAM_UNIT}) IN (SELECT id FROM subtree)
    OR ({_HOME_UNIT}) IN (SELECT id FROM subtree)
    OR (({_TEAM_UNIT}) IS NULL AND ({_HOME_UNIT}) IS NULL))"""


def community_of(conn: sqlite3.Connection, unit_id: int | None) -> int | None:
    """The community (社区) a unit lies in — itself when it is one; a street stays itself (it
    has no single community); None for None."""
    if unit_id is None:
        return None

    ids = ancestors(conn, unit_id)
    levels = dict(conn.execute(
        f"SELECT id, level FROM grid_units WHERE id IN ({','.join('?' * len(ids))})", ids))
    return next((uid for uid in ids if levels[uid] == "community"), unit_id)


def ids_in_scope(conn: sqlite3.Connection, unit_id: int) -> set[int]:
    """Ids of the volunteers whose team or home lies under `unit_id` (see IN_SCOPE)."""

    return {r[0] for r in conn.execute(
        SUBTREE_SQL + f"SELECT v.id FROM volunteers v WHERE {IN_SCOPE}", (unit_id,))}


def readable_ids(conn: sqlite3.Connection, access: Access | None) -> set[int] | None:
    """Ids of the volunteers a 网格员 reads — the register's rule (IN_SCOPE over their units,
    access.scope; those with neither a team unit nor a home included); None: everyone."""

    within = scope(access, None)
    if within is None:
        return None
    head, param = within
    return {r[0] for r in conn.execute(
        head + f"SELECT v.id FROM volunteers v WHERE {IN_SCOPE}", (param,))}


# --- finding -----------------------------------------------------------------------------------

def get(conn: sqlite3.Connection, volunteer_id: int) -> dict:
    row = conn.execute(f"""
        SELECT v.*, t.name AS team FROM {VOLUNTEERS} v
        LEFT JOIN volunteer_teams t ON t.id = v.team_id WHERE v.id = ?""",
                       (volunteer_id,)).fetchone()
    if row is None:
        raise NotFoundError(f"找不到志愿者（编号 {volunteer_id}）")
    return dict(row)


def find(conn: sqlite3.Connection, key: str) -> dict:
    """One volunteer by number (编号), ID number or exact name.

    A name shared by several volunteers is an error that lists them, so the caller can choose
    by number."""
    text = str(key).strip()
    if not text:
        raise DomainError("请给出志愿者的编号、身份证号或姓名")
    if text.isdigit() and len(text) < 15:
        return get(conn, int(text))

    row = conn.execute(f"SELECT id FROM {VOLUNTEERS} v WHERE id_number = ?",
                       (idnumber.clean(text),)).fetchone()
    if row:
        return get(conn, row[0])
    rows = conn.execute(f"""
        SELECT v.id, v.name, v.status, v.id_number, t.name AS team FROM {VOLUNTEERS} v
        LEFT JOIN volunteer_teams t ON t.id = v.team_id WHERE v.name = ? ORDER BY v.id""",
                        (text,)).fetchall()
    if not rows:
        raise NotFoundError(f"找不到志愿者“{text}”")
    if len(rows) > 1:

        listed = "；".join(
            f"编号 {r['id']}（{r['team'] or '未分队'}，{mask_id(r['id_number']) or '无身份证号'}"
            f"{'，已退出' if r['status'] == LEFT else ''}）" for r in rows)
        raise DomainError(f"有 {len(rows)} 位志愿者名为“{text}”，请用编号指定：{listed}")
    return get(conn, rows[0]["id"])


def organisation(conn: sqlite3.Connection, volunteer: dict) -> str:
    """The community a volunteer serves in (the issuer of their certificate): that of their
    team's unit, else of the house they live in, else the database's only community, else its
    street; '' when the database has no such unit."""

    units = []
    if volunteer.get("team_id"):
        row = conn.execute("SELECT unit_id FROM volunteer_teams WHERE id = ?",
                           (volunteer["team_id"],)).fetchone()
        units.append(row and row[0])
    if volunteer.get("resident_id"):
        row = conn.execute("""
            SELECT ho.unit_id FROM residents r JOIN households h ON h.id = r.household_id
            JOIN houses ho ON ho.id = h.house_id WHERE r.id = ?""",
                           (volunteer["resident_id"],)).fetchone()
        units.append(row and row[0])
    for unit in filter(None, units):
        for uid in ancestors(conn, unit):
            row = conn.execute("SELECT name FROM grid_units WHERE id = ? AND level = 'community'",
                               (uid,)).fetchone()
            if row:
                return row[0]
    for level in ("community", "street"):
        rows = conn.execute("SELECT name FROM grid_units WHERE level = ? LIMIT 2",
                            (level,)).fetchall()
        if len(rows) == 1 or (rows and level == "street"):
            return rows[0][0]
    return ""
