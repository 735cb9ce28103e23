"""The volunteers page (志愿者): the register with hours this month / this year / in total,
star level and points balance, filtered by team; the chosen volunteer's points ledger;
editing, adjustments, redemptions and the service certificate; teams; the points and star
settings; and the activities (new, edit, delete) with their sign-in sheets.

The unit chosen in the grid tree scopes the page: volunteers whose team or home lies under it
(volunteers.IN_SCOPE), teams and activities of units under or above it (and those with no
unit); no unit chosen: everything, or for a 网格员 their own units (access.scope).

Lists are read from shequ_desktop (volunteer_points.hours_summary, volunteer_activities.
list_activities: one aggregate query each, a street's few thousand volunteers) and held in
memory. They are read again after a committed change to volunteer data, only while the page
is shown; when hidden, at the next show.
"""
from __future__ import annotations

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt
from PySide6.QtGui import QBrush, QShowEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.core import settings, tree
from shequ_desktop.core.access import ADMIN
from shequ_desktop.core.context import Change, Context
from shequ_desktop.reports.pdf import certificate
from shequ_desktop.volunteers import (
    activities as volunteer_activities,
)
from shequ_desktop.volunteers import (
    points as volunteer_points,
)
from shequ_desktop.volunteers import (
    roster as volunteers,
)
from ui import file_dialogs, operations
from ui.dialogs.move_dialogs import DateDialog
from ui.dialogs.volunteer_edit import VolunteerEditDialog
from ui.dialogs.volunteer_forms import (
    ActivityDialog,
    PeriodDialog,
    TeamDialog,
    VolunteerDialog,
)
from ui.dialogs.volunteer_points import ADJUST, REDEEM, PointsDialog
from ui.dialogs.volunteer_settings import VolunteerSettingsDialog
from ui.dialogs.volunteer_sign_in import SignInDialog
from ui.follow import follow_changes
from ui.models.row_list import DONE_INK, ID_ROLE, RowListModel
from ui.refusal import attempt
from ui.table_setup import setup_table

RELEVANT = ("volunteers", "volunteer_teams", "activities", "service_records",
            "point_adjustments", "point_redemptions")
ALL_TEAMS, NO_TEAM = -1, 0          # team filter values besides a team id


def _number(value) -> str:
    return "" if value is None else f"{value:g}"


