"""Reading a spreadsheet file into rows of cells: .xlsx/.xls/.xlsm/.ods with python-calamine,
.csv in UTF-8 (with or without BOM) or GB18030 (GBK is a subset), detected from the bytes."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from shequ_desktop.core.errors import DomainError
from shequ_desktop.transfer.importing.bulk import with_gc_paused

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
ENCODINGS = (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030"))
# Limits checked before a spreadsheet is read (issue 18: a 2 KB file declaring cell XFD1048576
# made the reader allocate 550 GB; a 46 MB file expanded to 1.7 GB): what a register of a few
# hundred thousand people needs, with room to spare.
MAX_EXPANDED = 400 * 1024 * 1024       # bytes of XML a workbook may expand to
MAX_SHARED_STRINGS = 150 * 1024 * 1024  # bytes of its shared-strings part
MAX_CELLS = 25_000_000                 # rows x columns of a sheet (as far as its cells reach)
MAX_COLUMNS = 702                      # up to column ZZ
MAX_CELL_TEXT = 32_767                 # Excel's own limit for one cell
MAX_CSV_BYTES = 300 * 1024 * 1024
_CHUNK = 1 << 20


class UnreadableFile(DomainError):
    """The file cannot be read at all (the CLI exits 2)."""


@dataclass
class Table:
    path: str
    sheet: str
    rows: list[list]          # cells as read: str, float, int, bool, date, datetime; '' if empty
    encoding: str | None = None
    merged: list = field(default_factory=list)     # (row1, col1, row2, col2) merged ranges
    formulas: dict = field(default_factory=dict)   # (row, col) -> has a cached value


def sheet_names(path) -> list[str]:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return [path.stem]
    return list(_workbook(path).sheet_names)


@with_gc_paused
def read_table(path, sheet: str | None = None) -> Table:
    """Every row of one sheet (the first when `sheet` is None)."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"找不到文件“{path}”")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        if path.stat().st_size > MAX_CSV_BYTES:
            raise UnreadableFile(f"“{path.name}”太大（超过 {MAX_CSV_BYTES >> 20} MB），"
                                 "请分成几个文件导入")
        text, encoding = decode(path.read_bytes(), path)
        return Table(str(path), path.stem, _csv_rows(text, path), encoding)
    inspection = inspect_workbook(path)
    book = _workbook(path)
    names = list(book.sheet_names)
    if not names:
        raise UnreadableFile(f"“{path.name}”中没有工作表")
    name = sheet if sheet is not None else names[0]
    if name not in names:
        raise UnreadableFile(f"“{path.name}”中没有名为“{name}”的工作表（有：{'、'.join(names)}）")
    try:
        worksheet = book.get_sheet_by_name(name)           # parses the sheet: once
        try:
            merged = [(a[0], a[1], b[0], b[1]) for a, b in worksheet.merged_cell_ranges or ()]
        except Exception:                                        # noqa: BLE001
            merged = []                     # a format without merged ranges: nothing to fill
        rows = worksheet.to_python(skip_empty_area=False)
        del worksheet, book                                # calamine's copy of the cells
    except Exception as exc:                                     # noqa: BLE001
        raise UnreadableFile(f"无法读取“{path.name}”的工作表“{name}”：{exc}") from None
    if rows and type(rows[0]) is not list:       # calamine gives lists: no copy needed
        rows = [list(r) for r in rows]
    formulas = inspection.formulas.get(name, {}) if inspection else {}
    return Table(str(path), name, rows, merged=merged, formulas=formulas)


def _csv_rows(text: str, path: Path) -> list[list]:
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for r in reader:
            rows.append(r)
    except csv.Error as exc:
        if "field larger than field limit" in str(exc):
            raise UnreadableFile(f"“{path.name}”第 {reader.line_num} 行有一个单元格超过 "
                                 f"{csv.field_size_limit()} 个字符，不是登记表的内容，"
                                 "请检查文件") from None
        raise UnreadableFile(f"“{path.name}”第 {reader.line_num} 行无法按 CSV 读取："
                             f"{exc}") from None
    return rows


@dataclass
class Inspection:
    formulas: dict        # sheet name -> {(row, col): has a cached value}


