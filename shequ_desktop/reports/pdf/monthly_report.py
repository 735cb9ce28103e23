"""The monthly report (月度工作报表) as a PDF: the figures of shequ_desktop.reports.stats for a month
and a unit, each beside last month's, and three charts drawn with reportlab.graphics (age
pyramid, focus groups by tag, visits done by grid).

The page furniture follows the ledgers (shequ_desktop/reports/pdf/long_table.py): title block with the
unit and period, `第 X 页 共 Y 页` at the foot, the signature line on the last page. The
report is laid out as blocks (a table or a chart) placed down the pages first, so the page
count is known before anything is drawn.
"""
from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from db.driver import sqlite3
from shequ_desktop.core import audit, tree
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.reports import stats
from shequ_desktop.reports.pdf.fonts import get_font
from shequ_desktop.reports.pdf.long_table import (
    FOOTER_SIZE,
    INFO_SIZE,
    MARGIN,
    TITLE_SIZE,
)

A4 = (595.2756, 841.8898)
TITLE = "月度工作报表"
ROW_H = 16.0
HEADING_H = 24.0
FONT = 9.5
SIGNATURES = ("填报人", "审核人", "日期")
MAX_GRIDS = 40                       # more grids than this: the chart is by community
INK, MEN, WOMEN, BAR = "#333333", "#4a78b0", "#c8607a", "#5b8f5a"


@dataclass
class Block:
    height: float
    draw: Callable                 # draw(canvas, font, x, top_y, width)


def _delta(now, before) -> str:
    diff = (now or 0) - (before or 0)
    if isinstance(diff, float):
        diff = round(diff, 1)
        if diff == int(diff):
            diff = int(diff)
    return "—" if diff == 0 else f"{diff:+,}" if isinstance(diff, int) else f"{diff:+}"


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}".rstrip("0").rstrip(".")
    return f"{value:,}"


def table_rows(this: dict, last: dict) -> list[tuple[str, list[tuple[str, object, object]]]]:
    """The report's tables: [(section title, [(item, this month, last month)])]."""
    p, q = this["population"], last["population"]
    c, d = this["changes"], last["changes"]
    v, w = this["visits"], last["visits"]
    e, f = this["events"], last["events"]
    o, u = this["volunteers"], last["volunteers"]
    focus_last = {tag_id: n for tag_id, _name, n in last["focus"]["groups"]}
    return [
        ("一、户籍与人口（月末）", [
            ("户数", p["households"], q["households"]),
            ("人口", p["residents"], q["residents"]),
            ("其中：户籍人口", p["registered"], q["registered"]),
            ("　　　流动人口", p["floating"], q["floating"]),
            ("　　　境外人员", p["overseas"], q["overseas"]),
            ("人户分离", p["separated"], q["separated"]),
            ("本月迁入", c["moved_in"], d["moved_in"]),
            ("本月迁出", c["moved_out"], d["moved_out"]),
            ("本月出生", c["born"], d["born"]),
            ("本月死亡", c["died"], d["died"]),
        ]),
        ("二、重点人群（月末）", [
            *[(name, n, focus_last.get(tag_id, 0))
              for tag_id, name, n in this["focus"]["groups"]],
            ("重点人员合计（去重）", this["focus"]["members"], last["focus"]["members"]),
        ]),
        ("三、走访", [
            ("应访人数", v["due"], w["due"]),
            ("已访人数", v["done"], w["done"]),
            ("走访人次", v["visits"], w["visits"]),
            ("月末逾期未访", v["overdue"], w["overdue"]),
        ]),
        ("四、事件", [
            ("新发现", e["opened"], f["opened"]),
            ("办结", e["closed"], f["closed"]),
            ("其中按期办结", e["closed_on_time"], f["closed_on_time"]),
            ("逾期未办结（月末）", e["overdue"], f["overdue"]),
        ]),
        ("五、志愿服务", [
            ("服务时长（小时）", o["hours"], u["hours"]),
            ("参与服务的志愿者（人）", o["active_volunteers"], u["active_volunteers"]),
            ("开展活动（次）", o["activities"], u["activities"]),
        ]),
    ]


# --- drawing helpers -----------------------------------------------------------------------

