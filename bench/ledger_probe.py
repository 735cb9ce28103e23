"""One timing of the resident ledger in a fresh process (bench/run.py `ledger` runs it).

    .venv/bin/python bench/ledger_probe.py ours|peer DB OUT.pdf

Prints `result SECONDS PAGES ROWS`: from reading the rows to the file written. Both sides
print the same LedgerTable (the rows as shequ_desktop.reports.ledger_rows reads them, masked), in the same
font, on A4 landscape, with the same
column widths, and write a PDF file:

- ours: the ledger engine (shequ_desktop/reports/pdf/long_table.py), canvas drawn in two passes;
- peer: the straightforward platypus way, one LongTable (header repeated with repeatRows=1,
  grid lines, the same font and size) in a SimpleDocTemplate, with a page-number footer.
  Its cells are plain strings, which platypus does not wrap: the peer does less than ours.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _table(db_path: str):
    import db
    from shequ_desktop.reports import ledger_rows as ledgers

    conn = db.open_db(db_path)
    table = ledgers.table(conn, "residents", group=None)
    conn.close()
    return table


def ours(table, out: str, font_name: str) -> int:
    from shequ_desktop.reports.pdf.long_table import draw

    return draw(table, out, font_name)["pages"]


def peer(table, out: str, font_name: str) -> int:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import LongTable, SimpleDocTemplate, TableStyle

    from shequ_desktop.reports.pdf.long_table import FONT_SIZE, MARGIN

    page_w, page_h = landscape(A4)
    header = ["序号", *[c.label for c in table.columns]]
    weights = [2.6, *[c.width for c in table.columns]]
    inner = page_w - 2 * MARGIN
    widths = [inner * w / sum(weights) for w in weights]
    data = [header]
    number = 0
    for group in table.groups:
        for row in group.rows:
            number += 1
            data.append([str(number), *row])
    grid = LongTable(data, colWidths=widths, repeatRows=1)
    grid.setStyle(TableStyle([
        ("FONT", (0, 0), (-1, -1), font_name, FONT_SIZE),
        ("GRID", (0, 0), (-1, -1), 0.35, colors.black),
        ("BACKGROUND", (0, 0), (-1, 0), colors.Color(0.88, 0.88, 0.88)),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))

    def footer(canvas, doc):
        canvas.setFont(font_name, 8.5)
        canvas.drawCentredString(page_w / 2, MARGIN, f"第 {doc.page} 页")

    doc = SimpleDocTemplate(out, pagesize=(page_w, page_h), leftMargin=MARGIN,
                            rightMargin=MARGIN, topMargin=MARGIN + 44, bottomMargin=MARGIN + 18,
                            title=table.title)
    doc.build([grid], onFirstPage=footer, onLaterPages=footer)
    return doc.page


def main() -> None:
    mode, db_path, out = sys.argv[1:4]
    from shequ_desktop.reports.pdf.fonts import get_font

    font = get_font()
    start = time.perf_counter()          # both read the same rows: the query is counted too
    table = _table(db_path)
    pages = (ours if mode == "ours" else peer)(table, out, font.name)
    elapsed = time.perf_counter() - start
    print(f"result {elapsed:.3f} {pages} {table.row_count}", flush=True)


if __name__ == "__main__":
    main()
