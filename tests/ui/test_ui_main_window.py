"""The main window and its parts, as real widgets over real SQLite files (offscreen)."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import gc  # noqa: E402
import threading  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import QSettings, QSize, Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox  # noqa: E402
from shequ_desktop.core.idnumber import check_digit  # noqa: E402

import db  # noqa: E402
from shequ_desktop.places import founding as community, grid, houses  # noqa: E402
from shequ_desktop.population import households, residents
from shequ_desktop.core.context import Context  # noqa: E402
from shequ_desktop.core.progress import Cancelled, report  # noqa: E402
from ui import app as ui_app  # noqa: E402
from shequ_desktop.core import keys  # noqa: E402
from ui import background, first_start, login  # noqa: E402
from ui.grid_tree import GridTreeModel  # noqa: E402
from ui.models import resident_table  # noqa: E402
from ui.models.resident_table import ResidentTableModel  # noqa: E402
from shequ_desktop.core.tree import all_units# noqa: E402
from shequ_desktop.population.resident_list import COLUMNS, ResidentQuery  # noqa: E402

NAME = COLUMNS.index("name")


@pytest.fixture(autouse=True)
def settings_in_tmp(tmp_path):
    """Keep any default QSettings() away from the real user's configuration."""
    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    yield


def id_number(birth: str, seq: int, male: bool) -> str:
    body = f"110105{birth}{seq % 100:02d}{1 if male else 2}"
    return body + check_digit(body)


def fresh(path):
    return db.open_db(path)


@pytest.fixture
def world(tmp_path):
    """Street → community → two grids; 9 residents: 1 moved out, 1 without a house."""
    path = tmp_path / "world.db"
    conn = fresh(path)
    ctx = Context(conn)
    u = {}

    def unit(key, parent, level, name):
        u[key] = grid.create_unit(ctx, u.get(parent), level, name).id

    unit("street", None, "street", "幸福街道")
    unit("comm", "street", "community", "阳光社区")
    unit("g1", "comm", "grid", "第一网格")
    unit("g2", "comm", "grid", "第二网格")
    unit("b3", "g1", "building", "3号楼")
    unit("b3u1", "b3", "unit", "1单元")
    unit("b1", "g2", "building", "1号楼")
    people = {}
    seq = iter(range(1, 100))

    def family(unit_key, room, head, *members):
        house_id = houses.create_house(ctx, u[unit_key], {"room_no": room}).id if unit_key \
            else None
        name, birth, male = head
        hh = households.create_household(ctx, house_id, {
            "name": name, "id_number": id_number(birth, next(seq), male)}).id
        people[name] = conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                                    (hh,)).fetchone()[0]
        for (m_name, m_birth, m_male), relation in members:
            people[m_name] = residents.add_member(ctx, hh, {
                "name": m_name, "id_number": id_number(m_birth, next(seq), m_male)},
                relation).id

    family("b3u1", "101", ("王芳", "19800101", False), (("刘强", "19790202", True), "10"),
           (("刘小雨", "20100303", False), "30"))
    family("b3u1", "502", ("张伟", "19700302", True), (("李娜", "19720510", False), "10"))
    family("b3u1", "1201", ("曾强", "19650815", True), (("赵敏", "19900607", False), "30"))
    family("b1", "301", ("陈晨", "19851111", True))
    family(None, "", ("周游", "19990101", True))
    residents.move_out(ctx, people["赵敏"], "2024-01-02", "海淀区")
    yield path, conn, u, people
    conn.close()


@pytest.fixture
def window(qtbot, world, tmp_path):
    path, conn, u, people = world
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    w = ui_app.build_main_window(conn, path, settings)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    return w, u, people


def count_text(w):
    return w.residents_page.count_label.text()


# --- the lazy model ------------------------------------------------------------------------

