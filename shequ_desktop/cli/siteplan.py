"""`shequ siteplan …` (issue 21, 以图管房): load a compound's plan, place its buildings, show
the measure per building, print the coloured plan. Commands take an opened Context."""
from __future__ import annotations

import sys

from shequ_desktop.cli.community import _print, _unit, command_group, write_pdf
from shequ_desktop.core.errors import DomainError

# Lazy imports inside the commands, for start-up (see shequ_desktop/cli/__init__.py).


def _compound(ctx, code: str | None) -> int:
    unit = _unit(ctx, code)
    if unit is None:
        raise DomainError("请用 --unit 给出小区的编码")
    if ctx.access is not None:
        ctx.access.check_read_unit(unit)
    return unit


def _building(ctx, compound: int, ref: str) -> int:
    row = ctx.conn.execute("SELECT id FROM grid_units WHERE parent_id = ? AND level = 'building'"
                           " AND (name = ? OR code = ? OR CAST(id AS TEXT) = ?)",
                           (compound, ref, ref, ref)).fetchone()
    if row is None:
        raise DomainError(f"这个小区没有楼栋“{ref}”")
    return row[0]


def run_image(ctx, args) -> int:
    from shequ_desktop.community import siteplan

    siteplan.set_image(ctx, _compound(ctx, args.unit), args.file)
    print("已载入平面图（随数据库加密保存）")
    return 0


def run_place(ctx, args) -> int:
    from shequ_desktop.community import siteplan

    compound = _compound(ctx, args.unit)
    siteplan.place_building(ctx, compound, _building(ctx, compound, args.building),
                            *args.rect)
    print("已放置")
    return 0


def run_geojson(ctx, args) -> int:
    from shequ_desktop.community import siteplan

    result = siteplan.import_geojson(ctx, _compound(ctx, args.unit), args.file)
    print(f"已按 GeoJSON 轮廓放置 {len(result['placed'])} 栋楼：{'、'.join(result['placed'])}")
    for line in result["unmatched"]:
        print(line, file=sys.stderr)
    return 0 if result["placed"] or not result["unmatched"] else 1


def run_show(ctx, args) -> int:
    from shequ_desktop.community import siteplan

    compound = _compound(ctx, args.unit)
    plan = siteplan.layout(ctx.conn, compound)
    counts = siteplan.measure(ctx.conn, compound, args.measure)
    _print([{"id": b["id"], "name": b["name"], args.measure: counts.get(b["id"], 0),
             "placed": b["placed"], "x": round(b["x"], 4), "y": round(b["y"], 4),
             "w": round(b["w"], 4), "h": round(b["h"], 4), "points": b["points"]}
            for b in plan["buildings"]],
           args.json)
    if not args.json:
        print(f"{plan['name']}：{'已载入平面图' if plan['has_image'] else '未载入平面图（示意布局）'}",
              file=sys.stderr)
    return 0


def run_print(ctx, args) -> int:
    from functools import partial

    from shequ_desktop.reports.pdf import siteplan as printing

    build = partial(printing.build, ctx.conn, _compound(ctx, args.unit), args.measure)
    result = write_pdf(build, args.output, paper=args.paper, font_path=args.font,
                       actor=ctx.user, access=ctx.access)
    print(f"已生成 {args.output}：{result['buildings']} 栋，合计 {result['total']}")
    return 0


def add_commands(sub) -> None:
    from shequ_desktop.community.siteplan import MEASURES

    group = command_group(sub, "siteplan", "以图管房：小区平面图、楼栋位置、着色打印")

    def command(name, help_text, fn, write=False):
        p = group(name, help_text, fn, write=write)
        p.add_argument("--unit", required=True, help="小区的编码")
        return p

    measures = "，".join(f"{k} {v}" for k, v in MEASURES.items())
    p = command("image", "载入小区平面图（PNG、JPEG 或 PDF 的第一页）", run_image, write=True)
    p.add_argument("file")
    p = command("place", "在平面图上放置楼栋（左上角 x y 与宽 高，均为 0–1 的比例）", run_place, write=True)
    p.add_argument("building", help="楼栋名称、编码或编号")
    p.add_argument("rect", nargs=4, type=float, metavar=("X", "Y", "W", "H"))
    p = command("geojson", "按 GeoJSON 楼栋轮廓（FeatureCollection，属性 name 或 楼栋）放置楼栋",
                run_geojson, write=True)
    p.add_argument("file")
    p = command("show", "列出楼栋的位置和着色数值", run_show)
    p.add_argument("--measure", default="focus", choices=list(MEASURES), metavar="M",
                   help=measures)
    p.add_argument("--json", action="store_true")
    p = command("print", "打印着色的平面图（PDF）", run_print)
    p.add_argument("--measure", default="overdue", choices=list(MEASURES), metavar="M",
                   help=measures)
    p.add_argument("--paper", default="A4", choices=("A4", "A3"))
    p.add_argument("--font", help="中文字体文件（.ttf/.ttc）")
    p.add_argument("-o", "--output", required=True, help="输出的 PDF 文件")
