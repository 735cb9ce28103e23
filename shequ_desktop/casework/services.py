"""一老一小 services (助餐, 上门服务, 托育 …) given to residents, recorded like visits (issue 21).

A service is a resident, a day, a kind (the catalogue's list or the community's own word), who
gave it and what was done. The list and the ledger (`shequ ledger --kind services`) read them
by grid scope like visits.
"""
from __future__ import annotations

import datetime as dt
from typing import Iterable

from db.driver import sqlite3
from shequ_desktop.core.access import named_scope
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import FieldError, ValidationError
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import Places
from shequ_desktop.core.validation import clean_text, parse_date

LABELS = {"resident_id": "服务对象", "served_on": "服务日期", "kind": "服务项目",
          "provider": "服务人", "content": "服务内容"}
MAX_KIND = 20
MAX_PROVIDER = 50
MAX_TEXT = 2000


def _clean(served_on, kind, provider, content, today: dt.date) -> tuple[dict, list[FieldError]]:
    errors: list[FieldError] = []

    def wrong(name: str, message: str) -> None:
        errors.append(FieldError(name, LABELS[name], message))

    day = None
    if served_on is None or not str(served_on).strip():
        wrong("served_on", "不能为空")
    else:
        try:
            day = parse_date(served_on)
        except ValueError as exc:
            wrong("served_on", str(exc))
        else:
            if day > today.isoformat():
                wrong("served_on", f"“{day}”晚于今天，不能登记未来的服务")
    kind = clean_text(kind, multiline=False) if kind is not None else None
    if not kind:
        wrong("kind", "请选择或填写服务项目")
    elif len(kind) > MAX_KIND:
        wrong("kind", f"不能超过{MAX_KIND}个字")
    provider = clean_text(provider, multiline=False) if provider is not None else None
    if not provider:
        wrong("provider", "不能为空")
    elif len(provider) > MAX_PROVIDER:
        wrong("provider", f"不能超过{MAX_PROVIDER}个字")
    content = clean_text(content) if content is not None else None
    if content and len(content) > MAX_TEXT:
        wrong("content", f"不能超过{MAX_TEXT}个字")
    return {"served_on": day, "kind": kind, "provider": provider, "content": content}, errors


def record_services(ctx: Context, resident_ids: Iterable[int], served_on, kind: str,
                    provider: str, content: str | None = None) -> list[Result]:
    """The same service for several residents (a meal round): all recorded, or none."""
    ids = list(dict.fromkeys(resident_ids))
    values, errors = _clean(served_on, kind, provider, content, dt.date.today())
    if not ids:
        errors.insert(0, FieldError("resident_id", LABELS["resident_id"], "请至少选择一位居民"))
    results = []
    with ctx.transaction():
        people = [ctx.get("residents", rid) for rid in ids]
        for person in people:
            if person["status"] != ON_RECORD:
                errors.append(FieldError("resident_id", LABELS["resident_id"],
                                         f"{person['name']}已{person['status']}，不能登记服务"))
        if errors:
            raise ValidationError(errors)
        for person in people:
            new_id, changes = ctx.insert("services", {"resident_id": person["id"], **values})
            results.append(Result(new_id, changes))
    return results


def delete_service(ctx: Context, service_id: int) -> Result:
    with ctx.transaction():
        return Result(service_id, ctx.delete("services", service_id))


def list_services(conn: sqlite3.Connection, *, access=None, unit_id: int | None = None,
                  start: str | None = None, end: str | None = None,
                  kind: str | None = None) -> list[dict]:
    """Services in scope, newest first, with the resident's name, address and focus groups."""

    head, params = named_scope(access, unit_id)
    where = ["1"]
    if head:
        where.append("ho.unit_id IN (SELECT id FROM subtree)")
    if start:
        where.append("s.served_on >= :start")
        params["start"] = start
    if end:
        where.append("s.served_on <= :end")
        params["end"] = end
    if kind:
        where.append("s.kind = :kind")
        params["kind"] = kind
    places = Places(conn)
    out = []
    for row in conn.execute(head + f"""
            SELECT s.id, s.served_on, s.kind, s.provider, s.content, r.id AS resident_id,
                   r.name, ho.unit_id, ho.room_no,
                   (SELECT group_concat(t.name, '、') FROM resident_tags rt
                    JOIN tags t ON t.id = rt.tag_id WHERE rt.resident_id = r.id
                    AND rt.until IS NULL) AS groups
            FROM services s JOIN residents r ON r.id = s.resident_id
            LEFT JOIN households h ON h.id = r.household_id
            LEFT JOIN houses ho ON ho.id = h.house_id
            WHERE {' AND '.join(where)}
            ORDER BY s.served_on DESC, s.id DESC""", params):
        record = dict(row)
        record["address"] = places.of(record.pop("unit_id"))[4] + (record.pop("room_no") or "")
        out.append(record)
    return out
