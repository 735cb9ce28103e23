"""The main window: grid tree on the left, the page in the middle, details on the right.

It only wires the parts together (DESIGN.md §7); each part is its own widget.
"""
from __future__ import annotations

import sqlite3
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QSplitter, QStackedWidget, QWidget

from shequ_desktop.context import Change, Context
from ui.details_panel import DetailsPanel
from ui.grid_tree import GridTree
from ui.pages.residents_page import ResidentsPage

USER = "管理员"


class MainWindow(QMainWindow):
    def __init__(self, conn: sqlite3.Connection, path, settings: QSettings | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.conn = conn
        self.path = Path(path)
        self.settings = settings if settings is not None else QSettings()
        self.ctx = Context(conn, user=USER)

        self.tree = GridTree(conn)
        self.tree.set_context(self.ctx)
        self.residents_page = ResidentsPage(conn)
        self.details = DetailsPanel(conn)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.residents_page)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tree)
        self.splitter.addWidget(self.pages)
        self.splitter.addWidget(self.details)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

        self.setWindowTitle(self.tr("社区网格工作台 — {0}").format(self.path.name))
        self.path_label = QLabel(self.tr("数据库：{0}").format(self.path))
        self.path_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addWidget(self.path_label, 1)
        self._build_menus()

        self.tree.unitSelected.connect(self.residents_page.set_unit)
        self.residents_page.residentSelected.connect(self.details.show_resident)
        self.details.memberActivated.connect(self._show_member)
        self.ctx.subscribe(self._on_changes)
        self._restore_layout()

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("文件(&F)"))
        self.quit_action = QAction(self.tr("退出(&X)"), self)
        self.quit_action.setShortcut(QKeySequence(self.tr("Ctrl+Q")))
        self.quit_action.triggered.connect(self.close)
        self.refresh_action = QAction(self.tr("刷新(&R)"), self)
        self.refresh_action.setShortcut(QKeySequence(Qt.Key.Key_F5))
        self.refresh_action.triggered.connect(self.refresh)
        file_menu.addAction(self.refresh_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

    # --- keeping the parts current ----------------------------------------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        """After each committed write through self.ctx: each part refreshes what it shows."""
        self.tree.apply_changes(changes)
        self.residents_page.apply_changes(changes)
        self.details.apply_changes(changes)

    def refresh(self) -> None:
        """F5: re-read everything (for changes made outside this window)."""
        self.tree.reload()
        self.residents_page.refresh()
        self.details.refresh()

    def _show_member(self, resident_id: int) -> None:
        if not self.residents_page.select_resident(resident_id):
            self.details.show_resident(resident_id)

    # --- layout persistence -------------------------------------------------------------------
    def _restore_layout(self) -> None:
        s = self.settings
        geometry = s.value("main_window/geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1280, 780)
        splitter = s.value("main_window/splitter")
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes([220, 780, 290])
        self.residents_page.restore_state(s.value("residents/header"))

    def save_layout(self) -> None:
        s = self.settings
        s.setValue("main_window/geometry", self.saveGeometry())
        s.setValue("main_window/splitter", self.splitter.saveState())
        s.setValue("residents/header", self.residents_page.save_state())
        s.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        super().closeEvent(event)
