"""`shequ report monthly`: the monthly report (月度工作报表) as a PDF."""
from __future__ import annotations

import sys

from shequ_desktop.core import tree

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def _monthly(args) -> int:
    from shequ_desktop.reports.pdf import monthly_report

    conn = args.ctx.conn
    unit_id = tree.unit_by_code(conn, args.unit)
    result = monthly_report.build(conn, args.month, unit_id, args.output,
                                  font_path=args.font, actor=args.ctx.user,
                                  access=args.ctx.access)
    if result["warning"]:
        print(f"注意：{result['warning']}", file=sys.stderr)
    this = result["this"]
    print(f"已生成 {args.output}：{result['pages']} 页；月末 {this['population']['households']:,} 户、"
          f"{this['population']['residents']:,} 人")
    return 0


def add_commands(sub) -> None:
    report_cmd = sub.add_parser("report", help="报表").add_subparsers(
        dest="report_command", required=True, metavar="子命令")
    p = report_cmd.add_parser("monthly", help="月度工作报表（PDF）")
    p.add_argument("--db", required=True)
    p.add_argument("--month", required=True, help="月份，如 2026-03")
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
    p.add_argument("--font", help="中文字体文件（TTF/TTC），默认自动查找")
    p.set_defaults(run=_monthly)
