"""Consistency checks of a database: SQLite's own, then the domain's rules.

Each check is one SQL query returning the offending rows (at most a few are shown).
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field

EXAMPLES = 5

# (key, Chinese description, SQL returning (id, detail) of each offending record)
DOMAIN_CHECKS = (
    ("household_without_head", "在册户没有户主", """
        SELECT h.id, '户号 ' || coalesce(h.household_no, h.id) FROM households h
        WHERE h.status = '在册' AND h.head_resident_id IS NULL"""),
    ("head_not_member", "户主不是本户在册成员", """
        SELECT h.id, '户号 ' || coalesce(h.household_no, h.id) || '，户主 ' || r.name
        FROM households h JOIN residents r ON r.id = h.head_resident_id
        WHERE h.status = '在册' AND (r.household_id <> h.id OR r.status <> '在册')"""),
    ("head_relation", "户主的“与户主关系”不是户主", """
        SELECT r.id, r.name FROM households h JOIN residents r ON r.id = h.head_resident_id
        WHERE h.status = '在册' AND r.status = '在册' AND r.household_id = h.id
          AND r.relation_to_head NOT IN ('01', '02')"""),
    ("two_heads", "一户有多名成员的关系为户主", """
        SELECT h.id, '户号 ' || coalesce(h.household_no, h.id) || '：' || count(*) || ' 人'
        FROM households h JOIN residents r ON r.household_id = h.id
        WHERE h.status = '在册' AND r.status = '在册' AND r.relation_to_head IN ('01', '02')
        GROUP BY h.id HAVING count(*) > 1"""),
    ("active_in_closed_household", "在册人员所在户已注销", """
        SELECT r.id, r.name FROM residents r JOIN households h ON h.id = r.household_id
        WHERE r.status = '在册' AND h.status <> '在册'"""),
    ("empty_active_household", "在册户没有在册成员", """
        SELECT h.id, '户号 ' || coalesce(h.household_no, h.id) FROM households h
        WHERE h.status = '在册'
          AND NOT EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id
                          AND r.status = '在册')"""),
    ("duplicate_id_number", "同一身份证号登记了多名在册人员", """
        SELECT min(id), id_number || '：' || count(*) || ' 人' FROM residents
        WHERE status = '在册' AND id_number IS NOT NULL
        GROUP BY id_number HAVING count(*) > 1"""),
    ("status_dates", "迁出或死亡人员缺少日期", """
        SELECT id, name FROM residents
        WHERE (status = '迁出' AND moved_out_at IS NULL)
           OR (status = '死亡' AND death_date IS NULL)"""),
    ("tag_on_inactive", "已迁出或死亡的人员仍有未结束的重点人群标记", """
        SELECT r.id, r.name FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
        WHERE rt.until IS NULL AND r.status <> '在册'"""),
    ("grid_level_order", "网格层级颠倒（下级的层级不低于上级）", """
        SELECT c.id, c.name FROM grid_units c JOIN grid_units p ON p.id = c.parent_id
        WHERE instr(' street community grid compound building unit ', ' ' || c.level || ' ')
           <= instr(' street community grid compound building unit ', ' ' || p.level || ' ')"""),
)


@dataclass
class CheckResult:
    key: str
    label: str
    count: int
    examples: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.count == 0


def run_checks(conn: sqlite3.Connection) -> list[CheckResult]:
    results = []
    integrity = [r[0] for r in conn.execute("PRAGMA integrity_check")]
    bad = [] if integrity == ["ok"] else integrity
    results.append(CheckResult("integrity", "SQLite 完整性检查", len(bad), bad[:EXAMPLES]))
    fk = [f"{r[0]} 行 {r[1]} → {r[2]}" for r in conn.execute("PRAGMA foreign_key_check")]
    results.append(CheckResult("foreign_keys", "外键引用", len(fk), fk[:EXAMPLES]))
    for key, label, sql in DOMAIN_CHECKS:
        rows = conn.execute(sql).fetchall()
        results.append(CheckResult(key, label, len(rows),
                                   [f"#{r[0]} {r[1]}" for r in rows[:EXAMPLES]]))
    return results
