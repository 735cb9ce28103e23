"""Registers that are not (only) resident lists (issue 15): a focus-group register (any of the
天阙 kinds: its people come in as residents and join the focus group from the date its
columns give), a visit register (走访: visits of residents on record) and a volunteer roster.

`detect` names the kind of a sheet when it is obvious (its title, sheet name or columns);
`import_register` does the import for any of the four, in one transaction through Context.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path

from shequ_desktop.casework import visits
from shequ_desktop.core import audit, codes
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, ValidationError
from shequ_desktop.core.fields import VOLUNTEER_FIELDS
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.validation import parse_date
from shequ_desktop.population import focus_groups
from shequ_desktop.transfer.importing import headers as headers_mod
from shequ_desktop.transfer.importing import mapping as mapping_mod
from shequ_desktop.transfer.importing import normalize
from shequ_desktop.transfer.importing.apply import apply_plan
from shequ_desktop.transfer.importing.plan import Plan, PlanRow, build_plan
from shequ_desktop.transfer.importing.reading import Table
from shequ_desktop.volunteers import roster as volunteers

WHAT = ("residents", "focus", "visits", "volunteers")
WHAT_LABELS = {"residents": "居民", "focus": "重点人群", "visits": "走访记录",
               "volunteers": "志愿者"}
# 天阙 register titles (and common names) -> the focus group (tag) its people join: the
# catalogue's words (resources/focus_groups.json), most specific first.
FOCUS_KINDS = focus_groups.title_words()
# Columns that say since when a person belongs to the group.
SINCE_WORDS = ("社区矫正开始时间", "矫正开始时间", "开始时间", "开始日期", "起始时间", "列管时间",
               "纳入时间", "纳入日期", "享受起始时间", "失业时间", "残疾时间", "发病时间",
               "查获日期", "未落户时间", "抵达时间", "释放日期", "刑满释放日期", "登记日期")
VISIT_COLUMNS = {
    "visited_on": ("走访日期", "走访时间", "日期", "走访日"),
    "method": ("走访方式", "方式", "走访形式"),
    "visitor": ("走访人", "走访人员", "网格员", "走访者", "走访干部"),
    "findings": ("走访情况", "走访内容", "发现问题", "情况记录", "走访记录", "主要内容"),
    "follow_up": ("需要跟进", "是否需要跟进", "需跟进", "是否跟进"),
    "follow_up_note": ("跟进事项", "跟进内容", "处理意见"),
}
METHOD_WORDS = {"入户": "入户", "上门": "入户", "入户走访": "入户", "走访": "入户", "面访": "入户",
                "电话": "电话", "电话走访": "电话", "电话回访": "电话", "视频": "视频",
                "微信视频": "视频", "视频通话": "视频"}
VOLUNTEER_WORDS = ("志愿者", "志愿服务", "服务队", "服务时长", "注册日期", "入队日期", "加入日期")
TEAM_WORDS = ("服务队", "所属队伍", "队伍", "志愿服务队", "所属服务队")


@dataclass
class RegisterResult:
    what: str
    plan: Plan                          # rows with their errors and warnings (error report)
    counts: dict = field(default_factory=dict)
    tag: str | None = None


def _title_text(table: Table, header_row: int) -> str:
    above = [str(c) for row in table.rows[:max(header_row, 0)] for c in row if isinstance(c, str)]
    return " ".join([table.sheet, *above])


def focus_kind(table: Table, header_row: int) -> str | None:
    """The focus group a register's title or sheet name names, or None."""
    text = _title_text(table, header_row)
    text = re.sub(r"填写注意事项.*", "", text, flags=re.S)
    for word, tag in FOCUS_KINDS:
        if word in text:
            return tag
    return None


def detect(table: Table) -> tuple[str, headers_mod.Header]:
    """What a sheet holds ('residents', 'focus', 'visits' or 'volunteers') and its header."""
    header = headers_mod.locate(table.rows, table.sheet)
    keys = {mapping_mod.header_key(h) for h in header.labels}
    title = _title_text(table, header.first_row)
    if _column(header.labels, VISIT_COLUMNS["visited_on"]) is not None and \
            (_column(header.labels, VISIT_COLUMNS["visitor"]) is not None
             or _column(header.labels, VISIT_COLUMNS["method"]) is not None):
        return "visits", header
    if "志愿者" in title or any(mapping_mod.header_key(w) in keys for w in VOLUNTEER_WORDS):
        return "volunteers", header
    if focus_kind(table, header.first_row) is not None:
        return "focus", header
    return "residents", header


