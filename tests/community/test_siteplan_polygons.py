"""以图管房: buildings as polygons as well as rectangles, and GeoJSON footprints placed on the
plan by building name (fitted to the plan's canvas, shapes kept, unmatched features reported
in Chinese) — domain, the printed plan and `shequ siteplan geojson`."""
import json
import math

import pytest
from pypdf import PdfReader

from shequ_desktop.places import grid
from shequ_desktop.community import siteplan
from shequ_desktop.cli.main import main
from shequ_desktop.core.errors import DomainError, ValidationError
from shequ_desktop.reports.pdf.siteplan import build


@pytest.fixture
def compound(ctx, place):
    unit = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    grid.move_unit(ctx, place.building, unit)                 # 1号楼
    grid.create_unit(ctx, unit, "building", "2号楼")
    grid.create_unit(ctx, unit, "building", "3号楼")
    return unit


def ids(conn, unit):
    return {r[1]: r[0] for r in conn.execute(
        "SELECT id, name FROM grid_units WHERE parent_id = ?", (unit,))}


def square(x, y, size):
    return [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]


def footprints(path, features):
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features},
                               ensure_ascii=False), encoding="utf-8")
    return path


def feature(props, ring, kind="Polygon"):
    return {"type": "Feature", "properties": props,
            "geometry": {"type": kind, "coordinates": [ring] if kind == "Polygon" else [[ring]]}}


def test_a_building_drawn_as_a_polygon_keeps_its_corners_and_box(conn, ctx, compound):
    b = ids(conn, compound)["2号楼"]
    siteplan.place_polygon(ctx, compound, b, [(0.1, 0.2), (0.4, 0.2), (0.4, 0.5), (0.25, 0.6)])
    placed = next(x for x in siteplan.layout(conn, compound)["buildings"] if x["id"] == b)
    assert placed["points"] == [[0.1, 0.2], [0.4, 0.2], [0.4, 0.5], [0.25, 0.6]]
    assert (placed["x"], placed["y"], placed["w"], placed["h"]) == (0.1, 0.2, 0.3, 0.4)
    siteplan.place_building(ctx, compound, b, 0.5, 0.5, 0.1, 0.1)    # back to a rectangle
    placed = next(x for x in siteplan.layout(conn, compound)["buildings"] if x["id"] == b)
    assert placed["points"] is None and placed["x"] == 0.5
    with pytest.raises(ValidationError, match="至少要有三个不同的角点"):
        siteplan.place_polygon(ctx, compound, b, [(0.1, 0.1), (0.2, 0.2), (0.1, 0.1)])


def test_geojson_footprints_are_fitted_and_matched_by_name(tmp_path, conn, ctx, compound):
    lat = 30.6
    file = footprints(tmp_path / "小区.geojson", [
        feature({"name": "1号楼"}, square(104.0600, lat, 0.0004)),
        feature({"楼栋": "2栋"}, square(104.0610, lat + 0.0008, 0.0004), "MultiPolygon"),
        feature({"name": "9号楼"}, square(104.0620, lat, 0.0004)),
        feature({"name": "3号楼"}, None) | {"geometry": {"type": "Point",
                                                           "coordinates": [104.06, lat]}},
        feature({}, square(104.0630, lat, 0.0004))])
    result = siteplan.import_geojson(ctx, compound, file)
    assert result["placed"] == ["1号楼", "2栋"]
    assert result["unmatched"] == [
        "第 3 个要素“9号楼”：小区里没有这个楼栋，未导入",
        "第 4 个要素“3号楼”：不是多边形（Polygon），未导入",
        "第 5 个要素：没有楼栋名称（属性 name、楼栋、building、名称），未导入"]
    plan = {b["name"]: b for b in siteplan.layout(conn, compound)["buildings"]}
    one, two = plan["1号楼"], plan["2号楼"]
    assert len(one["points"]) == 4 and one["placed"] and not plan["3号楼"]["placed"]
    every = [p for b in (one, two) for p in b["points"]]
    assert all(0.0 <= x <= 1.0 and 0.0 <= y <= 1.0 for x, y in every)
    # north is up (2号楼 lies north: smaller y), and the shape on the ground is kept: a
    # degree of longitude is cos(latitude) of a degree of latitude
    assert two["y"] < one["y"]
    width_px, height_px = one["w"] * 1600, one["h"] * 1000
    assert width_px == pytest.approx(height_px * math.cos(math.radians(lat)), rel=0.01)
    out = tmp_path / "plan.pdf"
    build(conn, compound, "vacant", out)
    assert "1号楼" in PdfReader(str(out)).pages[0].extract_text()


def test_a_file_that_is_not_geojson_is_refused(tmp_path, ctx, compound):
    bad = tmp_path / "bad.geojson"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DomainError, match="不是 GeoJSON 文件"):
        siteplan.import_geojson(ctx, compound, bad)
    bad.write_text('{"type": "Feature"}', encoding="utf-8")
    with pytest.raises(DomainError, match="FeatureCollection"):
        siteplan.import_geojson(ctx, compound, bad)


def test_the_geojson_command(tmp_path, conn, ctx, db_path, compound, capsys):
    conn.execute("UPDATE grid_units SET code = 'XQ1' WHERE id = ?", (compound,))
    conn.commit()
    file = footprints(tmp_path / "f.geojson", [
        feature({"name": "3号楼"}, square(500, 300, 40)),      # projected metres
        feature({"name": "8号楼"}, square(600, 300, 40))])
    assert main(["siteplan", "geojson", "--db", str(db_path), "--unit", "XQ1", str(file)]) == 0
    out = capsys.readouterr()
    assert "已按 GeoJSON 轮廓放置 1 栋楼：3号楼" in out.out and "“8号楼”：小区里没有这个楼栋" in out.err
    capsys.readouterr()
    assert main(["siteplan", "show", "--db", str(db_path), "--unit", "XQ1", "--json"]) == 0
    rows = {json.loads(line)["name"]: json.loads(line)
            for line in capsys.readouterr().out.splitlines()}
    assert len(rows["3号楼"]["points"]) == 4 and rows["1号楼"]["points"] is None
