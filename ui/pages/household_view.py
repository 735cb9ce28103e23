"""One household (户): who lives there, and the actions that change a household — a new head,
a new member, moving out, moving to another household, a death, the whole household moving.

Every action asks its questions with the small dialogs of ui.dialogs.move_dialogs, then calls
one domain service through the main window's Context. The view redraws itself when a committed
change concerns this household (Context.subscribe).
"""
from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework import visits
from shequ_desktop.core.context import Change, Context
from shequ_desktop.core.errors import NotFoundError
from shequ_desktop.core.statuses import MOVED_OUT, ON_RECORD
from shequ_desktop.places import pickers
from shequ_desktop.population import households, residents
from shequ_desktop.population.resident_list import household_members
from ui.dialogs.move_dialogs import (
    DateDialog,
    HouseholdPickerDialog,
    HousePickerDialog,
    MoveOutDialog,
    MoveRelationDialog,
    NewHeadDialog,
    RelationDialog,
)
from ui.follow import follow_changes
from ui.refusal import attempt

ID_ROLE = Qt.ItemDataRole.UserRole
COLUMNS = ("name", "relation", "age", "status")
VISITS_SHOWN = 20          # the household's latest visits in 走访记录


class HouseholdView(QWidget):
    """Emits residentActivated(resident id) on a double-click and addMemberRequested(household
    id) for 添加成员 (the member form is another dialog's job)."""

    residentActivated = Signal(int)
    addMemberRequested = Signal(int)
    residentSelected = Signal(int)      # a member chosen in the table (the details panel follows)

    def __init__(self, ctx: Context, parent: QWidget | None = None):
        super().__init__(parent)
        self.ctx = ctx
        self.household_id: int | None = None
        self._household: dict | None = None
        self._members: list[dict] = []          # every member, active or not, head first
        self.reloads = 0                         # how often the view re-read the database

        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.3)
        self.title.setFont(font)
        self.address = QLabel()
        self.count = QLabel()
        for label in (self.title, self.address, self.count):
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.show_inactive = QCheckBox(self.tr("显示已迁出/死亡"))
        self.show_inactive.toggled.connect(self._fill_table)

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addSpacing(12)
        header.addWidget(self.address, 1)
        header.addWidget(self.count)

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([self.tr("姓名"), self.tr("与户主关系"),
                                              self.tr("年龄"), self.tr("状态")])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        cols = self.table.horizontalHeader()
        char = self.fontMetrics().horizontalAdvance("汉")
        for column, chars in enumerate((8, 7, 4)):
            cols.resizeSection(column, chars * char + 16)
        cols.setStretchLastSection(True)
        cols.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.table.itemDoubleClicked.connect(self._on_double_click)

        self.buttons: dict[str, QPushButton] = {}
        actions = QHBoxLayout()
        for key, text, slot in (
                ("set_head", self.tr("设为户主"), self.set_head),
                ("add_member", self.tr("添加成员"), self.add_member),
                ("move_out", self.tr(MOVED_OUT), self.move_out),
                ("move_to", self.tr("户间迁移"), self.move_to_household),
                ("death", self.tr("死亡登记"), self.record_death),
                ("move_household", self.tr("整户搬迁"), self.move_household)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            self.buttons[key] = button
            actions.addWidget(button)
        actions.addStretch(1)
        actions.addWidget(self.show_inactive)

        self.history_box = QGroupBox(self.tr("变动记录"))
        self.history = QListWidget()
        self.history.setAlternatingRowColors(True)
        QVBoxLayout(self.history_box).addWidget(self.history)

        self.visits_box = QGroupBox(self.tr("走访记录"))
        self.visits = QListWidget()
        self.visits.setAlternatingRowColors(True)
        QVBoxLayout(self.visits_box).addWidget(self.visits)
        records = QSplitter(Qt.Orientation.Horizontal)
        records.addWidget(self.history_box)
        records.addWidget(self.visits_box)
        records.setChildrenCollapsible(False)

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(records)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)

        self.placeholder = QLabel(self.tr("在楼栋图或人员表中选择一户，这里显示该户成员。"))
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addLayout(header)
        body.addLayout(actions)
        body.addWidget(split, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.placeholder)
        layout.addWidget(self.body, 1)

        follow_changes(self, ctx, self._on_changes)
        self.show_household(None)

    # --- showing -------------------------------------------------------------------------------
    def show_household(self, household_id: int | None) -> None:
        keep = self.selected_id() if household_id == self.household_id else None
        self.household_id = household_id
        self._load()
        self._fill_table(select=keep)

    def refresh(self) -> None:
        self.show_household(self.household_id)

    def _load(self) -> None:
        self._household, self._members = None, []
        if self.household_id is not None:
            try:
                self._household = self.ctx.get("households", self.household_id)
            except NotFoundError:
                self.household_id = None
            else:
                self._members = household_members(self.ctx.conn, self.household_id, True)
                self.reloads += 1
        hh = self._household
        self.placeholder.setVisible(hh is None)
        self.body.setVisible(hh is not None)
        if hh is None:
            return
        self.title.setText(self.tr("户号 {0}").format(hh["household_no"] or f"#{hh['id']}"))
        self.address.setText(residents.household_address(self.ctx, hh["id"]))
        active = sum(m["status"] == ON_RECORD for m in self._members)
        text = self.tr("在册 {0} 人").format(active)
        if hh["status"] != ON_RECORD:
            text += self.tr("（该户已{0}）").format(hh["status"])
        self.count.setText(text)
        self._fill_visits()

    def _fill_table(self, *_args, select: int | None = None) -> None:
        if select is None:
            select = self.selected_id()
        shown = self.shown_members()
        grey = QBrush(self.palette().color(QPalette.ColorGroup.Disabled,
                                           QPalette.ColorRole.Text))
        self.table.blockSignals(True)
        self.table.clearSelection()
        self.table.setRowCount(len(shown))
        for row, m in enumerate(shown):
            age = "" if m["age"] is None else str(m["age"])
            for column, text in enumerate((m["name"], m["relation"], age, m["status"])):
                item = QTableWidgetItem(text)
                item.setData(ID_ROLE, m["id"])
                if m["is_head"] and m["status"] == ON_RECORD:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                if m["status"] != ON_RECORD:
                    item.setForeground(grey)
                self.table.setItem(row, column, item)
        ids = [m["id"] for m in shown]
        if select not in ids and ids:
            select = ids[0]
        if select in ids:
            self.table.selectRow(ids.index(select))
        self.table.blockSignals(False)
        self._on_selection()

    def shown_members(self) -> list[dict]:
        if self.show_inactive.isChecked():
            return list(self._members)
        return [m for m in self._members if m["status"] == ON_RECORD]

    def member_names(self) -> list[str]:
        """The names in the table, top to bottom (for tests)."""
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())]

    # --- selection -----------------------------------------------------------------------------
    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).data(ID_ROLE) if rows else None

    def select_resident(self, resident_id: int) -> bool:
        for row in range(self.table.rowCount()):
            if self.table.item(row, 0).data(ID_ROLE) == resident_id:
                self.table.selectRow(row)
                return True
        return False

    def _selected(self) -> dict | None:
        rid = self.selected_id()
        return next((m for m in self._members if m["id"] == rid), None)

    def _on_selection(self) -> None:
        m = self._selected()
        household_active = self._household is not None and self._household["status"] == ON_RECORD
        member_active = household_active and m is not None and m["status"] == ON_RECORD
        self.buttons["set_head"].setEnabled(member_active and not m["is_head"])
        for key in ("move_out", "move_to", "death"):
            self.buttons[key].setEnabled(member_active)
        self.buttons["add_member"].setEnabled(household_active)
        self.buttons["move_household"].setEnabled(household_active)
        self.history.clear()
        if m is None:
            self.history_box.setTitle(self.tr("变动记录"))
            return
        self.history_box.setTitle(self.tr("{0} 的变动记录").format(m["name"]))
        self.history.addItems(residents.history(self.ctx, m["id"]))
        self.residentSelected.emit(m["id"])

    def history_lines(self) -> list[str]:
        return [self.history.item(r).text() for r in range(self.history.count())]

    # --- 走访记录: visits to the household's members, newest first --------------------------------
    def _fill_visits(self) -> None:
        self.visits.clear()
        if self.household_id is None:
            return
        for v in visits.household_visits(self.ctx.conn, self.household_id, VISITS_SHOWN):
            text = f"{v['visited_on']} {v['name']} {v['method']}（{v['visitor']}）"
            findings = " ".join((v["findings"] or "").split())
            if findings:
                text += f"：{findings}"
            if v["follow_up"]:
                text += self.tr(" 【需跟进：{0}】").format(v["follow_up_note"])
            self.visits.addItem(text)
        if not self.visits.count():
            self.visits.addItem(self.tr("暂无走访记录"))

    def visit_lines(self) -> list[str]:
        return [self.visits.item(r).text() for r in range(self.visits.count())]

    def _on_double_click(self, item: QTableWidgetItem) -> None:
        self.residentActivated.emit(item.data(ID_ROLE))

    # --- actions -------------------------------------------------------------------------------
    def _run(self, service, *args, **kwargs) -> bool:
        """Call one domain service; an expected refusal is shown, not raised."""
        return attempt(self, self.tr("无法办理"), lambda: service(self.ctx, *args, **kwargs))

    def _others(self, member: dict) -> list[dict]:
        return [m for m in self._members if m["status"] == ON_RECORD and m["id"] != member["id"]]

    def _successor(self, member: dict) -> tuple[bool, int | None]:
        """(go on?, new head id): asks for a new head when the head leaves others behind."""
        others = self._others(member)
        if not member["is_head"] or not others:
            return True, None
        new_head = NewHeadDialog.ask(self, member["name"], others)
        return new_head is not None, new_head

    def set_head(self) -> None:
        m = self._selected()
        if m is None or m["is_head"]:
            return
        old = next((x for x in self._members if x["is_head"] and x["status"] == ON_RECORD), None)
        relation = "99"
        if old is not None:
            relation = RelationDialog.ask(
                self, self.tr("设为户主"),
                self.tr("把 {0} 设为户主。原户主 {1} 与新户主的关系是？").format(
                    m["name"], old["name"]))
            if relation is None:
                return
        self._run(residents.set_head, self.household_id, m["id"], relation)

    def add_member(self) -> None:
        if self.household_id is not None:
            self.addMemberRequested.emit(self.household_id)

    def move_out(self) -> None:
        m = self._selected()
        if m is None:
            return
        answer = MoveOutDialog.ask(self, m["name"])
        if answer is None:
            return
        go_on, new_head = self._successor(m)
        if go_on:
            date, destination = answer
            self._run(residents.move_out, m["id"], date, destination, new_head_id=new_head)

    def move_to_household(self) -> None:
        m = self._selected()
        if m is None:
            return
        scope = pickers.household_scope(self.ctx.conn, self.household_id, "community")
        target = HouseholdPickerDialog.ask(self, self.ctx.conn, scope, self.household_id)
        if target is None:
            return
        answer = MoveRelationDialog.ask(self, m["name"],
                                        residents.household_address(self.ctx, target))
        if answer is None:
            return
        go_on, new_head = self._successor(m)
        if go_on:
            relation, date = answer
            self._run(residents.move_to_household, m["id"], target, relation, date,
                      new_head_id=new_head)

    def record_death(self) -> None:
        m = self._selected()
        if m is None:
            return
        date = DateDialog.ask(self, self.tr("死亡登记"),
                              self.tr("登记 {0} 死亡。死亡日期：").format(m["name"]))
        if date is None:
            return
        go_on, new_head = self._successor(m)
        if go_on:
            self._run(residents.record_death, m["id"], date, new_head_id=new_head)

    def move_household(self) -> None:
        if self._household is None:
            return
        house = HousePickerDialog.ask(self, self.ctx.conn, self._household["house_id"])
        if house is not None:
            self._run(households.move_household, self.household_id, house)

    # --- keeping current -----------------------------------------------------------------------
    def _on_changes(self, changes: list[Change]) -> None:
        if self.concerns(changes):
            self.refresh()

    def concerns(self, changes: list[Change]) -> bool:
        """Whether any change touches this household, its members, its house or its address."""
        if self.household_id is None:
            return False
        hid = self.household_id
        members = {m["id"] for m in self._members}
        house = self._household["house_id"] if self._household else None
        for c in changes:
            new = c.new if isinstance(c.new, dict) else {}
            if c.id is None:                                   # a bulk load
                return c.entity in ("residents", "households", "houses", "resident_events")
            if c.entity == "households" and c.id == hid:
                return True
            if c.entity == "residents" and (
                    c.id in members or new.get("household_id") == hid
                    or (c.field == "household_id" and hid in (c.old, c.new))):
                return True
            if c.entity == "resident_events" and new.get("resident_id") in members:
                return True
            if c.entity == "visits" and new.get("resident_id") in members:
                return True
            if c.entity == "houses" and c.id == house:
                return True
            if c.entity == "grid_units" and c.action != "create":
                return True                                    # a rename may be our address
        return False
