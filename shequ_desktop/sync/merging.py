"""Merging a data package (`shequ package merge`), and resolving what it could not decide.

For every field of every record in the package, three-way: ours (this database), theirs (the
package), and what is known to be common — our base (the record as last received from that
site) and the package's `seen` (the record as that site last received it from us):

- the same value on both sides: nothing to do;
- ours is what they had seen, or what we last received from them: we did not change it since,
  so theirs is taken;
- theirs is what we last received from them, or what they had seen from us: they did not
  change it, so ours stays;
- otherwise both changed it: a conflict. Ours stays, and the field is kept for the user with
  base, ours and theirs ("用对方的" / "保留本机的").

Everything goes through Context (access, version, audit) in one transaction. The package is
refused whole before anything is applied when it cannot be read, is ours, is for another PC
or is older than one already merged; merging the same package again changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from db.driver import sqlite3
from shequ_desktop.community import media
from shequ_desktop.core import audit, settings
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.core.context import refresh_statistics
from shequ_desktop.core.errors import DomainError, NotFoundError
from shequ_desktop.core.fields import ENTITY_LABELS
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.tree import descendants
from shequ_desktop.sync import package
from shequ_desktop.sync.exchange import (
    HANDOUT_KEY,
    LATE,
    SCOPE_KEY,
    SEQ_KEY,
    TABLES,
    WANT_KEY,
    form_hash,
    forms,
    load_base,
    now_utc,
    schema,
    scope_unit,
)

MISSING = object()
# Records that two databases may have made each other, found by what identifies them.
NATURAL = {"grid_units": ("parent_id", "name"), "tags": ("name",),
           "event_categories": ("name",), "volunteer_teams": ("name",),
           "houses": ("unit_id", "room_no"), "volunteers": ("id_number",)}
DESCRIBE = ("name", "title", "household_no", "room_no", "description", "visited_on", "item")
DELETED = "__deleted__"
ANALYZE_AFTER = 200               # records a merge changes before the statistics are redone


@dataclass
class MergeResult:
    manifest: dict
    dry_run: bool = False
    already_merged: bool = False
    new: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    moved_out: dict[str, int] = field(default_factory=dict)
    unchanged: int = 0
    conflicts: list[dict] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)
    files: int = 0                  # file contents stored (attachments, photos, plan images)

    def totals(self) -> dict[str, int]:
        return {"new": sum(self.new.values()), "updated": sum(self.updated.values()),
                "deleted": sum(self.deleted.values()),
                "moved_out": sum(self.moved_out.values()), "unchanged": self.unchanged,
                "conflicts": len(self.conflicts), "refused": len(self.refused)}

    def as_json(self) -> dict:
        m = self.manifest
        return {"package": m.get("package"), "source_site": m.get("source_site"),
                "source_name": m.get("source_name"), "created_at": m.get("created_at"),
                "unit": m.get("unit_name"), "dry_run": self.dry_run,
                "already_merged": self.already_merged, **self.totals(),
                "new_by_table": self.new, "updated_by_table": self.updated,
                "deleted_by_table": self.deleted, "moved_out_by_table": self.moved_out,
                "conflict_list": self.conflicts, "refused_list": self.refused,
                "files": self.files}

    def summary(self) -> str:
        t = self.totals()
        if self.already_merged:
            return "这个数据包已经合并过，没有任何修改"
        return (f"新增 {t['new']} 条，更新 {t['updated']} 条，删除 {t['deleted']} 条，"
                + (f"移出本网格 {t['moved_out']} 条，" if t["moved_out"] else "")
                + f"冲突 {t['conflicts']} 处，拒绝 {t['refused']} 条，无变化 {t['unchanged']} 条"
                + (f"；收到附件、照片和平面图 {self.files} 个" if self.files else ""))


class _DryRun(Exception):
    pass


def describe(row: dict | None, entity: str) -> str:
    """'居民 王芳': a record as the user knows it."""
    label = ENTITY_LABELS.get(entity, entity)
    if row is None:
        return label
    for key in DESCRIBE:
        if row.get(key):
            return f"{label} {row[key]}"
    return f"{label} {str(row.get('uuid', ''))[:8]}"


class _Ids:
    """uuid <-> local id per table, loaded on first need and kept current by the merge."""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn
        self.by_uuid: dict[str, dict[str, int]] = {}
        self.by_id: dict[str, dict[int, str]] = {}

    def _load(self, table: str) -> None:
        if table not in self.by_uuid:
            pairs = self.conn.execute(f"SELECT uuid, id FROM {table}").fetchall()
            self.by_uuid[table] = {u: i for u, i in pairs}
            self.by_id[table] = {i: u for u, i in pairs}

    def local(self, table: str, uuid: str | None) -> int | None:
        self._load(table)
        return None if uuid is None else self.by_uuid[table].get(uuid)

    def uuid(self, table: str, id_: int | None) -> str | None:
        self._load(table)
        return None if id_ is None else self.by_id[table].get(id_)

    def add(self, table: str, uuid: str, id_: int) -> None:
        self._load(table)
        self.by_uuid[table][uuid] = id_
        self.by_id[table][id_] = uuid

    def reset(self, table: str) -> None:
        self.by_uuid.pop(table, None)
        self.by_id.pop(table, None)

    def forget(self, table: str, uuid: str) -> None:
        self._load(table)
        id_ = self.by_uuid[table].pop(uuid, None)
        self.by_id[table].pop(id_, None)


def merge(ctx, path, passphrase: str, *, dry_run: bool = False,
          progress: Progress = None) -> MergeResult:
    """Merge a package file into ctx's database (or, dry_run, only say what would happen)."""
    manifest, data = package.read(path, passphrase)
    return merge_data(ctx, manifest, data, dry_run=dry_run, progress=progress, file=str(path))


