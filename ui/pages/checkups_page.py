"""The 社区体检 page (issue 21): the check-ups of the chosen unit, and for the chosen one the
完整社区 checklist beside the year before (status, change, notes), setting statuses, adding
improvement items (events in the closed loop), photos per item (thumbnails, kept encrypted in
the database) and printing the report.

Everything is a function of shequ_desktop.community.checkups; the page re-reads after a committed change
that touches what it shows, and only while shown.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, QSize, Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.community import checkups
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.checkup_report import build
from ui.dialogs.move_dialogs import date_edit
from ui.pages.community_base import AskDialog, CommunityPage, DictModel, page_title
from ui.table_setup import setup_table

RELEVANT = ("checkups", "checkup_results", "checkup_findings", "checkup_photos", "events",
            "grid_units")
THUMB = 96
STATUS_INK = {"不达标": QColor("#b3261e"), "基本达标": QColor("#8a5a00"), "达标": QColor("#1b6e20")}


class ChecklistModel(DictModel):
    """The checklist rows of `checkups.compare`, the statuses coloured."""

    def __init__(self, parent=None):
        super().__init__(("领域", "编号", "体检项目", "上年", "本年", "变化", "照片", "说明"),
                         ("area", "item", "name", "last", "this", "change", "photos", "notes"),
                         id_key="item", parent=parent)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is not None and role == Qt.ItemDataRole.ForegroundRole and index.column() in (3, 4):
            ink = STATUS_INK.get(row[self.keys[index.column()]] or "")
            return QBrush(ink) if ink else None
        if row is not None and role == Qt.ItemDataRole.DisplayRole and index.column() == 4:
            return row["this"] or self.tr("未查")
        return super().data(index, role)


class StartDialog(AskDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("新建社区体检"))
        self.year = QSpinBox()
        self.year.setRange(2000, 2100)
        self.year.setValue(dt.date.today().year)
        self.date = date_edit()
        self.inspector = QLineEdit()
        form = QFormLayout()
        form.addRow(self.tr("年度："), self.year)
        form.addRow(self.tr("体检日期："), self.date)
        form.addRow(self.tr("体检人："), self.inspector)
        self.finish(form)

    def answer(self) -> dict:
        return {"year": self.year.value(),
                "checked_on": self.date.date().toString(Qt.DateFormat.ISODate),
                "inspector": self.inspector.text().strip() or None}



class ResultDialog(AskDialog):
    """The status and notes of one or more items; or, with `finding`, an improvement item."""

    def __init__(self, names: list[str], finding: bool = False, parent: QWidget | None = None):
        super().__init__(parent)
        self.finding = finding
        self.setWindowTitle(self.tr("添加整改事项") if finding else self.tr("记录体检结果"))
        self.setMinimumWidth(420)
        form = QFormLayout()
        form.addRow(self.tr("项目："), QLabel("、".join(names)))
        self.status = QComboBox()
        self.status.addItems(checkups.statuses())
        self.notes = QLineEdit()
        self.owner = QLineEdit()
        self.days = QSpinBox()
        self.days.setRange(0, 365)
        self.days.setSpecialValueText(self.tr("暂不受理"))
        self.days.setSuffix(self.tr(" 个工作日"))
        if finding:
            form.addRow(self.tr("整改内容："), self.notes)
            form.addRow(self.tr("责任人："), self.owner)
            form.addRow(self.tr("整改期限："), self.days)
        else:
            form.addRow(self.tr("状态："), self.status)
            form.addRow(self.tr("说明："), self.notes)
        self.finish(form)

    def answer(self) -> dict:
        if self.finding:
            return {"content": self.notes.text(), "owner": self.owner.text() or None,
                    "deadline_days": self.days.value() or None}
        return {"status": self.status.currentText(), "notes": self.notes.text() or None}



class CheckupsPage(CommunityPage):
    RELEVANT = RELEVANT

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(ctx, db_path, parent)
        self._photos: dict[str, list[dict]] = {}

        title = page_title(self.tr("社区体检"))
        self.start_button = QPushButton(self.tr("新建体检…"))
        self.start_button.setToolTip(self.tr("在左侧选一个小区（或社区）后新建"))
        self.start_button.clicked.connect(self.start)
        self.result_button = QPushButton(self.tr("记录结果…"))
        self.result_button.clicked.connect(self.set_results)
        self.finding_button = QPushButton(self.tr("添加整改事项…"))
        self.finding_button.clicked.connect(self.add_finding)
        self.report_button = QPushButton(self.tr("打印报告…"))
        self.report_button.clicked.connect(lambda: self.print_report())
        self.summary = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        for button in (self.start_button, self.result_button, self.finding_button,
                       self.report_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        self.model = DictModel(("年度", "小区/社区", "体检日期", "已查", "达标", "不达标", "整改",
                                "未办结"),
                               ("year", "unit_name", "checked_on", "checked", "passed", "failed",
                                "findings", "open_findings"), parent=self)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [3, 7, 6, 3, 3, 3, 3, 3], stretch=1)
        self.view.selectionModel().currentRowChanged.connect(self._show_checklist)
        self.checklist = ChecklistModel(self)
        self.list_view = QTableView()
        self.list_view.setModel(self.checklist)
        setup_table(self.list_view, [7, 3, 12, 4, 4, 3, 3, 14], multi=True, stretch=7)
        self.list_view.selectionModel().selectionChanged.connect(self._show_photos)
        self.findings = DictModel(("项目", "整改内容", "责任人", "事件", "状态", "时限"),
                                  ("item", "content", "owner", "event_id", "status", "deadline"),
                                  parent=self)
        self.finding_view = QTableView()
        self.finding_view.setModel(self.findings)
        setup_table(self.finding_view, [3, 16, 6, 3, 4, 8], stretch=1)
        self.photo_list = QListWidget()
        self.photo_list.setViewMode(QListWidget.ViewMode.IconMode)
        self.photo_list.setIconSize(QSize(THUMB, THUMB))
        self.photo_list.setResizeMode(QListWidget.ResizeMode.Adjust)
        self.photo_list.setMovement(QListWidget.Movement.Static)
        self.photo_list.setWordWrap(True)
        self.photo_list.itemSelectionChanged.connect(self._update_buttons)
        self.photo_label = QLabel()
        self.photo_button = QPushButton(self.tr("添加照片…"))
        self.photo_button.setToolTip(self.tr("给选中的一项添加照片（随数据库加密保存）"))
        self.photo_button.clicked.connect(lambda: self.add_photos())
        self.delete_photo_button = QPushButton(self.tr("删除照片"))
        self.delete_photo_button.clicked.connect(self.delete_photo)
        photo_bar = QHBoxLayout()
        photo_bar.setContentsMargins(0, 0, 0, 0)
        photo_bar.addWidget(self.photo_label, 1)
        photo_bar.addWidget(self.photo_button)
        photo_bar.addWidget(self.delete_photo_button)
        photo_box = QWidget()
        photo_layout = QVBoxLayout(photo_box)
        photo_layout.setContentsMargins(0, 0, 0, 0)
        photo_layout.addLayout(photo_bar)
        photo_layout.addWidget(self.photo_list, 1)
        right = QSplitter(Qt.Orientation.Vertical)
        right.addWidget(self.list_view)
        right.addWidget(photo_box)
        right.addWidget(self.finding_view)
        right.setStretchFactor(0, 3)
        right.setStretchFactor(1, 1)
        right.setStretchFactor(2, 1)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(right)
        split.setStretchFactor(1, 1)
        split.setSizes([380, 900])
        self.arrange(bar, split)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def reload(self, *_args) -> None:
        self._stale = False
        try:
            rows = checkups.list_checkups(self.ctx.conn, access=self.ctx.access,
                                          unit_id=self.unit_id)
        except DomainError:
            rows = []
        self.show_rows(self.view, rows, self.current_id())
        self._show_checklist()

    def current_id(self) -> int | None:
        return self.current_id_of(self.view)

    def _show_checklist(self, *_args) -> None:
        cid = self.current_id()
        chosen = [r["item"] for r in self.selected_items()]
        self._photos: dict[str, list[dict]] = {}
        if cid is None:
            self.checklist.set_rows([])
            self.findings.set_rows([])
            self.summary.clear()
        else:
            data = checkups.compare(self.ctx.conn, cid, self.ctx.access)
            self._photos = data["this"]["photos"]
            self.checklist.set_rows([{**r, "photos": len(self._photos.get(r["item"], []))
                                      or ""} for r in data["rows"]])
            self.select_items(chosen)
            self.findings.set_rows(data["this"]["findings"])
            counts = data["this_counts"]
            better = sum(r["change"] == "↑" for r in data["rows"])
            worse = sum(r["change"] == "↓" for r in data["rows"])
            self.summary.setText(self.tr("{0}年：{1}；比上年好转 {2} 项，变差 {3} 项").format(
                data["this"]["year"], "、".join(f"{s} {n}" for s, n in counts.items() if n),
                better, worse))
        self._show_photos()

    def _show_photos(self, *_args) -> None:
        """The photos of the chosen item (of every item when none or several are chosen)."""
        chosen = self.selected_items()
        codes = [chosen[0]["item"]] if len(chosen) == 1 else list(self._photos)
        self.photo_list.clear()
        for code in codes:
            for photo in self._photos.get(code, []):
                item = QListWidgetItem(f"{code} {photo['name']}")
                item.setData(Qt.ItemDataRole.UserRole, photo["id"])
                item.setToolTip(f"{photo['name']}（{photo['size'] / 1024:.0f} KB）")
                icon = self._thumbnail(photo)
                if icon is not None:
                    item.setIcon(icon)
                self.photo_list.addItem(item)
        count = self.photo_list.count()
        self.photo_label.setText(
            self.tr("{0} 的照片：{1} 张").format(chosen[0]["item"], count) if len(chosen) == 1
            else self.tr("本次体检的照片：{0} 张（选中一项可添加）").format(count))
        self._update_buttons()

    def _thumbnail(self, photo: dict) -> QIcon | None:
        if not photo["held"]:
            return None                      # still on its way in a data package
        from PySide6.QtGui import QPixmap

        pixmap = QPixmap()
        if not pixmap.loadFromData(checkups.photo_data(self.ctx.conn, photo["id"])[1]):
            return None
        return QIcon(pixmap.scaled(THUMB, THUMB, Qt.AspectRatioMode.KeepAspectRatio,
                                   Qt.TransformationMode.SmoothTransformation))

    def selected_items(self) -> list[dict]:
        rows = sorted(i.row() for i in self.list_view.selectionModel().selectedRows())
        return [self.checklist.rows[r] for r in rows]

    def select_items(self, codes: list[str]) -> None:
        from PySide6.QtCore import QItemSelectionModel

        selection = self.list_view.selectionModel()
        selection.clearSelection()
        for code in codes:
            row = self.checklist.row_of(code)
            selection.select(self.checklist.index(row, 0),
                             QItemSelectionModel.SelectionFlag.Select
                             | QItemSelectionModel.SelectionFlag.Rows)

    def _update_buttons(self, *_args) -> None:
        chosen = self.current_id() is not None
        items = len(self.list_view.selectionModel().selectedRows())
        self.result_button.setEnabled(chosen and items > 0)
        self.finding_button.setEnabled(chosen and items == 1)
        self.report_button.setEnabled(chosen and self.db_path is not None)
        self.photo_button.setEnabled(chosen and items == 1)
        self.delete_photo_button.setEnabled(bool(self.photo_list.selectedItems()))

    # --- acting ------------------------------------------------------------------------------
    def start(self) -> None:
        if self.unit_id is None:
            QMessageBox.information(self, self.tr("新建体检"), self.tr("请先在左侧选一个小区或社区"))
            return
        values = StartDialog.ask(self)
        if values is not None:
            self.attempt(self.tr("无法新建体检"),
                         lambda: checkups.start_checkup(self.ctx, self.unit_id, **values))

    def set_results(self) -> None:
        cid, chosen = self.current_id(), self.selected_items()
        if cid is None or not chosen:
            return
        values = ResultDialog.ask(self, [r["name"] for r in chosen])
        if values is None:
            return

        def write():
            with self.ctx.transaction():
                for r in chosen:
                    checkups.set_result(self.ctx, cid, r["item"], **values)
        self.attempt(self.tr("无法记录结果"), write)

    def add_finding(self) -> None:
        cid, chosen = self.current_id(), self.selected_items()
        if cid is None or len(chosen) != 1:
            return
        values = ResultDialog.ask(self, [chosen[0]["name"]], finding=True)
        if values is not None:
            self.attempt(self.tr("无法添加整改事项"), lambda: checkups.add_finding(
                self.ctx, cid, chosen[0]["item"], **values))

    def add_photos(self, paths: list[str] | None = None) -> None:
        from PySide6.QtWidgets import QFileDialog

        cid, chosen = self.current_id(), self.selected_items()
        if cid is None or len(chosen) != 1:
            return
        if paths is None:
            paths, _filter = QFileDialog.getOpenFileNames(
                self, self.tr("选择“{0}”的照片").format(chosen[0]["name"]), "",
                self.tr("图片 (*.jpg *.jpeg *.png);;所有文件 (*)"))
        for path in paths:
            if not self.attempt(self.tr("无法添加照片"), lambda p=path: checkups.add_photo(
                    self.ctx, cid, chosen[0]["item"], p)):
                break

    def delete_photo(self) -> None:
        chosen = self.photo_list.selectedItems()
        if not chosen:
            return
        if QMessageBox.question(self, self.tr("删除照片"), self.tr("删除选中的 {0} 张照片？").format(
                len(chosen))) != QMessageBox.StandardButton.Yes:
            return
        ids = [item.data(Qt.ItemDataRole.UserRole) for item in chosen]

        def remove():
            with self.ctx.transaction():
                for photo_id in ids:
                    checkups.delete_photo(self.ctx, photo_id)
        self.attempt(self.tr("无法删除照片"), remove)

    def print_report(self, path: str | None = None) -> dict | None:

        cid = self.current_id()
        if cid is None:
            return None
        return self.write_file(lambda ctx, out, _p: build(ctx.conn, cid, out, access=ctx.access,
                                                          actor=ctx.user),
                               path, self.tr("保存社区体检报告"), f"社区体检报告_{cid}.pdf")
