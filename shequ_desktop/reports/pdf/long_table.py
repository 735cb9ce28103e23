"""The ledger engine: a long table drawn on ReportLab's canvas page by page (DESIGN.md §8).

Two passes. The layout pass wraps every cell into lines and places the rows on pages, so the
page count (共 Y 页) is known before anything is drawn; the drawing pass writes each page with one
text object and one path of rules. A row never splits across pages: a cell taller than what a
page can hold is cut with "…". Each page carries the title block, the column header and the
footer `第 X 页 共 Y 页`; the last page carries the signature block (填报人 / 审核人 / 日期).
Rows may come in groups: a sub-heading before each group (repeated with "（续）" on the next page
when a group runs over), a count after it, and a total at the end.

A platypus LongTable does the same 2× slower at 10,000 rows and worse than linearly beyond
(bench/run.py `ledger`), because it measures the whole table and splits it again on each page.
"""
from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from shequ_desktop.core.progress import Progress, report

MM = 72 / 25.4
A4 = (595.2756, 841.8898)
MARGIN = 12 * MM
FONT_SIZE = 9.0
LEADING = 11.5
PAD_X = 2.5
PAD_Y = 3.0
TITLE_SIZE = 16.0
INFO_SIZE = 9.0
FOOTER_SIZE = 8.5
SIGNATURE_HEIGHT = 42.0
# Characters that must not begin a line (避头): they stay with the character before them.
NO_LINE_START = set("，。、；：？！）》」』】〕”’…—·%,.;:?!)]}")
# … and characters that must not end one (避尾): they go down with the character after them.
NO_LINE_END = set("（《「『【〔“‘([{")
ELLIPSIS = "…"


@dataclass(frozen=True)
class Column:
    label: str
    width: float               # relative width, in Chinese characters (the registry's `width`)
    align: str = "left"        # "left", "right" or "center"
    min_chars: int = 0         # a number this many characters long fits on one line (IDs,
                               # phones, dates; the registry's `min_chars`)


@dataclass
class Group:
    title: str | None          # the sub-heading; None for rows that are not grouped
    rows: list[Sequence[str]]
    note: str = ""             # added to the group's count line, e.g. 自住 80、出租 30
    section: str | None = None  # the community: consecutive groups of one get a subtotal


@dataclass
class LedgerTable:
    """What a ledger prints: the engine knows nothing about residents or events."""
    title: str                                      # 人口信息台账
    columns: list[Column]
    groups: list[Group]
    info: list[tuple[str, str]] = field(default_factory=list)   # (社区, 阳光社区), (期间, …)
    printed_on: str = ""                            # shown at the right of the title block
    landscape: bool = True
    count_unit: str = "条"                          # 共 N 人 / 户 / 套 / 条 / 件
    numbered: bool = True                           # a 序号 column first
    signatures: tuple[str, ...] = ("填报人", "审核人", "日期")

    @property
    def row_count(self) -> int:
        return sum(len(g.rows) for g in self.groups)


# One item of a laid-out page: (kind, height, payload)
#   "row": payload = list of cells, each a str (one line) or a list of lines
#   "group": payload = heading text;  "count": payload = the count line's text
_ROW, _GROUP, _COUNT = "row", "group", "count"


def _is_word(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch in "-_./@")


class _Metrics:
    """Widths of text in the ledger's font, with a cache per character (wrapping measures
    character by character)."""

    def __init__(self, font_name: str, size: float):
        from reportlab.pdfbase import pdfmetrics

        self.font = pdfmetrics.getFont(font_name)
        self.size = size
        self._chars: dict[str, float] = {}

    def width(self, text: str) -> float:
        return self.font.stringWidth(text, self.size)

    def char(self, ch: str) -> float:
        w = self._chars.get(ch)
        if w is None:
            w = self._chars[ch] = self.font.stringWidth(ch, self.size)
        return w

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of `text` no wider than `width`; breaks anywhere (Chinese has no spaces) but
        keeps closing punctuation off the start of a line, and keeps the text's own breaks."""
        lines: list[str] = []
        for para in text.split("\n"):
            if len(para) * self.size <= width:     # no glyph is wider than 1 em
                lines.append(para)
                continue
            line, used = [], 0.0
            for ch in para:
                w = self.char(ch)
                if used + w > width and line:
                    carry = []
                    if ch in NO_LINE_START and len(line) > 1:
                        carry = [line.pop()]
                    elif _is_word(ch) and _is_word(line[-1]):   # 501 stays in one piece
                        start = len(line)
                        while start > 0 and _is_word(line[start - 1]):
                            start -= 1
                        if start > 0:
                            carry, line = line[start:], line[:start]
                    while len(line) > 1 and line[-1] in NO_LINE_END:
                        carry.insert(0, line.pop())
                    lines.append("".join(line))
                    line = carry
                    used = sum(self.char(c) for c in line)
                line.append(ch)
                used += w
            lines.append("".join(line))
        return lines