def _column(labels: list[str], words) -> int | None:
    wanted = {mapping_mod.header_key(w) for w in words}
    for c, label in enumerate(labels):
        if mapping_mod.header_key(label) in wanted or \
                mapping_mod.header_key(label.rsplit("/", 1)[-1]) in wanted:
            return c
    return None


def import_register(ctx: Context, table: Table, what: str | None, target_unit_id: int | None,
                    *, tag_name: str | None = None, dry_run: bool = False,
                    on_duplicate: str = "skip", values: dict | None = None,
                    flat: str = "address", all_or_nothing: bool = False,
                    progress=None) -> RegisterResult:
    """Import one sheet as `what` (detected when None)."""
    detected, header = detect(table)
    what = what or detected
    if what not in WHAT:
        raise ValueError(what)
    if what == "visits":
        return _visits(ctx, table, header, dry_run, all_or_nothing)
    if what == "volunteers":
        return _volunteers(ctx, table, header, dry_run, all_or_nothing)
    plan = build_plan(ctx.conn, table, header_row=header.row, headers=header.labels,
                      on_duplicate=on_duplicate, values=values, flat=flat, progress=progress)
    plan.first_row = header.first_row
    result = RegisterResult(what, plan, plan.counts())
    if what == "focus":
        result.tag = tag_name or focus_kind(table, header.first_row)
        if not result.tag:
            raise DomainError("无法从表名看出是哪类重点人群，请指定重点人群（--tag）")
        check_tag(ctx.conn, result.tag, ctx.access)
    if dry_run or (all_or_nothing and result.counts["errors"]):
        if all_or_nothing and result.counts["errors"]:
            result.counts = {**result.counts, "created": 0, "updated": 0}
        return result
    with ctx.transaction():
        result.counts = apply_plan(ctx, plan, target_unit_id, progress=progress)
        if what == "focus":
            result.counts["tagged"] = _tag_rows(ctx, plan, result.tag)
    return result


def check_tag(conn, tag_name: str, access) -> None:
    """A focus group the database lacks is created by the import, which only an
    administrator may do: refuse anyone else before anything is written."""
    if access is None or access.role == "管理员":
        return
    if conn.execute("SELECT 1 FROM tags WHERE name = ?", (tag_name,)).fetchone() is None:
        raise DomainError(f"还没有“{tag_name}”这一重点人群，只有管理员可以新建；"
                          "请管理员先添加该重点人群，或按“居民”导入")


def _tag_rows(ctx: Context, plan: Plan, tag_name: str) -> int:
    """Everyone the register names (new or on record) joins the focus group, from the date
    its start column gives (else today); those already in it are left as they are."""
    conn = ctx.conn
    found = conn.execute("SELECT id FROM tags WHERE name = ?", (tag_name,)).fetchone()
    tag_id = found[0] if found else focus_groups.add_group(ctx, tag_name).id
    since_col = _column(plan.headers, SINCE_WORDS)
    already = {r for (r,) in conn.execute(
        "SELECT resident_id FROM resident_tags WHERE tag_id = ? AND until IS NULL", (tag_id,))}
    today = dt.date.today().isoformat()
    rows = []
    for row in plan.rows:
        rid = row.match_id
        if row.errors or rid is None or rid in already:
            continue
        since = (row.extras or {}).get(plan.headers[since_col]) if since_col is not None \
            else None
        try:
            since = parse_date(since) if since else today
        except ValueError:
            since = today
        since = min(since, today)
        rows.append((rid, tag_id, since, None))
        already.add(rid)
    ctx.bulk_insert("resident_tags", ["resident_id", "tag_id", "since", "notes"], rows)
    return len(rows)


def _person_rows(table: Table, header: headers_mod.Header) -> list[PlanRow]:
    out = []
    for i, cells in enumerate(table.rows[header.row + 1:]):
        if mapping_mod.is_blank(cells) or mapping_mod.is_total(cells):
            continue
        out.append(PlanRow(header.row + i + 2, cells))
    return out


