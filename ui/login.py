"""Signing in: the first administrator on a new database, the login dialog, and the lock
screen after the window has been left idle (which keeps every open form as it was)."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

import db
from db import StorageError
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.keys import KeyFile, password_problem, recovery_text
from shequ_desktop.security import unlock

# Imports inside functions here are lazy for start-up: the recovery-key sheet (ReportLab) and
# the password-reset dialogs load only when asked for.

IDLE_MINUTES = 10          # default; QSettings "security/idle_minutes", 0 turns it off


def _tr(text: str) -> str:
    return QCoreApplication.translate("login", text)


def _password_edit() -> QLineEdit:
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


class _Form(QDialog):
    def __init__(self, title: str, intro: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.intro = QLabel(intro)
        self.intro.setWordWrap(True)
        self.form = QFormLayout()
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e")
        self.error.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(self.form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(380)

    def submit(self) -> None:
        raise NotImplementedError


class FirstAdminDialog(_Form):
    """Asks for the first administrator's name and password; `make(username, password,
    display_name)` creates the account (it may raise DomainError, shown in the dialog) and its
    return value is kept in `outcome`."""

    def __init__(self, make: Callable[[str, str, str | None], object],
                 parent: QWidget | None = None):
        super().__init__(_tr("创建管理员"), _tr(
            "请设置管理员的用户名和密码（至少 8 个字符，不能全是数字）。数据库将用这个密码加密保护；"
            "管理员可以再为网格员添加账户。"), parent)
        self.make = make
        self.outcome = None
        self.username = QLineEdit("admin")
        self.display_name = QLineEdit()
        self.display_name.setPlaceholderText(_tr("例如：张三"))
        self.password, self.again = _password_edit(), _password_edit()
        self.form.addRow(_tr("用户名："), self.username)
        self.form.addRow(_tr("姓名："), self.display_name)
        self.form.addRow(_tr("密码："), self.password)
        self.form.addRow(_tr("再输一次："), self.again)

    def submit(self) -> None:
        password = self.password.text()
        problem = password_problem(password)
        if not problem and password != self.again.text():
            problem = _tr("两次输入的密码不一致")
        if not problem and not self.username.text().strip():
            problem = _tr("用户名不能为空")
        if problem:
            self.error.setText(problem)
            return
        try:
            self.outcome = self.make(self.username.text().strip(), password,
                                     self.display_name.text().strip() or None)
        except (DomainError, StorageError, OSError) as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class LoginDialog(_Form):
    """Asks for a user name and password and unlocks the database key with them; afterwards
    `login` (the user name) and `db_key` are set. With `username` fixed (the lock screen) only
    the password is asked for."""

    def __init__(self, path, parent: QWidget | None = None, username: str | None = None):
        locked = username is not None
        super().__init__(_tr("已锁定") if locked else _tr("登录社区网格工作台"), _tr(
            "长时间未操作，窗口已锁定。请输入密码继续，未保存的内容都还在。") if locked
            else _tr("请输入用户名和密码。"), parent)
        self.path = path
        self.login = self.db_key = None
        self.username = QLineEdit(username or "")
        self.username.setReadOnly(locked)
        self.password = _password_edit()
        self.form.addRow(_tr("用户名："), self.username)
        self.form.addRow(_tr("密码："), self.password)
        demo = _demo_login(path)
        if demo and not locked:
            self.username.setText(demo[0])
            self.password.setText(demo[1])
            self.intro.setText(self.intro.text() + _tr(
                "\n这是演示数据库：用户名 {0}，密码 {1}（已填好）。").format(*demo))
        if locked:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_tr("退出程序"))
        else:
            forgot = self.buttons.addButton(_tr("忘记密码…"),
                                            QDialogButtonBox.ButtonRole.ResetRole)
            forgot.clicked.connect(self.recover)
        (self.password if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        try:
            self.db_key = unlock.unlock(self.path, self.username.text(), self.password.text())
        except DomainError as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            return
        self.login = self.username.text().strip()
        self.accept()

    def recover(self) -> None:
        dialog = RecoveryDialog(self.path, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.login, self.db_key = dialog.login, dialog.db_key
            self.accept()


def _demo_login(path) -> tuple[str, str] | None:
    try:
        return KeyFile.load(path).demo_login()
    except DomainError:
        return None


class RecoveryDialog(_Form):
    """The recovery key (printed at setup) opens the database and gives an administrator a
    new password; it also works when the key file beside the database is lost."""

    def __init__(self, path, parent: QWidget | None = None):
        lost = not unlock.has_key_file(path)
        super().__init__(_tr("用恢复密钥打开"), (_tr(
            "找不到密钥文件“{0}”，只能用恢复密钥打开这个数据库。") .format(
                KeyFile.path_for(path)) if lost else "") + _tr(
            "请输入创建数据库时打印的恢复密钥（52 个字母和数字），并为管理员设置新密码。"), parent)
        self.path = path
        self.login = self.db_key = None
        self.key_text = QLineEdit()
        self.key_text.setPlaceholderText("XXXX-XXXX-XXXX-…")
        self.username = QLineEdit("admin")
        self.password, self.again = _password_edit(), _password_edit()
        self.form.addRow(_tr("恢复密钥："), self.key_text)
        self.form.addRow(_tr("管理员用户名："), self.username)
        self.form.addRow(_tr("新密码："), self.password)
        self.form.addRow(_tr("再输一次："), self.again)
        self.setMinimumWidth(520)

    def submit(self) -> None:
        password = self.password.text()
        problem = password_problem(password)
        if not problem and password != self.again.text():
            problem = _tr("两次输入的密码不一致")
        if problem:
            self.error.setText(problem)
            return
        try:
            key = unlock.check_recovery_key(self.path, self.key_text.text())
            conn = db.open_db(self.path)
            try:
                user = unlock.reset_with_recovery_key(conn, self.path, key,
                                                      self.username.text(), password)
            finally:
                conn.close()
        except (DomainError, StorageError) as exc:
            self.error.setText(str(exc))
            return
        self.login, self.db_key = user.username, key
        self.accept()


class RecoveryKeyDialog(QDialog):
    """Shows the recovery key once, at setup, to be printed or written down and kept offline."""

    def __init__(self, key: bytes, path, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_tr("恢复密钥"))
        self.text = recovery_text(key)
        self.path = path
        intro = QLabel(_tr(
            "数据库已加密。下面是它的恢复密钥：忘记管理员密码或丢失密钥文件时，只有它能打开数据库。"
            "请打印或抄写下来，锁在柜子里，不要存放在这台电脑上。"))
        intro.setWordWrap(True)
        shown = QLabel(self.text)
        shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        shown.setStyleSheet("font-family: monospace; font-size: 15pt; padding: 8px;"
                            " background: #f4f4f4; border: 1px solid #ccc")
        shown.setWordWrap(True)
        self.kept = QCheckBox(_tr("我已打印或抄写恢复密钥，并妥善保管"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        self.ok = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText(_tr("继续"))
        self.ok.setEnabled(False)
        self.kept.toggled.connect(self.ok.setEnabled)
        print_button = buttons.addButton(_tr("打印…"), QDialogButtonBox.ButtonRole.ActionRole)
        print_button.clicked.connect(self.print_sheet)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        for widget in (intro, shown, self.kept, buttons):
            layout.addWidget(widget)
        self.setMinimumWidth(560)

    def print_sheet(self) -> None:
        import tempfile
        from pathlib import Path

        from shequ_desktop.reports.pdf import recovery_sheet
        from ui.pdf_preview import print_pdf

        with tempfile.TemporaryDirectory() as folder:
            sheet = Path(folder) / "恢复密钥.pdf"
            recovery_sheet.build(sheet, self.text, Path(self.path).name)
            print_pdf(sheet, self, _tr("恢复密钥"))

    def reject(self) -> None:          # it must be seen: no closing before it is kept
        if self.kept.isChecked():
            super().reject()


class IdleLock(QObject):
    """Locks the window after `minutes` without keyboard or mouse input."""

    INPUT = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel}

    def __init__(self, window, settings: QSettings | None = None):
        super().__init__(window)
        self.window = window
        settings = settings if settings is not None else window.settings
        self.minutes = int(settings.value("security/idle_minutes", IDLE_MINUTES))
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.lock)
        self.locked = False
        if self.minutes > 0 and window.user is not None:
            QApplication.instance().installEventFilter(self)
            self.timer.start(self.minutes * 60_000)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in self.INPUT and not self.locked:
            self.timer.start()
        return False

    def lock(self) -> bool:
        """Hide every window (open forms keep what was typed) and ask for the password;
        True when unlocked, else the program closes."""
        self.locked = True
        hidden = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
        for widget in hidden:
            widget.hide()
        dialog = LoginDialog(self.window.path, None, username=self.window.user.username)
        unlocked = dialog.exec() == QDialog.DialogCode.Accepted
        self.locked = False
        if not unlocked:
            self.window.close()
            return False
        for widget in hidden:
            widget.show()
        self.timer.start()
        return True


class ChangePasswordDialog(_Form):
    def __init__(self, window):
        super().__init__(_tr("修改密码"), _tr("新密码至少 8 个字符，不能全是数字。"), window)
        self.window = window
        self.old, self.new, self.again = _password_edit(), _password_edit(), _password_edit()
        self.form.addRow(_tr("原密码："), self.old)
        self.form.addRow(_tr("新密码："), self.new)
        self.form.addRow(_tr("再输一次："), self.again)

    def submit(self) -> None:
        from shequ_desktop.core import audit
        if self.new.text() != self.again.text():
            self.error.setText(_tr("两次输入的新密码不一致"))
            return
        user = self.window.user
        try:
            KeyFile.load(self.window.path).change_password(user.username, self.old.text(),
                                                          self.new.text())
            audit.record(self.window.conn, user.username, "user", entity="users",
                         entity_id=user.id, summary=f"{user.display_name}修改了自己的密码")
        except DomainError as exc:
            self.error.setText(str(exc))
            return
        self.accept()


def add_account_actions(window, lock: IdleLock) -> None:
    """文件 → 修改密码… and 锁定窗口 (Ctrl+L) for the signed-in user."""
    menu = window.file_menu
    first = menu.actions()[0] if menu.actions() else None
    change = QAction(_tr("修改密码…"), window)
    change.triggered.connect(lambda: ChangePasswordDialog(window).exec())
    lock_now = QAction(_tr("锁定窗口"), window)
    lock_now.setShortcut(QKeySequence("Ctrl+L"))
    lock_now.triggered.connect(lock.lock)
    menu.insertActions(first, [change, lock_now])
    menu.insertSeparator(first)
