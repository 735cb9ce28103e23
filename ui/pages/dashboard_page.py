"""The home page (首页): the figures of the unit chosen in the grid tree, and three charts.

The figures are shequ_desktop.reports.stats.dashboard(), computed off the GUI thread after the page is
first painted and again when the unit or the data change (only while the page is shown). The
charts are built just after the first paint (their space is kept), so start-up stays light.
Clicking a figure asks for the list behind it: the page emits openRequested(target), a dict
such as {"page": "residents", "residence_type": "2"}; the main window shows that page and
hands it the target (each page's `open_target` sets its own filters).
"""
from __future__ import annotations

from PySide6.QtCore import QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPalette, QShowEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from db import db_path
from shequ_desktop.core.context import Change, Context
from shequ_desktop.reports import stats
from ui.follow import follow_changes

# Imports inside functions here are lazy for start-up: the charts and the worker load after
# the first paint.

FIRST_DELAY_MS = 100          # after start-up, before the figures are computed
# Changes after which a figure may differ.
RELEVANT = ("residents", "households", "houses", "grid_units", "resident_tags", "tags",
            "visits", "events", "service_records", "activities", "volunteers")


# Tiles are painted and coloured through palettes, not style sheets (which cost ~8 ms of
# start-up): (border, background) as is and under the mouse; caption and number colours.
TILE, TILE_HOVER = ("#dcdcdc", "#fafafa"), ("#4a78b0", "#f1f6fc")
CAPTION, NUMBER, WARNING = "#555555", "#1f3f66", "#b3261e"


def set_text_color(label: QLabel, color: str) -> None:
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, QColor(color))
    label.setPalette(palette)


class FigureTile(QFrame):
    """A big number over its caption; emits clicked() when it has a target."""

    clicked = Signal()

    def __init__(self, caption: str, target: dict | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.target = target
        self.value: object = None
        self._hover = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        if target is not None:
            self.setCursor(Qt.CursorShape.PointingHandCursor)
            self.setToolTip(self.tr("点击查看名单"))
        self.number = QLabel("…")
        font = self.number.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.number.setFont(font)
        self.caption = QLabel(caption)
        set_text_color(self.caption, CAPTION)
        box = QVBoxLayout(self)
        box.setContentsMargins(10, 5, 10, 5)
        box.setSpacing(0)
        box.addWidget(self.number)
        box.addWidget(self.caption)

    def set_value(self, value, warn: bool = False) -> None:
        self.value = value
        if value is None:
            shown = "…"
        elif isinstance(value, float):
            shown = f"{value:,.1f}".rstrip("0").rstrip(".")
        else:
            shown = f"{value:,}"
        self.number.setText(shown)
        set_text_color(self.number, WARNING if warn and value else NUMBER)

    def paintEvent(self, event: QPaintEvent) -> None:
        border, background = TILE_HOVER if self._hover and self.target is not None else TILE
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QColor(border))
        painter.setBrush(QColor(background))
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5), 4, 4)

    def enterEvent(self, event) -> None:
        self._hover = True
        self.update()
        super().enterEvent(event)

    def leaveEvent(self, event) -> None:
        self._hover = False
        self.update()
        super().leaveEvent(event)

    def text_value(self) -> str:
        return self.number.text()

    def mouseReleaseEvent(self, event) -> None:
        if (self.target is not None and event.button() == Qt.MouseButton.LeftButton
                and self.rect().contains(event.position().toPoint())):
            self.clicked.emit()
        super().mouseReleaseEvent(event)


# (key, caption, where a click leads or None); grouped in rows.
TILES = (
    ("人口", (
        ("households", "户数（在册）", {"page": "residents"}),
        ("residents", "人口（在册）", {"page": "residents"}),
        ("registered", "户籍人口", {"page": "residents", "residence_type": stats.REGISTERED}),
        ("floating", "流动人口", {"page": "residents", "residence_type": stats.FLOATING}),
        ("separated", "人户分离", None),
    )),
    ("年龄", tuple(
        (f"age_{i}", label, {"page": "residents", "age_min": low, "age_max": high})
        for i, (label, low, high) in enumerate(stats.AGE_GROUPS))),
    ("重点人群与走访", (
        ("members", "重点人员", {"page": "visits", "mode": "all"}),
        ("due", "本周应访", {"page": "visits", "mode": "week"}),
        ("overdue", "走访逾期", {"page": "visits", "mode": "overdue"}),
        ("never_visited", "从未走访", {"page": "quality", "check": "focus_never_visited"}),
    )),
    ("事件与志愿服务", (
        ("events_open", "未办结事件", {"page": "events", "open": True}),
        ("events_overdue", "逾期事件", {"page": "events", "open": True, "overdue": True}),
        ("hours", "本月志愿服务（小时）", {"page": "volunteers"}),
        ("active_volunteers", "本月参与志愿者", {"page": "volunteers"}),
    )),
)
WARN = ("overdue", "never_visited", "events_overdue")


