"""The events page (事件): filters, a table of events with overdue ones highlighted, the actions
of the closed loop, and the selected event's log.

Each action asks its question with ui.dialogs.event_dialog, then calls one service of
shequ_desktop.casework.events through the main window's Context; a refusal is shown as a warning. The
page re-reads its events when a committed change touches events, their log or categories; a
change of only the resident an event concerns (关联居民) re-reads just that event's row.
"""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QAction, QBrush
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework import events
from shequ_desktop.community import microgrids
from shequ_desktop.core.context import Change, Context
from ui.dialogs.event_dialog import AcceptDialog, EventDialog, LinkDialog, TextDialog
from ui.follow import follow_changes, set_quietly
from ui.models.row_list import (
    DONE_INK,
    ID_ROLE,
    OVERDUE_BACKGROUND,
    OVERDUE_INK,
    RowListModel,
)
from ui.pages.resident_filters import microgrid_combo, offer_microgrids
from ui.refusal import attempt
from ui.table_setup import setup_table

# column key, width in characters (headers: EventTableModel.headers)
COLUMNS = (("category", 5), ("description", 20), ("resident", 4), ("grid", 7), ("found_at", 6),
           ("status", 4), ("deadline", 6), ("days", 7))
# Which action each status allows (the buttons follow; the services refuse the rest anyway).
NEXT_ACTION = {events.REPORTED: "accept", events.ACCEPTED: "start",
               events.IN_PROGRESS: "close", events.CLOSED: "archive"}
SENDS_BACK = (events.ACCEPTED, events.IN_PROGRESS, events.CLOSED)
# A committed change made of only these is applied to the rows it names (关联居民), not by
# re-reading the list: the filters do not look at the resident (the 微网格 chooser does: with
# one chosen, the list is read again).
ROW_ONLY = {("events", "resident_id"), ("event_log", None)}


