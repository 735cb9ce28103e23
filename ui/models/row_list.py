"""A small table model over a list of dict rows held in memory (due lists, event lists)."""
from __future__ import annotations

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, Qt
from PySide6.QtGui import QColor, QFont

ID_ROLE = Qt.ItemDataRole.UserRole
OVERDUE_BACKGROUND = QColor("#fde4e1")
OVERDUE_INK = QColor("#b3261e")
DONE_INK = QColor("#6b6b6b")


class RowListModel(QAbstractTableModel):
    """Subclasses give `headers` (one per column), `id_key` (the row's record id) and data()."""

    headers: tuple[str, ...] = ()
    id_key = "id"

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.rows: list[dict] = []
        self._bold = QFont()
        self._bold.setBold(True)

    def set_rows(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.headers)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole):
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and 0 <= section < len(self.headers)):
            return self.tr(self.headers[section])
        return None

    def row_at(self, index: QModelIndex) -> dict | None:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def id_at(self, row: int) -> int | None:
        return self.rows[row][self.id_key] if 0 <= row < len(self.rows) else None

    def row_of(self, record_id: int) -> int | None:
        for i, row in enumerate(self.rows):
            if row[self.id_key] == record_id:
                return i
        return None
