"""Dialogs of the 重点人群 page (issue 21): a group (name, visit interval, its own fields), a
member's group fields, and one 一老一小 service for the chosen members.

Each has `ask(...)` returning the values (or None when cancelled); tests drive the dialogs
themselves or monkeypatch `ask`.
"""
from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.population.focus_groups import MAX_VALUE
from ui.dialogs.move_dialogs import date_edit
from ui.dialogs.visit_dialog import names_text
from ui.pages.community_base import AskDialog, ok_cancel


class GroupDialog(AskDialog):
    """新增重点人群 or 附加字段 of one: the name (fixed when editing), the visit interval and
    the field labels, one a line."""

    def __init__(self, name: str = "", interval: int | None = None, fields: list[str] = (),
                 editing: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("重点人群附加字段") if editing else self.tr("新增重点人群"))
        self.setMinimumWidth(380)
        self.name = QLineEdit(name)
        self.name.setMaxLength(30)
        self.name.setReadOnly(editing)
        self.interval = QSpinBox()
        self.interval.setRange(0, 3650)
        self.interval.setSpecialValueText(self.tr("不需走访"))
        self.interval.setSuffix(self.tr(" 天"))
        self.interval.setValue(interval or 0)
        self.interval.setEnabled(not editing)
        self.fields = QPlainTextEdit("\n".join(fields))
        self.fields.setPlaceholderText(self.tr("每行一个，如：\n残疾类型\n残疾等级"))
        self.fields.setTabChangesFocus(True)
        form = QFormLayout()
        form.addRow(self.tr("名称："), self.name)
        form.addRow(self.tr("走访周期："), self.interval)
        form.addRow(self.tr("附加字段："), self.fields)
        self.finish(form, self.name)

    def answer(self) -> dict:
        return {"name": self.name.text().strip(),
                "visit_interval_days": self.interval.value() or None,
                "fields": [line for line in self.fields.toPlainText().splitlines()
                           if line.strip()]}



class MemberFieldsDialog(AskDialog):
    """A member's values for one group's fields."""

    def __init__(self, name: str, group: str, values: dict[str, str],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("{0}信息 — {1}").format(group, name))
        self.setMinimumWidth(400)
        form = QFormLayout()
        self.edits: dict[str, QLineEdit] = {}
        for label, value in values.items():
            edit = QLineEdit(value)
            edit.setMaxLength(MAX_VALUE)
            self.edits[label] = edit
            form.addRow(self.tr("{0}：").format(label), edit)
        if not values:
            form.addRow(QLabel(self.tr("这一类重点人群没有附加字段")))
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(ok_cancel(self))

    def answer(self) -> dict[str, str]:
        return {label: edit.text() for label, edit in self.edits.items()}



class ServiceDialog(AskDialog):
    """登记服务: the day, the service (the catalogue's list or the community's own word), who
    gave it and what was done, for one or more residents."""

    def __init__(self, names: list[str], kinds: list[str], provider: str = "",
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("登记一老一小服务"))
        self.setMinimumWidth(420)
        who = QLabel(names_text(names))
        who.setWordWrap(True)
        who.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.date = date_edit()
        self.kind = QComboBox()
        self.kind.setEditable(True)
        self.kind.addItems(kinds)
        self.provider = QLineEdit(provider)
        self.provider.setMaxLength(50)
        self.provider.setPlaceholderText(self.tr("服务人或服务机构"))
        self.content = QPlainTextEdit()
        self.content.setTabChangesFocus(True)
        self.content.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        form = QFormLayout()
        form.addRow(self.tr("服务对象："), who)
        form.addRow(self.tr("服务日期："), self.date)
        form.addRow(self.tr("服务项目："), self.kind)
        form.addRow(self.tr("服务人："), self.provider)
        form.addRow(self.tr("服务内容："), self.content)
        self.finish(form)
        self.provider.textChanged.connect(self._update)
        self.kind.currentTextChanged.connect(self._update)
        self._update()

    def _update(self, *_args) -> None:
        self.buttons.button(self.buttons.StandardButton.Ok).setEnabled(
            bool(self.provider.text().strip() and self.kind.currentText().strip()))

    def answer(self) -> dict:
        return {"served_on": self.date.date().toString(Qt.DateFormat.ISODate),
                "kind": self.kind.currentText().strip(),
                "provider": self.provider.text().strip(),
                "content": self.content.toPlainText().strip() or None}

