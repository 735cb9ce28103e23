"""The search box and filters above the resident table; emits the query fields they set."""
from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication, QObject, QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from db.driver import sqlite3
from shequ_desktop.core import codes
from shequ_desktop.core.statuses import DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.population import tags

# (combo text, statuses); an empty tuple means every status.
STATUS_FILTERS = ((ON_RECORD, (ON_RECORD,)), (MOVED_OUT, (MOVED_OUT,)), (DECEASED, (DECEASED,)), ("全部", ()))
DEBOUNCE_MS = 250
NO_AGE = -1                    # the spin boxes' "不限" value
MICROGRID_CHARS = 7            # the 微网格 box fits 「锦绣北区2号楼」; the bar stays one row at 1366 px


def microgrid_combo() -> QComboBox:
    """A 微网格 chooser (「全部微网格」, then offer_microgrids' rows), of a fixed width of
    MICROGRID_CHARS Chinese characters (the length counts Latin "X"es), so a long name
    neither widens its bar nor moves the other filters; disabled until offered some."""
    combo = QComboBox()
    combo.addItem(QCoreApplication.translate("MicrogridCombo", "全部微网格"), None)
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setIconSize(QSize(0, 0))      # no icons: as tall as the other boxes
    metrics = combo.fontMetrics()
    combo.setMinimumContentsLength(math.ceil(
        metrics.horizontalAdvance("微" * MICROGRID_CHARS) / metrics.horizontalAdvance("X")))
    offer_microgrids(combo, [], "")
    return combo


def offer_microgrids(combo: QComboBox, microgrids: list[dict], tooltip: str) -> None:
    """Offer these micro-grids (rows of microgrids.of_grid), back at 「全部微网格」, without a
    change signal (the page re-reads once for the new unit). None offered: disabled, and the
    tooltip says why; else `tooltip` says what the chooser filters."""
    blocker = combo.blockSignals(True)
    while combo.count() > 1:
        combo.removeItem(1)
    for m in microgrids:
        # The label says 微网格: 「锦绣北区2号楼微网格」 shows as 「锦绣北区2号楼」 in the
        # narrow box; the tooltip has the whole name and its scope.
        combo.addItem(m["name"].removesuffix("微网格") or m["name"], m["id"])
        combo.setItemData(combo.count() - 1, f"{m['name']}（{m['scope']}）",
                          Qt.ItemDataRole.ToolTipRole)
    combo.setCurrentIndex(0)
    combo.blockSignals(blocker)
    combo.setEnabled(bool(microgrids))
    combo.setToolTip(tooltip if microgrids else QCoreApplication.translate(
        "MicrogridCombo",
        "在左侧选择一个网格（或其中的楼栋），可按它的微网格筛选；该网格还没有微网格时为空"))


class FilterBar(QWidget):
    """Label and field pairs in one row, or in two when the page is too narrow for one (1024
    px beside the tree and the details squeezed the combo boxes to slivers). A field keeps
    its natural width; the bar asks only for the width of the wider of the two rows."""

    SPLIT = 3                               # pairs in the first row when wrapped

    def __init__(self, pairs: list[tuple[QWidget, QWidget]], parent: QWidget | None = None):
        super().__init__(parent)
        self.pairs = pairs
        self.rows = [QHBoxLayout(), QHBoxLayout()]
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        for row in self.rows:
            row.setContentsMargins(0, 0, 0, 0)
            outer.addLayout(row)
        for _label, field in pairs:
            field.setMinimumWidth(field.sizeHint().width())
        self.wrapped: bool | None = None
        self._arrange(False)

    def _width(self, pairs) -> int:
        spacing = self.rows[0].spacing() if self.rows[0].spacing() >= 0 else 6
        return sum(label.sizeHint().width() + field.minimumWidth() + 2 * spacing
                   for label, field in pairs)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(max(self._width(self.pairs[:self.SPLIT]),
                         self._width(self.pairs[self.SPLIT:])), hint.height())

    def _arrange(self, wrapped: bool) -> None:
        if wrapped == self.wrapped:
            return
        self.wrapped = wrapped
        for row in self.rows:
            while row.count():
                row.takeAt(0)
        for i, (label, field) in enumerate(self.pairs):
            row = self.rows[1 if wrapped and i >= self.SPLIT else 0]
            row.addWidget(label)
            row.addWidget(field)
        for row in self.rows:
            row.addStretch(1)
        self.updateGeometry()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._arrange(event.size().width() < self._width(self.pairs))


