"""The resident dialog: the resident form with 保存 (Ctrl+S) and 取消 (Esc).

The main window opens it with open_resident / open_new_member / open_new_household.
"""
from __future__ import annotations

from PySide6.QtGui import QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core.context import Context
from ui.resident_form import ResidentForm


class ResidentDialog(QDialog):
    """After exec(), `resident_id` is the saved resident (None when nothing was saved)."""

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.resident_id: int | None = None
        self.form = ResidentForm(ctx, self)
        self.form.saved.connect(self._on_saved)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.save_button = self.buttons.button(QDialogButtonBox.StandardButton.Save)
        self.save_button.setText(self.tr("保存"))
        self.save_button.setToolTip(self.tr("保存（Ctrl+S）"))
        cancel = self.buttons.button(QDialogButtonBox.StandardButton.Cancel)
        cancel.setText(self.tr("取消"))
        cancel.setToolTip(self.tr("取消（Esc）"))
        for button in (self.save_button, cancel):
            button.setAutoDefault(False)     # Enter moves between fields; it does not save
            button.setDefault(False)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)

        layout = QVBoxLayout(self)
        layout.addWidget(self.form, 1)
        layout.addWidget(self.buttons)
        self._fit_screen()

    def _fit_screen(self) -> None:
        """Two columns of fields, at most 90 % of the screen (a 1366×768 laptop included)."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry() if screen else None
        width, height = 900, 720
        if area is not None and area.width() > 0:
            width = min(width, int(area.width() * 0.9))
            height = min(height, int(area.height() * 0.9))
        self.resize(width, height)

    # --- opening --------------------------------------------------------------------------------
    def open_resident(self, resident_id: int) -> None:
        self.form.load(resident_id)
        self._update_title()

    def new_member(self, household_id: int, relation: str | None = None) -> None:
        self.form.new_in_household(household_id, relation)
        self._update_title()

    def new_household(self, house_id: int | None) -> None:
        self.form.new_household(house_id)
        self._update_title()

    def _update_title(self) -> None:
        record = self.form.record
        self.setWindowTitle(self.tr("编辑居民 — {0}").format(record["name"]) if record
                            else self.tr("新增居民"))

    # --- closing --------------------------------------------------------------------------------
    def save(self) -> bool:
        if self.form.save():
            self.accept()
            return True
        return False

    def _on_saved(self, resident_id: int) -> None:
        self.resident_id = resident_id
        self._update_title()

    def reject(self) -> None:
        """Esc, 取消 and the window's close button: ask before throwing typing away."""
        if self.form.dirty:
            answer = QMessageBox.question(
                self, self.tr("取消编辑"), self.tr("放弃未保存的修改？"),
                QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Discard:
                return
        super().reject()


def _run(dialog: ResidentDialog) -> int | None:
    dialog.exec()
    resident_id = dialog.resident_id
    dialog.deleteLater()
    return resident_id


def open_resident(parent: QWidget | None, ctx: Context, resident_id: int) -> int | None:
    """Edit a resident; the id when saved, None when cancelled."""
    dialog = ResidentDialog(ctx, parent)
    dialog.open_resident(resident_id)
    return _run(dialog)


def open_new_member(parent: QWidget | None, ctx: Context, household_id: int,
                    relation: str | None = None) -> int | None:
    """Add a member to a household (Ctrl+N on a household); the new resident's id or None."""
    dialog = ResidentDialog(ctx, parent)
    dialog.new_member(household_id, relation)
    return _run(dialog)


def open_new_household(parent: QWidget | None, ctx: Context, house_id: int | None) -> int | None:
    """Register a new household in a house; the id of its head (the new resident) or None."""
    dialog = ResidentDialog(ctx, parent)
    dialog.new_household(house_id)
    return _run(dialog)
