"""The recovery key on one A4 page, printed at setup and kept offline (issue 4)."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

from shequ_desktop.reports.pdf.fonts import get_font

LINES = (
    "这是数据库的恢复密钥。忘记管理员密码，或数据库旁的密钥文件（.keys）丢失时，",
    "在登录窗口点“忘记密码…”，输入这串字符，即可为管理员设置新密码。",
    "",
    "请把这张纸锁在柜子里，不要拍照，不要存放在电脑或U盘上。",
    "任何拿到它和数据库文件的人都能读取全部居民信息。",
)


def build(out_path: str | Path, recovery_text: str, database_name: str) -> Path:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen.canvas import Canvas

    font = get_font().name
    width, height = A4
    canvas = Canvas(str(out_path), pagesize=A4)
    canvas.setTitle("社区网格工作台 恢复密钥")
    y = height - 90
    canvas.setFont(font, 20)
    canvas.drawCentredString(width / 2, y, "社区网格工作台 · 数据库恢复密钥")
    canvas.setFont(font, 11)
    y -= 40
    canvas.drawString(60, y, f"数据库文件：{database_name}")
    y -= 20
    canvas.drawString(60, y, f"生成日期：{dt.date.today():%Y年%m月%d日}")
    groups = recovery_text.split("-")
    y -= 50
    canvas.setFont("Courier-Bold", 18)
    for start in range(0, len(groups), 5):
        canvas.drawCentredString(width / 2, y, "  ".join(groups[start:start + 5]))
        y -= 30
    canvas.setFont(font, 11)
    y -= 20
    for line in LINES:
        canvas.drawString(60, y, line)
        y -= 18
    canvas.line(60, 120, width - 60, 120)
    canvas.drawString(60, 100, "保管人：________________    保管地点：________________")
    canvas.showPage()
    canvas.save()
    return Path(out_path)