@pytest.mark.qt_log_level_fail("WARNING")
def test_resident_model_passes_qt_model_tester(qtmodeltester, world):
    _path, conn, *_ = world
    model = ResidentTableModel(conn, ResidentQuery(statuses=()))
    qtmodeltester.check(model)
    model.sort(NAME, Qt.SortOrder.DescendingOrder)      # resets run under the tester too
    model.set_query(ResidentQuery(unit_id=None, statuses=("迁出",)))
    assert model.rowCount() == 1


def test_resident_model_passes_python_model_tester(qtmodeltester, world):
    _path, conn, *_ = world
    qtmodeltester.check(ResidentTableModel(conn), force_py=True)


@pytest.mark.qt_log_level_fail("WARNING")
def test_grid_tree_model_passes_qt_model_tester(qtmodeltester, world):
    _path, conn, *_ = world
    model = GridTreeModel(all_units(conn))
    qtmodeltester.check(model)
    qtmodeltester.check(GridTreeModel(all_units(conn)), force_py=True)
    assert model.rowCount() == 2                     # 「全部人员」 and the street


@pytest.fixture
def big(tmp_path):
    """2,100 residents in 700 households, built through the services."""
    path = tmp_path / "big.db"
    conn = fresh(path)
    ctx = Context(conn)
    with ctx.transaction():
        c = grid.create_unit(ctx, None, "community", "阳光社区").id
        b = grid.create_unit(ctx, c, "building", "1号楼").id
        for k in range(700):
            h = houses.create_house(ctx, b, {"room_no": str(100 + k)}).id
            hh = households.create_household(ctx, h, {"name": f"张{k}号"}).id
            residents.add_member(ctx, hh, {"name": f"李{k}号"}, "10")
            residents.add_member(ctx, hh, {"name": f"王{k}号"}, "20")
    yield conn
    conn.close()


def test_lazy_model_loads_only_the_page_asked_for(big):
    model = ResidentTableModel(big)
    assert model.rowCount() == 2100
    assert model.pages_loaded == 0                   # the count needs no rows
    last = model.index(2099, NAME)
    expected = big.execute("SELECT name FROM residents ORDER BY id DESC LIMIT 1").fetchone()[0]
    assert model.data(last) == expected == "王699号"
    assert model.pages_loaded == 1 and model.cached_pages() == 1
    assert model.resident_id(2099) == big.execute("SELECT max(id) FROM residents").fetchone()[0]
    model.data(model.index(2000, 0))                 # same page: no new fetch
    assert model.pages_loaded == 1
    assert model.data(model.index(0, NAME)) == "张0号"
    assert model.pages_loaded == 2


def test_lazy_model_keeps_a_bounded_cache(big, monkeypatch):
    monkeypatch.setattr(resident_table, "MAX_PAGES", 3)
    model = ResidentTableModel(big)
    for page in range(6):
        model.data(model.index(page * resident_table.PAGE_SIZE, NAME))
    assert model.cached_pages() == 3 and model.pages_loaded == 6
    model.data(model.index(0, NAME))                 # evicted long ago: fetched again
    assert model.pages_loaded == 7
    model.data(model.index(5 * resident_table.PAGE_SIZE, NAME))   # still cached
    assert model.pages_loaded == 7


def test_sort_is_done_by_sql(big):
    model = ResidentTableModel(big)
    model.sort(NAME, Qt.SortOrder.AscendingOrder)
    assert model.query.order_by == "name"
    assert model.data(model.index(0, NAME)) == "李0号"          # l < w < z
    assert model.data(model.index(2099, NAME)).startswith("张")
    model.sort(NAME, Qt.SortOrder.DescendingOrder)
    assert model.data(model.index(0, NAME)).startswith("张")
    assert model.headerData(NAME, Qt.Orientation.Horizontal) == "姓名"
    assert model.headerData(COLUMNS.index("address"), Qt.Orientation.Horizontal) == "地址"


# --- the main window -----------------------------------------------------------------------

