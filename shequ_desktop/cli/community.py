"""The community's own workflows on the command line (issue 21): `shequ focus …` (the focus
groups, their own fields, members and export) and `shequ services …` (一老一小 services).

Each command opens its Context in `_context(args)` (one place to route through sign-in) and
hands it to a `run_…(ctx, args)` function.
"""
from __future__ import annotations

import json
import sys

from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def _context(args):
    """The signed-in Context the command line opened (cli_session.open_context)."""
    return args.ctx


def _unit(ctx, code: str | None) -> int | None:
    from shequ_desktop.core import tree

    return tree.unit_by_code(ctx.conn, code)


def _tag_id(ctx, name: str) -> int:
    row = ctx.conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise DomainError(f"没有“{name}”这一重点人群（shequ focus groups 列出全部）")
    return row[0]


def _print(rows: list[dict], as_json: bool) -> None:
    for row in rows:
        if as_json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print("\t".join("" if v is None else
                            "、".join(v) if isinstance(v, list) else str(v)
                            for v in row.values()))


def _run(fn):
    return lambda args: fn(_context(args), args)


def command_group(sub, name: str, help_text: str):
    """`shequ NAME …`: returns command(sub-name, help, fn, as_json=False, write=False), which
    adds a sub-command of an existing database (--db; --user is added by cli.py for the
    sign-in) whose run calls fn(signed-in ctx, args); `write`: it changes data."""
    from shequ_desktop.cli.session import READ, WRITE

    group = sub.add_parser(name, help=help_text).add_subparsers(
        dest=f"{name}_command", required=True, metavar="子命令")

    def command(cmd: str, help_text: str, fn, *, as_json: bool = False, write: bool = False):
        p = group.add_parser(cmd, help=help_text)
        p.add_argument("--db", required=True, help="数据库文件路径")
        if as_json:
            p.add_argument("--json", action="store_true", help="每行输出一个 JSON")
        p.set_defaults(run=_run(fn), needs=WRITE if write else READ, must_exist=True)
        return p
    return command


def write_pdf(build, output: str, **kwargs) -> dict:
    """Run a PDF builder `build(output=…, **kwargs)`; a file that cannot be written is a
    clear message, a font that is not embedded a note on stderr."""
    from shequ_desktop.cli.volunteers import write_error

    try:
        result = build(out_path=output, **kwargs)
    except OSError as exc:
        raise write_error(output, exc) from None
    if result.get("warning"):
        print(f"注意：{result['warning']}", file=sys.stderr)
    return result


# --- focus groups ------------------------------------------------------------------------------

def run_groups(ctx, args) -> int:
    from shequ_desktop.population import focus_groups

    rows = [{"name": g["name"], "visit_interval_days": g["visit_interval_days"],
             "members": g["members"], "fields": g["fields"]}
            for g in focus_groups.groups(ctx.conn, ctx.access, _unit(ctx, args.unit))]
    _print(rows, args.json)
    if not args.json:
        print(f"共 {len(rows)} 类重点人群", file=sys.stderr)
    return 0


def run_catalogue(ctx, args) -> int:
    from shequ_desktop.population import focus_groups

    result = focus_groups.ensure_catalogue(ctx)
    print(f"已按目录补充 {len(result.changes)} 类重点人群"
          f"（目录共 {len(focus_groups.catalogue())} 类）")
    return 0


def run_add(ctx, args) -> int:
    from shequ_desktop.population import focus_groups

    result = focus_groups.add_group(ctx, args.name, args.interval, args.fields)
    print(f"已添加重点人群“{args.name}”（编号 {result.id}），附加字段："
          f"{'、'.join(focus_groups.fields_of(ctx.conn, result.id)) or '无'}")
    return 0


def run_fields(ctx, args) -> int:
    from shequ_desktop.population import focus_groups

    tag_id = _tag_id(ctx, args.group)
    if args.reset:
        focus_groups.set_fields(ctx, tag_id, None)
    elif args.set is not None:
        focus_groups.set_fields(ctx, tag_id, [args.set])
    print("、".join(focus_groups.fields_of(ctx.conn, tag_id)) or "（无附加字段）")
    return 0


def run_members(ctx, args) -> int:
    from shequ_desktop.core.masking import mask_phone
    from shequ_desktop.population import focus_groups

    rows = focus_groups.members(ctx.conn, _tag_id(ctx, args.group), ctx.access,
                                _unit(ctx, args.unit))
    out = []
    for m in rows:
        row = {"id": m["id"], "name": m["name"], "birth_date": m["birth_date"],
               "phone": mask_phone(m["phone"]), "address": m["address"], "since": m["since"],
               "last_visit": m["last_visit"]}
        if args.json:
            row["fields"] = m["values"]
        else:
            row.update(m["values"])
        out.append(row)
    _print(out, args.json)
    if not args.json:
        print(f"共 {len(out)} 人", file=sys.stderr)
    return 0


