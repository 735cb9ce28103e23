"""Multi-PC exchange, the records side: which tables travel, the form a record travels in, the
scope of a unit, and writing a package (`shequ package export`). Merging is in merging.py.

A record travels as a dict of its columns without id, version and updated_at (local matters),
with every reference to another record written as that record's uuid. Each database keeps,
per peer site, every record as last received from that site (`sync_base`): the base of the
three-way merge. A package sent "since" a peer holds the records whose form differs from that
base, and with each of them what we last received from the peer (`seen`, the fields that
differ), so the peer knows which of its values we had already seen when we changed ours.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import uuid as uuidlib
from typing import Any

from db import atomic
from db.driver import sqlite3
from shequ_desktop.community import media
from shequ_desktop.core import audit, settings
from shequ_desktop.core.access import GRID_WORKER, NotPermitted
from shequ_desktop.core.errors import DomainError, ReadOnlyError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.tree import ancestors, descendants
from shequ_desktop.sync import package

# Parents before children. households.head_resident_id and volunteer_teams.leader_id point
# down the list: they are written last (LATE).
TABLES = ("grid_units", "tags", "event_categories", "houses", "households", "residents",
          "microgrids", "microgrid_households", "resident_tags", "resident_events", "visits", "events", "event_log",
          "volunteer_teams", "volunteers", "activities", "service_records",
          "point_adjustments", "point_redemptions", "services", "meetings",
          "meeting_participants", "meeting_items", "meeting_attachments", "checkups",
          "checkup_results", "checkup_findings", "checkup_photos", "site_plans",
          "site_plan_buildings")
LATE = {("households", "head_resident_id"), ("volunteer_teams", "leader_id")}
LOCAL_COLUMNS = ("id", "version", "updated_at")
SCOPE_KEY = "sync.scope_unit"        # the unit a handed-out laptop database was started for
SEQ_KEY = "sync.package_seq"
NAME_KEY = "sync.site_name"
HANDOUT_KEY = "sync.handout"         # the package a handed-out database was started from
WANT_KEY = "sync.blobs_wanted."      # + a peer's site: file contents it asked us for (media.py)

_U = "(SELECT id FROM temp.x_scope WHERE entity = '{}')"
# How each table's records in a unit's scope are found, from the tables before it.
SCOPE_SQL = {
    "houses": f"SELECT id FROM houses WHERE unit_id IN {_U.format('units')}",
    "households": f"SELECT id FROM households WHERE house_id IN {_U.format('houses')}",
    "residents": f"SELECT id FROM residents WHERE household_id IN {_U.format('households')}",
    "resident_tags": f"SELECT id FROM resident_tags WHERE resident_id IN {_U.format('residents')}",
    "resident_events": "SELECT id FROM resident_events WHERE resident_id IN "
                       + _U.format("residents"),
    "visits": f"SELECT id FROM visits WHERE resident_id IN {_U.format('residents')}",
    "services": f"SELECT id FROM services WHERE resident_id IN {_U.format('residents')}",
    "microgrids": f"SELECT id FROM microgrids WHERE grid_id IN {_U.format('units')}",
    "meetings": f"SELECT id FROM meetings WHERE unit_id IN {_U.format('units')}",
    "meeting_participants": "SELECT id FROM meeting_participants WHERE meeting_id IN "
                            + _U.format("meetings"),
    "meeting_items": f"SELECT id FROM meeting_items WHERE meeting_id IN {_U.format('meetings')}",
    "meeting_attachments": "SELECT id FROM meeting_attachments WHERE meeting_id IN "
                           + _U.format("meetings"),
    "checkups": f"SELECT id FROM checkups WHERE unit_id IN {_U.format('units')}",
    "checkup_results": "SELECT id FROM checkup_results WHERE checkup_id IN "
                       + _U.format("checkups"),
    "checkup_findings": "SELECT id FROM checkup_findings WHERE checkup_id IN "
                        + _U.format("checkups"),
    "checkup_photos": "SELECT id FROM checkup_photos WHERE checkup_id IN "
                      + _U.format("checkups"),
    "site_plans": f"SELECT id FROM site_plans WHERE unit_id IN {_U.format('units')}",
    "site_plan_buildings": "SELECT id FROM site_plan_buildings WHERE plan_id IN "
                           + _U.format("site_plans"),
    "microgrid_households": "SELECT id FROM microgrid_households WHERE household_id IN "
                            + _U.format("households"),
    "events": f"SELECT id FROM events WHERE unit_id IN {_U.format('units')}",
    "event_log": f"SELECT id FROM event_log WHERE event_id IN {_U.format('events')}",
    # a volunteer of the unit lives in it or serves in one of its teams; a team of the unit
    # is based in it or has such a volunteer (a community-wide team), with its leader
    "volunteers": f"SELECT id FROM volunteers WHERE resident_id IN {_U.format('residents')}"
                  " OR team_id IN (SELECT id FROM volunteer_teams WHERE unit_id IN"
                  f" {_U.format('units')})",
    "volunteer_teams": f"SELECT id FROM volunteer_teams WHERE unit_id IN {_U.format('units')}"
                       " OR id IN (SELECT team_id FROM volunteers WHERE id IN"
                       f" {_U.format('volunteers')})",
    "volunteers ": "SELECT leader_id AS id FROM volunteer_teams WHERE leader_id IS NOT NULL"
                   f" AND id IN {_U.format('volunteer_teams')}",
    "activities": f"SELECT id FROM activities WHERE unit_id IN {_U.format('units')}",
    "service_records": "SELECT id FROM service_records WHERE activity_id IN "
                       f"{_U.format('activities')} AND volunteer_id IN {_U.format('volunteers')}",
    "point_adjustments": "SELECT id FROM point_adjustments WHERE volunteer_id IN "
                         + _U.format("volunteers"),
    "point_redemptions": "SELECT id FROM point_redemptions WHERE volunteer_id IN "
                         + _U.format("volunteers"),
}
SHARED = ("tags", "event_categories")     # lists every database keeps whole


def now_utc() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


_SCHEMA: dict[str, tuple[list[str], dict[str, str]]] = {}


def schema(conn: sqlite3.Connection, table: str) -> tuple[list[str], dict[str, str]]:
    """(travelling columns, {reference column: table it refers to})."""
    if table not in _SCHEMA:
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                if r[1] not in LOCAL_COLUMNS]
        refs = {r[3]: r[2] for r in conn.execute(f"PRAGMA foreign_key_list({table})")}
        _SCHEMA[table] = (cols, refs)
    return _SCHEMA[table]


def form_sql(conn: sqlite3.Connection, table: str, where: str = "") -> tuple[list[str], str]:
    """SELECT of the travelling form: references become the referred record's uuid."""
    cols, refs = schema(conn, table)
    parts = [f"(SELECT uuid FROM {refs[c]} WHERE id = t.{c})" if c in refs else f"t.{c}"
             for c in cols]
    return cols, f"SELECT {', '.join(parts)} FROM {table} t {where}"