class ResidentFilters(QObject):
    """The search box `search` and the filter bar `bar` (the page lays them out).

    changed(dict) carries ResidentQuery fields: text, statuses, tag_ids, ages, codes,
    microgrid_id.
    """

    changed = Signal(dict)

    def __init__(self, conn: sqlite3.Connection, parent: QWidget | None = None):
        super().__init__(parent)
        self.search = QLineEdit(parent)
        self.search.setPlaceholderText(self.tr("查找：姓名、拼音首字母、身份证号、电话、地址（3栋2单元501）"))
        self.search.setClearButtonEnabled(True)
        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit)
        self.search.textChanged.connect(self._debounce.start)
        self.search.returnPressed.connect(self._emit_now)

        self.status = self._combo([(self.tr(t), s) for t, s in STATUS_FILTERS])
        self.tag = self._combo([(self.tr("全部"), None)] + [
            (t["name"], t["id"]) for t in tags.all_tags(conn, active_only=True)])
        self.gender = self._code_combo("gender", ("1", "2"))
        self.residence = self._code_combo("residence_type")
        self.age_min, self.age_max = self._age_box(), self._age_box()
        # 微网格: the micro-grids of the grid chosen in the tree (set_microgrids).
        self.microgrid = microgrid_combo()
        self.microgrid.currentIndexChanged.connect(self._emit_now)
        self.set_microgrids([])

        # The page places the search box and the filter bar in two rows, so it still fits
        # beside the tree and the details on a laptop screen; the bar itself wraps.
        self.bar = FilterBar([(QLabel(self.tr("状态")), self.status),
                              (QLabel(self.tr("重点人群")), self.tag),
                              (QLabel(self.tr("微网格")), self.microgrid),
                              (QLabel(self.tr("性别")), self.gender),
                              (QLabel(self.tr("类型")), self.residence),
                              (QLabel(self.tr("年龄")), self.age_min), (QLabel("–"), self.age_max)],
                             parent)

    def _combo(self, items) -> QComboBox:
        combo = QComboBox()
        combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        for text, data in items:
            combo.addItem(text, data)
        combo.currentIndexChanged.connect(self._emit_now)
        return combo

    def _code_combo(self, table: str, only: tuple = ()) -> QComboBox:
        items = [(item.label, item.code) for item in codes.table(table)
                 if not only or item.code in only]
        return self._combo([(self.tr("全部"), None), *items])

    def _age_box(self) -> QSpinBox:
        box = QSpinBox()
        box.setRange(NO_AGE, 130)
        box.setSpecialValueText(self.tr("不限"))
        box.setValue(NO_AGE)
        box.valueChanged.connect(self._debounce.start)
        return box

    def _emit_now(self) -> None:
        self._debounce.stop()
        self._emit()

    def _emit(self) -> None:
        self.changed.emit(self.values())

    def values(self) -> dict:
        tag = self.tag.currentData()
        age = lambda box: None if box.value() == NO_AGE else box.value()  # noqa: E731
        return {"text": self.search.text().strip(), "statuses": self.status.currentData(),
                "tag_ids": () if tag is None else (tag,), "gender": self.gender.currentData(),
                "residence_type": self.residence.currentData(),
                "microgrid_id": self.microgrid.currentData(),
                "age_min": age(self.age_min), "age_max": age(self.age_max)}

    def set_microgrids(self, microgrids: list[dict]) -> None:
        """Offer these micro-grids (rows of microgrids.of_grid), back at 「全部微网格」, without
        a change signal (the page re-queries once for the new unit). None offered: disabled,
        and the tooltip says why."""
        offer_microgrids(self.microgrid, microgrids, self.tr("按微网格筛选本网格的居民"))

    def set_statuses(self, statuses: tuple) -> None:
        for i in range(self.status.count()):
            if self.status.itemData(i) == tuple(statuses):
                self.status.setCurrentIndex(i)
                return
        raise ValueError(statuses)
