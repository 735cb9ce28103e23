"""`shequ volunteers hours` and `shequ volunteers certificate`."""
from __future__ import annotations

import errno
import json
import sys

from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

HOURS_KEYS = ("id", "name", "team", "status", "hours", "month", "year", "total", "star",
              "star_name", "points")


def _date(text: str | None) -> str | None:
    from shequ_desktop.core.validation import parse_date

    if not text:
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise DomainError(f"日期{exc}") from None


def _existing_db(args):
    """The signed-in connection of a database that must already exist (must_exist: checked
    before the sign-in, a read command must not create an empty one from a mistyped path)."""
    return args.ctx.conn


_WRITE_ERRORS = {errno.ENOENT: "所在文件夹不存在", errno.EISDIR: "这是一个文件夹，请给出文件名",
                 errno.EACCES: "没有写入权限", errno.EPERM: "没有写入权限",
                 errno.ENOSPC: "磁盘空间不足", errno.EROFS: "磁盘只读"}


def write_error(path, exc: OSError) -> DomainError:
    """A Chinese message for a file that cannot be written."""
    why = _WRITE_ERRORS.get(exc.errno, "文件无法写入（可能正被其他程序打开）")
    return DomainError(f"无法写入“{path}”：{why}")


def _hours(args) -> int:
    from shequ_desktop.volunteers import points as volunteer_points

    conn = _existing_db(args)
    team_id = None
    if args.team:
        row = conn.execute("SELECT id FROM volunteer_teams WHERE name = ?", (args.team,)).fetchone()
        if row is None:
            raise DomainError(f"没有名为“{args.team}”的服务队")
        team_id = row[0]
    rows = volunteer_points.hours_summary(conn, _date(args.date_from), _date(args.date_to),
                                          team_id=team_id, include_left=args.all,
                                          access=args.ctx.access)
    for row in rows:
        out = {k: row[k] for k in HOURS_KEYS}
        if args.json:
            print(json.dumps(out, ensure_ascii=False))
        else:
            print("\t".join("" if v is None else str(v) for v in out.values()))
    if not args.json:
        print(f"共 {len(rows)} 位志愿者，期间合计 {sum(r['hours'] for r in rows):g} 小时",
              file=sys.stderr)
    return 0


def _certificate(args) -> int:
    from shequ_desktop.reports.pdf import certificate
    from shequ_desktop.volunteers import roster as volunteers

    conn = _existing_db(args)
    person = volunteers.find(conn, args.volunteer)
    args.ctx.get("volunteers", person["id"])        # a 网格员: only a volunteer of their grids
    try:
        result = certificate.build(conn, person["id"], args.output,
                                   date_from=_date(args.date_from), date_to=_date(args.date_to),
                                   font_path=args.font, actor=args.ctx.user)
    except OSError as exc:
        raise write_error(args.output, exc) from None
    if args.font and result["font"] != args.font:
        print(f"注意：字体文件“{args.font}”无法使用，已改用 {result['font_label']}",
              file=sys.stderr)
    if result["warning"]:
        print(f"注意：{result['warning']}", file=sys.stderr)
    print(f"已生成 {args.output}：{person['name']}，{result['period']}，"
          f"{result['activities']} 次活动，{result['hours']:g} 小时，共 {result['pages']} 页")
    return 0


def add_commands(sub) -> None:
    group = sub.add_parser("volunteers", help="志愿者：服务时长、志愿服务证明").add_subparsers(
        dest="volunteers_command", required=True, metavar="子命令")

    p = group.add_parser("hours", help="每位志愿者的服务时长、星级和积分余额")
    p.add_argument("--db", required=True)
    p.add_argument("--from", dest="date_from", help="起始日期（含），默认不限")
    p.add_argument("--to", dest="date_to", help="截止日期（含），默认不限")
    p.add_argument("--team", help="只列这个服务队")
    p.add_argument("--active", dest="all", action="store_false",
                   help="只列在册志愿者（默认包括已退出的）")
    p.add_argument("--json", action="store_true", help="每位志愿者输出一行 JSON")
    p.set_defaults(run=_hours, must_exist=True)

    p = group.add_parser("certificate", help="出具一位志愿者的志愿服务证明（PDF）")
    p.add_argument("--db", required=True)
    p.add_argument("--volunteer", required=True, help="志愿者编号、身份证号或姓名")
    p.add_argument("--from", dest="date_from", help="起始日期（含），默认自加入起")
    p.add_argument("--to", dest="date_to", help="截止日期（含），默认至今")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc），默认自动查找")
    p.set_defaults(run=_certificate, must_exist=True)
