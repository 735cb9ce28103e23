"""导入表格: a wizard over shequ_desktop.transfer.importing.

file + sheet + where to → mapping table the user can fix → preview (counts, each row's result,
a decision per duplicate) → the import in the background with progress and cancel → result,
with "save error report". Reading and the dry run also run in the background (a 100,000-row
sheet takes seconds). Nothing is written before the last page; the mapping is remembered for
the next file with the same headers when the import lands.
"""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from db import StorageError
from shequ_desktop.core import codes, masking, settings, tree
from shequ_desktop.core.access import ADMIN, GRID_WORKER
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.fields import HOUSEHOLD_FIELDS, RESIDENT_FIELDS
from shequ_desktop.core.progress import Cancelled
from shequ_desktop.transfer.importing import (
    UnreadableFile,
    apply_plan,
    build_plan,
    normalize,
    read_table,
    registers,
    sheet_names,
    write_error_report,
)
from shequ_desktop.transfer.importing import headers as headers_mod
from shequ_desktop.transfer.importing import mapping as mapping_mod
from shequ_desktop.transfer.importing.apply import hold_to_grid
from shequ_desktop.transfer.importing.places import TARGET_LEVELS
from shequ_desktop.transfer.importing.plan import (
    DECISION_LABELS,
    DECISIONS,
    FLAT_CHOICES,
    FLAT_LABELS,
    STATUS_LABELS,
    Plan,
)
from shequ_desktop.transfer.importing.registers import WHAT, WHAT_LABELS
from ui import background, file_dialogs, operations
from ui.table_setup import setup_table

ERROR_BACKGROUND = QColor("#FDE2E1")
WARNING_BACKGROUND = QColor("#FFF4CE")
VALUES_PREFIX = "import_values:"         # settings: the value choices per header signature
KEEP, EMPTY = "\x00keep", ""
SAMPLE_ROWS = 3


def _tr(text: str) -> str:
    return QCoreApplication.translate("ImportWizard", text)


def target_units(conn, access=None) -> list[tuple[int, str]]:
    """(id, '幸福街道 / 阳光社区 / 第一网格') of the units an import may land beneath: for a
    网格员 their units and those below them, for a 只读 user none (issue 18)."""
    every = tree.all_units(conn, TARGET_LEVELS)
    by_id = {u["id"]: u for u in tree.all_units(conn)}
    units = [u for u in every if may_write_unit(conn, access, u["id"])]

    def path(u):
        names = []
        while u is not None:
            names.append(u["name"])
            u = by_id.get(u["parent_id"])
        return " / ".join(reversed(names))

    return sorted(((u["id"], path(u)) for u in units), key=lambda t: tree.path_key(t[1]))


def may_write_unit(conn, access, unit_id: int) -> bool:
    if access is None or access.role == ADMIN:
        return True
    if access.role != GRID_WORKER:
        return False
    return bool(access.unit_ids.intersection(tree.ancestors(conn, unit_id)))