def _text(canvas, font: str, size: float, x: float, y: float, text: str,
          align: str = "left") -> None:
    """One line of text. No faux bold (a stroked outline smears CJK glyphs at print size):
    headings stand out by size, the CJK TrueType fonts found have no bold face."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    obj = canvas.beginText()
    obj.setFont(font, size)
    width = stringWidth(text, font, size)
    dx = {"left": 0, "right": -width, "center": -width / 2}[align]
    obj.setTextOrigin(x + dx, y)
    obj.textOut(text)
    canvas.drawText(obj)


def _heading(canvas, font: str, x: float, top: float, title: str) -> float:
    _text(canvas, font, 11.5, x, top - 16, title)
    return top - HEADING_H


def _table_block(title: str, rows: list[tuple[str, object, object]]) -> Block:
    height = HEADING_H + ROW_H * (len(rows) + 1) + 6

    def draw(canvas, font, x, top, width):
        y = _heading(canvas, font, x, top, title)
        cols = [x, x + width * 0.46, x + width * 0.64, x + width * 0.82, x + width]
        canvas.setFillGray(0.88)
        canvas.rect(x, y - ROW_H, width, ROW_H, stroke=0, fill=1)
        canvas.setFillGray(0)
        for i, label in enumerate(("项目", "本月", "上月", "增减")):
            _text(canvas, font, FONT, (cols[i] + cols[i + 1]) / 2, y - ROW_H + 4.5, label,
                  "center")
        y -= ROW_H
        for item, now, before in rows:
            _text(canvas, font, FONT, cols[0] + 4, y - ROW_H + 4.5, item)
            for i, value in ((1, _number(now)), (2, _number(before)), (3, _delta(now, before))):
                _text(canvas, font, FONT, cols[i + 1] - 5, y - ROW_H + 4.5, value, "right")
            y -= ROW_H
        canvas.setLineWidth(0.35)
        bottom = y
        top_rule = bottom + ROW_H * (len(rows) + 1)
        path = canvas.beginPath()
        for k in range(len(rows) + 2):
            path.moveTo(x, top_rule - k * ROW_H)
            path.lineTo(x + width, top_rule - k * ROW_H)
        for cx in cols:
            path.moveTo(cx, top_rule)
            path.lineTo(cx, bottom)
        canvas.drawPath(path, stroke=1, fill=0)

    return Block(height, draw)


def _chart_block(title: str, drawing_fn: Callable, height: float, note: str = "") -> Block:
    def draw(canvas, font, x, top, width):
        from reportlab.graphics import renderPDF

        y = _heading(canvas, font, x, top, title)
        if note:
            _text(canvas, font, 8.5, x + width, top - 16, note, "right")
        drawing = drawing_fn(font, width, height - HEADING_H - 4)
        renderPDF.draw(drawing, canvas, x, y - drawing.height)

    return Block(height, draw)


def _bar_chart(font: str, width: float, height: float, labels: list[str],
               series: list[list[float]], colors: list[str], *, names: list[str] = (),
               mirrored: bool = False):
    """Horizontal bars, one category a row, top to bottom in the order given. `mirrored`:
    two series drawn left (first) and right (second) of a middle axis (a pyramid)."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib.colors import HexColor
    from reportlab.pdfbase.pdfmetrics import stringWidth

    d = Drawing(width, height)
    size = 7.5
    label_w = max([stringWidth(t, font, size) for t in labels] + [10]) + 6
    n = max(len(labels), 1)
    legend_h = 14 if names else 0
    row = (height - legend_h - 4) / n
    bar = max(min(row * 0.72, 14), 1.5)
    peak = max([max(s, default=0) for s in series] + [1])
    value_w = stringWidth(f"{peak:,}", font, size) + 6
    if mirrored:
        middle = width / 2 + label_w / 2
        span = min(middle - value_w, width - middle - value_w) - label_w / 2
        for i, label in enumerate(labels):
            y = height - legend_h - (i + 1) * row + (row - bar) / 2
            d.add(String(width / 2 - 2, y + bar / 2 - size / 3, label, fontName=font,
                         fontSize=size, textAnchor="middle", fillColor=HexColor(INK)))
            for side, (values, color) in enumerate(zip(series, colors)):
                length = span * values[i] / peak
                x0 = (width / 2 - label_w / 2 - length) if side == 0 else (width / 2 + label_w / 2)
                d.add(Rect(x0, y, length, bar, fillColor=HexColor(color), strokeColor=None))
                if values[i]:
                    tx = x0 - 2 if side == 0 else x0 + length + 2
                    d.add(String(tx, y + bar / 2 - size / 3, f"{values[i]:,}", fontName=font,
                                 fontSize=size - 0.5, textAnchor="end" if side == 0 else "start",
                                 fillColor=HexColor(INK)))
    else:
        span = width - label_w - value_w
        d.add(Line(label_w, 0, label_w, height - legend_h, strokeColor=HexColor("#999999"),
                   strokeWidth=0.5))
        for i, label in enumerate(labels):
            y = height - legend_h - (i + 1) * row + (row - bar) / 2
            d.add(String(label_w - 4, y + bar / 2 - size / 3, label, fontName=font,
                         fontSize=size, textAnchor="end", fillColor=HexColor(INK)))
            value = series[0][i]
            length = span * value / peak
            d.add(Rect(label_w, y, length, bar, fillColor=HexColor(colors[0]), strokeColor=None))
            d.add(String(label_w + length + 2, y + bar / 2 - size / 3, _number(value),
                         fontName=font, fontSize=size - 0.5, fillColor=HexColor(INK)))
    x = width / 2 - 60
    for name, color in zip(names, colors):
        d.add(Rect(x, height - 10, 9, 7, fillColor=HexColor(color), strokeColor=None))
        d.add(String(x + 12, height - 9.5, name, fontName=font, fontSize=size,
                     fillColor=HexColor(INK)))
        x += 70
    return d


