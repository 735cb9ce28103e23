"""One operations path (issue 19 §2): background writes run through ui/operations.CollectionOp
with the signed-in user's Context, one at a time, with progress and cancel, and what they
commit reaches the window's pages as changes (no full refresh). Real widgets offscreen over a
real demo street in SQLite, real xlsx sheets and a real package file."""
import shutil
import threading

import pytest
import shiboken6
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QAbstractItemView, QPushButton, QWizard

import db
from tests.sync.exchange_helpers import PASSPHRASE
from shequ_desktop.core import audit
from shequ_desktop.demo import street as demo
from shequ_desktop.sync import exchange, merging
from shequ_desktop.places import grid
from shequ_desktop.population import households, residents
from shequ_desktop.core.context import Context
from shequ_desktop.core.access import NotPermitted
from shequ_desktop.transfer.importing import import_file
from shequ_desktop.core.progress import Cancelled, report
from shequ_desktop.population.resident_list import COLUMNS, ResidentQuery
from shequ_desktop.security.users import User
from tests.conftest import make_id
from tests.transfer.test_import import dump, problem_rows, write_xlsx
from ui import app as ui_app
from ui import background, operations
from ui.models.resident_table import ResidentTableModel
from ui.operations import CollectionOp, OperationFailed


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A demo street of about 400 people, and a package from a laptop that was handed one grid
    and registered a new family there."""
    root = tmp_path_factory.mktemp("operations")
    office, laptop = root / "office.db", root / "laptop.db"
    conn = db.open_db(office)
    demo.generate(conn, residents=400, seed=5)
    grid_id = conn.execute("SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id"
                           ).fetchone()[0]
    exchange.export_package(Context(conn, "社区"), root / "handout.sqpkg", PASSPHRASE, grid_id)
    conn.close()
    conn = db.open_db(laptop)
    lctx = Context(conn, "网格员")
    merging.merge(lctx, root / "handout.sqpkg", PASSPHRASE)
    house = conn.execute("SELECT h.id FROM houses h LEFT JOIN households hh"
                         " ON hh.house_id = h.id WHERE hh.id IS NULL ORDER BY h.id").fetchone()[0]
    households.create_household(lctx, house, {"name": "新来户", "id_number":
                                              make_id("1988-08-08", "1", seq=77)})
    exchange.export_package(lctx, root / "back.sqpkg", PASSPHRASE, None, "团结湖社区")
    conn.close()
    return root, office, grid_id


@pytest.fixture
def street(made, tmp_path):
    root, office, grid_id = made
    path = tmp_path / "office.db"
    shutil.copy(office, path)
    conn = db.open_db(path)
    yield path, conn, grid_id, root / "back.sqpkg"
    conn.close()


def open_window(qtbot, conn, path, tmp_path, user=None):
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(conn, path, settings, user=user)
    qtbot.addWidget(window)
    window.resize(1200, 760)
    window.show()
    qtbot.waitExposed(window)
    return window


def scrolled_and_selected(qtbot, window):
    """The 人员 page scrolled to the middle with a row there selected; (page, id, scroll)."""
    page = window.show_page("residents")
    view = page.view
    row = page.count() // 2
    assert page.select_resident(page.model.resident_id(row))
    view.scrollTo(page.model.index(row, 1), QAbstractItemView.ScrollHint.PositionAtCenter)
    qtbot.waitUntil(lambda: view.verticalScrollBar().value() > 0)
    return page, page.current_resident_id(), view.verticalScrollBar().value()


def watched(qtbot, conn, path, tmp_path):
    """The window, its 人员 page scrolled and selected, and lists of the page's model resets
    and the window's full refreshes."""
    window = open_window(qtbot, conn, path, tmp_path)
    page, selected, scroll = scrolled_and_selected(qtbot, window)
    reset, refreshed = [], []
    page.model.modelReset.connect(lambda: reset.append(True))
    window.refresh = lambda: refreshed.append(True)
    return window, page, selected, scroll, reset, refreshed


def assert_kept(page, selected, scroll):
    assert page.view.verticalScrollBar().value() == scroll
    assert page.current_resident_id() == selected
    rows = page.view.selectionModel().selectedRows()
    assert [page.model.resident_id(i.row()) for i in rows] == [selected]


def import_through_the_wizard(window, sheet):
    window.import_action.trigger()
    wizard = window.findChildren(QWizard)[-1]
    wizard.file_page.path.setText(str(sheet))
    wizard.next()
    wizard.next()
    wizard.next()           # the preview's 导入
    return wizard


# --- (a) (b) changes, not a refresh ------------------------------------------------------------