def test_window_title_status_bar_and_first_view(window, world):
    w, u, people = window
    path = world[0]
    assert w.windowTitle() == "社区网格工作台 — world.db"
    assert str(path) in w.path_label.text()
    assert count_text(w) == "共 8 人"                 # in the register, with or without house
    view = w.residents_page.view
    assert view.verticalHeader().sectionResizeMode(0).name == "Fixed"
    assert w.tree.isExpanded(w.tree.model().index_of(u["street"]))
    assert w.quit_action.shortcut().toString() == "Ctrl+Q"
    assert w.refresh_action.shortcut().toString() == "F5"


def test_selecting_a_unit_filters_the_table(window, qtbot):
    w, u, people = window
    tree = w.tree
    index = tree.model().index_of(u["g1"])
    tree.scrollTo(index)
    qtbot.mouseClick(tree.viewport(), Qt.MouseButton.LeftButton,
                     pos=tree.visualRect(index).center())
    assert tree.current_unit() == u["g1"]
    assert count_text(w) == "共 6 人"                 # 赵敏 moved out
    tree.select_unit(u["g2"])
    assert count_text(w) == "共 1 人"
    assert w.residents_page.model.data(w.residents_page.model.index(0, NAME)) == "陈晨"
    tree.select_unit(u["street"])
    assert count_text(w) == "共 7 人"                 # 周游 has no house
    w.residents_page.filters.status.setCurrentIndex(3)  # 全部
    assert count_text(w) == "共 8 人"
    w.residents_page.filters.status.setCurrentIndex(1)  # 迁出
    assert count_text(w) == "共 1 人"
    tree.select_unit(None)
    assert count_text(w) == "共 1 人"


def test_selecting_a_row_fills_the_details(window, qtbot):
    w, u, people = window
    page = w.residents_page
    w.tree.select_unit(u["b3u1"])
    row = page.model.row_of(people["刘强"])
    index = page.model.index(row, NAME)
    page.view.scrollTo(index)
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton,
                     pos=page.view.visualRect(index).center())
    assert page.current_resident_id() == people["刘强"]
    d = w.details
    assert d.text_of("name") == "刘强"
    assert d.text_of("relation_to_head") == "配偶"
    assert d.text_of("gender") == "男"
    assert d.text_of("address") == "阳光社区 3号楼1单元101"
    assert d.text_of("grid") == "第一网格"
    assert d.member_names() == ["王芳", "刘强", "刘小雨"]
    assert [d.members.item(r, 1).text() for r in range(3)] == ["户主", "配偶", "女"]


def test_write_through_context_refreshes_table_and_details(window):
    w, u, people = window
    page = w.residents_page
    assert page.select_resident(people["张伟"])
    row = page.model.row_of(people["张伟"])
    assert page.model.data(page.model.index(row, NAME)) == "张伟"
    residents.update_resident(w.ctx, people["张伟"], {"name": "张伟国", "phone": "13800138000"})
    assert page.model.data(page.model.index(row, NAME)) == "张伟国"
    assert page.model.data(page.model.index(row, COLUMNS.index("phone"))) == "13800138000"
    assert w.details.text_of("name") == "张伟国"
    # A move out drops the row from the 在册 list and the count, and the details follow.
    residents.move_out(w.ctx, people["李娜"], "2024-05-01", "朝阳区")
    assert count_text(w) == "共 7 人"
    assert page.model.row_of(people["李娜"]) is None
    assert w.details.member_names() == ["张伟国"]
    assert page.current_resident_id() == people["张伟"]      # selection survives the reset


def test_new_unit_appears_in_tree(window):
    w, u, people = window
    before = w.tree.model().rowCount(w.tree.model().index_of(u["comm"]))
    grid.create_unit(w.ctx, u["comm"], "grid", "第三网格")
    assert w.tree.model().rowCount(w.tree.model().index_of(u["comm"])) == before + 1