def _cell(row: PlanRow, column: int | None) -> str:
    if column is None or column >= len(row.cells):
        return ""
    return normalize.text(row.cells[column])


NOT_ON_RECORD = "不在册，走访未导入；请先导入该居民"


def _find_resident(conn, number: str, name: str) -> tuple[int | None, str]:
    """The resident on record a visit row names, or None and why (a row whose person is not
    on record is refused and counted, never dropped: the error report lists it)."""
    if number:
        r = conn.execute(f"SELECT id FROM residents WHERE id_number = ? AND status = '{ON_RECORD}'",
                         (number,)).fetchone()
        return (r[0], "") if r else (None, f"身份证号 {number} {NOT_ON_RECORD}")
    found = conn.execute(f"SELECT id FROM residents WHERE name = ? AND status = '{ON_RECORD}'",
                         (name,)).fetchall()
    if len(found) == 1:
        return found[0][0], ""
    if not found:
        return None, f"库中没有名为“{name}”的居民，走访未导入；请先导入该居民"
    return None, f"库中有 {len(found)} 位“{name}”，请填写身份证号"


def _plan_for(table: Table, header: headers_mod.Header, rows: list[PlanRow]) -> Plan:
    return Plan(table.path, table.sheet, header.row, header.labels,
                mapping_mod.auto_mapping(header.labels), rows, {}, first_row=header.first_row)


def _visits(ctx: Context, table: Table, header, dry_run: bool, all_or_nothing: bool):

    labels = header.labels
    col = {k: _column(labels, words) for k, words in VISIT_COLUMNS.items()}
    name_col = _column(labels, ("姓名", "走访对象", "居民姓名", "被走访人"))
    id_col = _column(labels, ("身份证号", "公民身份号码", "身份证号码", "证件号码"))
    if name_col is None and id_col is None:
        raise DomainError("走访登记表中没有“姓名”或“身份证号”列，无法知道走访的是谁")
    rows = _person_rows(table, header)
    today = dt.date.today()
    out: list[tuple] = []
    not_on_record = 0
    for row in rows:
        name = _cell(row, name_col)
        try:
            number = normalize.id_number(row.cells[id_col]) if id_col is not None and \
                id_col < len(row.cells) else ""
        except ValueError as exc:
            row.error(id_col, str(exc))
            continue
        rid, why = _find_resident(ctx.conn, number, name)
        if rid is None:
            row.error(id_col if number else name_col, why)
            not_on_record += 1
            continue
        raw = _cell(row, col["method"])
        method = METHOD_WORDS.get(raw.replace(" ", ""), raw) if raw else "入户"
        if method not in visits.METHODS:
            row.warn(col["method"], f"走访方式“{raw}”记为“其他”")
            method = "其他"
        day = row.cells[col["visited_on"]] if col["visited_on"] is not None and \
            col["visited_on"] < len(row.cells) else None
        try:
            day = normalize.date(day) if day not in (None, "") else None
        except ValueError as exc:
            row.error(col["visited_on"], f"走访日期：{exc}")
            continue
        follow = _cell(row, col["follow_up"]) in ("是", "需要", "要", "√", "1", "Y", "y")
        values, errors = visits._clean(day, method, _cell(row, col["visitor"]) or ctx.user,
                                       _cell(row, col["findings"]) or None, follow,
                                       _cell(row, col["follow_up_note"]) or None, today)
        for e in errors:
            row.error(col.get(e.field), f"{e.label}：{e.message}")
        if row.errors:
            continue
        duplicate = ctx.conn.execute(
            "SELECT 1 FROM visits WHERE resident_id = ? AND visited_on = ? AND method = ?",
            (rid, values["visited_on"], values["method"])).fetchone()
        if duplicate:
            row.decision = "skip"
            row.existing = {"id": rid}
            continue
        row.match_id = rid
        out.append((rid, values["visited_on"], values["method"], values["visitor"],
                    values["findings"], values["follow_up"], values["follow_up_note"]))
    plan = _plan_for(table, header, rows)
    counts = {**_counts(rows, len(out)), "not_on_record": not_on_record}
    if not dry_run and out and not (all_or_nothing and counts["errors"]):
        with ctx.transaction():
            ctx.bulk_insert("visits", ["resident_id", "visited_on", "method", "visitor",
                                       "findings", "follow_up", "follow_up_note"], out)
            audit.record(ctx.conn, ctx.user, "import", entity="visits",
                         summary=f"导入走访记录“{Path(table.path).name}”：新增 {len(out)} 条，"
                                 f"错误 {counts['errors']} 行",
                         detail={"file": str(table.path), "counts": counts})
    elif dry_run or counts["errors"]:
        counts = counts if dry_run else {**counts, "created": 0}
    return RegisterResult("visits", plan, counts)


