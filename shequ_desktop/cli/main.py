"""The `shequ` command line. Every command takes --db PATH."""
from __future__ import annotations

import argparse
import importlib
import json
import sys

from db import StorageError
from shequ_desktop.cli.session import WRITE
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

USER_HELP = ("登录的用户名（也可用环境变量 SHEQU_USER；密码取自 SHEQU_PASSWORD 或终端输入）；"
             "没有用户的数据库：记入审计日志的操作人")

# Modules that add their own commands: each has add_commands(subparsers) and keeps its heavy
# imports inside the command functions.
COMMAND_MODULES: tuple[str, ...] = (
    "shequ_desktop.cli.backup",
    "shequ_desktop.cli.volunteers",
    "shequ_desktop.cli.ledgers",
    "shequ_desktop.cli.transfer",
    "shequ_desktop.cli.reports",
    "shequ_desktop.cli.keys",
    "shequ_desktop.cli.package",
    "shequ_desktop.cli.users",
    "shequ_desktop.cli.community",
    "shequ_desktop.cli.microgrids",
    "shequ_desktop.cli.meetings",
    "shequ_desktop.cli.checkups",
    "shequ_desktop.cli.siteplan",
)


def _init(args) -> int:
    from shequ_desktop.places import founding as community
    ctx = args.ctx
    if not community.is_empty(ctx):
        raise DomainError(f"“{args.db}”中已有社区，未作修改")
    community.init_community(ctx, args.community, args.street)
    print(f"已创建数据库 {args.db}，社区：{args.community}")
    return 0


def _demo(args) -> int:
    """A new database is made encrypted, with the documented demo administrator."""
    from shequ_desktop.demo import street as demo
    from shequ_desktop.security import unlock

    building = None
    if unlock.is_new(args.db):                   # filled beside, renamed when it can be opened
        building = unlock.building_name(args.db)
        unlock.discard_new(building)
        conn, key = unlock.create_database(building)
    else:
        from db import open_db

        unlock.unlock_for_command(args.db)
        conn, key = open_db(args.db), None

    shown = {"tenth": -1}

    def progress(done: int, total: int) -> None:
        """「已生成 12,000 / 200,000 人」: rewritten in place on a terminal, else one line per
        tenth (a log or a pipe gets a few lines, not thousands)."""
        text = f"已生成 {done:,} / {total:,} 人"
        if sys.stderr.isatty():
            print(f"\r{text}", end="", file=sys.stderr, flush=True)
        elif done * 10 // max(total, 1) > shown["tenth"]:
            shown["tenth"] = done * 10 // max(total, 1)
            print(text, file=sys.stderr, flush=True)

    counts = demo.generate(conn, residents=args.residents, seed=args.seed, progress=progress)
    from shequ_desktop.security import users
    if users.needs_admin(conn):
        from shequ_desktop.core.context import Context
        key = users.create_demo_admin(Context(conn), building or args.db, key)
        print(f"演示管理员：用户名 {users.DEMO_USER}，密码 {users.DEMO_PASSWORD}", file=sys.stderr)
    conn.close()
    if building is not None:
        unlock.finish_new(building, args.db)
    elif key is not None:
        unlock.encrypt_plain(args.db, key)        # an empty plain file given to demo
    if sys.stderr.isatty():
        print(file=sys.stderr)
    print(f"已生成演示数据：{counts['grid_units']} 个网格单元，{counts['houses']} 套房屋，"
          f"{counts['households']} 户，{counts['residents']} 人，"
          f"{counts['resident_tags']} 条重点人群标记，{counts['visits']} 条走访记录，"
          f"{counts['events']} 件事件，{counts['volunteers']} 名志愿者，"
          f"{counts['activities']} 次志愿活动")
    return 0


