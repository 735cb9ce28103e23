"""Data-quality checks of a database: SQLite's own, the audit chain, then the domain's rules.

Each check has a severity: an error is a broken rule (`shequ check` fails on it), a warning is
something a grid worker should look at (it does not fail). Each lists every offending record
as (entity, id, detail); the entity says what to open to fix it (residents, households,
houses, audit_log, grid_units, resident_tags, or None for a problem of the file itself).
Most checks are one SQL query; the visit checks reuse shequ_desktop.casework.visits' rule.

A 网格员 (run_checks with their access) sees only the problems of records in their units
(access.scope); the checks of the file itself (integrity, foreign keys, the audit chain) and
of data exchange cannot be put down to a grid and are left out for them (ADMIN_ONLY_CHECKS).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

from db.driver import sqlite3
from shequ_desktop.casework import visits
from shequ_desktop.core import audit, idnumber
from shequ_desktop.core.access import RESIDENT_IN_SUBTREE, Access, scope
from shequ_desktop.core.audit import field_label
from shequ_desktop.core.fields import ENTITY_LABELS
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD, VACANT

ERROR, WARNING = "error", "warning"
SEVERITY_LABELS = {ERROR: "错误", WARNING: "提示"}
EXAMPLES = 5

_HH = "'户号 ' || coalesce(h.household_no, h.id)"
# Only a well-formed 18-digit resident ID (证件类型 01) is checked for its date and gender.
_ID18 = ("r.id_type = '01' AND length(r.id_number) = 18"
         " AND substr(r.id_number, 1, 17) NOT GLOB '*[^0-9]*'")
_ID_BIRTH = ("substr(r.id_number, 7, 4) || '-' || substr(r.id_number, 11, 2) || '-'"
             " || substr(r.id_number, 13, 2)")
_AGE = ("(CAST(strftime('%Y', :today) AS INTEGER) - CAST(substr(r.birth_date, 1, 4) AS INTEGER)"
        " - (substr(r.birth_date, 6, 5) > substr(:today, 6, 5)))")
# Active tag assignments of active residents (a focus group's members).
_MEMBERS = f"""FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
    JOIN residents r ON r.id = rt.resident_id
    WHERE rt.until IS NULL AND r.status = '{ON_RECORD}'"""


class Check(NamedTuple):
    key: str
    label: str
    severity: str
    entity: str | None
    sql: str                  # returns (id, detail) of each offending record; may use :today


# In the order the page and `shequ check` list them.
CHECKS = (
    # --- households and heads (errors) ---------------------------------------------------------
    Check("household_without_head", "在册户没有户主", ERROR, "households", f"""
        SELECT h.id, {_HH} FROM households h
        WHERE h.status = '{ON_RECORD}' AND h.head_resident_id IS NULL"""),
    Check("head_not_member", "户主不是本户在册成员", ERROR, "households", f"""
        SELECT h.id, {_HH} || '，户主 ' || r.name
        FROM households h JOIN residents r ON r.id = h.head_resident_id
        WHERE h.status = '{ON_RECORD}' AND (r.household_id <> h.id OR r.status <> '{ON_RECORD}')"""),
    Check("head_relation", "户主的“与户主关系”不是户主", ERROR, "residents", f"""
        SELECT r.id, r.name FROM households h JOIN residents r ON r.id = h.head_resident_id
        WHERE h.status = '{ON_RECORD}' AND r.status = '{ON_RECORD}' AND r.household_id = h.id
          AND r.relation_to_head NOT IN ('01', '02')"""),
    Check("two_heads", "一户有两名以上户主", ERROR, "households", f"""
        SELECT h.id, {_HH} || '：' || count(*) || ' 人'
        FROM households h JOIN residents r ON r.household_id = h.id
        WHERE h.status = '{ON_RECORD}' AND r.status = '{ON_RECORD}' AND r.relation_to_head IN ('01', '02')
        GROUP BY h.id HAVING count(*) > 1"""),
    Check("active_in_closed_household", "在册人员所在户已注销", ERROR, "residents", f"""
        SELECT r.id, r.name FROM residents r JOIN households h ON h.id = r.household_id
        WHERE r.status = '{ON_RECORD}' AND h.status <> '{ON_RECORD}'"""),
    Check("empty_active_household", "在册户没有在册成员", ERROR, "households", f"""
        SELECT h.id, {_HH} FROM households h
        WHERE h.status = '{ON_RECORD}'
          AND NOT EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id
                          AND r.status = '{ON_RECORD}')"""),
    # --- ID numbers (errors) -----------------------------------------------------------------
    Check("id_invalid", "身份证号无效（校验位、位数或出生日期）", ERROR, "residents", f"""
        SELECT r.id, r.name || '：' || r.id_number || '，' || id_problem(r.id_number)
        FROM residents r
        WHERE r.status = '{ON_RECORD}' AND r.id_type = '01' AND r.id_number IS NOT NULL
          AND id_problem(r.id_number) IS NOT NULL"""),
    Check("id_birth_date", "身份证号中的出生日期与登记的不符", ERROR, "residents", f"""
        SELECT r.id, r.name || '：证号 ' || {_ID_BIRTH} || '，登记 ' || r.birth_date
        FROM residents r
        WHERE r.status = '{ON_RECORD}' AND {_ID18} AND r.birth_date IS NOT NULL
          AND {_ID_BIRTH} <> r.birth_date"""),
    Check("id_gender", "身份证号中的性别与登记的不符", ERROR, "residents", f"""
        SELECT r.id, r.name || '：证号为' || CASE substr(r.id_number, 17, 1) % 2
                                              WHEN 1 THEN '男' ELSE '女' END
        FROM residents r
        WHERE r.status = '{ON_RECORD}' AND {_ID18} AND r.gender IN ('1', '2')
          AND r.gender <> CASE substr(r.id_number, 17, 1) % 2 WHEN 1 THEN '1' ELSE '2' END"""),
    Check("duplicate_id_number", "同一户内同一身份证号登记了两次", ERROR, "residents", f"""
        SELECT r.id, r.name || '：' || r.id_number FROM residents r
        WHERE r.status = '{ON_RECORD}' AND r.id_number IS NOT NULL AND EXISTS (
            SELECT 1 FROM residents o WHERE o.id_number = r.id_number AND o.id <> r.id
              AND o.status = '{ON_RECORD}' AND o.household_id IS r.household_id)"""),
    Check("person_in_two_households", "同一人同时在两户在册", ERROR, "residents", f"""
        SELECT r.id, r.name || CASE WHEN r.id_number IS NULL THEN '（无证号，同名同生日）'
                                    ELSE '：' || r.id_number END
        FROM residents r
        WHERE r.status = '{ON_RECORD}' AND EXISTS (
            SELECT 1 FROM residents o
            WHERE o.status = '{ON_RECORD}' AND o.id <> r.id AND o.household_id IS NOT r.household_id
              AND (o.id_number = r.id_number
                   OR (r.id_number IS NULL AND o.id_number IS NULL AND o.name = r.name
                       AND o.birth_date = r.birth_date AND o.gender IS r.gender)))"""),
    # --- records that contradict each other (errors) -----------------------------------------
    Check("status_dates", "迁出或死亡人员缺少日期", ERROR, "residents", f"""
        SELECT id, name FROM residents
        WHERE (status = '{MOVED_OUT}' AND moved_out_at IS NULL)
           OR (status = '{DECEASED}' AND death_date IS NULL)"""),
    Check("tag_on_inactive", "已迁出或死亡的人员仍有未结束的重点人群标记", ERROR, "residents", f"""
        SELECT r.id, r.name FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
        WHERE rt.until IS NULL AND r.status <> '{ON_RECORD}'"""),
    Check("grid_level_order", "网格层级颠倒（下级的层级不低于上级）", ERROR, "grid_units", """
        SELECT c.id, c.name FROM grid_units c JOIN grid_units p ON p.id = c.parent_id
        WHERE instr(' street community grid compound building unit ', ' ' || c.level || ' ')
           <= instr(' street community grid compound building unit ', ' ' || p.level || ' ')"""),
    # --- worth a look (warnings) ---------------------------------------------------------------
    Check("elderly_tag_under_80", "标为高龄老人但不满 80 岁", WARNING, "residents", f"""
        SELECT r.id, r.name || '：' || {_AGE} || ' 岁' {_MEMBERS}
          AND t.name = '高龄老人' AND r.birth_date IS NOT NULL AND {_AGE} < 80"""),
    Check("child_tag_over_16", "标为留守儿童但已超过 16 岁", WARNING, "residents", f"""
        SELECT r.id, r.name || '：' || {_AGE} || ' 岁' {_MEMBERS}
          AND t.name = '留守儿童' AND r.birth_date IS NOT NULL AND {_AGE} > 16"""),
    Check("focus_without_phone", "重点人员没有联系电话", WARNING, "residents", f"""
        SELECT r.id, r.name || '（' || group_concat(t.name, '、') || '）' {_MEMBERS}
          AND t.active = 1 AND trim(coalesce(r.phone, '')) = '' GROUP BY r.id"""),
    Check("vacant_house_with_residents", "空置房屋内有在册人员", WARNING, "houses", f"""
        SELECT ho.id, ho.room_no || ' 室：' || count(*) || ' 人'
        FROM houses ho JOIN households h ON h.house_id = ho.id AND h.status = '{ON_RECORD}'
        JOIN residents r ON r.household_id = h.id AND r.status = '{ON_RECORD}'
        WHERE ho.usage = '{VACANT}' GROUP BY ho.id"""),
    Check("age_over_110", "年龄超过 110 岁", WARNING, "residents", f"""
        SELECT r.id, r.name || '：' || {_AGE} || ' 岁（' || r.birth_date || '）'
        FROM residents r WHERE r.status = '{ON_RECORD}' AND r.birth_date IS NOT NULL
          AND {_AGE} > 110"""),
    Check("merge_conflicts_open", "数据交换合并后有冲突待处理（见“数据交换”页）", WARNING,
          "sync_conflicts", """
        SELECT c.id, coalesce(p.name, substr(c.peer, 1, 8)) || '：' || entity_label(c.entity)
               || '“' || field_label(c.entity, c.field) || '”'
        FROM sync_conflicts c LEFT JOIN sync_peers p ON p.site = c.peer
        WHERE c.resolved_at IS NULL"""),
)

# Checked with the visit rule of shequ_desktop.casework.visits (not one SQL query).
VISIT_CHECKS = (
    ("focus_never_visited", "重点人员从未走访", WARNING),
    ("focus_visit_overdue", "重点人员走访逾期", WARNING),
)


# Problems that belong to no grid unit: shown to administrators and 只读 users only.
ADMIN_ONLY_CHECKS = ("integrity", "foreign_keys", "audit_chain", "merge_conflicts_open")
ADMIN_ONLY_NOTE = "文件完整性、外键、审计日志链条和数据交换冲突的检查不属于某个网格，只对管理员显示"
# The ids of each entity's records in the scope (after access.scope's WITH clause).
_IN_SCOPE_SQL = {
    "grid_units": "SELECT id FROM subtree",
    "houses": "SELECT ho.id FROM subtree s CROSS JOIN houses ho ON ho.unit_id = s.id",
    "households": """SELECT h.id FROM subtree s CROSS JOIN houses ho ON ho.unit_id = s.id
                     CROSS JOIN households h ON h.house_id = ho.id""",
    "residents": f"SELECT r.id FROM residents r WHERE {RESIDENT_IN_SUBTREE}",
}


class Problem(NamedTuple):
    entity: str | None
    id: int | None
    detail: str

    def __str__(self) -> str:
        return self.detail if self.id is None else f"#{self.id} {self.detail}"


@dataclass
class CheckResult:
    key: str
    label: str
    severity: str = ERROR
    problems: list[Problem] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.problems)

    @property
    def ok(self) -> bool:
        """Passes `shequ check`: no problem, or only a warning."""
        return self.count == 0 or self.severity == WARNING

    @property
    def examples(self) -> list[str]:
        return [str(p) for p in self.problems[:EXAMPLES]]

    def as_json(self) -> dict:
        return {"check": self.key, "label": self.label, "severity": self.severity,
                "count": self.count,
                "records": [{"entity": p.entity, "id": p.id, "detail": p.detail}
                            for p in self.problems]}


def _storage_checks(conn: sqlite3.Connection) -> list[CheckResult]:

    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    bad = [] if integrity == ["ok"] else integrity
    fk = conn.execute("PRAGMA foreign_key_check").fetchall()
    return [
        CheckResult("integrity", "SQLite 完整性检查", ERROR,
                    [Problem(None, None, text) for text in bad]),
        CheckResult("foreign_keys", "外键引用", ERROR,
                    [Problem(r[0], r[1], f"{r[0]} 行 {r[1]} → {r[2]}") for r in fk]),
        CheckResult("audit_chain", "审计日志链条断裂（记录被改动或删除）", ERROR,
                    [Problem("audit_log", id_, why) for id_, why in audit.broken_links(conn)]),
    ]


def _visit_checks(conn: sqlite3.Connection, today: dt.date,
                  access: Access | None = None) -> list[CheckResult]:

    rows = visits.due(conn, today, include_not_due=True, access=access)
    never = [Problem("residents", r["resident_id"], f"{r['name']}（{'、'.join(r['tags'])}）")
             for r in rows if r["never_visited"]]
    # 走访逾期 as the 首页 counts it (visits.due_counts): due before today, whether visited
    # before or never (then due from the day the focus group began).
    late = [Problem("residents", r["resident_id"],
                    f"{r['name']}：逾期 {r['days_overdue']} 天，" + (
                        f"上次走访 {r['last_visit']}" if r["last_visit"] else "从未走访"))
            for r in rows if visits.is_overdue(r)]
    (k1, l1, s1), (k2, l2, s2) = VISIT_CHECKS
    return [CheckResult(k1, l1, s1, sorted(never, key=lambda p: p.id)),
            CheckResult(k2, l2, s2, sorted(late, key=lambda p: p.id))]


def _id_problem(number: str | None) -> str | None:
    """Why an ID number is refused, by the same rule as the form (shequ_desktop.core.idnumber)."""

    try:
        idnumber.parse(number)
    except (ValueError, TypeError) as exc:
        return str(exc)
    return None


def _scoped(conn: sqlite3.Connection, access: Access,
            results: list[CheckResult]) -> list[CheckResult]:
    """The results with only the problems of records in a 网格员's units (a check whose
    records cannot be put down to a unit is left out)."""
    head, param = scope(access, None)
    ids: dict[str, set] = {}
    out = []
    for result in results:
        if result.key in ADMIN_ONLY_CHECKS:
            continue
        entity = result.problems[0].entity if result.problems else None
        if entity is not None and entity not in ids:
            ids[entity] = {r[0] for r in conn.execute(head + _IN_SCOPE_SQL[entity], (param,))}
        mine = [p for p in result.problems if p.id in ids.get(p.entity, ())]
        out.append(CheckResult(result.key, result.label, result.severity, mine))
    return out


def run_checks(conn: sqlite3.Connection, today: dt.date | None = None,
               progress: Progress = None, access: Access | None = None) -> list[CheckResult]:
    """Every check, in order; `progress(done, total)` may cancel (Cancelled). With a
    网格员's `access`: only their units' problems, without ADMIN_ONLY_CHECKS."""
    today = today or dt.date.today()
    restricted = access is not None and access.restricted
    total = 1 + len(CHECKS) + 1
    report(progress, 0, total)
    results = [] if restricted else _storage_checks(conn)
    report(progress, 1, total)
    conn.create_function("id_problem", 1, _id_problem, deterministic=True)
    conn.create_function("field_label", 2, field_label, deterministic=True)
    conn.create_function("entity_label", 1, lambda e: ENTITY_LABELS.get(e, e),
                         deterministic=True)
    cur = conn.cursor()
    cur.row_factory = None
    for i, check in enumerate(CHECKS):
        rows = cur.execute(check.sql, {"today": today.isoformat()} if ":today" in check.sql
                           else ()).fetchall()
        results.append(CheckResult(check.key, check.label, check.severity,
                                   [Problem(check.entity, r[0], r[1] or "") for r in rows]))
        report(progress, 2 + i, total)
    if restricted:
        results = _scoped(conn, access, results)
    results += _visit_checks(conn, today, access)
    report(progress, total, total)
    return results


def open_target(conn: sqlite3.Connection, problem: Problem) -> tuple[str, int] | None:
    """What to open to fix a problem: ("resident", id) or ("household", id), or None.

    A house opens its (first active) household; an audit entry or a grid unit has no form.
    """
    if problem.id is None:
        return None
    if problem.entity == "residents":
        return "resident", problem.id
    if problem.entity == "households":
        return "household", problem.id
    if problem.entity == "houses":
        row = conn.execute("SELECT id FROM households WHERE house_id = ? "
                           f"ORDER BY status <> '{ON_RECORD}', id LIMIT 1", (problem.id,)).fetchone()
        return ("household", row[0]) if row else None
    return None
