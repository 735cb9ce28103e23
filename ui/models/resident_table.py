"""The residents table as a lazy Qt model (DESIGN.md §7).

`set_query` fetches the ordered id list at once (so the row count is known); the display values
are fetched in pages of PAGE_SIZE rows when a row of that page is first asked for, and at most
MAX_PAGES pages stay cached (least recently used goes first). Sorting is done by SQL.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import replace

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, QTimer

from db import db_path
from db.driver import sqlite3
from shequ_desktop.core.context import Change
from shequ_desktop.population.resident_list import COLUMNS, ResidentQuery, label, rows
from ui import background

PAGE_SIZE = 100                  # a screen shows ~30 rows
MAX_PAGES = 50
ID_ROLE = Qt.ItemDataRole.UserRole          # data(index, ID_ROLE) -> resident id
_NUMERIC = {"age"}
# Resident fields whose change can move a row or drop it from the filtered set.
_STRUCTURAL = {"status", "household_id"}


class ResidentTableModel(QAbstractTableModel):
    def __init__(self, conn: sqlite3.Connection, query: ResidentQuery | None = None,
                 parent=None):
        super().__init__(parent)
        self.conn = conn
        self.query = query or ResidentQuery()
        self.columns = COLUMNS
        self._ids: list[int] = []
        self._rows_of: dict[int, int] | None = None       # id -> row, built on demand
        self._pages: OrderedDict[int, list[dict | None]] = OrderedDict()
        self.pages_loaded = 0                               # how many page fetches so far
        # Start-up: only the count and the first page of ids; the full id list (35 ms for a
        # street) is fetched when a later row, a lookup by id or a refresh needs it.
        self._count = self.query.count(conn)
        self._ids = self.query.ids(conn, limit=PAGE_SIZE)
        self._prefetch = len(self._ids) < self._count   # the rest, once the first rows show
        self._wanted: ResidentQuery | None = None         # a sort being read in the background
        self.resorted = False

    def _load_all_ids(self) -> None:
        if len(self._ids) < self._count:
            self._ids = self.query.ids(self.conn)
            self._rows_of = None
            self._prefetch = False
            if len(self._ids) != self._count:          # changed in between: start over
                self.set_query(self.query)

    # --- queries ---------------------------------------------------------------------------
    def set_query(self, query: ResidentQuery) -> None:
        """Show the residents `query` selects (one SQL query for the ids; rows load lazily)."""
        self._apply(query, query.ids(self.conn))

    def _apply(self, query: ResidentQuery, ids: list[int], resorted: bool = False) -> None:
        self._wanted = None
        self.resorted = resorted        # the view reads it on modelReset: a new order, not rows
        self.beginResetModel()
        self.query = query
        self._ids = ids
        self._count = len(ids)
        self._rows_of = None
        self._pages.clear()
        self.endResetModel()

    def refresh(self) -> None:
        self.set_query(self.query)

    def resident_id(self, row: int) -> int | None:
        if row >= len(self._ids):
            self._load_all_ids()
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_of(self, resident_id: int) -> int | None:
        self._load_all_ids()
        if self._rows_of is None:
            self._rows_of = {rid: row for row, rid in enumerate(self._ids)}
        return self._rows_of.get(resident_id)

    def cached_pages(self) -> int:
        return len(self._pages)

    def _row(self, row: int) -> dict | None:
        page_no = row // PAGE_SIZE
        page = self._pages.get(page_no)
        if page is None:
            page = self._load_page(page_no)
        else:
            self._pages.move_to_end(page_no)
        return page[row - page_no * PAGE_SIZE]

    def _load_page(self, page_no: int) -> list[dict | None]:
        start = page_no * PAGE_SIZE
        if start + PAGE_SIZE > len(self._ids):
            self._load_all_ids()
        if self._prefetch:                  # first rows being painted: fetch the full id list
            self._prefetch = False          # right after, so a later jump needs only its page
            QTimer.singleShot(0, self._load_all_ids)
        ids = self._ids[start:start + PAGE_SIZE]
        by_id = {r["id"]: r for r in rows(self.conn, ids)}
        page = [by_id.get(i) for i in ids]      # None: deleted since the ids were fetched
        self._pages[page_no] = page
        self.pages_loaded += 1
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        return page

    # --- Qt model interface ------------------------------------------------------------------
    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not (0 <= index.row() < self._count):
            return None
        if role == ID_ROLE:
            return self.resident_id(index.row())
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            record = self._row(index.row())
            if record is None:
                return None
            value = record.get(self.columns[index.column()])
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and self.columns[index.column()] in _NUMERIC:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return label(self.columns[section]) if 0 <= section < len(self.columns) else None
        return str(section + 1) if 0 <= section < self._count else None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Re-query in SQL; column -1 means the order the residents were entered in."""
        key = self.columns[column] if 0 <= column < len(self.columns) else "id"
        descending = order == Qt.SortOrder.DescendingOrder
        if key == self.query.order_by and descending == self.query.descending:
            return
        # Sorting a street (0.25–0.6 s of SQL) runs off the GUI thread; the rows stay as they
        # are until the new order is there, and only the latest request is applied.

        query = replace(self.query, order_by=key, descending=descending)
        self._wanted = query

        def apply(ids: list[int]) -> None:
            if self._wanted is query:
                self._apply(query, ids, resorted=True)

        background.run(lambda conn, _progress: query.ids(conn), db_path(self.conn),
                       quiet=True, on_success=apply)

    # --- after a write -----------------------------------------------------------------------
    def apply_changes(self, changes: list[Change]) -> None:
        """Refresh only what the changes touch: re-query when rows may come or go or move,
        otherwise reload just the changed residents' pages."""
        entities = ("residents", "households", "houses", "grid_units")
        if self.query.microgrid_id is not None:     # who lies in the chosen micro-grid
            entities += ("microgrids", "microgrid_households")
        relevant = [c for c in changes if c.entity in entities]
        if not relevant:
            return
        structural = any(
            c.entity != "residents" or c.action != "update"
            or c.field in _STRUCTURAL or c.field == self.query.order_by
            or (self.query.order_by == "age" and c.field == "birth_date")
            for c in relevant)
        if structural:
            self._load_all_ids()
            ids = self.query.ids(self.conn)
            if ids != self._ids and not self._patch(ids):
                self.set_query(self.query)        # rows came, went and moved: start over
                return
            self._pages.clear()
            if self._ids:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(self._count - 1, len(self.columns) - 1))
            return
        for resident_id in {c.id for c in relevant}:
            row = self.row_of(resident_id)
            if row is None:
                continue
            self._pages.pop(row // PAGE_SIZE, None)
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(self.columns) - 1))

    def _patch(self, ids: list[int]) -> bool:
        """Turn the shown ids into `ids` by inserting (an import, a merge) or removing rows
        only, so views keep their scroll position and selection. False when rows also moved
        (the caller resets the model instead)."""
        old = self._ids
        grows = len(ids) >= len(old)
        longer, shorter = (ids, old) if grows else (old, ids)
        runs: list[tuple[int, int]] = []          # (first row, row count) in `longer`
        i = 0
        for row, rid in enumerate(longer):
            if i < len(shorter) and shorter[i] == rid:
                i += 1
            elif runs and sum(runs[-1]) == row:
                runs[-1] = (runs[-1][0], runs[-1][1] + 1)
            else:
                runs.append((row, 1))
        if i != len(shorter):
            return False
        # Cached pages hold rows by position: dropped after each step (a view may read rows
        # between begin… and the change).
        if grows:                                 # front to back: rows before are in place
            for first, count in runs:
                self.beginInsertRows(QModelIndex(), first, first + count - 1)
                self._ids[first:first] = ids[first:first + count]
                self._count += count
                self._pages.clear()
                self._rows_of = None
                self.endInsertRows()
        else:                                     # back to front: rows before stay put
            for first, count in reversed(runs):
                self.beginRemoveRows(QModelIndex(), first, first + count - 1)
                del self._ids[first:first + count]
                self._count -= count
                self._pages.clear()
                self._rows_of = None
                self.endRemoveRows()
        return True
