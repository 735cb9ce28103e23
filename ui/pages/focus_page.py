"""The 重点人群 page (issue 21): the focus groups in use with their visit interval, members and
own fields; a group's members with their field values (filled in here); 一老一小 services
recorded for the chosen members and listed by month; a group's list exported with its fields.

Everything it does is a function of shequ_desktop.population.focus_groups / services; it re-reads after a
committed change that touches what it shows, and only while shown.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, QObject, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework import services
from shequ_desktop.core.access import ADMIN
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.population import focus_groups
from shequ_desktop.reports.ledger_rows import parse_month
from shequ_desktop.transfer.exporting import templates, writer
from ui import operations
from ui.dialogs.focus_dialogs import GroupDialog, MemberFieldsDialog, ServiceDialog
from ui.models.row_list import ID_ROLE, RowListModel
from ui.pages.community_base import CommunityPage, DictModel, page_title
from ui.table_setup import setup_table

RELEVANT = ("tags", "resident_tags", "residents", "services", "visits", "households", "houses",
            "grid_units")
MONTHS_SHOWN = 12


class GroupModel(RowListModel):
    headers = ("重点人群", "周期(天)", "人数", "附加字段")

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return (row["name"], "" if row["visit_interval_days"] is None
                    else str(row["visit_interval_days"]), str(row["members"]),
                    "、".join(row["fields"]))[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3:
            return "、".join(row["fields"])
        if role == Qt.ItemDataRole.TextAlignmentRole and index.column() in (1, 2):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return row["id"]
        return None


class MemberModel(RowListModel):
    """A group's members; its columns end with the group's own fields."""

    BASE = ("姓名", "住址", "纳入日期", "最近走访")

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.labels: list[str] = []
        self.headers = self.BASE

    def set_members(self, rows: list[dict], labels: list[str]) -> None:
        self.beginResetModel()
        self.labels = list(labels)
        self.headers = (*self.BASE, *self.labels)
        self.rows = rows
        self.endResetModel()

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if (role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal
                and section >= len(self.BASE)):
            return self.headers[section] if section < len(self.headers) else None
        return super().headerData(section, orientation, role)

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            column = index.column()
            if column < len(self.BASE):
                value = (row["name"], row["address"], row["since"],
                         row["last_visit"] or self.tr("从未走访"))[column]
            else:
                value = row["values"].get(self.labels[column - len(self.BASE)], "")
            return value or ""
        if role == ID_ROLE:
            return row["id"]
        return None


class FocusPage(CommunityPage):
    """Emits residentSelected(resident id) when a member becomes the current row."""

    residentSelected = Signal(int)
    RELEVANT = RELEVANT

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(ctx, db_path, parent)
        self.reloads = 0
        self._members_for = None
        admin = ctx.access is None or ctx.access.role == ADMIN

        self.add_button = QPushButton(self.tr("新增类别…"))
        self.add_button.clicked.connect(self.add_group)
        self.fields_button = QPushButton(self.tr("附加字段…"))
        self.fields_button.clicked.connect(self.edit_fields)
        self.catalogue_button = QPushButton(self.tr("按目录补充"))
        self.catalogue_button.setToolTip(self.tr("添加内置目录中本库还没有的重点人群类别（共 {0} 类）")
                                         .format(len(focus_groups.catalogue())))
        self.catalogue_button.clicked.connect(self.add_catalogue)
        for button in (self.add_button, self.fields_button, self.catalogue_button):
            button.setVisible(admin)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(page_title(self.tr("重点人群")))
        bar.addSpacing(12)
        for button in (self.add_button, self.fields_button, self.catalogue_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.groups = GroupModel(self)
        self.group_view = QTableView()
        self.group_view.setModel(self.groups)
        setup_table(self.group_view, [7, 4, 4, 10], stretch=3)
        self.group_view.selectionModel().currentRowChanged.connect(self._show_members)

        self.members = MemberModel(self)
        self.member_view = QTableView()
        self.member_view.setModel(self.members)
        setup_table(self.member_view, [5, 13, 6, 6], multi=True)
        self.member_view.selectionModel().currentRowChanged.connect(self._on_member)
        self.member_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.member_view.doubleClicked.connect(lambda _i: self.edit_member())
        self.edit_button = QPushButton(self.tr("填写附加信息…"))
        self.edit_button.clicked.connect(self.edit_member)
        self.service_button = QPushButton(self.tr("登记服务…"))
        self.service_button.setToolTip(self.tr("为选中的人员登记同一次助餐、上门服务、托育等"))
        self.service_button.clicked.connect(self.record_service)
        self.export_button = QPushButton(self.tr("导出名单…"))
        self.export_button.setToolTip(self.tr("导出这一类重点人群（含附加字段），证件号和电话脱敏"))
        self.export_button.clicked.connect(self.export_group)
        member_bar = QHBoxLayout()
        for button in (self.edit_button, self.service_button, self.export_button):
            member_bar.addWidget(button)
        member_bar.addStretch(1)
        members_tab = QWidget()
        members_layout = QVBoxLayout(members_tab)
        members_layout.addLayout(member_bar)
        members_layout.addWidget(self.member_view, 1)

        self.services = DictModel(
            ("服务日期", "姓名", "住址", "重点人群", "服务项目", "服务人", "服务内容"),
            ("served_on", "name", "address", "groups", "kind", "provider", "content"),
            parent=self)
        self.service_view = QTableView()
        self.service_view.setModel(self.services)
        setup_table(self.service_view, [6, 5, 13, 8, 5, 6, 14], stretch=6)
        self.month = QComboBox()
        first = dt.date.today().replace(day=1)
        for _ in range(MONTHS_SHOWN):
            self.month.addItem(self.tr("{0}年{1}月").format(first.year, first.month),
                               first.isoformat()[:7])
            first = (first - dt.timedelta(days=1)).replace(day=1)
        self.month.currentIndexChanged.connect(self._show_services)
        self.service_count = QLabel()
        service_bar = QHBoxLayout()
        service_bar.addWidget(QLabel(self.tr("月份：")))
        service_bar.addWidget(self.month)
        service_bar.addStretch(1)
        service_bar.addWidget(self.service_count)
        services_tab = QWidget()
        services_layout = QVBoxLayout(services_tab)
        services_layout.addLayout(service_bar)
        services_layout.addWidget(self.service_view, 1)

        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(members_tab, self.tr("成员"))
        self.tabs.addTab(services_tab, self.tr("一老一小服务"))
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.group_view)
        self.splitter.addWidget(self.tabs)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([420, 900])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def reload(self, *_args) -> None:
        """Read the groups (off the GUI thread: a street's counts), then the chosen group's
        members and the month's services."""
        current = self.current_group()
        self._stale = False
        self.reloads += 1
        self._members_for = None
        unit_id = self.unit_id

        def read(ctx):
            try:
                return focus_groups.groups(ctx.conn, ctx.access, unit_id), None
            except DomainError as exc:           # a unit outside a 网格员's scope
                return [], str(exc)

        operations.latest(self, "groups", self.ctx, read,
                          lambda result: self._show_groups(*result, current))

    def _show_groups(self, rows: list[dict], error: str | None, current: int | None) -> None:
        self.groups.set_rows(rows)
        self.count_label.setText(error or self.tr("{0} 类，当前成员 {1} 人次").format(
            len(rows), sum(r["members"] for r in rows)))
        row = next((i for i, r in enumerate(rows) if r["id"] == current), 0 if rows else None)
        if row is not None:
            self.group_view.setCurrentIndex(self.groups.index(row, 0))
        self._show_members()
        self._show_services()

    def current_group(self) -> int | None:
        index = self.group_view.currentIndex()
        return self.groups.id_at(index.row()) if index.isValid() else None

    def _group(self) -> dict | None:
        return self.current_row_of(self.group_view)

    def select_group(self, name: str) -> None:
        self.select_named(self.group_view, name)

    def _show_members(self, *_args) -> None:
        group = self._group()
        wanted = (group and group["id"], self.unit_id, self.reloads)
        if wanted == self._members_for:          # asked already (selection signal, then reload)
            return
        self._members_for = wanted
        if group is None:
            self.members.set_members([], [])
            self._update_buttons()
            return
        unit_id = self.unit_id

        def show(rows: list[dict]) -> None:
            self.members.set_members(rows, group["fields"])
            self._update_buttons()

        operations.latest(self, "members", self.ctx, lambda ctx: focus_groups.members(
            ctx.conn, group["id"], ctx.access, unit_id), show)

    def _show_services(self, *_args) -> None:
        month = parse_month(self.month.currentData())
        unit_id = self.unit_id

        def read(ctx):
            try:
                return services.list_services(ctx.conn, access=ctx.access, unit_id=unit_id,
                                              start=month.first.isoformat(),
                                              end=month.last.isoformat())
            except DomainError:
                return []

        operations.latest(self, "services", self.ctx, read, self._show_service_rows)

    def _show_service_rows(self, rows: list[dict]) -> None:
        self.services.set_rows(rows)
        kinds: dict[str, int] = {}
        for r in rows:
            kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
        self.service_count.setText(self.tr("共 {0} 次：{1}").format(
            len(rows), "、".join(f"{k} {n}" for k, n in sorted(kinds.items(),
                                                              key=lambda kv: -kv[1]))))

    def selected_members(self) -> list[dict]:
        rows = sorted(i.row() for i in self.member_view.selectionModel().selectedRows())
        return [self.members.rows[r] for r in rows]

    def _on_member(self, current: QModelIndex, _previous: QModelIndex) -> None:
        resident_id = self.members.id_at(current.row()) if current.isValid() else None
        if resident_id is not None:
            self.residentSelected.emit(resident_id)

    def _update_buttons(self, *_args) -> None:
        chosen = len(self.member_view.selectionModel().selectedRows())
        self.edit_button.setEnabled(chosen == 1)
        self.service_button.setEnabled(chosen > 0)
        self.fields_button.setEnabled(self._group() is not None)
        self.export_button.setEnabled(bool(self.members.rows) and self.db_path is not None)

    # --- acting ------------------------------------------------------------------------------
    def add_group(self) -> None:
        values = GroupDialog.ask(self)
        if values is not None:
            self.attempt(self.tr("无法新增重点人群"), lambda: focus_groups.add_group(
                self.ctx, values["name"], values["visit_interval_days"], values["fields"]))

    def edit_fields(self) -> None:
        group = self._group()
        if group is None:
            return
        values = GroupDialog.ask(self, name=group["name"], interval=group["visit_interval_days"],
                                 fields=group["fields"], editing=True)
        if values is not None:
            self.attempt(self.tr("无法修改附加字段"), lambda: focus_groups.set_fields(
                self.ctx, group["id"], values["fields"]))

    def add_catalogue(self) -> None:
        self.attempt(self.tr("无法补充重点人群"), lambda: focus_groups.ensure_catalogue(self.ctx))

    def edit_member(self) -> None:
        chosen, group = self.selected_members(), self._group()
        if len(chosen) != 1 or group is None:
            return
        member = chosen[0]
        values = MemberFieldsDialog.ask(self, member["name"], group["name"], member["values"])
        if values is not None:
            self.attempt(self.tr("无法保存附加信息"), lambda: focus_groups.set_member_values(
                self.ctx, member["id"], values))

    def record_service(self) -> None:
        chosen = self.selected_members()
        if not chosen:
            return
        values = ServiceDialog.ask(self, [m["name"] for m in chosen],
                                   focus_groups.service_kinds(), "")
        if values is not None:
            self.attempt(self.tr("无法登记服务"), lambda: services.record_services(
                self.ctx, [m["id"] for m in chosen], **values))

    def export_group(self, path: str | None = None) -> dict | None:
        """Export the chosen group's list (with its fields, masked) in the background."""

        group = self._group()
        if group is None:
            return None
        unit_id, tag = self.unit_id, group["id"]
        return self.write_file(
            lambda ctx, out, progress: writer.export(
                ctx.conn, templates.focus_group_template(ctx.conn, tag), out, "xlsx",
                unit_id=unit_id, actor=ctx.user, progress=progress, access=ctx.access),
            path, self.tr("导出重点人群名单"), f"{group['name']}名单_{dt.date.today():%Y%m%d}.xlsx",
            filters=self.tr("Excel 工作簿 (*.xlsx)"), purpose="export",
            label=self.tr("正在导出…"))
