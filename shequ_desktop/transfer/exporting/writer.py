"""Writing an export: xlsx through xlsxwriter (constant_memory: rows stream to disk) or CSV in
UTF-8 with BOM. ID and phone columns are text; IDs and phones are masked (by the field's
masking rule) unless the export is for upload; a cell starting with = + - @ gets a leading '
so no program runs it as a formula. Dates are real dates in xlsx unless the template asks for
text (YYYYMMDD); code-table values are labels or codes as the column's coding says. Columns
are as wide as their text (a Chinese character two columns), the header frozen and filtered.
Every export is recorded in the audit log (action "export")."""
from __future__ import annotations

import csv
import datetime as dt
import os
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.core import audit, masking
from shequ_desktop.core.access import Access, scope
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.transfer.exporting import coding, sources
from shequ_desktop.transfer.exporting.templates import Sheet, Template

FORMATS = ("xlsx", "csv")
FORMULA_START = ("=", "+", "-", "@")
REPORT_EVERY = 5000


def escape(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


EXCEL_EPOCH = dt.date(1899, 12, 30)
WIDTH_SAMPLE = 1000         # rows measured for column widths
MAX_WIDTH = 50


def display_width(text: str) -> int:
    """Columns a text takes in Excel/WPS: a Chinese character two, a Latin one (UTF-8 bytes:
    1 for ASCII, 3 for CJK, so (bytes + chars) / 2 without a per-character lookup)."""
    return (len(text.encode("utf-8")) + len(text)) // 2


class Serial(int):
    """A date as Excel's day number: written as a number in a date format."""


def _date_converter(dates: str, real: bool):
    def convert(v):
        if v is None or v == "":
            return ""
        text = str(v)
        try:
            day = dt.date.fromisoformat(text[:10])
        except ValueError:
            return escape(text)             # not a date: written as it is
        if dates == "YYYYMMDD":
            return day.strftime("%Y%m%d")
        if dates == "YYYY-MM-DD" or not real:
            return day.isoformat()
        return Serial((day - EXCEL_EPOCH).days)
    return convert


def _converter(column: sources.Column, unmask: bool, real_dates: bool = True):
    """raw value -> what the cell shows (str, a number for number columns, a Serial for
    dates written as dates)."""
    kind = column.kind
    if kind.startswith("code:") and column.coding == "code":
        return lambda v: "" if v is None else str(v)
    labels = sources.code_labels(kind)
    if labels is not None:
        return lambda v: "" if v is None else labels(v)
    if kind in masking.MASKS:
        return (lambda v: v or "") if unmask else masking.MASKS[kind]
    if kind == "date":
        return _date_converter(column.dates, real_dates)
    if kind == "bool":
        return lambda v: "" if v is None else ("是" if v else "否")
    if kind == "number":
        return lambda v: "" if v is None else v
    return lambda v: "" if v is None else escape(str(v))


def records(conn, columns: list[sources.Column], source: sources.Source, within,
            unmask: bool, real_dates: bool = True, only=()):
    """The source's rows converted for the cells of `columns`."""
    convert = [_converter(c, unmask, real_dates) for c in columns]
    keys = [c.key for c in columns]
    constants = {"division_code": coding.division_code(conn) or ""}
    for raw in sources.rows(conn, source, keys, within, constants, only):
        yield [f(v) for f, v in zip(convert, raw)]


def _records(conn, sheet: Sheet, within, unmask: bool, real_dates: bool = True):
    return records(conn, [c for _h, c in sheet.columns], sheet.source, within, unmask,
                   real_dates, sheet.only)


def check_folder(out_path: Path) -> None:
    """Before any work: the folder the file goes to must exist."""
    if not out_path.parent.is_dir():
        raise DomainError(f"文件夹“{out_path.parent}”不存在，请先建好或另选保存位置")


def upload_warning(template: Template, unmask: bool) -> str:
    if template.for_upload and not unmask:
        return (f"“{template.title}”是上传用模板，但这次导出的身份证号和电话已脱敏，"
                "平台不会接受这个文件；上传用请选择“用于上传（完整号码）”。")
    return ""


def record_export(conn, actor: str, *, title: str, what: str, name: str, fmt: str,
                  files: list, rows: int, counts: dict, unmask: bool, unit_id,
                  extra: dict | None = None) -> None:
    """The audit entry of an export: who, what, how many, where, and whether full numbers
    went out (for upload)."""
    audit.record(conn, actor, "export", entity=what,
                 summary=f"导出{title} {rows} 行到 {'、'.join(str(f) for f in files)}"
                         + ("（未脱敏，用于上传：含完整证件号和电话）" if unmask else "（已脱敏）"),
                 detail={"template": name, "what": what, "format": fmt,
                         "files": [str(p) for p in files], "rows": rows, "sheets": counts,
                         "unmask": unmask, "for_upload": unmask, "unit_id": unit_id,
                         **(extra or {})})


def export(conn: sqlite3.Connection, template: Template, out_path, fmt: str, *,
           unit_id: int | None = None, unmask: bool = False, actor: str = "系统",
           progress: Progress = None, access: Access | None = None) -> dict:
    """Write the template's sheets for the subtree of `unit_id` (None: everything; with a
    网格员's `access`, their units, and a unit outside them is NotPermitted); returns
    {"rows": n, "files": [...], "sheets": {name: n}}."""
    if fmt not in FORMATS:
        raise DomainError(f"导出格式应为 xlsx 或 csv（现为“{fmt}”）")
    out_path = Path(out_path)
    check_folder(out_path)
    within = scope(access, unit_id)
    total = _count(conn, template, within)
    state = {"done": 0, "total": max(total, 1)}
    files: list[Path] = []
    counts: dict[str, int] = {}
    try:
        if fmt == "xlsx":
            files.append(out_path)
            counts = _write_xlsx(conn, template, out_path, within, unmask, progress, state)
        else:
            for i, sheet in enumerate(template.sheets):
                path = out_path if i == 0 else out_path.with_name(
                    f"{out_path.stem}_{sheet.name}{out_path.suffix or '.csv'}")
                files.append(path)
                counts[sheet.name] = _write_csv(conn, sheet, path, within, unmask, progress,
                                                state)
    except BaseException:
        for path in files:                    # no half-written file is left behind
            if path.exists():
                os.remove(path)
        raise
    rows = sum(counts.values())
    record_export(conn, actor, title=template.title, what=template.what, name=template.name,
                  fmt=fmt, files=files, rows=rows, counts=counts, unmask=unmask,
                  unit_id=unit_id)
    report(progress, state["total"], state["total"])
    return {"rows": rows, "files": [str(p) for p in files], "sheets": counts,
            "warning": upload_warning(template, unmask)}


def _count(conn, template: Template, within) -> int:
    return sum(sources.count(conn, sheet.source, within, sheet.only)
               for sheet in template.sheets)


def _tick(progress: Progress, state: dict) -> None:
    state["done"] += 1
    if state["done"] % REPORT_EVERY == 0:
        report(progress, state["done"], state["total"])


def _write_xlsx(conn, template: Template, path: Path, within, unmask, progress, state) -> dict:
    import xlsxwriter

    book = xlsxwriter.Workbook(str(path), {"constant_memory": True,
                                           "strings_to_numbers": False,
                                           "strings_to_formulas": False,
                                           "strings_to_urls": False})
    counts: dict[str, int] = {}
    try:
        formats = sheet_formats(book)
        for sheet in template.sheets:
            ws = book.add_worksheet(sheet.name[:31])
            columns = [c for _h, c in sheet.columns]
            headers = [h for h, _c in sheet.columns]
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, headers, formats["head"])
            counts[sheet.name] = write_rows(ws, formats, columns, 1,
                                            _records(conn, sheet, within, unmask),
                                            lambda: _tick(progress, state),
                                            [display_width(h) for h in headers])
            if headers:
                ws.autofilter(0, 0, counts[sheet.name], len(headers) - 1)
    finally:
        book.close()
    return counts


