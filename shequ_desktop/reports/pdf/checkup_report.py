"""社区体检报告 (issue 21): a compound's check-up beside the year before — a summary of counts
by status for both years, then each area's items with last year's status, this year's, the
change and the notes, then the improvement items with their owner, event and status. Drawn by
the ledger engine (pdf/ledger.py: groups per area, header repeated, page numbers, signature
line), A4 landscape. The print is recorded in the audit log.
"""
from __future__ import annotations

import datetime as dt
import io
from functools import partial
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.community.checkups import compare, items, photo_data, statuses
from shequ_desktop.core import audit
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.ledger_print import font_for
from shequ_desktop.reports.pdf.long_table import Column, Group, LedgerTable, draw

COLS, ROWS = 3, 2                     # photos a page (A4 landscape)
THUMB_PIXELS = 900


def build(conn: sqlite3.Connection, checkup_id: int, out_path, *, access=None,
          font_path: str | None = None, actor: str = "系统",
          today: dt.date | None = None) -> dict:

    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    data = compare(conn, checkup_id, access)
    this, last = data["this"], data["last"]
    year, before = this["year"], this["year"] - 1
    lc, tc = data["last_counts"], data["this_counts"]
    groups: list[Group] = [Group("汇总（项数）", [
        ("", status, str(lc[status]) if lc else "—", str(tc[status]),
         (f"{tc[status] - lc[status]:+d}" if lc and tc[status] != lc[status] else
          "=" if lc else ""), "")
        for status in statuses()])]
    for row in data["rows"]:
        if not groups or groups[-1].title != row["area"]:
            groups.append(Group(row["area"], []))
        shot = this["photos"].get(row["item"], [])
        groups[-1].rows.append((row["item"], row["name"], row["last"] or "—",
                                row["this"] or "未查", row["change"],
                                row["notes"] + (f"（照片 {len(shot)} 张）" if shot else "")))
    for g in groups:
        now = [r[3] for r in g.rows]
        g.note = "、".join(f"{s} {now.count(s)}" for s in statuses() if now.count(s))
    findings = [(f"整改{i}", items()[f["item"]][1], "", f["status"] or "", "",
                 f"{f['content']}（负责人：{f['owner'] or '未定'}；事件 {f['event_id']}"
                 + (f"，时限 {f['deadline'][:10]}" if f["deadline"] else "") + "）")
                for i, f in enumerate(this["findings"], 1)]
    if findings:
        groups.append(Group("整改事项", findings))

    info = [("小区/社区", this["unit_name"]), ("体检日期", this["checked_on"]),
            ("体检人", this["inspector"] or ""),
            (f"{before}年体检", last["checked_on"] if last else "无记录")]
    table = LedgerTable(
        title=f"社区体检报告（{year}年，对比{before}年）",
        columns=[Column("编号", 3), Column("体检项目", 12), Column(f"{before}年", 4.5, "center"),
                 Column(f"{year}年", 4.5, "center"), Column("变化", 2.5, "center"),
                 Column("说明", 18)],
        groups=groups, info=info, printed_on=(today or dt.date.today()).isoformat(),
        landscape=True, count_unit="项", numbered=False,
        signatures=("体检人", "社区负责人", "日期"))
    font = font_for(conn, font_path)
    shots = [(code, items()[code][1], p) for code, ps in this["photos"].items() for p in ps]
    result = draw(table, out_path, font.name,
                  appendix=partial(_photo_pages, conn, shots, font.name,
                                   f"{this['unit_name']} {year}年社区体检 · 照片")
                  if shots else None)
    audit.record(conn, actor, "print", entity="checkups", entity_id=checkup_id,
                 summary=f"打印社区体检报告：{this['unit_name']} {year}年",
                 detail={"file": out_path.name, "pages": result["pages"],
                         "photos": len(shots)})
    return {**result, "photos": len(shots), "warning": font.warning, "font": font.label}


def _thumbnail(data: bytes):
    """A reportlab image of the photo, at most THUMB_PIXELS on its longer side (a 20 MB
    photo is not embedded whole); None when the bytes are not an image."""
    from PIL import Image, UnidentifiedImageError
    from reportlab.lib.utils import ImageReader

    try:
        image = Image.open(io.BytesIO(data))
        image.thumbnail((THUMB_PIXELS, THUMB_PIXELS))
        out = io.BytesIO()
        image.convert("RGB").save(out, "JPEG", quality=80)
    except (UnidentifiedImageError, OSError, ValueError):
        return None
    return ImageReader(io.BytesIO(out.getvalue()))


def _photo_pages(conn: sqlite3.Connection, shots: list, font_name: str, title: str,
                 canvas, page_w: float, page_h: float) -> int:
    """The check-up's photos after the table: COLS × ROWS thumbnails a page, each captioned
    with its item and file name; a photo whose bytes have not arrived yet (a data package
    left it for the next) is a framed box saying so. Returns the pages drawn."""

    margin, gap, caption = 36.0, 12.0, 26.0
    cell_w = (page_w - 2 * margin - (COLS - 1) * gap) / COLS
    cell_h = (page_h - 2 * margin - 24 - (ROWS - 1) * gap) / ROWS
    pages = 0
    for start in range(0, len(shots), COLS * ROWS):
        pages += 1
        canvas.setFont(font_name, 13)
        canvas.drawString(margin, page_h - margin - 8,
                          f"{title}（第 {pages} 页，共 {len(shots)} 张）")
        for i, (code, name, photo) in enumerate(shots[start:start + COLS * ROWS]):
            col, row = i % COLS, i // COLS
            x = margin + col * (cell_w + gap)
            top = page_h - margin - 24 - row * (cell_h + gap)
            box_h = cell_h - caption
            picture = _thumbnail(photo_data(conn, photo["id"])[1]) if photo["held"] else None
            canvas.setLineWidth(0.5)
            canvas.rect(x, top - box_h, cell_w, box_h, stroke=1, fill=0)
            if picture is not None:
                w, h = picture.getSize()
                scale = min((cell_w - 4) / w, (box_h - 4) / h)
                canvas.drawImage(picture, x + (cell_w - w * scale) / 2,
                                 top - box_h + (box_h - h * scale) / 2, w * scale, h * scale)
            else:
                canvas.setFont(font_name, 9)
                canvas.drawCentredString(x + cell_w / 2, top - box_h / 2,
                                         "照片内容尚未随数据包传来" if not photo["held"]
                                         else "不是可显示的图片")
            canvas.setFont(font_name, 9)
            canvas.drawString(x, top - box_h - 12, f"{code} {name}"[:40])
            canvas.setFont(font_name, 8)
            canvas.drawString(x, top - box_h - 23, photo["name"][:48])
        canvas.showPage()
    return pages