def _refuse_package(conn: sqlite3.Connection, manifest: dict) -> str | None:
    """Why the whole package is refused, or None; 'already' when merged before."""
    site = settings.get(conn, settings.SITE_KEY)
    if manifest.get("source_site") == site:
        return "这是本机导出的数据包，不能合并回本机"
    target = manifest.get("target_site")
    if target and target != site:
        return (f"这个数据包是发给“{manifest.get('target_name') or target[:8]}”的，"
                "不是发给本机的，未作任何修改")
    if target and _restored_since(conn, manifest):
        return ("对方已经合并过本机导出的、比本机数据库现在更新的数据包：本机数据库大概是从备份恢复过。"
                "为免丢失对方在那之后交换过来的修改，请让对方导出“全部记录”（不选“自上次交换以来”）"
                "再合并；未作任何修改")
    peer = conn.execute("SELECT last_seq, last_package FROM sync_peers WHERE site = ?",
                        (manifest.get("source_site"),)).fetchone()
    if peer is None and _handed(conn, manifest) is None and conn.execute(
            "SELECT 1 FROM grid_units LIMIT 1").fetchone():
        return (f"这个数据包来自“{manifest.get('source_name') or '未知电脑'}”，本机从未与它交换过数据："
                "它不是用本机下发的数据包建立的（也可能来自另一个社区或办公室），未作任何修改。"
                "请从本机导出该网格的数据包，在那台电脑上用它建立数据库后再交换")
    if peer is not None:
        if peer["last_package"] == manifest.get("package"):
            return "already"
        if manifest.get("seq", 0) <= peer["last_seq"]:
            return ("这个数据包比已经合并过的、来自同一台电脑的数据包更旧，合并它会撤销较新的修改，"
                    "未作任何修改")
    return None


def _handed(conn: sqlite3.Connection, manifest: dict) -> dict | None:
    """What this database handed to the sender: {"unit_uuid": …} (None inside: everything),
    from the package the sender's database was started from; None when it is not ours."""
    handout = manifest.get("handout")
    if not isinstance(handout, str):
        return None
    row = conn.execute("SELECT unit_uuid FROM sync_handouts WHERE package = ?",
                       (handout,)).fetchone()
    return None if row is None else {"unit_uuid": row[0]}


def _restored_since(conn: sqlite3.Connection, manifest: dict) -> int:
    """The package number of ours the sender says it merged, when it is higher than any this
    database ever made (it was restored from an older backup since); else 0."""

    merged = (manifest.get("merged_from") or {}).get(settings.get(conn, settings.SITE_KEY))
    return merged if isinstance(merged, int) and merged > (
        settings.get(conn, SEQ_KEY) or 0) else 0


