"""登记走访: the date, method, visitor, findings and follow-up of one visit, recorded for the
one or more residents chosen on the visits page.

`VisitDialog.ask(parent, names, visitor)` shows the dialog and returns the values as keyword
arguments for shequ_desktop.casework.visits.record_visits, or None when the user cancels. Tests drive
the dialog itself or monkeypatch `ask`.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework.visits import METHODS
from ui.dialogs.move_dialogs import date_edit

SHOWN_NAMES = 6          # names listed before "等 N 人"


def _tr(text: str) -> str:
    return QCoreApplication.translate("VisitDialog", text)


def names_text(names: list[str]) -> str:
    """'王建国、李秀英' or '王建国、李秀英、… 等 12 人'."""
    if len(names) <= SHOWN_NAMES:
        return "、".join(names)
    return _tr("{0} 等 {1} 人").format("、".join(names[:SHOWN_NAMES]), len(names))


class VisitDialog(QDialog):
    def __init__(self, names: list[str], visitor: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("登记走访"))
        self.setMinimumWidth(440)
        who = QLabel(names_text(names))
        who.setWordWrap(True)
        who.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.date = date_edit()
        self.method = QComboBox()
        self.method.addItems(list(METHODS))
        self.visitor = QLineEdit(visitor)
        self.visitor.setMaxLength(50)
        self.findings = QPlainTextEdit()
        self.findings.setPlaceholderText(self.tr("如：身体状况、生活情况、反映的诉求"))
        self.findings.setTabChangesFocus(True)
        self.findings.setFixedHeight(self.fontMetrics().lineSpacing() * 5 + 12)
        self.follow_up = QCheckBox(self.tr("需要跟进"))
        self.note = QLineEdit()
        self.note.setPlaceholderText(self.tr("需要跟进时必填：跟进什么、由谁跟进"))

        form = QFormLayout()
        form.addRow(self.tr("走访对象："), who)
        form.addRow(self.tr("走访日期："), self.date)
        form.addRow(self.tr("走访方式："), self.method)
        form.addRow(self.tr("走访人："), self.visitor)
        form.addRow(self.tr("走访情况："), self.findings)
        form.addRow("", self.follow_up)
        form.addRow(self.tr("跟进事项："), self.note)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)

        self.visitor.textChanged.connect(self._update)
        self.note.textChanged.connect(self._update)
        self.follow_up.toggled.connect(self._update)
        self._update()

    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def _update(self, *_args) -> None:
        following = self.follow_up.isChecked()
        self.note.setEnabled(following)
        complete = bool(self.visitor.text().strip()) and (
            not following or bool(self.note.text().strip()))
        self.ok_button().setEnabled(complete)

    def answer(self) -> dict:
        following = self.follow_up.isChecked()
        return {
            "visited_on": self.date.date().toString(Qt.DateFormat.ISODate),
            "method": self.method.currentText(),
            "visitor": self.visitor.text().strip(),
            "findings": self.findings.toPlainText().strip() or None,
            "follow_up": following,
            "follow_up_note": (self.note.text().strip() or None) if following else None,
        }

    @classmethod
    def ask(cls, parent: QWidget | None, names: list[str], visitor: str = "") -> dict | None:
        dialog = cls(names, visitor, parent)
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
