"""Horizontal bar charts drawn with QPainter: one series (focus groups by tag), or two series
mirrored about a middle column of labels (the age pyramid: men left, women right).

Clicking a bar emits barClicked(index of its category).
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

INK = QColor("#333333")
GRID = QColor("#d8d8d8")
MEN, WOMEN, BAR = QColor("#4a78b0"), QColor("#c8607a"), QColor("#5b8f5a")


class BarChart(QWidget):
    barClicked = Signal(int)

    def __init__(self, title: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.title = title
        self.labels: list[str] = []
        self.series: list[list[float]] = []
        self.names: list[str] = []
        self.colors: list[QColor] = [BAR]
        self.mirrored = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMouseTracking(True)

    def set_data(self, labels: list[str], series: list[list[float]], *,
                 names: list[str] = (), colors: list[QColor] | None = None,
                 mirrored: bool = False) -> None:
        self.labels, self.series, self.names = list(labels), [list(s) for s in series], list(names)
        self.colors = colors or ([MEN, WOMEN] if mirrored else [BAR])
        self.mirrored = mirrored
        self.updateGeometry()
        self.update()

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height()
        return QSize(360, int(line * 2.5 + max(len(self.labels), 4) * (line * 0.95)))

    def minimumSizeHint(self) -> QSize:
        return QSize(220, 120)

    def _top(self) -> float:
        """Where the first category's band starts: below the title and the legend."""
        line = self.fontMetrics().height()
        return (line + 8 if self.title else 4) + (line + 2 if self.names else 0)

    def _row_height(self) -> float:
        return max((self.height() - self._top() - 4) / max(len(self.labels), 1), 1.0)

    def band(self, index: int) -> QRectF:
        """Category `index`'s clickable band, from the widget's current size (not the last paint)."""
        row = self._row_height()
        return QRectF(0, self._top() + index * row, self.width(), row)

    def bar_at(self, point: QPointF) -> int | None:
        for i in range(len(self.labels)):
            if self.band(i).contains(point):
                return i
        return None

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        hit = self.bar_at(event.position())
        self.setCursor(Qt.CursorShape.PointingHandCursor if hit is not None
                       else Qt.CursorShape.ArrowCursor)
        if hit is not None and self.series:
            values = "，".join(f"{name}{s[hit]:,}" if name else f"{s[hit]:,}"
                              for name, s in zip(self.names or [""], self.series))
            self.setToolTip(f"{self.labels[hit]}：{values}")

    def mousePressEvent(self, event: QMouseEvent) -> None:
        hit = self.bar_at(event.position())
        if hit is not None and event.button() == Qt.MouseButton.LeftButton:
            self.barClicked.emit(hit)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        metrics = self.fontMetrics()
        line = metrics.height()
        top = 4
        if self.title:
            font = painter.font()
            font.setBold(True)
            painter.setFont(font)
            painter.setPen(INK)
            painter.drawText(QRectF(0, 0, self.width(), line + 4),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                             self.title)
            painter.setFont(self.font())
        if self.names:
            x = self.width() - 8
            for name, color in reversed(list(zip(self.names, self.colors))):
                w = metrics.horizontalAdvance(name)
                x -= w
                painter.setPen(INK)
                painter.drawText(QPointF(x, top + metrics.ascent()), name)
                x -= 14
                painter.fillRect(QRectF(x, top + 2, 10, line - 4), color)
                x -= 10
        top = self._top()
        if not self.labels:
            painter.setPen(INK)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.tr("暂无数据"))
            return
        n = len(self.labels)
        row = self._row_height()
        bar = max(min(row * 0.7, line * 1.1), 1.0)
        peak = max([max(s, default=0) for s in self.series] + [1])
        label_w = max(metrics.horizontalAdvance(t) for t in self.labels) + 10
        value_w = metrics.horizontalAdvance(f"{peak:,}") + 8
        for i, label in enumerate(self.labels):
            y = top + i * row
            bar_y = y + (row - bar) / 2
            text_rect = QRectF(0, y, 0, row)
            if self.mirrored:
                middle = self.width() / 2
                span = max(middle - label_w / 2 - value_w, 1)
                painter.setPen(INK)
                painter.drawText(QRectF(middle - label_w / 2, y, label_w, row),
                                 Qt.AlignmentFlag.AlignCenter, label)
                for side, (values, color) in enumerate(zip(self.series, self.colors)):
                    length = span * values[i] / peak
                    x0 = middle - label_w / 2 - length if side == 0 else middle + label_w / 2
                    painter.fillRect(QRectF(x0, bar_y, length, bar), color)
                    if values[i]:
                        text = f"{values[i]:,}"
                        w = metrics.horizontalAdvance(text)
                        tx = x0 - w - 3 if side == 0 else x0 + length + 3
                        painter.drawText(QRectF(tx, y, w + 1, row),
                                         Qt.AlignmentFlag.AlignVCenter, text)
            else:
                span = max(self.width() - label_w - value_w, 1)
                text_rect = QRectF(0, y, label_w - 6, row)
                painter.setPen(INK)
                painter.drawText(text_rect, Qt.AlignmentFlag.AlignRight
                                 | Qt.AlignmentFlag.AlignVCenter, label)
                value = self.series[0][i] if self.series else 0
                length = span * value / peak
                painter.fillRect(QRectF(label_w, bar_y, length, bar), self.colors[0])
                painter.drawText(QRectF(label_w + length + 3, y, value_w, row),
                                 Qt.AlignmentFlag.AlignVCenter, f"{value:,}")
        if not self.mirrored:
            painter.setPen(GRID)
            painter.drawLine(QPointF(label_w, top), QPointF(label_w, top + n * row))
