"""Issue 21 (微网实格): "the 楼栋图 and the lists can filter by micro-grid" in the GUI — the 人员
page's 微网格 chooser and the 楼栋图's micro-grid marks, real widgets offscreen over real SQLite."""
import pytest
from PySide6.QtCore import Qt

from shequ_desktop.community import microgrids
from shequ_desktop.core.access import GRID_WORKER, Access
from shequ_desktop.core.context import Context
from shequ_desktop.places import grid
from tests.community.test_microgrids import block  # noqa: F401 (the fixture: 2号楼 with 赵一, 钱二)
from tests.population.test_microgrid_resident_filter import two_sets  # noqa: F401 (fixture)
from ui.pages.building_page import BuildingView
from ui.pages.residents_page import ResidentsPage


@pytest.fixture
def sets(ctx, place, block, two_sets):
    """2号楼's micro-grid (钱二 in 202) and a chosen set taking 赵一 (201) out of it; and a
    second grid with a micro-grid of its own."""
    building, _ids = block
    whole, chosen = two_sets
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    grid.create_unit(ctx, other, "building", "9号楼")
    microgrids.create_microgrid(ctx, other, "第二网格微网格", head_name="吴", head_role="志愿者")
    return {"building": building, "whole": whole, "chosen": chosen, "other": other}


def offered(combo):
    return [combo.itemText(i) for i in range(combo.count())]


def shown_names(page):
    ids = [page.model.resident_id(row) for row in range(page.model.rowCount())]
    return sorted(r[0] for r in page.conn.execute(
        f"SELECT name FROM residents WHERE id IN ({','.join('?' * len(ids))})", ids))


@pytest.fixture
def page(qtbot, ctx):
    page = ResidentsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    return page


def test_choosing_a_microgrid_shows_exactly_its_residents(page, place, sets):
    combo = page.filters.microgrid
    assert not combo.isEnabled() and "选择一个网格" in combo.toolTip()   # the whole street
    page.set_unit(place.grid)
    assert combo.isEnabled()
    assert offered(combo) == ["全部微网格", "2号楼", "党员联系户"]   # the label says 微网格
    assert combo.itemData(1, Qt.ItemDataRole.ToolTipRole) == "2号楼微网格（阳光社区 2号楼）"
    assert shown_names(page) == ["李秀英", "王小明", "王建国", "赵一", "钱二"]
    combo.setCurrentIndex(combo.findData(sets["chosen"]))
    assert shown_names(page) == ["赵一"]
    assert page.count_label.text() == "共 1 人"
    combo.setCurrentIndex(combo.findData(sets["whole"]))
    assert shown_names(page) == ["钱二"]
    page.filters.search.setText("赵")
    page.filters.search.returnPressed.emit()
    assert page.count() == 0                       # the filters hold together


def test_the_chooser_resets_when_the_unit_changes(page, place, sets):
    combo = page.filters.microgrid
    page.set_unit(sets["building"])                # a building: its grid's micro-grids
    assert offered(combo)[1:] == ["2号楼", "党员联系户"]
    combo.setCurrentIndex(combo.findData(sets["chosen"]))
    assert shown_names(page) == ["赵一"]
    page.set_unit(place.grid)
    assert combo.currentIndex() == 0 and page.model.query.microgrid_id is None
    assert page.count() == 5
    page.set_unit(place.community)                 # no single grid: nothing to choose
    assert offered(combo) == ["全部微网格"] and not combo.isEnabled()
    assert page.count() == 5
    page.set_unit(sets["other"])
    assert offered(combo) == ["全部微网格", "第二网格"]


def test_a_grid_worker_is_offered_only_their_grids_microgrids(qtbot, conn, place, sets):
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    theirs = ResidentsPage(worker)
    qtbot.addWidget(theirs)
    theirs.set_unit(place.grid)
    assert offered(theirs.filters.microgrid) == ["全部微网格", "2号楼", "党员联系户"]
    assert microgrids.of_grid(conn, sets["other"], worker.access) == []
    assert [m["name"] for m in microgrids.of_grid(conn, sets["other"])] == ["第二网格微网格"]


