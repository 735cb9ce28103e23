"""The small questions asked when a household changes: a date (and where to), the new head,
a relation to the head, another household, another house.

Each dialog has `answer()` and a classmethod `ask(...)` that shows it and returns the answer,
or None when the user cancels. Tests drive the dialogs or monkeypatch `ask`.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from db.driver import sqlite3
from shequ_desktop.core import codes
from shequ_desktop.core.statuses import MOVED_OUT
from shequ_desktop.places import pickers
from shequ_desktop.population.residents import HEAD_RELATIONS
from ui.dialogs.form_dialog import FormDialog

ID_ROLE = Qt.ItemDataRole.UserRole


def _tr(text: str) -> str:
    """tr() for texts needed before the QDialog exists (window titles passed to the base)."""
    return QCoreApplication.translate("move_dialogs", text)


def date_edit() -> QDateEdit:
    """A date field: today by default, never in the future (the domain refuses that too)."""
    edit = QDateEdit(QDate.currentDate())
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setMaximumDate(QDate.currentDate())
    return edit


def relation_combo() -> QComboBox:
    """与户主关系 (GB/T 4761) for a member: 本人/户主 are left out; nothing chosen at first."""
    combo = QComboBox()
    for item in codes.table("relation"):
        if item.code not in HEAD_RELATIONS:
            combo.addItem(item.label, item.code)
    combo.setMaxVisibleItems(20)
    combo.setCurrentIndex(-1)
    combo.setPlaceholderText(combo.tr("请选择"))
    return combo


def _iso(edit: QDateEdit) -> str:
    return edit.date().toString(Qt.DateFormat.ISODate)


class DateDialog(FormDialog):
    """One date, e.g. the date of death."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.date = date_edit()
        self.form.addRow(QLabel(prompt))
        self.form.addRow(self.tr("日期："), self.date)
        self._finish()

    def answer(self) -> str:
        return _iso(self.date)

    @classmethod
    def ask(cls, parent: QWidget | None, title: str, prompt: str) -> str | None:
        return cls._run(cls(title, prompt, parent))


class MoveOutDialog(FormDialog):
    """迁出: the date and where the person went."""

    def __init__(self, name: str, parent: QWidget | None = None):
        super().__init__(_tr(MOVED_OUT), parent)
        self.date = date_edit()
        self.destination = QLineEdit()
        self.destination.setPlaceholderText(self.tr("如：朝阳区某某社区、外省市"))
        self.form.addRow(QLabel(self.tr("办理 {0} 的迁出。").format(name)))
        self.form.addRow(self.tr("迁出日期："), self.date)
        self.form.addRow(self.tr("迁往："), self.destination)
        self._finish()

    def answer(self) -> tuple[str, str]:
        return _iso(self.date), self.destination.text().strip()

    @classmethod
    def ask(cls, parent: QWidget | None, name: str) -> tuple[str, str] | None:
        return cls._run(cls(name, parent))


class RelationDialog(FormDialog):
    """A relation to the head, e.g. the old head's relation to the new one."""

    def __init__(self, title: str, prompt: str, parent: QWidget | None = None):
        super().__init__(title, parent)
        self.relation = relation_combo()
        self.relation.currentIndexChanged.connect(self._update_ok)
        prompt_label = QLabel(prompt)
        prompt_label.setWordWrap(True)
        self.form.addRow(prompt_label)
        self.form.addRow(self.tr("与户主关系："), self.relation)
        self._add_fields()
        self._finish()

    def _add_fields(self) -> None:
        pass

    def _complete(self) -> bool:
        return self.relation_code() is not None

    def set_relation(self, code: str) -> None:
        self.relation.setCurrentIndex(self.relation.findData(code))

    def relation_code(self) -> str | None:
        return self.relation.currentData() if self.relation.currentIndex() >= 0 else None

    def answer(self) -> str | None:
        return self.relation_code()

    @classmethod
    def ask(cls, parent: QWidget | None, title: str, prompt: str) -> str | None:
        return cls._run(cls(title, prompt, parent))


