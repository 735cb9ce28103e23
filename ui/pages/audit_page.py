"""The audit page (审计日志): who did what and when, filtered by action, person, dates or one
record; and a check that the log has not been tampered with (its hash chain)."""
from __future__ import annotations

import json

from PySide6.QtCore import QDate, QModelIndex, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import audit, record_names
from shequ_desktop.core.access import ADMIN
from shequ_desktop.core.context import Context
from shequ_desktop.core.fields import ENTITY_LABELS
from ui import operations
from ui.models.row_list import RowListModel
from ui.table_setup import setup_table

COLUMNS = (("at", 10), ("actor", 5), ("action", 5), ("record", 8), ("summary", 20))
LIMIT = 2000


class AuditTableModel(RowListModel):
    headers = ("时间", "操作人", "操作", "对象", "摘要")
    conn = None                 # set by the page: names are looked up there
    names: dict = {}

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        key = COLUMNS[index.column()][0]
        if key == "at":
            return audit.local_time(row["at"])
        if key == "action":
            return audit.ACTIONS.get(row["action"], row["action"])
        if key == "record":
            if not row["entity"]:
                return ""
            label = ENTITY_LABELS.get(row["entity"], row["entity"])
            if row["entity_id"] is None:
                return label
            name = self.names.get((row["entity"], row["entity_id"]))
            if role == Qt.ItemDataRole.ToolTipRole:
                return f"{label} {name or ''}（编号 {row['entity_id']}）"
            return f"{label} {name}" if name else f"{label} {row['entity_id']}"
        return row[key]

    def set_rows(self, rows: list[dict]) -> None:
        """The rows, with the names of the records they concern (居民 王芳, not 居民 1808)."""
        self.names = record_names.names(self.conn, [(r["entity"], r["entity_id"])
                                                    for r in rows]) if self.conn else {}
        super().set_rows(rows)


class AuditPage(QWidget):
    """For administrators (and the unrestricted command-line/test context) only: the log holds
    every grid's records."""

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.record: tuple[str, int] | None = None
        self.model = AuditTableModel(self)
        self.model.conn = ctx.conn
        self.allowed = ctx.access is None or ctx.access.role == ADMIN
        if not self.allowed:
            QVBoxLayout(self).addWidget(QLabel(self.tr("只有管理员可以查看审计日志。")))
            return

        self.action = QComboBox()
        self.action.addItem(self.tr("全部操作"), None)
        for key, label in audit.ACTIONS.items():
            self.action.addItem(label, key)
        self.actor = QComboBox()
        today = QDate.currentDate()
        self.since = QDateEdit(today.addMonths(-1))
        self.until = QDateEdit(today)
        for edit in (self.since, self.until):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
        self.record_label = QLabel()
        self.clear_record = QPushButton(self.tr("显示全部记录"))
        self.clear_record.clicked.connect(lambda: self.show_record(None, None))
        self.verify_button = QPushButton(self.tr("校验日志完整性"))
        self.verify_button.setToolTip(self.tr("检查日志是否被修改或删除过（逐条核对校验值）"))
        self.verify_button.clicked.connect(self.verify)
        self.count_label = QLabel()
        for signal in (self.action.currentIndexChanged, self.actor.currentIndexChanged,
                       self.since.dateChanged, self.until.dateChanged):
            signal.connect(self.reload)

        bar = QHBoxLayout()
        for widget in (QLabel(self.tr("操作：")), self.action, QLabel(self.tr("操作人：")),
                       self.actor, QLabel(self.tr("日期：")), self.since, QLabel("—"),
                       self.until, self.record_label, self.clear_record):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.verify_button)

        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [chars for _, chars in COLUMNS], stretch=len(COLUMNS) - 1)
        self.view.setSortingEnabled(False)
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setPlaceholderText(self.tr("选中一条记录查看修改前后的内容"))
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.view)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(splitter, 1)
        self._fill_actors()
        self.show_record(None, None)

    def _fill_actors(self) -> None:
        """The 操作人 choices, read off the GUI thread (DISTINCT over a street's whole log)."""
        operations.latest(self, "actors", self.ctx, lambda ctx: audit.actors(ctx.conn),
                          self._show_actors)

    def _show_actors(self, names: list[str]) -> None:
        current = self.actor.currentData()
        blocker = self.actor.blockSignals(True)
        self.actor.clear()
        self.actor.addItem(self.tr("全部"), None)
        for name in names:
            self.actor.addItem(name, name)
        self.actor.setCurrentIndex(max(0, self.actor.findData(current)))
        self.actor.blockSignals(blocker)

    def show_record(self, entity: str | None, entity_id: int | None) -> None:
        """The history of one record (all dates), or everything again with None."""
        if not self.allowed:
            return
        self.record = (entity, entity_id) if entity else None
        label = ENTITY_LABELS.get(entity, entity) if entity else ""
        self.record_label.setText(self.tr("对象：{0} {1}").format(label, entity_id)
                                  if entity else "")
        self.clear_record.setVisible(entity is not None)
        for edit in (self.since, self.until):
            edit.setEnabled(entity is None)
        self.reload()

    def refresh(self) -> None:
        if not self.allowed:
            return
        self._fill_actors()
        self.reload()

    def reload(self) -> None:
        entity, entity_id = self.record or (None, None)
        dates = {} if self.record else {"since": self.since.date().toPython(),
                                        "until": self.until.date().toPython()}
        rows = audit.entries(self.ctx.conn, action=self.action.currentData(),
                             actor=self.actor.currentData(), entity=entity,
                             entity_id=entity_id, limit=LIMIT, **dates)
        self.model.set_rows(rows)
        # Short, so that it fits beside the filters at 1024 px; the limit is in the tooltip.
        full = len(rows) == LIMIT
        self.count_label.setText((self.tr("最近 {0} 条") if full else self.tr("共 {0} 条"))
                                 .format(f"{len(rows):,}"))
        self.count_label.setToolTip(self.tr("只显示最近 {0} 条；缩小日期范围或选择操作、操作人"
                                            "可查看其余的记录").format(f"{LIMIT:,}") if full else "")
        self.detail.clear()

    def _show_detail(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current)
        if row is None:
            self.detail.clear()
            return
        lines = [f"{audit.local_time(row['at'])}  {row['actor']}  {row['summary']}"]
        detail = json.loads(row["detail"]) if row["detail"] else {}
        entity = row["entity"] or ""
        for key, value in detail.items():
            name = audit.field_label(entity, key)
            if isinstance(value, list) and len(value) == 2 and row["action"] in ("update",
                                                                                 "status"):
                lines.append(f"{name}：{audit.shown_value(entity, key, value[0])} → "
                             f"{audit.shown_value(entity, key, value[1])}")
            else:
                lines.append(f"{name}：{audit.shown_value(entity, key, value)}")
        self.detail.setPlainText("\n".join(lines))

    def verify(self) -> None:
        bad = audit.broken_links(self.ctx.conn)
        total = audit.count(self.ctx.conn)
        if not bad:
            QMessageBox.information(self, self.tr("日志完整"), self.tr(
                "已核对全部 {0} 条记录，未发现修改或删除。").format(total))
            return
        lines = "\n".join(self.tr("第 {0} 条：{1}").format(i, why) for i, why in bad[:10])
        QMessageBox.critical(self, self.tr("日志被篡改"), self.tr(
            "发现 {0} 处不一致，日志可能被人修改或删除过：\n{1}").format(len(bad), lines))
