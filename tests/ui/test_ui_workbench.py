"""The main window as a workbench: pages, keyboard, and opening records."""
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.places import grid
from ui import app as ui_app
from ui import resident_dialog
from ui.main_window import PAGES


def page_index(key: str) -> int:
    return [k for k, _title in PAGES].index(key)


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("bench") / "demo.db"
    demo.generate(db.open_db(path), residents=600, seed=9)
    return path


@pytest.fixture
def window(qtbot, demo_path, tmp_path):
    from PySide6.QtCore import QSettings

    conn = db.open_db(demo_path)
    w = ui_app.build_main_window(conn, demo_path,
                                 QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    return w


def test_ctrl_f_focuses_the_search_box(qtbot, window):
    qtbot.waitExposed(window)
    window.activateWindow()
    window.find_action.trigger()
    assert window.find_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Find)
    assert window.residents_page.filters.search.hasFocus()


def test_building_in_the_tree_shows_in_the_building_page(qtbot, window):
    conn = window.conn
    unit_id, building_id, name = conn.execute(
        "SELECT u.id, b.id, b.name FROM grid_units u JOIN grid_units b ON b.id = u.parent_id "
        "WHERE u.level = 'unit' LIMIT 1").fetchone()
    window.tree.select_unit(unit_id)
    window.pages.setCurrentIndex(page_index("building"))
    view = window.page("building")
    assert view is not None and view.building_id == building_id
    assert window.pages.currentWidget() is view

    cell = next(c for c in view.map.cells.values() if c.household_id)
    view.householdActivated.emit(cell.household_id)
    assert window.pages.currentIndex() == page_index("household")
    assert window.page("household").household_id == cell.household_id


def test_enter_in_the_table_opens_the_record(qtbot, window, monkeypatch):
    opened = []
    monkeypatch.setattr(resident_dialog, "open_resident",
                        lambda parent, ctx, rid: opened.append(rid))
    view = window.residents_page.view
    view.setFocus()
    view.setCurrentIndex(window.residents_page.model.index(2, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert opened == [window.residents_page.model.resident_id(2)]


def test_ctrl_n_on_the_people_page_opens_a_new_resident_not_an_old_household(
        qtbot, window, monkeypatch):
    added, new = [], []
    monkeypatch.setattr(resident_dialog, "open_new_member",
                        lambda parent, ctx, hid, relation=None: added.append(hid))
    monkeypatch.setattr(resident_dialog, "open_new_household",
                        lambda parent, ctx, house_id: new.append(house_id))
    rid = window.residents_page.model.resident_id(0)
    household = window.ctx.get("residents", rid)["household_id"]
    window.show_household(household)                 # viewed minutes earlier
    window.show_page("residents")
    window.residents_page.select_resident(rid)
    window.new_action.trigger()
    assert new == [None] and added == []
    window.show_page("household")                    # on the 户 page: a member of that 户
    window.new_action.trigger()
    assert added == [household]


def test_qt_standard_buttons_speak_chinese(qapp):
    from PySide6.QtWidgets import QDialogButtonBox

    from ui.app import make_app

    make_app([])
    box = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                           | QDialogButtonBox.StandardButton.Cancel)
    assert sorted(b.text() for b in box.buttons()) == sorted(["确定", "取消"])


def test_visits_and_events_pages_follow_the_tree(qtbot, window):
    grid_id = window.conn.execute("SELECT id FROM grid_units WHERE level = 'grid' LIMIT 1"
                                  ).fetchone()[0]
    window.pages.setCurrentIndex(page_index("visits"))
    window.pages.setCurrentIndex(page_index("events"))
    assert window.pages.widget(page_index("visits")) is window.page("visits")
    assert window.pages.widget(page_index("events")) is window.page("events")
    window.tree.select_unit(grid_id)
    assert window.page("visits").unit_id == grid_id and window.page("events").unit_id == grid_id


def test_a_destroyed_page_stops_hearing_changes(qtbot, ctx, place):
    from PySide6.QtCore import QCoreApplication, QEvent

    from ui.pages.events_page import EventsPage

    page = EventsPage(ctx)
    heard_before = len(ctx._subscribers)
    page.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    assert len(ctx._subscribers) == heard_before - 1
    grid.rename_unit(ctx, place.grid, "第一网格（东）")     # would crash if still subscribed
