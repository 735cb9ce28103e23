"""The search box (DESIGN.md §6): name of any length, pinyin, ID or phone fragment, address.

`clause(text)` turns what the user typed into an SQL condition on `r.id` (residents AS r) that
any resident query can AND with its own filters. The FTS indexes are kept by the write path
(Context calls `update_index` inside every transaction that touches residents).
"""
from __future__ import annotations

import re
import unicodedata

from db import atomic
from db.driver import sqlite3
from shequ_desktop.core import pinyin
from shequ_desktop.core.access import RESIDENT_IN_SUBTREE, scope
from shequ_desktop.core.context import Hook
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import ON_RECORD

INDEX_VERSION = "1"
MAX_WORDS = 10
INDEXED_FIELDS = {"name", "id_number", "phone"}
_ADDRESS = re.compile(
    r"(?:(\d+)(?:栋|号楼|幢|座|号|-))?(?:(\d+)(?:单元|-))?(\d+)(?:室|号)?")
_ADDRESS_HINT = re.compile(r"栋|号楼|幢|单元|室|-")
_DIGITS = re.compile(r"[0-9xX]+")
_LETTERS = re.compile(r"[a-z]+")


def names_text(name: str) -> str:
    """'王 芳 wf wangfang': characters spaced apart, then initials and full pinyin."""
    chars = " ".join(ch for ch in name if not ch.isspace())
    return f"{chars} {pinyin.initials(name)} {pinyin.full(name)}"


def _rows(conn: sqlite3.Connection, where: str = "", params: tuple = ()):
    return conn.execute(f"SELECT id, name, id_number, phone FROM residents {where}", params)


def _write(conn: sqlite3.Connection, rows) -> int:
    rows = list(rows)
    conn.executemany("INSERT INTO resident_names (rowid, names) VALUES (?, ?)",
                     ((r[0], names_text(r[1])) for r in rows))
    conn.executemany("INSERT INTO resident_digits (rowid, digits) VALUES (?, ?)",
                     ((r[0], f"{r[2] or ''} {r[3] or ''}") for r in rows))
    return len(rows)


def reindex(conn: sqlite3.Connection, ids: list[int]) -> None:
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ",".join("?" * len(chunk))
        conn.execute(f"DELETE FROM resident_names WHERE rowid IN ({marks})", chunk)
        conn.execute(f"DELETE FROM resident_digits WHERE rowid IN ({marks})", chunk)
        _write(conn, _rows(conn, f"WHERE id IN ({marks})", tuple(chunk)))


def index_missing(conn: sqlite3.Connection) -> int:
    """Index residents that are not in the index yet (after a bulk load)."""
    return _write(conn, _rows(conn, "WHERE id NOT IN (SELECT rowid FROM resident_names)"))


def update_index(conn: sqlite3.Connection, changes) -> None:
    """Called by Context inside the transaction that made `changes`."""
    ids: set[int] = set()
    bulk = False
    for c in changes:
        if c.entity != "residents":
            continue
        if c.action == "bulk_create":
            bulk = True
        elif c.action == "create" or (c.action == "update" and c.field in INDEXED_FIELDS):
            ids.add(c.id)
    if ids:
        reindex(conn, sorted(ids))
    if bulk:
        index_missing(conn)


def ensure_index(conn: sqlite3.Connection) -> bool:
    """Build the index once for a database that predates it (or after INDEX_VERSION changes)."""
    row = conn.execute("SELECT value FROM settings WHERE key = 'search_index'").fetchone()
    if row and row[0] == INDEX_VERSION:
        return False
    with atomic(conn):
        conn.execute("DELETE FROM resident_names")
        conn.execute("DELETE FROM resident_digits")
        _write(conn, _rows(conn))
        conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES ('search_index', ?)",
                     (INDEX_VERSION,))
    return True


def _phrase(tokens: list[str]) -> str:
    return '"' + " ".join(t.replace('"', '""') for t in tokens) + '"'


