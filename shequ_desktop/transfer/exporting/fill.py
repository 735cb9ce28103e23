"""Filling a platform's own blank template (issue 16): the user gives the .xlsx or .xls file
the district issued; its header is found as the importer finds it (importing/headers.locate),
each column is mapped to a field by the registry's synonyms (the user confirms or corrects,
and the mapping is remembered for that template in the database settings), and the records
are written below the header of a copy of the file.

- .xlsx templates are copied part by part and the sheet's rows are streamed into its XML after
  the header (inline strings): title rows, column order, widths, merged cells, styles, data
  validations, hidden lookup sheets and every other sheet stay as the district made them.
- .xls templates (which no library here writes) become an .xlsx that reproduces every sheet's
  cells (lookup sheets hidden as they were), the merged title and header cells, with the
  header frozen; data validations of an .xls cannot be read and are not carried over.

Columns the program cannot fill are listed before anything is written (`Plan.unfilled`).
A template that is not a spreadsheet, is password-protected, has a protected sheet or no
recognisable header is refused with a message; nothing is written then.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from xml.sax.saxutils import escape as xml_escape

from db.driver import sqlite3
from shequ_desktop.core import settings
from shequ_desktop.core.access import Access, scope
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress, report
from shequ_desktop.transfer.exporting import coding, sources
from shequ_desktop.transfer.exporting.writer import (
    Serial,
    check_folder,
    display_width,
    record_export,
    records,
    sheet_formats,
    write_rows,
)
from shequ_desktop.transfer.importing.headers import Header, locate
from shequ_desktop.transfer.importing.mapping import header_key
from shequ_desktop.transfer.importing.reading import UnreadableFile

SOURCE_OF = {"residents": "residents", "households": "households", "focus": "focus",
             "visits": "visits", "volunteers": "volunteers", "events": "events"}
SETTINGS_PREFIX = "export_template:"
REPORT_EVERY = 5000
MAX_TEMPLATE_MB = 50
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass
class PlannedColumn:
    index: int                       # 0-based column of the template
    header: str                      # its label as the header finder combined it
    key: str | None                  # the source column it is filled from, None: left blank
    column: sources.Column | None = None   # that column, with the coding the header asks for


@dataclass
class TemplateFile:
    path: Path
    kind: str                         # "xlsx" or "xls"
    sheet: str                        # the sheet filled: the first visible one with a header
    sheet_index: int
    rows: list[list]                  # that sheet's rows up to and including the header
    header: Header
    signature: str                    # what identifies the template: its sheet and header
    merged: list = field(default_factory=list)

    @property
    def labels(self) -> list[str]:
        return self.header.labels


def _name(path: Path) -> str:
    return f"模板“{path.name}”"


def open_template(path) -> TemplateFile:
    """Read a blank template: its sheet, header and signature. DomainError (in Chinese,
    naming the file) when it is not a spreadsheet, is protected, or has no header."""
    path = Path(path)
    if not path.is_file():
        raise DomainError(f"{_name(path)}不存在")
    with open(path, "rb") as f:
        magic = f.read(8)
    if path.stat().st_size > MAX_TEMPLATE_MB << 20:
        raise DomainError(f"{_name(path)}有 {path.stat().st_size >> 20} MB，不像空白模板"
                          f"（应小于 {MAX_TEMPLATE_MB} MB）：请选择平台下发的空白模板")
    if magic.startswith(_ZIP):
        kind = "xlsx"
        _refuse_broken_xlsx(path)
    elif magic == _OLE:
        kind = "xls"
        _refuse_encrypted_ole(path)
    else:
        raise DomainError(f"{_name(path)}不是 Excel/WPS 表格文件（.xlsx 或 .xls），"
                          "请选择平台下发的空白模板")
    from python_calamine import CalamineWorkbook
    try:
        book = CalamineWorkbook.from_path(str(path))
    except Exception as exc:            # calamine raises its own error kinds
        raise DomainError(f"{_name(path)}打不开（{exc}）：文件可能已损坏或设有密码") from None
    found = None
    problems = []
    for i, meta in enumerate(book.sheets_metadata):
        if str(meta.visible).endswith("Hidden") or str(meta.visible).endswith("VeryHidden"):
            continue
        sheet = book.get_sheet_by_index(i)
        rows = sheet.to_python(nrows=60)
        try:
            header = locate(rows, meta.name)
        except UnreadableFile as exc:
            problems.append(str(exc))
            continue
        found = (i, meta.name, rows[:header.row + 1], header, sheet.merged_cell_ranges or [])
        break
    if found is None:
        raise DomainError(f"{_name(path)}中没有认得出的表头"
                          f"（{problems[0] if problems else '没有可见的工作表'}）")
    i, name, rows, header, merged = found
    signature = hashlib.sha1("\x1f".join([name, *header.labels]).encode()).hexdigest()[:16]
    template = TemplateFile(path, kind, name, i, rows, header, signature,
                            [m for m in merged if m[0][0] <= header.row])
    if kind == "xlsx":
        _refuse_protected_sheet(template)
    return template


def _refuse_encrypted_ole(path: Path) -> None:
    """An .xlsx with a password to open is an OLE container holding EncryptionInfo; an .xls
    with one has a FILEPASS record (calamine then fails to read it)."""
    with open(path, "rb") as f:
        data = f.read(64 << 20)
    if "EncryptionInfo".encode("utf-16-le") in data:
        raise DomainError(f"{_name(path)}设有打开密码，请在 Excel/WPS 中取消密码后再选择")


def _refuse_broken_xlsx(path: Path) -> None:
    try:
        with zipfile.ZipFile(path) as z:
            if "xl/workbook.xml" not in z.namelist():
                raise DomainError(f"{_name(path)}不是 Excel 工作簿（.xlsx）")
    except zipfile.BadZipFile:
        raise DomainError(f"{_name(path)}已损坏，不是完整的 .xlsx 文件") from None


def _refuse_protected_sheet(template: "TemplateFile") -> None:
    """The sheet to fill must not be protected (hidden lookup sheets may be)."""
    with zipfile.ZipFile(template.path) as z:
        xml = z.read(_sheet_part(z, template.sheet_index))
    if b"<sheetProtection" in xml:
        raise DomainError(f"{_name(template.path)}的工作表“{template.sheet}”设有保护，程序不能"
                          "往里写入：请在 Excel/WPS 中“撤销工作表保护”后再选择")


# --- mapping ---------------------------------------------------------------------------------

def _index(what: str) -> dict[str, sources.Column]:
    source = sources.SOURCES[SOURCE_OF[what]]
    out: dict[str, sources.Column] = {}
    for column in source.columns:
        for word in (column.label, *column.synonyms):
            out.setdefault(header_key(word), column)
    return out


def _match(index: dict[str, sources.Column], label: str) -> sources.Column | None:
    tries = [label]
    if "/" in label:
        tries.append(label.rsplit("/", 1)[1])
    for text in tries:
        for candidate in (text, coding.bare(text)):
            found = index.get(header_key(candidate))
            if found is not None:
                return found
    return None


def plan_columns(what: str, labels: list[str], remembered: dict | None = None,
                 *, template_coding: str | None = None,
                 dates: str | None = None) -> list[PlannedColumn]:
    """One PlannedColumn per header label: the field its text (or a synonym) names, or the
    one remembered for this template; each field fills its first column only."""
    if what not in SOURCE_OF:
        raise DomainError(f"不能导出“{what}”（可导出：{'、'.join(SOURCE_OF)}）")
    index = _index(what)
    source = sources.SOURCES[SOURCE_OF[what]]
    remembered = remembered or {}
    used: set[str] = set()
    out = []
    for i, label in enumerate(labels):
        if str(i) in remembered.get("columns", {}):
            key = remembered["columns"][str(i)]
            try:
                column = source.column(key) if key else None
            except KeyError:            # a field this program no longer has
                column = None
        else:
            column = _match(index, label) if label else None
            if column is not None and column.key in used:
                column = None
        if column is not None:
            used.add(column.key)
            wanted = remembered.get("coding", {}).get(str(i))
            column = coding.apply(
                column, coding=wanted or ("code" if coding.asks_code(label)
                                          else template_coding),
                dates=coding.header_dates(label) or dates or "YYYY-MM-DD")
        out.append(PlannedColumn(i, label, column.key if column else None, column))
    return out


def unfilled(plan: list[PlannedColumn]) -> list[str]:
    """The labels of the template's columns nothing is written into."""
    return [p.header or f"第 {p.index + 1} 列" for p in plan if p.key is None]


