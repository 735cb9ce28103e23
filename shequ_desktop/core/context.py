"""The one write path. Every change to the database goes through a Context, which knows the
acting user, stamps version and updated_at, and reports what changed (entity, id, field, old,
new) to the caller, to the transaction's hooks (in the same transaction: the search index and
the audit trail) and, after commit, to subscribers (the GUI's pages).

The hooks are registered by the package (shequ_desktop/core/__init__.py), so this module
imports neither the search index nor the audit trail: both sit above it.
"""
from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any, Callable, NamedTuple

from db import analyze, atomic
from db.driver import sqlite3
from shequ_desktop.core.access import PARENT, Access
from shequ_desktop.core.errors import NotFoundError, ReadOnlyError
from shequ_desktop.core.fields import ENTITY_LABELS
from shequ_desktop.core.settings import site_id

SYSTEM_USER = "系统"


class Hook(NamedTuple):
    """Work a transaction does besides its writes: `attach(conn)` when a Context opens a
    connection, `before_commit(conn, user, changes)` inside the outermost transaction, after
    its last write (an exception there rolls everything back)."""
    attach: Callable[[sqlite3.Connection], object] | None
    before_commit: Callable[[sqlite3.Connection, str, list], None]


HOOKS: list[Hook] = []


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class Change:
    entity: str          # table name
    id: int | None       # None for a bulk load, whose `new` is the number of rows
    action: str          # "create", "update", "delete" or "bulk_create"
    field: str | None = None
    old: Any = None
    new: Any = None


@dataclass
class Result:
    """What a service call did: the id of its main record and every change it made."""
    id: int | None
    changes: list[Change] = field(default_factory=list)