def merge_data(ctx, manifest: dict, data: dict, *, dry_run: bool = False,
               progress: Progress = None, file: str = "") -> MergeResult:
    conn = ctx.conn
    result = MergeResult(manifest, dry_run)
    why = _refuse_package(conn, manifest)
    if why == "already":
        result.already_merged = True
        return result
    if why:
        raise package.PackageError(why)
    own_access = ctx.access
    held = _sender_access(ctx, manifest)
    try:
        if held is not None:
            ctx.access = held
        with ctx.transaction():
            run = _Merge(ctx, manifest, data, result, progress)
            run.held = held is not None and (own_access is None or own_access.role != "网格员")
            run.run(file)
            if dry_run:
                raise _DryRun()
    except _DryRun:
        for c in result.conflicts:            # their rows were rolled back with the rest
            c["id"] = None
    finally:
        if held is not None:
            ctx.access = own_access
    if not dry_run and sum(result.new.values()) + sum(result.updated.values()) \
            + sum(result.deleted.values()) >= ANALYZE_AFTER:
        refresh_statistics(conn)      # the planner's statistics: a large merge changes them
    return result


def _sender_access(ctx, manifest: dict):
    """What a package from a handed-out PC may change here: only its own grid, as its
    网格员 could at this PC (Context's write checks do the refusing, record by record). The
    unit is the one that PC's first package named (a package rewritten to claim more is held
    to it). None: no limit beyond the user's own (a handed-out database receiving from the
    office, an empty one being started, a package of a whole database from a new PC)."""

    conn = ctx.conn
    if scope_unit(conn) is not None or not conn.execute(
            "SELECT 1 FROM grid_units LIMIT 1").fetchone():
        return None
    unit_uuid = _sender_unit(conn, manifest)
    if not unit_uuid:
        return None
    found = conn.execute("SELECT id FROM grid_units WHERE uuid = ?", (unit_uuid,)).fetchone()
    units = frozenset({found[0]}) if found is not None else frozenset()
    own = ctx.access
    if own is not None and own.role != GRID_WORKER:
        return None if own.role != "管理员" else Access(GRID_WORKER, units)
    if own is not None:                       # a 网格员 merging: both limits hold
        inside = set(descendants(conn, found[0])) if found is not None else set()
        units = (units if units and own.readable is not None and found[0] in own.readable
                 else frozenset(own.unit_ids & inside))
    return Access(GRID_WORKER, units)


def _sender_unit(conn: sqlite3.Connection, manifest: dict) -> str | None:
    """The unit a sender was handed: as recorded when its first package was merged, else as
    this database's hand-out says (never what the package claims; None: everything)."""
    row = conn.execute("SELECT unit_uuid FROM sync_peers WHERE site = ?",
                       (manifest.get("source_site"),)).fetchone()
    if row is not None and row["unit_uuid"]:
        return row["unit_uuid"]
    handed = _handed(conn, manifest)
    return (handed["unit_uuid"] if handed is not None and handed["unit_uuid"]
            else manifest.get("unit_uuid"))


