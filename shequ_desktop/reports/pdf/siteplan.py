"""The printed site plan (以图管房, issue 21): the compound's plan image (or the generated
layout) with each building's rectangle coloured by the chosen measure, its name and count, and
a legend with the classes and the total, on A4 or A3 landscape. Recorded in the audit log."""
from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from db.driver import sqlite3
from shequ_desktop.community import siteplan
from shequ_desktop.core import audit
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.ledger_print import font_for

MARGIN_MM = 12


def build(conn: sqlite3.Connection, unit_id: int, what: str, out_path, *, paper: str = "A4",
          font_path: str | None = None, actor: str = "系统", today: dt.date | None = None,
          access=None) -> dict:
    from reportlab.lib.pagesizes import A3, A4, landscape
    from reportlab.lib.units import mm
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas as pdf


    out_path = Path(out_path)
    if not out_path.parent.is_dir():
        raise DomainError(f"保存位置“{out_path.parent}”不存在")
    if paper not in ("A4", "A3"):
        raise DomainError("纸张应为 A4 或 A3")
    if access is not None:
        access.check_read_unit(unit_id)
    plan = siteplan.layout(conn, unit_id)
    counts = siteplan.measure(conn, unit_id, what, today)
    ranges = siteplan.classes(list(counts.values()))
    font = font_for(conn, font_path)
    f = font.name
    width, height = landscape(A3 if paper == "A3" else A4)
    margin = MARGIN_MM * mm
    legend_w = 55 * mm
    area_w, area_h = width - 3 * margin - legend_w, height - 2 * margin - 14 * mm
    scale = min(area_w / plan["width"], area_h / plan["height"])
    draw_w, draw_h = plan["width"] * scale, plan["height"] * scale
    left, bottom = margin, margin + (area_h - draw_h) / 2
    top = bottom + draw_h

    c = pdf.Canvas(str(out_path), pagesize=(width, height))
    label = siteplan.MEASURES[what]
    c.setTitle(f"{plan['name']}平面图（{label}）")
    c.setCreator("社区网格工作台")
    c.setFont(f, 16)
    c.drawString(margin, height - margin - 6 * mm, f"{plan['name']} 平面图 —— 按{label}着色")
    data = siteplan.image(conn, unit_id) if plan["has_image"] else None
    if data:
        c.drawImage(ImageReader(io.BytesIO(data)), left, bottom, draw_w, draw_h)
    else:
        c.setFillColorRGB(0.97, 0.97, 0.97)
        c.rect(left, bottom, draw_w, draw_h, stroke=0, fill=1)
        c.setFillColorRGB(0.5, 0.5, 0.5)
        c.setFont(f, 9)
        c.drawString(left + 2 * mm, bottom + 2 * mm, "示意布局（未载入平面图）")
    c.setStrokeColorRGB(0.4, 0.4, 0.4)
    c.rect(left, bottom, draw_w, draw_h, stroke=1, fill=0)
    for b in plan["buildings"]:
        n = counts.get(b["id"], 0)
        r, g, bl = siteplan.colour(siteplan.class_of(n, ranges), len(ranges))
        x, y = left + b["x"] * draw_w, top - (b["y"] + b["h"]) * draw_h
        w, h = b["w"] * draw_w, b["h"] * draw_h
        c.setFillColorRGB(r, g, bl, alpha=0.8)
        c.setStrokeColorRGB(0.2, 0.2, 0.2)
        if b.get("points"):
            outline = c.beginPath()
            for i, (px, py) in enumerate(b["points"]):
                (outline.lineTo if i else outline.moveTo)(left + px * draw_w, top - py * draw_h)
            outline.close()
            c.drawPath(outline, stroke=1, fill=1)
        else:
            c.rect(x, y, w, h, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        size = max(6, min(11, h / 2.6, w / max(len(b["name"]), 1) * 1.1))
        c.setFont(f, size)
        c.drawCentredString(x + w / 2, y + h / 2 + size * 0.15, b["name"])
        c.drawCentredString(x + w / 2, y + h / 2 - size * 1.05, str(n))
    # legend
    lx = width - margin - legend_w
    ly = height - margin - 20 * mm
    c.setFont(f, 11)
    c.drawString(lx, ly, f"图例：{label}")
    for i, (low, high) in enumerate(ranges):
        ly -= 8 * mm
        r, g, bl = siteplan.colour(i, len(ranges))
        c.setFillColorRGB(r, g, bl)
        c.rect(lx, ly - 1 * mm, 8 * mm, 5 * mm, stroke=1, fill=1)
        c.setFillColorRGB(0, 0, 0)
        text = "0" if high == 0 else (f"{low}" if low == high else f"{low}–{high}")
        buildings = sum(1 for n in counts.values() if siteplan.class_of(n, ranges) == i)
        c.drawString(lx + 11 * mm, ly, f"{text}（{buildings} 栋）")
    ly -= 12 * mm
    c.drawString(lx, ly, f"合计：{sum(counts.values())}")
    ly -= 6 * mm
    c.drawString(lx, ly, f"楼栋：{len(plan['buildings'])} 栋")
    c.setFont(f, 8)
    c.drawString(lx, margin, f"打印日期：{(today or dt.date.today()).isoformat()}")
    c.showPage()
    c.save()
    audit.record(conn, actor, "print", entity="site_plans",
                 summary=f"打印小区平面图：{plan['name']}（按{label}着色）",
                 detail={"file": out_path.name, "unit": unit_id, "measure": what,
                         "paper": paper})
    return {"pages": 1, "buildings": len(plan["buildings"]), "total": sum(counts.values()),
            "warning": font.warning, "font": font.label}
