"""The reports page (台账报表): choose a ledger (or the monthly report), unit, month and
options; generate the PDF in the background; preview it here; print it or save it.

The PDF is written to a temporary folder of the page; 另存为 copies it, 打印 paints its pages
on a printer (ui/pdf_preview.py). Generating records the print in the audit log (with the
unmasking, when asked for); saving and printing add an entry each.
"""
from __future__ import annotations

import atexit
import datetime as dt
import functools
import importlib.util
import shutil
import tempfile
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import settings, tree
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.progress import Cancelled
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.reports.pdf import fonts
from shequ_desktop.reports.pdf import ledger_print as printing
from ui import background, file_dialogs, operations
from ui.follow import follow_changes
from ui.pdf_preview import PdfPreview, print_pdf

MONTHLY = "monthly"
MONTHLY_MODULE = "shequ_desktop.reports.pdf.monthly_report"
MONTHLY_TITLE = "月度工作报表"
ALL_UNITS = None
OTHER_FONT = "__other__"
WARNING_STYLE = "color: #b00020;"


def monthly_report_available() -> bool:
    return importlib.util.find_spec(MONTHLY_MODULE) is not None


class MonthEdit(QDateEdit):
    """A month chooser whose arrows (keys, wheel, buttons) always step whole months, wherever
    the cursor sits (after 「月」 a plain QDateEdit's arrows do nothing)."""

    def stepBy(self, steps: int) -> None:
        self.setDate(self.date().addMonths(steps))

    def stepEnabled(self):
        return QAbstractSpinBox.StepEnabledFlag.StepUpEnabled \
            | QAbstractSpinBox.StepEnabledFlag.StepDownEnabled


STALE_NOTE = "预览仍是原来范围的报表；按“生成”按新选的范围重新生成。"


