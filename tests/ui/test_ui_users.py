"""The users page through pytest-qt: only for a signed-in administrator; add, edit, reset,
deactivate."""
import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from shequ_desktop.core import keys
from shequ_desktop.security import users
from shequ_desktop.core.context import Context
from ui import app as ui_app
from ui.pages import users_page
from ui.pages.users_page import UsersPage


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


@pytest.fixture
def admin_window(qtbot, conn, db_path, place, tmp_path):
    key = users.create_first_admin(Context(conn), db_path, "admin", "Admin-2026")
    user = users.load(conn, "admin")
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(conn, db_path, settings, user=user)
    window.db_key = key
    qtbot.addWidget(window)
    return window


def fill_and_accept(**values):
    def run(dialog):
        dialog.username.setText(values.get("username", dialog.username.text()))
        dialog.display_name.setText(values.get("display_name", ""))
        dialog.role.setCurrentText(values["role"])
        for i in range(dialog.units.count()):
            item = dialog.units.item(i)
            if item.text().strip() in values.get("units", ()):
                item.setCheckState(Qt.CheckState.Checked)
        dialog.password.setText(values.get("password", ""))
        dialog._check()
        return dialog.result()
    return run


def test_model_passes_the_model_tester(qtmodeltester, admin_window):
    page = admin_window.show_page("users")
    qtmodeltester.check(page.model)
    assert page.model.rowCount() == 1 and page.model.index(0, 2).data() == "管理员"


def test_add_a_grid_worker_then_reset_and_deactivate(admin_window, conn, db_path, monkeypatch):
    page = admin_window.show_page("users")
    monkeypatch.setattr(users_page.UserDialog, "exec", fill_and_accept(
        username="zhang", display_name="张网格", role="网格员", units=("第一网格",),
        password="Wangge-2026"))
    page.add_user()
    assert page.model.rowCount() == 2
    assert page.model.index(1, 3).data() == "第一网格"
    assert keys.KeyFile.load(db_path).unwrap("zhang", "Wangge-2026") == admin_window.db_key
    assert users.load(conn, "zhang").access.role == "网格员"

    page.view.setCurrentIndex(page.model.index(1, 0))
    monkeypatch.setattr(QDialog, "exec", lambda d: (
        d.findChild(users_page.QLineEdit).setText("Changed-2026"), QDialog.DialogCode.Accepted)[1])
    page.reset_password()
    assert keys.KeyFile.load(db_path).unwrap("zhang", "Changed-2026") == admin_window.db_key

    monkeypatch.setattr(QMessageBox, "question", lambda *a: QMessageBox.StandardButton.Yes)
    page.deactivate()
    assert page.model.index(1, 4).data() == "已停用"
    assert "zhang" not in keys.KeyFile.load(db_path).users()
    with pytest.raises(Exception, match="已停用"):
        users.load(conn, "zhang")

    page.view.setCurrentIndex(page.model.index(0, 0))
    page.view.setCurrentIndex(page.model.index(1, 0))
    assert page.deactivate_button.text() == "重新启用…"
    monkeypatch.setattr(QDialog, "exec", lambda d: (
        d.findChild(users_page.QLineEdit).setText("Back-2026!"), QDialog.DialogCode.Accepted)[1])
    page.deactivate()                                         # 重新启用 with a new password
    assert page.model.index(1, 4).data() == "启用" and page.deactivate_button.text() == "停用"
    assert keys.KeyFile.load(db_path).unwrap("zhang", "Back-2026!") == admin_window.db_key
    assert users.load(conn, "zhang").role == "网格员"


def test_a_grid_worker_without_grids_is_refused_in_the_dialog(admin_window, monkeypatch):
    page = admin_window.show_page("users")
    dialog = users_page.UserDialog(page.ctx, parent=page)
    fill_and_accept(username="li", role="网格员", password="Wangge-2026")(dialog)
    assert "至少要分配一个网格" in dialog.error.text()
    assert dialog.result() != QDialog.DialogCode.Accepted


def test_not_for_anyone_else(qtbot, conn, db_path, tmp_path):
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(conn, db_path, settings)      # nobody signed in
    qtbot.addWidget(window)
    page = window.show_page("users")
    assert isinstance(page, UsersPage) and not page.allowed