def tile_values(figures: dict) -> dict[str, object]:
    """The number each tile shows, from stats.dashboard()."""
    p = figures["population"]
    values = {k: p[k] for k in ("households", "residents", "registered", "floating",
                                "separated")}
    values.update({f"age_{i}": n for i, (_label, n) in enumerate(p["age_groups"])})
    values["members"] = figures["focus"]["members"]
    values.update(figures["visits"])
    values["events_open"] = figures["events"]["open"]
    values["events_overdue"] = figures["events"]["overdue"]
    values["hours"] = figures["volunteers"]["hours"]
    values["active_volunteers"] = figures["volunteers"]["active_volunteers"]
    return values


class DashboardPage(QWidget):
    """Emits openRequested(target dict) when a figure, a bar or a grid row is clicked."""

    openRequested = Signal(dict)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.unit_id: int | None = None
        self.figures: dict | None = None
        self.loads = 0                      # how often the figures were computed
        self._stale = True
        self._task = None
        self._generation = 0

        self.title = QLabel(self.tr("首页 · 全部"))
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.title.setFont(font)
        self.state = QLabel()
        set_text_color(self.state, "#666666")
        refresh = QPushButton(self.tr("刷新"))
        refresh.clicked.connect(self.reload)
        bar = QHBoxLayout()
        bar.addWidget(self.title)
        bar.addSpacing(12)
        bar.addWidget(self.state, 1)
        bar.addWidget(refresh)

        self.tiles: dict[str, FigureTile] = {}
        tiles = QGridLayout()
        tiles.setHorizontalSpacing(8)
        tiles.setVerticalSpacing(6)
        for row, (group, items) in enumerate(TILES):
            caption = QLabel(self.tr(group))
            set_text_color(caption, CAPTION)
            font = caption.font()
            font.setBold(True)
            caption.setFont(font)
            tiles.addWidget(caption, row, 0, Qt.AlignmentFlag.AlignTop)
            for column, (key, text, target) in enumerate(items, 1):
                tile = FigureTile(self.tr(text), target)
                tile.clicked.connect(lambda t=tile: self._open(t.target))
                self.tiles[key] = tile
                tiles.addWidget(tile, row, column)
        for column in range(1, 6):
            tiles.setColumnStretch(column, 1)

        # The charts go here after the first paint (_build_charts); the space is theirs already.
        self.charts = QWidget()
        self.charts.setMinimumHeight(300)
        self.pyramid = self.focus = self.by_grid = None
        self.shown_groups: list[tuple] = []

        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(tiles)
        column.addSpacing(6)
        column.addWidget(self.charts, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(body)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(scroll, 1)
        follow_changes(self, ctx, self._on_changes)

    def _build_charts(self) -> None:
        if self.pyramid is not None:
            return
        from ui.widgets.bar_chart import BarChart
        from ui.widgets.heatmap_chart import HeatmapChart

        self.pyramid = BarChart(self.tr("人口年龄金字塔（5 岁一组）"))
        self.pyramid.barClicked.connect(self._on_band)
        self.focus = BarChart(self.tr("重点人群（按类别）"))
        self.focus.barClicked.connect(self._on_tag)
        self.by_grid = HeatmapChart(self.tr("近 12 个月各网格走访人次"))
        self.by_grid.rowClicked.connect(self._on_grid)
        charts = QHBoxLayout()
        charts.addWidget(self.pyramid, 3)
        charts.addWidget(self.focus, 2)
        self.pyramid.setMinimumHeight(300)
        self.focus.setMinimumHeight(300)
        column = QVBoxLayout(self.charts)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(charts, 1)
        column.addWidget(self.by_grid)
        # From now on the charts' own minimum (pyramid + heat table) holds, so the heat table
        # is never drawn over the pyramid: the page scrolls instead.
        self.charts.setMinimumHeight(0)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.pyramid is None:
            QTimer.singleShot(0, self, self._build_charts)

    # --- what is shown ---------------------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        if unit_id != self.unit_id or self._stale:
            self.unit_id = unit_id
            self.title.setText(self.tr("首页 · {0}").format(self._unit_name(unit_id)))
            self._reload_when_shown()

    def refresh(self) -> None:
        self.reload()

    def _unit_name(self, unit_id: int | None) -> str:
        """Which unit the figures are for: its name with those above it (全部 for all)."""
        from shequ_desktop.core import tree
        if unit_id is None:
            return self.tr("全部")
        names = tree.path_names(self.ctx.conn, unit_id)
        return " ".join(names[1:] if len(names) > 1 else names)

    def _reload_when_shown(self) -> None:
        self._stale = True
        if self.isVisible():
            QTimer.singleShot(0, self, self._reload_if_stale)

    def _reload_if_stale(self) -> None:
        if self._stale and self.isVisible():
            self.reload()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:       # the first time a little later: start-up paints the window first
            QTimer.singleShot(0 if self.loads else FIRST_DELAY_MS, self, self._reload_if_stale)

    def reload(self, *_args) -> None:
        """Compute the figures off the GUI thread; a newer request supersedes an older one."""
        from db.driver import sqlite3
        from ui import operations

        try:
            db_path(self.ctx.conn)
        except sqlite3.ProgrammingError:       # the window's database was closed (exit)
            return
        self._stale = False
        self._generation += 1
        generation, unit_id = self._generation, self.unit_id
        if self._task is not None and not self._task.done:
            self._task.cancel()
        self.state.setText(self.tr("正在统计…"))
        self._task = operations.query(
            self, self.ctx, lambda ctx, progress: stats.dashboard(
                ctx.conn, unit_id, progress=progress, access=ctx.access),
            label=self.tr("正在统计首页数据…"),
            on_success=lambda figures: self._show(figures, generation),
            on_failure=lambda exc: self._failed(exc, generation))

    def _failed(self, exc: BaseException, generation: int) -> None:
        from shequ_desktop.core.progress import Cancelled
        from ui import background

        if generation != self._generation or isinstance(exc, Cancelled):
            return
        self.state.setText(self.tr("统计失败"))
        background.show_error(self, exc)

    def _show(self, figures: dict, generation: int) -> None:
        if generation != self._generation:
            return                             # the unit changed meanwhile
        self.figures = figures
        self.loads += 1
        self._build_charts()
        for key, value in tile_values(figures).items():
            if key in self.tiles:
                self.tiles[key].set_value(value, warn=key in WARN)
        pyramid = list(reversed(figures["population"]["pyramid"]))
        self.pyramid.set_data([band for band, _m, _f in pyramid],
                              [[m for _b, m, _f in pyramid], [f for _b, _m, f in pyramid]],
                              names=[self.tr("男"), self.tr("女")], mirrored=True)
        # Groups with members only: the catalogue has 27 groups and most communities keep few.
        self.shown_groups = groups = [g for g in figures["focus"]["groups"] if g[2]]
        self.focus.set_data([name for _t, name, _n in groups], [[n for _t, _name, n in groups]])
        grids = figures["visits_by_grid"]
        self.by_grid.set_data([name for _g, name, _c in grids["grids"]], grids["months"],
                              [counts for _g, _name, counts in grids["grids"]])
        self.state.setText(self.tr("统计日期：{0}").format(figures["on"]))

    # --- clicks ----------------------------------------------------------------------------------
    def _open(self, target: dict | None) -> None:
        if target is not None:
            self.openRequested.emit(dict(target))

    def _on_band(self, index: int) -> None:
        bands = len(self.pyramid.labels)
        band = bands - 1 - index                      # the chart shows the oldest on top
        low = band * stats.BAND
        high = None if low >= stats.TOP_BAND else low + stats.BAND - 1
        self._open({"page": "residents", "age_min": low, "age_max": high})

    def _on_tag(self, index: int) -> None:
        if self.figures:
            tag_id = self.shown_groups[index][0]
            self._open({"page": "residents", "tag_id": tag_id})

    def _on_grid(self, index: int) -> None:
        if self.figures:
            grid_id = self.figures["visits_by_grid"]["grids"][index][0]
            self._open({"page": "visits", "mode": "all", "unit_id": grid_id})

    def _on_changes(self, changes: list[Change]) -> None:
        if any(c.entity in RELEVANT for c in changes):
            self._reload_when_shown()
