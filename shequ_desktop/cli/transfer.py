"""`shequ import` and `shequ export` (issue 5).

    shequ import FILE --db PATH [--sheet NAME] [--unit CODE] [--dry-run]
                 [--on-duplicate skip|update|fill] [--errors OUT.xlsx] [--all-or-nothing] [--json]
                 [--what residents|focus|visits|volunteers] [--values MAP.json]
                 [--flat address|person]
    shequ export --db PATH --what residents|households|focus|visits|events|volunteers
                 --format xlsx|csv -o OUT [--template NAME] [--unit CODE] [--for-upload]
    shequ export --db PATH --what … --into TEMPLATE.xlsx|.xls -o OUT.xlsx [--unit CODE]
                 [--for-upload] [--code COLUMN …] [--tag NAME …]   (fill the platform's template)
    shequ division-code --db PATH [CODE]     (the community's administrative-division code)

import exits 0 when no row is in error, 3 when some are (the valid rows are still imported
unless --all-or-nothing), 2 when the file cannot be read at all.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from shequ_desktop.cli.session import ADMIN_ONLY, WRITE, check_allowed
from shequ_desktop.core import tree
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

EXIT_ROW_ERRORS = 3
WHAT = ("residents", "households", "focus", "visits", "events", "volunteers")
COUNT_KEYS = ("rows", "created", "updated", "unchanged", "skipped", "errors")


def _unit(ctx, code: str | None) -> int | None:
    """The unit named by code (or name); without one, the only community (or street), or a
    网格员's one grid."""
    conn = ctx.conn
    if code:
        return tree.unit_by_code(conn, code)
    if ctx.access is not None and ctx.access.restricted:
        from shequ_desktop.cli.session import default_unit
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
    from shequ_desktop.places import founding as community
    from shequ_desktop.transfer.importing import (
        apply_plan,
        build_plan,
        read_table,
        write_error_report,
    )
    from shequ_desktop.transfer.importing.registers import (
        WHAT_LABELS,
        detect,
        import_register,
    )

    table = read_table(args.file, args.sheet)           # UnreadableFile: exit 2
    values = _value_map(args.values) if args.values else None
    what = args.what or detect(table)[0]
    ctx = args.ctx                                     # signed in (cli_session)
    conn = ctx.conn
    if what != "residents":
        with ctx.transaction():
            unit_id = None if args.dry_run else _unit(ctx, args.unit)
            if unit_id is None and not args.dry_run and community.is_empty(ctx):
                unit_id = community.init_community(ctx, "新社区", None).id
            result = import_register(ctx, table, what, unit_id, tag_name=args.tag,
                                     dry_run=args.dry_run, on_duplicate=args.on_duplicate,
                                     values=values, flat=args.flat,
                                     all_or_nothing=args.all_or_nothing,
                                     progress=_progress("导入"))
        plan, counts = result.plan, result.counts
        if not args.json:
            print(f"按{WHAT_LABELS[what]}登记表导入" + (f"（重点人群：{result.tag}，"
                  f"标记 {counts.get('tagged', 0)} 人）" if result.tag else ""))
    else:
        plan = build_plan(conn, table, on_duplicate=args.on_duplicate, values=values,
                          flat=args.flat, progress=_progress("检查"))
        counts = plan.counts()
    if what == "residents" and not args.dry_run and not (args.all_or_nothing
                                                        and counts["errors"]):
        with ctx.transaction():          # a community made for an empty database goes too
            unit_id = _unit(ctx, args.unit)
            if unit_id is None and community.is_empty(ctx):
                unit_id = community.init_community(ctx, "新社区", None).id
            counts = apply_plan(ctx, plan, unit_id, progress=_progress("导入"))
    elif what == "residents" and args.all_or_nothing and counts["errors"]:
        counts = {**counts, "created": 0, "updated": 0}
    if sys.stderr.isatty():
        print(file=sys.stderr)
    if args.errors and counts["errors"]:
        write_error_report(plan, args.errors)
    columns = {"kept_columns": plan.kept_columns(), "ignored_columns": plan.ignored_columns(),
               "unknown_values": plan.unknown_values(), "warnings": len(plan.warning_rows()),
               "what": what, **{k: counts[k] for k in ("tagged", "not_on_record")
                                if k in counts}}
    if args.json:
        print(json.dumps({**{k: counts[k] for k in COUNT_KEYS}, **columns}, ensure_ascii=False))
    else:
        done = "检查结果（未导入）" if args.dry_run else "导入结果"
        print(f"{done}：共 {counts['rows']} 行，新增 {counts['created']}，更新 {counts['updated']}，"
              f"无变化 {counts['unchanged']}，跳过 {counts['skipped']}，错误 {counts['errors']}")
        if columns["kept_columns"]:
            print("没有对应字段、作为附加信息随人保存的列：" + "、".join(columns["kept_columns"]))
        if columns["ignored_columns"]:
            print("未导入的列：" + "、".join(columns["ignored_columns"]))
        if counts.get("not_on_record"):
            print(f"其中 {counts['not_on_record']} 行的居民不在册，走访未导入（请先导入这些居民）")
        for label, found in columns["unknown_values"].items():
            print(f"“{label}”列中代码表没有的值（该项留空，原文随人保存）："
                  + "、".join(f"{v}（{n} 行）" for v, n in found.items()))
        for row in plan.error_rows()[:50]:
            print(f"  第 {row.line} 行：{row.reason()}", file=sys.stderr)
        if args.errors and counts["errors"]:
            print(f"错误行已写入 {args.errors}", file=sys.stderr)
    return EXIT_ROW_ERRORS if counts["errors"] else 0


