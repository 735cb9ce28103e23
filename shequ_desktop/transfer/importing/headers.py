"""Finding a register's header, however many rows it takes.

Real registers put a title, notes and a 填报单位 row (省*/市*/区县* cells) above the header, mark
required columns with `*`, and split some columns over two rows: 户籍地 over 省/市/区县 (a
horizontally merged cell, so the cells after the first are empty), 联系方式 over 手机/固话,
sometimes a third row of section headings (女方信息 … 男方信息) above everything.

The header row is the top row naming the most fields. Rows directly above it that hold two or
more short labels (not a title ending in 表) are section rows; rows directly below it whose
labels all sit under a merged header cell (or under an empty header cell) are sub-header rows.
A column's label joins its parts top to bottom with '/' ("户籍地/省", "联系方式/手机"); a part
whose cell spans more than SECTION_SPAN columns is a section heading and is left out (so the
two 姓名 of 女方信息/男方信息 both read "姓名": duplicates are kept, the mapping gives a field
to its first column only).
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from shequ_desktop.transfer.importing import mapping as mapping_mod
from shequ_desktop.transfer.importing.reading import UnreadableFile

SCAN = mapping_mod.HEADER_SCAN
SECTION_SPAN = 6             # a header cell spanning more columns is a section heading
LABEL_MAX = 30               # a header cell is short; notes and data are not headers
_TITLE_END = ("表", "名册", "台账", "清单", "统计")
_STARS = re.compile(r"[*＊]")


@dataclass
class Header:
    first_row: int      # index of the first header row (0-based, in Table.rows)
    row: int            # index of the last header row; data starts at row + 1
    labels: list[str]   # one label per column (see the module's doc)


def locate(rows: list[list], sheet: str | None = None) -> Header:
    """The header of a sheet's rows; UnreadableFile when none of the top rows names two
    fields."""
    main, best = -1, 1
    for i, row in enumerate(rows[:SCAN]):
        count = len({mapping_mod.guess(_clean(c)) for c in row if isinstance(c, str)} - {None})
        if count > best:
            main, best = i, count
    if main < 0:
        where = f"“{sheet}”的" if sheet else ""
        raise UnreadableFile(f"在{where}前 {SCAN} 行中没有找到表头（应有“姓名”“身份证号”等列名）")
    first = main
    while first > 0 and _is_section_row(rows[first - 1], rows[main]):
        first -= 1
    last = main
    while last + 1 < len(rows) and _is_sub_row(rows[last + 1], rows[first:last + 1]):
        last += 1
    return Header(first, last, _labels(rows[first:last + 1]))


def label_parts(label: str) -> list[str]:
    """A combined label's parts, the sub label last ("户籍地/省" → ["户籍地", "省"])."""
    return label.split("/")


def _clean(cell) -> str:
    if cell is None or isinstance(cell, bool):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    s = unicodedata.normalize("NFKC", str(cell))
    return " ".join(_STARS.sub("", s).split())


def _texts(row: list) -> dict[int, str]:
    return {k: t for k, c in enumerate(row) if (t := _clean(c))}


def _is_section_row(row: list, main: list) -> bool:
    """Section headings above the header: two or more short labels, no title, not 填报单位."""
    texts = {k: t for k, t in _texts(row).items() if not _is_number(row[k])}
    if len(texts) < 2 or len(texts) >= len(_texts(main)):
        return False
    return all(len(t) <= LABEL_MAX and not t.endswith(_TITLE_END) and "填报" not in t
               and isinstance(row[k], str) for k, t in texts.items())


def _is_number(cell) -> bool:
    return isinstance(cell, (int, float)) or bool(re.fullmatch(r"[\d.]+", str(cell).strip()))


def _is_sub_row(row: list, block: list[list]) -> bool:
    """Labels only under merged header cells: at each filled column k the header above is
    empty, or starts a merged cell (the header right of it is empty and this row fills it)."""
    texts = _texts(row)
    if not texts or any(not isinstance(row[k], str) or len(t) > LABEL_MAX
                        for k, t in texts.items()):
        return False
    above = [_texts(r) for r in block]
    filled = lambda k: any(k in a for a in above)        # noqa: E731
    under_empty = False
    for k in texts:
        if not filled(k):
            under_empty = True
            continue
        if filled(k + 1) or (k + 1) not in texts:
            return False
    return under_empty


def _labels(block: list[list]) -> list[str]:
    width = max((len(r) for r in block), default=0)
    texts = [_texts(r) for r in block]
    # Each row's cells extended right over the empty cells of a merged cell: as far as the
    # rows below it have labels and the row itself is empty.
    spans: list[dict[int, tuple[str, int]]] = []
    for depth, row in enumerate(texts):
        out: dict[int, tuple[str, int]] = {}
        below = texts[depth + 1:]
        for k in sorted(row):
            end = k + 1
            while below and end < width and end not in row and any(end in b for b in below):
                end += 1
            for j in range(k, end):
                out[j] = (row[k], end - k)
        spans.append(out)
    labels = []
    for k in range(width):
        parts: list[str] = []
        for depth, out in enumerate(spans):
            if k not in out:
                continue
            text, span = out[k]
            is_last = depth == len(spans) - 1 or not any(k in s for s in spans[depth + 1:])
            if span > SECTION_SPAN and not is_last:
                continue
            if not parts or parts[-1] != text:
                parts.append(text)
        labels.append("/".join(parts))
    return labels


def find_header(rows: list[list]) -> int:
    """Index of the (last) header row (`locate`), -1 when there is none."""
    try:
        return locate(rows).row
    except UnreadableFile:
        return -1