class _Layout:
    """Geometry of a page for a table, and the layout pass."""

    def __init__(self, table: LedgerTable, font_name: str):
        self.table = table
        self.font_name = font_name
        self.page_w, self.page_h = (A4[1], A4[0]) if table.landscape else A4
        self.metrics = _Metrics(font_name, FONT_SIZE)
        columns = list(table.columns)
        if table.numbered:
            digits = len(str(max(table.row_count, 1)))
            columns.insert(0, Column("序号", max(2.6, digits * 0.6 + 0.6), "right"))
        self.columns = columns
        inner = self.page_w - 2 * MARGIN
        self.widths = self._widths(columns, inner)
        self.xs = [MARGIN]
        for w in self.widths:
            self.xs.append(self.xs[-1] + w)
        self.header_lines = [self.metrics.wrap(c.label, w - 2 * PAD_X)
                             for c, w in zip(columns, self.widths)]
        self.header_h = max(len(ls) for ls in self.header_lines) * LEADING + 2 * PAD_Y
        self.table_top = self.page_h - MARGIN - 44
        self.body_bottom = MARGIN + 18
        self.body_h = self.table_top - self.header_h - self.body_bottom
        self.line_h = LEADING + 2 * PAD_Y
        # A row may take at most what is left beside a group heading, a count, the total and
        # the signatures: so moving one row to a new page always makes room.
        self.max_row_h = self.body_h - 3 * self.line_h - SIGNATURE_HEIGHT

    def _widths(self, columns: list[Column], inner: float) -> list[float]:
        """Widths in proportion to the columns' weights, except that short labels (性别,
        与户主关系) stay on one line and numbers (min_chars) unbroken: such columns get what
        they need and the others share the rest."""
        digit = max(self.metrics.width(ch) for ch in "0123456789X-")
        need = [max(self.metrics.width(c.label) + 2 * PAD_X + 1 if len(c.label) <= 5 else 0,
                    c.min_chars * digit + 2 * PAD_X + 1 if c.min_chars else 0)
                for c in columns]
        fixed: dict[int, float] = {}
        while True:
            free = [i for i in range(len(columns)) if i not in fixed]
            room = inner - sum(fixed.values())
            weight = sum(columns[i].width for i in free)
            widths = [fixed[i] if i in fixed else room * columns[i].width / weight
                      for i in range(len(columns))]
            short = [i for i in free if widths[i] < need[i]]
            if not short or len(short) == len(free) or room <= 0:
                break
            fixed.update((i, need[i]) for i in short)
        total = sum(widths)
        return [w * inner / total for w in widths]      # more needed than the page: scaled

    def row(self, values: Sequence, number: int | None) -> tuple[float, list]:
        cells: list = []
        tallest = 1
        wrap = self.metrics.wrap
        cell_widths = self.widths
        if number is not None:
            cells.append(str(number))
        for i, value in enumerate(values, len(cells)):
            text = "" if value is None else str(value)
            if "\r" in text:                      # line breaks from Windows or old Macs
                text = text.replace("\r\n", "\n").replace("\r", "\n")
            room = cell_widths[i] - 2 * PAD_X
            if "\n" not in text and len(text) * FONT_SIZE <= room:
                cells.append(text)
                continue
            lines = wrap(text, room)
            if len(lines) == 1:
                cells.append(lines[0])
                continue
            cells.append(lines)
            tallest = max(tallest, len(lines))
        height = tallest * LEADING + 2 * PAD_Y
        if height > self.max_row_h:                 # cut what cannot fit on any page
            keep = max(1, int((self.max_row_h - 2 * PAD_Y) // LEADING))
            for i, cell in enumerate(cells):
                if isinstance(cell, list) and len(cell) > keep:
                    cells[i] = cell[:keep - 1] + [self._ellipsis(cell[keep - 1], i)]
            height = keep * LEADING + 2 * PAD_Y
        return height, cells

    def _ellipsis(self, line: str, column: int) -> str:
        room = self.widths[column] - 2 * PAD_X - self.metrics.char(ELLIPSIS)
        while line and self.metrics.width(line) > room:
            line = line[:-1]
        return line + ELLIPSIS

    def paginate(self, progress: Progress, total: int) -> list[list[tuple]]:
        """Pages of (kind, height, payload) items; reports progress by rows laid out."""
        table = self.table
        pages: list[list[tuple]] = [[]]
        room = self.body_h
        number = 0
        unit = table.count_unit
        line_h = self.line_h

        def new_page() -> None:
            nonlocal room
            pages.append([])
            room = self.body_h

        section_rows = 0
        several = len({g.section for g in table.groups if g.section is not None}) > 1
        for index, group in enumerate(table.groups):
            heading = group.title
            if heading is not None:
                if room < line_h * 2:             # keep the heading with its first row
                    new_page()
                pages[-1].append((_GROUP, line_h, heading))
                room -= line_h
            for values in group.rows:
                number += 1
                height, cells = self.row(values, number if table.numbered else None)
                if height > room:
                    new_page()
                    if heading is not None:
                        pages[-1].append((_GROUP, line_h, f"{heading}（续）"))
                        room -= line_h
                pages[-1].append((_ROW, height, cells))
                room -= height
                if number % 500 == 0:
                    report(progress, number, total)
            if heading is not None:
                if room < line_h:
                    new_page()
                note = f"（{group.note}）" if group.note else ""
                pages[-1].append((_COUNT, line_h,
                                  f"{heading}　小计：{len(group.rows):,} {unit}{note}"))
                room -= line_h
            if several and group.section is not None:
                section_rows += len(group.rows)
                following = table.groups[index + 1] if index + 1 < len(table.groups) else None
                if following is None or following.section != group.section:
                    if room < line_h:
                        new_page()
                    pages[-1].append((_COUNT, line_h,
                                      f"{group.section}　小计：{section_rows:,} {unit}"))
                    room -= line_h
                    section_rows = 0
        if not table.row_count:
            pages[-1].append((_ROW, line_h, ["（无记录）"]))
            room -= line_h
        if room < line_h:
            new_page()
        pages[-1].append((_COUNT, line_h, f"合计：共 {table.row_count:,} {unit}"))
        room -= line_h
        if room < SIGNATURE_HEIGHT:
            self._make_room_for_signatures(pages)
        return pages

    def _make_room_for_signatures(self, pages: list[list[tuple]]) -> None:
        """Move the last row (and what follows it) to a new page, so the signatures never
        stand alone on a page."""
        last = pages[-1]
        cut = max((i for i, item in enumerate(last) if item[0] == _ROW), default=len(last) - 1)
        if cut > 0 and last[cut - 1][0] == _GROUP:   # the row's heading goes with it
            cut -= 1
        moved = last[cut:]
        del last[cut:]
        if not last:
            pages.pop()
        pages.append(moved)


def _atomic_target(out_path: Path) -> str:
    """A temporary file beside `out_path`: a cancelled or failed run leaves the old file."""
    handle, tmp = tempfile.mkstemp(prefix=".ledger-", suffix=".pdf", dir=out_path.parent)
    os.close(handle)
    return tmp


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def draw(table: LedgerTable, out_path, font_name: str, *, progress: Progress = None,
         title_meta: str | None = None, appendix=None) -> dict:
    """Write `table` as a PDF at `out_path` in the registered font `font_name`.

    `appendix(canvas, page_w, page_h)`, when given, draws pages after the table (photos) and
    returns how many. Returns {"pages", "rows"}. `progress(done, total)` over rows (layout, then drawing) may
    cancel by returning False (or raising Cancelled); the file is then left as it was.
    """
    from reportlab.pdfgen.canvas import Canvas

    out_path = Path(out_path)
    layout = _Layout(table, font_name)
    rows = table.row_count
    total = 2 * max(rows, 1)
    pages = layout.paginate(progress, total)
    tmp = _atomic_target(out_path)
    try:
        canvas = Canvas(tmp, pagesize=(layout.page_w, layout.page_h), pageCompression=1,
                        initialFontName=font_name, initialFontSize=FONT_SIZE)
        canvas.setTitle(title_meta or table.title)
        canvas.setCreator("社区网格工作台")
        done = rows
        for index, items in enumerate(pages, 1):
            _draw_page(canvas, layout, items, index, len(pages))
            done += sum(1 for item in items if item[0] == _ROW)
            report(progress, min(done, total), total)
            canvas.showPage()
        extra = appendix(canvas, layout.page_w, layout.page_h) if appendix else 0
        canvas.save()
        os.replace(tmp, out_path)
        os.chmod(out_path, 0o666 & ~_umask())
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return {"pages": len(pages) + extra, "rows": rows}


def _bold(text_object, on: bool) -> None:
    """The CJK TrueType fonts come without a bold face: fill and stroke the glyphs instead."""
    text_object.setTextRenderMode(2 if on else 0)


def _draw_page(canvas, layout: _Layout, items: list[tuple], page_no: int, pages: int) -> None:
    table = layout.table
    font = layout.font_name
    metrics = layout.metrics
    left, right = MARGIN, layout.page_w - MARGIN
    top = layout.page_h - MARGIN
    canvas.setLineWidth(0.35)

    # title block
    text = canvas.beginText()
    _bold(text, True)
    text.setFont(font, TITLE_SIZE)
    title_w = metrics.font.stringWidth(table.title, TITLE_SIZE)
    text.setTextOrigin((layout.page_w - title_w) / 2, top - TITLE_SIZE)
    text.textOut(table.title)
    _bold(text, False)
    text.setFont(font, INFO_SIZE)
    info = "　　".join(f"{label}：{value}" for label, value in table.info if value)
    text.setTextOrigin(left, top - 36)
    text.textOut(info)
    if table.printed_on:
        printed = f"打印日期：{table.printed_on}"
        text.setTextOrigin(right - metrics.font.stringWidth(printed, INFO_SIZE), top - 36)
        text.textOut(printed)

    # column header, shaded
    y = layout.table_top
    canvas.setFillGray(0.88)
    canvas.rect(left, y - layout.header_h, right - left, layout.header_h, stroke=0, fill=1)
    canvas.setFillGray(0)
    _bold(text, True)
    text.setFont(font, FONT_SIZE, LEADING)
    for x, width, lines in zip(layout.xs, layout.widths, layout.header_lines):
        block = len(lines) * LEADING
        line_y = y - (layout.header_h - block) / 2 - LEADING + 2.5
        for line in lines:
            text.setTextOrigin(x + (width - metrics.width(line)) / 2, line_y)
            text.textOut(line)
            line_y -= LEADING
    _bold(text, False)
    y -= layout.header_h

    rules = canvas.beginPath()
    xs, widths, aligns = layout.xs, layout.widths, [c.align for c in layout.columns]
    shaded: list[tuple[float, float]] = []
    for kind, height, payload in items:
        base = y - PAD_Y - LEADING + 2.5
        if kind == _ROW:
            if len(payload) == 1:                    # 无记录
                text.setTextOrigin(left + PAD_X, base)
                text.textOut(payload[0])
            else:
                for column, cell in enumerate(payload):
                    if not cell:
                        continue
                    lines = (cell,) if isinstance(cell, str) else cell
                    align = aligns[column]
                    x = xs[column]
                    line_y = base
                    for line in lines:
                        if align == "left":
                            text.setTextOrigin(x + PAD_X, line_y)
                        else:
                            w = metrics.width(line)
                            if align == "right":
                                text.setTextOrigin(x + widths[column] - PAD_X - w, line_y)
                            else:
                                text.setTextOrigin(x + (widths[column] - w) / 2, line_y)
                        text.textOut(line)
                        line_y -= LEADING
                for x in xs[1:-1]:
                    rules.moveTo(x, y)
                    rules.lineTo(x, y - height)
        else:
            if kind == _GROUP:
                shaded.append((y, height))
                _bold(text, True)
                text.setTextOrigin(left + PAD_X, base)
            else:
                text.setTextOrigin(right - PAD_X - metrics.width(payload), base)
            text.textOut(payload)
            if kind == _GROUP:
                _bold(text, False)
        y -= height
        rules.moveTo(left, y)
        rules.lineTo(right, y)
    canvas.setFillGray(0.95)
    for row_top, height in shaded:
        canvas.rect(left, row_top - height, right - left, height, stroke=0, fill=1)
    canvas.setFillGray(0)
    # the frame and the header's rules
    top_y = layout.table_top
    rules.moveTo(left, top_y)
    rules.lineTo(right, top_y)
    rules.moveTo(left, top_y - layout.header_h)
    rules.lineTo(right, top_y - layout.header_h)
    for x in xs[1:-1]:
        rules.moveTo(x, top_y)
        rules.lineTo(x, top_y - layout.header_h)
    rules.moveTo(left, top_y)
    rules.lineTo(left, y)
    rules.moveTo(right, top_y)
    rules.lineTo(right, y)
    canvas.drawPath(rules, stroke=1, fill=0)

    if page_no == pages:
        _signatures(text, layout, y - 26)
    footer = f"第 {page_no} 页 共 {pages} 页"
    text.setFont(font, FOOTER_SIZE)
    text.setTextOrigin((layout.page_w - metrics.font.stringWidth(footer, FOOTER_SIZE)) / 2,
                       MARGIN)
    text.textOut(footer)
    canvas.drawText(text)


def _signatures(text, layout: _Layout, y: float) -> None:
    """填报人：______  审核人：______  日期：____年__月__日, spread across the width."""
    labels = layout.table.signatures
    span = (layout.page_w - 2 * MARGIN) / max(len(labels), 1)
    text.setFont(layout.font_name, 10.5)
    for i, label in enumerate(labels):
        blank = "______年____月____日" if label == "日期" else "________________"
        text.setTextOrigin(MARGIN + i * span + 6, y)
        text.textOut(f"{label}：{blank}")
