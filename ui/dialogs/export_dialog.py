"""导出: what, template (ours, or the platform's blank template file), format, scope, upload,
file — then the export in the background.

IDs and phones are masked unless 用于上传 is ticked for this one export (a template marked for
upload ticks it); then a confirmation naming the file comes first, and the audit log records
who, what, how many and where. A platform template's columns are shown with the field each is
filled from (the user corrects them; remembered for that template) and those left blank.
The folder is checked before any work, and a failure is shown once the progress box is gone.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import tree
from shequ_desktop.core.access import scope
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.population import tags
from shequ_desktop.transfer import exporting
from shequ_desktop.transfer.exporting import coding, fill, sources
from ui import background, file_dialogs, operations
from ui.dialogs.form_dialog import FormDialog

FORMAT_LABELS = {"xlsx": "Excel 表格 (.xlsx)", "csv": "CSV（UTF-8，Excel 可直接打开）"}


def _tr(text: str) -> str:
    return QCoreApplication.translate("ExportDialog", text)


class ExportDialog(FormDialog):
    def __init__(self, ctx: Context, db_path, unit_id: int | None = None,
                 parent: QWidget | None = None, folder: str | None = None):
        super().__init__(_tr("导出"), parent, min_width=520)
        if unit_id is not None and ctx.access is not None and not ctx.access.may_read(unit_id):
            unit_id = None            # a unit above a 网格员's (greyed in the tree): their units
        self.ctx = ctx
        self.db_path = db_path
        self.unit_id = unit_id
        self.result: dict | None = None
        self.folder = folder or str(file_dialogs.start_folder("export"))
        self.what = QComboBox()
        for key, label in exporting.WHAT.items():
            self.what.addItem(_tr(label), key)
        self.template = QComboBox()
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.format = QComboBox()
        for key in exporting.FORMATS:
            self.format.addItem(_tr(FORMAT_LABELS[key]), key)
        self.scope = QCheckBox()
        if unit_id is not None:
            self.scope.setText(_tr("只导出“{0}”及其下级").format(
                " / ".join(tree.path_names(ctx.conn, unit_id))))
            self.scope.setChecked(True)
        else:
            self.scope.setText(_tr("全部（在网格树中选择单元可只导出该单元）"))
            self.scope.setEnabled(False)
        if ctx.access is not None and ctx.access.restricted:      # a 网格员: their units only
            self.scope.setToolTip(_tr("网格员只能导出分配给自己的网格中的数据；"
                                      "不勾选时导出您负责的全部网格"))
            if unit_id is None:
                self.scope.setText(_tr("您负责的全部网格（在网格树中选择单元可只导出该单元）"))
        self.unmask = QCheckBox(_tr("用于上传：写入完整身份证号和电话（导出前确认，记入审计日志）"))
        self.platform: fill.TemplateFile | None = None
        self.platform_path = QLineEdit()
        self.platform_path.setReadOnly(True)
        self.platform_path.setPlaceholderText(_tr("不用：按上面的模板导出"))
        choose = QPushButton(_tr("选择…"))
        choose.clicked.connect(self._choose_platform)
        self.clear_platform = QPushButton(_tr("不用"))
        self.clear_platform.clicked.connect(lambda: self.set_platform(None))
        platform_row = QHBoxLayout()
        platform_row.addWidget(self.platform_path, 1)
        platform_row.addWidget(choose)
        platform_row.addWidget(self.clear_platform)
        self.mapping = QTableWidget(0, 3)
        self.mapping.setHorizontalHeaderLabels([_tr("模板中的列"), _tr("填入"), _tr("写代码")])
        self.mapping.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.mapping.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.mapping.verticalHeader().hide()
        self.mapping.setMinimumHeight(220)
        self.tag = QComboBox()                       # a focus register: which group
        self.tag.addItem(_tr("全部重点人群"), None)
        for t in tags.all_tags(ctx.conn):
            self.tag.addItem(t["name"], t["name"])
        self.unfilled = QLabel()
        self.unfilled.setWordWrap(True)
        self.unfilled.setStyleSheet("color: #b45309;")
        self.division = QLineEdit(coding.division_code(ctx.conn) or "")
        self.division.setPlaceholderText(_tr("如 510104001001（GB/T 31000 的“现住地”）"))
        save_division = QPushButton(_tr("保存"))
        save_division.clicked.connect(self._save_division)
        division_row = QHBoxLayout()
        division_row.addWidget(self.division, 1)
        division_row.addWidget(save_division)
        if ctx.access is not None and ctx.access.restricted:   # set by an administrator
            self.division.setReadOnly(True)
            save_division.setEnabled(False)
        self.path = QLineEdit()
        self.path.textChanged.connect(self._update_ok)
        browse = QPushButton(_tr("浏览…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.form.addRow(_tr("导出内容："), self.what)
        self.form.addRow(_tr("模板："), self.template)
        self.form.addRow("", self.description)
        self.form.addRow(_tr("平台下发的模板："), platform_row)
        self.form.addRow(self.mapping)
        self.form.addRow(self.unfilled)
        self.form.addRow(_tr("重点人群类别："), self.tag)
        self.form.addRow(_tr("格式："), self.format)
        self.form.addRow(_tr("范围："), self.scope)
        self.form.addRow(_tr("证件号和电话："), self.unmask)
        self.form.addRow(_tr("社区行政区划代码："), division_row)
        self.what.currentIndexChanged.connect(lambda: self.set_platform(
            self.platform.path if self.platform else None))
        self.form.addRow(_tr("保存到："), row)
        self.what.currentIndexChanged.connect(self._fill_templates)
        self.template.currentIndexChanged.connect(self._suggest)
        self.format.currentIndexChanged.connect(self._suggest)
        self._fill_templates()
        self.set_platform(None)
        self._finish()

    def _fill_templates(self) -> None:
        self.template.blockSignals(True)
        self.template.clear()
        what = self.what.currentData()
        for name in exporting.names(what):
            self.template.addItem(exporting.load(name).title, name)
        self.template.setCurrentIndex(max(0, self.template.findData(exporting.DEFAULTS[what])))
        self.template.blockSignals(False)
        self._suggest()

    def _suggest(self) -> None:
        name = self.template.currentData()
        if name is None:
            return
        template = exporting.load(name)
        self.description.setText(template.description)
        self.description.setVisible(bool(template.description))
        self.unmask.setChecked(template.for_upload)
        if self.platform is not None:
            return
        file_name = exporting.default_file_name(template, self.format.currentData())
        self.path.setText(str(Path(self.path.text()).parent / file_name) if self.path.text()
                          else str(Path(self.folder) / file_name))

    def _save_division(self) -> None:
        """The community's division code, once for the database (every PC writes the same)."""
        try:
            code = coding.set_division_code(self.ctx.conn, self.division.text(), self.ctx.user)
        except DomainError as exc:
            QMessageBox.warning(self, _tr("行政区划代码"), str(exc))
            return
        self.division.setText(code)

    # --- the platform's own template ---------------------------------------------------------

    def _choose_platform(self) -> None:
        path = file_dialogs.open_file(self, "export_template", _tr("选择平台下发的空白模板"),
                                      _tr("Excel/WPS 表格 (*.xlsx *.xls)"))
        if path:
            self.set_platform(path)

    def set_platform(self, path) -> None:
        """Fill the template file at `path` (None: export with our own templates)."""
        self.platform = None
        if path is not None:
            try:
                self.platform = fill.open_template(path)
            except DomainError as exc:
                QMessageBox.warning(self, _tr("不能使用这个模板"), str(exc))
        on = self.platform is not None
        for widget in (self.mapping, self.unfilled, self.clear_platform):
            widget.setVisible(on)
        focus = on and self.what.currentData() == "focus"
        self.tag.setVisible(focus)
        self.form.labelForField(self.tag).setVisible(focus)
        self.template.setEnabled(not on)
        self.format.setEnabled(not on)
        self.description.setVisible(not on and bool(self.description.text()))
        self.platform_path.setText(str(self.platform.path) if on else "")
        if on:
            self.format.setCurrentIndex(self.format.findData("xlsx"))
            remembered = fill.remembered(self.ctx.conn, self.platform)
            self.unmask.setChecked(bool(remembered.get("for_upload")))
            self._show_plan(fill.plan_columns(self.what.currentData(), self.platform.labels,
                                              remembered))
            folder = Path(self.path.text()).parent if self.path.text() else Path(self.folder)
            self.path.setText(str(folder / fill.default_output(self.platform)))
        else:
            self._suggest()
        self._update_ok()

    def _show_plan(self, plan: list[fill.PlannedColumn]) -> None:
        source = sources.SOURCES[fill.SOURCE_OF[self.what.currentData()]]
        self.mapping.setRowCount(len(plan))
        for row, p in enumerate(plan):
            label = QLabel(p.header or _tr("第 {0} 列").format(p.index + 1))
            label.setContentsMargins(4, 0, 4, 0)
            self.mapping.setCellWidget(row, 0, label)
            combo = QComboBox()
            combo.addItem(_tr("（留空）"), None)
            for column in source.columns:
                combo.addItem(column.label, column.key)
            combo.setCurrentIndex(max(0, combo.findData(p.key)))
            code = QCheckBox()
            code.setChecked(p.column is not None and p.column.coding == "code")
            code.setToolTip(_tr("代码表字段写代码（如性别 1/2），不勾选写名称（男/女）"))
            combo.currentIndexChanged.connect(self._plan_changed)
            code.toggled.connect(self._plan_changed)
            self.mapping.setCellWidget(row, 1, combo)
            self.mapping.setCellWidget(row, 2, code)
        self._plan_changed()

    def plan(self) -> list[fill.PlannedColumn]:
        """The mapping as the table shows it."""
        what = self.what.currentData()
        plan = [fill.PlannedColumn(i, label, None)
                for i, label in enumerate(self.platform.labels)]
        for row in range(self.mapping.rowCount()):
            key = self.mapping.cellWidget(row, 1).currentData()
            if key is not None:
                plan = fill.choose(plan, what, row, key,
                                   code=self.mapping.cellWidget(row, 2).isChecked())
        return plan

    def _plan_changed(self, *_args) -> None:
        if self.platform is None:
            return
        plan = self.plan()
        for row, p in enumerate(plan):
            code = self.mapping.cellWidget(row, 2)
            code.setEnabled(p.column is not None and p.column.kind.startswith("code:"))
        blank = fill.unfilled(plan)
        self.unfilled.setText(_tr("以下 {0} 列没有对应的字段，将留空：{1}").format(
            len(blank), "、".join(blank)) if blank else _tr("模板的每一列都有对应的字段。"))

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path = file_dialogs.save_file(self, "export", _tr("导出到"), self.path.text(),
                                      _tr(FORMAT_LABELS[fmt]) + f" (*.{fmt})")
        if path:
            self.path.setText(path)

    def _complete(self) -> bool:
        return bool(self.path.text().strip()) and self.template.currentData() is not None

    def accept(self) -> None:
        """Check the folder, confirm an upload, then export in the background; close when it
        has succeeded."""
        fmt = self.format.currentData()
        path = self.path.text().strip()
        if not path.lower().endswith("." + fmt):
            path += "." + fmt
        unit_id = self.unit_id if self.scope.isChecked() else None
        unmask, access = self.unmask.isChecked(), self.ctx.access
        try:
            exporting.check_folder(Path(path))       # before any work
        except DomainError as exc:
            QMessageBox.warning(self, _tr("无法导出"), str(exc))
            return
        what = self.what.currentData()
        if self.platform is not None:
            platform, plan = self.platform, self.plan()
            only = (("tag", (self.tag.currentData(),)),) \
                if self.tag.isVisible() and self.tag.currentData() else ()
            title = _tr("模板“{0}”").format(platform.path.name)
            source = sources.SOURCES[fill.SOURCE_OF[what]]
            count = sources.count(self.ctx.conn, source, scope(access, unit_id), only)
            work = lambda ctx, progress: fill.fill(           # noqa: E731
                ctx.conn, platform, plan, what, path, unit_id=unit_id, unmask=unmask,
                actor=ctx.user, progress=progress, access=ctx.access, only=only)
        else:
            template = exporting.load(self.template.currentData())
            title = template.title
            count = sum(sources.count(self.ctx.conn, sheet.source, scope(access, unit_id),
                                      sheet.only) for sheet in template.sheets)
            work = lambda ctx, progress: exporting.export(    # noqa: E731
                ctx.conn, template, path, fmt, unit_id=unit_id, unmask=unmask,
                actor=ctx.user, progress=progress, access=ctx.access)
        if unmask and not confirm_upload(self, path, title, count):
            return
        if self.platform is not None:
            fill.remember(self.ctx.conn, self.platform, plan, for_upload=unmask)
        op = operations.CollectionOp(self, self.ctx, work, label=_tr("正在导出…"),
                                     counting=background.counted(_tr("已导出")))
        op.failure(lambda exc: None).run_in_background().wait()
        if op.error is not None:                     # shown once the progress box is gone
            background.show_error(self, op.error)
            return                                   # the dialog stays
        self.result = op.result
        done = _tr("已导出 {0} 行到：\n{1}").format(self.result["rows"],
                                                 "\n".join(self.result["files"]))
        if self.result.get("warning"):
            QMessageBox.warning(self, _tr("导出完成（请注意）"),
                                done + "\n\n" + self.result["warning"])
        else:
            QMessageBox.information(self, _tr("导出完成"), done)
        super().accept()


