"""The residents page: search and filters, a lazy table of residents, and a count."""
from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import (
    QByteArray,
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.community import microgrids
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.population.resident_list import DEFAULT_COLUMNS, ResidentQuery, width
from shequ_desktop.transfer.copying import copy_rows
from ui.follow import set_quietly
from ui.models.resident_table import ResidentTableModel
from ui.pages.resident_filters import NO_AGE, STATUS_FILTERS, ResidentFilters
from ui.table_setup import setup_table


class ResidentsPage(QWidget):
    """Emits residentSelected(resident id, or None) when the current row changes, and
    residentOpened(resident id) on Enter or a double click."""

    residentSelected = Signal(object)
    residentOpened = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        """`ctx`: the signed-in user's Context, like every page's: its access limits the rows
        (a 网格员 sees only their units), its user is who copies rows (audit trail)."""
        super().__init__(parent)
        self.ctx = ctx
        self.conn = conn = ctx.conn
        self.model = ResidentTableModel(conn, ResidentQuery(access=ctx.access), self)
        self._selected: int | None = None

        self.filters = ResidentFilters(conn, self)
        self.filters.changed.connect(self._on_filters)
        self.count_label = QLabel()

        bar = QHBoxLayout()
        title = QLabel(self.tr("人员"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        title.setFont(font)
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.filters.search, 1)
        bar.addSpacing(12)
        bar.addWidget(self.count_label)

        self.view = QTableView()
        self.view.setModel(self.model)
        self._setup_view()
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        self.model.modelAboutToBeReset.connect(self._before_reset)
        self.model.modelReset.connect(self._after_reset)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.filters.bar)
        layout.addWidget(self.view, 1)
        self._update_count()

    def open_target(self, target: dict) -> None:
        """Show the residents a 首页 figure stands for: on record, with its group, residence
        type and ages (the other filters cleared)."""
        f = self.filters
        blocker = f.search.blockSignals(True)
        f.search.clear()
        f.search.blockSignals(blocker)
        set_quietly(f.status, dict(STATUS_FILTERS)[ON_RECORD])
        set_quietly(f.tag, target.get("tag_id"))
        set_quietly(f.gender, None)
        set_quietly(f.residence, target.get("residence_type"))
        set_quietly(f.microgrid, None)
        for box, name in ((f.age_min, "age_min"), (f.age_max, "age_max")):
            value = target.get(name)
            set_quietly(box, NO_AGE if value is None else value, by_data=False)
        f.changed.emit(f.values())

    def _setup_view(self) -> None:
        view = self.view
        columns = self.model.columns
        setup_table(view, [width(key) for key in columns], multi=True)
        view.setAlternatingRowColors(True)
        header = view.horizontalHeader()
        header.setSectionsMovable(True)
        for column, key in enumerate(columns):
            header.setSectionHidden(column, key not in DEFAULT_COLUMNS)
        header.setStretchLastSection(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        view.activated.connect(self._on_activated)         # Enter, or a double click
        copy = QAction(self.tr("复制"), view)
        copy.setShortcut(QKeySequence.StandardKey.Copy)
        copy.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy.triggered.connect(self.copy_selection)
        view.addAction(copy)

    # --- filters ---------------------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        """Show the residents of a grid unit's subtree (None: everyone). The 微网格 chooser
        offers the micro-grids of the unit's grid and starts again at 「全部微网格」."""
        if unit_id != self.model.query.unit_id:
            self.filters.set_microgrids(microgrids.of_grid(self.conn, unit_id, self.ctx.access))
            self.model.set_query(replace(self.model.query, unit_id=unit_id, microgrid_id=None))
            self._update_count()

    def set_statuses(self, statuses: tuple) -> None:
        self.filters.set_statuses(statuses)     # emits changed → _on_filters

    def _on_filters(self, values: dict) -> None:
        query = replace(self.model.query, **values)
        if query != self.model.query:
            self.model.set_query(query)
            self._update_count()

    def focus_search(self) -> None:
        self.filters.search.setFocus()
        self.filters.search.selectAll()

    def refresh(self) -> None:
        self.model.refresh()
        self._update_count()

    def apply_changes(self, changes: list[Change]) -> None:
        if any(c.entity == "microgrids" for c in changes):
            self._reoffer_microgrids()
        self.model.apply_changes(changes)
        self._update_count()

    def _reoffer_microgrids(self) -> None:
        """Micro-grids added, renamed or deleted: offer them anew, keeping the chosen one
        while it exists (else back to 「全部微网格」 and the list follows)."""
        combo = self.filters.microgrid
        chosen = combo.currentData()
        self.filters.set_microgrids(microgrids.of_grid(self.conn, self.model.query.unit_id,
                                                       self.ctx.access))
        set_quietly(combo, chosen)
        if combo.currentData() != self.model.query.microgrid_id:
            self.model.set_query(replace(self.model.query, microgrid_id=combo.currentData()))

    def count(self) -> int:
        return self.model.rowCount()

    def _update_count(self) -> None:
        self.count_label.setText(self.tr("共 {0} 人").format(f"{self.model.rowCount():,}"))

    # --- selection -------------------------------------------------------------------------
    def current_resident_id(self) -> int | None:
        return self._selected

    def select_resident(self, resident_id: int | None, scroll: bool = True) -> bool:
        """Select the resident's row (and show it, unless `scroll` is False)."""
        row = None if resident_id is None else self.model.row_of(resident_id)
        if row is None:
            self.view.clearSelection()
            self.view.selectionModel().setCurrentIndex(
                QModelIndex(), QItemSelectionModel.SelectionFlag.Clear)
            self._emit(None)
            return False
        index = self.model.index(row, self._first_visible_column())
        auto = self.view.hasAutoScroll()
        self.view.setAutoScroll(scroll and auto)    # a new current row scrolls to it
        self.view.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
            | QItemSelectionModel.SelectionFlag.Rows)
        self.view.setAutoScroll(auto)
        if scroll:
            self.view.scrollTo(index)
        return True

    def _first_visible_column(self) -> int:
        return self.view.horizontalHeader().logicalIndex(0) if self.model.columnCount() else 0

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._emit(self.model.resident_id(current.row()) if current.isValid() else None)

    def _emit(self, resident_id: int | None) -> None:
        if resident_id != self._selected:
            self._selected = resident_id
            self.residentSelected.emit(resident_id)

    def _before_reset(self) -> None:
        self._keep = self._selected

    def _after_reset(self) -> None:
        # A reset forgets the selection without signals: put it back, or say it is gone.
        # After a sort the view starts at the top of the new order, the selection kept
        # (docs/decisions.md, issue 20: sorting does not jump to the selected row).
        keep = getattr(self, "_keep", None)
        resorted = self.model.resorted
        if keep is not None and self.model.row_of(keep) is not None:
            self.select_resident(keep, scroll=not resorted)   # same resident: no new signal
        else:
            self._emit(None)
        if resorted:
            self.view.scrollToTop()

    def _on_activated(self, index: QModelIndex) -> None:
        resident_id = self.model.resident_id(index.row())
        if resident_id is not None:
            self.residentOpened.emit(resident_id)

    # --- columns and clipboard ---------------------------------------------------------------
    def _column_menu(self, pos) -> None:
        """Right click on the header: choose the columns shown."""
        header = self.view.horizontalHeader()
        menu = QMenu(self)
        for column in range(self.model.columnCount()):
            action = menu.addAction(self.model.headerData(column, Qt.Orientation.Horizontal))
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(column))
            action.toggled.connect(lambda on, c=column: header.setSectionHidden(c, not on))
        menu.exec(header.mapToGlobal(pos))

    def copy_selection(self) -> None:
        """Selected rows, shown columns in shown order, as text for Excel/WPS: ID numbers and
        phones masked and the copy recorded, like an export (copying.copy_rows).

        Plain tab-separated text, plus an HTML table whose cells are marked as text, so a
        number pastes as written instead of turning into 1.10105E+17.
        """

        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        if not rows:
            return
        header = self.view.horizontalHeader()
        columns = [header.logicalIndex(v) for v in range(header.count())
                   if not header.isSectionHidden(header.logicalIndex(v))]
        table = [[self.model.headerData(c, Qt.Orientation.Horizontal) for c in columns]]
        table += copy_rows(self.conn, self.ctx.user, "residents",
                           [self.model.columns[c] for c in columns],
                           [[self.model.index(r, c).data() or "" for c in columns]
                            for r in rows])
        mime = QMimeData()
        mime.setText("\n".join("\t".join(cells) for cells in table) + "\n")
        escape = lambda t: t.replace("&", "&amp;").replace("<", "&lt;")  # noqa: E731
        html = "".join("<tr>" + "".join(f'<td style="mso-number-format:\'\\@\'">{escape(t)}</td>'
                                         for t in cells) + "</tr>" for cells in table)
        mime.setHtml(f"<table>{html}</table>")
        QGuiApplication.clipboard().setMimeData(mime)

    # --- layout persistence ------------------------------------------------------------------
    def save_state(self) -> QByteArray:
        return self.view.horizontalHeader().saveState()

    def restore_state(self, state) -> None:
        if state:
            self.view.horizontalHeader().restoreState(state)
