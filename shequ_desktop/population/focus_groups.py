"""The focus groups communities keep (重点人群), served finely (issue 21).

The catalogue (resources/focus_groups.json) names 27 groups, the words that name each in a
register's title, its visit interval and the extra fields its register carries (as the 天阙
registers head them). The database's `tags` are the groups in use: `ensure_catalogue` adds
the catalogue's missing ones; an administrator adds their own (`add_group`) and may set a
group's own field list (tags.fields; NULL: the catalogue's).

A member's extra field values live in residents.extras under the field's label — where an
imported register already leaves its columns — so an import, the details panel, the member
editor and the export all read and write the same place. A label two groups share (人员类型)
is one value per person.
"""
from __future__ import annotations

import json
import re
from functools import cache

from db.driver import sqlite3
from shequ_desktop.core.access import named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import FieldError, ValidationError
from shequ_desktop.core.resources import resource_path
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import Places
from shequ_desktop.core.validation import clean_text
from shequ_desktop.population import extras, tags

MAX_FIELDS = 30
MAX_LABEL = 30
MAX_VALUE = 500


@cache
def _data() -> dict:
    return json.loads(resource_path("focus_groups.json").read_text(encoding="utf-8"))


def catalogue() -> list[dict]:
    """The catalogue's groups: {name, aliases, interval, fields, care ('老', '小' or None)}."""
    return [{"care": None, **g} for g in _data()["groups"]]


def catalogue_group(name: str) -> dict | None:
    return next((g for g in catalogue() if g["name"] == name), None)


def service_kinds() -> list[str]:
    """The 一老一小 services the catalogue offers (助餐, 上门服务, 托育 …)."""
    return list(_data()["services"])


def title_words() -> tuple[tuple[str, str], ...]:
    """(word, group) pairs that name a group in a register's title, most specific first (the
    catalogue's order), for the importer's register detection."""
    return tuple((word, g["name"]) for g in catalogue() for word in g["aliases"])


def fields_of(conn: sqlite3.Connection, tag_id: int) -> list[str]:
    """A group's extra field labels: its own when set, else the catalogue's."""
    row = conn.execute("SELECT name, fields FROM tags WHERE id = ?", (tag_id,)).fetchone()
    if row is None:
        return []
    if row["fields"] is not None:
        return [str(x) for x in json.loads(row["fields"])]
    found = catalogue_group(row["name"])
    return list(found["fields"]) if found else []


def groups(conn: sqlite3.Connection, access=None, unit_id: int | None = None) -> list[dict]:
    """The groups in use with their fields and how many people (in scope) are in each now."""
    head, params = named_scope(access, unit_id)
    scoped = ("AND rt.resident_id IN (SELECT r.id FROM subtree s JOIN houses ho ON"
              " ho.unit_id = s.id JOIN households h ON h.house_id = ho.id JOIN residents r"
              " ON r.household_id = h.id)") if head else ""
    counts = dict(conn.execute(head + f"""
        SELECT rt.tag_id, count(*) FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
        WHERE rt.until IS NULL AND r.status = '{ON_RECORD}' {scoped} GROUP BY rt.tag_id""",
                               params).fetchall())
    out = []
    for t in tags.all_tags(conn):
        known = catalogue_group(t["name"])
        out.append({**t, "fields": fields_of(conn, t["id"]), "members": counts.get(t["id"], 0),
                    "own_fields": t["fields"] is not None, "in_catalogue": known is not None,
                    "care": known["care"] if known else None})
    return out


def ensure_catalogue(ctx: Context) -> Result:
    """Add the catalogue's groups the database lacks (an administrator's act); those present
    keep their interval and fields."""
    have = {t["name"] for t in tags.all_tags(ctx.conn)}
    changes = []
    with ctx.transaction():
        sort = ctx.conn.execute("SELECT coalesce(max(sort), 0) FROM tags").fetchone()[0]
        for g in catalogue():
            if g["name"] in have:
                continue
            sort += 1
            changes += ctx.insert("tags", {"name": g["name"], "visit_interval_days": g["interval"],
                                           "sort": sort})[1]
    return Result(None, changes)


def _clean_labels(labels) -> list[str]:
    """Labels as given (an entry may hold several, split at commas or 、), trimmed, once."""
    out: list[str] = []
    for raw in (part for entry in labels or () for part in re.split(r"[,，、\n]", str(entry))):
        label = clean_text(raw, multiline=False)
        if not label:
            continue
        if len(label) > MAX_LABEL:
            raise ValidationError([FieldError("fields", "附加字段",
                                              f"“{label[:10]}…”超过{MAX_LABEL}个字")])
        if label not in out:
            out.append(label)
    if len(out) > MAX_FIELDS:
        raise ValidationError([FieldError("fields", "附加字段", f"最多{MAX_FIELDS}个")])
    return out