def _charts(figures: dict) -> list[Block]:
    this = figures["this"]
    pyramid = list(reversed(this["population"]["pyramid"]))     # oldest at the top
    labels = [band for band, _m, _f in pyramid]
    men = [m for _b, m, _f in pyramid]
    women = [f for _b, _m, f in pyramid]
    groups = this["focus"]["groups"]
    by_grid = [(name, counts[0]) for _g, name, counts in figures["visits_by_grid"]["grids"]]
    grid_title, note = "图3　本月走访人次（按网格）", ""
    if len(by_grid) > MAX_GRIDS:            # a street's 200 grids: by community instead
        by_grid = [(name, counts[0])
                   for _c, name, counts in figures["visits_by_grid"]["communities"]]
        grid_title = "图3　本月走访人次（按社区）"
        note = f"共 {len(figures['visits_by_grid']['grids'])} 个网格"
    blocks = [
        _chart_block("图1　人口年龄结构（月末，按性别）", lambda font, w, h: _bar_chart(
            font, w, h, labels, [men, women], [MEN, WOMEN], names=["男", "女"],
            mirrored=True), 330),
        _chart_block("图2　重点人群（月末，按类别）", lambda font, w, h: _bar_chart(
            font, w, h, [name for _t, name, _n in groups], [[n for _t, _name, n in groups]],
            [BAR]), 40 + 15 * max(len(groups), 1)),
    ]
    if by_grid:
        blocks.append(_chart_block(grid_title, lambda font, w, h: _bar_chart(
            font, w, h, [name for name, _n in by_grid], [[n for _name, n in by_grid]],
            ["#4a78b0"]), 40 + 14 * len(by_grid), note))
    return blocks


def _paginate(blocks: list[Block], first_top: float, top: float, bottom: float
              ) -> list[list[tuple[Block, float]]]:
    pages: list[list[tuple[Block, float]]] = [[]]
    y = first_top
    for block in blocks:
        if pages[-1] and y - block.height < bottom:
            pages.append([])
            y = top
        pages[-1].append((block, y))
        y -= block.height
    return pages


# --- the report ----------------------------------------------------------------------------

def _unit_name(conn: sqlite3.Connection, unit_id: int | None) -> str:
    if unit_id is None:
        return "全部"
    if conn.execute("SELECT 1 FROM grid_units WHERE id = ?", (unit_id,)).fetchone() is None:
        raise DomainError(f"找不到网格单元（编号 {unit_id}）")
    return " / ".join(tree.path_names(conn, unit_id))


def _report_unit(conn: sqlite3.Connection, unit_id: int | None, access) -> int | None:
    """The unit the report covers: the chosen one (checked against `access`), or a 网格员's
    only unit when none is chosen (the figures are of one subtree, not added up)."""
    if access is None or not access.restricted:
        return unit_id
    if unit_id is None:
        roots = access.roots(conn)
        if len(roots) != 1:
            raise DomainError("您负责多个网格，请在“范围”中选择其中一个再生成月度报表")
        return roots[0]
    access.check_read_unit(unit_id)
    return unit_id


