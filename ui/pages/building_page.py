"""The building view (楼栋图, "以房管人"): one building drawn as floors × rooms.

Each room is a tile: room number, the head of the household living there and how many people,
coloured by the room's usage, with a red 「重点」 badge when a member is in a focus group.
A 微网格 chosen above the map outlines its households' rooms and dims the others.
One QTableWidget with a painting delegate: a 24-floor × 8-room building is 192 items, drawn
only where visible, instead of 192 child widgets.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.community import microgrids
from shequ_desktop.core import tree
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import OWNER_OCCUPIED, RENTED, VACANT
from shequ_desktop.places import pickers
from shequ_desktop.places.buildings import BuildingMap, Cell, building_map
from ui.follow import follow_changes

USAGE_COLORS = {OWNER_OCCUPIED: "#d8f0cf", RENTED: "#d3e5fa", VACANT: "#e3e3e3", "商用": "#fde0c0",
                "其他": "#ffffff"}
FOCUS_COLOR = "#d9352b"
MARK_COLOR = "#1f6fd1"          # the outline of a chosen micro-grid's rooms
DIM = QColor(255, 255, 255, 170)   # laid over the other rooms while a micro-grid is chosen
# Every position holds an item whose CELL_ROLE is an int: the room's index in
# BuildingView.cells, or -1 where the floor has no such room (plain ints, not Python objects
# wrapped in QVariants, and never an empty role read back as None).
CELL_ROLE = Qt.ItemDataRole.UserRole
NO_ROOM = -1
INK = QColor("#202020")
FAINT = QColor("#707070")


def usage_color(usage: str) -> QColor:
    return QColor(USAGE_COLORS.get(usage, USAGE_COLORS["其他"]))


class TileDelegate(QStyledItemDelegate):
    """Paints a room: number, head and member count, usage colour, focus badge."""

    UNIT_GAP = 8     # pixels between the last room of one unit and the first of the next

    def __init__(self, cells: list[Cell], parent=None):
        super().__init__(parent)
        self.cells = cells
        self.unit_starts: set[int] = set()     # columns that begin a new unit (not the first)
        self.marked: set[int] | None = None    # a chosen micro-grid's household ids, or None

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex):
        position = index.data(CELL_ROLE) if index.isValid() else NO_ROOM
        if not isinstance(position, int) or not 0 <= position < len(self.cells):
            return
        cell = self.cells[position]
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        gap = self.UNIT_GAP if index.column() in self.unit_starts else 0
        rect = QRectF(option.rect).adjusted(2 + gap, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        border = option.palette.highlight().color() if selected else QColor("#b8b8b8")
        painter.setPen(QPen(border, 2.5 if selected else 1))
        painter.setBrush(usage_color(cell.usage))
        painter.drawRoundedRect(rect, 3, 3)

        pad = 5
        text = rect.adjusted(pad, 3, -pad, -3).toRect()
        line = text.height() // 2
        top = QRect(text.left(), text.top(), text.width(), line)
        bottom = QRect(text.left(), text.top() + line, text.width(), text.height() - line)
        bold = QFont(option.font)
        bold.setBold(True)
        painter.setFont(bold)
        painter.setPen(INK)
        painter.drawText(top, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                         cell.room_no)
        if cell.focus:
            self._badge(painter, option, top)
        painter.setFont(option.font)
        painter.setPen(INK)
        if cell.household_id is not None:
            who = f"{cell.head_name or '？'} {cell.members}人"
        else:
            who = cell.usage if cell.usage == VACANT else "无人居住"
            painter.setPen(FAINT)
        who = painter.fontMetrics().elidedText(who, Qt.TextElideMode.ElideRight, bottom.width())
        painter.drawText(bottom, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, who)
        if self.marked is not None:
            if cell.household_id in self.marked:
                painter.setPen(QPen(QColor(MARK_COLOR), 3))
                painter.setBrush(Qt.BrushStyle.NoBrush)
                painter.drawRoundedRect(rect.adjusted(1, 1, -1, -1), 3, 3)
            else:
                painter.setPen(Qt.PenStyle.NoPen)
                painter.setBrush(DIM)
                painter.drawRoundedRect(rect, 3, 3)
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, option: QStyleOptionViewItem, line: QRect) -> None:
        small = QFont(option.font)
        small.setPointSizeF(max(option.font.pointSizeF() * 0.8, 6))
        small.setBold(True)
        painter.setFont(small)
        label = "重点"
        w = painter.fontMetrics().horizontalAdvance(label) + 6
        h = painter.fontMetrics().height() + 1
        badge = QRectF(line.right() - w + 3, line.center().y() - h / 2, w, h)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(FOCUS_COLOR))
        painter.drawRoundedRect(badge, 3, 3)
        painter.setPen(QColor("white"))
        painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)

    def sizeHint(self, option: QStyleOptionViewItem, index: QModelIndex) -> QSize:
        m = option.fontMetrics
        return QSize(m.horizontalAdvance("王建国国 10人") + 16, m.height() * 2 + 14)


class BuildingView(QWidget):
    """Emits householdActivated(household id) when an inhabited room is clicked and
    houseActivated(house id) when an empty one is."""

    householdActivated = Signal(int)
    houseActivated = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.building_id: int | None = None
        self.map: BuildingMap | None = None
        self._unit_ids: set[int] = set()
        self._house_ids: set[int] = set()
        self._household_ids: set[int] = set()
        self.cells: list[Cell] = []           # the rooms drawn, indexed by CELL_ROLE
        self.reloads = 0

        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.counts = QLabel()
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addSpacing(16)
        top.addWidget(self.counts)
        top.addStretch(1)
        top.addLayout(self._legend())

        # 微网格: the micro-grids of the building's grid; choosing one marks its rooms.
        self.microgrid = QComboBox()
        self.microgrid.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.microgrid.setMinimumContentsLength(12)
        self.microgrid.currentIndexChanged.connect(self._mark)
        self.mark_count = QLabel()
        marks = QHBoxLayout()
        marks.addWidget(QLabel(self.tr("微网格")))
        marks.addWidget(self.microgrid)
        marks.addSpacing(8)
        marks.addWidget(self.mark_count)
        marks.addStretch(1)

        self.table = QTableWidget()
        self.delegate = TileDelegate(self.cells, self.table)
        self.table.setItemDelegate(self.delegate)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setShowGrid(False)
        self.table.setFrameShape(QFrame.Shape.NoFrame)
        self.table.setMouseTracking(True)
        hint = self.delegate.sizeHint(self._option(), QModelIndex())
        for header, size in ((self.table.horizontalHeader(), hint.width()),
                             (self.table.verticalHeader(), hint.height())):
            header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
            header.setDefaultSectionSize(size)
            header.setHighlightSections(False)
        self.table.verticalHeader().setDefaultAlignment(Qt.AlignmentFlag.AlignCenter)
        self.table.cellClicked.connect(self._on_click)

        self.placeholder = QLabel()
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addLayout(marks)
        layout.addWidget(self.placeholder, 1)
        layout.addWidget(self.table, 1)
        follow_changes(self, ctx, self._on_changes)
        self.show_building(None)

    def _option(self) -> QStyleOptionViewItem:
        option = QStyleOptionViewItem()
        option.initFrom(self.table)
        option.font = self.table.font()
        return option

    def _legend(self) -> QHBoxLayout:
        legend = QHBoxLayout()
        legend.setSpacing(4)
        # The usages are stored values (houses.usage), shown as they are.
        for text, color in [*USAGE_COLORS.items(), (self.tr("重点人群"), FOCUS_COLOR)]:
            swatch = QLabel()
            swatch.setFixedSize(14, 14)
            swatch.setStyleSheet(f"background: {color}; border: 1px solid #999; "
                                 "border-radius: 2px;")
            legend.addWidget(swatch)
            legend.addWidget(QLabel(text))
            legend.addSpacing(8)
        return legend

    # --- showing -------------------------------------------------------------------------------
    def show_building(self, building_id: int | None) -> None:
        keep = self.selected_cell()
        same = building_id == self.building_id
        self.building_id = building_id
        self.map = None
        message = self.tr("在左侧选择一栋楼，这里按楼层和房号显示各户。")
        if building_id is not None:
            try:
                self.map = building_map(self.ctx.conn, building_id)
            except DomainError as exc:       # not a building (any more)
                self.building_id = None
                message = str(exc)
        self.placeholder.setText(message)
        self.placeholder.setVisible(self.map is None)
        self.table.setVisible(self.map is not None)
        if self.map is None:
            self.title.setText(self.tr("楼栋图"))
            self.counts.clear()
            self.table.clear()
            self.table.setRowCount(0)
            self.table.setColumnCount(0)
            self.cells.clear()
            self._unit_ids = self._house_ids = self._household_ids = set()
            self._offer_microgrids(None)
            return
        self.reloads += 1
        self._unit_ids = set(tree.descendants(self.ctx.conn, building_id))
        self._fill()
        self._offer_microgrids(building_id)
        if same and keep is not None:
            self.select_house(keep.house_id)

    def refresh(self) -> None:
        self.show_building(self.building_id)

    def _title(self) -> str:
        building = self.ctx.get("grid_units", self.map.building_id)
        if building["parent_id"] is not None:
            parent = self.ctx.get("grid_units", building["parent_id"])
            if parent["level"] == "compound":
                return f"{parent['name']} {building['name']}"
        return building["name"]

    def _fill(self) -> None:
        m = self.map
        table = self.table
        table.setUpdatesEnabled(False)
        table.clear()
        table.setRowCount(len(m.floors))
        table.setColumnCount(len(m.columns))
        table.setVerticalHeaderLabels([self.tr("{0}层").format(f) if f else self.tr("未定")
                                       for f in m.floors])
        table.setHorizontalHeaderLabels([f"{unit}\n{suffix}" if unit else suffix
                                         for unit, suffix in m.columns])
        header = table.horizontalHeader()
        starts = {i for i in range(1, len(m.columns)) if m.columns[i][0] != m.columns[i - 1][0]}
        self.delegate.unit_starts = starts
        for i in range(len(m.columns)):
            header.resizeSection(i, header.defaultSectionSize()
                                 + (TileDelegate.UNIT_GAP if i in starts else 0))
        cells = self.cells
        cells.clear()
        for row, floor in enumerate(m.floors):
            for column, key in enumerate(m.columns):
                cell = m.cell(floor, key)
                item = QTableWidgetItem()
                if cell is None:
                    item.setData(CELL_ROLE, NO_ROOM)
                    item.setFlags(Qt.ItemFlag.NoItemFlags)
                else:
                    item.setData(CELL_ROLE, len(cells))
                    cells.append(cell)
                    item.setText(cell.room_no)
                    item.setBackground(usage_color(cell.usage))
                    item.setToolTip(self._tooltip(cell))
                table.setItem(row, column, item)
        table.setUpdatesEnabled(True)
        self._house_ids = {c.house_id for c in cells}
        self._household_ids = {c.household_id for c in cells if c.household_id is not None}
        self.title.setText(self._title())
        self.counts.setText(self.tr("户数 {0}　人数 {1}　空置 {2}").format(
            len(self._household_ids), sum(c.members for c in cells),
            sum(c.usage == VACANT for c in cells)))

    def _tooltip(self, cell: Cell) -> str:
        lines = [f"{cell.unit}{cell.room_no}　{cell.usage}"]
        if cell.household_id is not None:
            lines.append(self.tr("户主：{0}　在册 {1} 人").format(cell.head_name or "",
                                                               cell.members))
        else:
            lines.append(self.tr("无人居住"))
        if cell.focus:
            lines.append(self.tr("重点人群：{0}").format("、".join(cell.focus)))
        return "\n".join(lines)

    # --- micro-grid marks -----------------------------------------------------------------------
    def _offer_microgrids(self, building_id: int | None) -> None:
        """The micro-grids of the building's grid, keeping the chosen one while it is offered
        (a refresh of the same building); then mark its rooms again."""
        combo = self.microgrid
        chosen = combo.currentData()
        rows = [] if building_id is None else microgrids.of_grid(self.ctx.conn, building_id,
                                                                 self.ctx.access)
        blocker = combo.blockSignals(True)
        combo.clear()
        combo.addItem(self.tr("不标记"), None)
        for m in rows:
            combo.addItem(m["name"], m["id"])
            combo.setItemData(combo.count() - 1, f"{m['name']}（{m['scope']}）",
                              Qt.ItemDataRole.ToolTipRole)
        combo.setCurrentIndex(max(0, combo.findData(chosen)))
        combo.blockSignals(blocker)
        combo.setEnabled(bool(rows))
        combo.setToolTip(self.tr("标出所选微网格在本楼的各户，其余变淡") if rows else self.tr(
            "本楼所在网格还没有微网格（在“微网格”页添加）"))
        self._mark()

    def select_microgrid(self, microgrid_id: int | None) -> None:
        self.microgrid.setCurrentIndex(max(0, self.microgrid.findData(microgrid_id)))

    def _mark(self) -> None:
        microgrid_id = self.microgrid.currentData()
        if microgrid_id is None or self.map is None:
            self.delegate.marked = None
            self.mark_count.clear()
        else:
            marked = microgrids.households_in_building(self.ctx.conn, microgrid_id,
                                                       self.map.building_id)
            self.delegate.marked = marked
            shown = self.marked_cells()
            self.mark_count.setText(self.tr("本楼 {0} 户 {1} 人").format(
                len({c.household_id for c in shown}), sum(c.members for c in shown)))
        self.table.viewport().update()

    def marked_cells(self) -> list[Cell]:
        """The rooms outlined for the chosen micro-grid (none when none is chosen)."""
        marked = self.delegate.marked
        return [] if marked is None else [c for c in self.cells if c.household_id in marked]

    # --- cells ---------------------------------------------------------------------------------
    def item_at(self, floor: int, column: tuple[str, str]) -> QTableWidgetItem | None:
        """The item of a room by floor and (unit, room suffix) column (for tests)."""
        if self.map is None or floor not in self.map.floors or column not in self.map.columns:
            return None
        return self.table.item(self.map.floors.index(floor), self.map.columns.index(column))

    def cell_of(self, item: QTableWidgetItem | None) -> Cell | None:
        position = item.data(CELL_ROLE) if item is not None else NO_ROOM
        return self.cells[position] if 0 <= position < len(self.cells) else None

    def selected_cell(self) -> Cell | None:
        items = self.table.selectedItems()
        return self.cell_of(items[0]) if items else None

    def select_house(self, house_id: int) -> bool:
        for row in range(self.table.rowCount()):
            for column in range(self.table.columnCount()):
                item = self.table.item(row, column)
                cell = self.cell_of(item)
                if cell is not None and cell.house_id == house_id:
                    self.table.setCurrentItem(item)
                    return True
        return False

    def _on_click(self, row: int, column: int) -> None:
        cell = self.cell_of(self.table.item(row, column))
        if cell is None:
            return
        if cell.household_id is not None:
            self.householdActivated.emit(cell.household_id)
        else:
            self.houseActivated.emit(cell.house_id)

    # --- keeping current -----------------------------------------------------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        if self.concerns(changes):
            self.refresh()

    def concerns(self, changes: list[Change]) -> bool:
        """Whether a change touches a unit, room, household or resident of this building."""
        if self.building_id is None:
            return False
        homes = self._household_ids
        residents: set[int] = set()
        for c in changes:
            new = c.new if isinstance(c.new, dict) else {}
            if c.id is None:                                          # a bulk load
                if c.entity in ("grid_units", "houses", "households", "residents",
                                "resident_tags"):
                    return True
            elif c.entity == "grid_units":
                if c.id in self._unit_ids or new.get("parent_id") in self._unit_ids \
                        or (c.field == "parent_id" and self.building_id in (c.old, c.new)):
                    return True
            elif c.entity == "houses":
                if c.id in self._house_ids or new.get("unit_id") in self._unit_ids \
                        or (c.field == "unit_id" and (c.old in self._unit_ids
                                                      or c.new in self._unit_ids)):
                    return True
            elif c.entity == "households":
                if c.id in homes or new.get("house_id") in self._house_ids \
                        or (c.field == "house_id" and (c.old in self._house_ids
                                                       or c.new in self._house_ids)):
                    return True
            elif c.entity == "residents":
                if new.get("household_id") in homes or (
                        c.field == "household_id" and (c.old in homes or c.new in homes)):
                    return True
                residents.add(c.id)
            elif c.entity in ("microgrids", "microgrid_households"):
                return True              # the offered micro-grids or the marked rooms
            elif c.entity == "resident_tags":
                if "resident_id" in new:
                    residents.add(new["resident_id"])
                else:
                    return True          # a tag ended: rare, and the map is cheap to redraw
        return bool(residents) and bool(
            pickers.households_of_residents(self.ctx.conn, residents) & homes)
