"""The audit trail: who did what, when. Append-only (triggers refuse UPDATE and DELETE) and
hash-chained: each row's hash covers its content and the previous row's hash, so an edited or
removed row breaks the chain and `shequ check` reports it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import sqlite3
from typing import Any

from db import atomic

GENESIS = "0" * 64

# action -> Chinese label (the audit page and reports show these)
ACTIONS = {
    "create": "新增", "update": "修改", "delete": "删除", "status": "状态变更",
    "import": "导入", "export": "导出", "print": "打印", "unmask": "显示完整证件号",
    "merge": "合并", "login": "登录", "login_failed": "登录失败", "restore": "恢复备份",
    "user": "用户管理", "backup": "备份",
}


def _digest(prev_hash: str, at: str, actor: str, action: str, entity: str | None,
            entity_id: int | None, summary: str, detail: str | None) -> str:
    payload = json.dumps([prev_hash, at, actor, action, entity, entity_id, summary, detail],
                         ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def record(conn: sqlite3.Connection, actor: str, action: str, *, entity: str | None = None,
           entity_id: int | None = None, summary: str = "", detail: Any = None) -> int:
    """Append one entry. Runs inside the caller's transaction when there is one, so the entry
    lands with the change it describes or not at all."""
    detail_text = None if detail is None else json.dumps(detail, ensure_ascii=False,
                                                         sort_keys=True, default=str)
    at = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    with atomic(conn):
        row = conn.execute("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
        prev = row[0] if row else GENESIS
        digest = _digest(prev, at, actor, action, entity, entity_id, summary, detail_text)
        cur = conn.execute(
            "INSERT INTO audit_log (at, actor, action, entity, entity_id, summary, detail,"
            " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (at, actor, action, entity, entity_id, summary, detail_text, prev, digest))
    return cur.lastrowid


def broken_links(conn: sqlite3.Connection) -> list[tuple[int, str]]:
    """(id, why) of every entry whose hash or link to the previous entry does not hold."""
    bad: list[tuple[int, str]] = []
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


def entries(conn: sqlite3.Connection, *, action: str | None = None,
            entity: str | None = None, entity_id: int | None = None,
            limit: int = 1000) -> list[dict]:
    """Newest first, optionally filtered."""
    where, params = [], []
    for column, value in (("action", action), ("entity", entity), ("entity_id", entity_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    sql = ("SELECT id, at, actor, action, entity, entity_id, summary, detail FROM audit_log"
           + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id DESC LIMIT ?")
    return [dict(zip(("id", "at", "actor", "action", "entity", "entity_id", "summary",
                      "detail"), row)) for row in conn.execute(sql, (*params, limit))]
