"""`shequ checkup …` (issue 21, 社区体检): start a compound's yearly check-up, set each 完整社区
item's status, add improvement items (events in the closed loop), list, and print the report
comparing the year with the one before. Commands take an opened Context (cli_community)."""
from __future__ import annotations

import sys

from shequ_desktop.cli.community import _print, _unit, command_group, write_pdf
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def run_items(ctx, args) -> int:
    from shequ_desktop.community import checkups

    for area, entries in checkups.areas():
        print(area)
        for code, name in entries:
            print(f"  {code}\t{name}")
    return 0


def run_start(ctx, args) -> int:
    from shequ_desktop.community import checkups

    unit = _unit(ctx, args.unit)
    if unit is None:
        raise DomainError("请用 --unit 给出小区或社区的编码")
    result = checkups.start_checkup(ctx, unit, args.year, args.date, args.inspector)
    print(f"已建立社区体检（编号 {result.id}）")
    return 0


def run_set(ctx, args) -> int:
    from shequ_desktop.community import checkups

    done = 0
    for entry in args.results:
        code, sep, status = entry.partition("=")
        if not sep:
            raise DomainError(f"“{entry}”应写成 项目编号=状态（如 C2=不达标）")
        checkups.set_result(ctx, args.checkup, code.strip().upper(), status.strip(), args.notes)
        done += 1
    print(f"已记录 {done} 项")
    return 0


def run_finding(ctx, args) -> int:
    from shequ_desktop.community import checkups

    result = checkups.add_finding(ctx, args.checkup, args.item.upper(), args.content,
                                  args.owner, args.days)
    event = ctx.conn.execute("SELECT event_id FROM checkup_findings WHERE id = ?",
                             (result.id,)).fetchone()[0]
    print(f"已添加整改事项，生成事件 {event}")
    return 0


def run_photo(ctx, args) -> int:
    from shequ_desktop.community import checkups

    for path in args.files:
        checkups.add_photo(ctx, args.checkup, args.item.upper(), path)
    print(f"已存入 {len(args.files)} 张照片（随数据库加密保存）")
    return 0


def run_list(ctx, args) -> int:
    from shequ_desktop.community import checkups

    rows = checkups.list_checkups(ctx.conn, access=ctx.access, unit_id=_unit(ctx, args.unit),
                                  year=args.year)
    _print([{k: r[k] for k in ("id", "unit_name", "year", "checked_on", "checked", "passed",
                               "failed", "findings", "open_findings")} for r in rows], args.json)
    if not args.json:
        print(f"共 {len(rows)} 次体检", file=sys.stderr)
    return 0


def run_report(ctx, args) -> int:
    from functools import partial

    from shequ_desktop.reports.pdf import checkup_report

    result = write_pdf(partial(checkup_report.build, ctx.conn, args.checkup), args.output,
                       access=ctx.access, font_path=args.font, actor=ctx.user)
    print(f"已生成 {args.output}：{result['pages']} 页")
    return 0


def add_commands(sub) -> None:
    command = command_group(sub, "checkup", "社区体检：完整社区清单、整改事项、对比报告")

    command("items", "列出完整社区体检清单", run_items)
    p = command("start", "建立一个小区（或社区）某年的体检", run_start, write=True)
    p.add_argument("--unit", required=True, help="小区或社区的编码")
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--date", help="体检日期（默认今天）")
    p.add_argument("--inspector", help="体检人")
    p = command("set", "记录项目状态：达标、基本达标、不达标、不适用", run_set, write=True)
    p.add_argument("checkup", type=int, help="体检编号")
    p.add_argument("results", nargs="+", metavar="项目=状态", help="如 C2=不达标 D1=达标")
    p.add_argument("--notes", help="说明（用于这几项）")
    p = command("finding", "添加整改事项（生成事件，进入闭环）", run_finding, write=True)
    p.add_argument("checkup", type=int, help="体检编号")
    p.add_argument("item", help="项目编号，如 C2")
    p.add_argument("content", help="整改内容")
    p.add_argument("--owner", help="责任人或责任单位")
    p.add_argument("--days", type=int, help="整改期限（工作日；给出则直接受理）")
    p = command("photo", "存入某一项的照片（随数据库加密）", run_photo, write=True)
    p.add_argument("checkup", type=int, help="体检编号")
    p.add_argument("item", help="项目编号，如 C2")
    p.add_argument("files", nargs="+", help="照片文件")
    p = command("list", "列出体检", run_list, as_json=True)
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p.add_argument("--year", type=int)
    p = command("report", "打印体检报告（对比上一年）", run_report)
    p.add_argument("checkup", type=int, help="体检编号")
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc）")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
