"""议事记录 (the record of one meeting) and the yearly list of meetings (issue 21).

The record is A4 portrait on the canvas: title, a block of facts (type, day, place, unit,
host, recorder), the topic, the participants, the discussion, what was decided, the vote, the
follow-up items with their event and its status, the attachments by name, and lines for the
host's and recorder's signatures; long text runs over as many pages as it needs, each with
第 X 页 共 Y 页. Participants' phones and IDs never appear. The yearly list is a ledger table.
Both prints are recorded in the audit log.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.community.meetings import get_meeting, list_meetings, vote_text
from shequ_desktop.core import audit
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.tree import Places
from shequ_desktop.reports.ledger_rows import scope_title
from shequ_desktop.reports.pdf.ledger_print import font_for
from shequ_desktop.reports.pdf.long_table import Column, Group, LedgerTable, draw

TITLE = "议事记录"
MARGIN_MM = 20


def _wrap(canvas, text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` that fit `width`; a run of digits and Latin letters (a date, a phone,
    a number) is not broken."""
    import re

    lines: list[str] = []
    for paragraph in (text or "").splitlines() or [""]:
        line = ""
        for token in re.findall(r"[A-Za-z0-9.:/-]+|.", paragraph):
            if line and canvas.stringWidth(line + token, font, size) > width:
                lines.append(line)
                line = token.lstrip() if token.strip() else ""
            else:
                line += token
        lines.append(line)
    return lines


def build_record(conn: sqlite3.Connection, meeting_id: int, out_path, *, access=None,
                 font_path: str | None = None, actor: str = "系统",
                 today: dt.date | None = None) -> dict:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as pdf


    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    m = get_meeting(conn, meeting_id, access)
    font = font_for(conn, font_path)
    f = font.name
    width, height = A4
    left, right = MARGIN_MM * mm, width - MARGIN_MM * mm
    text_width = right - left
    size, leading = 11, 11 * 1.7
    c = pdf.Canvas(str(out_path), pagesize=A4)
    c.setTitle(f"{TITLE} — {m['topic']}")
    c.setCreator("社区网格工作台")

    # Everything below the title as (kind, text) lines, laid out first to count pages.
    blocks: list[tuple[str, str]] = []

    def section(title: str, body: str) -> None:
        blocks.append(("head", title))
        for line in _wrap(c, body or "（无）", f, size, text_width - 6 * mm):
            blocks.append(("body", line))

    people = "、".join(f"{p['name']}（{p['role']}）" if p["role"] != "居民" else p["name"]
                      for p in m["participants"])
    section(f"参会人员（{len(m['participants'])} 人）", people)
    section("讨论情况", m["discussion"])
    section("议定事项", m["decisions"])
    section("表决情况", vote_text(m) or "未表决")
    items = [f"{i}. {it['content']}" + (f"（负责人：{it['owner']}）" if it["owner"] else "")
             + (f" —— 事件 {it['event_id']}：{it['status'] or ''}"
                + (f"，时限 {it['deadline'][:10]}" if it["deadline"] else "")
                if it["event_id"] else "")
             for i, it in enumerate(m["items"], 1)]
    section("跟进事项", "\n".join(items))
    if m["attachments"]:
        section("附件", "、".join(a["name"] for a in m["attachments"]))
    if m["notes"]:
        section("备注", m["notes"])

    top = height - MARGIN_MM * mm
    bottom = MARGIN_MM * mm + 12 * mm
    facts_h = 44 * mm
    signature_h = 20 * mm
    pages_items: list[list[tuple[str, str]]] = [[]]
    room = top - 16 * mm - facts_h - bottom
    for kind, line in blocks:
        need = leading * (1.3 if kind == "head" else 1)
        if need > room:
            pages_items.append([])
            room = top - 8 * mm - bottom
        pages_items[-1].append((kind, line))
        room -= need
    if room < signature_h:
        pages_items.append([])
    pages = len(pages_items)

    for page_no, lines in enumerate(pages_items, 1):
        y = top
        if page_no == 1:
            c.setFont(f, 20)
            c.drawCentredString(width / 2, y - 8 * mm, TITLE)
            y -= 16 * mm
            c.setFont(f, size)
            facts = [("会议类型", m["kind"]), ("会议日期", m["held_on"]),
                     ("地点", m["place"] or ""), ("所属", m["unit_name"]),
                     ("主持人", m["host"] or ""), ("记录人", m["recorder"] or "")]
            c.setLineWidth(0.6)
            c.rect(left, y - facts_h + 4 * mm, text_width, facts_h - 4 * mm)
            for i, (label, value) in enumerate(facts):
                col, row = i % 2, i // 2
                x = left + 4 * mm + col * text_width / 2
                c.drawString(x, y - 5 * mm - (row + 1) * 7 * mm, f"{label}：{value}")
            topic = _wrap(c, f"议题：{m['topic']}", f, size + 1, text_width - 8 * mm)[0]
            c.setFont(f, size + 1)
            c.drawString(left + 4 * mm, y - facts_h + 8 * mm, topic)
            y -= facts_h + 2 * mm
        else:
            c.setFont(f, 9)
            c.drawString(left, y, f"{TITLE}（续）  {m['held_on']} {m['topic'][:30]}")
            y -= 8 * mm
        for kind, line in lines:
            if kind == "head":
                y -= leading * 0.3
                c.setFont(f, size + 1)
                c.drawString(left, y, f"■ {line}")
            else:
                c.setFont(f, size)
                c.drawString(left + 6 * mm, y, line)
            y -= leading
        if page_no == pages:
            y -= 8 * mm
            c.setFont(f, size)
            c.drawString(left, y, "主持人（签字）：________________")
            c.drawString(left + text_width / 2, y, "记录人（签字）：________________")
        c.setFont(f, 9)
        c.drawString(left, MARGIN_MM * mm, f"打印日期：{(today or dt.date.today()).isoformat()}")
        c.drawRightString(right, MARGIN_MM * mm, f"第 {page_no} 页 共 {pages} 页")
        c.showPage()
    c.save()
    audit.record(conn, actor, "print", entity="meetings", entity_id=meeting_id,
                 summary=f"打印议事记录：{m['held_on']} {m['topic']}",
                 detail={"file": out_path.name, "pages": pages})
    return {"pages": pages, "warning": font.warning, "font": font.label}


