"""A grid × month table of counts drawn with QPainter, shaded by size (visits per grid over
the last 12 months). Clicking a row emits rowClicked(index of the row)."""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

INK = QColor("#333333")
LOW, HIGH = QColor("#eef4fb"), QColor("#2f6aa8")


def _mix(t: float) -> QColor:
    return QColor(int(LOW.red() + (HIGH.red() - LOW.red()) * t),
                  int(LOW.green() + (HIGH.green() - LOW.green()) * t),
                  int(LOW.blue() + (HIGH.blue() - LOW.blue()) * t))


class HeatmapChart(QWidget):
    rowClicked = Signal(int)

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.rows: list[str] = []
        self.columns: list[str] = []
        self.values: list[list[int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMouseTracking(True)

    def set_data(self, rows: list[str], columns: list[str], values: list[list[int]]) -> None:
        self.rows, self.columns, self.values = list(rows), list(columns), values
        self.updateGeometry()
        self.update()

    def _row_height(self) -> int:
        return self.fontMetrics().height() + 6

    def sizeHint(self) -> QSize:
        return QSize(520, (len(self.rows) + 2) * self._row_height() + 8)

    def minimumSizeHint(self) -> QSize:
        return QSize(300, min(self.sizeHint().height(), 160))

    def band(self, index: int) -> QRectF:
        """Row `index`'s clickable band, from the widget's current size (not the last paint):
        below the title line and the month header line."""
        h = self._row_height()
        return QRectF(0, ((2 if self.title else 1) + index) * h, self.width(), h)

    def row_at(self, point: QPointF) -> int | None:
        for i in range(len(self.rows)):
            if self.band(i).contains(point):
                return i
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.row_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit is not None
                       else Qt.CursorShape.ArrowCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.row_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.rowClicked.emit(hit)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        metrics = self.fontMetrics()
        h = self._row_height()
        y = 0
        if self.title:
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(INK)
            painter.drawText(QRectF(0, 0, self.width(), h), Qt.AlignmentFlag.AlignVCenter,
                             self.title)
            painter.setFont(self.font())
            y = h
        if not self.rows:
            painter.setPen(INK)
            painter.drawText(QRectF(0, y, self.width(), h * 2), Qt.AlignmentFlag.AlignCenter,
                             self.tr("暂无网格"))
            return
        label_w = max(metrics.horizontalAdvance(t) for t in self.rows) + 10
        cell_w = max((self.width() - label_w) / max(len(self.columns), 1), 1)
        painter.setPen(INK)
        for j, month in enumerate(self.columns):       # 'YYYY-MM' → 'M月', year on January
            text = f"{int(month[5:])}月" if j and month[5:] != "01" else f"{month[2:4]}年{int(month[5:])}月"
            painter.drawText(QRectF(label_w + j * cell_w, y, cell_w, h),
                             Qt.AlignmentFlag.AlignCenter, text)
        y += h
        peak = max([max(r, default=0) for r in self.values] + [1])
        # Only the rows in the exposed area: a street has hundreds of grids in a scroll area
        # (3,000 cells drawn on every paint held the GUI thread 60–150 ms).
        top, bottom = event.rect().top(), event.rect().bottom()
        for i, name in enumerate(self.rows):
            if y + h < top or y > bottom:
                y += h
                continue
            painter.setPen(INK)
            painter.drawText(QRectF(0, y, label_w - 6, h),
                             Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name)
            for j, value in enumerate(self.values[i]):
                cell = QRectF(label_w + j * cell_w + 1, y + 1, cell_w - 2, h - 2)
                t = value / peak
                painter.fillRect(cell, _mix(t))
                painter.setPen(QColor("white") if t > 0.55 else INK)
                painter.drawText(cell, Qt.AlignmentFlag.AlignCenter, f"{value:,}")
            y += h