class PlanModel(QAbstractTableModel):
    """The dry run's rows: line, name, ID (masked), result, decision, reason."""

    COLUMNS = ("行号", "姓名", "身份证号", "结果", "处理方式", "原因")

    def __init__(self, plan: Plan | None = None, parent=None):
        super().__init__(parent)
        self.plan = plan
        self.rows = []
        self.only_errors = False
        self.set_plan(plan)

    def set_plan(self, plan: Plan | None, only_errors: bool | None = None) -> None:
        self.beginResetModel()
        self.plan = plan
        if only_errors is not None:
            self.only_errors = only_errors
        rows = plan.rows if plan is not None else []
        self.rows = [r for r in rows if r.errors] if self.only_errors else list(rows)
        self.endResetModel()

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.COLUMNS)

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.COLUMNS):
            return _tr(self.COLUMNS[section])
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return str(row.line)
            if column == 1:
                return row.values.get("name") or _cell_text(row, self.plan, "name")
            if column == 2:
                return masking.mask_id(row.values.get("id_number")
                                       or _cell_text(row, self.plan, "id_number"))
            if column == 3:
                return _tr(STATUS_LABELS[row.status])
            if column == 4:
                return _tr(DECISION_LABELS[row.decision]) if row.existing is not None else ""
            if column == 5:
                if row.errors:
                    return row.reason()
                notes = [r for _c, r in row.warnings] + ([row.checking] if row.checking else [])
                group = self.plan.groups.get(row.group) if row.group is not None else None
                if row.existing is None and group is not None and \
                        group.household_id is not None:
                    notes.append(_tr("加入已登记的户（按{0}）").format(group.key[0]))
                if notes:
                    return "；".join(dict.fromkeys(notes))
                if row.existing is not None:
                    changes = row.diff(None if row.decision != "skip" else "update")
                    how = _tr("按{0}匹配到已登记人员").format(row.match_how)
                    if changes:
                        how += _tr("；不同：{0}").format("、".join(
                            mapping_mod.TARGET_LABELS.get(k, k) for k in changes))
                    return how
                return ""
        if role == Qt.ItemDataRole.BackgroundRole and row.errors:
            return QBrush(ERROR_BACKGROUND)
        if role == Qt.ItemDataRole.BackgroundRole and (row.warnings or row.checking):
            return QBrush(WARNING_BACKGROUND)
        if role == Qt.ItemDataRole.ToolTipRole and column == 5 and (row.errors or row.warnings):
            return self.data(index)
        return None

    def plan_rows(self, indexes) -> list:
        return [self.rows[i.row()] for i in indexes if 0 <= i.row() < len(self.rows)]

    def refresh_rows(self) -> None:
        if self.rows:
            self.dataChanged.emit(self.index(0, 0),
                                  self.index(len(self.rows) - 1, len(self.COLUMNS) - 1))


def _cell_text(row, plan, key) -> str:
    column = plan.column(key) if plan is not None else None
    if column is None or column >= len(row.cells):
        return ""
    return normalize.text(row.cells[column])


class FilePage(QWizardPage):
    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.w = wizard
        self.setTitle(_tr("选择文件"))
        self.setSubTitle(_tr("可导入 Excel/WPS 表格（.xlsx、.xls）或 CSV 文件（UTF-8 或 GBK）。"))
        self.path = QLineEdit()
        self.path.setPlaceholderText(_tr("表格文件"))
        self.path.textChanged.connect(self._path_changed)
        browse = QPushButton(_tr("浏览…"))
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        self.sheet = QComboBox()
        self.target = QComboBox()
        for unit_id, path in target_units(wizard.ctx.conn, wizard.ctx.access):
            self.target.addItem(path, unit_id)
        self.what = QComboBox()
        self.what.addItem(_tr("自动识别"), None)
        for key in WHAT:
            self.what.addItem(_tr(WHAT_LABELS[key]), key)
        self.duplicates = QComboBox()
        for key in DECISIONS:
            self.duplicates.addItem({"skip": _tr("跳过（不改已登记的信息）"),
                                     "update": _tr("覆盖（用表中非空的值更新）"),
                                     "fill": _tr("补空（只填已登记信息中空着的项）")}[key], key)
        form = QFormLayout(self)
        form.addRow(_tr("文件："), row)
        form.addRow(_tr("工作表："), self.sheet)
        form.addRow(_tr("表格内容："), self.what)
        form.addRow(_tr("导入到："), self.target)
        form.addRow(_tr("已登记的人："), self.duplicates)
        note = QLabel(_tr("楼栋、单元、房屋按“现住址”（如 3栋2单元501、3-2-501）在所选单元下查找，"
                          "没有的自动新建；地址无法识别的户不分配房屋，地址记在户的备注中。"))
        note.setWordWrap(True)
        form.addRow(note)
        self.registerField("path*", self.path)

    def select_unit(self, unit_id: int | None) -> None:
        """Preselect the unit chosen in the grid tree, or the nearest one above it."""
        if unit_id is None:
            return
        for candidate in tree.ancestors(self.w.ctx.conn, unit_id):
            index = self.target.findData(candidate)
            if index >= 0:
                self.target.setCurrentIndex(index)
                return

    def _browse(self) -> None:
        path = file_dialogs.open_file(self, "import", _tr("选择要导入的表格"),
                                      _tr("表格文件 (*.xlsx *.xls *.xlsm *.csv)"))
        if path:
            self.path.setText(path)

    def _path_changed(self, text: str) -> None:

        self.sheet.clear()
        if not text or not Path(text).is_file():
            return
        try:
            self.sheet.addItems(sheet_names(text))
        except UnreadableFile:
            pass

    def validatePage(self) -> bool:
        if self.target.count() == 0:
            access = self.w.ctx.access
            QMessageBox.warning(self, _tr("无法导入"), _tr(
                "只读用户不能导入数据。") if access is not None and access.role not in
                (ADMIN, GRID_WORKER) else _tr("请先在网格树中建立社区或网格。"))
            return False
        return self.w.read(self.path.text(), self.sheet.currentText() or None)


