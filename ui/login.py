"""Signing in: the first administrator on a new database, the login dialog, and the lock
screen after the window has been left idle (which keeps every open form as it was)."""
from __future__ import annotations

from db.driver import sqlite3

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QSettings, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (QApplication, QDialog, QDialogButtonBox, QFormLayout, QLabel,
                               QLineEdit, QVBoxLayout, QWidget)

from shequ_desktop import settings as db_settings
from shequ_desktop import users
from shequ_desktop.context import Context
from shequ_desktop.errors import DomainError
from shequ_desktop.keys import KeyFile, password_problem

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
    """Creates the first administrator; afterwards `user` and `db_key` are set."""

    def __init__(self, conn: sqlite3.Connection, path, parent: QWidget | None = None):
        super().__init__(_tr("创建管理员"), _tr(
            "这个数据库还没有用户。请设置管理员的用户名和密码（至少 8 个字符，不能全是数字）。"
            "管理员可以再为网格员添加账户。"), parent)
        self.conn, self.path = conn, path
        self.user = self.db_key = None
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
        if problem:
            self.error.setText(problem)
            return
        ctx = Context(self.conn, self.username.text().strip() or "admin")
        try:
            self.db_key = users.create_first_admin(
                ctx, self.path, self.username.text(), password,
                self.display_name.text().strip() or None)
            self.user, _key = users.sign_in(self.conn, self.path, self.username.text(),
                                            password)
        except (DomainError, OSError) as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class LoginDialog(_Form):
    """Asks for a user name and password; afterwards `user` and `db_key` are set.

    With `username` fixed (the lock screen) only the password is asked for."""

    def __init__(self, conn: sqlite3.Connection, path, parent: QWidget | None = None,
                 username: str | None = None, record: bool = True):
        locked = username is not None
        self.record = record
        super().__init__(_tr("已锁定") if locked else _tr("登录社区网格工作台"), _tr(
            "长时间未操作，窗口已锁定。请输入密码继续，未保存的内容都还在。") if locked
            else _tr("请输入用户名和密码。"), parent)
        self.conn, self.path = conn, path
        self.user = self.db_key = None
        self.username = QLineEdit(username or "")
        self.username.setReadOnly(locked)
        self.password = _password_edit()
        self.form.addRow(_tr("用户名："), self.username)
        self.form.addRow(_tr("密码："), self.password)
        demo = db_settings.get(conn, "demo_login")
        if demo and not locked:
            self.username.setText(demo[0])
            self.password.setText(demo[1])
            self.intro.setText(self.intro.text() + _tr(
                "\n这是演示数据库：用户名 {0}，密码 {1}（已填好）。").format(*demo))
        if locked:
            self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(_tr("退出程序"))
        (self.password if self.username.text() else self.username).setFocus()

    def submit(self) -> None:
        try:
            self.user, self.db_key = users.sign_in(self.conn, self.path, self.username.text(),
                                                   self.password.text(), record=self.record)
        except DomainError as exc:
            self.error.setText(str(exc))
            self.password.selectAll()
            return
        self.accept()


def sign_in(conn: sqlite3.Connection, path, parent: QWidget | None = None, *,
            read_only: bool = False):
    """(the signed-in users.User, the database key), or None when the user gave up.
    A read-only (damaged) database cannot get its first administrator."""
    if users.needs_admin(conn) and not read_only:
        dialog = FirstAdminDialog(conn, path, parent)
    else:
        dialog = LoginDialog(conn, path, parent, record=not read_only)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    return dialog.user, dialog.db_key


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
        dialog = LoginDialog(self.window.conn, self.window.path, None,
                             username=self.window.user.username)
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
        from shequ_desktop import audit
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
