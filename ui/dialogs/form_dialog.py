"""The base of the small question dialogs: a form over OK/Cancel, `answer()` and `ask()`."""
from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QVBoxLayout,
    QWidget,
)


class FormDialog(QDialog):
    """OK is enabled only while `_complete()` holds; subclasses fill `self.form`, then call
    `_finish()`, and give `answer()`."""

    def __init__(self, title: str = "", parent: QWidget | None = None, min_width: int = 380):
        super().__init__(parent)
        if title:
            self.setWindowTitle(title)
        self.setMinimumWidth(min_width)
        self.layout_ = QVBoxLayout(self)
        self.form = QFormLayout()
        self.layout_.addLayout(self.form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

    def _finish(self) -> None:
        self.layout_.addWidget(self.buttons)
        self._update_ok()

    def _complete(self) -> bool:
        return True

    def _update_ok(self, *_args) -> None:
        self.ok_button().setEnabled(self._complete())

    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def answer(self):
        raise NotImplementedError

    @classmethod
    def _run(cls, dialog: "FormDialog"):
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None