def _counts(rows: list[PlanRow], created: int) -> dict:
    errors = sum(1 for r in rows if r.errors)
    skipped = sum(1 for r in rows if not r.errors and r.existing is not None)
    return {"rows": len(rows), "created": created, "updated": 0, "unchanged": 0,
            "skipped": skipped, "errors": errors}


def _volunteers(ctx: Context, table: Table, header, dry_run: bool, all_or_nothing: bool):

    labels = header.labels
    by_word = {mapping_mod.header_key(w): f.name for f in VOLUNTEER_FIELDS if f.editable
               for w in (f.label, *f.synonyms)}
    columns: dict[str, int] = {}
    for c, label in enumerate(labels):
        key = by_word.get(mapping_mod.header_key(label))
        if key and key not in columns:
            columns[key] = c
    if "name" not in columns:
        raise DomainError("志愿者名册中没有“姓名”列，无法导入")
    team_col = _column(labels, TEAM_WORDS)
    teams = {name: tid for tid, name in ctx.conn.execute("SELECT id, name FROM volunteer_teams")}
    rows = _person_rows(table, header)
    created = 0
    gender = codes.table("gender")
    with ctx.transaction() if not dry_run else _nothing():
        for row in rows:
            values = {}
            for key, c in columns.items():
                raw = row.cells[c] if c < len(row.cells) else ""
                if raw in ("", None):
                    continue
                try:
                    values[key] = normalize.id_number(raw) if key == "id_number" else (
                        normalize.date(raw) if key in ("birth_date", "joined_on")
                        else normalize.text(raw))
                except ValueError as exc:
                    row.error(c, str(exc))
            if row.errors:
                continue
            if "gender" in values:
                values["gender"] = gender.code_for(values["gender"]) or values["gender"]
            number = values.get("id_number")
            if number and ctx.conn.execute("SELECT 1 FROM volunteers WHERE id_number = ?",
                                           (number,)).fetchone():
                row.existing = {"id": None}
                continue
            team = _cell(row, team_col)
            team_id = teams.get(team) if team else None
            if team and team_id is None:
                row.warn(team_col, f"没有名为“{team}”的服务队，未编入服务队")
                values["notes"] = "；".join(filter(None, [values.get("notes"), f"服务队：{team}"]))
            resident = ctx.conn.execute(
                f"SELECT id FROM residents WHERE id_number = ? AND status = '{ON_RECORD}'",
                (number,)).fetchone() if number else None
            if dry_run:
                created += 1
                continue
            try:
                with ctx.transaction():
                    volunteers.create_volunteer(ctx, values, team_id=team_id,
                                                resident_id=resident[0] if resident else None)
                created += 1
            except ValidationError as exc:
                for e in exc.errors:
                    row.error(columns.get(e.field), f"{e.label}：{e.message}")
            except DomainError as exc:
                row.error(columns.get("name"), str(exc))
        counts = _counts(rows, created)
        if all_or_nothing and counts["errors"] and not dry_run:
            raise DomainError(f"有 {counts['errors']} 行错误，按“全部或全不”要求未导入任何数据")
        if not dry_run and created:
            audit.record(ctx.conn, ctx.user, "import", entity="volunteers",
                         summary=f"导入志愿者名册“{Path(table.path).name}”：新增 {created} 人，"
                                 f"错误 {counts['errors']} 行",
                         detail={"file": str(table.path), "counts": counts})
    return RegisterResult("volunteers", _plan_for(table, header, rows), counts)


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False