def test_layout_is_saved_on_close_and_restored(qtbot, world, tmp_path):
    path, conn, *_ = world
    ini = str(tmp_path / "layout.ini")
    w = ui_app.build_main_window(conn, path, QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    w.resize(790, 560)          # the offscreen screen is 800×600
    w.splitter.setSizes([150, 440, 200])
    qtbot.wait(10)
    sizes = w.splitter.sizes()
    w.close()
    stored = QSettings(ini, QSettings.Format.IniFormat)
    assert stored.value("main_window/geometry") is not None
    assert stored.value("main_window/splitter") is not None
    w2 = ui_app.build_main_window(conn, path, QSettings(ini, QSettings.Format.IniFormat))
    qtbot.addWidget(w2)
    w2.show()
    qtbot.wait(10)
    assert w2.size() == QSize(790, 560)
    assert w2.splitter.sizes() == sizes


# --- starting the program --------------------------------------------------------------------

@pytest.fixture
def captured(monkeypatch):
    messages = []

    def critical(parent, title, text, *args, **kwargs):
        messages.append((title, text))
        return QMessageBox.StandardButton.Ok

    monkeypatch.setattr(QMessageBox, "critical", critical)
    return messages


def test_main_refuses_a_file_that_is_not_a_database(qapp, tmp_path, captured):
    bogus = tmp_path / "名单.txt"
    content = "姓名,电话\n王芳,13800138000\n" * 50
    bogus.write_text(content, encoding="utf-8")
    assert ui_app.main(["--db", str(bogus)]) == 1
    assert len(captured) == 1
    title, text = captured[0]
    assert "数据库" in title
    assert "不是有效的数据库" in text and "Traceback" not in text
    assert bogus.read_text(encoding="utf-8") == content        # untouched


def test_main_first_start_blank_community(qapp, tmp_path, monkeypatch, captured):
    path = tmp_path / "new.db"

    def fake_exec(dialog):
        dialog.community_edit.setText("阳光社区")
        dialog.street_edit.setText("幸福街道")
        dialog.blank_button.click()
        return QDialog.DialogCode.Accepted

    def first_admin(dialog):
        assert isinstance(dialog, login.FirstAdminDialog)
        dialog.display_name.setText("张三")
        dialog.password.setText("Jiedao-2026")
        dialog.again.setText("Jiedao-2026")
        dialog.submit()
        return dialog.result()

    recovery = []

    def recovery_key(dialog):
        assert not dialog.ok.isEnabled()          # not before they say it is kept
        dialog.show()
        dialog.reject()
        assert dialog.isVisible()                 # Esc does not close it either
        dialog.kept.setChecked(True)
        assert dialog.ok.isEnabled()
        dialog.accept()
        recovery.append(dialog.text)
        return QDialog.DialogCode.Accepted

    shown = []
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)
    monkeypatch.setattr(first_start.FirstStartDialog, "exec", fake_exec)
    monkeypatch.setattr(login.FirstAdminDialog, "exec", first_admin)
    monkeypatch.setattr(login.RecoveryKeyDialog, "exec", recovery_key)
    monkeypatch.setattr(QApplication, "exec", staticmethod(lambda: shown.append(1) or 0))
    assert ui_app.main(["--db", str(path)]) == 0
    assert shown == [1] and captured == []
    assert keys.KeyFile.load(path).users() == ["admin"]
    assert db.is_encrypted(path) and "阳光社区".encode() not in path.read_bytes()
    db.forget_keys()
    with pytest.raises(db.EncryptedDatabaseError):
        fresh(path)
    assert keys.from_recovery_text(recovery[0]) == keys.KeyFile.load(path).unwrap(
        "admin", "Jiedao-2026")
    db.use_key(path, keys.from_recovery_text(recovery[0]))
    conn = fresh(path)
    names = [(r["level"], r["name"]) for r in conn.execute(
        "SELECT level, name FROM grid_units ORDER BY id")]
    conn.close()
    assert names == [("street", "幸福街道"), ("community", "阳光社区")]