def forms(conn: sqlite3.Connection, table: str, where: str = "",
          params: tuple = ()) -> tuple[list[str], list[tuple]]:
    cols, sql = form_sql(conn, table, where)
    cur = conn.cursor()
    cur.row_factory = None
    return cols, cur.execute(sql, params).fetchall()


# --- sites and peers ---------------------------------------------------------------------------

def site_name(conn: sqlite3.Connection) -> str:
    """How this database is shown to others: a set name, else its scope unit's, else the
    only community (or street) it holds."""
    name = settings.get(conn, NAME_KEY)
    if name:
        return name
    unit = scope_unit(conn)
    if unit is not None:
        return conn.execute("SELECT name FROM grid_units WHERE id = ?", (unit,)).fetchone()[0]
    for level in ("community", "street"):
        rows = conn.execute("SELECT name FROM grid_units WHERE level = ? ORDER BY id LIMIT 2",
                            (level,)).fetchall()
        if len(rows) == 1:
            return rows[0][0]
    return "本机"


def scope_unit(conn: sqlite3.Connection) -> int | None:
    """The unit a handed-out database was started for (None for an office database)."""
    unit_uuid = settings.get(conn, SCOPE_KEY)
    if unit_uuid is None:
        return None
    row = conn.execute("SELECT id FROM grid_units WHERE uuid = ?", (unit_uuid,)).fetchone()
    return row[0] if row else None


def peers(conn: sqlite3.Connection) -> list[dict]:
    rows = conn.execute("SELECT p.*, g.name AS unit_name, (SELECT count(*) FROM sync_conflicts c"
                        " WHERE c.peer = p.site AND c.resolved_at IS NULL) AS open_conflicts"
                        " FROM sync_peers p LEFT JOIN grid_units g ON g.uuid = p.unit_uuid"
                        " ORDER BY p.merged_at DESC")
    return [dict(r) for r in rows]