def build(conn: sqlite3.Connection, month: str, unit_id: int | None, out_path, *,
          font_path: str | None = None, progress: Progress = None,
          actor: str = "系统", today: dt.date | None = None, access=None) -> dict:
    """Write the monthly report of `month` ('YYYY-MM') for the unit's subtree (None: all; a
    网格员's `access`: their one unit, a unit outside theirs is NotPermitted) to
    `out_path`. Returns the figures ({"this", "last", "visits_by_grid"}) plus pages, font
    and warning (when the font is not embedded). The printing is recorded in the audit log.
    `progress(done, total)` may cancel (Cancelled); a cancelled run leaves no file.
    """
    from reportlab.pdfgen.canvas import Canvas


    total = 4
    report(progress, 0, total)
    unit_id = _report_unit(conn, unit_id, access)
    unit = _unit_name(conn, unit_id)
    figures = stats.monthly_report(conn, month, unit_id, today)
    report(progress, 2, total)
    font = get_font(font_path)
    blocks = [_table_block(title, rows)
              for title, rows in table_rows(figures["this"], figures["last"])]
    blocks += _charts(figures)
    page_w, page_h = A4
    top = page_h - MARGIN
    width = page_w - 2 * MARGIN
    bottom = MARGIN + 18
    pages = _paginate(blocks, top - 52, top, bottom)
    if pages and pages[-1]:           # room for the signature line on the last page
        block, y = pages[-1][-1]
        if y - block.height - 40 < bottom:
            pages.append([])
    this = figures["this"]
    year, mon = month.strip().split("-")
    info = [("单位", unit), ("月份", f"{year}年{int(mon)}月"),
            ("统计截至", this["end"]), ("对比", f"上月（{figures['last']['month']}）")]
    printed = (today or dt.date.today()).isoformat()

    out_path = Path(out_path)
    try:
        handle, tmp = tempfile.mkstemp(prefix=".report-", suffix=".pdf", dir=out_path.parent)
        os.close(handle)
    except OSError as exc:
        raise DomainError(f"无法写入“{out_path}”：{exc.strerror or exc}") from None
    try:
        canvas = Canvas(tmp, pagesize=A4, pageCompression=1, initialFontName=font.name)
        canvas.setTitle(f"{TITLE} {month} {unit}")
        canvas.setCreator("社区网格工作台")
        for number, placed in enumerate(pages, 1):
            if number == 1:
                _title_block(canvas, font.name, page_w, top, info, printed)
            y = top
            for block, y in placed:
                block.draw(canvas, font.name, MARGIN, y, width)
                y -= block.height
            if number == len(pages):
                _signatures(canvas, font.name, width, (y if placed else top) - 30)
            _text(canvas, font.name, FOOTER_SIZE, page_w / 2, MARGIN,
                  f"第 {number} 页 共 {len(pages)} 页", "center")
            canvas.showPage()
        report(progress, 3, total)
        canvas.save()
        os.replace(tmp, out_path)
    except BaseException as exc:
        if os.path.exists(tmp):
            os.remove(tmp)
        if isinstance(exc, OSError):
            raise DomainError(f"无法写入“{out_path}”：{exc.strerror or exc}") from None
        raise
    audit.record(conn, actor, "print", entity="grid_units", entity_id=unit_id,
                 summary=f"打印{TITLE}：{unit} {month}",
                 detail={"month": month, "unit": unit, "file": str(out_path),
                         "pages": len(pages)})
    report(progress, total, total)
    return {**figures, "pages": len(pages), "font": font.label, "warning": font.warning}


def _title_block(canvas, font: str, page_w: float, top: float, info: list[tuple[str, str]],
                 printed: str) -> None:
    from reportlab.pdfbase.pdfmetrics import stringWidth

    _text(canvas, font, TITLE_SIZE, page_w / 2, top - TITLE_SIZE, TITLE, "center")
    # 打印日期 on the title's line, at the right: the info line below has the whole width,
    # and a long unit name makes its letters smaller rather than run into anything.
    _text(canvas, font, INFO_SIZE, page_w - MARGIN, top - TITLE_SIZE, f"打印日期：{printed}",
          "right")
    line = "　　".join(f"{label}：{value}" for label, value in info)
    size = INFO_SIZE
    while size > 6 and stringWidth(line, font, size) > page_w - 2 * MARGIN:
        size -= 0.5
    _text(canvas, font, size, MARGIN, top - 36, line)


def _signatures(canvas, font: str, width: float, y: float) -> None:
    span = width / len(SIGNATURES)
    for i, label in enumerate(SIGNATURES):
        blank = "______年____月____日" if label == "日期" else "________________"
        _text(canvas, font, 10.5, MARGIN + i * span + 6, y, f"{label}：{blank}")
