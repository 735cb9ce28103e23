"""The volunteer service certificate (志愿服务证明), after the Ministry of Civil Affairs rules
on volunteer service records and certificates (志愿服务记录与证明出具办法): who (name, gender,
masked ID number), which organisation, the period, total hours and number of activities, the
activities with their dates and hours, the issuing organisation, the date, and a place for
the stamp.

A4 portrait, drawn on the ReportLab canvas. The activity table runs over as many pages as it
needs with its header repeated; the statement of totals is on the first page and the issuer,
date and stamp after the last row. Every page carries 第 X 页 共 Y 页. Printing is recorded in
the audit log.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.core import audit, codes
from shequ_desktop.core.masking import mask_id
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.reports.pdf.fonts import get_font
from shequ_desktop.volunteers import (
    activities as volunteer_activities,
)
from shequ_desktop.volunteers import (
    points as volunteer_points,
)
from shequ_desktop.volunteers import (
    roster as volunteers,
)

TITLE = "志愿服务证明"
# (header, width in mm, alignment)
COLUMNS = (("序号", 12, "c"), ("日期", 25, "c"), ("活动名称", 83, "l"), ("服务类别", 25, "c"),
           ("时长（小时）", 25, "r"))
ROW_MM = 7.5
MARGIN_MM = 20


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Lines of `text` no wider than `width` points, broken between any two characters
    (Chinese has no spaces to break at)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines, line = [], ""
    for ch in text:
        if ch == "\n":
            lines.append(line)
            line = ""
            continue
        if stringWidth(line + ch, font, size) > width and line:
            lines.append(line)
            line = ""
        line += ch
    lines.append(line)
    return lines


def _fit(text: str, font: str, size: float, width: float) -> str:
    """`text`, cut with … to fit `width` points."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "…", font, size) > width:
        text = text[:-1]
    return text + "…"


