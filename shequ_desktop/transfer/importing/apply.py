"""Carrying out a plan: one transaction through Context, bulk inserts for new data.

It all lands or none of it does: a validation failure, a cancel (progress → Cancelled) or a
crash rolls the whole import back, the audit entry included.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import json
from pathlib import Path

from shequ_desktop.core import audit, fields, pinyin
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.population.residents import HEAD
from shequ_desktop.transfer.importing import mapping as mapping_mod
from shequ_desktop.transfer.importing.bulk import with_gc_paused
from shequ_desktop.transfer.importing.places import NoPlaces, Places
from shequ_desktop.transfer.importing.plan import ADDRESS_NOTE, Plan, PlanRow

# What a new resident's row holds: every registry field but those only a move-out or a death
# sets (fields.RESIDENT_FIELDS is read at each import, so a new field needs no edit here).
NOT_IMPORTED = ("moved_out_at", "moved_out_to", "death_date")
DEFAULTS = {"id_type": "01", "residence_type": "1", "separated": 0}
HOUSEHOLD_COLUMNS = ["id", "house_id", "household_no", "kind", "head_resident_id", "status",
                     "notes"]                    # (phone: NULL, not bound)
EVENT_COLUMNS = ["resident_id", "kind", "date", "household_id"]
CHUNK = 20_000                # residents written per executemany
REPORT_EVERY = 5000
PAGE_CACHE_KB = 32 * 1024


@with_gc_paused
def apply_plan(ctx: Context, plan: Plan, target_unit_id: int | None, *,
               all_or_nothing: bool = False, progress: Progress = None) -> dict:
    """Import the plan's rows that are not in error; returns the counts (plus households)."""
    hold_to_grid(plan, ctx.access)
    counts = plan.counts()
    if all_or_nothing and counts["errors"]:
        raise DomainError(f"有 {counts['errors']} 行错误，按“全部或全不”要求未导入任何数据")
    today = dt.date.today().isoformat()
    total = len(plan.rows) + 1
    with _page_cache(ctx.conn), ctx.transaction():
        conn = ctx.conn
        taken = _taken_meanwhile(conn, plan)
        if taken:
            counts["created"] -= taken
            counts["skipped"] += taken
        new_groups = [g for g in plan.groups.values() if g.household_id is None
                      and _founder(plan, g) is not None]
        places = _places(ctx, plan, new_groups, target_unit_id)
        next_resident = conn.execute("SELECT coalesce(max(id), 0) FROM residents").fetchone()[0] + 1
        next_household = conn.execute("SELECT coalesce(max(id), 0) FROM households"
                                      ).fetchone()[0] + 1
        households = []
        ids: dict[int, int] = {}            # row index -> new resident id
        household_of: dict[tuple, int] = {}
        for group in new_groups:
            head = plan.rows[_founder(plan, group)]
            hid = next_household
            next_household += 1
            household_of[group.key] = hid
            head_rid = None
            if group.head is not None and plan.rows[group.head].status == "new":
                head_rid = ids[group.head] = next_resident
                next_resident += 1
            house_id = places.house(head.address) if head.address else None
            notes = [] if head.address or not head.address_text else \
                [ADDRESS_NOTE + head.address_text]
            if group.checking:
                notes.append(group.checking)
            households.append((hid, house_id, head.household_no, head.kind or "1", head_rid,
                               ON_RECORD, "\n".join(notes) or None))
        for group in plan.groups.values():
            if group.needs_head and group.household_id is not None \
                    and plan.rows[group.head].status == "new":
                ids[group.head] = next_resident
                next_resident += 1
        for group in plan.groups.values():
            if group.household_id is not None:
                household_of[group.key] = group.household_id
        places.flush()
        ctx.bulk_insert("households", HOUSEHOLD_COLUMNS, households)
        counts["households_created"] = len(households)
        del households
        people, events = [], []             # written CHUNK rows at a time, never all held
        columns = _columns_written(conn, plan)
        extras = any(r.extras or r.checking for r in plan.rows)   # else NULL: not bound
        names = ["id", "household_id", *(name for name, _d in columns), "name_initials",
                 *(["extras"] if extras else [])]
        for index, row in enumerate(plan.rows):
            if index % REPORT_EVERY == 0:
                report(progress, index, total)
            status = row.status
            if status == "new" and row.group in household_of:
                rid = ids.get(index)
                if rid is None:
                    rid = next_resident
                    next_resident += 1
                relation = HEAD if _is_new_head(plan, row, index) else row.relation
                hid = household_of[row.group]
                row.match_id = rid                     # who the row became (registers.py)
                people.append(_resident_tuple(rid, hid, row, relation, columns, extras))
                events.append((rid, "迁入", row.values.get("moved_in_at") or today, hid))
                if len(people) == CHUNK:
                    _write_people(ctx, names, people, events)
            elif status == "update":
                _update(ctx, row)
        _write_people(ctx, names, people, events)
        for group in plan.groups.values():
            if group.needs_head and group.head in ids:
                ctx.update("households", group.household_id,
                           {"head_resident_id": ids[group.head]})
        counts["houses_created"] = places.created_houses
        counts["units_created"] = places.created_units
        mapping_mod.remember(conn, plan.headers, plan.mapping)
        audit.record(conn, ctx.user, "import", entity="residents",
                     summary=f"导入“{Path(plan.path).name}”：新增 {counts['created']} 人，"
                             f"更新 {counts['updated']} 人，错误 {counts['errors']} 行",
                     detail={"file": str(plan.path), "sheet": plan.sheet, "counts": counts,
                             "on_duplicate": plan.on_duplicate})
        report(progress, total, total)
    return counts