class MappingPage(QWizardPage):
    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.w = wizard
        self.setTitle(_tr("核对列的对应关系"))
        self.header_label = QLabel()
        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([_tr("表格中的列"), _tr("示例"), _tr("导入为")])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.verticalHeader().setVisible(False)
        self.kept_label = QLabel()
        self.kept_label.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header_label)
        layout.addWidget(self.table)
        layout.addWidget(self.kept_label)
        self.combos: list[QComboBox] = []

    def initializePage(self) -> None:
        w = self.w
        kind = _tr("（识别为{0}登记表）").format(_tr(WHAT_LABELS[w.what]))
        rows = (_tr("第 {0} 行").format(w.header_row + 1) if w.first_row == w.header_row else
                _tr("第 {0}–{1} 行").format(w.first_row + 1, w.header_row + 1))
        by_name = w.what in ("visits", "volunteers")
        self.header_label.setText(_tr("表头在{0}{1}；").format(rows, kind) + (
            _tr("走访记录和志愿者名册按列名读取。") if by_name else
            _tr("下面的对应关系确认后会被记住，下次导入同样表头的表格时直接使用。"))
                                  + (_tr("（文件编码：{0}）").format(w.table.encoding)
                                     if w.table.encoding else ""))
        self.table.setRowCount(len(w.headers))
        self.combos = []
        samples = [r for r in w.table.rows[w.header_row + 1:] if not mapping_mod.is_blank(r)]
        for i, header in enumerate(w.headers):
            self.table.setItem(i, 0, QTableWidgetItem(header or _tr("（无列名）")))
            example = "、".join(normalize.text(r[i]) for r in samples[:SAMPLE_ROWS]
                               if i < len(r) and normalize.text(r[i]))
            self.table.setItem(i, 1, QTableWidgetItem(example))
            for c in (0, 1):
                self.table.item(i, c).setFlags(Qt.ItemFlag.ItemIsEnabled)
            combo = QComboBox()
            combo.addItem(_tr("（附加信息，随人保存）"), None)
            combo.setEnabled(not by_name)
            for target, _words in mapping_mod.TARGETS:
                combo.addItem(target.label, target.key)
            combo.setCurrentIndex(max(0, combo.findData(w.mapping[i])))
            combo.currentIndexChanged.connect(self.completeChanged)
            self.table.setCellWidget(i, 2, combo)
            self.combos.append(combo)
        self.table.resizeColumnToContents(0)
        self.table.setColumnWidth(2, 160)
        self.kept_label.setText("" if by_name else _tr(
            "没有对应字段的列不会丢失：作为附加信息随每个人保存，在详情中可见，导出时带出。"))

    def mapping(self) -> list[str | None]:
        return [c.currentData() for c in self.combos]

    def isComplete(self) -> bool:
        chosen = [k for k in self.mapping() if k]
        return "name" in chosen and len(chosen) == len(set(chosen))

    def validatePage(self) -> bool:
        chosen = [k for k in self.mapping() if k]
        if len(chosen) != len(set(chosen)):
            return False
        self.w.mapping = self.mapping()
        return self.w.make_plan()