def test_an_import_keeps_the_residents_page_scrolled_and_selected_and_shows_the_new_people(
        qtbot, street, tmp_path):
    path, conn, _grid, _package = street
    window, page, selected, scroll, reset, refreshed = watched(qtbot, conn, path, tmp_path)
    before = page.count()
    wizard = import_through_the_wizard(window, write_xlsx(tmp_path / "居民.xlsx", problem_rows()))
    assert wizard.run_page.result.text().startswith("导入完成：新增 8 人")
    assert page.count() == before + 8 and page.count_label.text() == f"共 {before + 8} 人"
    new = {page.model.index(r, page.model.columns.index("name")).data()
           for r in range(before, before + 8)}
    assert new == {n for (n,) in conn.execute("SELECT name FROM residents ORDER BY id DESC"
                                              " LIMIT 8")} and "王建国" in new
    assert_kept(page, selected, scroll)
    assert reset == [] and refreshed == []          # rows inserted, nothing re-read at large


def test_a_package_merge_keeps_the_residents_page_scrolled_and_selected(qtbot, street,
                                                                       tmp_path):
    path, conn, _grid, package = street
    window, page, selected, scroll, reset, refreshed = watched(qtbot, conn, path, tmp_path)
    before = page.count()
    exchange_page = window.show_page("exchange")
    exchange_page.preview(str(package), PASSPHRASE)
    with qtbot.waitSignal(exchange_page.merged) as merged:
        exchange_page.apply_merge()
    assert merged.args[0].totals()["new"] >= 1
    window.show_page("residents")
    assert page.count() == before + 1
    assert page.model.index(before, page.model.columns.index("name")).data() == "新来户"
    assert_kept(page, selected, scroll)
    assert reset == [] and refreshed == []


# --- (c) the signed-in user's Context --------------------------------------------------------

def test_a_grid_worker_importing_in_the_window_is_refused_as_on_the_command_line_and_named(
        qtbot, street, tmp_path):
    path, conn, grid_id, _package = street
    community = conn.execute("SELECT parent_id FROM grid_units WHERE id = ?", (grid_id,)
                             ).fetchone()[0]
    other = grid.create_unit(Context(conn), community, "grid", "第二网格").id
    zhang = User(9, "zhang", "张网格", "网格员", frozenset({grid_id}))
    window = open_window(qtbot, conn, path, tmp_path, user=zhang)
    sheet = write_xlsx(tmp_path / "居民.xlsx", problem_rows())
    before = dump(conn)
    # What the command line does for zhang (cli_session: the user's Context on a connection)
    cli = Context(db.open_db(path), "zhang")
    cli.access = zhang.access
    with pytest.raises(NotPermitted) as on_the_cli:
        import_file(cli, sheet, other)
    cli.conn.close()
    failures, seen = [], []

    def work(ctx, progress):
        seen.append((ctx.user, ctx.access.role, ctx.access.unit_ids, ctx is window.ctx))
        return import_file(ctx, sheet, other, progress=progress)

    op = CollectionOp(window, window.ctx, work).failure(failures.append).run_in_background()
    assert op.done and seen == [("zhang", "网格员", frozenset({grid_id}), False)]
    assert isinstance(failures[0], NotPermitted)
    assert str(failures[0]) == str(on_the_cli.value) and "网格员只能" in str(failures[0])
    assert dump(conn) == before
    # Into their own grid, through the wizard: it lands, and the audit names zhang
    wizard = import_through_the_wizard(window, sheet)
    assert wizard.file_page.target.currentData() == grid_id
    assert wizard.run_page.result.text().startswith("导入完成：新增 8 人")
    assert [e["actor"] for e in audit.entries(conn, action="import")] == ["zhang"]
    assert window.residents_page.count() == conn.execute(
        "SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (WITH RECURSIVE s(id) AS"
        " (SELECT ? UNION SELECT g.id FROM grid_units g JOIN s ON g.parent_id = s.id)"
        " SELECT id FROM s) AND r.status = '在册'", (grid_id,)).fetchone()[0]


# --- (d) progress and cancel on the worker -------------------------------------------------------

@pytest.fixture
def threaded(monkeypatch):
    """The real worker thread (other UI tests run background work inline)."""
    monkeypatch.setattr(background, "SYNCHRONOUS", False)


def household_then_wait(place_house, started: threading.Event):
    """An operation that writes a household, then reports progress until told to stop."""

    def work(ctx, progress):
        with ctx.transaction():
            households.create_household(ctx, place_house, {"name": "半途户"})
            started.set()
            while True:
                report(progress, 1, 2)          # raises Cancelled once cancel is pressed
                threading.Event().wait(0.005)
    return work


