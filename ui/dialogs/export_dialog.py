"""导出: what, template, format, scope, unmask, file — then the export in the background.

IDs and phones are masked unless 不脱敏 is ticked for this one export; that choice asks for
confirmation and is recorded in the audit log with who, when, what and how many rows.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import (QCheckBox, QComboBox, QHBoxLayout, QLabel,
                               QLineEdit, QMessageBox, QPushButton, QWidget)

from shequ_desktop import exporting, grid
from shequ_desktop.context import Context
from ui import background, file_dialogs
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
                " / ".join(grid.path_names(ctx.conn, unit_id))))
            self.scope.setChecked(True)
        else:
            self.scope.setText(_tr("全部（在网格树中选择单元可只导出该单元）"))
            self.scope.setEnabled(False)
        if ctx.access is not None and ctx.access.restricted:      # a 网格员: their units only
            self.scope.setToolTip(_tr("网格员只能导出分配给自己的网格中的数据；"
                                      "不勾选时导出您负责的全部网格"))
            if unit_id is None:
                self.scope.setText(_tr("您负责的全部网格（在网格树中选择单元可只导出该单元）"))
        self.unmask = QCheckBox(_tr("不脱敏：导出完整身份证号和电话（将记入审计日志）"))
        self.unmask.toggled.connect(self._confirm_unmask)
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
        self.form.addRow(_tr("格式："), self.format)
        self.form.addRow(_tr("范围："), self.scope)
        self.form.addRow(_tr("证件号和电话："), self.unmask)
        self.form.addRow(_tr("保存到："), row)
        self.what.currentIndexChanged.connect(self._fill_templates)
        self.template.currentIndexChanged.connect(self._suggest)
        self.format.currentIndexChanged.connect(self._suggest)
        self._fill_templates()
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
        file_name = exporting.default_file_name(template, self.format.currentData())
        self.path.setText(str(Path(self.path.text()).parent / file_name) if self.path.text()
                          else str(Path(self.folder) / file_name))

    def _confirm_unmask(self, on: bool) -> None:
        if not on:
            return
        answer = QMessageBox.question(self, _tr("不脱敏导出"), _tr(
            "导出的文件将含完整的身份证号和电话。请确认确有需要，并妥善保管文件。\n"
            "本次导出的操作人、时间、内容和行数会记入审计日志。"))
        if answer != QMessageBox.StandardButton.Yes:
            self.unmask.setChecked(False)

    def _browse(self) -> None:
        fmt = self.format.currentData()
        path = file_dialogs.save_file(self, "export", _tr("导出到"), self.path.text(),
                                      _tr(FORMAT_LABELS[fmt]) + f" (*.{fmt})")
        if path:
            self.path.setText(path)

    def _complete(self) -> bool:
        return bool(self.path.text().strip()) and self.template.currentData() is not None

    def accept(self) -> None:
        """Run the export in the background; close when it has succeeded."""
        template = exporting.load(self.template.currentData())
        fmt = self.format.currentData()
        path = self.path.text().strip()
        if not path.lower().endswith("." + fmt):
            path += "." + fmt
        unit_id = self.unit_id if self.scope.isChecked() else None
        unmask, actor, access = self.unmask.isChecked(), self.ctx.user, self.ctx.access
        task = background.run(
            lambda conn, progress: exporting.export(conn, template, path, fmt, unit_id=unit_id,
                                                    unmask=unmask, actor=actor,
                                                    progress=progress, access=access),
            self.db_path, parent=self, label=_tr("正在导出…"))
        task.wait()
        if task.error is not None:
            return                                   # shown by background; the dialog stays
        self.result = task.result
        QMessageBox.information(self, _tr("导出完成"), _tr("已导出 {0} 行到：\n{1}").format(
            self.result["rows"], "\n".join(self.result["files"])))
        super().accept()


def open_export(parent, ctx: Context, db_path, unit_id: int | None = None) -> ExportDialog:
    dialog = ExportDialog(ctx, db_path, unit_id, parent)
    dialog.exec()
    return dialog
