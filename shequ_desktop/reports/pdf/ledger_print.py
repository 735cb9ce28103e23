"""Printing a ledger: its rows (shequ_desktop.reports.ledger_rows), drawn by the engine (pdf/ledger.py) in
the chosen CJK font, and the print recorded in the audit log."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from db import atomic
from db.driver import sqlite3
from shequ_desktop.core import audit, settings
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Progress
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.reports.pdf.fonts import get_font
from shequ_desktop.reports.pdf.long_table import draw

FONT_SETTING = "pdf.font"


def font_for(conn: sqlite3.Connection, font_path: str | None = None):
    """The font to print with: `font_path`, else the one chosen in settings, else the first
    CJK TrueType font found, else STSong-Light (Font.warning says so)."""

    wanted = font_path or settings.get(conn, FONT_SETTING)
    font = get_font(wanted)
    if wanted and font.path != wanted:
        problem = f"字体文件“{wanted}”无法使用（不存在或不是 TrueType 字体），已改用{font.label}。"
        font = replace(font, warning=problem + font.warning)
    return font


def build(conn: sqlite3.Connection, kind: str, out_path, *, unit_id: int | None = None,
          month: str | None = None, unmask: bool = False, actor: str = "系统",
          font_path: str | None = None, progress: Progress = None, group: str | None = "",
          today=None, access=None) -> dict:
    """Write the ledger `kind` (see shequ_desktop.reports.ledger_rows.KINDS) as a PDF at `out_path`
    (`access`: a 网格员's units only, see ledgers.table).

    Returns {"pages", "rows", "warning", "font", "title"}; warning is non-empty when the font
    is not embedded. The print (and an unmasked print) is recorded in the audit log once the
    file is written; a cancelled run (progress returning False) leaves no file and no record.
    """

    folder = Path(out_path).parent
    if not folder.is_dir():
        raise DomainError(f"保存位置“{folder}”不存在")
    table = ledgers.table(conn, kind, unit_id=unit_id, month=month, unmask=unmask,
                          group=group, today=today, access=access)
    font = font_for(conn, font_path)
    period = dict(table.info).get("期间", "")
    result = draw(table, out_path, font.name, progress=progress,
                  title_meta=f"{table.title}（{period}）")
    detail = {"kind": kind, "unit": unit_id, "month": ledgers.parse_month(month, today).key,
              "rows": result["rows"], "pages": result["pages"], "file": str(out_path)}
    try:
        _record(conn, actor, table, result, detail, unmask)
    except BaseException:
        Path(out_path).unlink(missing_ok=True)     # no print without its record
        raise
    return {**result, "warning": font.warning, "font": font.label, "title": table.title}


def _record(conn, actor: str, table, result: dict, detail: dict, unmask: bool) -> None:
    scope = "、".join(f"{label}{value}" for label, value in table.info)
    with atomic(conn):
        if unmask:
            audit.record(conn, actor, "unmask", entity="ledger",
                         summary=f"打印{table.title}时显示完整证件号和电话（{scope}）",
                         detail=detail)
        audit.record(conn, actor, "print", entity="ledger",
                     summary=f"打印{table.title}（{scope}，{result['rows']} 条，"
                             f"{result['pages']} 页）", detail={**detail, "unmask": unmask})


def record_output(conn: sqlite3.Connection, actor: str, title: str, how: str,
                  detail: dict) -> None:
    """A generated ledger saved elsewhere or sent to a printer: one more "print" entry.
    `how` says what was done, e.g. "另存为 D:/台账/人口.pdf" or "送打印机 12 页"."""
    audit.record(conn, actor, "print", entity="ledger", summary=f"{title}：{how}",
                 detail=detail)
