"""The 以图管房 page (issue 21): the chosen compound's plan (its loaded image, or a generated
layout) with each building a rectangle (or its polygon, from GeoJSON or drawn) coloured by the chosen measure, a legend with counts;
buildings are dragged into place (saved when dropped) and sized with the 宽/高 boxes; 「画多边形」
draws the chosen building's outline by clicks (double click or Enter closes it, Esc cancels), a
polygon's corners are dragged by their handles and 「改为矩形」 drops it back to its box; a
double click opens the building's 楼栋图; the plan prints to A4/A3.

Everything is a function of shequ_desktop.community.siteplan; the page re-reads after a committed change
that touches what it shows, and only while shown.
"""
from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QPainterPath, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import (
    QComboBox,
    QGraphicsEllipseItem,
    QGraphicsPathItem,
    QDoubleSpinBox,
    QFileDialog,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.community import siteplan
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.siteplan import build
from ui.pages.community_base import CommunityPage, page_title

HANDLE = 5          # a corner handle's half size, in screen pixels
RELEVANT = ("site_plans", "site_plan_buildings", "grid_units", "houses", "residents",
            "resident_tags", "visits", "events", "households")


def _qcolor(rgb: tuple[float, float, float], alpha: int = 210) -> QColor:
    return QColor(int(rgb[0] * 255), int(rgb[1] * 255), int(rgb[2] * 255), alpha)


def _clamp(value: float) -> float:
    return min(max(value, 0.0), 1.0)


class CornerHandle(QGraphicsRectItem):
    """A polygon corner's handle: dragging it moves that corner; the polygon is saved on release."""

    def __init__(self, building: "BuildingItem", index: int):
        super().__init__(-HANDLE, -HANDLE, 2 * HANDLE, 2 * HANDLE, building)
        self.index = index
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        self.setPen(QPen(QColor("#1565c0"), 1))
        self.setBrush(QBrush(QColor("#ffffff")))
        self.setCursor(Qt.CursorShape.SizeAllCursor)
        self.setZValue(2)

    def mousePressEvent(self, event) -> None:
        event.accept()              # the corner, not the building, follows the mouse

    def mouseMoveEvent(self, event) -> None:
        self.parentItem().move_corner(self.index, event.scenePos())

    def mouseReleaseEvent(self, event) -> None:
        building = self.parentItem()
        building.page.save_item(building)


class BuildingItem(QGraphicsRectItem):
    """A building on the plan: movable; its page saves the place when it is dropped."""

    def __init__(self, page: "SiteplanPage", building: dict, rect: QRectF):
        super().__init__(0, 0, rect.width(), rect.height())
        self.page = page
        self.building = building
        self.setPos(rect.topLeft())
        self.setFlags(QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemIsSelectable)
        self.setPen(QPen(QColor("#333333"), 1.5))
        self.label = QGraphicsSimpleTextItem(self)
        self.setToolTip(building["name"])
        # a polygon (drawn or from GeoJSON): its corners relative to the item's position
        self.polygon: QPolygonF | None = None
        if building.get("points"):
            size = page.plan_size
            self.polygon = QPolygonF([QPointF(px * size[0] - rect.x(), py * size[1] - rect.y())
                                      for px, py in building["points"]])
        self.handles: list[CornerHandle] = []

    def shape(self) -> QPainterPath:
        if self.polygon is None:
            return super().shape()
        path = QPainterPath()
        path.addPolygon(self.polygon)
        path.closeSubpath()
        return path

    def paint(self, painter, option, widget=None) -> None:
        if self.polygon is None:
            super().paint(painter, option, widget)
            return
        painter.setPen(self.pen())
        painter.setBrush(self.brush())
        painter.drawPolygon(self.polygon)
        if self.isSelected():
            painter.setPen(QPen(QColor("#1565c0"), 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(self.rect())

    def corners(self) -> list[tuple[float, float]]:
        """The polygon's corners in fractions of the plan, where the item now stands."""
        w, h = self.page.plan_size
        pos = self.pos()
        return [((p.x() + pos.x()) / w, (p.y() + pos.y()) / h) for p in self.polygon]

    def show_handles(self, shown: bool) -> None:
        """A selected polygon shows a handle on each corner."""
        for handle in self.handles:
            handle.setParentItem(None)
            if handle.scene() is not None:
                handle.scene().removeItem(handle)
        self.handles = []
        if shown and self.polygon is not None:
            self.handles = [CornerHandle(self, i) for i in range(self.polygon.count())]
            for handle, point in zip(self.handles, self.polygon):
                handle.setPos(point)

    def move_corner(self, index: int, scene_point: QPointF) -> None:
        """Move one corner to a point of the scene (kept on the plan); the item's box becomes
        the polygon's bounding box again."""
        w, h = self.page.plan_size
        point = QPointF(_clamp(scene_point.x() / w) * w, _clamp(scene_point.y() / h) * h)
        corners = [p + self.pos() for p in self.polygon]
        corners[index] = point
        box = QPolygonF(corners).boundingRect()
        self.setPos(box.topLeft())
        self.polygon = QPolygonF([p - box.topLeft() for p in corners])
        self.setRect(0, 0, box.width(), box.height())
        for handle, p in zip(self.handles, self.polygon):
            handle.setPos(p)
        self.update()

    def set_value(self, value: int, colour: QColor) -> None:
        self.setBrush(QBrush(colour))
        self.label.setText(f"{self.building['name']}\n{value}")
        font = QFont()
        font.setPointSizeF(max(7.0, min(14.0, self.rect().height() / 4)))
        self.label.setFont(font)
        box = self.label.boundingRect()
        self.label.setPos((self.rect().width() - box.width()) / 2,
                          (self.rect().height() - box.height()) / 2)

    def mouseReleaseEvent(self, event) -> None:
        super().mouseReleaseEvent(event)
        self.page.save_item(self)

    def mouseDoubleClickEvent(self, event) -> None:
        self.page.buildingActivated.emit(self.building["id"])


class PlanView(QGraphicsView):
    """The plan's view: while the page draws a polygon, clicks add corners, a double click or
    Enter closes it and Esc cancels; otherwise the scene's items get the mouse as usual."""

    def __init__(self, page: "SiteplanPage", scene: QGraphicsScene):
        super().__init__(scene)
        self.page = page

    def mousePressEvent(self, event) -> None:
        if self.page.drawing is None:
            super().mousePressEvent(event)
        elif event.button() == Qt.MouseButton.LeftButton:
            self.page.add_corner(self.mapToScene(event.position().toPoint()))

    def mouseMoveEvent(self, event) -> None:
        if self.page.drawing is None:
            super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event) -> None:
        if self.page.drawing is None:
            super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event) -> None:
        if self.page.drawing is None:
            super().mouseDoubleClickEvent(event)
        else:                       # the last corner (once, if its press added it already)
            self.page.add_corner(self.mapToScene(event.position().toPoint()))
            self.page.finish_polygon()

    def keyPressEvent(self, event) -> None:
        if self.page.drawing is not None and event.key() in (Qt.Key.Key_Return,
                                                             Qt.Key.Key_Enter):
            self.page.finish_polygon()
        elif self.page.drawing is not None and event.key() == Qt.Key.Key_Escape:
            self.page.cancel_polygon()
        else:
            super().keyPressEvent(event)


class SiteplanPage(CommunityPage):
    """Emits buildingActivated(building id) on a double click."""

    buildingActivated = Signal(int)
    RELEVANT = RELEVANT

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(ctx, db_path, parent)
        self.compound_id: int | None = None
        self.plan: dict | None = None
        self.items: dict[int, BuildingItem] = {}
        self.counts: dict[int, int] = {}
        self._saving = False
        self.plan_size = (1, 1)
        # drawing a polygon: the building drawn, its corners so far (fractions), the sketch
        self.drawing: int | None = None
        self.corners: list[tuple[float, float]] = []
        self.sketch: QGraphicsPathItem | None = None
        self.dots: list[QGraphicsEllipseItem] = []

        title = page_title(self.tr("以图管房"))
        self.name = QLabel()
        self.measure = QComboBox()
        for key, label in siteplan.MEASURES.items():
            self.measure.addItem(self.tr("按{0}着色").format(label), key)
        self.measure.setCurrentIndex(list(siteplan.MEASURES).index("overdue"))
        self.measure.currentIndexChanged.connect(self._colour)
        self.load_button = QPushButton(self.tr("载入平面图…"))
        self.load_button.setToolTip(self.tr("扫描或拍摄的小区平面图：PNG、JPEG 或 PDF"))
        self.load_button.clicked.connect(lambda: self.load_image())
        self.width_box = QDoubleSpinBox()
        self.height_box = QDoubleSpinBox()
        for box, label in ((self.width_box, self.tr("宽")), (self.height_box, self.tr("高"))):
            box.setRange(1, 100)
            box.setSuffix(" %")
            box.setDecimals(1)
            box.setToolTip(self.tr("选中楼栋的{0}（占平面图的百分比）").format(label))
            box.editingFinished.connect(self._resize_selected)
        self.draw_button = QPushButton(self.tr("画多边形"))
        self.draw_button.setCheckable(True)
        self.draw_button.setToolTip(self.tr("为选中的楼栋画轮廓：单击添加顶点，双击或回车完成，"
                                            "Esc 取消"))
        self.draw_button.clicked.connect(self._draw_clicked)
        self.rect_button = QPushButton(self.tr("改为矩形"))
        self.rect_button.setToolTip(self.tr("选中的多边形楼栋改回它的外接矩形"))
        self.rect_button.clicked.connect(lambda: self.to_rectangle())
        self.paper = QComboBox()
        self.paper.addItems(["A4", "A3"])
        self.print_button = QPushButton(self.tr("打印…"))
        self.print_button.clicked.connect(lambda: self.print_plan())
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.name)
        bar.addWidget(self.measure)
        bar.addWidget(self.load_button)
        bar.addWidget(QLabel(self.tr("宽")))
        bar.addWidget(self.width_box)
        bar.addWidget(QLabel(self.tr("高")))
        bar.addWidget(self.height_box)
        bar.addWidget(self.draw_button)
        bar.addWidget(self.rect_button)
        bar.addStretch(1)
        bar.addWidget(self.paper)
        bar.addWidget(self.print_button)

        self.scene = QGraphicsScene(self)
        self.scene.selectionChanged.connect(self._on_selection)
        self.view = PlanView(self, self.scene)
        self.view.setRenderHint(self.view.renderHints().Antialiasing)
        self.legend = QLabel()
        self.legend.setAlignment(Qt.AlignmentFlag.AlignTop)
        self.legend.setMinimumWidth(170)
        self.legend.setTextFormat(Qt.TextFormat.RichText)
        body = QHBoxLayout()
        body.addWidget(self.view, 1)
        body.addWidget(self.legend)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        self.hint = QLabel()
        layout.addWidget(self.hint)
        layout.addLayout(body, 1)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def _compound_of(self, unit_id: int | None) -> int | None:
        node = unit_id
        while node is not None:
            row = self.ctx.conn.execute("SELECT parent_id, level FROM grid_units WHERE id = ?",
                                        (node,)).fetchone()
            if row is None:
                return None
            if row["level"] == "compound":
                return node
            node = row["parent_id"] if row["level"] in ("building", "unit") else None
        return None

    def reload(self, *_args) -> None:
        self._stale = False
        self.compound_id = self._compound_of(self.unit_id)
        if self.drawing is not None:
            self.hint.setText(self.tr("数据已变化，画多边形已取消"))
        self.drawing, self.corners, self.sketch, self.dots = None, [], None, []
        self.draw_button.setChecked(False)
        self.items = {}             # before clearing: the selection changes while it clears
        self.scene.clear()
        self.plan = None
        if self.compound_id is None:
            self.name.setText(self.tr("在左侧选一个小区（或其中的楼栋）"))
            self.legend.clear()
            self._update_buttons()
            return
        try:
            self.plan = siteplan.layout(self.ctx.conn, self.compound_id)
        except DomainError as exc:
            self.name.setText(str(exc))
            return
        plan = self.plan
        self.name.setText(plan["name"] + ("" if plan["has_image"] else self.tr("（示意布局）")))
        width, height = plan["width"], plan["height"]
        data = siteplan.image(self.ctx.conn, self.compound_id) if plan["has_image"] else None
        pixmap = QPixmap()
        if data and pixmap.loadFromData(data):
            self.scene.addPixmap(pixmap).setZValue(-1)
            width, height = pixmap.width(), pixmap.height()
        else:
            self.scene.addRect(0, 0, width, height, QPen(QColor("#999999")),
                               QBrush(QColor("#f5f5f5"))).setZValue(-1)
        self.plan_size = (width, height)
        for b in plan["buildings"]:
            item = BuildingItem(self, b, QRectF(b["x"] * width, b["y"] * height,
                                                b["w"] * width, b["h"] * height))
            self.scene.addItem(item)
            self.items[b["id"]] = item
        self.scene.setSceneRect(0, 0, width, height)
        self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)
        self._colour()

    def _colour(self, *_args) -> None:
        if self.compound_id is None:
            return
        what = self.measure.currentData()
        self.counts = siteplan.measure(self.ctx.conn, self.compound_id, what)
        ranges = siteplan.classes(list(self.counts.values()))
        for bid, item in self.items.items():
            n = self.counts.get(bid, 0)
            item.set_value(n, _qcolor(siteplan.colour(siteplan.class_of(n, ranges),
                                                      len(ranges))))
        lines = [f"<b>{siteplan.MEASURES[what]}</b>"]
        for i, (low, high) in enumerate(ranges):
            c = _qcolor(siteplan.colour(i, len(ranges)), 255).name()
            text = "0" if high == 0 else (f"{low}" if low == high else f"{low}–{high}")
            count = sum(1 for n in self.counts.values() if siteplan.class_of(n, ranges) == i)
            lines.append(f"<span style='background:{c}'>&nbsp;&nbsp;&nbsp;&nbsp;</span> "
                         f"{text}（{count} 栋）")
        lines.append(self.tr("合计：{0}").format(sum(self.counts.values())))
        self.legend.setText("<br>".join(lines))
        self._update_buttons()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self.scene.items():
            self.view.fitInView(self.scene.sceneRect(), Qt.AspectRatioMode.KeepAspectRatio)

    def _selected(self) -> BuildingItem | None:
        chosen = [i for i in self.scene.selectedItems() if isinstance(i, BuildingItem)]
        return chosen[0] if chosen else None

    def _on_selection(self) -> None:
        for each in self.items.values():
            each.show_handles(each.isSelected() and self.drawing is None)
        item = self._selected()
        if item is not None:
            w, h = self.plan_size
            self.width_box.setValue(item.rect().width() / w * 100)
            self.height_box.setValue(item.rect().height() / h * 100)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        has = self.compound_id is not None
        self.load_button.setEnabled(has)
        self.print_button.setEnabled(has and self.db_path is not None)
        item = self._selected()
        chosen = item is not None and item.polygon is None   # a polygon keeps its corners
        self.width_box.setEnabled(chosen)
        self.height_box.setEnabled(chosen)
        self.draw_button.setEnabled(has and (item is not None or self.drawing is not None))
        self.rect_button.setEnabled(item is not None and item.polygon is not None
                                    and self.drawing is None)

    # --- acting ------------------------------------------------------------------------------
    def save_item(self, item: BuildingItem) -> None:
        """Store where the building now stands on the plan."""
        w, h = self.plan_size
        pos = item.pos()
        self._saving = True         # the scene already shows it: no reload under the mouse
        try:
            if item.polygon is not None:
                siteplan.place_polygon(self.ctx, self.compound_id, item.building["id"],
                                       item.corners())
            else:
                siteplan.place_building(self.ctx, self.compound_id, item.building["id"],
                                        pos.x() / w, pos.y() / h, item.rect().width() / w,
                                        item.rect().height() / h)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("无法保存楼栋位置"), str(exc))
        finally:
            self._saving = False

    def _resize_selected(self) -> None:
        item = self._selected()
        if item is None:
            return
        w, h = self.plan_size
        item.setRect(0, 0, self.width_box.value() / 100 * w, self.height_box.value() / 100 * h)
        self.save_item(item)

    # --- drawing a polygon ---------------------------------------------------------------------
    def _draw_clicked(self, checked: bool) -> None:
        if checked:
            self.start_polygon()
        else:
            self.cancel_polygon()

    def start_polygon(self) -> bool:
        """Begin drawing the chosen building's outline."""
        item = self._selected()
        if item is None or self.compound_id is None:
            self.draw_button.setChecked(False)
            self.hint.setText(self.tr("请先在图上选中要画轮廓的楼栋"))
            return False
        self.drawing, self.corners = item.building["id"], []
        self.sketch = QGraphicsPathItem()
        self.sketch.setPen(QPen(QColor("#1565c0"), 2, Qt.PenStyle.DashLine))
        self.sketch.setZValue(3)
        self.scene.addItem(self.sketch)
        self.draw_button.setChecked(True)
        self.hint.setText(self.tr("画“{0}”的轮廓：单击添加顶点，双击或回车完成，Esc 取消")
                          .format(item.building["name"]))
        self._on_selection()
        self.view.setFocus()
        return True

    def add_corner(self, scene_point: QPointF) -> None:
        """Add a corner where the plan was clicked (kept on the plan)."""
        w, h = self.plan_size
        corner = (_clamp(scene_point.x() / w), _clamp(scene_point.y() / h))
        if self.corners and all(abs(a - b) < 1e-4 for a, b in zip(corner, self.corners[-1])):
            return                  # the same point again (a double click's press)
        self.corners.append(corner)
        dot = QGraphicsEllipseItem(-3, -3, 6, 6)
        dot.setFlag(QGraphicsItem.GraphicsItemFlag.ItemIgnoresTransformations)
        dot.setBrush(QBrush(QColor("#1565c0")))
        dot.setPos(corner[0] * w, corner[1] * h)
        dot.setZValue(3)
        self.scene.addItem(dot)
        self.dots.append(dot)
        path = QPainterPath(QPointF(self.corners[0][0] * w, self.corners[0][1] * h))
        for x, y in self.corners[1:]:
            path.lineTo(x * w, y * h)
        self.sketch.setPath(path)          # open: it closes when finished
        self.hint.setText(self.tr("已有 {0} 个顶点；双击或回车完成，Esc 取消")
                          .format(len(self.corners)))

    def finish_polygon(self) -> bool:
        """Close the outline and save it (at least three corners)."""
        if self.drawing is None:
            return False
        if len(set(self.corners)) < 3:
            self.hint.setText(self.tr("多边形至少要有三个顶点（现在 {0} 个）：请继续单击添加，"
                                      "或按 Esc 取消").format(len(set(self.corners))))
            return False
        building, corners = self.drawing, self.corners
        self._end_drawing()
        try:                        # the change reloads the page, which shows the polygon
            siteplan.place_polygon(self.ctx, self.compound_id, building, corners)
        except DomainError as exc:
            self.hint.setText(self.tr("无法保存轮廓：{0}").format(exc))
            return False
        self._select(building)
        self.hint.setText(self.tr("轮廓已保存；拖动顶点可调整"))
        return True

    def cancel_polygon(self) -> None:
        if self.drawing is not None:
            self._end_drawing()
            self.hint.setText(self.tr("已取消画多边形，未作改动"))

    def _end_drawing(self) -> None:
        for each in [self.sketch, *self.dots]:
            if each is not None:
                self.scene.removeItem(each)
        self.drawing, self.corners, self.sketch, self.dots = None, [], None, []
        self.draw_button.setChecked(False)
        self._on_selection()

    def _select(self, building_id: int) -> None:
        item = self.items.get(building_id)
        if item is not None:
            self.scene.clearSelection()
            item.setSelected(True)

    def to_rectangle(self) -> bool:
        """Drop the chosen polygon back to a rectangle: its bounding box."""
        item = self._selected()
        if item is None or item.polygon is None:
            return False
        w, h = self.plan_size
        building = item.building["id"]
        box = item.mapRectToScene(item.polygon.boundingRect())
        if not self.attempt(self.tr("无法改为矩形"), lambda: siteplan.place_building(
                self.ctx, self.compound_id, building, box.x() / w, box.y() / h,
                box.width() / w, box.height() / h)):
            return False
        self._select(building)
        return True

    def load_image(self, path: str | None = None) -> None:
        if self.compound_id is None:
            return
        if path is None:
            path, _f = QFileDialog.getOpenFileName(
                self, self.tr("载入小区平面图"), "",
                self.tr("平面图 (*.png *.jpg *.jpeg *.pdf);;所有文件 (*)"))
            if not path:
                return
        try:
            siteplan.set_image(self.ctx, self.compound_id, path)
        except DomainError as exc:
            QMessageBox.warning(self, self.tr("无法载入平面图"), str(exc))

    def print_plan(self, path: str | None = None) -> dict | None:

        if self.compound_id is None:
            return None
        unit = self.compound_id
        what, paper = self.measure.currentData(), self.paper.currentText()
        return self.write_file(lambda ctx, out, _p: build(ctx.conn, unit, what, out, paper=paper,
                                                          actor=ctx.user, access=ctx.access),
                               path, self.tr("保存平面图"), f"{self.plan['name']}平面图.pdf")

    def _on_changes(self, changes: list[Change]) -> None:
        if not self._saving:           # a drop on this page: the scene is current already
            super()._on_changes(changes)