class EventTableModel(RowListModel):
    """A plain list of event rows (events.list_events); a community has hundreds to a few
    thousand, so the whole list is held and sorted in Python."""

    headers = ("类别", "描述", "涉及居民", "网格", "发现时间", "状态", "期限", "已用/逾期天数")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        key = COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.days_text(row) if key == "days" else _one_line(row[key])
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "description":
                return row["description"]
            if key == "grid":
                return row["unit_path"]
            return None
        if role == Qt.ItemDataRole.BackgroundRole and row["overdue"]:
            return QBrush(OVERDUE_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if row["overdue"] and key in ("days", "deadline"):
                return QBrush(OVERDUE_INK)
            if row["status"] in events.DONE_STATUSES:
                return QBrush(DONE_INK)
            return None
        if role == Qt.ItemDataRole.FontRole and row["overdue"] and key == "days":
            return self._bold
        if role == ID_ROLE:
            return row["id"]
        return None

    def days_text(self, row: dict) -> str:
        if row["status"] in events.DONE_STATUSES:
            text = self.tr("用时 {0} 天").format(row["days_open"])
            if row["overdue_days"]:
                text += self.tr("（超期 {0} 天）").format(row["overdue_days"])
            return text
        if row["overdue"]:
            return self.tr("逾期 {0} 天").format(row["overdue_days"])
        return self.tr("已用 {0} 天").format(row["days_open"])

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        key = COLUMNS[column][0]

        def sort_key(row: dict):
            if key == "days":      # overdue by days overdue, then open by days, then closed
                return (row["status"] in events.DONE_STATUSES, not row["overdue"],
                        -row["overdue_days"] if row["overdue"] else -row["days_open"])
            return (row[key] is None, row[key] or "")

        self.layoutAboutToBeChanged.emit()
        old = {id(r): i for i, r in enumerate(self.rows)}
        persistent = self.persistentIndexList()
        self.rows.sort(key=sort_key, reverse=order == Qt.SortOrder.DescendingOrder)
        new = {id(r): i for i, r in enumerate(self.rows)}
        by_old = {i: new[k] for k, i in old.items()}
        self.changePersistentIndexList(
            persistent, [self.index(by_old[p.row()], p.column()) for p in persistent])
        self.layoutChanged.emit()



def _one_line(value) -> str:
    return "" if value is None else " ".join(str(value).split())


class EventsPage(QWidget):
    """Events of the grid unit chosen in the tree (and below it), with the loop's actions."""

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.unit_id: int | None = None
        self.reloads = 0                         # how often the page re-read the database
        self.model = EventTableModel(self)

        title = QLabel(self.tr("事件"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        title.setFont(font)
        self.status_filter = QComboBox()
        self.status_filter.addItem(self.tr("全部状态"), None)
        self.status_filter.addItem(self.tr("未办结"), events.OPEN_STATUSES)
        for status in events.STATUSES:
            self.status_filter.addItem(status, status)
        self.category_filter = QComboBox()
        self._fill_categories()
        self.overdue_only = QCheckBox(self.tr("仅逾期"))
        self.microgrid = microgrid_combo()      # the micro-grids of the tree's grid (set_unit)
        self.count_label = QLabel()
        for signal in (self.status_filter.currentIndexChanged,
                       self.category_filter.currentIndexChanged, self.overdue_only.toggled,
                       self.microgrid.currentIndexChanged):
            signal.connect(self.reload)
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel(self.tr("状态：")))
        bar.addWidget(self.status_filter)
        bar.addWidget(QLabel(self.tr("类别：")))
        bar.addWidget(self.category_filter)
        bar.addWidget(QLabel(self.tr("微网格：")))
        bar.addWidget(self.microgrid)
        bar.addWidget(self.overdue_only)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for key, text, slot in (
                ("report", self.tr("上报事件"), self.report),
                ("accept", self.tr("受理"), self.accept_event),
                ("start", self.tr("处置"), self.start_event),
                ("close", self.tr("办结"), self.close_event),
                ("archive", self.tr("归档"), self.archive_event),
                ("send_back", self.tr("退回"), self.send_back),
                ("note", self.tr("添加备注"), self.add_note),
                ("link", self.tr("关联居民…"), self.link_resident)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.buttons[key] = button
            actions.addWidget(button)
            if key == "report":
                actions.addSpacing(16)
        actions.addStretch(1)

        self.view = QTableView()
        self.view.setModel(self.model)
        self._setup_view()
        self.view.selectionModel().currentRowChanged.connect(self._on_current)
        # The context menu offers what the buttons do for the event under the mouse.
        self.link_action = QAction(self.tr("关联居民…"), self)
        self.link_action.triggered.connect(self.link_resident)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._menu)

        self.log_box = QGroupBox(self.tr("处理记录"))
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.log_table = QTableWidget(0, 5)
        self.log_table.setHorizontalHeaderLabels([self.tr("时间"), self.tr("操作人"),
                                                  self.tr("操作"), self.tr("状态"),
                                                  self.tr("说明")])
        self._setup_log()
        box = QVBoxLayout(self.log_box)
        box.addWidget(self.summary)
        box.addWidget(self.log_table, 1)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.log_box)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addLayout(actions)
        layout.addWidget(split, 1)

        follow_changes(self, ctx, self._on_changes)
        self.reload()

    def _setup_view(self) -> None:
        setup_table(self.view, [chars for _, chars in COLUMNS], stretch=1)   # 描述 stretches

    def _setup_log(self) -> None:
        table = self.log_table
        table.verticalHeader().setVisible(False)
        table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setWordWrap(False)
        table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 8)
        header = table.horizontalHeader()
        metrics = self.fontMetrics()
        for column, sample in enumerate(("2026-01-01 00:00:00", "汉汉汉汉汉", "汉汉汉",
                                         "处置中 → 办结")):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 18)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)

    # --- what is shown ---------------------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        """Show the events of a grid unit's subtree (None: all). The 微网格 chooser offers the
        micro-grids of the unit's grid and starts again at 「全部微网格」."""
        if unit_id != self.unit_id:
            self.unit_id = unit_id
            self._offer_microgrids()
            self.reload()

    def _offer_microgrids(self) -> None:
        offer_microgrids(self.microgrid, microgrids.of_grid(self.ctx.conn, self.unit_id,
                                                            self.ctx.access),
                         self.tr("按微网格筛选本网格的事件：指派给它的，或涉及其居民的"))

    def _fill_categories(self) -> None:
        keep = self.category_filter.currentData()
        blocker = self.category_filter.blockSignals(True)
        self.category_filter.clear()
        self.category_filter.addItem(self.tr("全部类别"), None)
        for c in events.categories(self.ctx.conn, include_inactive=True):
            label = c["name"] if c["active"] else self.tr("{0}（停用）").format(c["name"])
            self.category_filter.addItem(label, c["id"])
        self.category_filter.setCurrentIndex(max(0, self.category_filter.findData(keep)))
        self.category_filter.blockSignals(blocker)

    def open_target(self, target: dict) -> None:
        """Show the events a 首页 figure stands for: all, open, or overdue."""
        set_quietly(self.status_filter, None)
        if target.get("open"):
            self.status_filter.setCurrentIndex(1)        # 未办结
        blocker = self.overdue_only.blockSignals(True)
        self.overdue_only.setChecked(bool(target.get("overdue")))
        self.overdue_only.blockSignals(blocker)
        self.reload()

    def reload(self, *_args) -> None:
        """Re-read the events for the filters, keeping the selected event selected."""
        keep = self.current_event_id()
        rows = events.list_events(
            self.ctx.conn, status=self.status_filter.currentData(),
            category_id=self.category_filter.currentData(), unit_id=self.unit_id,
            overdue=True if self.overdue_only.isChecked() else None, access=self.ctx.access,
            microgrid_id=self.microgrid.currentData())
        self.reloads += 1
        self.model.set_rows(rows)
        header = self.view.horizontalHeader()
        if header.sortIndicatorSection() >= 0:
            self.model.sort(header.sortIndicatorSection(), header.sortIndicatorOrder())
        overdue = sum(1 for r in rows if r["overdue"])
        text = self.tr("共 {0} 件").format(len(rows))
        if overdue:
            text += self.tr("，逾期 {0} 件").format(overdue)
        self.count_label.setText(text)
        self.select_event(keep)

    def refresh(self) -> None:
        """F5: categories and events again (days open change with the date too)."""
        self._fill_categories()
        self.reload()

    def _on_changes(self, changes: list[Change]) -> None:
        touched = {c.entity for c in changes}
        if "event_categories" in touched:
            self._fill_categories()
        chosen = self.microgrid.currentData()
        if "microgrids" in touched:         # offered anew, the chosen one kept while it exists
            self._offer_microgrids()
            set_quietly(self.microgrid, chosen)
            if self.microgrid.currentData() != chosen:
                self.reload()
                return
        if chosen is not None and touched & {"microgrid_households", "households", "residents"}:
            self.reload()                   # who lives in the micro-grid may have changed
            return
        if not touched & set(events.TABLES):
            return
        if chosen is None and all((c.entity, c.field) in ROW_ONLY
                                  and c.action in ("update", "create") for c in changes):
            self._update_rows({c.id if c.entity == "events" else c.new.get("event_id")
                               for c in changes})
        else:
            self.reload()

    def _update_rows(self, event_ids: set[int]) -> None:
        """Re-read the named events' rows in place (an event not listed stays unlisted)."""
        current = self.current_event_id()
        for event_id in event_ids:
            row = self.model.row_of(event_id)
            fresh = events.get_event(self.ctx.conn, event_id) if row is not None else None
            if fresh is None:
                continue
            self.model.rows[row] = fresh
            self.model.dataChanged.emit(self.model.index(row, 0),
                                        self.model.index(row, len(COLUMNS) - 1))
            if event_id == current:
                self._show_event(fresh)

    # --- selection --------------------------------------------------------------------------------
    def current_event_id(self) -> int | None:
        index = self.view.selectionModel().currentIndex()
        return self.model.id_at(index.row()) if index.isValid() else None

    def current_event(self) -> dict | None:
        index = self.view.selectionModel().currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def select_event(self, event_id: int | None) -> bool:
        row = None if event_id is None else self.model.row_of(event_id)
        selection = self.view.selectionModel()
        if row is None:
            selection.clear()
            self._show_event(None)
            return False
        index = self.model.index(row, 0)
        selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect
                                  | QItemSelectionModel.SelectionFlag.Rows)
        self.view.scrollTo(index)
        self._show_event(self.model.rows[row])
        return True

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        self._show_event(self.model.rows[current.row()] if current.isValid() else None)

    def _show_event(self, row: dict | None) -> None:
        status = row["status"] if row else None
        for key in ("accept", "start", "close", "archive"):
            self.buttons[key].setEnabled(NEXT_ACTION.get(status) == key)
        self.buttons["send_back"].setEnabled(status in SENDS_BACK)
        self.buttons["note"].setEnabled(row is not None)
        may_link = (status in events.OPEN_STATUSES
                    and events.may_change(self.ctx.conn, self.ctx.access, row))
        self.buttons["link"].setEnabled(may_link)
        self.link_action.setEnabled(may_link)
        self.log_table.setRowCount(0)
        if row is None:
            self.summary.setText(self.tr("选择一件事件，这里显示它的处理经过。"))
            return
        self.summary.setText(self._summary(row))
        lines = events.log(self.ctx.conn, row["id"])
        self.log_table.setRowCount(len(lines))
        for i, line in enumerate(lines):
            if line["from_status"] == line["to_status"] or line["from_status"] is None:
                change = line["to_status"] or ""
            else:
                change = f"{line['from_status']} → {line['to_status']}"
            for column, text in enumerate((line["at"], line["user"], line["action"], change,
                                           _one_line(line["note"]))):
                item = QTableWidgetItem(text)
                if column == 4:
                    item.setToolTip(line["note"] or "")
                self.log_table.setItem(i, column, item)
        self.log_table.scrollToBottom()

    def _summary(self, row: dict) -> str:
        def line(*facts) -> str:
            return "　".join(f for f in facts if f)
        lines = [self.tr("{0}：{1}").format(row["category"], row["description"]),
                 line(self.tr("地点：{0}").format(row["location"]) if row["location"] else "",
                      self.tr("位置：{0}").format(row["unit_path"]),
                      self.tr("上报人：{0}").format(row["reporter"])),
                 line(self.tr("发现：{0}").format(row["found_at"]),
                      self.tr("受理：{0}").format(row["accepted_at"]) if row["accepted_at"] else "",
                      self.tr("期限：{0}（{1} 个工作日）").format(row["deadline"],
                                                            row["deadline_days"])
                      if row["deadline"] else "",
                      self.tr("办结：{0}").format(row["closed_at"]) if row["closed_at"] else "")]
        if row["resident"]:
            lines.append(self.tr("涉及居民：{0}").format(row["resident"]))
        if row["resolution"]:
            lines.append(self.tr("处置结果：{0}").format(row["resolution"]))
        return "\n".join(lines)

    # --- actions ----------------------------------------------------------------------------------
    def _run(self, title: str, action: Callable[[], object]) -> bool:
        return attempt(self, title, action)

    def report(self) -> None:
        values = EventDialog.ask(self, self.ctx.conn, self.unit_id, self.ctx.user,
                                 access=self.ctx.access)
        if values is None:
            return
        result = []
        if self._run(self.tr("上报事件"),
                     lambda: result.append(events.report_event(self.ctx, **values))):
            self.select_event(result[0].id)

    def _menu(self, pos) -> None:
        index = self.view.indexAt(pos)
        if index.isValid():
            self.context_menu().exec(self.view.viewport().mapToGlobal(pos))

    def context_menu(self) -> QMenu:
        """The menu of the current event (the row under the mouse is current by then)."""
        menu = QMenu(self)
        menu.addAction(self.link_action)
        return menu

    def link_resident(self) -> None:
        """关联居民: link the chosen event to the resident it concerns, or unlink it."""
        row = self.current_event()
        if row is None:
            return
        answer = LinkDialog.ask(self, self.ctx.conn, row, access=self.ctx.access)
        if answer is not None:
            self._run(self.tr("关联居民"), lambda: events.set_resident(
                self.ctx, row["id"], answer["resident_id"]))

    def accept_event(self) -> None:
        row = self.current_event()
        if row is None:
            return
        answer = AcceptDialog.ask(self, row["description"])
        if answer is not None:
            days, note = answer
            self._run(self.tr("受理"), lambda: events.accept(self.ctx, row["id"], days, note))

    def start_event(self) -> None:
        row = self.current_event()
        if row is None:
            return
        note = TextDialog.ask(self, self.tr("处置"), self.tr("开始处置，说明由谁、如何处置："),
                              required=False, placeholder=self.tr("如：已通知物业，现场清理"))
        if note is not None:
            self._run(self.tr("处置"), lambda: events.start(self.ctx, row["id"], note))

    def close_event(self) -> None:
        row = self.current_event()
        if row is None:
            return
        resolution = TextDialog.ask(self, self.tr("办结"), self.tr("填写处置结果（必填）："),
                                    placeholder=self.tr("如：杂物已清理，通道畅通，居民满意"))
        if resolution is not None:
            self._run(self.tr("办结"), lambda: events.close(self.ctx, row["id"], resolution))

    def archive_event(self) -> None:
        row = self.current_event()
        if row is None:
            return
        self._run(self.tr("归档"), lambda: events.archive(self.ctx, row["id"]))

    def send_back(self) -> None:
        row = self.current_event()
        if row is None:
            return
        reason = TextDialog.ask(self, self.tr("退回"), self.tr(
            "退回到上一步（当前“{0}”），填写退回原因（必填）：").format(row["status"]))
        if reason is not None:
            self._run(self.tr("退回"), lambda: events.send_back(self.ctx, row["id"], reason))

    def add_note(self) -> None:
        row = self.current_event()
        if row is None:
            return
        note = TextDialog.ask(self, self.tr("添加备注"), self.tr("备注（不改变事件状态）："))
        if note is not None:
            self._run(self.tr("添加备注"), lambda: events.add_note(self.ctx, row["id"], note))