class _Merge:
    def __init__(self, ctx, manifest: dict, data: dict, result: MergeResult,
                 progress: Progress):
        self.ctx, self.conn = ctx, ctx.conn
        self.manifest, self.data, self.result, self.progress = manifest, data, result, progress
        self.peer = manifest["source_site"]
        self.seq = manifest.get("seq", 0)
        self.ids = _Ids(self.conn)
        self.late: list[tuple[str, str, str, Any]] = []
        self.refused_uuids: set[str] = set()
        self.handout = not self.conn.execute("SELECT 1 FROM grid_units LIMIT 1").fetchone()
        self.open = {(c["entity"], c["uuid"], c["field"]): c for c in (dict(r) for r in (
            self.conn.execute("SELECT * FROM sync_conflicts WHERE resolved_at IS NULL"
                              " AND peer = ?", (self.peer,))))}
        self.total = sum(len(p["rows"]) for p in data["tables"].values()) + len(
            data["tombstones"]) + 1
        self.done = 0

    # --- the whole run --------------------------------------------------------------------
    def run(self, file: str) -> None:
        report(self.progress, 0, self.total)
        for table in TABLES:
            part = self.data["tables"].get(table)
            if part and part["rows"]:
                self.table(table, part["columns"], part["rows"])
        self.write_late()
        self.media()
        self.acknowledged()
        self.tombstones()
        self.left_scope()
        self.bookkeeping(file)
        report(self.progress, self.total, self.total)

    held = False          # held to the sending PC's grid (not the user's own limit)

    def refuse(self, table: str, uuid: str, what: str, reason: str) -> None:
        if self.held and reason.startswith(("网格员只能", "只有管理员")):
            reason = "这个数据包来自下发了一个网格的电脑，只能修改该网格的数据" + (
                reason[reason.index("（"):] if "（" in reason else "（共用的类别由管理员在本机修改）")
        self.refused_uuids.add(uuid)
        self.result.refused.append({"entity": table, "entity_label": ENTITY_LABELS.get(
            table, table), "uuid": uuid, "record": what, "reason": reason})

    def count(self, kind: dict, table: str) -> None:
        kind[table] = kind.get(table, 0) + 1

    # --- one table ----------------------------------------------------------------------
    def table(self, table: str, cols: list[str], rows: list[list]) -> None:
        local_cols, refs = schema(self.conn, table)
        cols_known = [c for c in cols if c in local_cols]
        theirs_all = [dict(zip(cols, r)) for r in rows]
        if table == "grid_units":
            theirs_all = _parents_first(theirs_all)
        uuids = [t["uuid"] for t in theirs_all]
        ours_rows = self._local_rows(table, uuids)
        base = load_base(self.conn, self.peer, table, uuids)
        seen_all = self.data["seen"].get(table, {})
        new_base = []
        for i, theirs in enumerate(theirs_all):
            uuid = theirs["uuid"]
            what = describe(theirs, table)
            marks = len(self.result.conflicts), len(self.late)
            try:
                with self.ctx.transaction():        # a savepoint: the record whole or not
                    self.record(table, refs, cols_known, theirs, ours_rows.get(uuid),
                                base.get(uuid), seen_all.get(uuid), what)
            except (NotPermitted, sqlite3.IntegrityError, NotFoundError) as exc:
                del self.result.conflicts[marks[0]:]
                del self.late[marks[1]:]
                self.ids.reset(table)               # an adopted uuid was rolled back too
                self.refuse(table, uuid, what, _reason(exc))
                continue
            new_base.append((self.peer, table, uuid, json.dumps(
                theirs, ensure_ascii=False, sort_keys=True), self.seq))
            self.done += 1
            if i % 500 == 0:
                report(self.progress, self.done, self.total)
        self.conn.executemany("INSERT OR REPLACE INTO sync_base (peer, entity, uuid, data, got)"
                              " VALUES (?, ?, ?, ?, ?)", new_base)

    def _local_rows(self, table: str, uuids: list[str]) -> dict[str, dict]:
        out = {}
        for start in range(0, len(uuids), 500):
            chunk = uuids[start:start + 500]
            for row in self.conn.execute(f"SELECT * FROM {table} WHERE uuid IN"
                                         f" ({','.join('?' * len(chunk))})", chunk):
                out[row["uuid"]] = dict(row)
        return out

    def _to_local(self, table: str, refs: dict, column: str, value):
        """A value in package form as stored here (a referred uuid becomes our id)."""
        if column not in refs or value is None:
            return value
        local = self.ids.local(refs[column], value)
        if local is None:
            raise NotFoundError(f"它引用的{ENTITY_LABELS.get(refs[column], refs[column])}"
                                "不在本机，也不在数据包中")
        return local

    def _form(self, refs: dict, row: dict, cols: list[str]) -> dict:
        return {c: (self.ids.uuid(refs[c], row[c]) if c in refs else row[c]) for c in cols}

    def record(self, table, refs, cols, theirs, ours, base, seen, what) -> None:
        uuid = theirs["uuid"]
        if ours is None:
            if self.conn.execute("SELECT 1 FROM tombstones WHERE entity = ? AND uuid = ?",
                                 (table, uuid)).fetchone():
                if base is None or any(base.get(c) != theirs[c] for c in cols):
                    raise NotPermitted("本机已删除这条记录，对方仍在使用或修改了它；未恢复")
                return
            ours = self._adopt(table, refs, theirs)
            if ours is None:
                self._insert(table, refs, cols, theirs)
                return
        ours_form = self._form(refs, ours, cols)
        changes = {}
        for c in cols:
            if c == "uuid":
                continue
            t, o = theirs[c], ours_form[c]
            key = (table, uuid, c)
            if t == o:
                self._settle(key, "agreed")
                continue
            b = base.get(c, MISSING) if base is not None else MISSING
            s = seen.get(c, t) if seen is not None else MISSING
            if o == s and t == b and self._kept_ours(key, o):
                # each side kept its own value after seeing the other's (both chose 保留本机的,
                # their packages crossing): taking theirs here while they take ours there
                # would swap the two values silently, for good
                self._may_change(table, ours)
                self._conflict(table, uuid, c, MISSING, MISSING, o, t, ours, what)
            elif o == s or o == b or (self.handout and b is MISSING and s is MISSING):
                changes[c] = t
                self._settle(key, "agreed")
            elif t == b or t == s:
                continue                                     # only we changed it: ours stays
            else:
                self._may_change(table, ours)     # not a conflict one could never settle
                self._conflict(table, uuid, c, b, s, o, t, ours, what)
        if not changes:
            self.result.unchanged += 1
            return
        late = {c: v for c, v in changes.items() if (table, c) in LATE}
        now = {c: self._to_local(table, refs, c, v) for c, v in changes.items() if c not in late}
        for c, v in late.items():
            self.late.append((table, uuid, c, v))
        if now:
            self.ctx.update(table, ours["id"], now, ours)
            self.count(self.result.updated, table)
        elif late:
            self.count(self.result.updated, table)

    def _kept_ours(self, key: tuple, value) -> bool:
        """Whether the last conflict on this field with this peer was settled here by keeping
        our value, and we still hold it (an open one is settled by their choice as usual)."""
        if key in self.open:
            return False
        row = self.conn.execute(
            "SELECT resolution, ours FROM sync_conflicts WHERE peer = ? AND entity = ?"
            " AND uuid = ? AND field = ? ORDER BY id DESC LIMIT 1", (self.peer, *key)).fetchone()
        return (row is not None and row["resolution"] == "ours" and row["ours"] is not None
                and json.loads(row["ours"]) == value)

    def _may_change(self, table: str, row: dict) -> None:
        """NotPermitted when this merge may not change the record (another grid's)."""
        access = self.ctx.access
        if access is not None:
            access.check_table(table)
            access.check_record(self.conn, table, row)

    def _adopt(self, table: str, refs: dict, theirs: dict) -> dict | None:
        """A record made here with the same identity (a focus-group category of the same
        name, the same room of the same unit): it takes the package's uuid."""
        keys = NATURAL.get(table)
        if not keys or any(theirs.get(k) is None for k in keys):
            return None
        try:
            values = [self._to_local(table, refs, k, theirs[k]) for k in keys]
        except NotFoundError:
            return None
        where = " AND ".join(f"{k} = ?" for k in keys)
        row = self.conn.execute(f"SELECT * FROM {table} WHERE {where}", values).fetchone()
        if row is None:
            return None
        row = dict(row)
        self.ctx.update(table, row["id"], {"uuid": theirs["uuid"]}, row)
        self.ids.forget(table, row["uuid"])
        self.ids.add(table, theirs["uuid"], row["id"])
        return {**row, "uuid": theirs["uuid"]}

    def _insert(self, table: str, refs: dict, cols: list[str], theirs: dict) -> None:
        values = {}
        for c in cols:
            if (table, c) in LATE:
                if theirs[c] is not None:
                    self.late.append((table, theirs["uuid"], c, theirs[c]))
                continue
            values[c] = self._to_local(table, refs, c, theirs[c])
        new_id, _ = self.ctx.insert(table, values)
        self.ids.add(table, theirs["uuid"], new_id)
        self.count(self.result.new, table)

    def _settle(self, key: tuple, how: str) -> None:
        """An open conflict whose two sides now agree (the other PC chose) is closed."""
        c = self.open.pop(key, None)
        if c is not None:
            self.conn.execute("UPDATE sync_conflicts SET resolved_at = ?, resolution = ?,"
                              " resolved_by = ? WHERE id = ?",
                              (now_utc(), how, self.ctx.user, c["id"]))

    def _conflict(self, table, uuid, column, base, seen, ours, theirs, row, what) -> None:
        enc = lambda v: None if v is MISSING else json.dumps(v, ensure_ascii=False)  # noqa: E731
        common = base if base is not MISSING else seen      # the last value known to both
        key = (table, uuid, column)
        if key in self.open:
            self.conn.execute("UPDATE sync_conflicts SET ours = ?, theirs = ?, found_at = ?"
                              " WHERE id = ?", (enc(ours), enc(theirs), now_utc(),
                                                self.open[key]["id"]))
            cid = self.open[key]["id"]
        else:
            cid = self.conn.execute(
                "INSERT INTO sync_conflicts (peer, entity, uuid, field, base, ours, theirs,"
                " found_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (self.peer, table, uuid, column, enc(common), enc(ours), enc(theirs),
                 now_utc())).lastrowid
        self.result.conflicts.append({
            "id": cid, "entity": table, "entity_id": row["id"], "uuid": uuid, "record": what,
            "field": column, "field_label": audit.field_label(table, column),
            "base": None if common is MISSING else common, "ours": ours, "theirs": theirs})

    def _row(self, table: str, id_: int | None) -> dict | None:
        """A record as stored, read without Context's read check: whether it may be changed
        or deleted is for Context's write (inside the savepoint) to say, so a record outside
        a 网格员's grids is refused like any other, not a reason to fail the whole merge."""
        row = None if id_ is None else self.conn.execute(
            f"SELECT * FROM {table} WHERE id = ?", (id_,)).fetchone()
        return None if row is None else dict(row)

    # --- after the tables ---------------------------------------------------------------
    def write_late(self) -> None:
        for table, uuid, column, value in self.late:
            if uuid in self.refused_uuids:
                continue
            _cols, refs = schema(self.conn, table)
            id_ = self.ids.local(table, uuid)
            try:
                local = self._to_local(table, refs, column, value)
                with self.ctx.transaction():
                    self.ctx.update(table, id_, {column: local})
            except (NotPermitted, NotFoundError, sqlite3.IntegrityError) as exc:
                self.refuse(table, uuid, describe(self._row(table, id_), table), _reason(exc))
                # without a base the record cannot travel back as if the value were removed
                self.conn.execute("DELETE FROM sync_base WHERE peer = ? AND entity = ?"
                                  " AND uuid = ?", (self.peer, table, uuid))

    def media(self) -> None:
        """The file contents of the package's media records (attachments, photos, plan
        images) for those held here now, and the contents the sender asks us for (left out
        of one of our packages for size: they go with our next package to it)."""
        stored = media.unpack(self.conn, self.data["tables"], self.data.get("blobs", {}))
        if stored:
            self.result.files = stored
        settings.put(self.conn, WANT_KEY + self.peer, self.data.get("want", []))

    def acknowledged(self) -> None:
        """Records the peer says it holds as we do: agreed, so they are its base now."""

        for table, pairs in self.data.get("have", {}).items():
            if table not in TABLES:
                continue
            wanted = dict(pairs)
            uuids = list(wanted)
            rows = []
            for start in range(0, len(uuids), 500):
                chunk = uuids[start:start + 500]
                cols, found = forms(self.conn, table, "WHERE t.uuid IN"
                                    f" ({','.join('?' * len(chunk))})", tuple(chunk))
                for row in found:
                    record = dict(zip(cols, row))
                    if form_hash(record) == wanted[record["uuid"]]:
                        rows.append((self.peer, table, record["uuid"], json.dumps(
                            record, ensure_ascii=False, sort_keys=True), self.seq))
                        # they hold what we hold: a conflict with them on it is over
                        for key in [k for k in self.open if k[:2] == (table, record["uuid"])]:
                            self._settle(key, "agreed")
            self.conn.executemany("INSERT OR REPLACE INTO sync_base (peer, entity, uuid, data,"
                                  " got) VALUES (?, ?, ?, ?, ?)", rows)

    def tombstones(self) -> None:
        order = {t: i for i, t in enumerate(TABLES)}
        stones = sorted((s for s in self.data["tombstones"] if s[0] in order),
                        key=lambda s: -order[s[0]])              # children first
        for entity, uuid, _deleted_at, _site in stones:
            self.done += 1
            id_ = self.ids.local(entity, uuid)
            if id_ is None:
                self.conn.execute("DELETE FROM sync_base WHERE peer = ? AND entity = ?"
                                  " AND uuid = ?", (self.peer, entity, uuid))
                continue
            cols, refs = schema(self.conn, entity)
            row = self._row(entity, id_)
            what = describe(row, entity)
            base = load_base(self.conn, self.peer, entity, [uuid]).get(uuid)
            # what they last had from us (a record made here that they deleted)
            seen = self.data.get("deleted_seen", {}).get(entity, {}).get(uuid)
            ours = self._form(refs, row, cols)
            if not any(known is not None and all(known.get(c, ours[c]) == ours[c] for c in cols)
                       for known in (base, seen)):
                self.refuse(entity, uuid, what, "对方已删除这条记录，但本机修改过它；未删除")
                continue
            try:
                with self.ctx.transaction():            # a savepoint: the delete or nothing
                    media.drop_data(self.conn, entity, id_)
                    self.ctx.delete(entity, id_)
            except (NotPermitted, sqlite3.IntegrityError) as exc:
                self.refuse(entity, uuid, what, _reason(exc))
                continue
            self._removed(entity, uuid)
            self.count(self.result.deleted, entity)

    def left_scope(self) -> None:
        """Records that left the part of the data this database was handed (a resident the
        office moved to another grid) are removed here, children first, without a tombstone:
        they live on elsewhere. Only in a handed-out database, and only when unchanged here."""

        if self.handout or scope_unit(self.conn) is None:
            return
        order = {t: i for i, t in enumerate(TABLES)}
        for entity, uuid in sorted((g for g in self.data.get("gone", []) if g[0] in order),
                                   key=lambda g: -order[g[0]]):
            id_ = self.ids.local(entity, uuid)
            if id_ is None:
                continue
            cols, refs = schema(self.conn, entity)
            row = self._row(entity, id_)
            what = describe(row, entity)
            base = load_base(self.conn, self.peer, entity, [uuid]).get(uuid)
            ours = self._form(refs, row, cols)
            if base is None or any(base.get(c, ours[c]) != ours[c] for c in cols):
                self.refuse(entity, uuid, what, "已移出本网格，但本机修改过它；未移除")
                continue
            try:
                with self.ctx.transaction():
                    media.drop_data(self.conn, entity, id_)
                    self.ctx.delete(entity, id_, tombstone=False)
            except (NotPermitted, sqlite3.IntegrityError) as exc:
                reason = ("已移出本网格，但本机还有引用它的记录；未移除"
                          if isinstance(exc, sqlite3.IntegrityError) else _reason(exc))
                self.refuse(entity, uuid, what, reason)
                continue
            self._removed(entity, uuid)
            self.count(self.result.moved_out, entity)

    def _removed(self, entity: str, uuid: str) -> None:
        """A record this merge removed: no id, no base, and nothing left to settle (else its
        conflicts stay open for ever: they can no longer be resolved)."""
        self.ids.forget(entity, uuid)
        self.conn.execute("DELETE FROM sync_base WHERE peer = ? AND entity = ? AND uuid = ?",
                          (self.peer, entity, uuid))
        self.conn.execute("UPDATE sync_conflicts SET resolved_at = ?, resolution = 'agreed',"
                          " resolved_by = ? WHERE entity = ? AND uuid = ? AND resolved_at IS NULL",
                          (now_utc(), self.ctx.user, entity, uuid))
        for key in [k for k in self.open if k[:2] == (entity, uuid)]:
            del self.open[key]

    def bookkeeping(self, file: str) -> None:

        m = self.manifest
        caught_up = _restored_since(self.conn, m)     # a whole package after a restore
        if caught_up:
            settings.put(self.conn, SEQ_KEY, caught_up)
        if self.handout and m.get("unit_uuid"):
            settings.put(self.conn, SCOPE_KEY, m["unit_uuid"])
        if self.handout:
            settings.put(self.conn, HANDOUT_KEY, m.get("package"))
        handed = _handed(self.conn, m)
        settings.site_id(self.conn)
        self.conn.execute(
            "INSERT INTO sync_peers (site, name, unit_uuid, last_seq, last_package, merged_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(site) DO UPDATE SET name = excluded.name,"
            " unit_uuid = coalesce(sync_peers.unit_uuid, excluded.unit_uuid),"
            " last_seq = excluded.last_seq,"
            " last_package = excluded.last_package, merged_at = excluded.merged_at",
            (self.peer, m.get("source_name"),
             handed["unit_uuid"] if handed is not None else m.get("unit_uuid"),
             m.get("seq", 0), m.get("package"), now_utc()))
        t = self.result.totals()
        audit.record(self.conn, self.ctx.user, "merge", entity="sync_package",
                     summary=f"合并数据包：来自“{m.get('source_name')}”（{m.get('unit_name')}），"
                             + self.result.summary(),
                     detail={"file": file, "package": m.get("package"),
                             "source_site": self.peer, **t})


