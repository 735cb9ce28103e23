"""The exchange page (数据交换) driven through pytest-qt: real widgets offscreen over real
SQLite files and real package files; background work runs synchronously in tests."""
import shutil

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

import db
from tests.sync.exchange_helpers import PASSPHRASE, dump
from shequ_desktop.sync import exchange, merging, package
from shequ_desktop.population import residents
from shequ_desktop.core.context import Context
from ui.pages.exchange_page import ExchangePage, PassphraseDialog


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    from shequ_desktop.demo import street as demo
    root = tmp_path_factory.mktemp("ui-exchange")
    office, laptop = root / "office.db", root / "laptop.db"
    conn = db.open_db(office)
    demo.generate(conn, residents=600, seed=5)
    unit = conn.execute("SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id").fetchone()[0]
    exchange.export_package(Context(conn, "社区"), root / "handout.sqpkg", PASSPHRASE, unit)
    conn.close()
    conn = db.open_db(laptop)
    lctx = Context(conn, "网格员")
    merging.merge(lctx, root / "handout.sqpkg", PASSPHRASE)
    people = [r[0] for r in conn.execute("SELECT uuid FROM residents WHERE status = '在册'"
                                         " ORDER BY id LIMIT 2")]
    for uuid, values in zip(people, ({"phone": "13900001111"}, {"notes": "网格员补充"})):
        rid = conn.execute("SELECT id FROM residents WHERE uuid = ?", (uuid,)).fetchone()[0]
        residents.update_resident(lctx, rid, values)
    exchange.export_package(lctx, root / "back.sqpkg", PASSPHRASE, None, "团结湖社区")
    conn.close()
    conn = db.open_db(office)
    rid = conn.execute("SELECT id FROM residents WHERE uuid = ?", (people[0],)).fetchone()[0]
    residents.update_resident(Context(conn, "社区"), rid, {"phone": "13900002222"})
    conn.close()
    return root, office, people


@pytest.fixture
def page(qtbot, made, tmp_path):
    root, office, people = made
    path = tmp_path / "office.db"
    shutil.copy(office, path)
    conn = db.open_db(path)
    page = ExchangePage(Context(conn, "社区工作者"), path)
    qtbot.addWidget(page)
    page.resize(1200, 760)
    page.show()
    yield page, root / "back.sqpkg", people
    conn.close()


def test_preview_lists_what_would_change_and_changes_nothing(page, qtmodeltester):
    page, file, _people = page
    before = dump(page.db_path)
    page.preview(str(file), PASSPHRASE)
    assert dump(page.db_path) == before
    assert "预览（尚未合并）" in page.summary.text() and "第1网格" in page.summary.text()
    assert page.merge_button.isEnabled()
    assert [page.preview_tabs.tabText(i) for i in range(3)] == [
        "新增和更新 (1)", "冲突 (1)", "拒绝 (0)"]
    for model in (page.changes_model, page.preview_conflicts, page.refused_model):
        qtmodeltester.check(model)
    conflict = page.preview_conflicts.rows[0]
    index = page.preview_conflicts.index
    assert [page.preview_conflicts.data(index(0, c)) for c in range(5)] == [
        "第1网格", conflict["record"], "联系电话", "139****2222", "139****1111"]
    assert [page.changes_model.data(page.changes_model.index(0, c)) for c in range(5)] == [
        "居民", "0", "1", "0", "0"]


def test_merge_then_settle_the_conflict_with_their_value(page, qtbot, qtmodeltester):
    page, file, people = page
    page.preview(str(file), PASSPHRASE)
    with qtbot.waitSignal(page.merged) as merged:
        page.apply_merge()
    assert merged.args[0].totals()["updated"] == 1
    assert not page.merge_button.isEnabled() and page.summary.text().startswith("已合并")
    qtmodeltester.check(page.conflict_model)
    assert page.conflict_model.rowCount() == 1
    assert "1 处字段在两边都被改过" in page.conflict_label.text()
    assert not page.theirs_button.isEnabled()
    page.conflict_view.selectionModel().select(
        page.conflict_model.index(0, 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows)
    assert page.theirs_button.isEnabled()
    page.theirs_button.click()
    conn = page.conn
    assert conn.execute("SELECT phone FROM residents WHERE uuid = ?",
                        (people[0],)).fetchone()[0] == "13900001111"
    assert conn.execute("SELECT notes FROM residents WHERE uuid = ?",
                        (people[1],)).fetchone()[0] == "网格员补充"
    assert page.conflict_model.rowCount() == 0 and "没有待处理的冲突" in page.conflict_label.text()
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action IN ('merge', 'resolve')"
                        ).fetchone()[0] == 2


