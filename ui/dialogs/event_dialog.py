"""The questions of the events page: a new event (上报), the resident an existing event
concerns (关联居民), the deadline on 受理, and a text that an action needs (办结 resolution,
退回 reason, a note).

Each dialog has `answer()` and a classmethod `ask(...)` that shows it and returns the answer,
or None when the user cancels. Tests drive the dialogs or monkeypatch `ask`.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from db.driver import sqlite3
from shequ_desktop.casework import events
from shequ_desktop.core import tree, workdays
from shequ_desktop.core.access import Access
from ui.dialogs.form_dialog import FormDialog
from ui.widgets.resident_picker import ResidentPicker

WEEKDAYS = "一二三四五六日"
WARNING_STYLE = "color: #b3261e;"


def _text_edit(placeholder: str, lines: int = 4) -> QPlainTextEdit:
    edit = QPlainTextEdit()
    edit.setPlaceholderText(placeholder)
    edit.setTabChangesFocus(True)
    edit.setFixedHeight(edit.fontMetrics().lineSpacing() * lines + 14)
    return edit


class EventDialog(FormDialog):
    """上报事件: where, category, description, location, when found, who reports."""

    def __init__(self, conn: sqlite3.Connection, unit_id: int | None, user: str,
                 parent: QWidget | None = None, access: Access | None = None):
        super().__init__("", parent, min_width=420)
        self.setWindowTitle(self.tr("上报事件"))
        self.unit = QComboBox()
        self.unit.setMaxVisibleItems(20)
        for uid, label in events.unit_choices(conn, unit_id, access):
            self.unit.addItem(label, uid)
        self.unit.setCurrentIndex(self._unit_index(conn, unit_id))
        self.unit.setPlaceholderText(self.tr("请选择网格"))
        self.category = QComboBox()
        for c in events.categories(conn):
            self.category.addItem(c["name"], c["id"])
        self.category.setCurrentIndex(-1)
        self.category.setPlaceholderText(self.tr("请选择"))
        self.description = _text_edit(self.tr("发生了什么、涉及哪些人、居民的诉求"))
        self.location = QLineEdit()
        self.location.setPlaceholderText(self.tr("如：3号楼2单元楼道、小区东门"))
        self.found_at = QDateEdit(QDate.currentDate())
        self.found_at.setCalendarPopup(True)
        self.found_at.setDisplayFormat("yyyy-MM-dd")
        self.found_at.setMaximumDate(QDate.currentDate())
        self.reporter = QLineEdit(user)
        # 涉及居民: optional; found among the residents of the chosen grid
        self.resident = ResidentPicker(conn, access)
        self.resident.set_unit(self.unit.currentData())
        self.form.addRow(self.tr("所属网格："), self.unit)
        self.form.addRow(self.tr("事件类别："), self.category)
        self.form.addRow(self.tr("事件描述："), self.description)
        self.form.addRow(self.tr("涉及居民："), self.resident)
        self.form.addRow(self.tr("地点："), self.location)
        self.form.addRow(self.tr("发现日期："), self.found_at)
        self.form.addRow(self.tr("上报人："), self.reporter)
        self.unit.currentIndexChanged.connect(
            lambda *_: self.resident.set_unit(self.unit.currentData()))
        for signal in (self.unit.currentIndexChanged, self.category.currentIndexChanged,
                       self.description.textChanged, self.reporter.textChanged):
            signal.connect(self._update_ok)
        self._finish()

    def _unit_index(self, conn: sqlite3.Connection, unit_id: int | None) -> int:
        """The unit itself, else the grid above it; nothing for a community or street."""
        if unit_id is None:
            return -1
        index = self.unit.findData(unit_id)
        if index >= 0:
            return index
        for uid in tree.ancestors(conn, unit_id):
            index = self.unit.findData(uid)
            if index >= 0:
                return index
        return -1

    def _complete(self) -> bool:
        return (self.unit.currentIndex() >= 0 and self.category.currentIndex() >= 0
                and bool(self.description.toPlainText().strip())
                and bool(self.reporter.text().strip()))

    def answer(self) -> dict:
        return {"unit_id": self.unit.currentData(), "category_id": self.category.currentData(),
                "description": self.description.toPlainText(),
                "location": self.location.text().strip() or None,
                "found_at": self.found_at.date().toString(Qt.DateFormat.ISODate),
                "reporter": self.reporter.text().strip(),
                "resident_id": self.resident.resident_id()}

    @classmethod
    def ask(cls, parent: QWidget | None, conn: sqlite3.Connection, unit_id: int | None,
            user: str, access: Access | None = None) -> dict | None:
        """`access`: a 网格员 files events only in their grids."""
        return cls._run(cls(conn, unit_id, user, parent, access))


class LinkDialog(FormDialog):
    """关联居民: the resident an existing event concerns, found among the residents of its
    grid; 解除关联 when one is set. The answer is {"resident_id": id, or None to unlink}."""

    def __init__(self, conn: sqlite3.Connection, event: dict, access: Access | None = None,
                 parent: QWidget | None = None):
        super().__init__("", parent, min_width=460)
        self.setWindowTitle(self.tr("关联居民"))
        self.current = event["resident_id"]
        self.unlinking = False
        about = QLabel(self.tr("{0}：{1}").format(event["category"], event["description"]))
        about.setWordWrap(True)
        self.resident = ResidentPicker(conn, access, self.tr("请查找居民"))
        self.resident.set_unit(event["unit_id"])
        self.form.addRow(about)
        self.form.addRow(self.tr("当前关联："), QLabel(event["resident"] or self.tr("未关联居民")))
        self.form.addRow(self.tr("关联居民："), self.resident)
        self.unlink_button = None
        if self.current is not None:
            self.unlink_button = self.buttons.addButton(
                self.tr("解除关联"), QDialogButtonBox.ButtonRole.DestructiveRole)
            self.unlink_button.clicked.connect(self.unlink)
        self.resident.changed.connect(self._update_ok)
        self._finish()

    def unlink(self) -> None:
        self.unlinking = True
        self.accept()

    def _complete(self) -> bool:
        return self.resident.resident_id() not in (None, self.current)

    def answer(self) -> dict:
        return {"resident_id": None if self.unlinking else self.resident.resident_id()}

    @classmethod
    def ask(cls, parent: QWidget | None, conn: sqlite3.Connection, event: dict,
            access: Access | None = None) -> dict | None:
        """`event`: a row of events.list_events."""
        return cls._run(cls(conn, event, access, parent))


class AcceptDialog(FormDialog):
    """受理: the deadline in working days, with the date it falls on, and a note."""

    def __init__(self, description: str, today: dt.date | None = None,
                 parent: QWidget | None = None):
        super().__init__("", parent, min_width=420)
        self.setWindowTitle(self.tr("受理事件"))
        self.today = today or dt.date.today()
        about = QLabel(description)
        about.setWordWrap(True)
        self.days = QSpinBox()
        self.days.setRange(1, events.MAX_DEADLINE_DAYS)
        self.days.setValue(events.DEFAULT_DEADLINE_DAYS)
        self.days.setSuffix(self.tr(" 个工作日"))
        self.deadline = QLabel()
        self.warning = QLabel()
        self.warning.setWordWrap(True)
        self.warning.setStyleSheet(WARNING_STYLE)
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("如：转物业、交城管（可不填）"))
        self.form.addRow(about)
        self.form.addRow(self.tr("办理期限："), self.days)
        self.form.addRow(self.tr("办结期限："), self.deadline)
        self.form.addRow(self.warning)
        self.form.addRow(self.tr("受理意见："), self.note)
        self.days.valueChanged.connect(self._show_deadline)
        self._show_deadline()
        self._finish()

    def _show_deadline(self, *_args) -> None:
        deadline = workdays.add_workdays(self.today, self.days.value())
        years = workdays.uncovered_years(self.today, deadline)
        self.deadline.setText(self.tr("{0}（星期{1}）").format(
            deadline.isoformat(), WEEKDAYS[deadline.weekday()])
            + ("" if years else self.tr("，已计入节假日和调休")))
        self.warning.setText(self.tr("{0}年节假日安排尚未公布，期限按周一至周五计算").format(
            "、".join(str(y) for y in years)) if years else "")
        self.warning.setVisible(bool(years))

    def answer(self) -> tuple[int, str | None]:
        return self.days.value(), self.note.text().strip() or None

    @classmethod
    def ask(cls, parent: QWidget | None, description: str) -> tuple[int, str | None] | None:
        return cls._run(cls(description, parent=parent))


class TextDialog(FormDialog):
    """One text: 办结 resolution, 退回 reason, a note. OK waits for text when it is required."""

    def __init__(self, title: str, prompt: str, required: bool = True,
                 placeholder: str = "", parent: QWidget | None = None):
        super().__init__("", parent, min_width=420)
        self.setWindowTitle(title)
        self.required = required
        label = QLabel(prompt)
        label.setWordWrap(True)
        self.text = _text_edit(placeholder)
        self.form.addRow(label)
        self.form.addRow(self.text)
        self.text.textChanged.connect(self._update_ok)
        self._finish()

    def _complete(self) -> bool:
        return not self.required or bool(self.text.toPlainText().strip())

    def answer(self) -> str:
        return self.text.toPlainText().strip()

    @classmethod
    def ask(cls, parent: QWidget | None, title: str, prompt: str, required: bool = True,
            placeholder: str = "") -> str | None:
        return cls._run(cls(title, prompt, required, placeholder, parent))