def _parents_first(rows: list[dict]) -> list[dict]:
    by_uuid = {r["uuid"]: r for r in rows}
    depth: dict[str, int] = {}

    def d(u: str, guard: int = 0) -> int:
        if u not in depth:
            parent = by_uuid[u].get("parent_id")
            depth[u] = 0 if parent not in by_uuid or guard > 20 else d(parent, guard + 1) + 1
        return depth[u]
    return sorted(rows, key=lambda r: d(r["uuid"]))


def _reason(exc: Exception) -> str:
    if isinstance(exc, sqlite3.IntegrityError):
        text = str(exc)
        if "UNIQUE" in text:
            return f"与本机已有的记录重复（{text.split(':')[-1].strip()}）"
        return f"不符合数据库的约束（{text}）"
    return str(exc)


# --- resolving conflicts --------------------------------------------------------------------

def conflicts(conn: sqlite3.Connection, include_resolved: bool = False,
              access=None) -> list[dict]:
    """Conflicts to show: the record, field label, and the three values as stored (JSON
    decoded, references as uuids), newest first. With a 网格员's `access`, only those of
    records they may read."""
    sql = "SELECT c.*, p.name AS peer_name FROM sync_conflicts c" \
          " LEFT JOIN sync_peers p ON p.site = c.peer"
    if not include_resolved:
        sql += " WHERE c.resolved_at IS NULL"
    out = []
    for row in conn.execute(sql + " ORDER BY c.id DESC"):
        c = dict(row)
        local = conn.execute(f"SELECT * FROM {c['entity']} WHERE uuid = ?",
                             (c["uuid"],)).fetchone()
        if access is not None and access.restricted:
            if local is None:
                continue
            try:
                access.check_read(conn, c["entity"], dict(local))
            except NotPermitted:
                continue
        c["entity_id"] = local["id"] if local else None
        c["record"] = describe(dict(local) if local else None, c["entity"])
        c["field_label"] = audit.field_label(c["entity"], c["field"])
        for k in ("base", "ours", "theirs"):
            c[k] = None if c[k] is None else json.loads(c[k])
        c["current"] = None if local is None else local[c["field"]]
        out.append(c)
    return out


