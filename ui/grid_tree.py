"""The grid hierarchy on the left of the main window: 街道 → 社区 → 网格 → 小区 → 楼栋 → 单元.

A small item model over `tree.all_units` (a street has thousands of units; no per-item objects).
The first row, 「全部人员」, stands for no filter (and includes residents without a house).

A 网格员 (a restricted Access) sees only their units and what lies below them, under their
ancestors, which are shown greyed for orientation (not selectable, no counts); no 「全部人员」
row, and their first unit is chosen at start.
"""
from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QInputDialog,
    QMenu,
    QMessageBox,
    QTreeView,
    QWidget,
)

from db import db_path
from db.driver import sqlite3
from shequ_desktop.core import tree
from shequ_desktop.core.context import Change
from shequ_desktop.core.tree import (
    LEVEL_LABELS,
    TOP_LEVELS,
    all_units,
    child_levels,
    subtree_units,
    unit_counts,
)
from shequ_desktop.places import grid
from ui.refusal import attempt

# Imports inside functions here are lazy for start-up: the counts' worker loads after the
# tree first shows.

ALL = 0                       # internal id of the 「全部人员」 row (unit ids start at 1)
UNIT_ROLE = Qt.ItemDataRole.UserRole


class GridTreeModel(QAbstractItemModel):
    COLUMNS = ("名称", "户/人")      # the level (街道/社区/网格…) is in the tooltip

    def __init__(self, units: list[dict], loader=None, parent=None, *,
                 above: frozenset[int] = frozenset(), show_all: bool = True):
        """`units`: the top levels (street, community, grid); `loader(grid_id)` returns the
        units below a grid, fetched when the grid is first opened (a street has thousands).
        `above`: units shown only as the path to the user's own (greyed, not selectable);
        `show_all`: the 「全部人员」 row."""
        super().__init__(parent)
        self._above = above
        self._show_all = show_all
        self._count_color: QColor | None = None
        self.counts: dict[int, tuple[int, int]] = {}
        self._loader = loader
        self._loaded: set[int] = set()       # grids whose units are in the model
        self._set(units)

    def set_counts(self, counts: dict[int, tuple[int, int]]) -> None:
        """Households and residents per unit (computed in the background after start-up)."""
        self.counts = counts
        self.dataChanged.emit(self.index(0, 1), self.index(len(self._top) - 1, 1))
        for parent_id, kids in self._children.items():
            if parent_id is not None:
                parent = self.index_of(parent_id)
                self.dataChanged.emit(self.index(0, 1, parent),
                                      self.index(len(kids) - 1, 1, parent))

    def _set(self, units: list[dict]) -> None:
        self._units: dict[int, dict] = {}
        self._children: dict[int | None, list[int]] = {}
        self._row: dict[int, int] = {}
        self._add(units)
        self._top = [ALL] * self._show_all + self._children.get(None, [])
        self._row.update({uid: row for row, uid in enumerate(self._top)})

    def _add(self, units: list[dict]) -> None:
        for u in units:               # siblings arrive in their order
            self._units[u["id"]] = u
            kids = self._children.setdefault(u["parent_id"], [])
            self._row[u["id"]] = len(kids)
            kids.append(u["id"])

    def reload(self, units: list[dict]) -> None:
        self.beginResetModel()
        loaded = self._loaded
        self._loaded = set()
        self._set(units)
        for grid_id in loaded:
            if grid_id in self._units:
                self._load(grid_id)
        self.endResetModel()

    # --- fetching a grid's units when it is opened ---------------------------------------------
    def _lazy(self, uid: int) -> bool:
        unit = self._units.get(uid)
        return (self._loader is not None and unit is not None and unit["level"] == "grid"
                and uid not in self._loaded)

    def _load(self, grid_id: int) -> list[dict]:
        self._loaded.add(grid_id)
        units = self._loader(grid_id)
        self._add(units)
        return units

    def hasChildren(self, parent: QModelIndex = QModelIndex()) -> bool:
        if parent.isValid() and parent.column() == 0 and self._lazy(parent.internalId()):
            return True
        return self.rowCount(parent) > 0

    def canFetchMore(self, parent: QModelIndex) -> bool:
        return parent.isValid() and parent.column() == 0 and self._lazy(parent.internalId())

    def fetchMore(self, parent: QModelIndex) -> None:
        grid_id = parent.internalId()
        if not self._lazy(grid_id):
            return
        units = self._loader(grid_id)
        direct = sum(1 for u in units if u["parent_id"] == grid_id)
        if direct:
            self.beginInsertRows(parent, 0, direct - 1)
        self._loaded.add(grid_id)
        self._add(units)
        if direct:
            self.endInsertRows()

    def ensure_loaded(self, unit_id: int | None, grid_of) -> None:
        """Make sure `unit_id` is in the model; `grid_of(unit_id)` names its grid."""
        if unit_id is None or unit_id in self._units:
            return
        grid_id = grid_of(unit_id)
        if grid_id is not None and self._lazy(grid_id):
            self.fetchMore(self.index_of(grid_id))

    def _kids(self, parent: QModelIndex) -> list[int]:
        if not parent.isValid():
            return self._top
        if parent.column() != 0 or parent.internalId() == ALL:
            return []
        return self._children.get(parent.internalId(), [])

    def index(self, row: int, column: int, parent: QModelIndex = QModelIndex()) -> QModelIndex:
        kids = self._kids(parent)
        if not (0 <= row < len(kids) and 0 <= column < len(self.COLUMNS)):
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
        return len(self.COLUMNS)

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
            if index.column() == 1:
                count = None if uid in self._above else self.counts.get(uid)
                return f"{count[0]}/{count[1]}" if count else ""
            return unit["name"]
        if role == Qt.ItemDataRole.ToolTipRole:
            if uid == ALL:
                return "全部在册人员，包括尚未登记房屋的"
            tip = f"{LEVEL_LABELS[unit['level']]}：{unit['name']}"
            if uid in self._above:
                return tip + "\n（上级单元，只显示名称）"
            if uid in self.counts:
                tip += "\n{0} 户，{1} 人（在册）".format(*self.counts[uid])
            return tip
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 1:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            if self._count_color is None:     # a colour, not a QBrush: 2 ms less at start-up
                self._count_color = QPalette().color(QPalette.ColorRole.PlaceholderText)
            return self._count_color
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        if index.isValid() and index.internalId() in self._above:
            return Qt.ItemFlag.NoItemFlags          # greyed: the path to the user's units
        return super().flags(index)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.COLUMNS[section] if 0 <= section < len(self.COLUMNS) else None
        return None

    def index_of(self, unit_id: int | None) -> QModelIndex:
        uid = ALL if unit_id is None else unit_id
        if uid not in self._units and (uid != ALL or not self._show_all):
            return QModelIndex()
        return self.createIndex(self._row[uid], 0, uid)

    def roots(self) -> list[int]:
        return list(self._children.get(None, []))