def _write_people(ctx: Context, names: list[str], people: list, events: list) -> None:
    ctx.bulk_insert("residents", names, people)
    ctx.bulk_insert("resident_events", EVENT_COLUMNS, events)
    people.clear()
    events.clear()


@contextlib.contextmanager
def _page_cache(conn):
    """A larger SQLite page cache for the load: the random uuid keys touch index pages all
    over, and with the default 2 MB cache they are spilled and read back again and again
    (10-40% slower loads, more the busier the disk). Set back afterwards."""
    before = conn.execute("PRAGMA cache_size").fetchone()[0]
    conn.execute(f"PRAGMA cache_size = {-PAGE_CACHE_KB}")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA cache_size = {before}")


def _is_new_head(plan: Plan, row: PlanRow, index: int) -> bool:
    group = plan.groups.get(row.group)
    return group is not None and group.head == index


NO_PLACE = ("网格员导入的新户须有可识别的现住址（如 3栋2单元501），"
            "否则无法确定属于哪个网格；请补上地址或请管理员导入")


def hold_to_grid(plan: Plan, access) -> int:
    """A 网格员 may create households only in their grids, so a new household whose address
    cannot be placed is refused row by row (the rest comes in). Returns how many rows."""
    if access is None or not access.restricted:
        return 0
    held = 0
    for group in plan.groups.values():
        if group.household_id is not None:
            continue
        founder = _founder(plan, group)
        if founder is None or plan.rows[founder].address is not None:
            continue
        column = plan.column("address") if plan.column("address") is not None \
            else plan.column("name")
        for i in group.rows:
            row = plan.rows[i]
            if row.status == "new":
                row.error(column, NO_PLACE)
                held += 1
    return held


def _founder(plan: Plan, group) -> int | None:
    """The row a new household is made from: its head, else (head row in error) its first
    valid member; None when no row of it comes in."""
    if group.head is not None and plan.rows[group.head].status == "new":
        return group.head
    if group.checking:
        return next((i for i in group.rows if plan.rows[i].status == "new"), None)
    return None


