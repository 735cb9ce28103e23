"""议事协商 (issue 21): meetings of residents (院落议事会, 小区议事会, 居民议事会) as records a
community can print.

A meeting belongs to a grid unit (the community, a grid or a compound), has a day, place,
topic, who took part (residents on record or anyone: representatives, units), what was
discussed and decided, and the vote. Each follow-up item becomes an event in the closed loop
(events.py: reported on the meeting's day, accepted with a deadline when one is given), so
what a meeting decided is followed through like any other matter. Attachments (photos, signed
sheets) are stored in the database itself, encrypted with it.
"""
from __future__ import annotations

import datetime as dt

from db.driver import sqlite3
from shequ_desktop.community import media
from shequ_desktop.community.follow_ups import clean_item, open_event
from shequ_desktop.core.access import named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.tree import path_names
from shequ_desktop.core.validation import clean_text, parse_date

KINDS = ("院落议事会", "小区议事会", "居民议事会", "其他")
ROLES = ("居民", "居民代表", "党员", "物业", "业委会", "驻区单位", "社区工作者", "其他")
LABELS = {"unit_id": "所属单元", "kind": "会议类型", "held_on": "会议日期", "place": "地点",
          "topic": "议题", "host": "主持人", "recorder": "记录人", "discussion": "讨论情况",
          "decisions": "议定事项", "votes_for": "赞成", "votes_against": "反对",
          "votes_abstain": "弃权", "notes": "备注", "participants": "参会人员"}
MAX_SHORT = 50
MAX_TEXT = 5000
MAX_ATTACHMENT = 20 * 1024 * 1024
FOLLOW_UP_CATEGORY = "民生诉求"
VOTES = ("votes_for", "votes_against", "votes_abstain")


def _clean(ctx: Context, values: dict, current: dict | None, participants: int | None) -> dict:
    merged = {**(current or {}), **values}
    errors: list[FieldError] = []

    def wrong(name: str, message: str) -> None:
        errors.append(FieldError(name, LABELS[name], message))

    out: dict = {}
    unit = ctx.conn.execute("SELECT level FROM grid_units WHERE id = ?",
                            (merged.get("unit_id"),)).fetchone()
    if unit is None or unit[0] in ("building", "unit"):
        wrong("unit_id", "请选择社区、网格或小区")
    out["unit_id"] = merged.get("unit_id")
    kind = clean_text(merged.get("kind"), multiline=False)
    if kind not in KINDS:
        wrong("kind", f"应为{'、'.join(KINDS)}之一")
    out["kind"] = kind
    day = merged.get("held_on")
    try:
        day = parse_date(day) if day not in (None, "") else None
        if day is None:
            wrong("held_on", "不能为空")
        elif day > dt.date.today().isoformat():
            wrong("held_on", f"“{day}”晚于今天（会议开过之后再记录）")
    except ValueError as exc:
        wrong("held_on", str(exc))
        day = None
    out["held_on"] = day
    for name in ("place", "host", "recorder"):
        text = clean_text(merged.get(name), multiline=False) if merged.get(name) else None
        if text and len(text) > MAX_SHORT:
            wrong(name, f"不能超过{MAX_SHORT}个字")
        out[name] = text
    topic = clean_text(merged.get("topic"), multiline=False) if merged.get("topic") else None
    if not topic:
        wrong("topic", "不能为空")
    elif len(topic) > 200:
        wrong("topic", "不能超过200个字")
    out["topic"] = topic
    for name in ("discussion", "decisions", "notes"):
        text = clean_text(merged.get(name)) if merged.get(name) else None
        if text and len(text) > MAX_TEXT:
            wrong(name, f"不能超过{MAX_TEXT}个字")
        out[name] = text
    total = 0
    for name in VOTES:
        value = merged.get(name)
        if value in (None, ""):
            out[name] = None
            continue
        try:
            number = int(str(value).strip())
        except ValueError:
            wrong(name, f"“{value}”不是票数")
            continue
        if number < 0:
            wrong(name, "不能为负数")
        out[name] = number
        total += max(number, 0)
    if participants and total > participants:
        errors.append(FieldError("votes_for", "表决", f"票数合计 {total} 超过参会人数 {participants}"))
    if errors:
        raise ValidationError(errors)
    return out