class MoveRelationDialog(RelationDialog):
    """户间迁移: the relation to the new household's head and the date of the move."""

    def __init__(self, name: str, target: str, parent: QWidget | None = None):
        super().__init__(_tr("户间迁移"),
                         _tr("{0} 迁入 {1}，与该户户主的关系是？").format(name, target), parent)

    def _add_fields(self) -> None:
        self.date = date_edit()
        self.form.addRow(self.tr("迁入日期："), self.date)

    def answer(self) -> tuple[str, str] | None:
        code = self.relation_code()
        return None if code is None else (code, _iso(self.date))

    @classmethod
    def ask(cls, parent: QWidget | None, name: str, target: str) -> tuple[str, str] | None:
        return cls._run(cls(name, target, parent))


class NewHeadDialog(FormDialog):
    """Who becomes the head when the head leaves: one of the members who stay."""

    def __init__(self, leaving: str, candidates: list[dict], parent: QWidget | None = None):
        super().__init__(_tr("指定新户主"), parent)
        prompt = QLabel(self.tr("{0} 是户主，户内还有其他成员。请指定新户主：").format(leaving))
        prompt.setWordWrap(True)
        self.list = QListWidget()
        for m in candidates:
            age = "" if m.get("age") is None else self.tr("，{0}岁").format(m["age"])
            item = QListWidgetItem(f"{m['name']}（{m.get('relation') or ''}{age}）")
            item.setData(ID_ROLE, m["id"])
            self.list.addItem(item)
        self.list.currentRowChanged.connect(self._update_ok)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        self.form.addRow(prompt)
        self.form.addRow(self.list)
        self._finish()

    def _complete(self) -> bool:
        return self.list.currentItem() is not None

    def select(self, resident_id: int) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(ID_ROLE) == resident_id:
                self.list.setCurrentRow(row)

    def answer(self) -> int | None:
        item = self.list.currentItem()
        return None if item is None else item.data(ID_ROLE)

    @classmethod
    def ask(cls, parent: QWidget | None, leaving: str, candidates: list[dict]) -> int | None:
        return cls._run(cls(leaving, candidates, parent))


def _table(headers: list[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 8)
    return table


def _fill(table: QTableWidget, rows: list[tuple[int, list[str]]]) -> None:
    table.setRowCount(len(rows))
    for r, (row_id, texts) in enumerate(rows):
        for c, text in enumerate(texts):
            item = QTableWidgetItem(text)
            item.setData(ID_ROLE, row_id)
            table.setItem(r, c, item)
    if rows:
        table.selectRow(0)


class _PickerDialog(FormDialog):
    """A search box or filters over a table of choices; double-click or OK picks one."""

    def __init__(self, title: str, headers: list[str], parent: QWidget | None = None):
        super().__init__(title, parent)
        self.table = _table(headers)
        self.table.itemSelectionChanged.connect(self._update_ok)
        self.table.itemDoubleClicked.connect(lambda _item: self.accept())
        self.count = QLabel()
        self.resize(620, 440)

    def _complete(self) -> bool:
        return self.answer() is not None

    def ids(self) -> list[int]:
        return [self.table.item(r, 0).data(ID_ROLE) for r in range(self.table.rowCount())]

    def select(self, row_id: int) -> None:
        self.table.selectRow(self.ids().index(row_id))

    def answer(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        return self.table.item(rows[0].row(), 0).data(ID_ROLE) if rows else None


class HouseholdPickerDialog(_PickerDialog):
    """Another household of the same community, found by 户号 or the head's name."""

    LIMIT = 100

    def __init__(self, conn: sqlite3.Connection, scope_unit_id: int | None,
                 exclude_id: int | None = None, parent: QWidget | None = None):
        super().__init__(_tr("选择迁入的户"),
                         [_tr("户主"), _tr("户号"), _tr("人数"), _tr("地址")], parent)
        self.conn, self.scope_unit_id, self.exclude_id = conn, scope_unit_id, exclude_id
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("输入户号、户主姓名或拼音首字母"))
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.refresh)
        self.form.addRow(self.tr("查找："), self.search)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.count)
        self._finish()
        self.refresh()

    def refresh(self, *_args) -> None:
        found = pickers.find_households(self.conn, self.scope_unit_id, self.search.text(),
                                        self.exclude_id, self.LIMIT + 1)
        more = len(found) > self.LIMIT
        _fill(self.table, [(h["id"], [h["head_name"] or "", h["household_no"] or "",
                                      str(h["members"]), h["address"]])
                           for h in found[:self.LIMIT]])
        self.count.setText(self.tr("只显示前 {0} 户，请输入更多文字缩小范围").format(self.LIMIT)
                           if more else self.tr("共 {0} 户").format(len(found)))
        self._update_ok()

    @classmethod
    def ask(cls, parent: QWidget | None, conn: sqlite3.Connection, scope_unit_id: int | None,
            exclude_id: int | None = None) -> int | None:
        return cls._run(cls(conn, scope_unit_id, exclude_id, parent))


