"""Reading a spreadsheet file into rows of cells: .xlsx/.xls/.xlsm/.ods with python-calamine,
.csv in UTF-8 (with or without BOM) or GB18030 (GBK is a subset), detected from the bytes."""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from shequ_desktop.errors import DomainError

SHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".xlsb", ".ods")
ENCODINGS = (("utf-8-sig", "UTF-8"), ("gb18030", "GB18030"))


class UnreadableFile(DomainError):
    """The file cannot be read at all (the CLI exits 2)."""


@dataclass
class Table:
    path: str
    sheet: str
    rows: list[list]          # cells as read: str, float, int, bool, date, datetime; '' if empty
    encoding: str | None = None


def sheet_names(path) -> list[str]:
    path = Path(path)
    if path.suffix.lower() == ".csv":
        return [path.stem]
    return list(_workbook(path).sheet_names)


def read_table(path, sheet: str | None = None) -> Table:
    """Every row of one sheet (the first when `sheet` is None)."""
    path = Path(path)
    if not path.is_file():
        raise UnreadableFile(f"找不到文件“{path}”")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        text, encoding = decode(path.read_bytes(), path)
        rows = [list(r) for r in csv.reader(io.StringIO(text, newline=""))]
        return Table(str(path), path.stem, rows, encoding)
    book = _workbook(path)
    names = list(book.sheet_names)
    if not names:
        raise UnreadableFile(f"“{path.name}”中没有工作表")
    name = sheet if sheet is not None else names[0]
    if name not in names:
        raise UnreadableFile(f"“{path.name}”中没有名为“{name}”的工作表（有：{'、'.join(names)}）")
    try:
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
    except Exception as exc:                                     # noqa: BLE001
        raise UnreadableFile(f"无法读取“{path.name}”的工作表“{name}”：{exc}") from None
    if rows and type(rows[0]) is not list:       # calamine gives lists: no copy needed
        rows = [list(r) for r in rows]
    return Table(str(path), name, rows)


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