def add_group(ctx: Context, name: str, visit_interval_days: int | None = None,
              fields: list[str] | None = None) -> Result:
    """An administrator's own group (or a catalogue group, with the catalogue's fields and
    interval unless given)."""
    known = catalogue_group(clean_text(name, multiline=False) or "")
    if visit_interval_days is None and known:
        visit_interval_days = known["interval"]
    labels = _clean_labels(fields) if fields is not None else None
    with ctx.transaction():
        result = tags.create_tag(ctx, name, visit_interval_days)
        sort = ctx.conn.execute("SELECT coalesce(max(sort), 0) + 1 FROM tags").fetchone()[0]
        values = {"sort": sort}
        if labels is not None and (known is None or labels != known["fields"]):
            values["fields"] = json.dumps(labels, ensure_ascii=False)
        result.changes += ctx.update("tags", result.id, values)
    return result


def set_fields(ctx: Context, tag_id: int, labels: list[str] | None) -> Result:
    """Set a group's own field list (None: back to the catalogue's). Values people already
    have under a removed label stay in their extras."""
    value = None if labels is None else json.dumps(_clean_labels(labels), ensure_ascii=False)
    with ctx.transaction():
        return Result(tag_id, ctx.update("tags", tag_id, {"fields": value}))


def member_fields(conn: sqlite3.Connection,
                  resident_id: int) -> list[tuple[str, list[tuple[str, str]]]]:
    """For each group the resident is in now: (group, [(label, value or "")…])."""
    have = extras.of_resident(conn, resident_id)
    out = []
    for tag_id, name in conn.execute(
            "SELECT t.id, t.name FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id"
            " WHERE rt.resident_id = ? AND rt.until IS NULL ORDER BY t.sort, t.id",
            (resident_id,)).fetchall():
        labels = fields_of(conn, tag_id)
        out.append((name, [(label, have.get(label, "")) for label in labels]))
    return out


def set_member_values(ctx: Context, resident_id: int, values: dict[str, str]) -> Result:
    """Write a member's extra field values (label -> text; empty removes the value) into
    residents.extras, keeping every other extra as it is."""
    errors = []
    clean: dict[str, str | None] = {}
    for label, value in values.items():
        text = clean_text(value) if value is not None else None
        if text and len(text) > MAX_VALUE:
            errors.append(FieldError(label, label, f"不能超过{MAX_VALUE}个字"))
        clean[str(label)] = text or None
    if errors:
        raise ValidationError(errors)
    with ctx.transaction():
        current = ctx.get("residents", resident_id)
        have = extras.parse(current["extras"])
        for label, text in clean.items():
            if text is None:
                have.pop(label, None)
            else:
                have[label] = text
        stored = json.dumps(have, ensure_ascii=False) if have else None
        return Result(resident_id, ctx.update("residents", resident_id, {"extras": stored},
                                              current))


def members(conn: sqlite3.Connection, tag_id: int, access=None,
            unit_id: int | None = None) -> list[dict]:
    """The group's members now (in scope), with their address and extra field values."""

    head, params = named_scope(access, unit_id)
    scoped = "AND ho.unit_id IN (SELECT id FROM subtree)" if head else ""
    labels = fields_of(conn, tag_id)
    places = Places(conn)
    out = []
    for row in conn.execute(head + f"""
            SELECT r.id, r.name, r.gender, r.birth_date, r.phone, r.extras, rt.since,
                   ho.unit_id, ho.room_no,
                   (SELECT max(v.visited_on) FROM visits v WHERE v.resident_id = r.id) AS last
            FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
            LEFT JOIN households h ON h.id = r.household_id
            LEFT JOIN houses ho ON ho.id = h.house_id
            WHERE rt.tag_id = :tag AND rt.until IS NULL AND r.status = '{ON_RECORD}' {scoped}
            ORDER BY r.name_initials, r.id""", {**params, "tag": tag_id}):
        have = extras.parse(row["extras"])
        prefix = places.of(row["unit_id"])[4]
        out.append({"id": row["id"], "name": row["name"], "birth_date": row["birth_date"],
                    "phone": row["phone"], "since": row["since"], "last_visit": row["last"],
                    "address": prefix + (row["room_no"] or ""),
                    "values": {label: have.get(label, "") for label in labels}})
    return out
