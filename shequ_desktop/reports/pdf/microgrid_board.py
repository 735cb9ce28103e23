"""网格员/微网格员公示牌 and a grid's contact list (issue 21), A4 portrait.

The board is what a community posts in the lobby: the grid, its 网格员 and a contact phone, and
each micro-grid with its head, their role and phone. The phones on it are the heads' public
contact numbers (they agreed to be posted), printed in full; the print is recorded in the audit
log. The contact list is the same data as a ledger table (the ledger engine draws it).
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.community.microgrids import contacts
from shequ_desktop.core import audit
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.ledger_print import font_for
from shequ_desktop.reports.pdf.long_table import Column, Group, LedgerTable, draw

TITLE = "网格员·微网格员公示牌"
# (header, width in mm, alignment)
COLUMNS = (("微网格", 40, "l"), ("范围", 34, "l"), ("微网格员", 24, "c"), ("身份", 24, "c"),
           ("联系电话", 32, "c"), ("户数", 16, "c"))
ROW_MM = 10
MARGIN_MM = 18


def _fit(canvas, text: str, font: str, size: float, width: float) -> str:
    if canvas.stringWidth(text, font, size) <= width:
        return text
    while text and canvas.stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def build_board(conn: sqlite3.Connection, grid_id: int, out_path, *, phone: str | None = None,
                font_path: str | None = None, actor: str = "系统",
                today: dt.date | None = None) -> dict:
    """Write the board of one grid. `phone`: the grid's contact number shown beside its
    网格员 (not stored). Returns pages, rows, warning, font."""
    from reportlab.lib.colors import Color, white
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas as pdf


    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    info = contacts(conn, grid_id)
    font = font_for(conn, font_path)
    f = font.name
    today = today or dt.date.today()
    width, height = A4
    left, right = MARGIN_MM * mm, width - MARGIN_MM * mm
    red = Color(0.70, 0.10, 0.10)
    rows = info["microgrids"]
    row_h = ROW_MM * mm
    first_top = height - MARGIN_MM * mm - 62 * mm
    per_first = max(1, int((first_top - 30 * mm) // row_h) - 1)
    per_next = max(1, int((height - 2 * MARGIN_MM * mm - 30 * mm) // row_h) - 1)
    chunks = [rows[:per_first]]
    rest = rows[per_first:]
    while rest:
        chunks.append(rest[:per_next])
        rest = rest[per_next:]
    pages = len(chunks)
    scale = (right - left) / (sum(w for _h, w, _a in COLUMNS) * mm)

    c = pdf.Canvas(str(out_path), pagesize=A4)
    c.setTitle(f"{info['community']}{info['grid']} {TITLE}")
    c.setCreator("社区网格工作台")
    for page_no, chunk in enumerate(chunks, 1):
        top = height - MARGIN_MM * mm
        if page_no == 1:
            c.setFillColor(red)
            c.rect(left, top - 24 * mm, right - left, 24 * mm, stroke=0, fill=1)
            c.setFillColor(white)
            c.setFont(f, 24)
            c.drawCentredString(width / 2, top - 12 * mm, TITLE)
            c.setFont(f, 13)
            c.drawCentredString(width / 2, top - 20 * mm, f"{info['community']} {info['grid']}")
            c.setFillColorRGB(0, 0, 0)
            c.setStrokeColor(red)
            c.setLineWidth(1.2)
            c.rect(left, top - 56 * mm, right - left, 28 * mm, stroke=1, fill=0)
            c.setFont(f, 14)
            workers = "、".join(info["workers"]) or "（未指定）"
            c.drawString(left + 6 * mm, top - 38 * mm, f"网格员：{workers}")
            c.drawString(left + 6 * mm, top - 48 * mm, f"联系电话：{phone or '（请填写）'}")
            c.setFont(f, 10)
            c.drawRightString(right - 6 * mm, top - 48 * mm,
                              f"微网格 {len(rows)} 个 · 共 {sum(r['households'] for r in rows)} 户")
            y = first_top
        else:
            c.setFont(f, 10)
            c.drawString(left, top, f"{TITLE}（续） {info['community']} {info['grid']}")
            y = top - 6 * mm
        # the table
        c.setStrokeColorRGB(0.3, 0.3, 0.3)
        c.setLineWidth(0.6)
        x = left
        c.setFillColor(Color(0.93, 0.88, 0.88))
        c.rect(left, y - row_h, right - left, row_h, stroke=0, fill=1)
        c.setFillColorRGB(0, 0, 0)
        c.setFont(f, 11)
        for header, w, _a in COLUMNS:
            w = w * mm * scale
            c.drawCentredString(x + w / 2, y - row_h + 3.5 * mm, header)
            x += w
        y -= row_h
        c.setFont(f, 11)
        for m in chunk:
            cells = (m["name"], m["scope"], m["head_name"] or "", m["head_role"] or "",
                     m["head_phone"] or "", str(m["households"]))
            x = left
            for (header, w, align), text in zip(COLUMNS, cells):
                w = w * mm * scale
                text = _fit(c, text, f, 11, w - 3 * mm)
                if align == "c":
                    c.drawCentredString(x + w / 2, y - row_h + 3.5 * mm, text)
                else:
                    c.drawString(x + 1.5 * mm, y - row_h + 3.5 * mm, text)
                x += w
            c.line(left, y - row_h, right, y - row_h)
            y -= row_h
        table_top = first_top if page_no == 1 else top - 6 * mm
        c.rect(left, y, right - left, table_top - y, stroke=1, fill=0)
        x = left
        for _h, w, _a in COLUMNS[:-1]:
            x += w * mm * scale
            c.line(x, y, x, table_top)
        if not chunk:
            c.setFont(f, 11)
            c.drawCentredString(width / 2, y - 8 * mm, "本网格还没有划分微网格")
        c.setFont(f, 10)
        c.setFillColor(red)
        c.drawCentredString(width / 2, MARGIN_MM * mm + 8 * mm,
                            "有事找网格 · 服务零距离")
        c.setFillColorRGB(0, 0, 0)
        c.setFont(f, 9)
        c.drawString(left, MARGIN_MM * mm, f"公示日期：{today.isoformat()}")
        c.drawRightString(right, MARGIN_MM * mm, f"第 {page_no} 页 共 {pages} 页")
        c.showPage()
    c.save()
    audit.record(conn, actor, "print", entity="microgrids",
                 summary=f"打印{TITLE}：{info['community']}{info['grid']}，微网格 {len(rows)} 个",
                 detail={"file": out_path.name, "grid_id": grid_id, "pages": pages})
    return {"pages": pages, "rows": len(rows), "warning": font.warning, "font": font.label}


def build_contacts(conn: sqlite3.Connection, grid_id: int, out_path, *,
                   font_path: str | None = None, actor: str = "系统",
                   today: dt.date | None = None) -> dict:
    """The grid's contact list as a ledger table: micro-grids, heads, phones and counts."""

    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    info = contacts(conn, grid_id)
    rows = [(m["name"], m["scope"], m["head_name"] or "", m["head_role"] or "",
             m["head_phone"] or "", str(m["households"]), str(m["residents"]), str(m["focus"]))
            for m in info["microgrids"]]
    table = LedgerTable(
        title="微网格联系表",
        columns=[Column("微网格", 6), Column("范围", 10), Column("微网格员", 4.5),
                 Column("身份", 4.5, "center"), Column("联系电话", 7, min_chars=11),
                 Column("户数", 2.5, "right"), Column("人数", 2.5, "right"),
                 Column("重点人员", 3, "right")],
        groups=[Group(None, rows)],
        info=[("社区", info["community"]), ("网格", info["grid"]),
              ("网格员", "、".join(info["workers"]) or "未指定")],
        printed_on=(today or dt.date.today()).isoformat(), landscape=False, count_unit="个")
    font = font_for(conn, font_path)
    result = draw(table, out_path, font.name)
    audit.record(conn, actor, "print", entity="microgrids",
                 summary=f"打印微网格联系表：{info['community']}{info['grid']}，{len(rows)} 个",
                 detail={"file": out_path.name, "grid_id": grid_id, "pages": result["pages"]})
    return {**result, "warning": font.warning, "font": font.label}