def _check(args) -> int:
    """Errors fail the check (exit 1); warnings are listed and do not."""
    from shequ_desktop.reports.checks import SEVERITY_LABELS, run_checks

    results = run_checks(args.ctx.conn, access=args.ctx.access)
    failed = [r for r in results if not r.ok]
    if args.json:
        for r in results:
            print(json.dumps(r.as_json(), ensure_ascii=False))
    else:
        for r in results:
            state = "通过" if not r.count else ("失败" if not r.ok else SEVERITY_LABELS[r.severity])
            print(f"{state}  {r.label}" + (f"：{r.count} 处" if r.count else ""))
            for problem in r.problems[:args.limit or None]:
                print(f"      {problem}")
            if args.limit and r.count > args.limit:
                print(f"      …… 另有 {r.count - args.limit} 处（--limit 0 全部列出）")
        warned = sum(1 for r in results if r.ok and r.count)
        print(("全部检查通过" if not failed else f"{len(failed)} 项检查未通过")
              + (f"，{warned} 项提示" if warned else ""))
    return 0 if not failed else 1


def _search(args) -> int:
    from shequ_desktop.core import search

    statuses = (ON_RECORD, MOVED_OUT, DECEASED) if args.all else (ON_RECORD,)
    found = search.search(args.ctx.conn, args.query, limit=args.limit, statuses=statuses,
                          access=args.ctx.access)
    keys = ("id", "name", "gender", "birth_date", "id_number", "phone", "household_id",
            "relation_to_head", "status")
    _print_rows([{k: row[k] for k in keys} for row in found], args.json)
    if not args.json:
        print(f"共 {len(found)} 人", file=sys.stderr)
    return 0


def _visits_due(args) -> int:
    from shequ_desktop.casework import visits

    on = _date_arg(args.on)
    rows = visits.due_records(args.ctx.conn, on, args.unit, access=args.ctx.access)
    _print_rows(rows, args.json)
    if not args.json:
        print(f"共 {len(rows)} 人到期或逾期", file=sys.stderr)
    return 0


def _events_list(args) -> int:
    from shequ_desktop.casework import events

    resident_id = None
    if args.resident:
        resident_id = events.resident_by_key(args.ctx.conn, args.resident)
    rows = events.list_records(args.ctx.conn, status=args.status, overdue=args.overdue,
                               on=_date_arg(args.on), access=args.ctx.access,
                               resident_id=resident_id)
    _print_rows(rows, args.json)
    return 0


def _events_link(args) -> int:
    """Link an event to the resident it concerns (--resident), or unlink it (--none)."""
    from shequ_desktop.casework import events

    conn = args.ctx.conn
    resident_id = None if args.none else events.resident_by_key(conn, args.resident)
    before = events.get_event(conn, args.event_id)
    result = events.set_resident(args.ctx, args.event_id, resident_id)
    event = events.get_event(conn, args.event_id)
    about = f"事件 {event['id']}（{event['category']}：{_one_line(event['description'], 20)}）"
    if not result.changes:
        print(f"{about}" + (f"已关联居民 {event['resident']}" if resident_id is not None
                            else "未关联居民") + "，未作修改")
    elif resident_id is not None:
        print(f"已将{about}关联到居民 {event['resident']}")
    else:
        print(f"已解除{about}与居民 {before['resident']} 的关联")
    return 0