def _value_map(path: str) -> dict:
    """--values MAP.json: {"列名或字段": {"表中的值": "代码或名称" | "" (留空) | null (保留原文)}}."""
    try:
        with open(path, encoding="utf-8-sig") as f:
            data = json.load(f)
    except (OSError, ValueError) as exc:
        raise DomainError(f"无法读取取值对应文件“{path}”：{exc}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise DomainError(f"取值对应文件“{path}”应为 {{\"列名\": {{\"表中的值\": \"代码\"}}}} 形式")
    return data


def _export(args) -> int:
    from shequ_desktop.transfer import exporting

    ctx = args.ctx
    unit_id = _unit(ctx, args.unit) if args.unit else None
    if args.into:
        return _fill(ctx, args, unit_id)
    template = exporting.for_what(args.what, args.template)
    exporting.check_folder(Path(args.output))
    result = exporting.export(ctx.conn, template, args.output, args.format, unit_id=unit_id,
                              unmask=args.unmask, actor=ctx.user, access=ctx.access,
                              progress=_progress("导出"))
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"已导出 {result['rows']} 行到 {'、'.join(result['files'])}"
          + ("（未脱敏，用于上传，已记入审计日志）" if args.unmask else ""))
    if result.get("warning"):
        print(f"注意：{result['warning']}", file=sys.stderr)
    return 0


def _fill(ctx, args, unit_id) -> int:
    """--into: the platform's template filled; unfilled columns named before writing."""
    from shequ_desktop.transfer.exporting import fill

    template = fill.open_template(args.into)
    fill.check_folder(Path(args.output))
    conn = ctx.conn
    plan = fill.plan_columns(args.what, template.labels, fill.remembered(conn, template))
    for label in args.code or ():
        hits = [p for p in plan if p.header == label and p.key]
        if not hits:
            raise DomainError(f"模板中没有已对应字段的列“{label}”（--code）")
        plan = fill.choose(plan, args.what, hits[0].index, hits[0].key, code=True)
    blank = fill.unfilled(plan)
    if blank:
        print(f"以下 {len(blank)} 列没有对应的字段，将留空：{'、'.join(blank)}", file=sys.stderr)
    only = (("tag", tuple(args.tag)),) if args.tag else ()
    if only and args.what != "focus":
        raise DomainError("--tag 只用于 --what focus（某类重点人群的登记表）")
    result = fill.fill(conn, template, plan, args.what, args.output, unit_id=unit_id,
                       unmask=args.unmask, actor=ctx.user, access=ctx.access,
                       progress=_progress("导出"), only=only)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"已按模板“{template.path.name}”导出 {result['rows']} 行到 {result['files'][0]}"
          + ("（未脱敏，用于上传，已记入审计日志）" if args.unmask else ""))
    if result["warning"]:
        print(f"注意：{result['warning']}", file=sys.stderr)
    return 0