class Context:
    """A database connection plus the user acting on it."""

    def __init__(self, conn: sqlite3.Connection, user: str = SYSTEM_USER):
        self.conn = conn
        self.user = user
        # When set, the reason no write is allowed (a damaged database opened read-only).
        self.read_only: str | None = None
        # The signed-in user's role and grid scope; None: unrestricted (command line, tests).
        self._access: Access | None = None
        self._subscribers: list[Callable[[list[Change]], None]] = []
        self._pending: list[Change] | None = None
        for hook in HOOKS:
            if hook.attach is not None:
                hook.attach(conn)

    @property
    def access(self) -> Access | None:
        return self._access

    @access.setter
    def access(self, access: Access | None) -> None:
        """Set at sign-in; a 网格员's read scope is worked out here, once."""
        self._access = access.with_read_scope(self.conn) if access is not None else None

    def on(self, conn: sqlite3.Connection) -> Context:
        """The same user, role, grid scope and read-only state over another connection (a
        background operation's, which must open its own): the one place such a Context is
        built, so work off the GUI thread acts, is refused and is audited as the window is."""
        twin = Context(conn, self.user)
        twin.read_only = self.read_only
        twin._access = self._access
        return twin

    def subscribe(self, callback: Callable[[list[Change]], None]) -> None:
        """`callback(changes)` runs after each committed transaction that changed something."""
        self._subscribers.append(callback)

    def unsubscribe(self, callback: Callable[[list[Change]], None]) -> None:
        if callback in self._subscribers:
            self._subscribers.remove(callback)

    @contextlib.contextmanager
    def transaction(self):
        outer = self._pending is None
        if outer:
            if self.read_only:
                raise ReadOnlyError(self.read_only)
            self._pending = []
        mark = len(self._pending)
        try:
            with atomic(self.conn):
                yield self
                if outer and self._pending:
                    for hook in HOOKS:
                        hook.before_commit(self.conn, self.user, self._pending)
            committed = self._pending if outer else []
        except BaseException:
            if not outer:              # a rolled-back savepoint's changes never happened
                del self._pending[mark:]
            elif self._access is not None and self._access.readable is not None:
                self.access = replace(self._access, readable=None)   # units made: undone
            raise
        finally:
            if outer:
                self._pending = None
        if any(c.action == "bulk_create" for c in committed):
            refresh_statistics(self.conn)
        self.publish(committed)

    def publish(self, changes: list[Change]) -> None:
        """After a commit: tell the subscribers what changed. Also called with the changes a
        background operation committed over its own connection (ui/operations.py), so they
        reach the same subscribers as a write through this Context."""
        if not changes:
            return
        if self._access is not None and any(c.entity == "grid_units" for c in changes):
            self.access = replace(self._access, readable=None)     # units came or went
        for callback in list(self._subscribers):
            callback(changes)

    def _require_transaction(self) -> None:
        if self._pending is None:
            raise RuntimeError("writes must run inside Context.transaction()")

    def _record(self, changes: list[Change]) -> list[Change]:
        self._pending.extend(changes)
        return changes

    def get(self, table: str, id: int) -> dict:
        """One record; NotPermitted when it lies outside a 网格员's units."""
        row = self.conn.execute(f"SELECT * FROM {table} WHERE id = ?", (id,)).fetchone()
        if row is None:
            raise NotFoundError(f"找不到{ENTITY_LABELS.get(table, table)}（编号 {id}）")
        record = dict(row)
        if self._access is not None:
            self._access.check_read(self.conn, table, record)
        return record

    def _check(self, table: str, *records: dict) -> None:
        if self.access is not None:
            self.access.check_table(table)
            for record in records:
                self.access.check_record(self.conn, table, record)

    def insert(self, table: str, values: dict[str, Any]) -> tuple[int, list[Change]]:
        self._require_transaction()
        values = {k: v for k, v in values.items() if v is not None}
        self._check(table, values)
        values["updated_at"] = now_utc()
        cols = ", ".join(values)
        marks = ", ".join("?" for _ in values)
        cur = self.conn.execute(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                                tuple(values.values()))
        new_id = cur.lastrowid
        access = self._access
        if (table == "grid_units" and access is not None and access.readable is not None
                and values.get("parent_id") in access.readable):     # a building of theirs
            self._access = replace(access, readable=access.readable | {new_id})
        return new_id, self._record([Change(table, new_id, "create", None, None, values)])

    def bulk_insert(self, table: str, columns: list[str], rows: list[tuple]) -> list[Change]:
        """A bulk load (demo data, imports): one executemany, one summary change."""
        self._require_transaction()
        if not rows:
            return []
        if self.access is not None:
            column = _parent_column(table)
            refs = {row[columns.index(column)] for row in rows} if column in columns else {None}
            self._check(table, *({column: ref} for ref in refs))
        stamp = now_utc()
        cols = ", ".join([*columns, "updated_at"])
        marks = ", ".join("?" for _ in range(len(columns) + 1))
        self.conn.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})",
                              (row + (stamp,) for row in rows))
        return self._record([Change(table, None, "bulk_create", None, None, len(rows))])

    def update(self, table: str, id: int, values: dict[str, Any],
               current: dict | None = None) -> list[Change]:
        """Write only the fields that differ; bump version. Returns the field changes."""
        self._require_transaction()
        current = current or self.get(table, id)
        diff = {k: v for k, v in values.items() if current.get(k) != v}
        if not diff:
            return []
        if self.access is not None:
            moved = _parent_column(table) in diff       # it now belongs elsewhere: check both
            self._check(table, current, *([{**current, **diff}] if moved else []))
        sets = ", ".join(f"{k} = ?" for k in diff)
        self.conn.execute(
            f"UPDATE {table} SET {sets}, version = version + 1, updated_at = ? WHERE id = ?",
            (*diff.values(), now_utc(), id))
        return self._record([Change(table, id, "update", k, current.get(k), v)
                             for k, v in diff.items()])

    def delete(self, table: str, id: int, *, tombstone: bool = True) -> list[Change]:
        """Delete a record; its tombstone makes the deletion travel to other PCs (not when a
        record only left this database's part of the data: a merge's 移出本网格)."""
        self._require_transaction()
        current = self.get(table, id)
        self._check(table, current)
        self.conn.execute(f"DELETE FROM {table} WHERE id = ?", (id,))
        if tombstone and current.get("uuid"):

            self.conn.execute(
                "INSERT OR REPLACE INTO tombstones (entity, uuid, deleted_at, site)"
                " VALUES (?, ?, ?, ?)", (table, current["uuid"], now_utc(), site_id(self.conn)))
        return self._record([Change(table, id, "delete", None, current, None)])


def refresh_statistics(conn: sqlite3.Connection) -> None:
    """ANALYZE after a bulk load or a large merge, which is already committed: a disk that
    fills now must not turn the committed change into a reported failure (the statistics
    are only an optimisation; the next load or start redoes them)."""
    try:
        analyze(conn)
    except sqlite3.Error:
        pass


def _parent_column(table: str) -> str | None:
    """The column that says which grid unit a record belongs to (directly or not)."""
    return "parent_id" if table == "grid_units" else PARENT.get(table, (None,))[0]