def test_the_filter_bar_still_fits_a_laptop_screen(page, qtbot):
    bar = page.filters.bar
    page.resize(808, 600)          # the page's width in the window at 1366×768 (measured)
    qtbot.waitUntil(lambda: page.width() == 808)
    assert bar.wrapped is False                        # one row, the 微网格 box included
    assert bar.minimumSizeHint().width() < 470
    page.resize(470, 600)
    qtbot.waitUntil(lambda: bar.wrapped)
    microgrid = page.filters.microgrid
    # first row 状态, 重点人群, 微网格; 性别 … in the second
    qtbot.waitUntil(lambda: page.filters.gender.y() > microgrid.geometry().bottom())
    assert microgrid.y() < page.filters.age_max.y()
    assert microgrid.width() >= microgrid.sizeHint().width()


def test_the_building_map_marks_exactly_the_microgrids_rooms(qtbot, ctx, place, sets):
    view = BuildingView(ctx)
    qtbot.addWidget(view)
    view.resize(900, 600)
    view.show()
    view.show_building(sets["building"])
    combo = view.microgrid
    assert offered(combo) == ["不标记", "2号楼微网格", "党员联系户"]
    assert view.marked_cells() == [] and view.mark_count.text() == ""
    view.select_microgrid(sets["chosen"])
    assert [c.room_no for c in view.marked_cells()] == ["201"]
    assert view.mark_count.text() == "本楼 1 户 1 人"
    view.select_microgrid(sets["whole"])
    assert [c.room_no for c in view.marked_cells()] == ["202"]
    qtbot.waitExposed(view)
    view.grab()                                    # paints marked and dimmed tiles
    microgrids.set_households(ctx, sets["chosen"], [])   # 赵一 falls back to 2号楼微网格
    assert [c.room_no for c in view.marked_cells()] == ["201", "202"]
    assert combo.currentData() == sets["whole"]    # kept through the refresh
    view.show_building(place.building)     # the same grid: the choice is kept, no room marked
    assert combo.currentData() == sets["whole"] and view.marked_cells() == []
    assert view.mark_count.text() == "本楼 0 户 0 人"
    view.show_building(None)
    assert offered(combo) == ["不标记"] and not combo.isEnabled()


def test_the_domain_gives_a_buildings_households_of_a_microgrid(conn, place, family, sets):
    hh, _ids = family
    assert microgrids.households_in_building(conn, sets["whole"], place.building) == set()
    assert len(microgrids.households_in_building(conn, sets["whole"], sets["building"])) == 1
    one = microgrids.create_microgrid(Context(conn), place.grid, "1号楼微网格",
                                      unit_id=place.building, head_name="王",
                                      head_role="楼栋长").id
    assert microgrids.households_in_building(conn, one, place.building) == {hh}


def test_the_chooser_and_the_list_follow_microgrid_changes(page, ctx, place, sets):
    ctx.subscribe(page.apply_changes)
    page.set_unit(place.grid)
    combo = page.filters.microgrid
    combo.setCurrentIndex(combo.findData(sets["chosen"]))
    microgrids.set_households(ctx, sets["chosen"], [])     # 赵一 back to 2号楼微网格
    assert page.count() == 0
    added = microgrids.create_microgrid(ctx, place.grid, "新微网格", head_name="郑",
                                        head_role="志愿者").id
    assert offered(combo)[-1] == "新" and combo.currentData() == sets["chosen"]
    microgrids.delete_microgrid(ctx, sets["chosen"])
    assert "党员联系户" not in offered(combo) and combo.currentIndex() == 0
    assert page.model.query.microgrid_id is None and page.count() == 5
    assert combo.findData(added) > 0
