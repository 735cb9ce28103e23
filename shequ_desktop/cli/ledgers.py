"""`shequ ledger`: print a monthly ledger (台账) as PDF."""
from __future__ import annotations

import sys

from shequ_desktop.core import tree
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.ledger_rows import GROUPINGS, KINDS

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

NO_GROUPS = "none"


def _ledger(args) -> int:
    from shequ_desktop.reports.pdf import ledger_print as printing

    conn = args.ctx.conn
    unit_id = tree.unit_by_code(conn, args.unit)
    group = "" if args.group is None else None if args.group == NO_GROUPS else args.group

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r生成台账 {done}/{total}", end="", file=sys.stderr)

    try:
        result = printing.build(conn, args.kind, args.output, unit_id=unit_id,
                                month=args.month, unmask=args.unmask, actor=args.ctx.user,
                                font_path=args.font, progress=progress, group=group,
                                access=args.ctx.access)
    except OSError as exc:
        raise DomainError(f"无法写入“{args.output}”：{exc.strerror or exc}") from None
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if result["warning"]:
        print(f"注意：{result['warning']}", file=sys.stderr)
    print(f"已生成{result['title']} {args.output}：{result['rows']} 条，{result['pages']} 页"
          f"（字体：{result['font']}）")
    return 0


def add_commands(sub) -> None:
    groups = sorted({key for options in GROUPINGS.values() for key in options})
    p = sub.add_parser("ledger", help="打印台账（PDF）")
    p.add_argument("--db", required=True, help="数据库文件路径")
    p.add_argument("--kind", required=True, choices=list(KINDS), metavar="KIND",
                   help="台账：" + "，".join(f"{k} {v}" for k, v in KINDS.items()))
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p.add_argument("--month", help="月份 YYYY-MM（默认本月）")
    p.add_argument("--unmask", action="store_true",
                   help="显示完整的身份证号和电话（记入审计日志）")
    p.add_argument("--group", choices=[*groups, NO_GROUPS], metavar="GROUP",
                   help="分组：" + "，".join(groups) + f"，{NO_GROUPS} 不分组（默认按台账的常用分组）")
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc）；默认用设置中选定的或系统中找到的")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
    p.set_defaults(run=_ledger)
