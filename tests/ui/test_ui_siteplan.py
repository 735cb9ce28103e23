"""Issue 21, part 5 in the GUI: the 以图管房 page — the plan (generated or loaded), buildings
coloured by the chosen measure with a legend, dragging and sizing saved, a double click opening
the 楼栋图, printing — real widgets offscreen over real SQLite files."""

import json

import pytest
from PIL import Image
from PySide6.QtCore import QPointF, Qt
from pypdf import PdfReader

from shequ_desktop.places import grid, houses
from shequ_desktop.community import siteplan
from ui.pages.siteplan_page import SiteplanPage


@pytest.fixture
def compound(ctx, place, family):
    unit = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    grid.move_unit(ctx, place.building, unit)
    second = grid.create_unit(ctx, unit, "building", "2号楼").id
    houses.create_house(ctx, second, {"room_no": "101", "floor": 1, "usage": "空置"})
    return {"unit": unit, "first": place.building, "second": second}


@pytest.fixture
def page(qtbot, ctx, db_path, compound):
    page = SiteplanPage(ctx, db_path)
    qtbot.addWidget(page)
    page.resize(1100, 700)
    page.show()
    page.set_unit(compound["first"])           # a building: its compound is shown
    return page


def test_a_compound_without_a_plan_shows_its_buildings_in_a_generated_layout(page, compound):
    assert page.compound_id == compound["unit"]
    assert "示意布局" in page.name.text()
    assert sorted(page.items) == sorted([compound["first"], compound["second"]])


def test_the_buildings_are_coloured_by_the_chosen_measure(page, compound):
    page.measure.setCurrentIndex(list(siteplan.MEASURES).index("vacant"))
    first = page.items[compound["first"]].brush().color()
    second = page.items[compound["second"]].brush().color()
    assert first != second
    assert page.items[compound["second"]].label.text() == "2号楼\n1"
    assert "空置房" in page.legend.text() and "合计：1" in page.legend.text()


def test_dragging_and_sizing_a_building_is_saved(page, conn, compound):
    item = page.items[compound["second"]]
    w, h = page.plan_size
    item.setPos(0.5 * w, 0.25 * h)
    page.save_item(item)
    stored = conn.execute("SELECT x, y FROM site_plan_buildings WHERE building_id = ?",
                          (compound["second"],)).fetchone()
    assert tuple(stored) == (0.5, 0.25)
    item.setSelected(True)
    page.width_box.setValue(20)
    page.height_box.setValue(10)
    page._resize_selected()
    stored = conn.execute("SELECT w, h FROM site_plan_buildings WHERE building_id = ?",
                          (compound["second"],)).fetchone()
    assert tuple(stored) == (0.2, 0.1)


def test_a_loaded_plan_and_the_print(page, tmp_path, compound):
    png = tmp_path / "plan.png"
    Image.new("RGB", (900, 600), (230, 240, 230)).save(png)
    page.load_image(str(png))
    assert page.plan["has_image"] and page.plan_size == (900, 600)
    out = tmp_path / "plan.pdf"
    assert page.print_plan(str(out))["buildings"] == 2
    assert "幸福花园" in PdfReader(str(out)).pages[0].extract_text()


def test_a_double_click_opens_the_building(qtbot, page, compound):
    with qtbot.waitSignal(page.buildingActivated) as signal:
        page.items[compound["second"]].mouseDoubleClickEvent(None)
    assert signal.args == [compound["second"]]


def test_the_main_window_has_the_page(qtbot, conn):
    from ui.main_window import MainWindow
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    assert isinstance(window.show_page("siteplan"), SiteplanPage)


def test_a_polygon_building_is_drawn_as_its_polygon_and_moved_whole(page, conn, ctx, compound):
    corners = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.2), (0.2, 0.3), (0.1, 0.2)]
    siteplan.place_polygon(ctx, compound["unit"], compound["second"], corners)
    item = page.items[compound["second"]]
    assert item.polygon is not None and item.polygon.count() == 5
    w, h = page.plan_size
    # the shape is the polygon: the box's empty corner is not the building
    assert item.contains(item.mapFromScene(0.15 * w, 0.15 * h))
    assert not item.contains(item.mapFromScene(0.29 * w, 0.29 * h))
    item.setSelected(True)
    assert not page.width_box.isEnabled()            # a polygon keeps its corners
    item.setPos(item.pos().x() + 0.1 * w, item.pos().y())
    page.save_item(item)
    moved = next(b for b in siteplan.layout(conn, compound["unit"])["buildings"]
                 if b["id"] == compound["second"])
    flat = [v for point in moved["points"] for v in point]
    assert flat == pytest.approx([v for x, y in corners for v in (x + 0.1, y)], abs=1e-3)


# --- drawing a polygon by hand and reshaping it (real mouse and keys on the view) -------------
def _at(page, fx, fy):
    """The view's pixel showing the plan's point (fx, fy) (fractions)."""
    w, h = page.plan_size
    return page.view.mapFromScene(fx * w, fy * h)