class ReportsPage(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.unit_id: int | None = None
        self.folder = Path(tempfile.mkdtemp(prefix="shequ-reports-"))
        self.last: dict | None = None          # what was generated last, with "path"
        self.task = None

        self.kind = QComboBox()
        for kind in ledgers.available(ctx.conn):
            self.kind.addItem(self.tr(ledgers.KINDS[kind]), kind)
        if monthly_report_available():
            self.kind.addItem(self.tr(MONTHLY_TITLE), MONTHLY)
        self.kind.currentIndexChanged.connect(self._on_kind)
        self.unit = QComboBox()
        self.unit.setMinimumContentsLength(14)
        self.month = MonthEdit()
        self.month.setDisplayFormat("yyyy年M月")
        self.month.setDate(QDate(dt.date.today().year, dt.date.today().month, 1))
        self.group = QComboBox()
        self.unmask = QCheckBox(self.tr("显示完整证件号和电话"))
        self.unmask.setToolTip(self.tr("默认隐去身份证号中间的出生日期和电话中间四位；"
                                       "显示完整号码仅对本次打印有效，并记入审计日志"))
        self.unmask.toggled.connect(self._on_unmask)
        self.font_box = QComboBox()
        self.font_box.activated.connect(self._on_font)
        self.font_warning = QLabel()
        self.font_warning.setWordWrap(True)
        self.font_warning.setStyleSheet(WARNING_STYLE)

        form = QFormLayout()
        form.addRow(self.tr("报表："), self.kind)
        form.addRow(self.tr("范围："), self.unit)
        form.addRow(self.tr("月份："), self.month)
        form.addRow(self.tr("分组："), self.group)
        form.addRow("", self.unmask)
        form.addRow(self.tr("字体："), self.font_box)
        form.addRow("", self.font_warning)
        options = QGroupBox(self.tr("台账报表"))
        options.setLayout(form)

        self.generate_button = QPushButton(self.tr("生成"))
        self.generate_button.setDefault(True)
        self.generate_button.clicked.connect(self.generate)
        self.print_button = QPushButton(self.tr("打印…"))
        self.print_button.setToolTip(self.tr("打印（Ctrl+P）"))
        self.print_button.clicked.connect(self.print_current)
        self.save_button = QPushButton(self.tr("另存为…"))
        self.save_button.clicked.connect(self.save_as)
        buttons = QHBoxLayout()
        buttons.addWidget(self.generate_button)
        buttons.addWidget(self.print_button)
        buttons.addWidget(self.save_button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        side = QWidget()
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        side_layout.addWidget(options)
        side_layout.addLayout(buttons)
        side_layout.addWidget(self.status)
        side_layout.addStretch(1)

        self.preview = PdfPreview()
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(side)
        splitter.addWidget(self.preview)
        splitter.setStretchFactor(1, 1)
        splitter.setCollapsible(1, False)
        splitter.setSizes([300, 700])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(splitter)

        shortcut = QShortcut(QKeySequence.StandardKey.Print, self)
        shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        shortcut.activated.connect(self.print_current)
        self._load_units()
        self._load_fonts()
        self._on_kind()
        self._update_buttons()
        follow_changes(self, ctx, self.apply_changes)
        # The generated files go with the page, or at the latest when the program exits.
        remove = functools.partial(shutil.rmtree, self.folder, ignore_errors=True)
        self.destroyed.connect(lambda *_a: remove())
        atexit.register(remove)

    # --- choices -------------------------------------------------------------------------------
    def _restricted(self) -> bool:
        return self.ctx.access is not None and self.ctx.access.restricted

    def _load_units(self) -> None:
        """全部, then the streets, communities and grids (indented, tree.chooser_order); a deeper unit
        chosen in the tree is added when it is chosen. A 网格员 is offered their own units."""
        keep = self.unit.currentData()
        blocker = self.unit.blockSignals(True)
        self.unit.clear()
        units = tree.all_units(self.ctx.conn, tree.TOP_LEVELS)
        if self._restricted():
            self.unit.addItem(self.tr("我负责的全部网格"), ALL_UNITS)
            units = [u for u in units if self.ctx.access.may_read(u["id"])]
        else:
            self.unit.addItem(self.tr("全部"), ALL_UNITS)
        for u, depth in tree.chooser_order(units):
            self.unit.addItem("　" * depth + u["name"], u["id"])
        self.unit.blockSignals(blocker)
        self._choose_unit(keep if keep is not None else self.unit_id)

    def _choose_unit(self, unit_id: int | None) -> None:
        if unit_id is not None and self._restricted() and not self.ctx.access.may_read(unit_id):
            unit_id = ALL_UNITS                  # a unit above a 网格员's: their own units
        index = self.unit.findData(unit_id)
        if index < 0 and unit_id is not None:
            names = tree.path_names(self.ctx.conn, unit_id)
            self.unit.addItem(" / ".join(names[-3:]), unit_id)
            index = self.unit.count() - 1
        self.unit.setCurrentIndex(max(index, 0))

    def _load_fonts(self) -> None:
        chosen = settings.get(self.ctx.conn, printing.FONT_SETTING)
        self.font_box.clear()
        self.font_box.addItem(self.tr("自动（找到的第一种中文字体）"), None)
        for path, _index, label in fonts.available():
            self.font_box.addItem(f"{label}（{Path(path).name}）", path)
        if chosen and self.font_box.findData(chosen) < 0:
            self.font_box.addItem(Path(chosen).name, chosen)
        self.font_box.addItem(self.tr("其他字体文件…"), OTHER_FONT)
        self.font_box.setCurrentIndex(max(self.font_box.findData(chosen), 0))
        self._show_font_warning()

    def _on_font(self, index: int) -> None:
        path = self.font_box.itemData(index)
        if path == OTHER_FONT:
            path = file_dialogs.open_file(self, "font", self.tr("选择中文字体"),
                                          self.tr("TrueType 字体 (*.ttf *.ttc)"))
            if not path:
                self._load_fonts()
                return
        self.set_font(path)

    def set_font(self, path: str | None) -> None:
        """Use this font file (None: automatic) from now on, for every PC using the database."""
        settings.put(self.ctx.conn, printing.FONT_SETTING, path)
        self._load_fonts()

    def _show_font_warning(self) -> None:
        """Checked off the GUI thread: loading a TrueType font's tables takes 0.3 s."""
        def show(warning: str) -> None:
            self.font_warning.setText(warning)
            self.font_warning.setVisible(bool(warning))

        operations.latest(self, "font", self.ctx,
                          lambda ctx: printing.font_for(ctx.conn).warning, show)

    def _on_kind(self, *_args) -> None:
        kind = self.kind.currentData()
        self.group.clear()
        if kind in ledgers.GROUPINGS:
            for key, label in ledgers.GROUPINGS[kind].items():
                self.group.addItem(self.tr(label), key)
            self.group.addItem(self.tr("不分组"), None)
        is_ledger = kind in ledgers.KINDS
        self.group.setEnabled(is_ledger)
        self.unmask.setEnabled(is_ledger and kind != "events")

    def _on_unmask(self, checked: bool) -> None:
        if not checked:
            return
        answer = QMessageBox.question(
            self, self.tr("显示完整证件号"),
            self.tr("本次打印将显示完整的身份证号和电话号码。\n"
                    "纸质台账请妥善保管；此操作将记入审计日志。\n\n确定显示吗？"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            blocker = self.unmask.blockSignals(True)
            self.unmask.setChecked(False)
            self.unmask.blockSignals(blocker)

    # --- what the window tells us ---------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        """The unit chosen in the grid tree becomes the report's scope."""
        self.unit_id = unit_id
        self._choose_unit(unit_id)
        # A generated preview (maybe thousands of pages) is kept; the page says it is of the
        # scope it was made for until 生成 is pressed again.
        last = self.last
        if last and last.get("unit_id") != self.unit.currentData() \
                and STALE_NOTE not in self.status.text():
            self.status.setText(self.status.text() + "\n" + self.tr(STALE_NOTE))

    def refresh(self) -> None:
        self._load_units()
        self._load_fonts()

    def apply_changes(self, changes: list[Change]) -> None:
        if any(c.entity == "grid_units" for c in changes):
            self._load_units()

    # --- generating ------------------------------------------------------------------------------
    def options(self) -> dict:
        kind = self.kind.currentData()
        date = self.month.date()
        return {"kind": kind, "unit_id": self.unit.currentData(),
                "month": f"{date.year():04d}-{date.month():02d}",
                "group": self.group.currentData() if kind in ledgers.KINDS else None,
                "unmask": self.unmask.isChecked() and self.unmask.isEnabled(),
                "font_path": settings.get(self.ctx.conn, printing.FONT_SETTING)}

    def generate(self) -> None:
        """Write the chosen report in the background; preview it when done."""
        opts = self.options()
        kind = opts["kind"]
        if kind is None:
            return
        title = MONTHLY_TITLE if kind == MONTHLY else ledgers.KINDS[kind]
        path = self.folder / f"{title}-{opts['month']}.pdf"

        def work(ctx, progress):
            if kind == MONTHLY:
                monthly = importlib.import_module(MONTHLY_MODULE)
                figures = monthly.build(ctx.conn, opts["month"], opts["unit_id"], path,
                                        font_path=opts["font_path"], progress=progress,
                                        actor=ctx.user, access=ctx.access)
                return {"title": title, "figures": figures, "rows": None,
                        "warning": figures.get("warning", "")}
            return printing.build(ctx.conn, kind, path, unit_id=opts["unit_id"],
                                  month=opts["month"], unmask=opts["unmask"], actor=ctx.user,
                                  font_path=opts["font_path"], progress=progress,
                                  group=opts["group"], access=ctx.access)

        def done(result: dict) -> None:
            self.task = None
            self.last = {**result, **opts, "title": title, "path": path}
            self.preview.open(path)
            pages = self.preview.page_count()
            text = self.tr("{0}（{1}）：共 {2} 页").format(
                title, self._period_text(opts["month"]), pages)
            if result.get("rows") is not None:
                text += self.tr("，{0} 条").format(f"{result['rows']:,}")
            if result.get("warning"):
                text += "\n" + result["warning"]
            self.status.setText(text)
            if self.unmask.isChecked():       # unmasking is for this one print only
                self.unmask.setChecked(False)
            self._update_buttons()

        def failed(exc: BaseException) -> None:
            self.task = None
            self.status.setText(self.tr("已取消") if isinstance(exc, Cancelled)
                                else self.tr("未能生成：{0}").format(exc))
            self._update_buttons()
            background.show_error(self, exc)

        self.status.setText(self.tr("正在生成{0}…").format(title))
        self.generate_button.setEnabled(False)
        self.task = operations.CollectionOp(
            self, self.ctx, work, label=self.tr("正在生成{0}…").format(title),
            counting=None if kind == MONTHLY else self._ledger_count)
        self.task.success(done).failure(failed).run_in_background()

    def _ledger_count(self, done: int, total: int) -> str:
        """A ledger reports rows twice over (laid out, then drawn: total = 2 × rows)."""
        rows = total // 2
        if done <= rows:
            return self.tr("已排版 {0} / {1} 行").format(f"{done:,}", f"{rows:,}")
        return self.tr("已绘制 {0} / {1} 行").format(f"{done - rows:,}", f"{rows:,}")

    @staticmethod
    def _period_text(month: str) -> str:
        return ledgers.parse_month(month).label

    def _update_buttons(self) -> None:
        ready = self.last is not None and self.last["path"].exists()
        self.print_button.setEnabled(ready)
        self.save_button.setEnabled(ready)
        self.generate_button.setEnabled(self.task is None)

    # --- printing and saving -------------------------------------------------------------------
    def _detail(self) -> dict:
        last = self.last
        return {"kind": last["kind"], "unit": last["unit_id"], "month": last["month"],
                "rows": last.get("rows"), "unmask": last.get("unmask", False)}

    def print_current(self) -> None:
        if self.last is None:
            return
        try:
            printed = print_pdf(self.last["path"], self, self.last["title"])
        except OSError as exc:
            QMessageBox.warning(self, self.tr("无法打印"), str(exc))
            return
        if printed:
            printing.record_output(self.ctx.conn, self.ctx.user, self.last["title"],
                                   f"送打印机 {printed} 页", self._detail())
            self.status.setText(self.tr("已送打印机 {0} 页").format(printed))

    def save_as(self) -> None:
        if self.last is None:
            return
        target = file_dialogs.save_file(self, "pdf", self.tr("另存为"), self.last["path"].name,
                                        self.tr("PDF 文件 (*.pdf)"))
        if not target:
            return
        if not target.lower().endswith(".pdf"):
            target += ".pdf"
        try:
            shutil.copyfile(self.last["path"], target)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("无法保存"), self.tr("无法写入“{0}”：{1}").format(
                target, exc.strerror or exc))
            return
        printing.record_output(self.ctx.conn, self.ctx.user, self.last["title"],
                               f"另存为 {target}", self._detail())
        self.status.setText(self.tr("已保存到 {0}").format(target))
