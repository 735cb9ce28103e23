"""The grid hierarchy on the left of the main window: 街道 → 社区 → 网格 → 小区 → 楼栋 → 单元.

A small item model over `grid.all_units` (a street has thousands of units; no per-item objects).
The first row, 「全部人员」, stands for no filter (and includes residents without a house).
"""
from __future__ import annotations

import sqlite3

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTreeView, QWidget

from shequ_desktop.context import Change
from shequ_desktop.grid import LEVEL_LABELS, all_units

ALL = 0                       # internal id of the 「全部人员」 row (unit ids start at 1)
UNIT_ROLE = Qt.ItemDataRole.UserRole


class GridTreeModel(QAbstractItemModel):
    def __init__(self, units: list[dict], parent=None):
        super().__init__(parent)
        self._level_brush: QBrush | None = None
        self._set(units)

    def _set(self, units: list[dict]) -> None:
        self._units = {u["id"]: u for u in units}
        self._children: dict[int | None, list[int]] = {}
        for u in units:               # all_units: parents before children, siblings in order
            self._children.setdefault(u["parent_id"], []).append(u["id"])
        self._top = [ALL, *self._children.get(None, [])]
        self._row = {uid: row for kids in self._children.values()
                     for row, uid in enumerate(kids)}
        self._row.update({uid: row for row, uid in enumerate(self._top)})

    def reload(self, units: list[dict]) -> None:
        self.beginResetModel()
        self._set(units)
        self.endResetModel()

    def _kids(self, parent: QModelIndex) -> list[int]:
        if not parent.isValid():
            return self._top
        if parent.column() != 0 or parent.internalId() == ALL:
            return []
        return self._children.get(parent.internalId(), [])

    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        kids = self._kids(parent)
        if not (0 <= row < len(kids) and 0 <= column < 2):
            return QModelIndex()
        return self.createIndex(row, column, kids[row])

    def parent(self, index: QModelIndex | None = None):
        if index is None:                      # QObject.parent()
            return super().parent()
        if not index.isValid() or index.internalId() == ALL:
            return QModelIndex()
        unit = self._units.get(index.internalId())
        if unit is None or unit["parent_id"] is None:
            return QModelIndex()
        return self.createIndex(self._row[unit["parent_id"]], 0, unit["parent_id"])

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return len(self._kids(parent))

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 2

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        uid = index.internalId()
        unit = self._units.get(uid)
        if role == UNIT_ROLE:
            return None if uid == ALL else uid
        if role == Qt.ItemDataRole.DisplayRole:
            if uid == ALL:
                return "全部人员" if index.column() == 0 else ""
            return unit["name"] if index.column() == 0 else LEVEL_LABELS[unit["level"]]
        if role == Qt.ItemDataRole.ToolTipRole and uid == ALL:
            return "全部在册人员，包括尚未登记房屋的"
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            if self._level_brush is None:
                self._level_brush = QBrush(QPalette().color(QPalette.ColorRole.PlaceholderText))
            return self._level_brush
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return ("名称", "层级")[section] if 0 <= section < 2 else None
        return None

    def index_of(self, unit_id: int | None) -> QModelIndex:
        uid = ALL if unit_id is None else unit_id
        if uid != ALL and uid not in self._units:
            return QModelIndex()
        return self.createIndex(self._row[uid], 0, uid)

    def roots(self) -> list[int]:
        return list(self._children.get(None, []))


class GridTree(QTreeView):
    """Emits unitSelected(unit id, or None for 「全部人员」) when the user picks a row."""

    unitSelected = Signal(object)

    def __init__(self, conn: sqlite3.Connection, parent: QWidget | None = None):
        super().__init__(parent)
        self.conn = conn
        self._model = GridTreeModel(all_units(conn), self)
        self.setModel(self._model)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A fixed width: ResizeToContents asks every row of a street's thousands of units.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, self.fontMetrics().horizontalAdvance("小区/院落") + 16)
        self.selectionModel().currentRowChanged.connect(self._on_current)
        self._current: int | None = None
        self._expand_roots()
        self.setCurrentIndex(self._model.index_of(None))

    def _expand_roots(self) -> None:
        for uid in self._model.roots():
            root = self._model.index_of(uid)
            self.expand(root)
            # A street's communities open too, so its grids are one click away.
            for row in range(self._model.rowCount(root)):
                self.expand(self._model.index(row, 0, root))

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        unit_id = current.data(UNIT_ROLE) if current.isValid() else None
        if unit_id != self._current:
            self._current = unit_id
            self.unitSelected.emit(unit_id)

    def current_unit(self) -> int | None:
        return self._current

    def select_unit(self, unit_id: int | None) -> None:
        index = self._model.index_of(unit_id)
        if index.isValid():
            self.setCurrentIndex(index)
            self.scrollTo(index)

    def reload(self) -> None:
        """Rebuild from the database, keeping the chosen unit when it still exists."""
        keep = self._current
        expanded = [uid for uid in self._model._units
                    if self.isExpanded(self._model.index_of(uid))]
        blocker = self.selectionModel().blockSignals(True)
        self._model.reload(all_units(self.conn))
        self._expand_roots()
        for uid in expanded:
            index = self._model.index_of(uid)
            if index.isValid():
                self.expand(index)
        self.selectionModel().blockSignals(blocker)
        target = keep if keep is None or self._model.index_of(keep).isValid() else None
        self.setCurrentIndex(self._model.index_of(target))   # emits only if it changed

    def apply_changes(self, changes: list[Change]) -> None:
        if any(c.entity == "grid_units" for c in changes):
            self.reload()