def remembered(conn: sqlite3.Connection, template: TemplateFile) -> dict:
    return settings.get(conn, SETTINGS_PREFIX + template.signature) or {}


def remember(conn: sqlite3.Connection, template: TemplateFile,
             plan: list[PlannedColumn], for_upload: bool | None = None) -> None:
    """Keep the user's mapping (and codings) for the next file with the same header."""
    old = remembered(conn, template)
    value = {"name": template.path.name,
             "columns": {str(p.index): p.key for p in plan},
             "coding": {str(p.index): p.column.coding for p in plan
                        if p.column is not None and p.column.kind.startswith("code:")},
             "for_upload": old.get("for_upload", False) if for_upload is None else for_upload}
    settings.put(conn, SETTINGS_PREFIX + template.signature, value)


def choose(plan: list[PlannedColumn], what: str, index: int, key: str | None,
           code: bool | None = None) -> list[PlannedColumn]:
    """The plan with column `index` filled from `key` (None: left blank), as code or label."""
    source = sources.SOURCES[SOURCE_OF[what]]
    out = []
    for p in plan:
        if p.index == index:
            column = source.column(key) if key else None
            if column is not None:
                column = coding.apply(column, coding=None if code is None
                                      else "code" if code else "label",
                                      dates=coding.header_dates(p.header) or "YYYY-MM-DD")
            p = replace(p, key=key, column=column)
        elif key is not None and p.key == key:
            p = replace(p, key=None, column=None)
        out.append(p)
    return out