class UploadConfirmDialog(QDialog):
    """The explicit confirmation before full numbers are written: names the file, what and
    how many; the button stays disabled until the user ticks that the file is for upload."""

    def __init__(self, path: str, title: str, count: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(_tr("确认写入完整号码"))
        self.setMinimumWidth(480)
        layout = QVBoxLayout(self)
        text = QLabel(_tr(
            "<b>将把完整的身份证号和电话写入文件：</b><br>{0}<br><br>"
            "内容：{1}，共 {2} 条记录。<br><br>"
            "这个文件只用于上传到平台：请妥善保管，上传后删除，不要转发。<br>"
            "操作人、时间、内容、条数和文件位置会记入审计日志。").format(
                _html(path), _html(title), count))
        text.setWordWrap(True)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(text)
        self.sure = QCheckBox(_tr("我确认这个文件用于上传，需要完整号码"))
        layout.addWidget(self.sure)
        self.buttons = QDialogButtonBox()
        self.confirm = self.buttons.addButton(_tr("写入完整号码"),
                                              QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(_tr("取消"), QDialogButtonBox.ButtonRole.RejectRole)
        self.confirm.setEnabled(False)
        self.sure.toggled.connect(self.confirm.setEnabled)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def confirm_upload(parent: QWidget | None, path: str, title: str, count: int) -> bool:
    """Ask before a file with full ID numbers and phones is written."""
    dialog = UploadConfirmDialog(path, title, count, parent)
    return dialog.exec() == QDialog.DialogCode.Accepted


def open_export(parent, ctx: Context, db_path, unit_id: int | None = None) -> ExportDialog:
    dialog = ExportDialog(ctx, db_path, unit_id, parent)
    dialog.exec()
    return dialog