def _one_line(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[:limit] + "…"


def _print_rows(rows: list[dict], as_json: bool) -> None:
    """One JSON object a line, or tab-separated values."""
    for row in rows:
        if as_json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print("\t".join("" if v is None else str(v) for v in row.values()))


def _date_arg(text: str | None):
    import datetime as dt

    from shequ_desktop.core.validation import parse_date

    if not text:
        return dt.date.today()
    try:
        return dt.date.fromisoformat(parse_date(text))
    except ValueError as exc:
        raise DomainError(f"日期{exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="shequ", description="社区网格工作台命令行")
    sub = parser.add_subparsers(dest="command", required=True, metavar="命令")

    p = sub.add_parser("init", help="新建数据库及其第一个社区")
    p.add_argument("--db", required=True, help="数据库文件路径")
    p.add_argument("--community", default="新社区", help="社区名称")
    p.add_argument("--street", help="所属街道名称（可选）")
    p.add_argument("--user", help=USER_HELP)
    p.set_defaults(run=_init, needs=WRITE)

    p = sub.add_parser("demo", help="在空数据库中生成演示数据")
    p.add_argument("--db", required=True)
    p.add_argument("--residents", type=int, default=8000, help="人数（默认 8000）")
    p.add_argument("--seed", type=int, default=1, help="随机种子（默认 1）")
    p.set_defaults(run=_demo, unlocks_itself=True)

    p = sub.add_parser("check", help="检查数据库的完整性和数据质量（错误使检查失败，提示不会）")
    p.add_argument("--db", required=True)
    p.add_argument("--json", action="store_true", help="每项检查输出一行 JSON（列出全部问题记录）")
    p.add_argument("--limit", type=int, default=10, help="每项最多列出几条（默认 10，0 为全部）")
    p.set_defaults(run=_check)

    p = sub.add_parser("search", help="查找居民：姓名、拼音、身份证号或电话片段、地址")
    p.add_argument("--db", required=True)
    p.add_argument("query", help="如 王芳、wf、1234、3栋2单元501")
    p.add_argument("--limit", type=int, default=50, help="最多显示多少人（默认 50，0 为不限）")
    p.add_argument("--all", action="store_true", help="包括迁出和死亡人员")
    p.add_argument("--json", action="store_true", help="每人输出一行 JSON")
    p.set_defaults(run=_search)

    visits_cmd = sub.add_parser("visits", help="重点人群走访").add_subparsers(
        dest="visits_command", required=True, metavar="子命令")
    p = visits_cmd.add_parser("due", help="到期和逾期未访的重点人员")
    p.add_argument("--db", required=True)
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p.add_argument("--on", help="按哪一天计算（默认今天）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_visits_due)

    events_cmd = sub.add_parser("events", help="事件").add_subparsers(
        dest="events_command", required=True, metavar="子命令")
    p = events_cmd.add_parser("list", help="列出事件")
    p.add_argument("--db", required=True)
    p.add_argument("--status", help="上报、受理、处置中、办结、归档")
    p.add_argument("--overdue", action="store_true", help="只列逾期未办结的")
    p.add_argument("--on", help="按哪一天判断逾期（默认今天）")
    p.add_argument("--resident", help="只列与这位居民有关的（身份证号或居民编号）")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=_events_list)
    p = events_cmd.add_parser("link", help="把事件关联到它涉及的居民（或用 --none 解除关联）")
    p.add_argument("--db", required=True)
    p.add_argument("event_id", type=int, metavar="EVENT_ID", help="事件编号")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--resident", help="居民的身份证号或居民编号（须住在事件所在网格）")
    which.add_argument("--none", action="store_true", help="解除事件与居民的关联")
    p.set_defaults(run=_events_link, needs=WRITE, must_exist=True)

    for name in COMMAND_MODULES:
        importlib.import_module(name).add_commands(sub)
    for choices in _all_subparsers(sub):           # one door: every --db command signs in
        if any(a.dest == "db" for a in choices._actions) and not any(
                a.dest == "user" for a in choices._actions):
            choices.add_argument("--user", help=USER_HELP)
    return parser


def _all_subparsers(sub) -> list[argparse.ArgumentParser]:
    found = []
    for parser in sub.choices.values():
        nested = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        found.extend(_all_subparsers(nested[0]) if nested else [parser])
    return found


def _end_session(ctx) -> None:
    """The session's audit entries anchored in the key file, then the connection closed."""
    import contextlib

    with contextlib.suppress(Exception):          # closed already (backup, restore)
        if ctx.access is not None:
            from shequ_desktop.core import audit
            audit.anchor(ctx.conn)
    ctx.conn.close()


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if argv is None:                      # a real command, not a test calling in
        from shequ_desktop.core.paths import use_private_temp
        use_private_temp()
    try:
        if getattr(args, "db", None) and not getattr(args, "unlocks_itself", False):
            from shequ_desktop.cli.session import open_context
            args.ctx = open_context(args)
        try:
            return args.run(args)
        finally:
            ctx = getattr(args, "ctx", None)
            if ctx is not None:
                _end_session(ctx)
    except (StorageError, DomainError) as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:             # `shequ check | head`: the reader has had enough
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
