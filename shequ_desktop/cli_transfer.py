"""`shequ import` and `shequ export` (issue 5).

    shequ import FILE --db PATH [--sheet NAME] [--unit CODE] [--dry-run]
                 [--on-duplicate skip|update|fill] [--errors OUT.xlsx] [--all-or-nothing] [--json]
    shequ export --db PATH --what residents|households|focus|visits|events|volunteers
                 --format xlsx|csv -o OUT [--template NAME] [--unit CODE] [--unmask]

import exits 0 when no row is in error, 3 when some are (the valid rows are still imported
unless --all-or-nothing), 2 when the file cannot be read at all.
"""
from __future__ import annotations

import json
import sys

from shequ_desktop import grid
from shequ_desktop.cli_session import WRITE
from shequ_desktop.errors import DomainError

EXIT_ROW_ERRORS = 3
WHAT = ("residents", "households", "focus", "visits", "events", "volunteers")
COUNT_KEYS = ("rows", "created", "updated", "unchanged", "skipped", "errors")


def _unit(ctx, code: str | None) -> int | None:
    """The unit named by code (or name); without one, the only community (or street), or a
    网格员's one grid."""
    conn = ctx.conn
    if code:
        return grid.unit_by_code(conn, code)
    if ctx.access is not None and ctx.access.restricted:
        from shequ_desktop.cli_session import default_unit
        return default_unit(ctx, None)
    for level in ("community", "street"):
        rows = conn.execute("SELECT id FROM grid_units WHERE level = ?", (level,)).fetchall()
        if len(rows) == 1:
            return rows[0][0]
        if len(rows) > 1:
            raise DomainError(f"数据库中有 {len(rows)} 个{'社区' if level == 'community' else '街道'}"
                              "，请用 --unit 指定导入到哪个社区或网格")
    return None


def _progress(label: str):
    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{label} {done}/{total}", end="", file=sys.stderr)
    return progress


def _import(args) -> int:
    from shequ_desktop import community
    from shequ_desktop.importing import (apply_plan, build_plan, read_table,
                                         write_error_report)

    table = read_table(args.file, args.sheet)           # UnreadableFile: exit 2
    ctx = args.ctx                                     # signed in (cli_session)
    conn = ctx.conn
    plan = build_plan(conn, table, on_duplicate=args.on_duplicate,
                      progress=_progress("检查"))
    counts = plan.counts()
    if not args.dry_run and not (args.all_or_nothing and counts["errors"]):
        with ctx.transaction():          # a community made for an empty database goes too
            unit_id = _unit(ctx, args.unit)
            if unit_id is None and community.is_empty(ctx):
                unit_id = community.init_community(ctx, "新社区", None).id
            counts = apply_plan(ctx, plan, unit_id, progress=_progress("导入"))
    elif args.all_or_nothing and counts["errors"]:
        counts = {**counts, "created": 0, "updated": 0}
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.errors and counts["errors"]:
        write_error_report(plan, args.errors)
    if args.json:
        print(json.dumps({k: counts[k] for k in COUNT_KEYS}, ensure_ascii=False))
    else:
        done = "检查结果（未导入）" if args.dry_run else "导入结果"
        print(f"{done}：共 {counts['rows']} 行，新增 {counts['created']}，更新 {counts['updated']}，"
              f"无变化 {counts['unchanged']}，跳过 {counts['skipped']}，错误 {counts['errors']}")
        for row in plan.error_rows()[:50]:
            print(f"  第 {row.line} 行：{row.reason()}", file=sys.stderr)
        if args.errors and counts["errors"]:
            print(f"错误行已写入 {args.errors}", file=sys.stderr)
    return EXIT_ROW_ERRORS if counts["errors"] else 0


def _export(args) -> int:
    from shequ_desktop import exporting

    ctx = args.ctx
    template = exporting.for_what(args.what, args.template)
    unit_id = _unit(ctx, args.unit) if args.unit else None
    result = exporting.export(ctx.conn, template, args.output, args.format, unit_id=unit_id,
                              unmask=args.unmask, actor=ctx.user, access=ctx.access,
                              progress=_progress("导出"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"已导出 {result['rows']} 行到 {'、'.join(result['files'])}"
          + ("（未脱敏，已记入审计日志）" if args.unmask else ""))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("import", help="导入 Excel/WPS 表格或 CSV 中的居民")
    p.add_argument("file", help=".xlsx、.xls 或 .csv 文件")
    p.add_argument("--db", required=True)
    p.add_argument("--sheet", help="工作表名称（默认第一个）")
    p.add_argument("--unit", help="导入到哪个社区或网格（编码或名称；只有一个社区时可省略）")
    p.add_argument("--dry-run", action="store_true", help="只检查，不导入")
    p.add_argument("--on-duplicate", choices=("skip", "update", "fill"), default="skip",
                   help="已登记的人：跳过（默认）、用表中非空值覆盖、只补空字段")
    p.add_argument("--errors", metavar="OUT.xlsx", help="把错误行写入此文件，改正后可再导入")
    p.add_argument("--all-or-nothing", action="store_true", help="有任何错误行就全部不导入")
    p.add_argument("--json", action="store_true", help="输出一行 JSON 计数")
    p.set_defaults(run=_import, needs=WRITE)

    p = sub.add_parser("export", help="按模板导出 xlsx 或 CSV（默认脱敏）")
    p.add_argument("--db", required=True)
    p.add_argument("--what", required=True, choices=WHAT)
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("-o", "--output", required=True, help="输出文件")
    p.add_argument("--template", help="导出模板名称（resources/export_templates 下的文件名）")
    p.add_argument("--unit", help="只导出此网格单元（编码或名称）及其下级")
    p.add_argument("--unmask", action="store_true", help="导出完整身份证号和电话（记入审计日志）")
    p.set_defaults(run=_export)
