"""签到登记: the sign-in sheet of one volunteer activity.

The volunteers of the activity's community who are in the register on its day are listed (by
team; 显示全部志愿者 shows everyone else too, and anyone ticked or already signed in stays
shown; a 网格员 is offered only the volunteers their register shows, plus anyone already
signed in — volunteer_activities.sheet with their access); tick who came; hours default to
the activity's length and can be changed per person (double-click the hours).
What is wrong is listed below the sheet as it is typed — blocking problems in red (the OK
button stays disabled), overlapping activities in orange (saving asks to confirm).

OK saves the sheet (volunteer_activities.save_sheet, with what the sheet was read from, so
that a sheet saved meanwhile on another PC is not overwritten); the dialog closes only when the
save succeeded — a refusal (database busy, a new overlap, changed by someone else) is shown
and every tick stays. `SignInDialog.ask(parent, ctx, activity_id)` returns the save's Result,
or None when cancelled.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
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
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from db import StorageError
from shequ_desktop.core import tree
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError
from shequ_desktop.volunteers import activities as va

ID_ROLE = Qt.ItemDataRole.UserRole
LOCAL_ROLE = Qt.ItemDataRole.UserRole + 1
NAME, TEAM, HOURS = range(3)
ALL_TEAMS = "全部服务队"


def _tr(text: str) -> str:
    return QCoreApplication.translate("SignInDialog", text)


class SignInDialog(QDialog):
    def __init__(self, ctx: Context, activity_id: int, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.conn = conn = ctx.conn
        self.saved: Result | None = None
        self.activity_id = activity_id
        act = ctx.get("activities", activity_id)
        self.length = va.length_hours(act["starts_at"], act["ends_at"])
        self.problems: list[va.Problem] = []
        self.setWindowTitle(self.tr("签到登记 — {0}").format(act["title"]))
        self.resize(620, 640)

        about = QLabel(self.tr("{0}　{1} 至 {2}（{3} 小时）　{4}").format(
            act["category"], act["starts_at"], act["ends_at"][11:] if
            act["ends_at"][:10] == act["starts_at"][:10] else act["ends_at"],
            f"{self.length:g}", act["place"] or ""))
        about.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("按姓名筛选"))
        self.search.setClearButtonEnabled(True)
        self.team = QComboBox()
        self.all_button = QPushButton(self.tr("全选"))
        self.none_button = QPushButton(self.tr("全不选"))
        self.everyone = QCheckBox(self.tr("显示全部志愿者"))
        scope = va.sheet_scope(conn, activity_id)
        self.scope_text = ""
        restricted = ctx.access is not None and ctx.access.restricted
        if restricted:          # the register they see, and whoever is already signed in
            self.everyone.setText(self.tr("显示我负责网格的全部志愿者"))
            self.everyone.setToolTip(self.tr("网格员只能看到所负责网格的志愿者"
                                             "（及已签到的人员）"))
        if scope is None:
            self.everyone.setChecked(True)
            self.everyone.setEnabled(False)
            if not restricted:
                self.everyone.setToolTip(self.tr("本活动未指定网格，列出全部志愿者"))
        else:
            community = tree.unit_name(conn, scope)
            if not restricted:
                self.everyone.setToolTip(self.tr(
                    "默认只列出{0}的志愿者（按服务队所属网格或居住地）；"
                    "勾选后列出全部在册志愿者").format(community))
            self.scope_text = self.tr("（默认只列{0}的志愿者）").format(community)
        self.count_label = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(self.search, 1)
        bar.addWidget(self.team)
        bar.addWidget(self.all_button)
        bar.addWidget(self.none_button)
        bar.addWidget(self.everyone)

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels([self.tr("姓名（勾选到场）"), self.tr("服务队"),
                                              self.tr("服务时长（小时）")])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(TEAM, QHeaderView.ResizeMode.Stretch)
        char = self.fontMetrics().horizontalAdvance("汉")
        header.resizeSection(NAME, char * 9)
        header.resizeSection(HOURS, char * 8)
        self.problem_view = QTextBrowser()
        self.problem_view.setMaximumHeight(self.fontMetrics().lineSpacing() * 6 + 12)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("保存签到"))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)
        layout.addWidget(self.problem_view)
        layout.addWidget(self.buttons)

        rows = va.sheet(conn, activity_id, ctx.access)
        self.read = va.read_state(rows)         # what this sheet was built from
        self._fill(rows)
        self.table.itemChanged.connect(self._on_item)
        self.search.textChanged.connect(self._filter)
        self.team.currentIndexChanged.connect(self._filter)
        self.everyone.toggled.connect(self._fill_teams)
        self.all_button.clicked.connect(lambda: self.tick_all(True))
        self.none_button.clicked.connect(lambda: self.tick_all(False))
        self._check()

    def _fill(self, rows: list[dict]) -> None:
        self.table.setRowCount(len(rows))
        for i, row in enumerate(rows):
            name = QTableWidgetItem(row["name"])
            name.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            name.setCheckState(Qt.CheckState.Checked if row["came"] else Qt.CheckState.Unchecked)
            name.setData(ID_ROLE, row["volunteer_id"])
            name.setData(LOCAL_ROLE, row["local"])
            team = QTableWidgetItem(row["team"] or self.tr("未分队"))
            team.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
            hours = QTableWidgetItem()
            hours.setData(Qt.ItemDataRole.EditRole, float(row["hours"]))
            hours.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(i, NAME, name)
            self.table.setItem(i, TEAM, team)
            self.table.setItem(i, HOURS, hours)
        self._fill_teams()

    def _fill_teams(self, *_args) -> None:
        """The team filter offers the teams of the rows that may be shown."""
        keep = self.team.currentText()
        teams = []
        for i in range(self.table.rowCount()):
            name, team = self.table.item(i, NAME), self.table.item(i, TEAM).text()
            if team not in teams and (self.everyone.isChecked() or name.data(LOCAL_ROLE)
                                      or name.checkState() == Qt.CheckState.Checked):
                teams.append(team)
        blocker = self.team.blockSignals(True)
        self.team.clear()
        self.team.addItem(self.tr(ALL_TEAMS))
        self.team.addItems(teams)
        self.team.setCurrentIndex(max(self.team.findText(keep), 0))
        self.team.blockSignals(blocker)
        self._filter()

    # --- filling in --------------------------------------------------------------------------
    def row_of(self, name: str) -> int:
        for i in range(self.table.rowCount()):
            if self.table.item(i, NAME).text() == name:
                return i
        raise KeyError(name)

    def tick(self, name: str, came: bool = True, hours: float | None = None) -> None:
        """Tick (or untick) someone by name, optionally with their hours (tests, keyboard)."""
        row = self.row_of(name)
        if hours is not None:
            self.table.item(row, HOURS).setData(Qt.ItemDataRole.EditRole, float(hours))
        self.table.item(row, NAME).setCheckState(
            Qt.CheckState.Checked if came else Qt.CheckState.Unchecked)

    def tick_all(self, came: bool) -> None:
        """Tick or untick everyone shown (after the filter)."""
        blocker = self.table.blockSignals(True)
        for i in range(self.table.rowCount()):
            if not self.table.isRowHidden(i):
                self.table.item(i, NAME).setCheckState(
                    Qt.CheckState.Checked if came else Qt.CheckState.Unchecked)
        self.table.blockSignals(blocker)
        self._check()

    def _filter(self, *_args) -> None:
        text = self.search.text().strip()
        team = self.team.currentText() if self.team.currentIndex() > 0 else None
        everyone = self.everyone.isChecked()
        for i in range(self.table.rowCount()):
            name = self.table.item(i, NAME)
            hide = bool(text) and text not in name.text()
            hide |= team is not None and self.table.item(i, TEAM).text() != team
            hide |= not (everyone or name.data(LOCAL_ROLE)
                         or name.checkState() == Qt.CheckState.Checked)
            self.table.setRowHidden(i, hide)

    def shown(self) -> list[str]:
        """Names of the rows shown (after the filters)."""
        return [self.table.item(i, NAME).text() for i in range(self.table.rowCount())
                if not self.table.isRowHidden(i)]

    def _on_item(self, item: QTableWidgetItem) -> None:
        if item.column() == HOURS and self.table.item(item.row(), NAME) is not None:
            blocker = self.table.blockSignals(True)        # typing hours means they came
            self.table.item(item.row(), NAME).setCheckState(Qt.CheckState.Checked)
            self.table.blockSignals(blocker)
        self._check()

    def entries(self) -> dict[int, float]:
        out = {}
        for i in range(self.table.rowCount()):
            name = self.table.item(i, NAME)
            if name.checkState() == Qt.CheckState.Checked:
                out[name.data(ID_ROLE)] = self.table.item(i, HOURS).data(Qt.ItemDataRole.EditRole)
        return out

    # --- problems ------------------------------------------------------------------------------
    def _check(self) -> None:
        entries = self.entries()
        self.problems = va.check_sheet(self.conn, self.activity_id, entries)
        blocking = [p for p in self.problems if p.blocking]
        lines = [f'<span style="color:#b3261e">✖ {p}</span>' for p in blocking]
        lines += [f'<span style="color:#a15c00">⚠ {p}</span>'
                  for p in self.problems if not p.blocking]
        self.problem_view.setHtml("<br>".join(lines) if lines else
                                  self.tr("未发现问题。"))
        total = sum(float(h) for h in entries.values() if isinstance(h, (int, float)))
        self.count_label.setText(self.tr("已勾选 {0} 人，合计 {1} 小时").format(
            len(entries), f"{total:g}") + self.scope_text)
        self.ok_button().setEnabled(not blocking)

    def ok_button(self):
        return self.buttons.button(QDialogButtonBox.StandardButton.Ok)

    def blocking(self) -> list[str]:
        return [str(p) for p in self.problems if p.blocking]

    def flags(self) -> list[str]:
        return [str(p) for p in self.problems if not p.blocking]

    def confirm_overlaps(self) -> bool:
        """Asked before saving when someone is also in an overlapping activity."""
        answer = QMessageBox.question(
            self, self.tr("时间重叠"),
            self.tr("以下志愿者同一时间还登记在其他活动中：\n{0}\n\n仍要保存吗？").format(
                "\n".join(self.flags())))
        return answer == QMessageBox.StandardButton.Yes

    def accept(self) -> None:
        self._check()
        if self.blocking():
            return
        if self.flags() and not self.confirm_overlaps():
            return
        try:
            self.saved = va.save_sheet(self.ctx, self.activity_id, self.entries(),
                                       accept_overlaps=bool(self.flags()), read=self.read)
        except (DomainError, StorageError) as exc:      # stays open: nothing typed is lost
            QMessageBox.warning(self, self.tr("签到登记"), str(exc))
            self._check()
            return
        super().accept()

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context, activity_id: int) -> Result | None:
        dialog = cls(ctx, activity_id, parent)
        return dialog.saved if dialog.exec() == QDialog.DialogCode.Accepted else None