def find_peer(conn: sqlite3.Connection, text: str) -> dict:
    """A peer by site id, a prefix of it (4+ characters) or its name."""
    found = [p for p in peers(conn) if p["site"] == text or p["name"] == text
             or (len(text) >= 4 and p["site"].startswith(text))]
    if not found:
        raise DomainError(f"还没有合并过来自“{text}”的数据包：第一次请导出整个网格（不带 --since）")
    if len(found) > 1:
        raise DomainError(f"“{text}”对应多台电脑，请用站点编号："
                          + "、".join(f"{p['name']} {p['site'][:8]}" for p in found))
    return found[0]


# --- scope -------------------------------------------------------------------------------------

def _fill_scope(conn: sqlite3.Connection, unit_id: int) -> None:

    conn.execute("CREATE TEMP TABLE IF NOT EXISTS x_scope (entity TEXT NOT NULL,"
                 " id INTEGER NOT NULL, PRIMARY KEY (entity, id)) WITHOUT ROWID")
    conn.execute("DELETE FROM temp.x_scope")
    units = descendants(conn, unit_id)
    conn.executemany("INSERT INTO temp.x_scope VALUES ('units', ?)", ((u,) for u in units))
    conn.executemany("INSERT OR IGNORE INTO temp.x_scope VALUES ('grid_units', ?)",
                     ((u,) for u in units + ancestors(conn, unit_id)))
    for table, sql in SCOPE_SQL.items():
        conn.execute(f"INSERT OR IGNORE INTO temp.x_scope SELECT '{table.strip()}', id"
                     f" FROM ({sql})")


def collect(conn: sqlite3.Connection, unit_id: int | None,
            progress: Progress = None) -> dict[str, tuple[list[str], list[tuple]]]:
    """Every travelling record of a unit's scope (its subtree, what hangs under it, the units
    above it, the shared lists), or of the whole database for None, in travelling form."""
    if unit_id is not None:
        _fill_scope(conn, unit_id)
    out = {}
    for i, table in enumerate(TABLES):
        report(progress, i, len(TABLES) + 2)
        where = ("" if unit_id is None or table in SHARED else
                 f"WHERE t.id IN (SELECT id FROM temp.x_scope WHERE entity = '{table}')")
        out[table] = forms(conn, table, where)
    if unit_id is not None:
        _close(conn, out)
    return out


def _close(conn: sqlite3.Connection, records: dict) -> None:
    """Leave out records that refer to a record outside the scope (a volunteer of the grid's
    team who lives in another grid, a move from another grid): the receiver could not place
    the reference, and a record that arrives without it would later travel back as if the
    reference had been removed. Repeated until nothing more falls out."""
    present = {t: {row[cols.index("uuid")] for row in rows}
               for t, (cols, rows) in records.items()}
    changed = True
    while changed:
        changed = False
        for table, (cols, rows) in records.items():
            refs = schema(conn, table)[1]
            checks = [(cols.index(c), present[target]) for c, target in refs.items()
                      if target in present and c in cols]
            kept = [r for r in rows if all(r[i] is None or r[i] in have for i, have in checks)]
            if len(kept) != len(rows):
                changed = True
                records[table] = (cols, kept)
                present[table] = {r[cols.index("uuid")] for r in kept}


def load_base(conn: sqlite3.Connection, peer: str, table: str,
              uuids: list[str] | None = None) -> dict[str, dict]:
    """{uuid: record as last received from peer}, for the given uuids or all of the table."""
    if uuids is None:
        return {u: json.loads(d) for u, d in conn.execute(
            "SELECT uuid, data FROM sync_base WHERE peer = ? AND entity = ?", (peer, table))}
    out = {}
    for start in range(0, len(uuids), 500):
        chunk = uuids[start:start + 500]
        out.update((u, json.loads(d)) for u, d in conn.execute(
            "SELECT uuid, data FROM sync_base WHERE peer = ? AND entity = ? AND uuid IN"
            f" ({','.join('?' * len(chunk))})", (peer, table, *chunk)))
    return out


def open_conflicts(conn: sqlite3.Connection, peer: str | None = None) -> list[dict]:
    sql = "SELECT * FROM sync_conflicts WHERE resolved_at IS NULL"
    params: tuple = ()
    if peer is not None:
        sql += " AND peer = ?"
        params = (peer,)
    return [dict(r) for r in conn.execute(sql + " ORDER BY id", params)]