_ROW_NO = re.compile(rb'<row[^>]*?\sr="(\d+)"')
# A cell's r of two letters or more (a row's r has no letters). The attribute follows a space
# in every writer seen; any other whitespace before it takes the slower pattern.
_WIDE_COL = re.compile(rb' r="([A-Z]{2,})\d')
_WIDE_COL_ANY = re.compile(rb'\sr="([A-Z]{2,})\d')
_FORMULA_CELL = re.compile(rb'<c\s[^>]*?r="([A-Z]+)(\d+)"[^>]*>(?:(?!</c>).)*?<f[\s>/]'
                           rb'(?:(?!</c>).)*?(?:(<v>)|</c>)', re.S)


def inspect_workbook(path: Path) -> Inspection | None:
    """Check an .xlsx/.xlsm/.ods before it is read: expanded size, shared strings, how far
    each sheet's cells reach, the size of inline text; note formula cells (read by their
    cached value). Raises UnreadableFile when a limit is passed; None for .xls (a format
    bounded to 65536 x 256 cells)."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        return None                       # .xls, or damaged: calamine says which
    except OSError as exc:
        raise UnreadableFile(f"无法打开“{path.name}”：{exc}") from None
    with archive:
        infos = archive.infolist()
        too_big = f"“{path.name}”解压后超过 {MAX_EXPANDED >> 20} MB，不像是登记表，未读取（请检查文件或分成几个文件）"
        if sum(i.file_size for i in infos) > MAX_EXPANDED:
            raise UnreadableFile(too_big)
        for info in infos:
            if info.filename.lower().endswith("sharedstrings.xml") \
                    and info.file_size > MAX_SHARED_STRINGS:
                raise UnreadableFile(f"“{path.name}”的共享文本超过 {MAX_SHARED_STRINGS >> 20} MB，"
                                     "不像是登记表，未读取")
        names = _sheet_names_by_part(archive)
        formulas: dict[str, dict] = {}
        expanded = 0
        for info in infos:
            part = info.filename
            if not (part.startswith("xl/worksheets/") and part.endswith(".xml")
                    or part == "content.xml" or part.endswith("sharedStrings.xml")):
                continue
            found, size = _scan_part(archive, info, path, MAX_EXPANDED - expanded)
            expanded += size
            if found and part in names:
                formulas[names[part]] = found
            elif found and part == "content.xml":       # .ods: found says there are some
                formulas.update(_ods_formulas(archive, info))
        return Inspection(formulas)


def _scan_part(archive, info, path: Path, budget: int) -> tuple[dict, int]:
    """Stream one XML part: its real expanded size (a zip may understate it), the last row
    and widest column its cells reach, overlong text, formula cells."""
    max_row, max_col, size, tail = 0, 0, 0, b""
    formulas: dict = {}
    is_sheet = info.filename.startswith("xl/worksheets/")
    is_ods = info.filename == "content.xml"
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > budget:
                raise UnreadableFile(f"“{path.name}”解压后超过 {MAX_EXPANDED >> 20} MB，"
                                     "不像是登记表，未读取（请检查文件或分成几个文件）")
            data = tail + chunk
            cut = data.rfind(b"</row>") + 6 if is_sheet else 5
            if cut < 6:
                cut = data.rfind(b"<")
            body, tail = (data[:cut], data[cut:]) if cut > 0 else (data, b"")
            if len(tail) > MAX_CELL_TEXT * 4 + 4096:     # one tag or text too long to be a cell
                raise UnreadableFile(f"“{path.name}”中有超过 {MAX_CELL_TEXT} 个字符的单元格，"
                                     "不像是登记表，未读取")
            if not is_sheet:
                if is_ods and b"table:formula=" in body:
                    formulas[None] = True          # where: _ods_formulas, once all is read
                continue
            rows = _ROW_NO.findall(body)
            if rows:
                max_row = max(max_row, max(map(int, rows)))
            odd = (b"\t" in body or b"\n" in body or b"\r" in body) and (   # memchr first
                b'\tr="' in body or b'\nr="' in body or b'\rr="' in body)
            wide = set((_WIDE_COL_ANY if odd else _WIDE_COL).findall(body))
            if wide:
                max_col = max(max_col, max(_column_number(c) for c in wide))
                if max_col > MAX_COLUMNS:
                    raise UnreadableFile(f"“{path.name}”的单元格延伸到第 {max_col} 列，"
                                         "不像是登记表，未读取")
            if max_row * max(max_col, 26) > MAX_CELLS:
                raise UnreadableFile(f"“{path.name}”的单元格延伸到第 {max_row} 行，"
                                     "超过可导入的范围，未读取（请分成几个文件）")
            if b"<f" in body:
                for m in _FORMULA_CELL.finditer(body):
                    formulas[(int(m[2]) - 1, _column_number(m[1]) - 1)] = m[3] is not None
    return formulas, size


_TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
_OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"


def _ods_formulas(archive, info) -> dict[str, dict]:
    """Sheet name -> {(row, col): has a cached value} of an .ods's formula cells, counting
    rows and cells as they are laid out (repeated rows and cells, covered cells). Run only
    when the size scan saw a formula, after it checked the part's size."""
    from xml.etree.ElementTree import iterparse

    out: dict[str, dict] = {}
    found: dict | None = None
    row = col = 0
    row_repeat = 1
    depth = 0                               # tables nested in a cell are not the sheet's
    with archive.open(info) as stream:
        for event, elem in iterparse(stream, events=("start", "end")):
            tag = elem.tag
            if tag == _TABLE + "table":
                if event == "start":
                    depth += 1
                    if depth == 1:
                        found, row = out.setdefault(elem.get(_TABLE + "name", ""), {}), 0
                else:
                    depth -= 1
                    elem.clear()
            elif depth != 1 or found is None:
                continue
            elif tag == _TABLE + "table-row":
                if event == "start":
                    col = 0
                    row_repeat = int(elem.get(_TABLE + "number-rows-repeated", "1"))
                else:
                    row += row_repeat
                    elem.clear()
            elif tag in (_TABLE + "table-cell", _TABLE + "covered-table-cell") \
                    and event == "start":
                if elem.get(_TABLE + "formula") is not None:
                    cached = elem.get(_OFFICE + "value-type") is not None
                    for r in range(row, row + min(row_repeat, 1000)):
                        found[(r, col)] = cached
                col += int(elem.get(_TABLE + "number-columns-repeated", "1"))
    return {name: cells for name, cells in out.items() if cells}


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ch - 64
    return n