def _taken_meanwhile(conn, plan: Plan) -> int:
    """The duplicate check again, inside the write transaction (BEGIN IMMEDIATE: no one else
    writes now): a person another import stored since the plan was made is not created
    twice. Such rows become skipped; returns how many."""
    numbers = [r.values["id_number"] for r in plan.rows
               if r.status == "new" and r.values.get("id_number")]
    found: dict[str, tuple] = {}
    for start in range(0, len(numbers), 500):
        chunk = numbers[start:start + 500]
        found.update((n, (rid, hid)) for n, rid, hid in conn.execute(
            f"SELECT id_number, id, household_id FROM residents WHERE status = '{ON_RECORD}' AND "
            f"id_number IN ({','.join('?' * len(chunk))})", chunk))
    if not found:
        return 0
    taken = 0
    for index, row in enumerate(plan.rows):
        if row.status == "new" and row.values.get("id_number") in found:
            rid, hid = found[row.values["id_number"]]
            group = plan.groups.get(row.group) if row.group is not None else None
            if group is not None and group.head == index and group.household_id is None:
                group.household_id, group.head = hid, None   # the others join that household
            row.existing = {"id": rid, "household_id": hid}
            row.match_id = rid
            row.decision = "skip"
            row.errors = []
            row.match_how = "身份证号（导入时已存在）"
            row.group = None
            taken += 1
    return taken

def _places(ctx: Context, plan: Plan, new_groups, target_unit_id: int | None):
    if target_unit_id is None:
        if any(plan.rows[g.head].address for g in new_groups):
            raise DomainError("请选择导入到哪个社区或网格")
        return NoPlaces()
    return Places(ctx, target_unit_id)


def _columns_written(conn, plan: Plan) -> list[tuple[str, object]]:
    """(field, default) of the resident columns the new rows are written with: every field
    but those no row of the sheet has and whose column is NULL by default (binding a NULL
    costs the driver ~1.5 µs: twenty empty fields were two thirds of the insert's time)."""
    present: set[str] = set()
    for row in plan.rows:
        present.update(row.values)
    null_default = {r[1] for r in conn.execute("PRAGMA table_info(residents)") if r[4] is None}
    return [(name, DEFAULTS.get(name)) for name in _field_columns()
            if name in present or name in DEFAULTS or name in _SET_HERE
            or name not in null_default]


_SET_HERE = ("relation_to_head", "status")


def _field_columns() -> list[str]:
    return [f.name for f in fields.RESIDENT_FIELDS if f.name not in NOT_IMPORTED]


def _resident_tuple(rid: int, household_id: int, row: PlanRow, relation: str | None,
                    columns: list[tuple[str, object]], extras: bool) -> tuple:
    """`columns`: (field, default) as _columns_written gives them; `extras`: whether the
    extras column is written."""
    v = row.values
    out = [rid, household_id]
    for name, default in columns:
        if name == "relation_to_head":
            out.append(relation)
        elif name == "status":
            out.append(ON_RECORD)
        else:
            out.append(v.get(name) or default)
    out.append(pinyin.initials(v["name"]))
    if extras:
        out.append(_extras_json(row) if row.extras or row.checking else None)
    return tuple(out)


def _extras_json(row: PlanRow, before: str | None = None) -> str | None:
    """The columns kept with the person (JSON object label -> text), merged over `before`."""
    if not (before or row.extras or row.checking):
        return None
    extras = dict(json.loads(before)) if before else {}
    extras.update(row.extras or {})
    if row.checking:
        extras["待核对"] = row.checking
    return json.dumps(extras, ensure_ascii=False) if extras else None


def _update(ctx: Context, row: PlanRow) -> None:
    diff = row.diff()
    if row.extras:
        before = ctx.conn.execute("SELECT extras FROM residents WHERE id = ?",
                                  (row.match_id,)).fetchone()[0]
        merged = _extras_json(row, before)
        if merged != before:
            diff["extras"] = merged
    if "name" in diff:
        diff["name_initials"] = pinyin.initials(diff["name"])
    ctx.update("residents", row.match_id, diff)