def form_hash(record: dict) -> str:
    """A short digest of a record's travelling form (equal on two PCs when they agree)."""
    import hashlib
    text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def _since(conn: sqlite3.Connection, records: dict,
           peer: dict) -> tuple[dict, dict, dict, list]:
    """Only the records whose form differs from what we last received from the peer; for
    each, the fields of that base that differ (`seen`; an open conflict's field gives its
    older base, so the peer sees the conflict too instead of taking our side of it); and
    `have`: the digest of each record received since we last told the peer, that we hold
    unchanged, so the peer knows we agree on it and stops sending it; `gone`: records the
    peer had that have left the scope here."""
    pending: dict[tuple, Any] = {}
    for c in open_conflicts(conn, peer["site"]):
        pending[(c["entity"], c["uuid"], c["field"])] = c["base"]
    out, seen, have = {}, {}, {}
    in_scope: dict[str, set] = {}
    left: dict[str, set] = {}
    for table, (cols, rows) in records.items():
        base = {u: (json.loads(d), got) for u, d, got in conn.execute(
            "SELECT uuid, data, got FROM sync_base WHERE peer = ? AND entity = ?",
            (peer["site"], table))}
        kept, table_seen, table_have = [], {}, []
        u = cols.index("uuid")
        for row in rows:
            b, got = base.get(row[u], (None, 0))
            record = dict(zip(cols, row))
            if b is not None and all(b.get(c) == record[c] for c in cols if c in b) \
                    and not any((table, row[u], c) in pending for c in cols):
                if got > peer["acked_seq"]:
                    table_have.append([row[u], form_hash(record)])
                continue
            kept.append(row)
            if b is None:
                continue
            diff = {c: b[c] for c in cols if c in b and b[c] != record[c]}
            for c in cols:
                key = (table, row[u], c)
                if key in pending:
                    if pending[key] is None:
                        diff.pop(c, None)
                    else:
                        diff[c] = json.loads(pending[key])
            table_seen[row[u]] = diff
        out[table] = (cols, kept)
        if table_seen:
            seen[table] = table_seen
        if table_have:
            have[table] = table_have
        in_scope[table] = {row[u] for row in rows}
        if table not in SHARED:
            left[table] = set(base) - in_scope[table]
    return out, seen, have, _left_scope(conn, left, in_scope)


def _left_scope(conn: sqlite3.Connection, left: dict[str, set], in_scope: dict[str, set]
                ) -> list[list]:
    """Records the peer had that are still here but no longer in the scope (a resident moved
    to another grid), with every record hanging on them (their tags, visits …, which the
    peer may have without our knowing): the peer's part of the data no longer holds them."""
    gone_ids: dict[str, list[int]] = {}
    for table in TABLES:
        if table in SHARED:
            continue
        found: dict[int, str] = {}
        wanted = sorted(left.get(table, ()))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            found.update(conn.execute(f"SELECT id, uuid FROM {table} WHERE uuid IN"
                                      f" ({','.join('?' * len(chunk))})", chunk).fetchall())
        _cols, refs = schema(conn, table)
        for column, target in refs.items():
            parents = gone_ids.get(target)
            if not parents or (table, column) in LATE:
                continue
            for start in range(0, len(parents), 500):
                chunk = parents[start:start + 500]
                found.update(conn.execute(f"SELECT id, uuid FROM {table} WHERE {column} IN"
                                          f" ({','.join('?' * len(chunk))})", chunk).fetchall())
        found = {i: u for i, u in found.items() if u not in in_scope.get(table, ())}
        if found:
            gone_ids[table] = sorted(found)
            left[table] = set(found.values())
    return [[t, u] for t in TABLES if t in gone_ids for u in sorted(left[t])]


def _tombstones(conn: sqlite3.Connection) -> list[list]:
    """Every deletion, every time: a receiver without the record ignores it, and a lost
    package cannot lose a deletion."""
    marks = ",".join("?" * len(TABLES))
    rows = conn.execute(f"SELECT entity, uuid, deleted_at, site FROM tombstones"
                        f" WHERE entity IN ({marks}) ORDER BY id", TABLES).fetchall()
    return [list(r) for r in rows]


def _deleted_seen(conn: sqlite3.Connection, peer: str) -> dict[str, dict[str, dict]]:
    """For each record deleted here, the record as we last received it from the peer: the peer
    may delete its copy when it has not changed it since. Without this, a deletion of a record
    the peer made and we never sent back (the office deletes a duplicate the laptop added)
    would be refused there as "changed" on every package, for ever."""
    out: dict[str, dict[str, dict]] = {}
    for entity, uuid, data in conn.execute(
            "SELECT b.entity, b.uuid, b.data FROM sync_base b JOIN tombstones t"
            " ON t.entity = b.entity AND t.uuid = b.uuid WHERE b.peer = ?", (peer,)):
        if entity in TABLES:
            out.setdefault(entity, {})[uuid] = json.loads(data)
    return out