def _stored(conn, building):
    row = conn.execute("SELECT points, x, y, w, h FROM site_plan_buildings WHERE building_id = ?",
                       (building,)).fetchone()
    return row


def _start(page, compound):
    page.items[compound["second"]].setSelected(True)
    assert page.draw_button.isEnabled()
    page.draw_button.click()
    assert page.drawing == compound["second"]


def test_clicks_in_draw_mode_create_exactly_that_polygon(qtbot, page, conn, compound):
    _start(page, compound)
    target = [(0.6, 0.6), (0.9, 0.62), (0.85, 0.9)]
    for fx, fy in target:
        qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=_at(page, fx, fy))
    assert page.sketch.path().elementCount() == 3          # the open outline so far
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=_at(page, 0.6, 0.85))
    assert page.drawing is None
    points = json.loads(_stored(conn, compound["second"])["points"])
    assert len(points) == 4
    flat = [v for point in points for v in point]
    assert flat == pytest.approx([0.6, 0.6, 0.9, 0.62, 0.85, 0.9, 0.6, 0.85], abs=0.01)
    item = page.items[compound["second"]]
    assert item.polygon.count() == 4 and item.isSelected()
    assert len(item.handles) == 4 and page.rect_button.isEnabled()
    audit = conn.execute("SELECT COUNT(*) FROM audit_log WHERE entity = 'site_plan_buildings'"
                         ).fetchone()[0]
    assert audit >= 1


def test_enter_closes_and_corners_stay_on_the_plan(qtbot, page, conn, compound):
    _start(page, compound)
    for corner in [(0.2, 0.2), (0.4, 0.2), (0.3, 0.4)]:
        page.add_corner(QPointF(corner[0] * page.plan_size[0], corner[1] * page.plan_size[1]))
    page.add_corner(QPointF(-50, page.plan_size[1] * 2))          # outside: clamped
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    points = json.loads(_stored(conn, compound["second"])["points"])
    assert points[-1] == [0.0, 1.0] and len(points) == 4


def test_escape_cancels_without_writing(qtbot, page, conn, compound):
    _start(page, compound)
    for fx, fy in [(0.6, 0.6), (0.9, 0.62), (0.85, 0.9)]:
        qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=_at(page, fx, fy))
    qtbot.keyClick(page.view, Qt.Key.Key_Escape)
    assert page.drawing is None and page.sketch is None
    assert _stored(conn, compound["second"]) is None
    assert "取消" in page.hint.text()


def test_fewer_than_three_corners_are_refused_in_chinese(qtbot, page, conn, compound):
    _start(page, compound)
    for fx, fy in [(0.6, 0.6), (0.9, 0.62)]:
        qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=_at(page, fx, fy))
    qtbot.keyClick(page.view, Qt.Key.Key_Return)
    assert "至少要有三个顶点" in page.hint.text()
    assert page.drawing == compound["second"]                  # still drawing: add more
    assert _stored(conn, compound["second"]) is None


def test_dragging_a_corner_handle_moves_only_that_corner(qtbot, page, ctx, conn, compound):
    corners = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.3), (0.1, 0.3)]
    siteplan.place_polygon(ctx, compound["unit"], compound["second"], corners)
    item = page.items[compound["second"]]
    item.setSelected(True)
    handle = item.handles[2]
    viewport = page.view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=_at(page, 0.3, 0.3))
    qtbot.mouseMove(viewport, _at(page, 0.45, 0.4))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=_at(page, 0.45, 0.4))
    assert handle.index == 2
    points = json.loads(_stored(conn, compound["second"])["points"])
    assert points[:2] == [[0.1, 0.1], [0.3, 0.1]] and points[3] == [0.1, 0.3]
    assert points[2] == pytest.approx([0.45, 0.4], abs=0.01)
    row = _stored(conn, compound["second"])
    assert (row["x"], row["y"]) == (0.1, 0.1)
    assert row["w"] == pytest.approx(0.35, abs=0.01)           # the box follows the corner


def test_a_polygon_goes_back_to_its_rectangle(page, ctx, conn, compound):
    siteplan.place_polygon(ctx, compound["unit"], compound["second"],
                           [(0.1, 0.1), (0.3, 0.15), (0.2, 0.3)])
    page.items[compound["second"]].setSelected(True)
    page.rect_button.click()
    row = _stored(conn, compound["second"])
    assert row["points"] is None
    assert (row["x"], row["y"], row["w"], row["h"]) == pytest.approx((0.1, 0.1, 0.2, 0.2),
                                                                     abs=1e-3)
    assert page.items[compound["second"]].polygon is None


def test_a_double_click_opens_the_building_only_outside_draw_mode(qtbot, page, compound):
    item = page.items[compound["second"]]
    centre = page.view.mapFromScene(item.mapToScene(item.rect().center()))
    with qtbot.waitSignal(page.buildingActivated) as signal:
        qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    assert signal.args == [compound["second"]]
    _start(page, compound)
    with qtbot.assertNotEmitted(page.buildingActivated):
        qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
