"""The home page (首页) driven through pytest-qt: figures equal SQL, clicks open the lists."""
import datetime as dt

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.casework import visits
from shequ_desktop.core.tree import SUBTREE_SQL
from ui import app as ui_app
from ui.main_window import PAGES

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("dash") / "demo.db"
    demo.generate(db.open_db(path), residents=700, seed=6)
    return path


@pytest.fixture
def window(qtbot, demo_path, tmp_path):
    conn = db.open_db(demo_path)
    w = ui_app.build_main_window(conn, demo_path,
                                 QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    page = w.page("dashboard")
    qtbot.waitUntil(lambda: page.figures is not None)
    return w


def count(conn, where="1", params=(), unit_id=None):
    if unit_id is None:
        return conn.execute(f"SELECT count(*) FROM residents r WHERE r.status = '在册' AND {where}",
                            params).fetchone()[0]
    return conn.execute(SUBTREE_SQL + f"""
        SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
        JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM subtree)
          AND r.status = '在册' AND {where}""", (unit_id, *params)).fetchone()[0]


def click(qtbot, widget, pos: QPoint | None = None):
    qtbot.mouseClick(widget, Qt.MouseButton.LeftButton, pos=pos or widget.rect().center())


def test_the_dashboard_is_the_first_page_and_its_figures_equal_sql(window):
    assert PAGES[0] == ("dashboard", "首页")
    page = window.page("dashboard")
    assert window.pages.currentWidget() is page
    conn = window.conn
    tiles = page.tiles
    assert tiles["residents"].value == count(conn) > 0
    assert tiles["households"].value == conn.execute(
        "SELECT count(*) FROM households WHERE status = '在册'").fetchone()[0]
    assert tiles["floating"].value == count(conn, "r.residence_type = '2'")
    assert tiles["separated"].value == count(conn, "r.separated = 1")
    assert tiles["members"].value == count(
        conn, "r.id IN (SELECT resident_id FROM resident_tags WHERE until IS NULL)")
    assert tiles["events_open"].value == conn.execute(
        "SELECT count(*) FROM events WHERE status IN ('上报', '受理', '处置中')").fetchone()[0]
    first = TODAY.strftime("%Y-%m-01")
    assert tiles["hours"].value == conn.execute(
        "SELECT coalesce(sum(s.hours), 0) FROM service_records s JOIN activities a"
        " ON a.id = s.activity_id WHERE substr(a.starts_at, 1, 10) BETWEEN ? AND ?",
        (first, TODAY.isoformat())).fetchone()[0]
    assert tiles["active_volunteers"].value == conn.execute(
        "SELECT count(DISTINCT s.volunteer_id) FROM service_records s JOIN activities a"
        " ON a.id = s.activity_id WHERE substr(a.starts_at, 1, 10) BETWEEN ? AND ?",
        (first, TODAY.isoformat())).fetchone()[0]
    assert tiles["residents"].text_value() == f"{tiles['residents'].value:,}"
    assert page.pyramid.labels[0] == "100岁及以上" and page.pyramid.labels[-1] == "0–4"
    assert len(page.by_grid.columns) == 12
    assert sum(sum(r) for r in page.by_grid.values) > 0
    assert not page.grab().isNull()


def test_clicking_a_figure_opens_the_list_behind_it(qtbot, window):
    page = window.page("dashboard")
    conn = window.conn
    click(qtbot, page.tiles["floating"])
    residents = window.page("residents")
    assert window.pages.currentWidget() is residents
    assert residents.count() == page.tiles["floating"].value
    assert residents.filters.residence.currentData() == "2"

    window.show_page("dashboard")
    click(qtbot, page.tiles["age_4"])                         # 80岁及以上
    assert residents.count() == page.tiles["age_4"].value == count(
        conn, "r.birth_date <= ?", (TODAY.replace(year=TODAY.year - 80).isoformat(),))
    assert residents.filters.residence.currentData() is None  # the last click's filter went

    window.show_page("dashboard")
    click(qtbot, page.tiles["overdue"])
    visits_page = window.page("visits")
    assert window.pages.currentWidget() is visits_page
    assert visits_page.mode.currentData() == "overdue"
    assert visits_page.count() == page.tiles["overdue"].value

    window.show_page("dashboard")
    click(qtbot, page.tiles["events_overdue"])
    events_page = window.page("events")
    assert window.pages.currentWidget() is events_page
    assert events_page.model.rowCount() == page.tiles["events_overdue"].value

    window.show_page("dashboard")
    click(qtbot, page.tiles["hours"])
    assert window.pages.currentWidget() is window.page("volunteers")

    window.show_page("dashboard")
    click(qtbot, page.tiles["never_visited"])
    quality = window.page("quality")
    assert window.pages.currentWidget() is quality
    qtbot.waitUntil(lambda: quality.runs == 1)               # the checks run once shown
    assert quality.current_check() == "focus_never_visited"
    assert quality.problems_model.rowCount() == page.tiles["never_visited"].value


def test_clicking_the_charts(qtbot, window):
    page = window.page("dashboard")
    conn = window.conn
    assert window.page("residents") is None                   # not built at start
    band = page.pyramid.labels.index("30–34")
    click(qtbot, page.pyramid, page.pyramid.band(band).center().toPoint())
    residents = window.page("residents")
    assert residents is not None and window.pages.currentWidget() is residents
    assert residents.filters.age_min.value() == 30 and residents.filters.age_max.value() == 34

    window.show_page("dashboard")
    tag_row = page.focus.labels.index("独居老人")
    click(qtbot, page.focus, page.focus.band(tag_row).center().toPoint())
    tag_id = conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    assert residents.count() == count(conn, "r.id IN (SELECT resident_id FROM resident_tags "
                                      "WHERE until IS NULL AND tag_id = ?)", (tag_id,)) > 0

    window.show_page("dashboard")
    click(qtbot, page.by_grid, page.by_grid.band(0).center().toPoint())
    grid_id = page.figures["visits_by_grid"]["grids"][0][0]
    assert window.pages.currentWidget() is window.page("visits")
    assert window.page("visits").unit_id == grid_id


def test_the_figures_follow_the_tree_and_the_data(qtbot, window):
    page = window.page("dashboard")
    conn = window.conn
    grid_id = conn.execute("SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id DESC"
                           ).fetchone()[0]
    loads = page.loads
    window.tree.select_unit(grid_id)
    qtbot.waitUntil(lambda: page.loads > loads)
    assert page.figures["unit_id"] == grid_id
    assert page.tiles["residents"].value == count(conn, unit_id=grid_id) > 0
    assert [g for g, _n, _c in page.figures["visits_by_grid"]["grids"]] == [grid_id]

    due = visits.due(conn, TODAY, grid_id, within_days=6 - TODAY.weekday())
    assert page.tiles["due"].value == len(due)
    loads = page.loads
    visits.record_visit(window.ctx, due[0]["resident_id"], TODAY, "入户", "测试员")
    qtbot.waitUntil(lambda: page.loads > loads)
    assert page.tiles["due"].value == len(due) - 1

    # Hidden, it waits: a change while another page is shown is counted when it comes back.
    window.show_page("events")
    loads = page.loads
    visits.record_visit(window.ctx, due[1]["resident_id"], TODAY, "电话", "测试员")
    qtbot.wait(20)
    assert page.loads == loads
    window.show_page("dashboard")
    qtbot.waitUntil(lambda: page.loads > loads)
    assert page.tiles["due"].value == len(due) - 2


def test_the_focus_chart_shows_the_groups_that_have_members(window):
    page = window.page("dashboard")
    shown = dict(zip(page.focus.labels, page.focus.series[0]))
    counted = {name: n for _t, name, n in page.figures["focus"]["groups"]}
    assert shown and all(shown.values())
    assert shown == {name: n for name, n in counted.items() if n}
    assert len(counted) > len(shown)                # the catalogue's empty groups are left out