def test_export_since_a_peer_writes_a_readable_package(page, tmp_path, monkeypatch):
    page, file, _people = page
    page.preview(str(file), PASSPHRASE)
    page.apply_merge()
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
    page.peer_combo.setCurrentIndex(1)
    assert "第1网格" in page.peer_combo.currentText()
    out = tmp_path / "to-laptop.sqpkg"
    page.export_to(str(out), "另一个口令123")
    manifest, data = package.read(out, "另一个口令123")
    assert manifest["target_name"] == "第1网格" and manifest["unit_name"] == "第1网格"
    assert "已导出" in shown[0] and str(out) in shown[0]


def test_a_wrong_passphrase_is_explained_and_merging_stays_off(page, monkeypatch):
    page, file, _people = page
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    page.preview(str(file), "不对的口令")
    assert "口令不正确" in warned[0] and "未能预览" in page.summary.text()
    assert not page.merge_button.isEnabled() and page.apply_merge() is None


def test_the_passphrase_dialog_wants_it_twice_and_long_enough(qtbot, monkeypatch):
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warned.append(a[2]))
    dialog = PassphraseDialog(None, confirm=True)
    qtbot.addWidget(dialog)
    dialog.first.setText("短")
    dialog.second.setText("短")
    dialog._accept()
    dialog.first.setText("足够长的口令123")
    dialog.second.setText("不一样的口令123")
    dialog._accept()
    assert warned == ["口令至少需要 8 个字符", "两次输入的口令不一致"]
    dialog.second.setText("足够长的口令123")
    dialog._accept()
    assert dialog.result() == PassphraseDialog.DialogCode.Accepted


def test_the_main_window_has_the_exchange_page(qtbot, made, tmp_path):
    from ui.main_window import PAGES, MainWindow
    _root, office, _people = made
    path = tmp_path / "office.db"
    shutil.copy(office, path)
    conn = db.open_db(path)
    window = MainWindow(conn, path)
    qtbot.addWidget(window)
    assert ("exchange", "数据交换") in PAGES
    page = window.show_page("exchange")
    assert isinstance(page, ExchangePage)
    assert page.site_label.text().startswith("本机：团结湖社区")
    window.close()
    conn.close()


def test_a_new_laptop_database_starts_from_a_handed_out_package(qtbot, made, tmp_path,
                                                                monkeypatch):
    from PySide6.QtWidgets import QDialog, QFileDialog

    from ui import first_start
    root, _office, _people = made
    path = tmp_path / "new-laptop.db"
    conn = db.open_db(path)
    monkeypatch.setattr(first_start.FirstStartDialog, "exec",
                        lambda d: d.package_button.click() or QDialog.DialogCode.Accepted)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a: (str(root / "handout.sqpkg"), "")))
    monkeypatch.setattr(PassphraseDialog, "ask", staticmethod(lambda *a, **k: PASSPHRASE))
    assert first_start.run_first_start(conn, path)
    assert conn.execute("SELECT name FROM grid_units WHERE level = 'grid'").fetchall()[0][0] \
        == "第1网格"
    assert exchange.scope_unit(conn) is not None
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] > 100
    conn.close()


def test_the_program_started_on_a_new_file_builds_the_laptop_database_from_a_package(
        qtbot, made, tmp_path, monkeypatch):
    """ui.start: package chosen at first start → merged into a new encrypted database, then its
    administrator and recovery key; only then does it take its real name."""
    from PySide6.QtWidgets import QDialog, QFileDialog

    from shequ_desktop.core import keys
    from ui import first_start, login, start
    root, _office, _people = made
    path = tmp_path / "laptop.db"
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)
    monkeypatch.setattr(first_start.FirstStartDialog, "exec",
                        lambda d: d.package_button.click() or QDialog.DialogCode.Accepted)
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a: (str(root / "handout.sqpkg"), "")))
    monkeypatch.setattr(PassphraseDialog, "ask", staticmethod(lambda *a, **k: PASSPHRASE))
    named = []

    def first_admin(dialog):
        named.append(path.exists())                  # the real name is still free meanwhile
        dialog.username.setText("wang")
        dialog.password.setText("Wangge-2026")
        dialog.again.setText("Wangge-2026")
        dialog.submit()
        return dialog.result()

    monkeypatch.setattr(login.FirstAdminDialog, "exec", first_admin)
    monkeypatch.setattr(login.RecoveryKeyDialog, "exec", lambda dialog: 1)
    session = start.open_session(path)
    assert named == [False]
    assert session.user.username == "wang" and session.user.role == "管理员"
    assert session.conn.execute("SELECT count(*) FROM residents").fetchone()[0] > 100
    session.conn.close()
    assert db.is_encrypted(path) and keys.KeyFile.load(path).users() == ["wang"]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("laptop")) == \
        ["laptop.db", "laptop.db.keys"]
