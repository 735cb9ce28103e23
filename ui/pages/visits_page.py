"""The visits page (走访): focus-group members due for a visit in the chosen grid unit, and
recording visits for several of them at once (a building walk).

The list is shequ_desktop.casework.visits.due(): never-visited people first, then the most overdue.
The page re-reads it after a committed change that can move a due date (visits, tags, residents
and where they live), and only while it is shown; when hidden it re-reads on the next show.
"""
from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import QItemSelectionModel, QModelIndex, QObject, Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework import visits
from shequ_desktop.community import microgrids
from shequ_desktop.core import record_names
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import DomainError
from ui import operations
from ui.dialogs.visit_dialog import VisitDialog
from ui.follow import ReloadWhenShown, follow_changes, set_quietly
from ui.models.row_list import ID_ROLE, OVERDUE_BACKGROUND, OVERDUE_INK, RowListModel
from ui.pages.resident_filters import microgrid_combo, offer_microgrids
from ui.table_setup import setup_table

# column key, width in characters
COLUMNS = (("name", 5), ("address", 14), ("grid", 10), ("tags", 11), ("interval_days", 4),
           ("last_visit", 6), ("due_on", 6), ("days_overdue", 5))
_NUMERIC = ("interval_days", "days_overdue")
# Changes after which someone's due date, presence or address may differ.
RELEVANT = ("visits", "resident_tags", "residents", "tags", "households", "houses", "grid_units",
            "microgrid_households")
MODES = ("week", "overdue", "all")


def _natural(text: str | None) -> list:
    """'3号楼1单元501' before '12号楼1单元101': numbers compared as numbers."""
    return [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", text or "")]


class VisitTableModel(RowListModel):
    """The due list held in memory (at most a street's focus-group members), sorted in Python."""

    id_key = "resident_id"
    headers = ("姓名", "地址", "网格", "重点人群", "周期(天)", "上次走访", "应访日期", "逾期天数")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._order: list[dict] = []          # the list's own order (column -1)
        self._sort: tuple[int, Qt.SortOrder] = (-1, Qt.SortOrder.AscendingOrder)
        self.with_community = False       # grid names repeat across communities: name both

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.with_community = len({r.get("community") for r in rows}) > 1
        self._order = list(rows)
        self.rows = self._sorted(self._order, *self._sort)
        self.endResetModel()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        key = COLUMNS[index.column()][0]
        overdue = row["days_overdue"] > 0
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, key)
        if role == Qt.ItemDataRole.ToolTipRole and key in ("address", "grid", "tags"):
            return self.text(row, key)
        if role == Qt.ItemDataRole.BackgroundRole and overdue:
            return QBrush(OVERDUE_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole and (
                (key == "days_overdue" and overdue)
                or (key == "last_visit" and row["never_visited"])):
            return QBrush(OVERDUE_INK)
        if role == Qt.ItemDataRole.FontRole and (
                (key == "days_overdue" and overdue)
                or (key == "last_visit" and row["never_visited"])):
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and key in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return row["resident_id"]
        return None

    def text(self, row: dict, key: str) -> str:
        value = row[key]
        if key == "tags":
            return "、".join(value)
        if key == "grid" and self.with_community and row.get("community"):
            return f"{row['community']} {value}"
        if key == "last_visit":
            return self.tr("从未走访") if value is None else value
        if key == "days_overdue":
            if value > 0:
                return str(value)
            return self.tr("今天到期") if value == 0 else self.tr("还有 {0} 天").format(-value)
        return "" if value is None else str(value)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order)
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self.rows[p.row()]["resident_id"] for p in persistent]
        self.rows = self._sorted(self._order, column, order)
        where = {r["resident_id"]: i for i, r in enumerate(self.rows)}
        self.changePersistentIndexList(
            persistent, [self.index(where[i], p.column()) for i, p in zip(ids, persistent)])
        self.layoutChanged.emit()

    @staticmethod
    def _sorted(rows: list[dict], column: int, order: Qt.SortOrder) -> list[dict]:
        if not 0 <= column < len(COLUMNS):
            return list(rows)                      # the due list's own order
        key = COLUMNS[column][0]
        if key == "address":
            sort_key = lambda r: (not r["address"], _natural(r["address"]))  # noqa: E731
        elif key == "tags":
            sort_key = lambda r: r["tags"]  # noqa: E731
        elif key == "grid":
            sort_key = lambda r: (r.get("community") or "", _natural(r["grid"]))  # noqa: E731
        elif key == "last_visit":                  # never visited counts as longest ago
            sort_key = lambda r: r["last_visit"] or ""  # noqa: E731
        else:
            sort_key = lambda r: (r[key] is None, r[key] if r[key] is not None else 0)  # noqa
        return sorted(rows, key=sort_key, reverse=order == Qt.SortOrder.DescendingOrder)