def test_cancel_in_the_progress_dialog_leaves_nothing_half_written(qtbot, threaded, ctx, conn,
                                                                  place):
    before, published, failures = dump(conn), [], []
    ctx.subscribe(published.extend)
    started = threading.Event()
    op = CollectionOp(None, ctx, household_then_wait(place.house, started),
                      label="正在登记…").failure(failures.append).run_in_background()
    assert started.wait(10)
    dialog = op.task.dialog
    qtbot.waitUntil(dialog.isVisible, timeout=5000)        # after half a second
    qtbot.waitUntil(lambda: "已完成 1 / 2" in dialog.labelText(), timeout=5000)
    assert dialog.labelText().startswith("正在登记…")
    button = dialog.findChild(QPushButton)
    assert button.text() == "取消"
    button.click()
    op.wait()
    assert isinstance(failures[0], Cancelled) and str(failures[0]).startswith("操作已取消")
    assert dump(conn) == before and published == []


def test_operations_run_one_at_a_time_in_the_order_asked(qtbot, threaded, ctx, conn, place):
    started, order = threading.Event(), []
    first = CollectionOp(None, ctx, household_then_wait(place.house, started), quiet=True) \
        .failure(lambda exc: order.append("first")).run_in_background()

    def second_work(ctx, progress):
        return households.create_household(ctx, place.house2, {"name": "第二户"}).id

    published = []
    ctx.subscribe(published.extend)
    second = CollectionOp(None, ctx, second_work, quiet=True) \
        .success(lambda hid: order.append(("second", hid))).run_in_background()
    assert started.wait(10)
    assert second.task is None and not second.done        # queued behind the first
    first.cancel()
    second.wait()
    hid = conn.execute("SELECT id FROM households WHERE house_id = ?", (place.house2,)
                       ).fetchone()[0]
    assert order == ["first", ("second", hid)]
    assert {(c.entity, c.id) for c in published if c.action == "create"} >= {("households", hid)}


# --- (e) a bug in the function --------------------------------------------------------------------

def test_a_bug_in_the_function_reaches_the_failure_callback_in_chinese_and_the_window_goes_on(
        qtbot, threaded, street, tmp_path):
    path, conn, _grid, _package = street
    window = open_window(qtbot, conn, path, tmp_path)
    page = window.show_page("residents")
    before, failures = page.count(), []

    def broken(ctx, progress):
        report(progress, 1, 1)
        return {}["没有这个键"]

    op = CollectionOp(window, window.ctx, broken).failure(failures.append).run_in_background()
    op.wait()
    exc = failures[0]
    assert isinstance(exc, OperationFailed) and isinstance(exc.__cause__, KeyError)
    assert str(exc).startswith("操作因程序错误而中止（KeyError）")
    assert "KeyError" in exc.traceback_text                 # for the maintainer
    assert operations._active == [] and not operations._queue
    dialog = op.task.dialog                  # hidden at once, deleted later
    assert not shiboken6.isValid(dialog) or not dialog.isVisible()
    # the window goes on: a foreground write and another operation both land and show
    house = conn.execute("SELECT h.id FROM houses h LEFT JOIN households hh ON hh.house_id = h.id"
                         " WHERE hh.id IS NULL ORDER BY h.id").fetchone()[0]
    households.create_household(window.ctx, house, {"name": "前台户"})
    after = CollectionOp(window, window.ctx, lambda ctx, progress: households.create_household(
        ctx, house, {"name": "后台户"})).run_in_background()
    after.wait()
    assert after.error is None and page.count() == before + 2


# --- the residents table takes rows in and out in place -----------------------------------------

@pytest.mark.qt_log_level_fail("WARNING")
def test_the_residents_table_inserts_and_removes_rows_in_place_under_the_model_tester(
        qtmodeltester, ctx, conn, family):
    hh, people = family
    model = ResidentTableModel(conn, ResidentQuery())
    model.sort(COLUMNS.index("name"), Qt.SortOrder.AscendingOrder)   # inserts land inside
    qtmodeltester.check(model)
    ctx.subscribe(model.apply_changes)
    events = []
    model.rowsInserted.connect(lambda _p, first, last: events.append(("in", first, last)))
    model.rowsRemoved.connect(lambda _p, first, last: events.append(("out", first, last)))
    model.modelReset.connect(lambda: events.append("reset"))
    names = lambda: [model.index(r, COLUMNS.index("name")).data()  # noqa: E731
                     for r in range(model.rowCount())]
    assert names() == ["李秀英", "王建国", "王小明"]          # by pinyin
    residents.add_member(ctx, hh, {"name": "王二", "id_number": make_id("2005-01-01", "2")},
                         "女")
    assert names() == ["李秀英", "王二", "王建国", "王小明"]
    residents.move_out(ctx, people["son"], "2024-01-02", "海淀区")
    assert names() == ["李秀英", "王二", "王建国"]
    assert events == [("in", 1, 1), ("out", 3, 3)]