def _sheet_names_by_part(archive) -> dict[str, str]:
    """xl/worksheets/sheetN.xml -> the sheet's name (workbook.xml and its relations)."""
    try:
        book = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {m[0]: m[1] for m in re.findall(r'<Relationship[^>]*?Id="([^"]+)"[^>]*?'
                                               r'Target="([^"]+)"', rels)}
    targets.update({m[1]: m[0] for m in re.findall(r'<Relationship[^>]*?Target="([^"]+)"'
                                                    r'[^>]*?Id="([^"]+)"', rels)})
    out = {}
    for name, rid in re.findall(r'<sheet [^>]*?name="([^"]+)"[^>]*?r:id="([^"]+)"', book):
        target = targets.get(rid, "").lstrip("/")
        part = target if target.startswith("xl/") else "xl/" + target
        out[part] = (name.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")
                     .replace("&quot;", '"').replace("&apos;", "'"))
    return out


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """Text and the name of its encoding: UTF-8 (BOM or not) if it decodes, else GB18030."""
    if b"\x00" in data[:4096]:
        raise UnreadableFile(f"“{path.name}”不是文本文件（可能是 UTF-16 或二进制文件），"
                             "请另存为 UTF-8 或 GBK 编码的 CSV")
    for codec, label in ENCODINGS:
        try:
            text = data.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, label + (" (BOM)" if data.startswith(b"\xef\xbb\xbf") else "")
    raise UnreadableFile(f"“{path.name}”的编码无法识别（应为 UTF-8 或 GBK/GB18030）")


def _workbook(path: Path):
    from python_calamine import CalamineWorkbook

    if path.suffix.lower() not in SHEET_SUFFIXES + (".csv",):
        raise UnreadableFile(f"不支持的文件类型“{path.suffix}”（可导入 .xlsx、.xls、.csv）")
    if not path.is_file():
        raise UnreadableFile(f"找不到文件“{path}”")
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:                                     # noqa: BLE001
        raise UnreadableFile(f"无法打开“{path.name}”：文件已损坏或不是表格文件（{exc}）") from None