def test_main_first_start_can_quit(qapp, tmp_path, monkeypatch):
    monkeypatch.setattr(first_start.FirstStartDialog, "exec",
                        lambda dialog: QDialog.DialogCode.Rejected)
    monkeypatch.setattr(QApplication, "exec", staticmethod(lambda: pytest.fail("no window")))
    path = tmp_path / "new.db"
    assert ui_app.main(["--db", str(path)]) == 0
    conn = fresh(path)
    assert community.is_empty(Context(conn))
    conn.close()


def test_first_start_loads_demo_in_background(qtbot, tmp_path, monkeypatch):
    path = tmp_path / "demo.db"
    conn = fresh(path)
    monkeypatch.setattr(first_start, "DEMO_RESIDENTS", 300)
    calls = iter([first_start.FirstStartDialog._choose_demo])

    def fake_exec(dialog):
        next(calls)(dialog)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(first_start.FirstStartDialog, "exec", fake_exec)
    assert first_start.run_first_start(conn, path)   # real thread, its own connection
    n = conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    conn.close()
    assert 250 <= n <= 350


# --- background work -------------------------------------------------------------------------

def test_background_synchronous_for_tests(tmp_path, monkeypatch):
    path = tmp_path / "bg.db"
    fresh(path).close()
    monkeypatch.setattr(background, "SYNCHRONOUS", True)
    seen, results = [], []

    def work(conn, progress):
        for i in range(3):
            report(progress, i + 1, 3)
        return conn.execute("SELECT count(*) FROM tags").fetchone()[0]

    task = background.run(work, path, on_success=results.append,
                          on_progress=lambda done, total: seen.append((done, total)))
    assert task.done and task.error is None
    assert seen == [(1, 3), (2, 3), (3, 3)]
    assert results == [task.result] and task.result > 0


def test_background_thread_uses_its_own_connection(qtbot, tmp_path):
    path = tmp_path / "bg.db"
    main_conn = fresh(path)
    where = {}

    def work(conn, progress):
        where["thread"] = threading.get_ident()
        where["conn"] = conn
        report(progress, 1, 2)
        report(progress, 2, 2)
        return "完成"

    progress = []
    task = background.run(work, path, synchronous=False,
                          on_progress=lambda done, total: progress.append((done, total)))
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert task.result == "完成" and task.error is None
    assert progress == [(1, 2), (2, 2)]
    assert where["thread"] != threading.get_ident()
    assert where["conn"] is not main_conn
    main_conn.close()


def test_background_cancel_makes_progress_return_false(qtbot, tmp_path):
    path = tmp_path / "bg.db"
    fresh(path).close()
    started = threading.Event()
    failures = []

    def work(conn, progress):
        for i in range(100000):
            started.set()
            report(progress, i, 100000)      # raises Cancelled once progress returns False
            threading.Event().wait(0.001)
        return "not cancelled"

    task = background.run(work, path, synchronous=False, on_failure=failures.append)
    assert started.wait(5)
    assert not gc.isenabled()            # cyclic GC pinned to the GUI thread meanwhile
    task.cancel()
    with qtbot.waitSignal(task.finished, timeout=10000):
        pass
    assert isinstance(task.error, Cancelled) and failures == [task.error]
    assert task.result is None
    qtbot.waitUntil(gc.isenabled, timeout=5000)


def test_background_progress_is_throttled(qtbot, tmp_path):
    path = tmp_path / "bg.db"
    fresh(path).close()
    seen = []

    def work(conn, progress):
        for i in range(1, 50001):
            report(progress, i, 50000)      # a loop that reports every row
        return i

    task = background.run(work, path, synchronous=False,
                          on_progress=lambda done, total: seen.append(done))
    with qtbot.waitSignal(task.finished, timeout=20000):
        pass
    assert task.result == 50000
    assert 1 <= len(seen) < 1000 and seen[-1] == 50000
