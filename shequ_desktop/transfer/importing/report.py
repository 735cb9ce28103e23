"""The error report: the rows in error with the sheet's own headers, the bad cells
highlighted and the reason in a last column. Every cell is written as text (an ID stays
whole), so the user fixes the cells and imports this very file again."""
from __future__ import annotations

from shequ_desktop.transfer.importing import normalize
from shequ_desktop.transfer.importing.plan import Plan

REASON_HEADER = "错误原因"
LINE_HEADER = "原行号"


def write_error_report(plan: Plan, path) -> int:
    """Write the rows in error to `path` (.xlsx); returns how many."""
    import xlsxwriter

    rows = plan.error_rows()
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False,
                                           "strings_to_formulas": False})
    try:
        sheet = book.add_worksheet("错误行")
        head = book.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1})
        text = book.add_format({"num_format": "@"})
        bad = book.add_format({"num_format": "@", "bg_color": "#FFC7CE", "font_color": "#9C0006"})
        reason = book.add_format({"font_color": "#9C0006", "text_wrap": True})
        headers = [h or f"列{i + 1}" for i, h in enumerate(plan.headers)]
        sheet.write_row(0, 0, [*headers, REASON_HEADER, LINE_HEADER], head)
        for c, h in enumerate(headers):
            sheet.set_column(c, c, max(8, min(30, len(h) * 2 + 2)), text)
        sheet.set_column(len(headers), len(headers), 60)
        sheet.freeze_panes(1, 0)
        for r, row in enumerate(rows, start=1):
            bad_columns = {c for c, _reason in row.errors if c is not None}
            for c in range(len(headers)):
                value = row.cells[c] if c < len(row.cells) else ""
                cell = _as_text(value)
                sheet.write_string(r, c, cell, bad if c in bad_columns else text)
            sheet.write_string(r, len(headers), row.reason(), reason)
            sheet.write_number(r, len(headers) + 1, row.line)
    finally:
        book.close()
    return len(rows)


def _as_text(value) -> str:
    """The cell as the user typed it: text exactly (full-width punctuation and all)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value.is_integer():
        return str(int(value))         # a numeric ID shows its (already wrong) digits
    return normalize.text(value) if value not in (None, "") else ""