# --- filling -----------------------------------------------------------------------------------

def fill(conn: sqlite3.Connection, template: TemplateFile, plan: list[PlannedColumn],
         what: str, out_path, *, unit_id: int | None = None, unmask: bool = False,
         actor: str = "系统", progress: Progress = None,
         access: Access | None = None, only=()) -> dict:
    """Write `what`'s records into a copy of the template at `out_path` (.xlsx), columns as
    `plan` says (`only`: ((key, values), …), e.g. (("tag", ("残疾人",)),) for one focus
    group's register). Returns {"rows", "files", "unfilled", "warning"}. A cancelled or failed run
    leaves no file; a finished one is in the audit log (who, what, how many, where, whether
    full numbers were written)."""
    out_path = Path(out_path)
    if out_path.suffix.lower() != ".xlsx":
        out_path = out_path.with_suffix(".xlsx")
    check_folder(out_path)
    if not any(p.key for p in plan):
        raise DomainError(f"{_name(template.path)}的列没有一列能对应到{what}的字段，没有可写的内容")
    source = sources.SOURCES[SOURCE_OF[what]]
    within = scope(access, unit_id)
    total = max(sources.count(conn, source, within, only), 1)
    width = max(len(template.labels), max(p.index for p in plan) + 1)
    columns: list[sources.Column | None] = [None] * width
    for p in plan:
        if p.column is not None:
            columns[p.index] = p.column
    used = [c for c in columns if c is not None]
    where = [i for i, c in enumerate(columns) if c is not None]

    def rows():
        done = 0
        for values in records(conn, used, source, within, unmask, real_dates=False,
                              only=only):
            row = [""] * width
            for i, v in zip(where, values):
                row[i] = v
            done += 1
            if done % REPORT_EVERY == 0:
                report(progress, done, total)
            yield row

    tmp = out_path.with_name(f".{out_path.name}.part")
    try:
        if template.kind == "xlsx":
            n = _fill_xlsx(template, tmp, rows(), width)
        else:
            n = _fill_xls(template, tmp, rows(), columns)
        os.replace(tmp, out_path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    blank = unfilled(plan)
    record_export(conn, actor, title=f"模板“{template.path.name}”", what=what,
                  name=template.path.name, fmt="xlsx", files=[out_path], rows=n,
                  counts={template.sheet: n}, unmask=unmask, unit_id=unit_id,
                  extra={"template_file": str(template.path), "unfilled": blank,
                         "only": [[k, list(v)] for k, v in only]})
    report(progress, total, total)
    masked = [p.header for p in plan if p.column is not None and p.column.kind in ("id", "phone")]
    warning = ""
    if masked and not unmask:
        warning = (f"{'、'.join(masked)}已脱敏（只显示部分号码）；这个文件若要上传平台，"
                   "请选择“用于上传（完整号码）”重新导出。")
    return {"rows": n, "files": [str(out_path)], "unfilled": blank, "warning": warning}


def _col_letter(i: int) -> str:
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def _cell_xml(ref: str, v, date_style: int) -> str:
    if type(v) is Serial:
        return f'<c r="{ref}" s="{date_style}"><v>{int(v)}</v></c>'
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return f'<c r="{ref}"><v>{v}</v></c>'
    text = xml_escape(_ILLEGAL_XML.sub("", str(v)))
    space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() \
        or "\n" in text else ""
    return f'<c r="{ref}" t="inlineStr"><is><t{space}>{text}</t></is></c>'


def _sheet_part(z: zipfile.ZipFile, index: int) -> str:
    """The zip name of the index-th sheet (workbook order), through the relationships."""
    workbook = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    sheets = re.findall(r"<(?:\w+:)?sheet\b[^>]*>", workbook)
    rid = re.search(r'\br:id="([^"]+)"|\b\w+:id="([^"]+)"', sheets[index])
    rid = rid.group(1) or rid.group(2)
    for rel in re.findall(r"<Relationship\b[^>]*>", rels):
        if f'Id="{rid}"' in rel:
            target = re.search(r'Target="([^"]+)"', rel).group(1)
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    raise DomainError("模板的工作表结构看不懂（找不到工作表文件）")


def _fill_xlsx(template: TemplateFile, out: Path, rows, width: int) -> int:
    """Copy the workbook; in the filled sheet keep every row up to the header, then stream
    the records as rows of inline strings; the rest of the sheet XML (merged cells, data
    validations, page setup) follows unchanged."""
    header_row = template.header.row + 1            # 1-based
    with zipfile.ZipFile(template.path) as src, \
            zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        part = _sheet_part(src, template.sheet_index)
        styles, date_style = _with_date_style(src.read("xl/styles.xml").decode("utf-8"))
        for info in src.infolist():
            if info.filename == part:
                continue
            data = src.read(info.filename)
            if info.filename == "xl/styles.xml":
                data = styles.encode("utf-8")
            elif info.filename == "xl/calcChain.xml":
                continue
            dst.writestr(info, data)
        xml = src.read(part).decode("utf-8")
        m = re.search(r"<sheetData\s*/>|<sheetData>(.*?)</sheetData>", xml, re.S)
        if m is None:
            raise DomainError("模板的工作表结构看不懂（没有 sheetData）")
        kept = [r for r in re.findall(r"<row\b.*?</row>|<row\b[^>]*/>", m.group(1) or "", re.S)
                if int(re.search(r'\br="(\d+)"', r).group(1)) <= header_row]
        letters = [_col_letter(i) for i in range(width)]
        n = 0
        with dst.open(part, "w", force_zip64=True) as f:
            head = re.sub(r"<dimension\b[^>]*/>", "", xml[:m.start()])
            f.write((head + "<sheetData>" + "".join(kept)).encode("utf-8"))
            buffer = []
            r = header_row
            for values in rows:
                r += 1
                cells = "".join(_cell_xml(f"{letters[c]}{r}", v, date_style)
                                for c, v in enumerate(values) if v != "")
                buffer.append(f'<row r="{r}">{cells}</row>')
                n += 1
                if len(buffer) >= 2000:
                    f.write("".join(buffer).encode("utf-8"))
                    buffer.clear()
            f.write("".join(buffer).encode("utf-8"))
            f.write(("</sheetData>" + xml[m.end():]).encode("utf-8"))
    return n


def _with_date_style(styles: str) -> tuple[str, int]:
    """styles.xml with one more cell format, yyyy-mm-dd (built-in format 14 shows by locale),
    and its index."""
    m = re.search(r'<cellXfs\b[^>]*count="(\d+)"[^>]*>', styles)
    if m is None:
        return styles, 0
    count = int(m.group(1))
    end = styles.index("</cellXfs>", m.end())
    xf = '<xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    head = styles[:m.start()] + m.group(0).replace(f'count="{count}"', f'count="{count + 1}"')
    return head + styles[m.end():end] + xf + styles[end:], count


def _fill_xls(template: TemplateFile, out: Path, rows, columns) -> int:
    """An .xlsx reproducing the .xls: every sheet's cells (hidden ones hidden), the merged
    cells above the data, the header bold and frozen; the records below the header."""
    import xlsxwriter
    from python_calamine import CalamineWorkbook

    book = CalamineWorkbook.from_path(str(template.path))
    wb = xlsxwriter.Workbook(str(out), {"constant_memory": True, "strings_to_numbers": False,
                                        "strings_to_formulas": False, "strings_to_urls": False})
    n = 0
    try:
        formats = sheet_formats(wb)
        title = wb.add_format({"bold": True, "font_size": 14, "align": "center",
                               "valign": "vcenter"})
        wrap = wb.add_format({"text_wrap": True, "valign": "top"})
        for i, meta in enumerate(book.sheets_metadata):
            sheet = book.get_sheet_by_index(i)
            ws = wb.add_worksheet(meta.name[:31])
            if "Hidden" in str(meta.visible):
                ws.hide()
            if i != template.sheet_index:
                for r, row in enumerate(sheet.to_python()):
                    for c, v in enumerate(row):
                        _plain(ws, r, c, v)
                continue
            h = template.header
            for r, row in enumerate(template.rows):
                fmt = formats["head"] if r >= h.first_row else None
                for c, v in enumerate(row):
                    if r < h.first_row and c == 1 and r == 0:
                        _plain(ws, r, c, v, title)
                    elif r < h.first_row and isinstance(v, str) and "\n" in v:
                        _plain(ws, r, c, v, wrap)
                    else:
                        _plain(ws, r, c, v, fmt)
            for (r0, c0), (r1, c1) in template.merged:
                ws.merge.append([r0, c0, r1, c1])
            for r in range(h.first_row):
                long_notes = any(isinstance(v, str) and v.count("\n") > 2
                                 for v in template.rows[r])
                if long_notes:
                    ws.set_row(r, 15 * (max(v.count("\n") for v in template.rows[r]
                                            if isinstance(v, str)) + 1))
            ws.freeze_panes(h.row + 1, 0)
            widths = [0] * len(columns)
            for r in range(h.first_row, h.row + 1):
                for c, v in enumerate(template.rows[r][:len(columns)]):
                    widths[c] = max(widths[c], display_width(str(v or "")))
            shown = [c if c is not None else sources.Column("", "") for c in columns]
            n = write_rows(ws, formats, shown, h.row + 1, rows, lambda: None, widths)
    finally:
        wb.close()
    return n


def _plain(ws, r: int, c: int, v, fmt=None) -> None:
    if v is None or v == "":
        if fmt is not None:
            ws.write_blank(r, c, None, fmt)
        return
    if isinstance(v, bool):
        ws.write_boolean(r, c, v, fmt)
    elif isinstance(v, (int, float)):
        ws.write_number(r, c, v, fmt)
    elif isinstance(v, (dt.date, dt.datetime)):
        ws.write_string(r, c, v.isoformat()[:10], fmt)
    else:
        ws.write_string(r, c, str(v), fmt)


def default_output(template: TemplateFile, today: dt.date | None = None) -> str:
    return f"{template.path.stem}_已填_{(today or dt.date.today()):%Y%m%d}.xlsx"