class PreviewPage(QWizardPage):
    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.w = wizard
        self.setTitle(_tr("预览（尚未导入）"))
        self.counts = QLabel()
        self.counts.setWordWrap(True)
        self.model = PlanModel()
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [4, 5, 11, 4, 4, 30], multi=True, stretch=5)
        self.view.setSortingEnabled(False)
        self.only_errors = QCheckBox(_tr("只看错误行"))
        self.only_errors.toggled.connect(lambda on: self.model.set_plan(self.w.plan, on))
        self.decision = QComboBox()
        for key in DECISIONS:
            self.decision.addItem(_tr(DECISION_LABELS[key]), key)
        apply_selected = QPushButton(_tr("用于选中的行"))
        apply_selected.clicked.connect(self.decide_selected)
        apply_all = QPushButton(_tr("用于全部已登记的人"))
        apply_all.clicked.connect(self.decide_all)
        self.save_errors = QPushButton(_tr("保存错误报告…"))
        self.save_errors.clicked.connect(self.w.save_error_report)
        bar = QHBoxLayout()
        bar.addWidget(self.only_errors)
        bar.addStretch(1)
        bar.addWidget(QLabel(_tr("已登记的人：")))
        bar.addWidget(self.decision)
        bar.addWidget(apply_selected)
        bar.addWidget(apply_all)
        bar.addWidget(self.save_errors)
        self.columns = QLabel()
        self.columns.setWordWrap(True)
        self.flat = QComboBox()
        for key in FLAT_CHOICES:
            self.flat.addItem(_tr(FLAT_LABELS[key]), key)
        self.flat_row = QWidget()
        flat_layout = QHBoxLayout(self.flat_row)
        flat_layout.setContentsMargins(0, 0, 0, 0)
        flat_layout.addWidget(QLabel(_tr("表中没有户号和与户主关系，库中同一地址也没有户时：")))
        flat_layout.addWidget(self.flat, 1)
        self.flat.activated.connect(lambda _i: self.recheck())
        self.values = QTableWidget(0, 4)
        self.values.setHorizontalHeaderLabels([_tr("列"), _tr("代码表中没有的值"), _tr("行数"),
                                               _tr("处理方式")])
        self.values.verticalHeader().setVisible(False)
        self.values.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.values.setMaximumHeight(150)
        self.recheck_button = QPushButton(_tr("按所选处理重新检查"))
        self.recheck_button.clicked.connect(self.recheck)
        self.values_box = QWidget()
        values_layout = QVBoxLayout(self.values_box)
        values_layout.setContentsMargins(0, 0, 0, 0)
        values_layout.addWidget(self.values)
        values_layout.addWidget(self.recheck_button, 0, Qt.AlignmentFlag.AlignRight)
        self.value_combos: list[tuple[str, str, QComboBox]] = []
        layout = QVBoxLayout(self)
        layout.addWidget(self.counts)
        layout.addWidget(self.columns)
        layout.addWidget(self.flat_row)
        layout.addWidget(self.values_box)
        layout.addLayout(bar)
        layout.addWidget(self.view, 1)

    def initializePage(self) -> None:
        self.decision.setCurrentIndex(max(0, self.decision.findData(self.w.plan.on_duplicate)))
        self.shown_values: dict[tuple, int] = {}
        self.show_plan()

    def show_plan(self) -> None:
        plan = self.w.plan
        self.model.set_plan(plan, self.only_errors.isChecked())
        self.flat.setCurrentIndex(max(0, self.flat.findData(plan.flat)))
        self.flat_row.setVisible(plan.is_flat and self.w.what in ("residents", "focus"))
        kept, ignored = plan.kept_columns(), plan.ignored_columns()
        text = []
        if self.w.what == "focus" and self.w.tag:
            text.append(_tr("重点人群：{0}（表中的人导入后标记为该人群）").format(self.w.tag))
        if kept and self.w.what in ("residents", "focus"):
            text.append(_tr("作为附加信息随人保存的列（{0}）：{1}").format(len(kept), "、".join(kept)))
        if ignored:
            text.append(_tr("未导入的列：{0}").format("、".join(ignored)))
        self.columns.setText("\n".join(text))
        self.columns.setVisible(bool(text))
        self._show_values(plan.unknown_values())
        self.show_counts()

    def _show_values(self, unknown: dict) -> None:
        """Each value no code table knows, once per column, with a choice."""
        self.value_combos = []
        for label, found in unknown.items():        # values chosen for stay listed
            for value, n in found.items():
                self.shown_values[(label, value)] = n
        pairs = [(label, value, n) for (label, value), n in self.shown_values.items()]
        self.values.setRowCount(len(pairs))
        chosen = self.w.value_choices
        for r, (label, value, n) in enumerate(pairs):
            for c, text in enumerate((label, value, str(n))):
                item = QTableWidgetItem(text)
                item.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.values.setItem(r, c, item)
            combo = QComboBox()
            combo.addItem(_tr("保留原文（该项留空，原文随人保存）"), KEEP)
            combo.addItem(_tr("留空"), EMPTY)
            for item in _code_items(self.w, label):
                combo.addItem(_tr("对应为：{0}").format(item.label), item.code)
            current = chosen.get(label, {}).get(value, KEEP)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            self.values.setCellWidget(r, 3, combo)
            self.value_combos.append((label, value, combo))
        self.values.resizeColumnsToContents()
        self.values_box.setVisible(bool(pairs))

    def recheck(self) -> None:
        for label, value, combo in self.value_combos:
            self.w.value_choices.setdefault(label, {})[value] = combo.currentData()
        if self.w.make_plan(flat=self.flat.currentData()):
            self.show_plan()

    def show_counts(self) -> None:
        c = self.w.plan.counts()
        warned = len(self.w.plan.warning_rows())
        checking = sum(1 for r in self.w.plan.rows if r.checking and not r.errors)
        self.counts.setText(_tr("共 {0} 行：新增 {1}，更新 {2}，无变化 {3}，跳过 {4}，错误 {5}。"
                                "点“导入”后，除错误行以外的数据一次全部导入。")
                            .format(c["rows"], c["created"], c["updated"], c["unchanged"],
                                    c["skipped"], c["errors"])
                            + (_tr("其中 {0} 行有提示（黄色），照常导入。").format(warned)
                               if warned else "")
                            + (_tr("{0} 人所在的户由导入按规则定了户主，导入后请核对。")
                               .format(checking) if checking else ""))
        self.save_errors.setEnabled(c["errors"] > 0)

    def decide_selected(self) -> None:
        rows = self.model.plan_rows(self.view.selectionModel().selectedRows())
        self.w.plan.set_decision(self.decision.currentData(),
                                 [r for r in rows if r.existing is not None])
        self.model.refresh_rows()
        self.show_counts()

    def decide_all(self) -> None:
        self.w.plan.set_decision(self.decision.currentData())
        self.model.refresh_rows()
        self.show_counts()


