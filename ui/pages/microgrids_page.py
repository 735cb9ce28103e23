"""The 微网格 page (issue 21, 微网实格): the micro-grids of the chosen grid with their heads;
for the chosen micro-grid its residents (filter of the list by micro-grid), its head's visit
list and the events assigned to it; printing the 公示牌 and the contact list.

Everything is a function of shequ_desktop.community.microgrids; the page re-reads after a committed
change that touches what it shows, and only while shown.
"""
from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from shequ_desktop.casework import events
from shequ_desktop.community import microgrids
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.pinyin import sort_key as name_key
from shequ_desktop.core.statuses import ON_RECORD
from shequ_desktop.core.tree import Places, grid_of, subtree_units
from shequ_desktop.population.resident_list import rows as resident_rows
from shequ_desktop.reports.pdf import microgrid_board
from ui import operations
from ui.models.row_list import ID_ROLE
from ui.pages.community_base import (
    AskDialog,
    CommunityPage,
    DictModel,
    ok_cancel,
    page_title,
)
from ui.table_setup import setup_table

RELEVANT = ("microgrids", "microgrid_households", "residents", "households", "houses",
            "grid_units", "visits", "resident_tags", "events")


class MicrogridDialog(AskDialog):
    """A micro-grid: name, scope (a building or unit of the grid, or chosen households) and
    its head's name, role and phone."""

    def __init__(self, scopes: list[tuple[int | None, str]], values: dict | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        values = values or {}
        self.setWindowTitle(self.tr("编辑微网格") if values else self.tr("新建微网格"))
        self.setMinimumWidth(420)
        self.name = QLineEdit(values.get("name") or "")
        self.name.setMaxLength(microgrids.MAX_NAME)
        self.scope = QComboBox()
        for unit_id, label in scopes:
            self.scope.addItem(label, unit_id)
        self.scope.setCurrentIndex(max(0, self.scope.findData(values.get("unit_id"))))
        self.head = QLineEdit(values.get("head_name") or "")
        self.head.setPlaceholderText(self.tr("也可在“居民”中选一人设为微网格员"))
        self.role = QComboBox()
        self.role.setEditable(True)
        self.role.addItems(list(microgrids.ROLES))
        self.role.setCurrentText(values.get("head_role") or microgrids.ROLES[0])
        self.phone = QLineEdit(values.get("head_phone") or "")
        self.notes = QLineEdit(values.get("notes") or "")
        form = QFormLayout()
        form.addRow(self.tr("名称："), self.name)
        form.addRow(self.tr("范围："), self.scope)
        form.addRow(self.tr("微网格员："), self.head)
        form.addRow(self.tr("身份："), self.role)
        form.addRow(self.tr("联系电话："), self.phone)
        form.addRow(self.tr("备注："), self.notes)
        self.finish(form, self.name)

    def answer(self) -> dict:
        return {"name": self.name.text().strip(), "unit_id": self.scope.currentData(),
                "head_name": self.head.text().strip() or None,
                "head_role": self.role.currentText().strip() or None,
                "head_phone": self.phone.text().strip() or None,
                "notes": self.notes.text().strip() or None}



class HouseholdsDialog(AskDialog):
    """Tick the households of a chosen-households micro-grid."""

    def __init__(self, choices: list[tuple[int, str]], chosen: set[int],
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("选择微网格的户"))
        self.resize(420, 560)
        self.list = QListWidget()
        for hid, label in choices:
            item = QListWidgetItem(label)
            item.setData(ID_ROLE, hid)
            item.setCheckState(Qt.CheckState.Checked if hid in chosen
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.count = QLabel()
        self.list.itemChanged.connect(self._update)
        buttons = ok_cancel(self)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("一个微网格通常 30–50 户；已在别的选定微网格中的户会移到这里。")))
        layout.addWidget(self.list, 1)
        layout.addWidget(self.count)
        layout.addWidget(buttons)
        self._update()

    def answer(self) -> list[int]:
        return [self.list.item(i).data(ID_ROLE) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def _update(self, *_args) -> None:
        self.count.setText(self.tr("已选 {0} 户").format(len(self.answer())))



class MicrogridsPage(CommunityPage):
    """Emits residentSelected(resident id) when a resident row becomes current."""

    residentSelected = Signal(int)
    RELEVANT = RELEVANT

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(ctx, db_path, parent)
        self.grid_id: int | None = None
        self._detail_for: dict | None = None

        self.add_button = QPushButton(self.tr("新建微网格…"))
        self.add_button.clicked.connect(self.add_microgrid)
        self.edit_button = QPushButton(self.tr("编辑…"))
        self.edit_button.clicked.connect(self.edit_microgrid)
        self.delete_button = QPushButton(self.tr("删除"))
        self.delete_button.clicked.connect(self.delete_microgrid)
        self.households_button = QPushButton(self.tr("选择户…"))
        self.households_button.setToolTip(self.tr("范围为“选定的户”的微网格：勾选其中的户"))
        self.households_button.clicked.connect(self.choose_households)
        self.board_button = QPushButton(self.tr("打印公示牌…"))
        self.board_button.clicked.connect(lambda: self.print_board())
        self.contacts_button = QPushButton(self.tr("打印联系表…"))
        self.contacts_button.clicked.connect(lambda: self.print_board(contacts=True))
        self.hint = QLabel()
        bar = QHBoxLayout()
        bar.addWidget(page_title(self.tr("微网格")))
        bar.addSpacing(12)
        for button in (self.add_button, self.edit_button, self.delete_button,
                       self.households_button, self.board_button, self.contacts_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.hint)

        self.model = DictModel(("微网格", "范围", "微网格员", "身份", "联系电话", "户数", "人数",
                                "重点人员"),
                               ("name", "scope", "head_name", "head_role", "head_phone",
                                "households", "residents", "focus"), parent=self)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [10, 11, 5, 5, 8, 3, 3, 4], stretch=1)
        self.view.selectionModel().currentRowChanged.connect(self._show_detail)
        self.view.doubleClicked.connect(lambda _i: self.edit_microgrid())

        self.residents = DictModel(("姓名", "性别", "年龄", "地址", "与户主关系"),
                                   ("name", "gender", "age", "address", "relation_to_head"),
                                   parent=self)
        self.resident_view = QTableView()
        self.resident_view.setModel(self.residents)
        setup_table(self.resident_view, [5, 2, 3, 14, 5], stretch=3)
        self.resident_view.selectionModel().currentRowChanged.connect(self._on_resident)
        self.head_button = QPushButton(self.tr("设为微网格员"))
        self.head_button.clicked.connect(self.make_head)
        residents_tab = QWidget()
        box = QVBoxLayout(residents_tab)
        row = QHBoxLayout()
        row.addWidget(self.head_button)
        row.addStretch(1)
        box.addLayout(row)
        box.addWidget(self.resident_view, 1)

        self.due = DictModel(("姓名", "地址", "重点人群", "上次走访", "应访日期", "逾期天数"),
                             ("name", "address", "tags", "last_visit", "due_on", "days_overdue"),
                             id_key="resident_id", parent=self)
        self.due_view = QTableView()
        self.due_view.setModel(self.due)
        setup_table(self.due_view, [5, 14, 10, 6, 6, 4], stretch=1)
        self.events = DictModel(("编号", "发现时间", "类别", "事件描述", "状态", "办结时限"),
                                ("id", "found_at", "category", "description", "status",
                                 "deadline"), parent=self)
        self.event_view = QTableView()
        self.event_view.setModel(self.events)
        setup_table(self.event_view, [3, 8, 5, 16, 4, 8], stretch=3)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(residents_tab, self.tr("居民"))
        self.tabs.addTab(self.due_view, self.tr("走访清单"))
        self.tabs.addTab(self.event_view, self.tr("指派的事件"))

        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.view)
        split.addWidget(self.tabs)
        split.setStretchFactor(1, 1)
        self.arrange(bar, split)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def reload(self, *_args) -> None:
        """Read the micro-grids off the GUI thread (a street's counts take a second)."""
        self._stale = False
        self.grid_id = grid_of(self.ctx.conn, self.unit_id) if self.unit_id else None
        unit_id, keep = self.unit_id, self.current_id()

        def read(ctx):
            try:
                return microgrids.list_microgrids(ctx.conn, ctx.access, unit_id)
            except DomainError:
                return []

        def show(rows: list[dict]) -> None:
            self._detail_for = None
            self.show_rows(self.view, rows, keep)
            self.hint.setText(self.tr("共 {0} 个微网格").format(len(rows)) if self.grid_id else
                              self.tr("共 {0} 个微网格；在左侧选一个网格以新建和打印公示牌")
                              .format(len(rows)))
            self._show_detail()

        operations.latest(self, "list", self.ctx, read, show)

    def current_id(self) -> int | None:
        return self.current_id_of(self.view)

    def current(self) -> dict | None:
        return self.current_row_of(self.view)

    def select(self, name: str) -> None:
        self.select_named(self.view, name)

    def _show_detail(self, *_args) -> None:
        mg = self.current()
        if mg is not None and mg == self._detail_for:     # asked already (selection, reload)
            return
        self._detail_for = mg
        if mg is None:
            self._show_detail_rows(([], [], []))
            return
        def read(ctx):
            conn, access = ctx.conn, ctx.access
            return (resident_rows(conn, microgrids.resident_ids(conn, mg["id"])),
                    microgrids.due_visits(conn, mg["id"], access=access),
                    [e for e in events.list_events(conn, unit_id=mg["grid_id"], access=access)
                     if e.get("microgrid_id") == mg["id"]])

        operations.latest(self, "detail", self.ctx, read, self._show_detail_rows)

    def _show_detail_rows(self, result: tuple[list, list, list]) -> None:
        for model, rows in zip((self.residents, self.due, self.events), result):
            model.set_rows(rows)
        self.tabs.setTabText(0, self.tr("居民（{0}）").format(self.residents.rowCount()))
        self.tabs.setTabText(1, self.tr("走访清单（{0}）").format(self.due.rowCount()))
        self.tabs.setTabText(2, self.tr("指派的事件（{0}）").format(self.events.rowCount()))
        self._update_buttons()

    def _on_resident(self, current: QModelIndex, _previous: QModelIndex) -> None:
        rid = self.residents.id_at(current.row()) if current.isValid() else None
        if rid is not None:
            self.residentSelected.emit(rid)
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        mg = self.current()
        self.add_button.setEnabled(self.grid_id is not None)
        for button in (self.edit_button, self.delete_button):
            button.setEnabled(mg is not None)
        self.households_button.setEnabled(mg is not None and mg["unit_id"] is None)
        self.board_button.setEnabled(self.grid_id is not None)
        self.contacts_button.setEnabled(self.grid_id is not None)
        self.head_button.setEnabled(mg is not None and self.resident_view.currentIndex().isValid())

    # --- acting ------------------------------------------------------------------------------
    def _scopes(self) -> list[tuple[int | None, str]]:

        places = Places(self.ctx.conn)
        out: list[tuple[int | None, str]] = [(None, self.tr("选定的户"))]
        for unit in subtree_units(self.ctx.conn, self.grid_id):
            if unit["level"] in ("building", "unit"):
                out.append((unit["id"], places.of(unit["id"])[4].strip()))
        return out[:1] + sorted(out[1:], key=lambda s: (name_key(s[1]), s[0]))

    def add_microgrid(self) -> None:
        if self.grid_id is None:
            return
        values = MicrogridDialog.ask(self, self._scopes())
        if values is not None:
            self.attempt(self.tr("无法新建微网格"), lambda: microgrids.create_microgrid(
                self.ctx, self.grid_id, **values))

    def edit_microgrid(self) -> None:
        mg = self.current()
        if mg is None:
            return
        self.grid_id = mg["grid_id"]
        values = MicrogridDialog.ask(self, self._scopes(), mg)
        if values is not None:
            self.attempt(self.tr("无法保存微网格"), lambda: microgrids.update_microgrid(
                self.ctx, mg["id"], values))

    def delete_microgrid(self) -> None:
        mg = self.current()
        if mg is None:
            return
        answer = QMessageBox.question(self, self.tr("删除微网格"), self.tr(
            "删除“{0}”？其中的户不受影响，指派给它的事件改为未指派。").format(mg["name"]))
        if answer == QMessageBox.StandardButton.Yes:
            self.attempt(self.tr("无法删除微网格"),
                         lambda: microgrids.delete_microgrid(self.ctx, mg["id"]))

    def choose_households(self) -> None:

        mg = self.current()
        if mg is None or mg["unit_id"] is not None:
            return
        places = Places(self.ctx.conn)
        choices = []
        for hid, unit, room, head in self.ctx.conn.execute(f"""
                SELECT h.id, ho.unit_id, ho.room_no, r.name FROM households h
                JOIN houses ho ON ho.id = h.house_id
                LEFT JOIN residents r ON r.id = h.head_resident_id
                WHERE h.status = '{ON_RECORD}' ORDER BY ho.unit_id, ho.room_no, h.id""").fetchall():
            if places.grid_key(unit)[1] and self._in_grid(unit, mg["grid_id"], places):
                choices.append((hid, f"{places.of(unit)[4]}{room}  {head or ''}"))
        chosen = set(microgrids.household_ids(self.ctx.conn, mg["id"]))
        answer = HouseholdsDialog.ask(self, choices, chosen)
        if answer is not None:
            self.attempt(self.tr("无法保存选定的户"),
                         lambda: microgrids.set_households(self.ctx, mg["id"], answer))

    @staticmethod
    def _in_grid(unit: int, grid_id: int, places) -> bool:
        node = unit
        while node is not None and node in places.units:
            if node == grid_id:
                return True
            node = places.units[node][0]
        return False

    def make_head(self) -> None:
        mg = self.current()
        index = self.resident_view.currentIndex()
        if mg is None or not index.isValid():
            return
        rid = self.residents.id_at(index.row())
        role, ok = QInputDialog.getItem(self, self.tr("设为微网格员"), self.tr("身份："),
                                        list(microgrids.ROLES), 0, True) \
            if not mg.get("head_role") else (mg["head_role"], True)
        if ok:
            self.attempt(self.tr("无法设置微网格员"), lambda: microgrids.update_microgrid(
                self.ctx, mg["id"], {"head_resident_id": rid, "head_name": None,
                                     "head_phone": None, "head_role": role}))

    def print_board(self, contacts: bool = False, path: str | None = None,
                    phone: str | None = None) -> dict | None:
        """The 公示牌 (or the contact list) of the chosen grid, written in the background."""

        if self.grid_id is None:
            return None
        name = self.tr("微网格联系表") if contacts else self.tr("网格员公示牌")
        if path is None and not contacts:
            phone, ok = QInputDialog.getText(self, name, self.tr("公示牌上网格的联系电话："))
            if not ok:
                return None
        grid_id = self.grid_id
        if contacts:
            def work(ctx, out, _progress):
                return microgrid_board.build_contacts(ctx.conn, grid_id, out, actor=ctx.user)
        else:
            def work(ctx, out, _progress):
                return microgrid_board.build_board(ctx.conn, grid_id, out, phone=phone or None,
                                                   actor=ctx.user)
        return self.write_file(work, path, self.tr("保存{0}").format(name),
                               f"{name}_{dt.date.today():%Y%m%d}.pdf")