def check_export_scope(ctx, unit_id: int | None) -> None:
    """A 网格员 exports only within their grids."""
    access = ctx.access
    if access is None or access.role != GRID_WORKER:
        return
    if unit_id is None or not access.unit_ids.intersection(ancestors(ctx.conn, unit_id)):
        raise NotPermitted("网格员只能导出分配给自己的网格")


def export_package(ctx, path, passphrase: str, unit_id: int | None = None,
                   since: str | None = None, progress: Progress = None) -> dict:
    """Write a package of a unit's scope (or everything), all of it or only what changed
    since the last exchange with the peer `since` (site id, prefix or name). Returns the
    manifest. Recorded in the audit trail; nothing is recorded when writing fails."""

    conn = ctx.conn
    peer = find_peer(conn, since) if since else None
    if unit_id is None:
        unit_id = scope_unit(conn)
        if unit_id is None and peer is not None and peer["unit_uuid"]:
            row = conn.execute("SELECT id FROM grid_units WHERE uuid = ?",
                               (peer["unit_uuid"],)).fetchone()
            unit_id = row[0] if row else None
    check_export_scope(ctx, unit_id)
    if ctx.read_only:
        raise ReadOnlyError(ctx.read_only)
    written = False
    try:
        with atomic(conn):
            site = settings.site_id(conn)
            # never below the clock (ms): a database restored from a backup takes its stored
            # number back, and the peers would refuse its next packages as older ones
            seq = max((settings.get(conn, SEQ_KEY) or 0) + 1,
                      int(dt.datetime.now(dt.timezone.utc).timestamp() * 1000))
            settings.put(conn, SEQ_KEY, seq)
            records = collect(conn, unit_id, progress)
            seen: dict = {}
            have: dict = {}
            gone: list = []
            if peer is not None and unit_id is not None:
                records, seen, have, gone = _since(conn, records, peer)
            elif peer is not None:
                records, seen, have, _gone = _since(conn, records, peer)
            blobs, left_out = media.pack(
                conn, records, settings.get(conn, WANT_KEY + peer["site"]) or [] if peer else [])
            data = {"tables": {t: {"columns": cols, "rows": [list(r) for r in rows]}
                               for t, (cols, rows) in records.items()},
                    "blobs": blobs, "want": media.missing(conn),
                    "tombstones": _tombstones(conn), "seen": seen, "have": have,
                    "gone": gone,
                    "deleted_seen": _deleted_seen(conn, peer["site"]) if peer else {}}
            unit = (conn.execute("SELECT uuid, name FROM grid_units WHERE id = ?",
                                 (unit_id,)).fetchone() if unit_id is not None else None)
            manifest = {"package": uuidlib.uuid4().hex, "source_site": site,
                        "source_name": site_name(conn), "seq": seq, "created_at": now_utc(),
                        "unit_uuid": unit[0] if unit else None,
                        "unit_name": unit[1] if unit else "全部",
                        # file contents left out for size: asked for by the next package back
                        "blobs_left_out": left_out,
                        "target_site": peer["site"] if peer else None,
                        # the package this database was started from (a laptop's): the
                        # office holds it to what that package handed out
                        "handout": settings.get(conn, HANDOUT_KEY),
                        "target_name": peer["name"] if peer else None,
                        # the last package number merged from each PC: one that finds it
                        # higher than its own was restored from a backup since
                        "merged_from": {p["site"]: p["last_seq"] for p in peers(conn)}}
            report(progress, len(TABLES), len(TABLES) + 2)
            if peer is None:            # a whole unit (or everything): what may be handed out
                conn.execute("INSERT INTO sync_handouts (package, unit_uuid, created_at, file)"
                             " VALUES (?, ?, ?, ?)", (manifest["package"], manifest["unit_uuid"],
                                                      manifest["created_at"], str(path)))
            package.write(path, passphrase, manifest, data)
            written = True
            counts = package.counts(data)
            if peer is not None:
                conn.execute("UPDATE sync_peers SET exported_at = ?, acked_seq = last_seq"
                             " WHERE site = ?", (manifest["created_at"], peer["site"]))
            audit.record(conn, ctx.user, "export", entity="sync_package",
                         summary=f"导出数据交换包：{manifest['unit_name']}，"
                                 f"{package.records(counts)} 条记录"
                                 + (f"（自上次与“{peer['name']}”交换以来）" if peer else ""),
                         detail={"file": str(path), "package": manifest["package"],
                                 "target": manifest["target_site"], "counts": counts})
            report(progress, len(TABLES) + 2, len(TABLES) + 2)
    except BaseException:
        if written:                      # no package without its audit entry
            with contextlib.suppress(OSError):
                os.remove(path)
        raise
    return {**manifest, "counts": counts}