class HousePickerDialog(_PickerDialog):
    """Another house of the same building or grid, for moving a whole household."""

    def __init__(self, conn: sqlite3.Connection, house_id: int | None,
                 parent: QWidget | None = None):
        super().__init__(_tr("选择搬入的房屋"), [_tr("房屋"), _tr("用途"), _tr("现住户")],
                         parent)
        self.conn, self.house_id = conn, house_id
        self.scope = QComboBox()
        for text, level in ((self.tr("本楼栋"), "building"), (self.tr("本网格"), "grid"),
                            (self.tr("本社区"), "community")):
            unit = pickers.house_scope(conn, house_id, level)
            if unit is not None:
                self.scope.addItem(text, unit)
        self.only_empty = QCheckBox(self.tr("只显示无人居住的房屋"))
        self.only_empty.setChecked(True)
        self.filter = QLineEdit()
        self.filter.setPlaceholderText(self.tr("楼栋、单元或房号"))
        self.filter.setClearButtonEnabled(True)
        row = QHBoxLayout()
        row.addWidget(self.scope)
        row.addWidget(self.only_empty)
        row.addWidget(self.filter, 1)
        self.form.addRow(self.tr("范围："), row)
        self.layout_.addWidget(self.table, 1)
        self.layout_.addWidget(self.count)
        for signal in (self.scope.currentIndexChanged, self.only_empty.toggled,
                       self.filter.textChanged):
            signal.connect(self.refresh)
        self._finish()
        self.refresh()

    def refresh(self, *_args) -> None:
        unit = self.scope.currentData() if self.scope.currentIndex() >= 0 else None
        houses = [] if unit is None else pickers.list_houses(
            self.conn, unit, only_empty=self.only_empty.isChecked(), exclude_id=self.house_id)
        text = "".join(self.filter.text().split())
        if text:
            houses = [h for h in houses if text in h["address"].replace(" ", "")]
        _fill(self.table, [(h["id"], [h["address"], h["usage"], self._occupants(h)])
                           for h in houses])
        self.count.setText(self.tr("共 {0} 套").format(len(houses)))
        self._update_ok()

    def _occupants(self, house: dict) -> str:
        if not house["households"]:
            return self.tr("无")
        if house["households"] == 1:
            return self.tr("{0}户").format(house["head_name"] or "")
        return self.tr("{0}等 {1} 户").format(house["head_name"] or "", house["households"])

    @classmethod
    def ask(cls, parent: QWidget | None, conn: sqlite3.Connection,
            house_id: int | None) -> int | None:
        return cls._run(cls(conn, house_id, parent))
