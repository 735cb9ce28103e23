"""What the community-workflow pages (issue 21: 重点人群, 微网格, 议事协商, 社区体检, 以图管房)
share: the chosen grid unit, re-reading after a committed change that touches what they show
(only while shown, else at the next show), domain errors shown as a warning, PDFs written in
the background, and the small table model and dialog parts they all use."""
from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import DomainError
from ui import background, operations
from ui.file_dialogs import save_file
from ui.follow import ReloadWhenShown, follow_changes
from ui.models.row_list import ID_ROLE, RowListModel


def page_title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.2)
    label.setFont(font)
    return label


def ok_cancel(dialog: QDialog) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                               | QDialogButtonBox.StandardButton.Cancel)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class AskDialog(QDialog):
    """A dialog whose `ask(parent, …)` shows it and returns answer() (None when cancelled)."""

    def finish(self, form, required: QLineEdit | None = None) -> None:
        """The form above OK/Cancel; OK only while `required` has text."""
        self.buttons = ok_cancel(self)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        if required is not None:
            def update(*_args) -> None:
                self.buttons.button(self.buttons.StandardButton.Ok).setEnabled(
                    bool(required.text().strip()))
            required.textChanged.connect(update)
            update()

    def answer(self):
        raise NotImplementedError

    @classmethod
    def ask(cls, parent, *args, **kwargs):
        dialog = cls(*args, parent=parent, **kwargs)
        return dialog.answer() if dialog.exec() == QDialog.DialogCode.Accepted else None


class DictModel(RowListModel):
    """Rows of dicts shown by `keys` under `headers` (lists joined with 、)."""

    def __init__(self, headers: tuple[str, ...], keys: tuple[str, ...], id_key: str = "id",
                 parent=None):
        super().__init__(parent)
        self.headers, self.keys, self.id_key = headers, keys, id_key

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = row.get(self.keys[index.column()])
            if isinstance(value, (list, tuple)):
                return "、".join(value)
            return "" if value is None else str(value)
        if role == ID_ROLE:
            return row[self.id_key]
        return None


class CommunityPage(ReloadWhenShown, QWidget):
    """Subclasses set RELEVANT (the tables whose changes make them re-read) and implement
    reload()."""

    RELEVANT: tuple[str, ...] = ()

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.db_path = db_path
        self.unit_id: int | None = None
        self._stale = True
        follow_changes(self, ctx, self._on_changes)

    def arrange(self, bar, body: QWidget) -> None:
        """The page: its button bar above its body."""
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(body, 1)

    def set_unit(self, unit_id: int | None) -> None:
        if unit_id != self.unit_id or self._stale:
            self.unit_id = unit_id
            self._reload_when_shown()

    def refresh(self) -> None:
        self.reload()

    def reload(self, *_args) -> None:
        raise NotImplementedError

    def _on_changes(self, changes: list[Change]) -> None:
        if any(c.entity in self.RELEVANT for c in changes):
            self._reload_when_shown()

    @staticmethod
    def current_id_of(view: QTableView) -> int | None:
        index = view.currentIndex()
        return view.model().id_at(index.row()) if index.isValid() else None

    @staticmethod
    def current_row_of(view: QTableView) -> dict | None:
        index = view.currentIndex()
        return view.model().rows[index.row()] if index.isValid() else None

    @staticmethod
    def select_named(view: QTableView, name: str) -> None:
        """Make the row named `name` current; KeyError when there is none."""
        model = view.model()
        for i, row in enumerate(model.rows):
            if row["name"] == name:
                view.setCurrentIndex(model.index(i, 0))
                return
        raise KeyError(name)

    @staticmethod
    def show_rows(view: QTableView, rows: list[dict], keep: int | None) -> None:
        """Show `rows`, the row of id `keep` current again (else the first)."""
        model = view.model()
        model.set_rows(rows)
        row = model.row_of(keep) if keep is not None else None
        if row is None and rows:
            row = 0
        if row is not None:
            view.setCurrentIndex(model.index(row, 0))

    def attempt(self, title: str, fn: Callable) -> bool:
        """Run a domain action; an expected problem is shown as a warning."""
        try:
            fn()
        except DomainError as exc:
            QMessageBox.warning(self, title, str(exc))
            return False
        return True

    def write_file(self, work: Callable, path: str | None, title: str, name: str, *,
                   filters: str | None = None, purpose: str = "print",
                   label: str | None = None):
        """Write a file (a PDF unless `filters` say otherwise) as a background operation:
        `work(ctx, path, progress)` with the signed-in user's Context (who is recorded, what
        they may read); asks where when `path` is None. Returns the domain's result, or None
        when cancelled or refused (shown)."""

        if self.db_path is None:
            return None
        path = path or save_file(self, purpose, title, name,
                                 filters or self.tr("PDF 文件 (*.pdf)"))
        if not path:
            return None
        op = operations.CollectionOp(self, self.ctx,
                                     lambda ctx, progress: work(ctx, path, progress),
                                     label=label or self.tr("正在生成…"))
        op.failure(lambda exc: None).run_in_background().wait()
        if op.error is not None:                  # shown once the progress box is gone
            background.show_error(self, op.error)
            return None
        return op.result
