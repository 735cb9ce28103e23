"""Issue 21 (微网实格): the 走访 and 事件 pages' 微网格 choosers filter their lists, offer
the chosen grid's micro-grids only and start again at 「全部微网格」 when the unit changes —
real widgets offscreen over real SQLite."""
import pytest

from shequ_desktop.casework import events
from shequ_desktop.community import microgrids
from shequ_desktop.core.access import GRID_WORKER, Access
from shequ_desktop.core.context import Context
from tests.casework.test_microgrid_lists import lists  # noqa: F401 (fixtures: the people, events)
from tests.community.test_microgrids import block  # noqa: F401
from tests.population.test_microgrid_resident_filter import two_sets  # noqa: F401
from tests.ui.test_ui_microgrid_filters import offered
from ui.pages.events_page import EventsPage
from ui.pages.visits_page import VisitsPage


def shown(page):
    return sorted(r["name"] if "name" in r else r["description"] for r in page.model.rows)


@pytest.fixture(params=[VisitsPage, EventsPage], ids=["visits", "events"])
def page(request, qtbot, ctx):
    widget = request.param(ctx)
    qtbot.addWidget(widget)
    widget.resize(1100, 600)
    widget.show()
    return widget


def test_the_visit_and_event_lists_follow_the_microgrid_chooser(page, place, lists):
    combo = page.microgrid
    visits = isinstance(page, VisitsPage)
    page.set_unit(place.street)
    assert not combo.isEnabled() and "选择一个网格" in combo.toolTip()
    page.set_unit(place.grid)
    assert combo.isEnabled() and offered(combo) == ["全部微网格", "2号楼", "党员联系户"]
    everyone = ["王建国", "赵一", "钱二"] if visits else [
        "楼道堆物", "王建国的事", "赵一的事", "钱二的事"]
    assert shown(page) == everyone
    combo.setCurrentIndex(combo.findData(lists["chosen"]))
    assert shown(page) == (["赵一"] if visits else ["赵一的事"])
    combo.setCurrentIndex(combo.findData(lists["whole"]))
    assert shown(page) == (["钱二"] if visits else ["楼道堆物", "钱二的事"])
    page.set_unit(place.building)                 # another unit of the grid: back to all
    assert combo.currentIndex() == 0 and combo.isEnabled()
    page.set_unit(place.grid)
    assert combo.currentIndex() == 0 and shown(page) == everyone
    page.set_unit(lists["other"])
    assert offered(combo) == ["全部微网格", "第二网格"]
    combo.setCurrentIndex(1)
    assert shown(page) == (["吴三"] if visits else ["吴三的事"])
    page.set_unit(place.community)                # no single grid: nothing to choose
    assert offered(combo) == ["全部微网格"] and not combo.isEnabled()
    assert len(shown(page)) == len(everyone) + 1


def test_the_chooser_follows_microgrid_changes(page, ctx, place, lists):
    page.set_unit(place.grid)
    combo = page.microgrid
    combo.setCurrentIndex(combo.findData(lists["chosen"]))
    microgrids.set_households(ctx, lists["chosen"], [])      # 赵一 back to 2号楼微网格
    assert shown(page) == []
    added = microgrids.create_microgrid(ctx, place.grid, "新微网格", head_name="郑",
                                        head_role="志愿者").id
    assert offered(combo)[-1] == "新" and combo.currentData() == lists["chosen"]
    microgrids.delete_microgrid(ctx, lists["chosen"])
    assert "党员联系户" not in offered(combo) and combo.currentIndex() == 0
    assert len(shown(page)) == (3 if isinstance(page, VisitsPage) else 4)
    assert combo.findData(added) > 0


def test_linking_a_resident_moves_an_event_into_the_chosen_microgrid(qtbot, ctx, place, lists):
    page = EventsPage(ctx)
    qtbot.addWidget(page)
    page.set_unit(place.grid)
    page.microgrid.setCurrentIndex(page.microgrid.findData(lists["chosen"]))
    assert shown(page) == ["赵一的事"]
    zhao = ctx.conn.execute("SELECT resident_id FROM events WHERE id = ?",
                            (lists["events"]["赵一"],)).fetchone()[0]
    events.set_resident(ctx, lists["events"]["王建国"], zhao)
    assert shown(page) == ["王建国的事", "赵一的事"]


def test_a_grid_worker_is_offered_and_shown_only_their_grids(qtbot, conn, place, lists):
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    for cls in (VisitsPage, EventsPage):
        page = cls(worker)
        qtbot.addWidget(page)
        page.show()
        page.set_unit(place.grid)
        assert offered(page.microgrid) == ["全部微网格", "2号楼", "党员联系户"]
        page.microgrid.setCurrentIndex(page.microgrid.findData(lists["chosen"]))
        assert shown(page) == (["赵一"] if cls is VisitsPage else ["赵一的事"])
