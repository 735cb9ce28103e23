"""First start on an empty database: load demo data, or start a blank community."""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

import db
from db import db_path
from db.driver import sqlite3
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.places import founding as community
from ui import background

# Imports inside functions here are lazy for start-up: the demo, a package and the file
# dialogs load only when the user picks that way to start.

DEMO_RESIDENTS = 8000


class FirstStartDialog(QDialog):
    """After exec(): `choice` is "demo", "blank" (with community_name / street_name) or
    "package" (a grid handed out by the office)."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.choice: str | None = None
        self.setWindowTitle(self.tr("欢迎使用社区网格工作台"))

        intro = QLabel(self.tr("这是一个新的数据库，里面还没有任何社区。请选择如何开始："))
        intro.setWordWrap(True)

        demo_box = QGroupBox(self.tr("试用"))
        demo_layout = QVBoxLayout(demo_box)
        demo_text = QLabel(self.tr("生成一个虚构街道，约 {0} 名居民，用于熟悉各项功能。"
                                   "其中的人员均为随机生成。").format(DEMO_RESIDENTS))
        demo_text.setWordWrap(True)
        self.demo_button = QPushButton(self.tr("载入演示数据"))
        self.demo_button.clicked.connect(self._choose_demo)
        demo_layout.addWidget(demo_text)
        demo_layout.addWidget(self.demo_button)

        blank_box = QGroupBox(self.tr("正式使用"))
        blank_form = QFormLayout(blank_box)
        self.community_edit = QLineEdit()
        self.community_edit.setPlaceholderText(self.tr("例如：阳光社区"))
        self.street_edit = QLineEdit()
        self.street_edit.setPlaceholderText(self.tr("可不填，例如：幸福街道"))
        self.blank_button = QPushButton(self.tr("新建空白社区"))
        self.blank_button.setEnabled(False)
        self.blank_button.clicked.connect(self._choose_blank)
        self.community_edit.textChanged.connect(
            lambda text: self.blank_button.setEnabled(bool(text.strip())))
        blank_form.addRow(self.tr("社区名称："), self.community_edit)
        blank_form.addRow(self.tr("所属街道："), self.street_edit)
        blank_form.addRow(self.blank_button)

        package_box = QGroupBox(self.tr("网格员电脑"))
        package_layout = QVBoxLayout(package_box)
        package_text = QLabel(self.tr("用社区办公室下发的数据交换包建立本机数据库，只含所分配的网格。"))
        package_text.setWordWrap(True)
        self.package_button = QPushButton(self.tr("从数据交换包建立…"))
        self.package_button.clicked.connect(self._choose_package)
        package_layout.addWidget(package_text)
        package_layout.addWidget(self.package_button)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText(self.tr("退出"))
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(demo_box)
        layout.addWidget(blank_box)
        layout.addWidget(package_box)
        layout.addWidget(buttons)
        self.resize(460, self.sizeHint().height())

    @property
    def community_name(self) -> str:
        return self.community_edit.text().strip()

    @property
    def street_name(self) -> str | None:
        return self.street_edit.text().strip() or None

    def _choose_demo(self) -> None:
        self.choice = "demo"
        self.accept()

    def _choose_package(self) -> None:
        self.choice = "package"
        self.accept()

    def _choose_blank(self) -> None:
        if not self.community_name:
            return
        self.choice = "blank"
        self.accept()


def load_demo(path, parent: QWidget | None = None, residents: int | None = None) -> bool:
    """Generate demo data in the background (own connection), with a cancellable progress
    dialog. True when the data is in; False when cancelled or refused (already told)."""

    def work(conn, progress):
        from shequ_desktop.demo import (
            street as demo,  # Faker and friends: only when asked for
        )
        from shequ_desktop.security import users

        counts = demo.generate(conn, residents=residents or DEMO_RESIDENTS, progress=progress)
        if users.needs_admin(conn):
            path = db_path(conn)
            users.create_demo_admin(Context(conn, "系统"), path, db.key_of(path))
        return counts

    return background.run_and_wait(work, path, parent=parent, label=QCoreApplication.translate(
        "first_start", "正在生成演示数据…"))


def load_package(path, parent: QWidget | None = None) -> bool:
    """Start the database from a package the office handed out (a merge into the empty
    database, in the background). True when merged; False when not chosen or refused."""
    from ui import file_dialogs
    from ui.pages.exchange_page import FILE_FILTER, PassphraseDialog

    title = QCoreApplication.translate("first_start", "选择数据交换包")
    file = file_dialogs.open_file(parent, "package", title, FILE_FILTER)
    if not file:
        return False
    passphrase = PassphraseDialog.ask(parent, confirm=False)
    if not passphrase:
        return False

    def work(conn, progress):
        from shequ_desktop.sync import merging
        return merging.merge(Context(conn, "系统"), file, passphrase, progress=progress)

    return background.run_and_wait(work, path, parent=parent, label=QCoreApplication.translate(
        "first_start", "正在建立本机数据库…"))


def run_first_start(conn: sqlite3.Connection, path, parent: QWidget | None = None) -> bool:
    """Ask until the database has a community; False when the user quits instead."""
    ctx = Context(conn)
    while community.is_empty(ctx):
        dialog = FirstStartDialog(parent)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return False
        if dialog.choice == "demo":
            load_demo(path, parent)
            continue
        if dialog.choice == "package":
            load_package(path, parent)
            continue
        try:
            community.init_community(ctx, dialog.community_name, dialog.street_name)
        except DomainError as exc:
            QMessageBox.warning(parent, dialog.tr("无法新建社区"), str(exc))
    return True