class RunPage(QWizardPage):
    def __init__(self, wizard: "ImportWizard"):
        super().__init__()
        self.w = wizard
        self.setTitle(_tr("导入"))
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.save_errors = QPushButton(_tr("保存错误报告…"))
        self.save_errors.clicked.connect(self.w.save_error_report)
        self.save_errors.setVisible(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.result)
        layout.addWidget(self.save_errors, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        self.done = False

    def initializePage(self) -> None:
        self.done = False
        self.result.setText(_tr("正在导入…"))
        self.w.run_import(self._finished)

    def _finished(self, counts: dict | None, error: BaseException | None) -> None:
        self.done = True
        if counts is not None and self.w.what in ("visits", "volunteers"):
            self.result.setText(_tr("导入完成：新增 {0} {1}，跳过 {2}（已有），错误 {3} 行未导入。")
                                .format(counts["created"], _tr("条走访记录") if self.w.what ==
                                        "visits" else _tr("名志愿者"), counts["skipped"],
                                        counts["errors"]))
            self.save_errors.setVisible(counts["errors"] > 0)
        elif counts is not None:
            self.result.setText(_tr(
                "导入完成：新增 {0} 人（{1} 户），更新 {2} 人，无变化 {3}，跳过 {4}，错误 {5} 行未导入。")
                .format(counts["created"], counts.get("households_created", 0),
                        counts["updated"], counts["unchanged"], counts["skipped"],
                        counts["errors"])
                + (_tr("{0} 人标记为“{1}”。").format(counts["tagged"], self.w.tag)
                   if "tagged" in counts else ""))
            self.save_errors.setVisible(counts["errors"] > 0)
        else:
            self.result.setText(_tr("已取消，未导入任何数据。") if isinstance(error, Cancelled)
                                else _tr("导入失败，未导入任何数据：{0}").format(error))
        self.completeChanged.emit()

    def isComplete(self) -> bool:
        return self.done


class ImportWizard(QWizard):
    """The wizard; `imported(counts)` after an import has landed."""

    imported = Signal(dict)

    def __init__(self, ctx: Context, db_path, unit_id: int | None = None, parent=None):
        super().__init__(parent)
        self.ctx = ctx
        self.db_path = db_path
        self.setWindowTitle(_tr("导入表格"))
        self.setWizardStyle(QWizard.WizardStyle.ClassicStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage, True)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage, True)
        self.setButtonText(QWizard.WizardButton.FinishButton, _tr("完成"))
        self.setButtonText(QWizard.WizardButton.NextButton, _tr("下一步"))
        self.setButtonText(QWizard.WizardButton.BackButton, _tr("上一步"))
        self.setButtonText(QWizard.WizardButton.CancelButton, _tr("取消"))
        self.resize(860, 560)
        self.table = None
        self.headers: list[str] = []
        self.header_row = 0
        self.mapping: list[str | None] = []
        self.plan: Plan | None = None
        self.counts: dict | None = None
        self.first_row = 0
        self.what = "residents"
        self.tag: str | None = None
        self.value_choices: dict[str, dict] = {}
        self.file_page = FilePage(self)
        self.mapping_page = MappingPage(self)
        self.preview_page = PreviewPage(self)
        self.run_page = RunPage(self)
        for page in (self.file_page, self.mapping_page, self.preview_page, self.run_page):
            self.addPage(page)
        self.preview_page.setButtonText(QWizard.WizardButton.NextButton, _tr("导入"))
        self.file_page.select_unit(unit_id)

    # --- the steps, each in the background ----------------------------------------------
    def read(self, path: str, sheet: str | None) -> bool:

        task = background.run(lambda conn, progress: read_table(path, sheet), self.db_path,
                              parent=self, label=_tr("正在读取表格…"))
        task.wait()
        if task.error is not None:
            return False
        self.table = task.result
        try:
            header = headers_mod.locate(self.table.rows, self.table.sheet)
        except DomainError as exc:
            QMessageBox.warning(self, _tr("无法导入"), str(exc))
            return False
        self.first_row, self.header_row, self.headers = header.first_row, header.row, \
            header.labels
        self.what = self.file_page.what.currentData() or registers.detect(self.table)[0]
        self.tag = registers.focus_kind(self.table, header.first_row) \
            if self.what == "focus" else None
        self.mapping = mapping_mod.mapping_for(self.ctx.conn, self.headers)
        saved = settings.get(self.ctx.conn, VALUES_PREFIX + mapping_mod.signature(self.headers))
        self.value_choices = saved if isinstance(saved, dict) else {}
        if self.what == "focus" and not self.tag:
            QMessageBox.warning(self, _tr("无法导入"), _tr(
                "无法从表名看出是哪类重点人群。请在“表格内容”中选择“居民”导入。"))
            return False
        if self.what == "focus":
            try:
                registers.check_tag(self.ctx.conn, self.tag, self.ctx.access)
            except DomainError as exc:
                QMessageBox.warning(self, _tr("无法导入"), str(exc))
                return False
        return True

    def _values(self) -> dict:
        """The value choices as build_plan takes them (KEEP -> None: keep as text)."""
        return {label: {v: (None if c == KEEP else c) for v, c in found.items()}
                for label, found in self.value_choices.items()}

    def make_plan(self, flat: str | None = None) -> bool:

        table, mapping, header_row = self.table, list(self.mapping), self.header_row
        labels, values, what = list(self.headers), self._values(), self.what
        flat = flat or (self.plan.flat if self.plan is not None else "address")
        decision = self.file_page.duplicates.currentData()

        def work(ctx, progress):           # a dry run: the signed-in user's, as the import
            if what in ("visits", "volunteers"):
                return registers.import_register(ctx, table, what, None, dry_run=True).plan
            plan = build_plan(ctx.conn, table, mapping, header_row=header_row, headers=labels,
                              on_duplicate=decision, values=values, flat=flat,
                              progress=progress)
            hold_to_grid(plan, ctx.access)           # shown in the preview, not at the end
            return plan

        task = operations.query(self, self.ctx, work, label=_tr("正在检查每一行…"))
        task.wait()
        if task.error is not None:
            return False
        self.plan = task.result
        self.plan.first_row = self.first_row
        return True

    def run_import(self, finished) -> operations.CollectionOp:
        """The import itself: a background operation for the signed-in user, whose changes
        reach the window's pages as a foreground write's do (issue 19 §2)."""

        plan, what, tag, table = self.plan, self.what, self.tag, self.table
        target = self.file_page.target.currentData()
        if self.value_choices:
            with self.ctx.transaction():
                settings.put(self.ctx.conn, VALUES_PREFIX + mapping_mod.signature(self.headers),
                             self.value_choices)

        def work(ctx: Context, progress):
            if what == "residents":
                return apply_plan(ctx, plan, target, progress=progress)
            if what == "focus":
                with ctx.transaction():
                    counts = apply_plan(ctx, plan, target, progress=progress)
                    counts["tagged"] = registers._tag_rows(ctx, plan, tag)
                return counts
            return registers.import_register(ctx, table, what, target).counts

        def succeeded(counts):
            self.counts = counts
            finished(counts, None)
            self.imported.emit(counts)

        def failed(exc):
            finished(None, exc)             # the page says what happened
            if not isinstance(exc, (Cancelled, DomainError, StorageError)):
                background.show_error(self, exc)      # a bug: with its traceback

        return operations.CollectionOp(self, self.ctx, work, label=_tr("正在导入…")) \
            .success(succeeded).failure(failed).run_in_background()

    def save_error_report(self) -> str | None:

        if self.plan is None:
            return None
        suggested = str(Path(self.plan.path).with_name(Path(self.plan.path).stem + "_错误行.xlsx"))
        path = file_dialogs.save_file(self, "import", _tr("保存错误报告"), suggested,
                                      _tr("Excel 表格 (*.xlsx)"))
        if not path:
            return None
        try:
            n = write_error_report(self.plan, path)
        except OSError as exc:
            QMessageBox.warning(self, _tr("无法保存"), _tr("无法写入“{0}”：{1}").format(path, exc))
            return None
        QMessageBox.information(self, _tr("已保存"), _tr(
            "已把 {0} 行错误写入“{1}”。改正标红的单元格后，可直接导入这个文件。").format(n, path))
        return path


def _code_items(w: ImportWizard, label: str) -> list:
    """The code table of the column labelled `label` (its mapped field's), or []."""

    if label not in w.headers:
        return []
    key = w.mapping[w.headers.index(label)] if w.headers.index(label) < len(w.mapping) else None
    for f in (*RESIDENT_FIELDS, *HOUSEHOLD_FIELDS):
        if f.name == key and f.code_table:
            return list(codes.table(f.code_table))
    return []


def open_import(parent, ctx: Context, db_path, unit_id: int | None = None) -> ImportWizard:
    wizard = ImportWizard(ctx, db_path, unit_id, parent)
    wizard.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    wizard.open()
    return wizard