def _division_code(args) -> int:
    from shequ_desktop.transfer.exporting import coding

    conn = args.ctx.conn
    if args.code:
        check_allowed(args.ctx, ADMIN_ONLY, "division-code")     # looking is for everyone
        print(f"本社区行政区划代码已设为 {coding.set_division_code(conn, args.code, args.ctx.user)}")
    else:
        print(coding.division_code(conn) or "（尚未设置：shequ division-code --db PATH 代码）")
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("import", help="导入 Excel/WPS 表格或 CSV：居民、重点人群、走访记录、志愿者")
    p.add_argument("file", help=".xlsx、.xls 或 .csv 文件")
    p.add_argument("--db", required=True)
    p.add_argument("--sheet", help="工作表名称（默认第一个）")
    p.add_argument("--unit", help="导入到哪个社区或网格（编码或名称；只有一个社区时可省略）")
    p.add_argument("--dry-run", action="store_true", help="只检查，不导入")
    p.add_argument("--on-duplicate", choices=("skip", "update", "fill"), default="skip",
                   help="已登记的人：跳过（默认）、用表中非空值覆盖、只补空字段")
    p.add_argument("--errors", metavar="OUT.xlsx", help="把错误行写入此文件，改正后可再导入")
    p.add_argument("--all-or-nothing", action="store_true", help="有任何错误行就全部不导入")
    p.add_argument("--json", action="store_true",
                   help="输出一行 JSON：计数、随人保存的列、未导入的列、代码表没有的值")
    p.add_argument("--values", metavar="MAP.json",
                   help="代码表没有的值如何处理：{\"列名\": {\"值\": \"代码\"、\"\"(留空) 或 null(保留原文)}}")
    p.add_argument("--what", choices=("residents", "focus", "visits", "volunteers"),
                   help="表格内容：居民、重点人群、走访记录、志愿者（默认按表名和列名识别）")
    p.add_argument("--tag", help="重点人群登记表的人群名称（默认从表名识别，如“社区矫正”）")
    p.add_argument("--flat", choices=("address", "person"), default="address",
                   help="没有户号和与户主关系的名单：同一地址合为一户（默认，年龄最大者为户主，"
                        "待核对）或每人单独立户")
    p.set_defaults(run=_import, needs=WRITE)

    p = sub.add_parser("export", help="按模板导出 xlsx 或 CSV（默认脱敏）")
    p.add_argument("--db", required=True)
    p.add_argument("--what", required=True, choices=WHAT)
    p.add_argument("--format", choices=("xlsx", "csv"), default="xlsx")
    p.add_argument("-o", "--output", required=True, help="输出文件")
    p.add_argument("--template", help="导出模板名称（resources/export_templates 下的文件名）")
    p.add_argument("--unit", help="只导出此网格单元（编码或名称）及其下级")
    p.add_argument("--into", metavar="TEMPLATE",
                   help="填入平台下发的空白模板（.xlsx 或 .xls），输出为 .xlsx")
    p.add_argument("--for-upload", "--unmask", dest="unmask", action="store_true",
                   help="用于上传：写入完整身份证号和电话（记入审计日志）")
    p.add_argument("--code", action="append", metavar="COLUMN",
                   help="（--into）此列写代码而不是名称，可重复")
    p.add_argument("--tag", action="append", metavar="NAME",
                   help="（--into，--what focus）只写这类重点人群，如 残疾人，可重复")
    p.set_defaults(run=_export)
    p = sub.add_parser("division-code", help="查看或设置本社区的行政区划代码（GB/T 31000 导出的“现住地”）")
    p.add_argument("--db", required=True)
    p.add_argument("code", nargs="?", help="6、9 或 12 位数字；省略则显示当前代码")
    p.set_defaults(run=_division_code)
