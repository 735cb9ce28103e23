"""社区治理: the community's own workflows (微网格, 议事协商, 社区体检, 以图管房) under one tab of
the main window, chosen in a list on the left, so the main tab bar fits a 1366×768 screen.

Each page stays its own widget (its own module); this one only builds a page the first time
it is chosen and passes the chosen unit, refreshes and committed changes on to those built.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QStackedWidget,
    QWidget,
)

LIST_WIDTH = 80


class CommunityPage(QWidget):
    """`pages`: (key, title, build) in list order; build() makes the page widget."""

    pageShown = Signal(str)

    def __init__(self, pages: list[tuple[str, str, Callable[[], QWidget]]],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.keys = [key for key, _title, _build in pages]
        self._builders = {key: build for key, _title, build in pages}
        self.built: dict[str, QWidget] = {}
        self._unit_id: int | None = None
        self.list = QListWidget()
        self.list.setFixedWidth(LIST_WIDTH)
        for _key, title, _build in pages:
            self.list.addItem(QListWidgetItem(self.tr(title)))
        self.stack = QStackedWidget()
        for _key in self.keys:
            self.stack.addWidget(QWidget())           # placeholders until first shown
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.list)
        layout.addWidget(self.stack, 1)
        self.list.currentRowChanged.connect(self._on_row)
        self.list.setCurrentRow(0)

    def _on_row(self, row: int) -> None:
        if row < 0:
            return
        self.page(self.keys[row], build=True)
        self.stack.setCurrentIndex(row)
        self.pageShown.emit(self.keys[row])

    def page(self, key: str, build: bool = False) -> QWidget | None:
        """The page with this key (built now when `build`), else None when not built yet."""
        if key in self.built or not build:
            return self.built.get(key)
        index = self.keys.index(key)
        page = self._builders[key]()
        self.built[key] = page
        old = self.stack.widget(index)
        self.stack.removeWidget(old)
        old.deleteLater()
        self.stack.insertWidget(index, page)
        if hasattr(page, "set_unit"):
            page.set_unit(self._unit_id)
        return page

    def choose(self, key: str) -> QWidget:
        """Show the page with this key and return it."""
        self.list.setCurrentRow(self.keys.index(key))
        return self.page(key, build=True)

    def current_key(self) -> str:
        return self.keys[max(self.list.currentRow(), 0)]

    def set_unit(self, unit_id: int | None) -> None:
        self._unit_id = unit_id
        for page in self.built.values():
            if hasattr(page, "set_unit"):
                page.set_unit(unit_id)

    def refresh(self) -> None:
        for page in self.built.values():
            if hasattr(page, "refresh"):
                page.refresh()

    def apply_changes(self, changes) -> None:
        for page in self.built.values():
            if hasattr(page, "apply_changes"):
                page.apply_changes(changes)
