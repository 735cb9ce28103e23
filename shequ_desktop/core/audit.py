"""The audit trail: who did what, when. Append-only (triggers refuse UPDATE and DELETE) and
hash-chained: each row's hash covers its content and the previous row's hash, so an edited or
removed row breaks the chain and `shequ check` reports it.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from db import atomic, db_path
from db.driver import sqlite3
from shequ_desktop.core.context import Hook
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.fields import ENTITY_LABELS, REGISTRY
from shequ_desktop.core.keys import KeyFile
from shequ_desktop.core.masking import mask

GENESIS = "0" * 64

# action -> Chinese label (the audit page and reports show these)
ACTIONS = {
    "create": "新增", "update": "修改", "delete": "删除", "status": "状态变更",
    "import": "导入", "export": "导出", "print": "打印", "unmask": "显示完整证件号",
    "merge": "合并", "login": "登录", "login_failed": "登录失败", "restore": "恢复备份",
    "user": "用户管理", "backup": "备份", "resolve": "处理合并冲突",
}


def _digest(prev_hash: str, at: str, actor: str, action: str, entity: str | None,
            entity_id: int | None, summary: str, detail: str | None) -> str:
    payload = json.dumps([prev_hash, at, actor, action, entity, entity_id, summary, detail],
                         ensure_ascii=False, separators=(",", ":"))
    import hashlib  # only when writing: not on the start-up path
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(conn: sqlite3.Connection, actor: str, action: str, *, entity: str | None = None,
           entity_id: int | None = None, summary: str = "", detail: Any = None) -> int:
    """Append one entry. Runs inside the caller's transaction when there is one, so the entry
    lands with the change it describes or not at all. Returns its id."""
    return append(conn, actor, [(action, entity, entity_id, summary, detail)])


def append(conn: sqlite3.Connection, actor: str,
           items: list[tuple[str, str | None, int | None, str, Any]]) -> int:
    """Append (action, entity, entity_id, summary, detail) entries in order; the id of the last."""
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with atomic(conn):
        row = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS
        rows = []
        for action, entity, entity_id, summary, detail in items:
            detail_text = None if detail is None else json.dumps(
                detail, ensure_ascii=False, sort_keys=True, default=str)
            digest = _digest(prev, at, actor, action, entity, entity_id, summary, detail_text)
            rows.append((at, actor, action, entity, entity_id, summary, detail_text, prev,
                         digest))
            prev = digest
        conn.executemany(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, summary, detail,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        return conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]


def field_label(entity: str, name: str) -> str:
    return next((f.label for f in REGISTRY.get(entity, ()) if f.name == name), name)


def shown_value(entity: str, name: str, value) -> str:
    """A value as the audit page shows it: ID numbers and phones masked, empty as （空）."""
    if value is None or value == "":
        return "（空）"
    field = next((f for f in REGISTRY.get(entity, ()) if f.name == name), None)
    if field is not None and field.mask:
        return mask(field.mask, value)
    return str(value)


def changes_to_entries(changes) -> list[tuple]:
    """One entry per record touched by a transaction: what was created, deleted, or which
    fields changed from what to what (a status field change is a "status" entry)."""
    entries: dict[tuple, dict] = {}
    for c in changes:
        if c.action == "update":
            key = (c.entity, c.id, "update")
            entries.setdefault(key, {})[c.field] = [c.old, c.new]
        elif c.action == "bulk_create":
            entries[(c.entity, None, "bulk_create", len(entries))] = {"rows": c.new}
        else:
            values = c.new if c.action == "create" else c.old
            entries[(c.entity, c.id, c.action)] = {
                k: v for k, v in (values or {}).items() if k not in ("updated_at", "version")}
    out = []
    for key, detail in entries.items():
        entity, entity_id, action = key[:3]
        label = ENTITY_LABELS.get(entity, entity)
        if action == "update":
            kind = "status" if "status" in detail else "update"
            text = f"修改{label}：{'、'.join(field_label(entity, f) for f in detail)}"
        elif action == "bulk_create":
            kind, text = "create", f"批量新增{label} {detail['rows']} 条"
        else:
            kind, text = action, f"{ACTIONS[action]}{label}"
        out.append((kind, entity, entity_id, text, detail))
    return out


def anchor(conn: sqlite3.Connection, *, restored: bool = False) -> None:
    """Write the newest entry's id and hash into the key file beside the database (outside
    it): whoever rewrites the chain with the database password alone (drop the triggers,
    delete entries, recompute the hashes) cannot make that hash come out again. Done at each
    sign-in, at the end of each command-line session and before each backup. Nothing to do
    for a database without a key file (plain, no users)."""

    path = db_path(conn)
    if not path or not KeyFile.path_for(path).exists():
        return
    row = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    if row is None or (not restored and _anchor_problem(conn) is not None):
        return                          # a broken anchor stays: it is the evidence
    try:
        KeyFile.load(path).set_audit_anchor(row[0], row[1], restored=restored)
    except DomainError:               # a write-protected or damaged key file: not anchored
        pass


def _anchor_problem(conn: sqlite3.Connection) -> tuple[int, str] | None:

    path = db_path(conn)
    if not path or not KeyFile.path_for(path).exists():
        return None
    try:
        found = KeyFile.load(path).audit_anchor()
    except DomainError:
        return None
    if found is None:
        return None
    row = conn.execute("SELECT hash FROM audit_log WHERE id = ?", (found["id"],)).fetchone()
    if row is None:
        return (found["id"], "密钥文件记下的审计记录不见了（审计日志被截短或改写）")
    if row[0] != found["hash"]:
        return (found["id"], "与密钥文件记下的校验值不符（审计日志被改写后重新计算了校验值）")
    return None


def broken_links(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, why) of every entry whose hash or link to the previous entry does not hold, and
    the anchor in the key file (anchor()) when the chain no longer holds it."""
    bad: list[tuple[int, str]] = []
    anchored = _anchor_problem(conn)
    if anchored is not None:
        bad.append(anchored)
    triggers = {r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")}
    if not {"audit_log_no_update", "audit_log_no_delete"} <= triggers:
        bad.append((0, "审计日志的防修改触发器被删除了"))
    prev = GENESIS
    for row in conn.execute("SELECT id, at, actor, action, entity, entity_id, summary, detail,"
                            " prev_hash, hash FROM audit_log ORDER BY id"):
        (id_, at, actor, action, entity, entity_id, summary, detail, prev_hash, digest) = row
        if prev_hash != prev:
            bad.append((id_, "与上一条记录的链接不符（记录被删除或插入）"))
        elif _digest(prev_hash, at, actor, action, entity, entity_id, summary,
                     detail) != digest:
            bad.append((id_, "内容与校验值不符（记录被修改）"))
        prev = digest
    return bad


def utc_bound(day: dt.date) -> str:
    """The UTC timestamp text at which a local calendar day starts (entries are stored in UTC)."""
    local = dt.datetime.combine(day, dt.time()).astimezone()
    return local.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def local_time(at: str) -> str:
    """An entry's UTC time as local 'YYYY-MM-DD HH:MM:SS'."""
    moment = dt.datetime.strptime(at, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def entries(conn: sqlite3.Connection, *, action: str | None = None,
            entity: str | None = None, entity_id: int | None = None,
            actor: str | None = None, since: dt.date | None = None,
            until: dt.date | None = None, limit: int = 1000) -> list[dict]:
    """Newest first, optionally filtered (since/until: local days, both included)."""
    where, params = [], []
    for column, value in (("action", action), ("entity", entity), ("entity_id", entity_id),
                          ("actor", actor)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if since is not None:
        where.append("at >= ?")
        params.append(utc_bound(since))
    if until is not None:
        where.append("at < ?")
        params.append(utc_bound(until + dt.timedelta(days=1)))
    sql = ("SELECT id, at, actor, action, entity, entity_id, summary, detail FROM audit_log"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
    return [dict(zip(("id", "at", "actor", "action", "entity", "entity_id", "summary",
                      "detail"), row)) for row in conn.execute(sql, (*params, limit))]


def count(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM audit_log").fetchone()[0]


def actors(conn: sqlite3.Connection) -> list[str]:
    return [r[0] for r in conn.execute("SELECT DISTINCT actor FROM audit_log ORDER BY actor")]


# Every transaction's changes, appended in that transaction (registered in
# shequ_desktop/core/__init__.py).
HOOK = Hook(attach=None, before_commit=lambda conn, user, changes: append(
    conn, user, changes_to_entries(changes)))
