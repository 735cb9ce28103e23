"""The exchange page (数据交换): export a data package, preview and merge one, and settle the
conflicts a merge kept for the user, field by field.

Export and merge are operations (ui.operations: the signed-in user's Context on the worker's
own connection, progress and cancel, the merge's changes published to every page); the preview
(a dry run) is a background read with the same Context. The merge applies only after a preview of the same file
with the same passphrase; conflicts are listed from the database, so they stay until settled.
"""
from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import settings, tree
from shequ_desktop.core.audit import local_time
from shequ_desktop.core.context import Context
from shequ_desktop.core.fields import ENTITY_LABELS
from shequ_desktop.core.keys import password_problem
from shequ_desktop.sync import exchange, merging, package
from ui import background, file_dialogs, operations
from ui.models.row_list import RowListModel
from ui.refusal import attempt
from ui.table_setup import setup_table

FILE_FILTER = "数据交换包 (*.sqpkg);;所有文件 (*)"


class ChangesModel(RowListModel):
    """What a package brings, per kind of record."""

    id_key = "entity"
    headers = ("记录类别", "新增", "更新", "删除", "移出本网格")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None or role not in (Qt.ItemDataRole.DisplayRole,
                                       Qt.ItemDataRole.TextAlignmentRole):
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return None if index.column() == 0 else int(
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        key = ("label", "new", "updated", "deleted", "moved_out")[index.column()]
        return str(row[key]) if key != "label" else row[key]


class _TextModel(RowListModel):
    """Rows of text: column i shows row[KEYS[i]] (also as its tooltip)."""
    KEYS: tuple[str, ...] = ()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None or role not in (Qt.ItemDataRole.DisplayRole,
                                       Qt.ItemDataRole.ToolTipRole):
            return None
        return str(row.get(self.KEYS[index.column()]) or "")


class ConflictModel(_TextModel):
    """Conflicts: the record, the field, and our, their and the last common value (shown as
    the user reads them: referred records by name, ID numbers and phones masked)."""

    headers = ("来自", "记录", "字段", "本机的值", "对方的值", "上次一致的值")
    KEYS = ("peer_name", "record", "field_label", "ours_shown", "theirs_shown", "base_shown")


class RefusedModel(_TextModel):
    id_key = "uuid"
    headers = ("类别", "记录", "原因")
    KEYS = ("entity_label", "record", "reason")


def conflict_rows(conn, conflicts: list[dict], peer_name: str = "") -> list[dict]:
    """Conflicts with their values as shown to the user."""
    out = []
    for c in conflicts:
        shown = {f"{k}_shown": merging.shown(conn, c["entity"], c["field"], c[k])
                 for k in ("ours", "theirs", "base")}
        out.append({**c, **shown, "peer_name": c.get("peer_name") or peer_name})
    return out


class PassphraseDialog(QDialog):
    """The package passphrase (twice when exporting)."""

    def __init__(self, parent: QWidget | None, confirm: bool):
        super().__init__(parent)
        self.setWindowTitle(self.tr("数据包口令"))
        form = QFormLayout(self)
        self.first = QLineEdit()
        self.first.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("口令："), self.first)
        self.second = None
        if confirm:
            self.second = QLineEdit()
            self.second.setEchoMode(QLineEdit.EchoMode.Password)
            form.addRow(self.tr("再输入一次："), self.second)
        form.addRow(QLabel(self.tr("至少 8 个字符。请把口令另行告诉对方，不要和数据包放在一起。")
                           if confirm else self.tr("请输入导出时设定的口令。")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _accept(self) -> None:
        text = self.first.text()
        if self.second is not None:
            problem = password_problem(text)
            if problem:
                QMessageBox.warning(self, self.windowTitle(), problem.replace("密码", "口令"))
                return
            if self.second.text() != text:
                QMessageBox.warning(self, self.windowTitle(), self.tr("两次输入的口令不一致"))
                return
        elif not text:
            return
        self.accept()

    @staticmethod
    def ask(parent: QWidget | None, confirm: bool) -> str | None:
        dialog = PassphraseDialog(parent, confirm)
        return dialog.first.text() if dialog.exec() == QDialog.DialogCode.Accepted else None


class ExchangePage(QWidget):
    merged = Signal(object)            # MergeResult, after a merge was committed

    def __init__(self, ctx: Context, db_path, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx, self.conn, self.db_path = ctx, ctx.conn, db_path
        self.preview_result: merging.MergeResult | None = None
        self._pending: tuple[str, str] | None = None       # (file, passphrase) previewed

        self.site_label = QLabel()
        self.site_label.setWordWrap(True)

        # --- export ---
        self.unit_combo = QComboBox()
        self.peer_combo = QComboBox()
        self.export_button = QPushButton(self.tr("导出数据包…"))
        self.export_button.clicked.connect(self._ask_export)
        export_box = QGroupBox(self.tr("导出数据包"))
        form = QFormLayout(export_box)
        form.addRow(self.tr("范围："), self.unit_combo)
        form.addRow(self.tr("内容："), self.peer_combo)
        hint = QLabel(self.tr(
            "下发网格：选一个网格和“全部记录”，在新电脑上合并这个数据包即建立它的数据库。\n"
            "日常交换：选“自上次与……交换以来的变化”，只带上对方还没有的修改和删除。\n"
            "数据包已加密，口令请另行告诉对方。"))
        hint.setWordWrap(True)
        hint.setStyleSheet("color: #555")
        form.addRow(hint)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_button)
        form.addRow(row)

        # --- merge ---
        self.open_button = QPushButton(self.tr("选择数据包并预览…"))
        self.open_button.clicked.connect(self._ask_preview)
        self.merge_button = QPushButton(self.tr("合并"))
        self.merge_button.setEnabled(False)
        self.merge_button.clicked.connect(self.apply_merge)
        self.summary = QLabel(self.tr("选择一个数据包，先预览将发生的变化，再合并。"))
        self.summary.setWordWrap(True)
        self.changes_model = ChangesModel(self)
        self.preview_conflicts = ConflictModel(self)
        self.refused_model = RefusedModel(self)
        self.changes_view = self._table(self.changes_model, [8, 5, 5, 5, 6], 0)
        self.preview_conflicts_view = self._table(self.preview_conflicts, [6, 8, 6, 9, 9, 9], 5)
        self.refused_view = self._table(self.refused_model, [6, 10, 20], 2)
        self.preview_tabs = QTabWidget()
        self.preview_tabs.addTab(self.changes_view, self.tr("新增和更新"))
        self.preview_tabs.addTab(self.preview_conflicts_view, self.tr("冲突"))
        self.preview_tabs.addTab(self.refused_view, self.tr("拒绝"))
        merge_box = QGroupBox(self.tr("合并数据包"))
        merge_layout = QVBoxLayout(merge_box)
        row = QHBoxLayout()
        row.addWidget(self.open_button)
        row.addStretch(1)
        row.addWidget(self.merge_button)
        merge_layout.addLayout(row)
        merge_layout.addWidget(self.summary)
        merge_layout.addWidget(self.preview_tabs, 1)

        # --- conflicts ---
        self.conflict_model = ConflictModel(self)
        self.conflict_view = self._table(self.conflict_model, [6, 10, 6, 10, 10, 10], 5)
        self.conflict_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.theirs_button = QPushButton(self.tr("用对方的"))
        self.ours_button = QPushButton(self.tr("保留本机的"))
        self.theirs_button.clicked.connect(lambda: self.resolve_selected("theirs"))
        self.ours_button.clicked.connect(lambda: self.resolve_selected("ours"))
        self.conflict_label = QLabel()
        conflict_box = QGroupBox(self.tr("待处理的冲突"))
        conflict_layout = QVBoxLayout(conflict_box)
        conflict_layout.addWidget(self.conflict_label)
        conflict_layout.addWidget(self.conflict_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.theirs_button)
        row.addWidget(self.ours_button)
        conflict_layout.addLayout(row)

        top = QHBoxLayout()
        top.addWidget(export_box, 1)
        top.addWidget(merge_box, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.site_label)
        layout.addLayout(top, 3)
        layout.addWidget(conflict_box, 2)
        self.refresh()

    def _table(self, model, widths: list[int], stretch: int) -> QTableView:
        view = QTableView()
        view.setModel(model)
        setup_table(view, widths, stretch=stretch)
        view.setSortingEnabled(False)
        return view

    # --- what is shown ----------------------------------------------------------------------
    def refresh(self) -> None:
        conn = self.conn
        site = settings.get(conn, settings.SITE_KEY)
        scope = exchange.scope_unit(conn)
        text = self.tr("本机：{0}").format(exchange.site_name(conn))
        if site:
            text += self.tr("（站点编号 {0}）").format(site[:8])
        if scope is not None:
            text += self.tr("，由办公室下发，范围：{0}").format(
                " / ".join(tree.path_names(conn, scope)))
        self.site_label.setText(text)
        self._fill_units(scope)
        self._fill_peers()
        self.refresh_conflicts()

    def _fill_units(self, scope: int | None) -> None:
        current = self.unit_combo.currentData()
        self.unit_combo.clear()
        if scope is None:
            self.unit_combo.addItem(self.tr("全部数据"), None)
        levels = ("street", "community", "grid")
        for unit_id, level, name in conn_rows(self.conn, levels, scope):
            label = {"street": "街道", "community": "社区", "grid": "网格"}[level]
            self.unit_combo.addItem(f"{name}（{label}）", unit_id)
        if current is not None:
            index = self.unit_combo.findData(current)
            self.unit_combo.setCurrentIndex(max(index, 0))
        elif scope is not None:
            self.unit_combo.setCurrentIndex(max(self.unit_combo.findData(scope), 0))

    def _fill_peers(self) -> None:
        self.peer_combo.clear()
        self.peer_combo.addItem(self.tr("全部记录（下发给新电脑，或第一次交换）"), None)
        for p in exchange.peers(self.conn):
            self.peer_combo.addItem(self.tr("自上次与“{0}”交换以来的变化").format(p["name"]),
                                    p["site"])

    def refresh_conflicts(self) -> None:
        rows = conflict_rows(self.conn, merging.conflicts(self.conn, access=self.ctx.access))
        self.conflict_model.set_rows(rows)
        self.conflict_label.setText(
            self.tr("没有待处理的冲突。") if not rows else
            self.tr("{0} 处字段在两边都被改过，合并时保留了本机的值。请逐一选择：").format(len(rows)))
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        chosen = bool(self.conflict_view.selectionModel().selectedRows())
        self.theirs_button.setEnabled(chosen)
        self.ours_button.setEnabled(chosen)

    def apply_changes(self, changes) -> None:
        """After a write elsewhere in the window (a resolved conflict is one)."""
        if any(c.entity in exchange.TABLES for c in changes):
            self.refresh_conflicts()

    # --- export -----------------------------------------------------------------------------
    def _ask_export(self) -> None:
        name = (self.unit_combo.currentText().split("（")[0] or "数据") + exchange.now_utc()[:10]
        path = file_dialogs.save_file(self, "package", self.tr("导出数据包"), f"{name}.sqpkg",
                                      FILE_FILTER)
        if not path:
            return
        passphrase = PassphraseDialog.ask(self, confirm=True)
        if passphrase:
            self.export_to(path, passphrase)

    def export_to(self, path: str, passphrase: str) -> operations.CollectionOp:
        """An export writes too (the package number, the hand-out record, the audit entry)."""
        unit_id, peer = self.unit_combo.currentData(), self.peer_combo.currentData()

        def done(manifest) -> None:
            total = package.records(manifest["counts"])
            QMessageBox.information(self, self.tr("导出数据包"), self.tr(
                "已导出 {0} 条记录到\n{1}\n\n请把口令另行告诉对方。").format(total, path))
        return operations.CollectionOp(
            self, self.ctx,
            lambda ctx, progress: exchange.export_package(ctx, path, passphrase, unit_id, peer,
                                                          progress),
            label=self.tr("正在导出数据包…")).success(done).run_in_background()

    # --- merge ------------------------------------------------------------------------------
    def _ask_preview(self) -> None:
        path = file_dialogs.open_file(self, "package", self.tr("选择数据包"), FILE_FILTER)
        if not path:
            return
        passphrase = PassphraseDialog.ask(self, confirm=False)
        if passphrase:
            self.preview(path, passphrase)

    @staticmethod
    def _merge(path: str, passphrase: str, dry_run: bool):
        return lambda ctx, progress: merging.merge(ctx, path, passphrase, dry_run=dry_run,
                                                   progress=progress)

    def preview(self, path: str, passphrase: str) -> background.Task:
        self._pending = None
        self.merge_button.setEnabled(False)

        def done(result: merging.MergeResult) -> None:
            self.show_result(result)
            self._pending = (path, passphrase) if not result.already_merged else None
            self.merge_button.setEnabled(self._pending is not None)

        def failed(exc) -> None:
            self.summary.setText(self.tr("未能预览：{0}").format(exc))
            background.show_error(self, exc)
        return operations.query(self, self.ctx, self._merge(path, passphrase, True),  # dry run
                                label=self.tr("正在读取数据包…"), on_success=done,
                                on_failure=failed)

    def show_result(self, result: merging.MergeResult) -> None:
        m = result.manifest
        head = self.tr("预览（尚未合并）") if result.dry_run else self.tr("已合并")
        self.summary.setText(self.tr("{0}：来自“{1}”，范围 {2}，导出于 {3}。{4}").format(
            head, m.get("source_name"), m.get("unit_name"), _local(m.get("created_at")),
            result.summary()))
        rows = []
        for table in exchange.TABLES:
            counts = {k: getattr(result, k).get(table, 0)
                      for k in ("new", "updated", "deleted", "moved_out")}
            if any(counts.values()):
                rows.append({"entity": table, "label": ENTITY_LABELS.get(table, table),
                             **counts})
        self.changes_model.set_rows(rows)
        self.preview_conflicts.set_rows(conflict_rows(self.conn, result.conflicts,
                                                      m.get("source_name") or ""))
        self.refused_model.set_rows(list(result.refused))
        t = result.totals()
        self.preview_tabs.setTabText(0, self.tr("新增和更新 ({0})").format(
            t["new"] + t["updated"] + t["deleted"] + t["moved_out"]))
        self.preview_tabs.setTabText(1, self.tr("冲突 ({0})").format(t["conflicts"]))
        self.preview_tabs.setTabText(2, self.tr("拒绝 ({0})").format(t["refused"]))

    def apply_merge(self) -> operations.CollectionOp | None:
        """The merge: a background operation for the signed-in user; what it changed reaches
        every page through the window's subscribers (this page re-reads its own peers)."""
        if self._pending is None:
            return None
        path, passphrase = self._pending

        def done(result: merging.MergeResult) -> None:
            self._pending = None
            self.merge_button.setEnabled(False)
            self.show_result(result)
            self.refresh()
            self.merged.emit(result)
        return operations.CollectionOp(self, self.ctx, self._merge(path, passphrase, False),
                                       label=self.tr("正在合并数据包…")) \
            .success(done).run_in_background()

    # --- conflicts --------------------------------------------------------------------------
    def resolve_selected(self, choice: str) -> bool:
        rows = self.conflict_view.selectionModel().selectedRows()
        if not rows:
            return False
        conflict = self.conflict_model.row_at(rows[0])
        ok = attempt(self, self.tr("处理冲突"),
                     lambda: merging.resolve(self.ctx, conflict["id"], choice))
        self.refresh_conflicts()
        return ok


def _local(at: str | None) -> str:
    try:
        return local_time(at)[:16]
    except (TypeError, ValueError):
        return at or ""


def conn_rows(conn, levels: tuple[str, ...], scope: int | None) -> list[tuple]:
    """(id, level, name) of the units one can export: top levels (tree.chooser_order), within
    the scope if any."""
    rows = [(u["id"], u["level"], u["name"])
            for u, _depth in tree.chooser_order(tree.all_units(conn, levels))]
    if scope is None:
        return rows
    inside = set(tree.descendants(conn, scope))
    return [r for r in rows if r[0] in inside]