def run_set(ctx, args) -> int:
    from shequ_desktop.population import focus_groups

    values = {}
    for item in args.values:
        label, sep, value = item.partition("=")
        if not sep or not label.strip():
            raise DomainError(f"“{item}”应写成 字段=值（如 残疾等级=二级）")
        values[label.strip()] = value
    focus_groups.set_member_values(ctx, args.resident, values)
    print(f"已更新 {len(values)} 项")
    return 0


def run_export(ctx, args) -> int:
    from shequ_desktop.transfer.exporting import templates, writer

    template = templates.focus_group_template(ctx.conn, _tag_id(ctx, args.group))
    fmt = "csv" if args.output.lower().endswith(".csv") else "xlsx"
    result = writer.export(ctx.conn, template, args.output, fmt, unit_id=_unit(ctx, args.unit),
                           unmask=args.unmask, actor=ctx.user, access=ctx.access)
    print(f"已导出{template.title} {result['rows']} 行到 {args.output}")
    return 0


# --- services ----------------------------------------------------------------------------------

def run_record(ctx, args) -> int:
    import datetime as dt

    from shequ_desktop.casework import services

    results = services.record_services(ctx, args.resident, args.date or dt.date.today(),
                                       args.kind, args.provider, args.content)
    print(f"已登记 {len(results)} 条{args.kind}服务")
    return 0


def run_list(ctx, args) -> int:
    from shequ_desktop.casework import services
    from shequ_desktop.reports.ledger_rows import parse_month

    start = end = None
    if args.month:
        month = parse_month(args.month)
        start, end = month.first.isoformat(), month.last.isoformat()
    rows = services.list_services(ctx.conn, access=ctx.access, unit_id=_unit(ctx, args.unit),
                                  start=start, end=end, kind=args.kind)
    _print([{k: r[k] for k in ("id", "served_on", "kind", "name", "address", "provider",
                               "content")} for r in rows], args.json)
    if not args.json:
        print(f"共 {len(rows)} 条", file=sys.stderr)
    return 0


def add_commands(sub) -> None:
    command = command_group(sub, "focus", "重点人群：类别、附加字段、成员、导出")

    def unit(p):
        p.add_argument("--unit", help="网格单元编码（默认全部）")
        return p

    unit(command("groups", "列出重点人群类别（走访周期、人数、附加字段）", run_groups,
                 as_json=True))
    command("catalogue", "按内置目录补充缺少的重点人群类别（管理员）", run_catalogue, write=True)
    p = command("add", "新增重点人群类别（管理员）", run_add, write=True)
    p.add_argument("name", help="类别名称")
    p.add_argument("--interval", type=int, help="走访周期（天）")
    p.add_argument("--fields", action="append", help="附加字段，逗号分隔，可重复")
    p = command("fields", "查看或设置一类重点人群的附加字段", run_fields)
    p.add_argument("group", help="类别名称")
    p.add_argument("--set", help="新的附加字段，逗号分隔")
    p.add_argument("--reset", action="store_true", help="恢复为目录中的附加字段")
    p = unit(command("members", "列出一类重点人群的成员和附加信息", run_members, as_json=True))
    p.add_argument("group", help="类别名称")
    p = command("set", "填写一位居民的重点人群附加信息", run_set, write=True)
    p.add_argument("--resident", type=int, required=True, help="居民编号")
    p.add_argument("values", nargs="+", metavar="字段=值", help="如 残疾等级=二级；值为空则清除")
    p = unit(command("export", "导出一类重点人群名单（含附加字段）", run_export))
    p.add_argument("group", help="类别名称")
    p.add_argument("-o", "--output", required=True, help="输出文件（.xlsx 或 .csv）")
    p.add_argument("--unmask", action="store_true", help="完整证件号和电话（记入审计日志）")

    command = command_group(sub, "services", "一老一小服务（助餐、上门服务、托育等）")
    p = command("record", "登记服务（可一次登记多人）", run_record, write=True)
    p.add_argument("--resident", type=int, action="append", required=True,
                   help="居民编号，可重复")
    p.add_argument("--kind", required=True, help="服务项目，如 助餐、上门服务、托育")
    p.add_argument("--provider", required=True, help="服务人或服务机构")
    p.add_argument("--date", help="服务日期（默认今天）")
    p.add_argument("--content", help="服务内容")
    p = unit(command("list", "列出服务记录", run_list, as_json=True))
    p.add_argument("--month", help="月份 YYYY-MM（默认全部）")
    p.add_argument("--kind", help="只列这个服务项目")
