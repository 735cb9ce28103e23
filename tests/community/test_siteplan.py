"""Issue 21, part 5 (以图管房): a compound's plan with its buildings placed, coloured by a
measure with a legend, printed; a compound without a plan gets a generated layout — domain,
command line and the PDF read back."""
import datetime as dt
import json

import pytest
from PIL import Image
from pypdf import PdfReader

from shequ_desktop.places import grid, houses
from shequ_desktop.community import siteplan
from shequ_desktop.population import tags
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.siteplan import build

TODAY = dt.date.today()


@pytest.fixture
def compound(ctx, place, family):
    """幸福花园 with 1号楼 (the family's building moved in) and 2号楼 (a vacant room)."""
    unit = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    grid.move_unit(ctx, place.building, unit)
    second = grid.create_unit(ctx, unit, "building", "2号楼").id
    houses.create_house(ctx, second, {"room_no": "101", "floor": 1, "usage": "空置"})
    _hh, ids = family
    lonely = ctx.conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    tags.assign_tag(ctx, ids["head"], lonely, (TODAY - dt.timedelta(days=40)).isoformat())
    return {"unit": unit, "first": place.building, "second": second}


def plan_png(path, size=(800, 500)):
    Image.new("RGB", size, (230, 240, 230)).save(path)
    return path


def test_a_compound_without_a_plan_gets_a_generated_layout(conn, compound):
    plan = siteplan.layout(conn, compound["unit"])
    assert not plan["has_image"] and [b["name"] for b in plan["buildings"]] == ["1号楼", "2号楼"]
    rects = [(b["x"], b["y"], b["w"], b["h"]) for b in plan["buildings"]]
    assert all(0 <= x and x + w <= 1 and 0 <= y and y + h <= 1 for x, y, w, h in rects)
    assert rects[0] != rects[1] and not any(b["placed"] for b in plan["buildings"])


def test_the_measures_count_per_building(conn, compound):
    assert siteplan.measure(conn, compound["unit"], "vacant") == {compound["first"]: 0,
                                                                  compound["second"]: 1}
    assert siteplan.measure(conn, compound["unit"], "focus")[compound["first"]] == 1
    assert siteplan.measure(conn, compound["unit"], "overdue")[compound["first"]] == 1
    with pytest.raises(DomainError, match="着色方式"):
        siteplan.measure(conn, compound["unit"], "colour")
    assert siteplan.classes([0, 0]) == [(0, 0)]
    assert siteplan.classes([0, 2]) == [(0, 0), (1, 1), (2, 2)]
    assert siteplan.classes([0, 9]) == [(0, 0), (1, 3), (4, 6), (7, 9)]


def test_a_plan_image_and_placed_buildings_are_kept(tmp_path, conn, ctx, compound):
    siteplan.set_image(ctx, compound["unit"], plan_png(tmp_path / "plan.png"))
    siteplan.place_building(ctx, compound["unit"], compound["second"], 0.9, 0.1, 0.3, 0.2)
    plan = siteplan.layout(conn, compound["unit"])
    assert plan["has_image"] and (plan["width"], plan["height"]) == (800, 500)
    second = next(b for b in plan["buildings"] if b["id"] == compound["second"])
    assert second["placed"] and (second["x"], second["w"]) == (0.7, 0.3)     # kept inside
    assert siteplan.image(conn, compound["unit"])[:4] == b"\x89PNG"
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image")
    with pytest.raises(DomainError, match="不是可识别的图片"):
        siteplan.set_image(ctx, compound["unit"], bad)
    other = grid.create_unit(ctx, compound["unit"], "building", "3号楼").id
    elsewhere = grid.create_unit(ctx, grid.create_unit(
        ctx, conn.execute("SELECT parent_id FROM grid_units WHERE id = ?",
                          (compound["unit"],)).fetchone()[0], "compound", "别的小区").id,
        "building", "9号楼").id
    siteplan.place_building(ctx, compound["unit"], other, 0.1, 0.1, 0.1, 0.1)
    with pytest.raises(DomainError, match="不是这个小区的楼栋"):
        siteplan.place_building(ctx, compound["unit"], elsewhere, 0.1, 0.1, 0.1, 0.1)


def test_a_pdf_page_is_a_plan_too(tmp_path, conn, ctx, compound):
    from reportlab.pdfgen import canvas
    pdf = tmp_path / "plan.pdf"
    c = canvas.Canvas(str(pdf), pagesize=(400, 300))
    c.rect(50, 50, 100, 80)
    c.save()
    siteplan.set_image(ctx, compound["unit"], pdf)
    plan = siteplan.layout(conn, compound["unit"])
    assert plan["has_image"] and plan["width"] > plan["height"]


def test_the_printed_plan_has_the_buildings_their_counts_and_the_legend(tmp_path, conn, ctx,
                                                                        compound):
    siteplan.set_image(ctx, compound["unit"], plan_png(tmp_path / "plan.png"))
    out = tmp_path / "plan.pdf"
    result = build(conn, compound["unit"], "vacant", out, paper="A3", actor="测试员")
    text = PdfReader(str(out)).pages[0].extract_text()
    assert result["total"] == 1
    for part in ("幸福花园", "按空置房着色", "1号楼", "2号楼", "图例", "合计：1"):
        assert part in text, part
    assert conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'site_plans' AND"
                        " action = 'print'").fetchone()[0] == 1


def test_a_grid_worker_of_another_grid_cannot_touch_the_plan(tmp_path, conn, ctx, place,
                                                              compound):
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    worker = Context(conn, "网格员乙")
    worker.access = Access(GRID_WORKER, frozenset({other}))
    with pytest.raises(NotPermitted):
        siteplan.place_building(worker, compound["unit"], compound["first"], 0, 0, 0.1, 0.1)
    with pytest.raises(NotPermitted):
        build(conn, compound["unit"], "focus", tmp_path / "x.pdf", access=worker.access)


def test_the_siteplan_commands(tmp_path, conn, ctx, db_path, compound, capsys):
    conn.execute("UPDATE grid_units SET code = 'XQ1' WHERE id = ?", (compound["unit"],))
    conn.commit()
    assert main(["siteplan", "image", "--db", str(db_path), "--unit", "XQ1",
                 str(plan_png(tmp_path / "p.png"))]) == 0
    assert main(["siteplan", "place", "--db", str(db_path), "--unit", "XQ1", "2号楼",
                 "0.5", "0.5", "0.2", "0.2"]) == 0
    capsys.readouterr()
    assert main(["siteplan", "show", "--db", str(db_path), "--unit", "XQ1", "--measure",
                 "vacant", "--json"]) == 0
    rows = {json.loads(line)["name"]: json.loads(line)
            for line in capsys.readouterr().out.splitlines()}
    assert rows["2号楼"]["vacant"] == 1 and rows["2号楼"]["placed"] and rows["2号楼"]["x"] == 0.5
    out = tmp_path / "plan.pdf"
    assert main(["siteplan", "print", "--db", str(db_path), "--unit", "XQ1", "-o",
                 str(out)]) == 0
    assert "逾期未访" in PdfReader(str(out)).pages[0].extract_text()
    assert main(["siteplan", "place", "--db", str(db_path), "--unit", "XQ1", "8号楼",
                 "0", "0", "0.1", "0.1"]) == 2
    assert "没有楼栋“8号楼”" in capsys.readouterr().err
