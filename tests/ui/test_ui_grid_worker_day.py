"""Issue 20 in the window: one 走访逾期 on 首页 and 数据质量, the details panel where it means
something, 已保存, a window that fits the screen."""
import pytest

from shequ_desktop.demo import street as demo
from ui import app as ui_app
from ui import resident_dialog

# The 首页 tests' demo street and main window (700 generated residents).
from tests.ui.test_ui_dashboard import demo_path, window  # noqa: F401  (fixtures)


def test_overdue_visits_are_the_same_number_on_home_and_quality_pages(qtbot, window):
    home = window.page("dashboard")
    qtbot.waitUntil(lambda: home.figures is not None)
    quality = window.show_page("quality")
    qtbot.waitUntil(lambda: quality.runs >= 1)
    overdue = {r.key: r.count for r in quality.results}["focus_visit_overdue"]
    assert home.tiles["overdue"].value == overdue > 0
    never = {r.key: r.count for r in quality.results}["focus_never_visited"]
    assert home.tiles["never_visited"].value == never


def test_details_panel_shows_beside_lists_of_people_only(window):
    window.show_page("residents")
    assert window.details.isVisible()
    for key in ("dashboard", "audit", "reports", "events"):
        window.show_page(key)
        assert not window.details.isVisible(), key
    window.show_page("household")
    assert window.details.isVisible()


def test_details_panel_follows_the_member_chosen_on_the_household_page(qtbot, window):
    conn = window.conn
    hh = conn.execute("SELECT household_id FROM residents WHERE status = '在册' "
                      "GROUP BY household_id HAVING count(*) >= 2 LIMIT 1").fetchone()[0]
    window.show_household(hh)
    view = window.page("household")
    ids = [view.table.item(r, 0).data(0x0100) for r in range(view.table.rowCount())]
    view.table.selectRow(1)
    assert window.details.resident_id == view.selected_id() != ids[0]


def test_saving_a_form_says_saved_in_the_status_bar(window, monkeypatch):
    rid = window.conn.execute("SELECT id, name FROM residents LIMIT 1").fetchone()
    monkeypatch.setattr(resident_dialog, "open_resident", lambda parent, ctx, r: r)
    window.edit_resident(rid[0])
    assert window.statusBar().currentMessage() == f"已保存：{rid[1]}"


def test_window_fits_the_available_screen(window):
    area = window.screen().availableGeometry()
    window.resize(area.width() + 400, area.height() + 400)
    window.fit_screen()
    assert window.frameGeometry().height() <= area.height() + 1
    assert window.width() <= area.width()


def test_encrypted_database_opens_at_once_and_its_pages_are_checked_after_the_window_shows(
        qapp, qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QApplication, QMessageBox

    from db import encryption
    from shequ_desktop.core import keys
    from shequ_desktop.security import unlock, users
    from shequ_desktop.core.context import Context
    from tests.ui.test_ui_safety import signs_in
    from ui import safety as safety_module

    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)
    path = tmp_path / "street.db"
    conn, key = unlock.create_database(path)
    demo.generate(conn, residents=200, seed=3)
    users.create_first_admin(Context(conn), path, "admin", "Admin-2026", None, key)
    unlock.recovery_shown(path)                    # as the setup does once the key is shown
    # A page the start never reads: the root of an index over the visits.
    page = conn.execute("SELECT rootpage FROM sqlite_master WHERE type = 'index' AND "
                        "tbl_name = 'visits' ORDER BY rootpage DESC LIMIT 1").fetchone()[0]
    size = int(conn.execute("PRAGMA page_size").fetchone()[0])
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[(page - 1) * size:page * size] = b"\x07" * size
    path.write_bytes(bytes(data))
    encryption.forget_keys()

    signs_in(monkeypatch)
    monkeypatch.setattr(safety_module, "when_damaged",
                        lambda path, problem, parent=None: pytest.fail(problem))
    told, windows = [], []
    monkeypatch.setattr(QMessageBox, "critical", lambda parent, title, text: told.append(text))
    real_build = ui_app.build_main_window
    monkeypatch.setattr(ui_app, "build_main_window",
                        lambda *a, **k: windows.append(real_build(*a, **k)) or windows[-1])

    def event_loop_until_checked():
        assert windows[0].isVisible()                # shown before the pages were checked
        qtbot.waitUntil(lambda: bool(told), timeout=30_000)
        return 0

    monkeypatch.setattr(QApplication, "exec", staticmethod(event_loop_until_checked))
    before = path.read_bytes()
    assert ui_app.main(["--db", str(path)]) == 0
    assert "已损坏" in told[0] and "从备份恢复" in told[0]
    assert windows[0].ctx.read_only == safety_module.DAMAGED
    assert path.read_bytes() == before                            # not one byte written


