"""社区体检报告 (issue 21): a compound's check-up beside the year before — a summary of counts
by status for both years, then each area's items with last year's status, this year's, the
change and the notes, then the improvement items with their owner, event and status. Drawn by
the ledger engine (pdf/ledger.py: groups per area, header repeated, page numbers, signature
line), A4 landscape. The print is recorded in the audit log.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.driver import sqlite3

from shequ_desktop import audit
from shequ_desktop.errors import DomainError


def build(conn: sqlite3.Connection, checkup_id: int, out_path, *, access=None,
          font_path: str | None = None, actor: str = "系统",
          today: dt.date | None = None) -> dict:
    from shequ_desktop.checkups import compare, items, statuses
    from shequ_desktop.pdf.ledger import Column, Group, LedgerTable, draw
    from shequ_desktop.pdf.ledgers import font_for

    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    data = compare(conn, checkup_id, access)
    this, last = data["this"], data["last"]
    year, before = this["year"], this["year"] - 1
    lc, tc = data["last_counts"], data["this_counts"]
    groups: list[Group] = [Group("汇总（项数）", [
        ("", status, str(lc[status]) if lc else "—", str(tc[status]),
         (f"{tc[status] - lc[status]:+d}" if lc and tc[status] != lc[status] else
          "=" if lc else ""), "")
        for status in statuses()])]
    for row in data["rows"]:
        if not groups or groups[-1].title != row["area"]:
            groups.append(Group(row["area"], []))
        groups[-1].rows.append((row["item"], row["name"], row["last"] or "—",
                                row["this"] or "未查", row["change"], row["notes"]))
    for g in groups:
        now = [r[3] for r in g.rows]
        g.note = "、".join(f"{s} {now.count(s)}" for s in statuses() if now.count(s))
    findings = [(f"整改{i}", items()[f["item"]][1], "", f["status"] or "", "",
                 f"{f['content']}（负责人：{f['owner'] or '未定'}；事件 {f['event_id']}"
                 + (f"，时限 {f['deadline'][:10]}" if f["deadline"] else "") + "）")
                for i, f in enumerate(this["findings"], 1)]
    if findings:
        groups.append(Group("整改事项", findings))

    info = [("小区/社区", this["unit_name"]), ("体检日期", this["checked_on"]),
            ("体检人", this["inspector"] or ""),
            (f"{before}年体检", last["checked_on"] if last else "无记录")]
    table = LedgerTable(
        title=f"社区体检报告（{year}年，对比{before}年）",
        columns=[Column("编号", 3), Column("体检项目", 12), Column(f"{before}年", 4.5, "center"),
                 Column(f"{year}年", 4.5, "center"), Column("变化", 2.5, "center"),
                 Column("说明", 18)],
        groups=groups, info=info, printed_on=(today or dt.date.today()).isoformat(),
        landscape=True, count_unit="项", numbered=False,
        signatures=("体检人", "社区负责人", "日期"))
    font = font_for(conn, font_path)
    result = draw(table, out_path, font.name)
    audit.record(conn, actor, "print", entity="checkups", entity_id=checkup_id,
                 summary=f"打印社区体检报告：{this['unit_name']} {year}年",
                 detail={"file": out_path.name, "pages": result["pages"]})
    return {**result, "warning": font.warning, "font": font.label}