def clause(text: str, lookup_only: bool = False) -> tuple[str, list]:
    """SQL condition on r.id for the typed text; every word must match. ('', []) for no text.

    `lookup_only`: the query is driven by another table (e.g. sorting by address walks the
    houses), so the conditions must only test each row ("+r.id" keeps SQLite from scanning by
    id and probing the whole list for every household: 47 s instead of 0.15 s at 200k).
    """
    plus = "+" if lookup_only else ""
    text = unicodedata.normalize("NFKC", text or "").lower()
    words = text.split()
    if len(words) > MAX_WORDS:
        raise DomainError(f"查找条件过多：最多 {MAX_WORDS} 个词（现为 {len(words)} 个）")
    parts, params = [], []
    for word in words:
        m = _ADDRESS.fullmatch(word)
        if m and _ADDRESS_HINT.search(word):
            sql, p = _address(*m.groups(), plus)
        elif _DIGITS.fullmatch(word):
            sql, p = _digits(word.upper(), plus)
        elif _LETTERS.fullmatch(word):
            sql = f"{plus}r.id IN (SELECT rowid FROM resident_names WHERE resident_names MATCH ?)"
            p = [f"names : {_phrase([word])} *"]
        else:
            chars = [ch for ch in word if ch.isalnum()]
            if not chars:
                continue
            sql = f"{plus}r.id IN (SELECT rowid FROM resident_names WHERE resident_names MATCH ?)"
            p = [f"names : {_phrase(chars)}"]
        parts.append(sql)
        params += p
    return " AND ".join(parts), params


def _digits(word: str, plus: str = "") -> tuple[str, list]:
    if len(word) >= 3:
        return (f"{plus}r.id IN (SELECT rowid FROM resident_digits WHERE resident_digits MATCH ?)",
                [_phrase([word])])
    pattern = f"*{word}*"
    return "(r.id_number GLOB ? OR r.phone GLOB ?)", [pattern, pattern]


def _address(building: str | None, unit: str | None, room: str,
             plus: str = "") -> tuple[str, list]:
    """'3栋2单元501', '3-2-501', '5号楼301': the houses whose names and room number fit."""
    sql = plus + """r.household_id IN (
        SELECT hh.id FROM households hh JOIN houses ho ON ho.id = hh.house_id
        JOIN grid_units u ON u.id = ho.unit_id
        LEFT JOIN grid_units b ON b.id = u.parent_id
        WHERE ho.room_no = ?"""
    params: list = [room]
    if unit:
        sql += " AND u.level = 'unit' AND u.name GLOB ?"
        params.append(f"{unit}单元*")
    if building:
        sql += """ AND ((u.level = 'unit' AND (b.name = ? OR b.name GLOB ?))
                     OR (u.level = 'building' AND (u.name = ? OR u.name GLOB ?)))"""
        params += [building, f"{building}[栋号幢座]*"] * 2
    return sql + ")", params


def search(conn: sqlite3.Connection, text: str, limit: int | None = 50,
           statuses: tuple[str, ...] = (ON_RECORD,), access=None,
           unit_id: int | None = None) -> list[dict]:
    """Residents matching `text`, in id order, as dicts of their stored fields (a 网格员's
    `access`: only those in their units; `unit_id`: only those living under that unit)."""

    where, params = clause(text)
    if not where:
        return []
    marks = ",".join("?" * len(statuses))
    head, within = "", scope(access, unit_id)
    if within is not None:
        head = within[0]
        where += " AND " + RESIDENT_IN_SUBTREE
        params = [within[1], *params]
    sql = (f"{head} SELECT r.* FROM residents r WHERE {where} AND r.status IN ({marks})"
           " ORDER BY r.id")
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(row) for row in conn.execute(sql, (*params, *statuses))]


# Kept in step with every transaction (registered in shequ_desktop/core/__init__.py).
HOOK = Hook(attach=ensure_index,
            before_commit=lambda conn, _user, changes: update_index(conn, changes))
