"""After sorting a list the view shows the first rows of the new order; the selected row stays
selected (and the details with it) but the view does not jump to it."""
import pytest
from PySide6.QtCore import Qt

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.core.context import Context
from shequ_desktop.population.resident_list import COLUMNS
from ui.pages.residents_page import ResidentsPage
from ui.pages.volunteers_page import VolunteersPage


@pytest.fixture
def ctx(tmp_path):
    conn = db.open_db(tmp_path / "demo.db")
    demo.generate(conn, residents=3000, seed=5)
    yield Context(conn, "网格员甲")
    conn.close()


def shown(qtbot, page):
    qtbot.addWidget(page)
    page.resize(900, 400)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_sorting_residents_keeps_the_selection_and_shows_the_top(qtbot, ctx):
    page = shown(qtbot, ResidentsPage(ctx))
    model, view = page.model, page.view
    chosen = model.resident_id(model.rowCount() - 5)
    with qtbot.waitSignal(page.residentSelected):
        assert page.select_resident(chosen)
    bar = view.verticalScrollBar()
    assert bar.value() > 0                     # the chosen row is far down, shown
    view.sortByColumn(COLUMNS.index("name"), Qt.SortOrder.AscendingOrder)

    assert model.query.order_by == "name"
    assert page.current_resident_id() == chosen
    assert view.currentIndex().row() == model.row_of(chosen)
    assert bar.value() == 0
    assert view.rowAt(0) == 0


def test_sorting_a_row_list_keeps_the_selection_and_shows_the_top(qtbot, ctx):
    page = shown(qtbot, VolunteersPage(ctx))
    page.reload()
    model, view = page.volunteer_model, page.view
    assert model.rowCount() > 25
    chosen = model.id_at(model.rowCount() - 3)
    assert page.select_volunteer(chosen)
    view.scrollTo(view.currentIndex())
    bar = view.verticalScrollBar()
    assert bar.value() > 0
    view.sortByColumn(model.keys.index("total"), Qt.SortOrder.DescendingOrder)

    assert page.current_volunteer_id() == chosen
    assert bar.value() == 0