def test_home_page_names_its_unit_and_keeps_the_heat_table_below_the_pyramid(qtbot, window):
    window.resize(1280, 780)
    home = window.show_page("dashboard")
    qtbot.waitUntil(lambda: home.by_grid is not None and home.figures is not None)
    qtbot.waitUntil(lambda: home.by_grid.isVisible())
    pyramid = home.pyramid.mapTo(home, home.pyramid.rect().bottomLeft()).y()
    heat = home.by_grid.mapTo(home, home.by_grid.rect().topLeft()).y()
    assert heat >= pyramid
    assert home.title.text() == "首页 · 全部"
    unit, name = window.conn.execute(
        "SELECT id, name FROM grid_units WHERE level = 'grid' LIMIT 1").fetchone()
    window.tree.select_unit(unit)
    assert home.title.text().startswith("首页 · ") and home.title.text().endswith(name)


def test_audit_log_names_the_person_and_a_visit_is_made_by_a_person(qtbot, window,
                                                                     monkeypatch):
    from shequ_desktop.core import record_names
    from shequ_desktop.population import residents
    from ui.dialogs.visit_dialog import VisitDialog

    conn = window.conn
    rid, name = conn.execute("SELECT id, name FROM residents WHERE status = '在册' "
                             "LIMIT 1").fetchone()
    residents.update_resident(window.ctx, rid, {"notes": "走访时说明情况"})
    audit_page = window.show_page("audit")
    audit_page.show_record("residents", rid)
    texts = [audit_page.model.index(r, 3).data() for r in range(audit_page.model.rowCount())]
    assert f"居民 {name}" in texts and f"居民 {rid}" not in texts
    conn.execute("INSERT INTO users (username, display_name, role, active) VALUES "
                 "('wgy1', '李网格', '网格员', 1)")
    assert record_names.person_of_login(conn, "wgy1") == "李网格"
    assert record_names.person_of_login(conn, "nobody") == "nobody"
    asked = []
    monkeypatch.setattr(VisitDialog, "ask", classmethod(
        lambda cls, parent, names, visitor="": asked.append(visitor)))
    window.ctx.user = "wgy1"
    visits = window.show_page("visits")
    visits.view.selectRow(0)
    visits.record_visit()
    assert asked == ["李网格"]


def test_a_second_start_on_the_same_database_is_refused_and_brings_the_first_forward(
        qtbot, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from ui.single_instance import Instance

    first = Instance(tmp_path / "a.db")
    assert first.acquire()
    knocked = []
    first.activated.connect(lambda: knocked.append(True))
    other = Instance(tmp_path / "b.db")
    assert other.acquire()                       # another database: its own window
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: told.append(a[2]))
    assert ui_app.main(["--db", str(tmp_path / "a.db")]) == 0
    assert "已在另一个窗口中打开" in told[0]
    qtbot.waitUntil(lambda: bool(knocked))
    first.release()
    other.release()
    again = Instance(tmp_path / "a.db")
    assert again.acquire()                       # free again once the first has gone
    again.release()