def _people(ctx: Context, participants) -> list[dict]:
    """Participants as rows: a dict {name, role, resident_id} or a resident id or a name."""
    out = []
    for p in participants or ():
        if isinstance(p, int):
            p = {"resident_id": p}
        elif isinstance(p, str):
            p = {"name": p}
        resident_id = p.get("resident_id")
        name = clean_text(p.get("name"), multiline=False) if p.get("name") else None
        if resident_id is not None:
            resident = ctx.get("residents", resident_id)
            name = name or resident["name"]
        if not name:
            raise ValidationError([FieldError("participants", LABELS["participants"],
                                              "参会人员要有姓名")])
        role = clean_text(p.get("role"), multiline=False) if p.get("role") else "居民"
        out.append({"name": name[:MAX_SHORT], "role": role[:20], "resident_id": resident_id})
    return out


def create_meeting(ctx: Context, unit_id: int, kind: str, held_on, topic: str, *,
                   participants=(), **values) -> Result:
    """A meeting with its participants (see _people); `values`: place, host, recorder,
    discussion, decisions, votes_for/against/abstain, notes."""
    with ctx.transaction():
        people = _people(ctx, participants)
        clean = _clean(ctx, {"unit_id": unit_id, "kind": kind, "held_on": held_on,
                             "topic": topic, **values}, None, len(people) or None)
        new_id, changes = ctx.insert("meetings", clean)
        for p in people:
            changes += ctx.insert("meeting_participants", {"meeting_id": new_id, **p})[1]
    return Result(new_id, changes)


def update_meeting(ctx: Context, meeting_id: int, values: dict, participants=None) -> Result:
    """Change a meeting; `participants` (when given) replaces the list."""
    with ctx.transaction():
        current = ctx.get("meetings", meeting_id)
        changes = []
        if participants is not None:
            people = _people(ctx, participants)
            for (pid,) in ctx.conn.execute("SELECT id FROM meeting_participants WHERE"
                                           " meeting_id = ?", (meeting_id,)).fetchall():
                changes += ctx.delete("meeting_participants", pid)
            for p in people:
                changes += ctx.insert("meeting_participants", {"meeting_id": meeting_id, **p})[1]
        count = ctx.conn.execute("SELECT count(*) FROM meeting_participants WHERE meeting_id = ?",
                                 (meeting_id,)).fetchone()[0]
        clean = _clean(ctx, values, current, count or None)
        changes += ctx.update("meetings", meeting_id, clean, current)
    return Result(meeting_id, changes)


def delete_meeting(ctx: Context, meeting_id: int) -> Result:
    """A meeting recorded by mistake; its follow-up events stay (they are work in the loop)."""
    with ctx.transaction():
        changes = []
        for table in ("meeting_participants", "meeting_items", "meeting_attachments"):
            for (rid,) in ctx.conn.execute(f"SELECT id FROM {table} WHERE meeting_id = ?",
                                           (meeting_id,)).fetchall():
                media.drop_data(ctx.conn, table, rid)
                changes += ctx.delete(table, rid)
        changes += ctx.delete("meetings", meeting_id)
    return Result(meeting_id, changes)


def add_follow_up(ctx: Context, meeting_id: int, content: str, owner: str | None = None,
                  deadline_days: int | None = None, category: str = FOLLOW_UP_CATEGORY) -> Result:
    """A follow-up item: it becomes an event of the meeting's unit (上报 on the meeting's
    day by the owner, 受理 with `deadline_days` working days when given)."""

    text, owner = clean_item(content, owner, "跟进事项")
    with ctx.transaction():
        meeting = ctx.get("meetings", meeting_id)
        event = open_event(ctx, meeting["unit_id"], category,
                           f"【{meeting['kind']}】{meeting['topic']}：{text}", meeting["held_on"],
                           owner or meeting["recorder"] or meeting["host"] or ctx.user,
                           location=meeting["place"], deadline_days=deadline_days,
                           note=f"议事会议定（{meeting['held_on']}）")
        new_id, more = ctx.insert("meeting_items", {"meeting_id": meeting_id, "content": text,
                                                    "owner": owner, "event_id": event.id})
    return Result(new_id, event.changes + more)


