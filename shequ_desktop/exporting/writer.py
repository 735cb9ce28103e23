"""Writing an export: xlsx through xlsxwriter (constant_memory: rows stream to disk) or CSV in
UTF-8 with BOM. ID and phone columns are text; IDs and phones are masked unless unmasked for
this one export; a cell starting with = + - @ gets a leading ' so no program runs it as a
formula. Every export is recorded in the audit log (action "export")."""
from __future__ import annotations

import csv
import datetime as dt
import os
from db.driver import sqlite3
from pathlib import Path

from shequ_desktop import audit, masking
from shequ_desktop.access import Access, scope
from shequ_desktop.errors import DomainError
from shequ_desktop.exporting import sources
from shequ_desktop.exporting.templates import Sheet, Template
from shequ_desktop.progress import Progress, report

FORMATS = ("xlsx", "csv")
FORMULA_START = ("=", "+", "-", "@")
REPORT_EVERY = 5000


def escape(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_START) else text


def _converter(column: sources.Column, unmask: bool):
    """raw value -> what the cell shows (str, or a number for number columns)."""
    kind = column.kind
    labels = sources.code_labels(kind)
    if labels is not None:
        return lambda v: "" if v is None else labels(v)
    if kind == "id":
        return (lambda v: v or "") if unmask else masking.mask_id
    if kind == "phone":
        return (lambda v: v or "") if unmask else masking.mask_phone
    if kind == "bool":
        return lambda v: "" if v is None else ("是" if v else "否")
    if kind == "number":
        return lambda v: "" if v is None else v
    return lambda v: "" if v is None else escape(str(v))


def _records(conn, sheet: Sheet, within, unmask: bool):
    convert = [_converter(c, unmask) for _h, c in sheet.columns]
    keys = [c.key for _h, c in sheet.columns]
    for raw in sources.rows(conn, sheet.source, keys, within):
        yield [f(v) for f, v in zip(convert, raw)]


def export(conn: sqlite3.Connection, template: Template, out_path, fmt: str, *,
           unit_id: int | None = None, unmask: bool = False, actor: str = "系统",
           progress: Progress = None, access: Access | None = None) -> dict:
    """Write the template's sheets for the subtree of `unit_id` (None: everything; with a
    网格员's `access`, their units, and a unit outside them is NotPermitted); returns
    {"rows": n, "files": [...], "sheets": {name: n}}."""
    if fmt not in FORMATS:
        raise DomainError(f"导出格式应为 xlsx 或 csv（现为“{fmt}”）")
    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"文件夹“{out_path.parent}”不存在")
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
    audit.record(conn, actor, "export", entity=template.what,
                 summary=f"导出{template.title} {rows} 行"
                         + ("（未脱敏：含完整证件号和电话）" if unmask else "（已脱敏）"),
                 detail={"template": template.name, "what": template.what, "format": fmt,
                         "files": [str(p) for p in files], "rows": rows, "sheets": counts,
                         "unmask": unmask, "unit_id": unit_id})
    report(progress, state["total"], state["total"])
    return {"rows": rows, "files": [str(p) for p in files], "sheets": counts}


def _count(conn, template: Template, within) -> int:
    return sum(sources.count(conn, sheet.source, within) for sheet in template.sheets)


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
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = book.add_format({"num_format": "@"})
        for sheet in template.sheets:
            ws = book.add_worksheet(sheet.name[:31])
            kinds = [c.kind for _h, c in sheet.columns]
            for n, (header, column) in enumerate(sheet.columns):
                width = max(len(header) * 2 + 2, 20 if column.kind == "id" else 8)
                # "@" where Excel would mangle a number typed later: a cell format costs
                # every cell an attribute, ~15% of a large export
                ws.set_column(n, n, min(width, 40),
                              text if column.kind in ("id", "phone") else None)
            ws.freeze_panes(1, 0)
            ws.write_row(0, 0, [h for h, _c in sheet.columns], head)
            numbers = [i for i, k in enumerate(kinds) if k == "number"]
            # the undecorated writers: the public ones first parse 'A1' notation (~10%)
            write_string = getattr(ws, "_write_string", ws.write_string)
            write_number = getattr(ws, "_write_number", ws.write_number)
            r = 0
            for r, values in enumerate(_records(conn, sheet, within, unmask), start=1):
                for c, v in enumerate(values):
                    if v == "":
                        continue
                    if c in numbers and isinstance(v, (int, float)):
                        write_number(r, c, v)
                    else:
                        write_string(r, c, v)
                _tick(progress, state)
            counts[sheet.name] = r
    finally:
        book.close()
    return counts


def _write_csv(conn, sheet: Sheet, path: Path, within, unmask, progress, state) -> int:
    n = 0
    with open(path, "w", encoding="utf-8-sig", newline="") as f:
        out = csv.writer(f)
        out.writerow([h for h, _c in sheet.columns])
        for values in _records(conn, sheet, within, unmask):
            out.writerow(values)
            n += 1
            _tick(progress, state)
    return n


def default_file_name(template: Template, fmt: str, today: dt.date | None = None) -> str:
    return f"{template.title}_{(today or dt.date.today()):%Y%m%d}.{fmt}"
