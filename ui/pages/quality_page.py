"""The data-quality page (数据质量): every check of shequ_desktop.reports.checks with its count, and the
records behind the chosen check; Enter or a double click opens the record to fix it.

The checks run off the GUI thread (a street takes a few seconds: SQLite's integrity check
reads the whole file) when the page is first shown and on 重新检查. After a change the page
says the figures may be out of date rather than re-reading everything at each edit.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QShowEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core.context import Change, Context
from shequ_desktop.reports import checks
from ui import background, operations
from ui.follow import follow_changes
from ui.models.row_list import DONE_INK, ID_ROLE, OVERDUE_INK, RowListModel
from ui.table_setup import setup_table

ENTITY_LABELS = {"residents": "人员", "households": "户", "houses": "房屋",
                 "audit_log": "审计日志", "grid_units": "网格单元", None: ""}


class CheckTableModel(RowListModel):
    """One row per check: 级别, 检查项, 数量 (rows are CheckResult)."""

    headers = ("级别", "检查项", "数量")
    id_key = "key"

    def set_results(self, results: list[checks.CheckResult]) -> None:
        self.set_rows([{"key": r.key, "result": r} for r in results])

    def result(self, row: int) -> checks.CheckResult | None:
        return self.rows[row]["result"] if 0 <= row < len(self.rows) else None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        r: checks.CheckResult = row["result"]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return (self.tr(checks.SEVERITY_LABELS[r.severity]), r.label,
                    f"{r.count:,}" if r.count else self.tr("通过"))[column]
        if role == Qt.ItemDataRole.ForegroundRole and column in (0, 2):
            if not r.count:
                return QBrush(DONE_INK)
            return QBrush(OVERDUE_INK) if r.severity == checks.ERROR else None
        if role == Qt.ItemDataRole.FontRole and r.count and r.severity == checks.ERROR:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and column == 2:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return r.key
        return None


class ProblemTableModel(RowListModel):
    """The offending records of one check: 编号, 对象, 说明 (rows are Problem)."""

    headers = ("编号", "对象", "说明")

    def set_problems(self, problems: list[checks.Problem]) -> None:
        self.set_rows([{"id": p.id, "problem": p} for p in problems])

    def problem(self, row: int) -> checks.Problem | None:
        return self.rows[row]["problem"] if 0 <= row < len(self.rows) else None

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        p: checks.Problem = row["problem"]
        if role == Qt.ItemDataRole.DisplayRole:
            return ("" if p.id is None else str(p.id), self.tr(ENTITY_LABELS.get(p.entity, "")),
                    p.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 2:
            return p.detail
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() == 0:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return p.id
        return None


class QualityPage(QWidget):
    """Emits openRecord(kind, id): kind "resident" or "household"."""

    openRecord = Signal(str, int)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.runs = 0
        self.results: list[checks.CheckResult] = []
        self._ran = False
        self._wanted: str | None = None       # a check to select once the results are in
        self.checks_model = CheckTableModel(self)
        self.problems_model = ProblemTableModel(self)

        title = QLabel(self.tr("数据质量"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        title.setFont(font)
        self.summary = QLabel()
        self.run_button = QPushButton(self.tr("重新检查"))
        self.run_button.clicked.connect(self.run_checks)
        self.open_button = QPushButton(self.tr("打开记录"))
        self.open_button.clicked.connect(self.open_current)
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.open_button)
        bar.addWidget(self.run_button)

        self.checks_view = QTableView()
        self.checks_view.setModel(self.checks_model)
        setup_table(self.checks_view, [3, 22, 5], stretch=1)
        self.checks_view.setSortingEnabled(False)
        self.checks_view.selectionModel().currentRowChanged.connect(self._on_check)
        self.problems_view = QTableView()
        self.problems_view.setModel(self.problems_model)
        setup_table(self.problems_view, [5, 4, 30], stretch=2)
        self.problems_view.setSortingEnabled(False)
        self.problems_view.activated.connect(self._on_activated)     # Enter, double click
        self.problems_view.selectionModel().currentRowChanged.connect(self._update_buttons)
        self.problems_label = QLabel()
        # A 网格员 sees their grids' problems only, without the checks of the file itself.
        self.scope_note = QLabel(self.tr("仅列出您负责网格中的问题；") + self.tr(
            checks.ADMIN_ONLY_NOTE) + self.tr("。"))
        self.scope_note.setWordWrap(True)
        self.scope_note.setVisible(ctx.access is not None and ctx.access.restricted)

        right = QWidget()
        box = QVBoxLayout(right)
        box.setContentsMargins(0, 0, 0, 0)
        box.addWidget(self.problems_label)
        box.addWidget(self.problems_view, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.checks_view)
        split.addWidget(right)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.scope_note)
        layout.addWidget(split, 1)
        follow_changes(self, ctx, self._on_changes)
        self._update_buttons()

    # --- running -------------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._ran:
            self._ran = True
            QTimer.singleShot(0, self, self.run_checks)

    def refresh(self) -> None:
        self.run_checks()

    def run_checks(self) -> None:

        self._ran = True
        self.summary.setText(self.tr("正在检查…"))
        operations.query(self, self.ctx, lambda ctx, progress: checks.run_checks(
            ctx.conn, progress=progress, access=ctx.access),
            label=self.tr("正在检查数据质量…"), on_success=self._show, on_failure=self._failed)

    def _failed(self, exc: BaseException) -> None:

        self.summary.setText(self.tr("检查未完成"))
        background.show_error(self, exc)

    def _show(self, results: list[checks.CheckResult]) -> None:
        keep = self._wanted or self.current_check()
        self.results = results
        self.runs += 1
        self.checks_model.set_results(results)
        errors = sum(r.count for r in results if r.severity == checks.ERROR)
        warnings = sum(r.count for r in results if r.severity == checks.WARNING)
        failed = sum(1 for r in results if not r.ok)
        self.summary.setText(self.tr("{0} 项检查：错误 {1} 处，提示 {2} 处").format(
            len(results), f"{errors:,}", f"{warnings:,}")
            + (self.tr("（{0} 项未通过）").format(failed) if failed else ""))
        self._wanted = None
        first_bad = next((r.key for r in results if r.count), results[0].key if results else None)
        self.select_check(keep if keep else first_bad)

    # --- selection -----------------------------------------------------------------------------
    def current_check(self) -> str | None:
        index = self.checks_view.currentIndex()
        result = self.checks_model.result(index.row()) if index.isValid() else None
        return result.key if result else None

    def open_target(self, target: dict) -> None:
        """Show the check a 首页 figure stands for."""
        if target.get("check"):
            self.select_check(target["check"])

    def select_check(self, key: str | None) -> None:
        """Show the records of the check `key` (once the checks have run)."""
        row = self.checks_model.row_of(key) if key else None
        if row is None:
            self._wanted = key
            return
        self.checks_view.setCurrentIndex(self.checks_model.index(row, 1))
        self._on_check(self.checks_model.index(row, 1), QModelIndex())

    def _on_check(self, current: QModelIndex, _previous: QModelIndex) -> None:
        result = self.checks_model.result(current.row()) if current.isValid() else None
        self.problems_model.set_problems(result.problems if result else [])
        if result is None:
            self.problems_label.setText("")
        elif result.count:
            self.problems_label.setText(self.tr("{0}：{1} 处（双击打开记录）").format(
                result.label, f"{result.count:,}"))
        else:
            self.problems_label.setText(self.tr("{0}：没有发现问题").format(result.label))
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        index = self.problems_view.currentIndex()
        problem = self.problems_model.problem(index.row()) if index.isValid() else None
        self.open_button.setEnabled(problem is not None
                                    and checks.open_target(self.ctx.conn, problem) is not None)

    # --- opening records ------------------------------------------------------------------------
    def open_current(self) -> None:
        self._on_activated(self.problems_view.currentIndex())

    def _on_activated(self, index: QModelIndex) -> None:
        problem = self.problems_model.problem(index.row()) if index.isValid() else None
        target = checks.open_target(self.ctx.conn, problem) if problem else None
        if target is not None:
            self.openRecord.emit(*target)

    def _on_changes(self, changes: list[Change]) -> None:
        if self.results and changes:
            self.summary.setText(self.tr("数据已修改，点击“重新检查”更新结果"))
