"""`shequ microgrids …` (issue 21, 微网实格): micro-grids below a 网格, their heads, the
households they cover, the head's visit list, events assigned to a head, and the printed
公示牌 and contact list. Commands take an opened Context (cli_community._context)."""
from __future__ import annotations

import sys

from shequ_desktop.cli.community import _print, _unit, command_group, write_pdf
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).

KEYS = ("id", "grid_name", "name", "scope", "head_name", "head_role", "head_phone",
        "households", "residents", "focus")


def _grid(ctx, code: str | None) -> int:
    unit = _unit(ctx, code)
    if unit is None:
        raise DomainError("请用 --grid 给出网格的编码")
    return unit


def _microgrid(ctx, ref: str) -> int:
    """A micro-grid by id or by name (a name must be unique)."""
    if ref.isdigit():
        return int(ref)
    found = ctx.conn.execute("SELECT id FROM microgrids WHERE name = ?", (ref,)).fetchall()
    if len(found) != 1:
        raise DomainError(f"没有名为“{ref}”的微网格" if not found else
                          f"有 {len(found)} 个名为“{ref}”的微网格，请用编号")
    return found[0][0]


def run_list(ctx, args) -> int:
    from shequ_desktop.community import microgrids

    rows = microgrids.list_microgrids(ctx.conn, ctx.access, _unit(ctx, args.unit))
    _print([{k: r[k] for k in KEYS} for r in rows], args.json)
    if not args.json:
        print(f"共 {len(rows)} 个微网格", file=sys.stderr)
    return 0


def run_add(ctx, args) -> int:
    from shequ_desktop.community import microgrids

    result = microgrids.create_microgrid(
        ctx, _grid(ctx, args.grid), args.name, unit_id=_unit(ctx, args.unit),
        head_name=args.head, head_role=args.role, head_phone=args.phone,
        head_resident_id=args.resident, notes=args.notes)
    print(f"已建立微网格“{args.name}”（编号 {result.id}）")
    return 0


def run_delete(ctx, args) -> int:
    from shequ_desktop.community import microgrids

    microgrids.delete_microgrid(ctx, _microgrid(ctx, args.microgrid))
    print("已删除")
    return 0


def run_households(ctx, args) -> int:
    from shequ_desktop.community import microgrids

    mg = _microgrid(ctx, args.microgrid)
    if args.set is not None:
        ids = [int(x) for x in args.set.replace("，", ",").split(",") if x.strip()]
        microgrids.set_households(ctx, mg, ids)
    ids = microgrids.household_ids(ctx.conn, mg)
    print(",".join(str(i) for i in ids))
    print(f"共 {len(ids)} 户", file=sys.stderr)
    return 0


def run_residents(ctx, args) -> int:
    from shequ_desktop.community import microgrids
    from shequ_desktop.core.masking import mask_phone
    from shequ_desktop.population.resident_list import rows as resident_rows

    mg = ctx.get("microgrids", _microgrid(ctx, args.microgrid))     # NotPermitted outside
    ids = microgrids.resident_ids(ctx.conn, mg["id"])
    out = [{"id": r["id"], "name": r["name"], "gender": r["gender"], "age": r["age"],
            "address": r["address"], "relation": r["relation_to_head"],
            "phone": mask_phone(r["phone"])} for r in resident_rows(ctx.conn, ids)]
    _print(out, args.json)
    if not args.json:
        print(f"共 {len(out)} 人", file=sys.stderr)
    return 0


def run_due(ctx, args) -> int:
    from shequ_desktop.cli.main import _date_arg
    from shequ_desktop.community import microgrids

    rows = microgrids.due_visits(ctx.conn, _microgrid(ctx, args.microgrid), _date_arg(args.on),
                                 ctx.access)
    _print([{k: r[k] for k in ("resident_id", "name", "address", "tags", "last_visit",
                               "due_on", "days_overdue")} for r in rows], args.json)
    if not args.json:
        print(f"共 {len(rows)} 人到期或逾期", file=sys.stderr)
    return 0


def run_assign(ctx, args) -> int:
    from shequ_desktop.community import microgrids

    mg = None if args.microgrid in ("none", "无") else _microgrid(ctx, args.microgrid)
    microgrids.assign_event(ctx, args.event, mg)
    print("已指派" if mg is not None else "已取消指派")
    return 0


def run_board(ctx, args) -> int:
    from functools import partial

    from shequ_desktop.reports.pdf import microgrid_board

    grid = _grid(ctx, args.grid)
    build = (partial(microgrid_board.build_contacts, ctx.conn, grid) if args.contacts else
             partial(microgrid_board.build_board, ctx.conn, grid, phone=args.phone))
    result = write_pdf(build, args.output, font_path=args.font, actor=ctx.user)
    print(f"已生成 {args.output}：{result['rows']} 个微网格，{result['pages']} 页")
    return 0


def add_commands(sub) -> None:
    command = command_group(sub, "microgrids", "微网实格：微网格、微网格员、公示牌")

    p = command("list", "列出微网格及其微网格员", run_list, as_json=True)
    p.add_argument("--unit", help="网格单元编码（默认全部）")
    p = command("add", "新建微网格", run_add, write=True)
    p.add_argument("--grid", required=True, help="所属网格的编码")
    p.add_argument("name", help="微网格名称")
    p.add_argument("--unit", help="范围：楼栋或单元的编码（不给则为选定的户，见 households）")
    p.add_argument("--resident", type=int, help="微网格员（居民编号）")
    p.add_argument("--head", help="微网格员姓名（非本网格居民时）")
    p.add_argument("--role", help="身份：楼栋长、单元长、党员中心户、志愿者……")
    p.add_argument("--phone", help="联系电话（居民默认取其登记的电话）")
    p.add_argument("--notes")
    p = command("delete", "删除微网格", run_delete, write=True)
    p.add_argument("microgrid", help="微网格编号或名称")
    p = command("households", "列出或设定微网格选定的户", run_households)
    p.add_argument("microgrid", help="微网格编号或名称")
    p.add_argument("--set", help="户编号，逗号分隔（替换原来选定的户）")
    p = command("residents", "列出微网格内的在册居民", run_residents, as_json=True)
    p.add_argument("microgrid", help="微网格编号或名称")
    p = command("due", "微网格员的走访清单（到期和逾期的重点人员）", run_due, as_json=True)
    p.add_argument("microgrid", help="微网格编号或名称")
    p.add_argument("--on", help="按哪一天计算（默认今天）")
    p = command("assign", "把事件指派给微网格员", run_assign, write=True)
    p.add_argument("--event", type=int, required=True, help="事件编号")
    p.add_argument("microgrid", help="微网格编号或名称；none 取消指派")
    p = command("board", "打印网格员/微网格员公示牌（PDF）或 --contacts 联系表", run_board)
    p.add_argument("--grid", required=True, help="网格编码")
    p.add_argument("--phone", help="公示牌上网格的联系电话")
    p.add_argument("--contacts", action="store_true", help="打印微网格联系表")
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc）")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