def add_attachment(ctx: Context, meeting_id: int, path=None, *, name: str | None = None,
                   data: bytes | None = None) -> Result:
    """A photo or signed sheet stored with the meeting (in the database: encrypted with it)."""
    name, data = media.read_upload(path, name=name, data=data, limit=MAX_ATTACHMENT)
    with ctx.transaction():
        ctx.get("meetings", meeting_id)
        return media.attach(ctx, "meeting_attachments", {"meeting_id": meeting_id}, name, data)


def delete_attachment(ctx: Context, attachment_id: int) -> Result:
    return media.remove(ctx, "meeting_attachments", attachment_id)


def attachment_data(conn: sqlite3.Connection, attachment_id: int) -> tuple[str, bytes]:
    return media.fetch(conn, "meeting_attachments", attachment_id)


def get_meeting(conn: sqlite3.Connection, meeting_id: int, access=None) -> dict:
    """The meeting with its unit's name, participants, items (with their event's status and
    deadline) and attachments (name and size)."""

    row = conn.execute("SELECT * FROM meetings WHERE id = ?", (meeting_id,)).fetchone()
    if row is None:
        raise DomainError(f"找不到议事会议（编号 {meeting_id}）")
    meeting = dict(row)
    if access is not None:
        access.check_read(conn, "meetings", meeting)
    meeting["unit_name"] = " ".join(path_names(conn, meeting["unit_id"])[-2:])
    meeting["participants"] = [dict(r) for r in conn.execute(
        "SELECT id, name, role, resident_id FROM meeting_participants WHERE meeting_id = ?"
        " ORDER BY id", (meeting_id,))]
    meeting["items"] = [dict(r) for r in conn.execute("""
        SELECT i.id, i.content, i.owner, i.event_id, e.status, e.deadline, e.closed_at
        FROM meeting_items i LEFT JOIN events e ON e.id = i.event_id
        WHERE i.meeting_id = ? ORDER BY i.id""", (meeting_id,))]
    meeting["attachments"] = [dict(r) for r in conn.execute(
        "SELECT id, name, size FROM meeting_attachments WHERE meeting_id = ? ORDER BY id",
        (meeting_id,))]
    return meeting


def list_meetings(conn: sqlite3.Connection, *, access=None, unit_id: int | None = None,
                  year: int | None = None) -> list[dict]:
    """Meetings in scope (held in `year` when given), newest first, with counts of
    participants, follow-up items and those still open."""
    head, params = named_scope(access, unit_id)
    where = ["1"]
    if head:
        where.append("m.unit_id IN (SELECT id FROM subtree)")
    if year:
        where.append("substr(m.held_on, 1, 4) = :year")
        params["year"] = f"{int(year):04d}"
    return [dict(r) for r in conn.execute(head + f"""
        SELECT m.id, m.held_on, m.kind, m.topic, m.place, m.unit_id, g.name AS unit_name,
               m.votes_for, m.votes_against, m.votes_abstain, m.decisions,
               (SELECT count(*) FROM meeting_participants p WHERE p.meeting_id = m.id)
                   AS participants,
               (SELECT count(*) FROM meeting_items i WHERE i.meeting_id = m.id) AS items,
               (SELECT count(*) FROM meeting_items i JOIN events e ON e.id = i.event_id
                WHERE i.meeting_id = m.id AND e.status IN ('上报', '受理', '处置中'))
                   AS open_items,
               (SELECT count(*) FROM meeting_attachments a WHERE a.meeting_id = m.id)
                   AS attachments
        FROM meetings m JOIN grid_units g ON g.id = m.unit_id
        WHERE {' AND '.join(where)} ORDER BY m.held_on DESC, m.id DESC""", params)]


def vote_text(meeting: dict) -> str:
    """'赞成 23，反对 2，弃权 1' or '' when no vote was taken."""
    if all(meeting.get(k) is None for k in VOTES):
        return ""
    return "，".join(f"{LABELS[k]} {meeting.get(k) or 0}" for k in VOTES)