def build_year(conn: sqlite3.Connection, year: int, out_path, *, unit_id: int | None = None,
               access=None, font_path: str | None = None, actor: str = "系统",
               today: dt.date | None = None) -> dict:
    """The year's meetings as a ledger: day, type, unit, topic, participants, decisions,
    vote, follow-up items (open ones)."""

    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    places = Places(conn)
    unit_id, info = scope_title(conn, places, unit_id, access)
    rows = list(reversed(list_meetings(conn, access=access, unit_id=unit_id, year=year)))
    cells = [(m["held_on"], m["kind"], m["unit_name"], m["topic"], str(m["participants"]),
              m["decisions"] or "", vote_text(m),
              f"{m['items']}" + (f"（未办结 {m['open_items']}）" if m["open_items"] else ""))
             for m in rows]
    table = LedgerTable(
        title="议事协商台账",
        columns=[Column("会议日期", 6), Column("类型", 5), Column("所属", 5), Column("议题", 12),
                 Column("人数", 2.5, "right"), Column("议定事项", 16), Column("表决", 8),
                 Column("跟进事项", 5)],
        groups=[Group(None, cells)], info=[*info, ("年度", f"{year}年")],
        printed_on=(today or dt.date.today()).isoformat(), landscape=True, count_unit="次")
    font = font_for(conn, font_path)
    result = draw(table, out_path, font.name)
    audit.record(conn, actor, "print", entity="meetings",
                 summary=f"打印议事协商台账（{year}年，{len(rows)} 次）",
                 detail={"file": out_path.name, "year": year, "unit": unit_id,
                         "pages": result["pages"]})
    return {**result, "warning": font.warning, "font": font.label}
