"""`shequ meetings …` (issue 21, 议事协商): record meetings, their follow-up items (events in
the closed loop) and attachments, list them by year, print a 议事记录 or the year's list.
Commands take an opened Context (cli_community._context)."""
from __future__ import annotations

import sys

from shequ_desktop.cli.community import _print, _unit, command_group, write_pdf
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def run_list(ctx, args) -> int:
    from shequ_desktop.community import meetings

    rows = meetings.list_meetings(ctx.conn, access=ctx.access, unit_id=_unit(ctx, args.unit),
                                  year=args.year)
    _print([{k: r[k] for k in ("id", "held_on", "kind", "unit_name", "topic", "participants",
                               "items", "open_items", "attachments")} for r in rows], args.json)
    if not args.json:
        print(f"共 {len(rows)} 次", file=sys.stderr)
    return 0


def run_add(ctx, args) -> int:
    from shequ_desktop.community import meetings

    unit = _unit(ctx, args.unit)
    if unit is None:
        raise DomainError("请用 --unit 给出会议所属的社区、网格或小区的编码")
    people = [int(p) if p.isdigit() else p for p in args.participant or ()]
    result = meetings.create_meeting(
        ctx, unit, args.kind, args.date, args.topic, participants=people, place=args.place,
        host=args.host, recorder=args.recorder, discussion=args.discussion,
        decisions=args.decisions, votes_for=args.votes_for, votes_against=args.votes_against,
        votes_abstain=args.votes_abstain)
    print(f"已记录议事会议（编号 {result.id}）")
    return 0


def run_follow_up(ctx, args) -> int:
    from shequ_desktop.community import meetings

    result = meetings.add_follow_up(ctx, args.meeting, args.content, args.owner, args.days)
    event = ctx.conn.execute("SELECT event_id FROM meeting_items WHERE id = ?",
                             (result.id,)).fetchone()[0]
    print(f"已添加跟进事项，生成事件 {event}")
    return 0


def run_attach(ctx, args) -> int:
    from shequ_desktop.community import meetings

    for path in args.files:
        meetings.add_attachment(ctx, args.meeting, path)
    print(f"已存入 {len(args.files)} 个附件（随数据库加密保存）")
    return 0


def run_save_attachment(ctx, args) -> int:
    from shequ_desktop.cli.volunteers import write_error
    from shequ_desktop.community import meetings

    row = ctx.conn.execute("SELECT * FROM meeting_attachments WHERE id = ?",
                           (args.attachment,)).fetchone()
    if row is None:
        raise DomainError(f"找不到附件（编号 {args.attachment}）")
    ctx.get("meeting_attachments", args.attachment)         # NotPermitted outside scope
    name, data = meetings.attachment_data(ctx.conn, args.attachment)
    try:
        with open(args.output, "wb") as out:
            out.write(data)
    except OSError as exc:
        raise write_error(args.output, exc) from None
    print(f"已保存“{name}”到 {args.output}")
    return 0


def run_show(ctx, args) -> int:
    import json

    from shequ_desktop.community import meetings

    print(json.dumps(meetings.get_meeting(ctx.conn, args.meeting, ctx.access),
                     ensure_ascii=False, indent=1))
    return 0


def run_print(ctx, args) -> int:
    from functools import partial

    from shequ_desktop.reports.pdf import meeting_record

    if args.year:
        build = partial(meeting_record.build_year, ctx.conn, args.year,
                        unit_id=_unit(ctx, args.unit))
    elif args.meeting:
        build = partial(meeting_record.build_record, ctx.conn, args.meeting)
    else:
        raise DomainError("请给出 --meeting 编号（议事记录）或 --year 年份（年度台账）")
    result = write_pdf(build, args.output, access=ctx.access, font_path=args.font,
                       actor=ctx.user)
    print(f"已生成 {args.output}：{result['pages']} 页")
    return 0


def add_commands(sub) -> None:
    from shequ_desktop.community.meetings import KINDS

    command = command_group(sub, "meetings", "议事协商：会议记录、跟进事项、附件、打印")

    p = command("list", "列出议事会议", run_list, as_json=True)
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p.add_argument("--year", type=int, help="年份")
    p = command("add", "记录一次议事会议", run_add, write=True)
    p.add_argument("--unit", required=True, help="所属社区、网格或小区的编码")
    p.add_argument("--kind", required=True, choices=KINDS, metavar="KIND",
                   help="、".join(KINDS))
    p.add_argument("--date", required=True, help="会议日期")
    p.add_argument("--topic", required=True, help="议题")
    p.add_argument("--place")
    p.add_argument("--host", help="主持人")
    p.add_argument("--recorder", help="记录人")
    p.add_argument("--participant", action="append",
                   help="参会人员：居民编号或姓名，可重复")
    p.add_argument("--discussion", help="讨论情况")
    p.add_argument("--decisions", help="议定事项")
    p.add_argument("--for", dest="votes_for", type=int, help="赞成票")
    p.add_argument("--against", dest="votes_against", type=int, help="反对票")
    p.add_argument("--abstain", dest="votes_abstain", type=int, help="弃权票")
    p = command("show", "显示一次会议的全部内容（JSON）", run_show)
    p.add_argument("meeting", type=int, help="会议编号")
    p = command("follow-up", "添加跟进事项（生成事件，进入闭环）", run_follow_up, write=True)
    p.add_argument("meeting", type=int, help="会议编号")
    p.add_argument("content", help="跟进事项")
    p.add_argument("--owner", help="负责人")
    p.add_argument("--days", type=int, help="办理期限（工作日；给出则直接受理）")
    p = command("attach", "存入附件（照片、签到表等，随数据库加密）", run_attach, write=True)
    p.add_argument("meeting", type=int, help="会议编号")
    p.add_argument("files", nargs="+", help="文件")
    p = command("attachment", "把一个附件另存为文件", run_save_attachment)
    p.add_argument("attachment", type=int, help="附件编号（见 show）")
    p.add_argument("-o", "--output", required=True)
    p = command("print", "打印议事记录（--meeting）或年度议事协商台账（--year）", run_print)
    p.add_argument("--meeting", type=int)
    p.add_argument("--year", type=int)
    p.add_argument("--unit", help="年度台账的范围：网格单元编码")
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc）")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