class _ListModel(RowListModel):
    """Rows of dicts shown by `keys`; numbers right-aligned; sorted in Python by column."""

    keys: tuple[str, ...] = ()
    numeric: tuple[str, ...] = ()

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole):
        row = self.row_at(index)
        if row is None:
            return None
        key = self.keys[index.column()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return self.text(row, key)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in self.numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ID_ROLE:
            return row.get(self.id_key)
        return self.extra(row, key, role)

    def text(self, row: dict, key: str) -> str:
        value = row[key]
        return _number(value) if key in self.numeric else ("" if value is None else str(value))

    def extra(self, row: dict, key: str, role: int):
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(self.keys):
            return
        key = self.keys[column]
        self.layoutAboutToBeChanged.emit()
        persistent = self.persistentIndexList()
        ids = [self.rows[p.row()].get(self.id_key) for p in persistent]
        self.rows.sort(key=lambda r: (r[key] is None, r[key] if r[key] is not None else 0),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        where = {r.get(self.id_key): i for i, r in enumerate(self.rows)}
        self.changePersistentIndexList(
            persistent, [self.index(where[i], p.column()) for i, p in zip(ids, persistent)])
        self.layoutChanged.emit()


class VolunteerTableModel(_ListModel):
    headers = ("姓名", "服务队", "状态", "本月时长", "本年时长", "累计时长", "星级", "积分余额")
    keys = ("name", "team", "status", "month", "year", "total", "star", "points")
    numeric = ("month", "year", "total", "points")
    widths = (5, 10, 3, 5, 5, 5, 3, 5)

    def text(self, row: dict, key: str) -> str:
        if key == "star":
            return row["star_name"]
        if key == "team":
            return row["team"] or self.tr("未分队")
        return super().text(row, key)

    def extra(self, row: dict, key: str, role: int):
        if role == Qt.ItemDataRole.ForegroundRole and row["status"] != volunteers.ACTIVE:
            return QBrush(DONE_INK)
        if role == Qt.ItemDataRole.FontRole and key == "star" and row["star"]:
            return self._bold
        return None


class LedgerModel(_ListModel):
    headers = ("日期", "类型", "内容", "时长", "积分", "余额", "经办人")
    keys = ("date", "kind", "text", "hours", "points", "balance", "by")
    numeric = ("hours", "points", "balance")
    widths = (6, 3, 14, 3, 4, 4, 5)

    def text(self, row: dict, key: str) -> str:
        if key == "points":
            return f"{row['points']:+g}"
        return super().text(row, key)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        return                          # a ledger reads in date order, running balance and all


class ActivityTableModel(_ListModel):
    headers = ("开始时间", "活动名称", "服务类别", "地点", "时长", "人数", "合计时长")
    keys = ("starts_at", "title", "category", "place", "length", "people", "hours")
    numeric = ("length", "people", "hours")
    widths = (10, 12, 5, 9, 3, 3, 4)


def _table(model: _ListModel, stretch: str) -> QTableView:
    view = QTableView()
    view.setModel(model)
    setup_table(view, list(model.widths), stretch=model.keys.index(stretch))
    return view


def _panel(*parts) -> QWidget:
    """Bars and labels stacked above a table, which takes the height that is left."""
    panel = QWidget()
    box = QVBoxLayout(panel)
    box.setContentsMargins(0, 4, 0, 0)
    for part in parts:
        if isinstance(part, QHBoxLayout):
            box.addLayout(part)
        else:
            box.addWidget(part, 1 if isinstance(part, QTableView) else 0)
    return panel


class VolunteersPage(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.unit_id: int | None = None     # the tree's unit: new teams and activities get it
        self.reloads = 0
        self._stale = True
        self.volunteer_model = VolunteerTableModel(self)
        self.ledger_model = LedgerModel(self)
        self.activity_model = ActivityTableModel(self)
        self.last_certificate: dict | None = None

        title = QLabel(self.tr("志愿者"))
        font = title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        title.setFont(font)
        self.team = QComboBox()
        self.team.setMinimumContentsLength(10)
        self.with_left = QCheckBox(self.tr("含已退出"))
        self.edit_team_button = QPushButton(self.tr("修改服务队…"))
        self.edit_team_button.setToolTip(self.tr("改队名、队长、所属网格（先在左侧选择服务队）"))
        self.settings_button = QPushButton(self.tr("积分星级设置…"))
        self.new_button = QPushButton(self.tr("新增志愿者…"))
        self.edit_button = QPushButton(self.tr("修改…"))
        self.edit_button.setToolTip(self.tr("修改所选志愿者（也可双击）"))
        self.team_button = QPushButton(self.tr("新建服务队…"))
        self.leave_button = QPushButton(self.tr("退出…"))
        self.leave_button.setToolTip(self.tr("志愿者退出：服务记录和积分保留"))
        self.adjust_button = QPushButton(self.tr("积分调整…"))
        self.redeem_button = QPushButton(self.tr("积分兑换…"))
        self.certificate_button = QPushButton(self.tr("志愿服务证明…"))
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(QLabel(self.tr("服务队：")))
        bar.addWidget(self.team)
        bar.addWidget(self.edit_team_button)
        bar.addWidget(self.with_left)
        bar.addStretch(1)
        bar.addWidget(self.count_label)
        bar.addWidget(self.settings_button)
        roster_bar = QHBoxLayout()
        for button in (self.new_button, self.edit_button, self.team_button, self.leave_button,
                       self.adjust_button, self.redeem_button, self.certificate_button):
            roster_bar.addWidget(button)
        roster_bar.addStretch(1)

        self.view = _table(self.volunteer_model, "team")
        self.ledger_label = QLabel()
        self.ledger_view = _table(self.ledger_model, "text")
        self.ledger_view.setSortingEnabled(False)
        roster = QSplitter(Qt.Orientation.Vertical)
        roster.addWidget(_panel(roster_bar, self.view))
        roster.addWidget(_panel(self.ledger_label, self.ledger_view))
        roster.setStretchFactor(0, 3)
        roster.setStretchFactor(1, 2)

        self.new_activity_button = QPushButton(self.tr("新建活动…"))
        self.edit_activity_button = QPushButton(self.tr("修改活动…"))
        self.delete_activity_button = QPushButton(self.tr("删除活动…"))
        self.delete_activity_button.setToolTip(self.tr("只能删除无人签到的活动"))
        self.sign_in_button = QPushButton(self.tr("签到登记…"))
        self.activity_label = QLabel()
        activity_bar = QHBoxLayout()
        for button in (self.new_activity_button, self.edit_activity_button,
                       self.delete_activity_button, self.sign_in_button):
            activity_bar.addWidget(button)
        activity_bar.addStretch(1)
        activity_bar.addWidget(self.activity_label)
        self.activity_view = _table(self.activity_model, "title")
        activities = _panel(activity_bar, self.activity_view)

        self.tabs = QTabWidget()
        self.tabs.addTab(roster, self.tr("志愿者名册"))
        self.tabs.addTab(activities, self.tr("志愿活动"))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(bar)
        layout.addWidget(self.tabs, 1)

        self.team.currentIndexChanged.connect(self.reload)
        self.with_left.toggled.connect(self.reload)
        self.new_button.clicked.connect(self.new_volunteer)
        self.edit_button.clicked.connect(self.edit_volunteer)
        self.view.doubleClicked.connect(lambda *_: self.edit_volunteer())
        self.edit_team_button.clicked.connect(self.edit_team)
        self.settings_button.clicked.connect(self.edit_settings)
        self.edit_activity_button.clicked.connect(self.edit_activity)
        self.delete_activity_button.clicked.connect(self.delete_activity)
        self.team_button.clicked.connect(self.new_team)
        self.leave_button.clicked.connect(self.leave)
        self.adjust_button.clicked.connect(lambda: self.points(ADJUST))
        self.redeem_button.clicked.connect(lambda: self.points(REDEEM))
        self.certificate_button.clicked.connect(self.certificate)
        self.new_activity_button.clicked.connect(self.new_activity)
        self.sign_in_button.clicked.connect(self.sign_in)
        self.activity_view.doubleClicked.connect(lambda *_: self.sign_in())
        self.view.selectionModel().currentRowChanged.connect(self._show_ledger)
        self.activity_view.selectionModel().currentRowChanged.connect(self._update_buttons)
        follow_changes(self, ctx, self._on_changes)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def set_unit(self, unit_id: int | None) -> None:
        """Scope the page to the grid tree's unit (None: everything); new teams and activities
        get it."""
        if unit_id == self.unit_id:
            return
        self.unit_id = unit_id
        if self.isVisible():
            self.reload()
        else:
            self._stale = True

    def refresh(self) -> None:
        self.reload()

    def _fill_teams(self, teams: list[dict]) -> None:
        keep = self.team.currentData()
        blocker = self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem(self.tr("全部"), ALL_TEAMS)
        for team in teams:
            self.team.addItem(self.tr("{0}（{1} 人）").format(team["name"], team["members"]),
                              team["id"])
        self.team.addItem(self.tr("未分队"), NO_TEAM)
        index = self.team.findData(keep) if keep is not None else 0
        self.team.setCurrentIndex(max(index, 0))
        self.team.blockSignals(blocker)

    def reload(self, *_args) -> None:
        """Read the teams, the register and the activities again (off the GUI thread: a
        street's register, sorted by pinyin), keeping the current rows."""
        current = self.current_volunteer_id()
        activity = self.current_activity_id()
        team = self.team.currentData()
        unit_id, with_left = self.unit_id, self.with_left.isChecked()
        self._stale = False

        def read(ctx):
            teams = volunteers.teams(ctx.conn, unit_id, ctx.access)
            rows = volunteer_points.hours_summary(
                ctx.conn, team_id=team if team not in (ALL_TEAMS, NO_TEAM) else None,
                include_left=with_left, unit_id=unit_id, access=ctx.access)
            if team == NO_TEAM:
                rows = [r for r in rows if r["team_id"] is None]
            return teams, rows, volunteer_activities.list_activities(
                ctx.conn, unit_id=unit_id, access=ctx.access)

        def show(result) -> None:
            teams, rows, activities = result
            self._fill_teams(teams)
            self._show_lists(rows, activities, current, activity)

        operations.latest(self, "lists", self.ctx, read, show)

    def _show_lists(self, rows: list[dict], activities: list[dict], current: int | None,
                    activity: int | None) -> None:
        self.reloads += 1
        self.volunteer_model.set_rows(rows)
        self.activity_model.set_rows(activities)
        self._select(self.view, self.volunteer_model, current)
        self._select(self.activity_view, self.activity_model, activity)
        self._show_ledger()
        stars = sum(1 for r in rows if r["star"])
        self.count_label.setText(self.tr("{0}共 {1} 人，星级志愿者 {2} 人，本年服务 {3} 小时").format(
            self._scope_name(), f"{len(rows):,}", f"{stars:,}",
            f"{sum(r['year'] for r in rows):,.1f}"))
        acts = self.activity_model.rows
        self.activity_label.setText(self.tr("共 {0} 次活动，{1} 人次").format(
            f"{len(acts):,}", f"{sum(a['people'] for a in acts):,}"))
        self._update_buttons()

    def _scope_name(self) -> str:
        name = tree.unit_name(self.ctx.conn, self.unit_id)
        return f"{name}：" if name else ""

    @staticmethod
    def _select(view: QTableView, model: _ListModel, record_id: int | None) -> None:
        row = model.row_of(record_id) if record_id is not None else None
        if row is not None:
            view.selectionModel().setCurrentIndex(
                model.index(row, 0), QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._stale:
            self.reload()

    def _on_changes(self, changes: list[Change]) -> None:
        if any(c.entity in RELEVANT for c in changes):
            if self.isVisible():
                self.reload()
            else:
                self._stale = True

    # --- the chosen volunteer ------------------------------------------------------------------
    def current_volunteer_id(self) -> int | None:
        index = self.view.currentIndex()
        return self.volunteer_model.id_at(index.row()) if index.isValid() else None

    def current_volunteer(self) -> dict | None:
        index = self.view.currentIndex()
        return self.volunteer_model.rows[index.row()] if index.isValid() else None

    def select_volunteer(self, volunteer_id: int) -> bool:
        self._select(self.view, self.volunteer_model, volunteer_id)
        return self.current_volunteer_id() == volunteer_id

    def _show_ledger(self, *_args) -> None:
        person = self.current_volunteer()
        if person is None:
            self.ledger_model.set_rows([])
            self.ledger_label.setText(self.tr("积分明细：请在上方选择一位志愿者"))
        else:
            # Newest first: the latest entry is what one looks for.
            self.ledger_model.set_rows(
                volunteer_points.ledger(self.ctx.conn, person["id"])[::-1])
            star = f"，{person['star_name']}志愿者" if person["star"] else ""
            self.ledger_label.setText(self.tr("积分明细 — {0}：累计服务 {1} 小时{2}，积分余额 {3} 分")
                                      .format(person["name"], _number(person["total"]), star,
                                              _number(person["points"])))
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        person = self.current_volunteer()
        for button in (self.edit_button, self.adjust_button, self.redeem_button,
                       self.certificate_button):
            button.setEnabled(person is not None)
        self.edit_team_button.setEnabled(self.team.currentData() not in (ALL_TEAMS, NO_TEAM,
                                                                          None))
        self.leave_button.setEnabled(person is not None
                                     and person["status"] == volunteers.ACTIVE)
        access = self.ctx.access               # points rate and stars: 管理员 only
        admin = access is None or access.role == ADMIN
        self.settings_button.setEnabled(admin)
        self.settings_button.setToolTip("" if admin else self.tr("只有管理员可以修改积分与星级设置"))
        for button in (self.sign_in_button, self.edit_activity_button,
                       self.delete_activity_button):
            button.setEnabled(self.current_activity_id() is not None)

    def _run(self, title: str, action) -> bool:
        return attempt(self, title, action)

    def new_volunteer(self) -> None:
        created = VolunteerDialog.ask(self, self.ctx)
        if created is not None:
            self.select_volunteer(created)

    def new_team(self) -> None:
        created = TeamDialog.ask(self, self.ctx, self.unit_id)
        if created is not None:
            self.team.setCurrentIndex(max(self.team.findData(created), 0))

    def edit_volunteer(self) -> None:
        person = self.current_volunteer()
        if person is not None:
            self._run(self.tr("修改志愿者"),           # refused: another grid's (网格员)
                      lambda: VolunteerEditDialog.ask(self, self.ctx, person["id"]))

    def edit_team(self) -> None:
        """修改服务队 of the team chosen in the filter."""
        team = self.team.currentData()
        if team not in (ALL_TEAMS, NO_TEAM, None):
            self._run(self.tr("修改志愿服务队"),
                      lambda: TeamDialog.ask(self, self.ctx, self.unit_id, team))

    def edit_settings(self) -> None:
        """积分与星级设置; star levels shown follow at once (settings are not Changes)."""
        if VolunteerSettingsDialog.ask(self, self.ctx):
            self.reload()

    def leave(self) -> None:
        """退出 of the chosen volunteer, on a date; their record, hours and points stay."""
        person = self.current_volunteer()
        if person is None:
            return
        day = DateDialog.ask(self, self.tr("志愿者退出"), self.tr(
            "{0} 退出志愿者队伍，服务记录和积分保留。").format(person["name"]))
        if day is not None:
            self._run(self.tr("志愿者退出"),
                      lambda: volunteers.leave(self.ctx, person["id"], day))

    def points(self, kind: str) -> None:
        """积分调整 or 积分兑换 for the chosen volunteer."""
        person = self.current_volunteer()
        if person is None:
            return
        values = PointsDialog.ask(self, kind, person["name"], person["points"])
        if values is None:
            return
        fn = volunteer_points.adjust if kind == ADJUST else volunteer_points.redeem
        title = self.tr("积分调整") if kind == ADJUST else self.tr("积分兑换")
        self._run(title, lambda: fn(self.ctx, person["id"], **values))

    # --- certificate ---------------------------------------------------------------------------
    def ask_save_path(self, suggested: str) -> str:
        return file_dialogs.save_file(self, "pdf", self.tr("保存志愿服务证明"), suggested,
                                      self.tr("PDF 文件 (*.pdf)"))

    def certificate(self) -> None:
        """志愿服务证明 of the chosen volunteer: the period, where to save, then the PDF is
        drawn in the background (it may run to many pages)."""
        person = self.current_volunteer()
        if person is None:
            return
        period = PeriodDialog.ask(self, person["name"], person["joined_on"])
        if period is None:
            return
        path = self.ask_save_path(f"志愿服务证明_{person['name']}.pdf")
        if not path:
            return
        if not path.lower().endswith(".pdf"):
            path += ".pdf"
        font = settings.get(self.ctx.conn, "pdf.font")
        vid = person["id"]

        def work(ctx, progress):
            return certificate.build(ctx.conn, vid, path, font_path=font, actor=ctx.user,
                                     progress=progress, **period)

        def done(result: dict) -> None:
            self.last_certificate = {**result, "path": path}
            text = self.tr("已保存 {0}（{1} 页，{2} 小时）。").format(
                path, result["pages"], _number(result["hours"]))
            if result["warning"]:
                text += "\n\n" + result["warning"]
            QMessageBox.information(self, self.tr("志愿服务证明"), text)

        operations.CollectionOp(self, self.ctx, work, label=self.tr("正在生成志愿服务证明…")) \
            .success(done).run_in_background()

    # --- activities ----------------------------------------------------------------------------
    def current_activity_id(self) -> int | None:
        index = self.activity_view.currentIndex()
        return self.activity_model.id_at(index.row()) if index.isValid() else None

    def select_activity(self, activity_id: int) -> bool:
        self._select(self.activity_view, self.activity_model, activity_id)
        return self.current_activity_id() == activity_id

    def new_activity(self) -> None:
        organiser = volunteers.organisation(self.ctx.conn, {})
        created = ActivityDialog.ask(self, self.ctx, organiser, self.unit_id)
        if created is not None:
            self.tabs.setCurrentIndex(1)
            self.select_activity(created)

    def edit_activity(self) -> None:
        activity_id = self.current_activity_id()
        if activity_id is not None:
            self._run(self.tr("修改志愿活动"),        # a community's: refused to a 网格员
                      lambda: ActivityDialog.ask(self, self.ctx, activity_id=activity_id))

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.StandardButton.Yes

    def delete_activity(self) -> None:
        """Only an activity nobody signed in to; the domain says why otherwise."""
        activity_id = self.current_activity_id()
        if activity_id is None:
            return
        row = self.activity_model.rows[self.activity_model.row_of(activity_id)]
        title = self.tr("删除活动")
        if row["people"]:
            QMessageBox.warning(self, title, self.tr(
                "活动“{0}”已有 {1} 人签到，不能删除。\n如确需删除，请先在“签到登记”中取消全部签到。")
                .format(row["title"], row["people"]))
            return
        if self.confirm(title, self.tr("删除活动“{0}”（{1}）？").format(row["title"],
                                                                   row["starts_at"])):
            self._run(title, lambda: volunteer_activities.delete_activity(self.ctx, activity_id))

    def sign_in(self) -> None:
        """签到登记 for the chosen activity: one dialog, one transaction for the whole sheet."""
        activity_id = self.current_activity_id()
        if activity_id is None:
            return
        self._run(self.tr("签到登记"),                  # saves before it closes
                  lambda: SignInDialog.ask(self, self.ctx, activity_id))
