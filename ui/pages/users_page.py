"""The users page (用户, administrators only): add users with a role and their grids, reset a
password, change role or grids, deactivate (kept for the audit trail)."""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import tree
from shequ_desktop.core.access import ADMIN, GRID_WORKER, ROLES
from shequ_desktop.core.context import Context
from shequ_desktop.core.keys import KeyFile, password_problem
from shequ_desktop.security import users
from ui.models.row_list import RowListModel
from ui.refusal import attempt
from ui.table_setup import setup_table

COLUMNS = (("username", 8), ("display_name", 8), ("role", 5), ("units", 16), ("active", 4))


class UserTableModel(RowListModel):
    headers = ("用户名", "姓名", "角色", "负责网格", "状态")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        key = COLUMNS[index.column()][0]
        if key == "active":
            return "启用" if row["active"] else "已停用"
        return row[key] or ""


class UserDialog(QDialog):
    """New user (with a password) or an existing user's role and grids."""

    def __init__(self, ctx: Context, existing: dict | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("修改用户") if existing else self.tr("添加用户"))
        self.username = QLineEdit(existing["username"] if existing else "")
        self.username.setReadOnly(existing is not None)
        self.display_name = QLineEdit((existing or {}).get("display_name") or "")
        self.role = QComboBox()
        self.role.addItems(ROLES)
        self.role.setCurrentText((existing or {}).get("role") or GRID_WORKER)
        self.units = QListWidget()
        assigned = set((existing or {}).get("unit_ids", ()))
        for unit, depth in tree.chooser_order(tree.all_units(ctx.conn, ("community", "grid"))):
            item = QListWidgetItem("    " * depth + unit["name"])
            item.setData(Qt.ItemDataRole.UserRole, unit["id"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if unit["id"] in assigned
                               else Qt.CheckState.Unchecked)
            self.units.addItem(item)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b3261e")
        form = QFormLayout()
        form.addRow(self.tr("用户名："), self.username)
        form.addRow(self.tr("姓名："), self.display_name)
        form.addRow(self.tr("角色："), self.role)
        form.addRow(self.tr("负责网格："), self.units)
        if existing is None:
            form.addRow(self.tr("初始密码："), self.password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.existing = existing

    def unit_ids(self) -> list[int]:
        return [self.units.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.units.count())
                if self.units.item(i).checkState() == Qt.CheckState.Checked]

    def _check(self) -> None:
        problem = None
        if not self.username.text().strip():
            problem = self.tr("用户名不能为空")
        elif self.role.currentText() == GRID_WORKER and not self.unit_ids():
            problem = self.tr("网格员至少要分配一个网格")
        elif self.existing is None:
            problem = password_problem(self.password.text())
        if problem:
            self.error.setText(problem)
            return
        self.accept()


class UsersPage(QWidget):
    def __init__(self, ctx: Context, window, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.window = ctx, window
        self.model = UserTableModel(self)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        user = getattr(window, "user", None)
        self.allowed = (user is not None and user.role == ADMIN
                        and getattr(window, "db_key", None) is not None)
        if not self.allowed:
            layout.addWidget(QLabel(self.tr("只有登录的管理员可以管理用户。")))
            layout.addStretch(1)
            return
        self.add_button = QPushButton(self.tr("添加用户…"))
        self.edit_button = QPushButton(self.tr("修改角色和网格…"))
        self.reset_button = QPushButton(self.tr("重设密码…"))
        self.deactivate_button = QPushButton(self.tr("停用"))
        self.add_button.clicked.connect(self.add_user)
        self.edit_button.clicked.connect(self.edit_user)
        self.reset_button.clicked.connect(self.reset_password)
        self.deactivate_button.clicked.connect(self.deactivate)
        bar = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.reset_button,
                       self.deactivate_button):
            bar.addWidget(button)
        bar.addStretch(1)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [c for _k, c in COLUMNS], stretch=3)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        self.view.selectionModel().currentChanged.connect(self._selection_changed)
        self.refresh()

    def refresh(self) -> None:
        if not self.allowed:
            return
        current = self.selected()
        self.model.set_rows(users.all_users(self.ctx.conn))
        row = self.model.row_of(current["id"]) if current else None
        if row is not None:                       # the same user stays selected
            self.view.setCurrentIndex(self.model.index(row, 0))

    def selected(self) -> dict | None:
        return self.model.row_at(self.view.currentIndex())

    def _keyfile(self) -> KeyFile:
        return KeyFile.load(self.window.path)

    def _run(self, action) -> bool:
        done = attempt(self, self.tr("无法完成"), action)
        if done:
            self.refresh()
        return done

    def add_user(self) -> None:
        dialog = UserDialog(self.ctx, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self._run(lambda: users.create_user(
                self.ctx, self._keyfile(), self.window.db_key, dialog.username.text(),
                dialog.password.text(), dialog.role.currentText(), dialog.unit_ids(),
                dialog.display_name.text().strip() or None))

    def edit_user(self) -> None:
        row = self.selected()
        if row is None:
            return
        dialog = UserDialog(self.ctx, row, parent=self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            def change():
                with self.ctx.transaction():
                    users.set_role(self.ctx, row["id"], dialog.role.currentText())
                    users.set_units(self.ctx, row["id"], dialog.unit_ids())
                    self.ctx.update("users", row["id"], {
                        "display_name": dialog.display_name.text().strip() or None})
            self._run(change)

    def _new_password(self, title: str, username: str) -> str | None:
        dialog = QDialog(self)
        dialog.setWindowTitle(title)
        edit = QLineEdit()
        edit.setEchoMode(QLineEdit.EchoMode.Password)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(dialog.accept)
        buttons.rejected.connect(dialog.reject)
        layout = QFormLayout(dialog)
        layout.addRow(self.tr("“{0}”的新密码：").format(username), edit)
        layout.addRow(buttons)
        return edit.text() if dialog.exec() == QDialog.DialogCode.Accepted else None

    def reset_password(self) -> None:
        row = self.selected()
        if row is None:
            return
        password = self._new_password(self.tr("重设密码"), row["username"])
        if password is not None:
            self._run(lambda: users.reset_password(self.ctx, self._keyfile(), self.window.db_key,
                                                   row["id"], password))

    def deactivate(self) -> None:
        """停用 an active user; 重新启用 a stopped one (with a new password)."""
        row = self.selected()
        if row is None:
            return
        if not row["active"]:
            password = self._new_password(self.tr("重新启用用户"), row["username"])
            if password is not None:
                self._run(lambda: users.reactivate(self.ctx, self._keyfile(),
                                                   self.window.db_key, row["id"], password))
            return
        answer = QMessageBox.question(self, self.tr("停用用户"), self.tr(
            "停用“{0}”？停用后不能再登录，历史记录保留。").format(row["username"]))
        if answer == QMessageBox.StandardButton.Yes:
            self._run(lambda: users.deactivate(self.ctx, self._keyfile(), row["id"]))

    def _selection_changed(self) -> None:
        row = self.selected()
        self.deactivate_button.setText(self.tr("重新启用…") if row and not row["active"]
                                       else self.tr("停用"))