class VisitsPage(ReloadWhenShown, QWidget):
    """Emits residentSelected(resident id) when a row becomes the current one."""

    residentSelected = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.unit_id: int | None = None
        self.reloads = 0                  # how often the page re-read the due list
        self._stale = True                # read again at the next show
        self.model = VisitTableModel(self)

        title = QLabel(self.tr("走访"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        title.setFont(font)
        self.mode = QComboBox()
        for key, text in zip(MODES, (self.tr("本周到期"), self.tr("已逾期"),
                                     self.tr("全部重点人员"))):
            self.mode.addItem(text, key)
        self.mode.setToolTip(self.tr("本周到期：已逾期和本周日前应访的人员"))
        self.mode.currentIndexChanged.connect(self.reload)
        self.microgrid = microgrid_combo()      # the micro-grids of the tree's grid (set_unit)
        self.microgrid.currentIndexChanged.connect(self.reload)
        self.record_button = QPushButton(self.tr("登记走访…"))
        self.record_button.setToolTip(self.tr("为选中的人员登记同一次走访（可按住 Ctrl 或 Shift 多选）"))
        self.record_button.clicked.connect(self.record_visit)
        self.count_label = QLabel()

        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel(self.tr("显示：")))
        bar.addWidget(self.mode)
        bar.addWidget(QLabel(self.tr("微网格：")))
        bar.addWidget(self.microgrid)
        bar.addSpacing(12)
        bar.addWidget(self.record_button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.view = QTableView()
        self.view.setModel(self.model)
        self._setup_view()
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)
        follow_changes(self, ctx, self._on_changes)
        self._update_buttons()

    def _setup_view(self) -> None:
        # 重点人群 takes what is left: one person may be in several groups.
        setup_table(self.view, [chars for _, chars in COLUMNS], multi=True,
                    stretch=[k for k, _ in COLUMNS].index("tags"))

    # --- what is shown -----------------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        """Show the focus-group members of a grid unit's subtree (None: everyone). The 微网格
        chooser offers the micro-grids of the unit's grid and starts again at 「全部微网格」."""
        if unit_id != self.unit_id:
            self._offer_microgrids(unit_id)
        if unit_id != self.unit_id or self._stale:
            self.unit_id = unit_id
            self._reload_when_shown()

    def _offer_microgrids(self, unit_id: int | None) -> None:
        offer_microgrids(self.microgrid, microgrids.of_grid(self.ctx.conn, unit_id,
                                                            self.ctx.access),
                         self.tr("按微网格筛选本网格的走访对象"))

    def open_target(self, target: dict) -> None:
        """Show the visits a 首页 figure stands for (its mode: due this week, overdue …)."""
        self.set_mode(target.get("mode", "week"))

    def set_mode(self, mode: str) -> None:
        """"week" (本周到期), "overdue" (已逾期) or "all" (全部重点人员)."""
        self.mode.setCurrentIndex(MODES.index(mode))

    def refresh(self) -> None:
        self.reload()

    def reload(self, *_args) -> None:
        """Read the due list again (off the GUI thread: 全部重点人员 of a street is tens of
        thousands of rows), keeping the selected residents selected if still listed."""

        keep = self.selected_ids()
        current = self._current_id()
        today = dt.date.today()
        mode = self.mode.currentData()
        unit_id = self.unit_id
        microgrid_id = self.microgrid.currentData()
        if mode == "all":
            options = {"include_not_due": True}
        elif mode == "overdue":
            options = {"within_days": -1}
        else:                              # this week: overdue, or due by Sunday
            options = {"within_days": 6 - today.weekday()}
        self._stale = False
        self._generation = generation = getattr(self, "_generation", 0) + 1
        self.count_label.setText(self.tr("正在读取…"))

        def show(rows: list[dict]) -> None:
            if generation != self._generation:     # a newer reload is on its way
                return
            self.reloads += 1
            blocker = self.view.selectionModel().blockSignals(True)
            self.model.set_rows(rows)
            self._select(keep, current)
            self.view.selectionModel().blockSignals(blocker)
            self._update_count()
            self._update_buttons()

        operations.query(self, self.ctx, lambda ctx, _progress: visits.due(
            ctx.conn, today, unit_id, access=ctx.access, microgrid_id=microgrid_id, **options),
            quiet=True, on_success=show)

    def _update_count(self) -> None:
        rows = self.model.rows
        overdue = sum(r["days_overdue"] > 0 for r in rows)
        never = sum(r["never_visited"] for r in rows)
        self.count_label.setText(self.tr("共 {0} 人，逾期 {1} 人，从未走访 {2} 人").format(
            f"{len(rows):,}", f"{overdue:,}", f"{never:,}"))

    def count(self) -> int:
        return self.model.rowCount()

    def names(self) -> list[str]:
        """The names in the table, top to bottom (for tests)."""
        return [r["name"] for r in self.model.rows]

    # --- selection ---------------------------------------------------------------------------
    def selected_ids(self) -> list[int]:
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        return [self.model.id_at(r) for r in rows]

    def select_residents(self, resident_ids: list[int]) -> None:
        self._select(resident_ids, resident_ids[0] if resident_ids else None)
        self._update_buttons()
        if resident_ids:
            self._on_current(self.view.currentIndex(), QModelIndex())

    def _select(self, resident_ids: list[int], current: int | None) -> None:
        selection = self.view.selectionModel()
        selection.clearSelection()
        flags = (QItemSelectionModel.SelectionFlag.Select
                 | QItemSelectionModel.SelectionFlag.Rows)
        for rid in resident_ids:
            row = self.model.row_of(rid)
            if row is not None:
                selection.select(self.model.index(row, 0), flags)
        row = self.model.row_of(current) if current is not None else None
        if row is not None:
            selection.setCurrentIndex(self.model.index(row, 0),
                                      QItemSelectionModel.SelectionFlag.NoUpdate)

    def _current_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        resident_id = self.model.id_at(current.row()) if current.isValid() else None
        if resident_id is not None:
            self.residentSelected.emit(resident_id)

    def _update_buttons(self, *_args) -> None:
        self.record_button.setEnabled(bool(self.view.selectionModel().selectedRows()))

    # --- recording -----------------------------------------------------------------------------
    def record_visit(self) -> None:
        """登记走访 for the selected rows: one dialog, one transaction for all of them."""
        rows = sorted(i.row() for i in self.view.selectionModel().selectedRows())
        if not rows:
            return
        ids = [self.model.rows[r]["resident_id"] for r in rows]
        names = [self.model.rows[r]["name"] for r in rows]
        # 走访人 is a person (the user's display name), not a login name.
        values = VisitDialog.ask(self, names,
                                 record_names.person_of_login(self.ctx.conn, self.ctx.user))
        if values is None:
            return
        try:
            visits.record_visits(self.ctx, ids, **values)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("无法登记走访"), str(exc))

    # --- keeping current -----------------------------------------------------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        if any(c.entity == "microgrids" for c in changes):
            # Added, renamed or deleted: offered anew, the chosen one kept while it exists.
            chosen = self.microgrid.currentData()
            self._offer_microgrids(self.unit_id)
            set_quietly(self.microgrid, chosen)
            if self.microgrid.currentData() != chosen:
                self._reload_when_shown()
        if any(c.entity in RELEVANT for c in changes):
            self._reload_when_shown()