class GridTree(QTreeView):
    """Emits unitSelected(unit id, or None for 「全部人员」) when the user picks a row."""

    unitSelected = Signal(object)

    def __init__(self, conn: sqlite3.Connection, parent: QWidget | None = None, *,
                 access=None):
        """`access`: the signed-in user's (a 网格员 sees only their units); None: all."""
        super().__init__(parent)
        self.conn = conn
        self.access = access.with_read_scope(conn) if access and access.restricted else None
        self._model = GridTreeModel(
            self._top_units(), lambda grid_id: subtree_units(conn, grid_id), self,
            above=self.access.above if self.access else frozenset(),
            show_all=self.access is None)
        self.setModel(self._model)
        self.setUniformRowHeights(True)
        # Six levels deep (街道 … 单元) at the default 20 px a level left a compound's and a
        # building's name a few pixels at 1366 px (issue 20 screenshots): 12 px a level.
        self.setIndentation(12)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        # A fixed width: ResizeToContents would ask every row of a street's thousands of units.
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, self.fontMetrics().horizontalAdvance("88888/888888") + 16)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.ctx = None                 # the window's Context, for editing (set_context)
        self._counted = False           # counts are fetched once the tree has been painted
        self.selectionModel().currentRowChanged.connect(self._on_current)
        self._current: int | None = None
        self._expand_roots()
        first = self.access.roots(conn) if self.access else []
        self.setCurrentIndex(self._model.index_of(first[0] if first else None))

    def _top_units(self) -> list[dict]:
        """The street, community and grid rows the tree shows (a 网格员: their own, and the
        units above them)."""
        units = all_units(self.conn, TOP_LEVELS)
        if self.access is None:
            return units
        shown = self.access.readable | self.access.above
        return [u for u in units if u["id"] in shown]

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

    def unit(self, unit_id: int | None) -> dict | None:
        """The unit's row (id, parent_id, level, code, name, sort), or None."""
        self._model.ensure_loaded(unit_id, self._grid_of)
        return self._model._units.get(unit_id)

    def _grid_of(self, unit_id: int) -> int | None:
        return tree.grid_of(self.conn, unit_id)

    def select_unit(self, unit_id: int | None) -> None:
        self._model.ensure_loaded(unit_id, self._grid_of)
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
        if self.access is not None and self.ctx is not None:
            self.access = self.ctx.access                # a unit came or went: scope anew
            self._model._above = self.access.above
        self._model.reload(self._top_units())
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
        if any(c.entity in ("grid_units", "households", "residents", "houses")
               for c in changes):
            self.load_counts()

    # --- counts ------------------------------------------------------------------------------
    def paintEvent(self, event) -> None:
        super().paintEvent(event)
        if not self._counted:
            self._counted = True
            QTimer.singleShot(0, self.load_counts)

    def load_counts(self) -> None:
        """Count households and residents per unit off the GUI thread (0.1 s for a street)."""
        from ui import background

        try:
            path = db_path(self.conn)
        except sqlite3.ProgrammingError:      # the window was closed before this ran
            return
        background.run(lambda conn, progress: unit_counts(conn), path, parent=self,
                       on_success=self._model.set_counts,
                       on_failure=lambda exc: None)   # counts are a convenience only

    # --- editing -----------------------------------------------------------------------------
    def set_context(self, ctx) -> None:
        self.ctx = ctx

    def _menu(self, pos) -> None:
        if self.ctx is None:
            return
        index = self.indexAt(pos)
        unit_id = index.data(UNIT_ROLE) if index.isValid() else None
        if self.access is not None and (unit_id is None or unit_id in self.access.above):
            return                              # a 网格员 works below their own units only
        unit = self._model._units.get(unit_id)
        menu = QMenu(self)
        for level in child_levels(unit["level"] if unit else None):
            action = menu.addAction(self.tr("新建{0}…").format(LEVEL_LABELS[level]))
            action.triggered.connect(lambda _=False, lv=level: self._create(unit_id, lv))
        if unit is not None:
            menu.addSeparator()
            menu.addAction(self.tr("重命名…"), lambda: self._rename(unit_id))
            menu.addAction(self.tr("移动到…"), lambda: self._move(unit_id))
            menu.addAction(self.tr("删除"), lambda: self._delete(unit_id))
        menu.exec(self.viewport().mapToGlobal(pos))

    def _run(self, action) -> bool:
        return attempt(self, self.tr("无法完成"), action)

    def _create(self, parent_id: int | None, level: str) -> None:
        name, ok = QInputDialog.getText(self, self.tr("新建{0}").format(LEVEL_LABELS[level]),
                                        self.tr("名称："))
        if not ok:
            return
        created = []
        if self._run(lambda: created.append(grid.create_unit(self.ctx, parent_id, level, name))):
            self.select_unit(created[0].id)

    def _rename(self, unit_id: int) -> None:
        old = self._model._units[unit_id]["name"]
        name, ok = QInputDialog.getText(self, self.tr("重命名"), self.tr("新名称："), text=old)
        if ok and name.strip() != old:
            self._run(lambda: grid.rename_unit(self.ctx, unit_id, name))

    def _move(self, unit_id: int) -> None:
        targets = tree.move_targets(self.conn, unit_id)
        if not targets:
            QMessageBox.information(self, self.tr("移动"), self.tr("没有可以移入的上级单元"))
            return
        path, ok = QInputDialog.getItem(self, self.tr("移动到"), self.tr("新的上级单元："),
                                        [p for _, p in targets], 0, False)
        if ok:
            target = dict((p, uid) for uid, p in targets)[path]
            self._run(lambda: grid.move_unit(self.ctx, unit_id, target))

    def _delete(self, unit_id: int) -> None:
        name = self._model._units[unit_id]["name"]
        if QMessageBox.question(self, self.tr("删除"), self.tr("删除“{0}”？").format(name)) \
                == QMessageBox.StandardButton.Yes:
            self._run(lambda: grid.delete_unit(self.ctx, unit_id))