def sheet_formats(book) -> dict:
    return {"head": book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1,
                                     "text_wrap": False}),
            "text": book.add_format({"num_format": "@"}),
            "date": book.add_format({"num_format": "yyyy-mm-dd"})}


def write_rows(ws, formats: dict, columns: list[sources.Column], first_row: int, values_of,
               tick, widths: list[int]) -> int:
    """Stream converted rows into `ws` from `first_row`; set each column's width from the
    widest of `widths` (the header rows) and the first WIDTH_SAMPLE rows. Returns the rows
    written."""
    kinds = [c.kind for c in columns]
    widths = list(widths) + [0] * (len(columns) - len(widths))
    numbers = {i for i, k in enumerate(kinds) if k == "number"}
    # the undecorated writers: the public ones first parse 'A1' notation (~10%)
    write_string = getattr(ws, "_write_string", ws.write_string)
    write_number = getattr(ws, "_write_number", ws.write_number)
    date_format = formats["date"]
    n = 0
    r = first_row
    for r, values in enumerate(values_of, start=first_row):
        for c, v in enumerate(values):
            if v == "":
                continue
            if type(v) is Serial:
                write_number(r, c, v, date_format)
            elif c in numbers and isinstance(v, (int, float)):
                write_number(r, c, v)
            else:
                write_string(r, c, v)
        if n < WIDTH_SAMPLE:
            for c, v in enumerate(values):
                w = 10 if type(v) is Serial else display_width(str(v))
                if w > widths[c]:
                    widths[c] = w
        n += 1
        tick()
    for c, column in enumerate(columns):
        floor = 20 if column.kind == "id" else 13 if column.kind == "phone" else 6
        # "@" where Excel would mangle a number typed later: a cell format costs
        # every cell an attribute, ~15% of a large export
        ws.set_column(c, c, min(max(widths[c] + 2, floor), MAX_WIDTH),
                      formats["text"] if column.kind in ("id", "phone") else None)
    return n


def _write_csv(conn, sheet: Sheet, path: Path, within, unmask, progress, state) -> int:
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([h for h, _c in sheet.columns])
        for values in _records(conn, sheet, within, unmask, real_dates=False):
            out.writerow(values)
            n += 1
            _tick(progress, state)
    return n


def default_file_name(template: Template, fmt: str, today: dt.date | None = None) -> str:
    return f"{template.title}_{(today or dt.date.today()):%Y%m%d}.{fmt}"