def _hours(value: float) -> str:
    """Hours as entered (up to 2 decimals), so that the rows add up to the total shown."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def build(conn: sqlite3.Connection, volunteer_id: int, out_path, *, date_from=None,
          date_to=None, issued_on: dt.date | None = None, font_path: str | None = None,
          actor: str = "系统", progress: Progress = None) -> dict:
    """Write the certificate of one volunteer for the period (all their service when no
    dates) to `out_path`. Returns pages, hours, activities, organisation, period, warning
    (non-empty when no CJK font could be embedded) and font, font_label (the font used)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.pdfgen import canvas


    person = volunteers.get(conn, volunteer_id)
    start, end = volunteer_points.period_bounds(date_from, date_to)
    rows = volunteer_activities.service_history(conn, volunteer_id, date_from, date_to)
    total = round(sum(r["hours"] for r in rows), 2)
    issued = issued_on or dt.date.today()
    org = volunteers.organisation(conn, person) or "（出具单位）"
    font = get_font(font_path)
    f = font.name

    width, height = A4
    left, right = MARGIN_MM * mm, width - MARGIN_MM * mm
    text_width = right - left
    gender = codes.table("gender").label(person["gender"]) if person["gender"] else "未填"
    if date_from or date_to:
        first = start if date_from else (rows[0]["starts_at"][:10] if rows else person["joined_on"])
        last = end if date_to else issued.isoformat()
        period = f"{first} 至 {last}"
    else:
        period = f"{person['joined_on']} 至 {issued.isoformat()}"
    team = f"，所在服务队：{person['team']}" if person["team"] else ""
    statement = (f"兹证明 {person['name']}（性别：{gender}，身份证号："
                 f"{mask_id(person['id_number']) or '未登记'}）于 {person['joined_on']} "
                 f"登记为{org}志愿者{team}。"
                 f"{period} 期间，该志愿者参加志愿服务活动 {len(rows)} 次，"
                 f"累计志愿服务时长 {_hours(total)} 小时。服务记录如下：")
    body_size, table_size = 12, 10
    statement_lines = _wrap(statement, f, body_size, text_width)

    # Pagination: page 1 has the title and statement above the table; the closing block
    # (特此证明, issuer, date, stamp) needs CLOSING points below the last row.
    row_h = ROW_MM * mm
    top = height - MARGIN_MM * mm
    bottom = MARGIN_MM * mm + 10 * mm                 # above the page footer
    first_table_top = top - 22 * mm - len(statement_lines) * body_size * 1.8 - 4 * mm
    closing = 62 * mm
    per_first = max(0, int((first_table_top - bottom) // row_h) - 1)   # minus the header row
    per_next = int((top - bottom) // row_h) - 1
    chunks: list[list[dict]] = [rows[:per_first]]
    rest = rows[per_first:]
    while rest:
        chunks.append(rest[:per_next])
        rest = rest[per_next:]
    last_top = first_table_top if len(chunks) == 1 else top
    if last_top - (len(chunks[-1]) + 1) * row_h - closing < bottom:
        chunks.append(None)                          # the closing block on a page of its own
    pages = len(chunks)

    c = canvas.Canvas(str(out_path), pagesize=A4)
    c.setTitle(f"{TITLE} — {person['name']}")
    c.setAuthor(org)
    c.setCreator("社区网格工作台")
    number = 0
    for page_no, chunk in enumerate(chunks, 1):
        y = top
        if page_no == 1:
            c.setFont(f, 22)
            c.drawCentredString(width / 2, y - 10 * mm, TITLE)
            y -= 22 * mm
            c.setFont(f, body_size)
            for line in statement_lines:
                c.drawString(left, y, line)
                y -= body_size * 1.8
            y -= 4 * mm
        elif chunk is not None:
            c.setFont(f, 9)
            c.drawString(left, y + 2 * mm, f"{TITLE}（续）  {person['name']}")
        if chunk is not None:
            y = _table(c, f, table_size, left, y, row_h, chunk, number)
            number += len(chunk)
        if page_no == pages:
            _closing(c, f, body_size, left, right, y if chunk is not None else top, org, issued)
        c.setFont(f, 9)
        c.drawCentredString(width / 2, MARGIN_MM * mm, f"第 {page_no} 页 共 {pages} 页")
        c.showPage()
        report(progress, page_no, pages)
    c.save()
    audit.record(conn, actor, "print", entity="volunteers", entity_id=volunteer_id,
                 summary=f"打印志愿服务证明：{person['name']}，{period}，{_hours(total)} 小时",
                 detail={"file": Path(out_path).name, "from": start if date_from else None,
                         "to": end if date_to else None, "hours": total,
                         "activities": len(rows), "pages": pages})
    return {"pages": pages, "hours": total, "activities": len(rows), "organisation": org,
            "period": period, "warning": font.warning, "font": font.path,
            "font_label": font.label}


def _table(c, f: str, size: float, left: float, y: float, row_h: float, chunk: list[dict],
           start_number: int) -> float:
    """Header plus rows from `y` down; returns the y below the last row."""
    from reportlab.lib.units import mm

    widths = [w * mm for _h, w, _a in COLUMNS]
    xs = [left]
    for w in widths:
        xs.append(xs[-1] + w)
    c.setLineWidth(0.6)

    def cells(values: list[str], y_top: float, bold: bool) -> None:
        if bold:
            c.setFillGray(0.92)
            c.rect(xs[0], y_top - row_h, xs[-1] - xs[0], row_h, stroke=0, fill=1)
            c.setFillGray(0)
        c.setFont(f, size)
        base = y_top - row_h / 2 - size * 0.35
        for (header, _w, align), x0, x1, text in zip(COLUMNS, xs, xs[1:], values):
            text = _fit(text, f, size, x1 - x0 - 3 * mm)
            if align == "c" or bold:
                c.drawCentredString((x0 + x1) / 2, base, text)
            elif align == "r":
                c.drawRightString(x1 - 2 * mm, base, text)
            else:
                c.drawString(x0 + 1.5 * mm, base, text)

    cells([h for h, _w, _a in COLUMNS], y, True)
    for i, row in enumerate(chunk):
        cells([str(start_number + i + 1), row["starts_at"][:10], row["title"], row["category"],
               _hours(row["hours"])], y - (i + 1) * row_h, False)
    bottom = y - (len(chunk) + 1) * row_h
    for x in xs:
        c.line(x, y, x, bottom)
    for i in range(len(chunk) + 2):
        c.line(xs[0], y - i * row_h, xs[-1], y - i * row_h)
    return bottom


def _closing(c, f: str, size: float, left: float, right: float, y: float, org: str,
             issued: dt.date) -> None:
    """特此证明, the issuer and date on the right, and a dashed circle where the stamp goes."""
    from reportlab.lib.units import mm

    c.setFont(f, size)
    y -= 10 * mm
    c.drawString(left + 2 * size, y, "特此证明。")
    cx, cy, r = right - 30 * mm, y - 24 * mm, 20 * mm       # the stamp covers issuer and date
    c.setDash(3, 2)
    c.setStrokeGray(0.6)
    c.circle(cx, cy, r)
    c.setDash()
    c.setStrokeGray(0)
    c.drawRightString(right, y - 18 * mm, f"出具单位（盖章）：{org}")
    c.drawRightString(right, y - 28 * mm, f"出具日期：{issued.year} 年 {issued.month} 月 "
                                           f"{issued.day} 日")
    c.setFont(f, 9)
    c.drawString(left, y - 46 * mm, "本证明依据志愿服务记录出具，身份证号已作部分隐藏。")