def shown(conn: sqlite3.Connection, entity: str, column: str, value) -> str:
    """A conflict value as the user reads it: a referred record by its name, IDs masked."""
    _cols, refs = schema(conn, entity)
    if column in refs and value is not None:
        row = conn.execute(f"SELECT * FROM {refs[column]} WHERE uuid = ?", (value,)).fetchone()
        return describe(dict(row) if row else None, refs[column])
    return audit.shown_value(entity, column, value)


def resolve(ctx, conflict_id: int, choice: str) -> list:
    """"theirs" (用对方的): their value is written through Context; "ours" (保留本机的):
    ours stays. Either is audited; the choice travels with the next package."""
    if choice not in ("ours", "theirs"):
        raise DomainError("请选择“用对方的”或“保留本机的”")
    conn = ctx.conn
    with ctx.transaction():
        row = conn.execute("SELECT * FROM sync_conflicts WHERE id = ?",
                           (conflict_id,)).fetchone()
        if row is None or row["resolved_at"] is not None:
            raise DomainError("这处冲突已经处理过了")
        c = dict(row)
        entity, column = c["entity"], c["field"]
        local = conn.execute(f"SELECT * FROM {entity} WHERE uuid = ?", (c["uuid"],)).fetchone()
        label = audit.field_label(entity, column)
        if ctx.access is not None and ctx.access.restricted:
            if local is None:
                raise NotPermitted("这条记录已删除，它的冲突请由管理员处理")
            ctx.access.check_table(entity)               # another grid's: not theirs to settle
            ctx.access.check_record(conn, entity, dict(local))
        if local is None:
            # deleted here since: keeping ours (the deletion) is all that is left to choose
            if choice == "theirs":
                raise NotFoundError(f"{ENTITY_LABELS.get(entity, entity)}已不在本机（已删除），"
                                    "无法采用对方的值；请选“保留本机的”")
            conn.execute("UPDATE sync_conflicts SET resolved_at = ?, resolution = ?,"
                         " resolved_by = ? WHERE id = ?", (now_utc(), choice, ctx.user,
                                                            conflict_id))
            audit.record(conn, ctx.user, "resolve", entity=entity,
                         summary=f"处理合并冲突：已删除的{ENTITY_LABELS.get(entity, entity)}的"
                                 f"“{label}”保留本机的（删除）",
                         detail={"field": column, "choice": choice, "conflict": conflict_id})
            return []
        local = dict(local)
        changes = []
        if choice == "theirs":
            _cols, refs = schema(conn, entity)
            value = json.loads(c["theirs"])
            if column in refs and value is not None:
                ref = conn.execute(f"SELECT id FROM {refs[column]} WHERE uuid = ?",
                                   (value,)).fetchone()
                if ref is None:
                    raise NotFoundError("对方的值引用的记录不在本机，无法采用")
                value = ref[0]
            changes = ctx.update(entity, local["id"], {column: value}, local)
        conn.execute("UPDATE sync_conflicts SET resolved_at = ?, resolution = ?, resolved_by = ?"
                     " WHERE id = ?", (now_utc(), choice, ctx.user, conflict_id))
        audit.record(conn, ctx.user, "resolve", entity=entity, entity_id=local["id"],
                     summary=f"处理合并冲突：{describe(local, entity)}的“{label}”"
                             + ("用对方的" if choice == "theirs" else "保留本机的"),
                     detail={"field": column, "choice": choice, "conflict": conflict_id})
    return changes
