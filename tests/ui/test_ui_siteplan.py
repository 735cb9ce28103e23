"""Issue 21, part 5 in the GUI: the 以图管房 page — the plan (generated or loaded), buildings
coloured by the chosen measure with a legend, dragging and sizing saved, a double click opening
the 楼栋图, printing — real widgets offscreen over real SQLite files."""

import pytest
from PIL import Image
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
