"""The details on the right of the main window: the chosen resident's registry fields and the
members of their household.

At start-up only the placeholder is built; the form, the members table and the visits list are
built when the first resident is shown (they and their modules cost ~15 ms of start-up)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from db.driver import sqlite3

if TYPE_CHECKING:
    from PySide6.QtWidgets import QGroupBox, QTableWidgetItem

from shequ_desktop.core.context import Change

# Imports inside functions here are lazy for start-up (see the docstring).

# Rows that only mean something after a move or a death: hidden while empty.
WHEN_FILLED = ("moved_out_at", "moved_out_to", "death_date")
VISITS_SHOWN = 10          # the latest visits in the 走访记录 group


def detail_fields() -> tuple[str, ...]:
    """Shown in this order: where the person lives, then the registry in its own order."""
    from shequ_desktop.core.fields import fields
    return ("address", "grid", "age") + tuple(
        f.name for f in fields("residents") if f.name != "name")


class DetailsPanel(QWidget):
    """Emits memberActivated(resident id) when a household member is double-clicked."""

    memberActivated = Signal(int)
    historyRequested = Signal(int)      # the audit trail of this resident

    def __init__(self, conn: sqlite3.Connection, parent: QWidget | None = None, *,
                 access=None):
        """`access`: the signed-in user's; a 网格员 is shown nobody outside their units."""
        super().__init__(parent)
        self.conn = conn
        self.access = access
        self.resident_id: int | None = None
        self.household_id: int | None = None
        self.built = False          # the form, members and visits exist (see _build)

        self.placeholder = QLabel(self.tr("在左侧表格中选择一位居民，这里显示其详细信息。"))
        self.placeholder.setWordWrap(True)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._layout = QVBoxLayout(self)
        # Where the placeholder will sit once built: inside the scroll area's own layout.
        inner = self._layout.contentsMargins()
        self._layout.setContentsMargins(6 + inner.left(), 6 + inner.top(),
                                        6 + inner.right(), 6 + inner.bottom())
        self._layout.addWidget(self.placeholder)

    def _build(self) -> None:
        """The form, the members table and the visits list (on the first resident shown)."""
        if self.built:
            return
        self.built = True
        from PySide6.QtWidgets import (
            QAbstractItemView,
            QFormLayout,
            QFrame,
            QGroupBox,
            QHBoxLayout,
            QHeaderView,
            QPushButton,
            QScrollArea,
            QTableWidget,
        )

        from shequ_desktop.population.resident_list import label

        self.title = QLabel()
        font = self.title.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.4)
        self.title.setFont(font)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.values: dict[str, QLabel] = {}
        form_box = QWidget()
        self.form = form = QFormLayout(form_box)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        for key in detail_fields():
            value = QLabel()
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.values[key] = value
            form.addRow(self.tr("{0}：").format(label(key)), value)

        self.members = QTableWidget(0, 3)
        self.members.setHorizontalHeaderLabels([self.tr("姓名"), self.tr("与户主关系"),
                                                self.tr("年龄")])
        self.members.verticalHeader().setVisible(False)
        self.members.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.members.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        header = self.members.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.members.itemDoubleClicked.connect(self._on_member)
        members_box = QGroupBox(self.tr("同户成员"))
        QVBoxLayout(members_box).addWidget(self.members)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        self.history_button = QPushButton(self.tr("修改记录…"))
        self.history_button.setToolTip(self.tr("谁在什么时候改过这条记录（审计日志）"))
        self.history_button.setFlat(True)
        self.history_button.clicked.connect(
            lambda: self.resident_id is not None and self.historyRequested.emit(self.resident_id))
        heading = QHBoxLayout()
        heading.addWidget(self.title, 1)
        heading.addWidget(self.history_button)
        body.addLayout(heading)
        body.addWidget(form_box)
        self.focus_box = QGroupBox(self.tr("重点人群信息"))
        self.focus_form = QFormLayout(self.focus_box)
        self.focus_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        body.addWidget(self.focus_box)
        self.extras_box = QGroupBox(self.tr("附加信息（导入时表中的其他列）"))
        self.extras_form = QFormLayout(self.extras_box)
        self.extras_form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        body.addWidget(self.extras_box)
        body.addWidget(members_box, 1)
        body.addWidget(self._build_visits_box(), 1)
        body.addWidget(self._build_events_box())

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        inner = QWidget()
        inner_layout = QVBoxLayout(inner)
        self._layout.removeWidget(self.placeholder)
        inner_layout.addWidget(self.placeholder)
        inner_layout.addWidget(self.body)
        scroll.setWidget(inner)
        self._layout.setContentsMargins(6, 6, 6, 6)
        self._layout.addWidget(scroll)
        scroll.show()          # added to a panel already on screen: Qt would show it later

    def show_resident(self, resident_id: int | None) -> None:
        if resident_id is None and not self.built:
            return                          # the placeholder is what is shown
        self._build()
        from PySide6.QtWidgets import QTableWidgetItem

        from shequ_desktop.population.resident_list import household_members, rows

        found = rows(self.conn, [resident_id]) if resident_id is not None else []
        record = found[0] if found else None
        if record is not None and self.access is not None:
            from shequ_desktop.core.access import NotPermitted
            try:
                self.access.check_read(self.conn, "residents", record)
            except NotPermitted:
                record = None
        self.resident_id = record["id"] if record else None
        self.household_id = record["household_id"] if record else None
        self.placeholder.setVisible(record is None)
        self.body.setVisible(record is not None)
        if record is None:
            self.title.clear()
            self.members.setRowCount(0)
            self._show_visits()
            self._show_events()
            return
        self.title.setText(record["name"])
        for key, widget in self.values.items():
            value = record.get(key)
            widget.setText("" if value is None else str(value))
            if key in WHEN_FILLED:
                self.form.setRowVisible(widget, value is not None)
        self._show_extras()
        members = household_members(self.conn, self.household_id)
        self.members.setRowCount(len(members))
        for row, m in enumerate(members):
            for column, text in enumerate((m["name"], m["relation"],
                                           "" if m["age"] is None else str(m["age"]))):
                item = QTableWidgetItem(text)
                item.setData(Qt.ItemDataRole.UserRole, m["id"])
                if m["id"] == self.resident_id:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.members.setItem(row, column, item)
        self._show_visits()
        self._show_events()

    def _show_extras(self) -> None:
        """Each focus group's own fields (issue 21) under the group's name, then whatever
        else an imported register carried."""
        from shequ_desktop.population import extras, focus_groups

        for form in (self.focus_form, self.extras_form):
            while form.rowCount():
                form.removeRow(0)
        found = extras.of_resident(self.conn, self.resident_id) if self.resident_id else {}
        grouped = focus_groups.member_fields(self.conn, self.resident_id) \
            if self.resident_id else []
        shown: set[str] = set()
        for group, values in grouped:
            if not values:
                continue
            heading = QLabel(group)
            font = heading.font()
            font.setBold(True)
            heading.setFont(font)
            self.focus_form.addRow(heading)
            for label, value in values:
                text = QLabel(value or self.tr("（未填）"))
                text.setWordWrap(True)
                text.setEnabled(bool(value))
                text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.focus_form.addRow(self.tr("{0}：").format(label), text)
                shown.add(label)
        self.focus_box.setVisible(bool(shown))
        rest = {k: v for k, v in found.items() if k not in shown}
        for key, value in rest.items():
            text = QLabel(value)
            text.setWordWrap(True)
            text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.extras_form.addRow(self.tr("{0}：").format(key), text)
        self.extras_box.setVisible(bool(rest))

    def focus_shown(self) -> list[tuple[str, str]]:
        """The 重点人群信息 rows shown, as (label, text); a group's heading as (name, "")."""
        if not self.built or self.focus_box.isHidden():
            return []
        from PySide6.QtWidgets import QFormLayout

        out = []
        for r in range(self.focus_form.rowCount()):
            span = self.focus_form.itemAt(r, QFormLayout.ItemRole.SpanningRole)
            if span is not None:
                out.append((span.widget().text(), ""))
                continue
            label = self.focus_form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
            value = self.focus_form.itemAt(r, QFormLayout.ItemRole.FieldRole).widget().text()
            out.append((label.rstrip("："), value))
        return out

    def extras_shown(self) -> dict[str, str]:
        """The 附加信息 rows shown (for tests)."""
        if not self.built or self.extras_box.isHidden():
            return {}
        from PySide6.QtWidgets import QFormLayout

        out = {}
        for r in range(self.extras_form.rowCount()):
            label = self.extras_form.itemAt(r, QFormLayout.ItemRole.LabelRole).widget().text()
            value = self.extras_form.itemAt(r, QFormLayout.ItemRole.FieldRole).widget().text()
            out[label.rstrip("：")] = value
        return out

    def text_of(self, key: str) -> str:
        """What the panel shows for a field (for tests and copy)."""
        if not self.built:
            return ""
        return self.title.text() if key == "name" else self.values[key].text()

    def member_names(self) -> list[str]:
        if not self.built:
            return []
        return [self.members.item(r, 0).text() for r in range(self.members.rowCount())]

    def refresh(self) -> None:
        self.show_resident(self.resident_id)

    def apply_changes(self, changes: list[Change]) -> None:
        # One record and its household: re-reading them costs about a millisecond.
        if self.resident_id is not None and any(
                c.entity in ("residents", "households", "houses", "grid_units") for c in changes):
            self.refresh()
        elif self.resident_id is not None and any(
                c.entity == "visits" and (c.id is None or isinstance(c.new, dict) and
                                          c.new.get("resident_id") == self.resident_id)
                for c in changes):
            self._show_visits()
        if self.resident_id is not None and any(c.entity == "events" for c in changes):
            self._show_events()

    def _on_member(self, item: QTableWidgetItem) -> None:
        resident_id = item.data(Qt.ItemDataRole.UserRole)
        if resident_id is not None and resident_id != self.resident_id:
            self.memberActivated.emit(resident_id)

    # --- 走访记录: the resident's latest visits ----------------------------------------------------
    @staticmethod
    def _entry_list():
        """A list of two-line entries (date and kind / text): the panel is narrow."""
        from PySide6.QtWidgets import QListView, QListWidget

        entries = QListWidget()
        entries.setWordWrap(True)
        entries.setAlternatingRowColors(True)
        entries.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        entries.setResizeMode(QListView.ResizeMode.Adjust)
        return entries

    def _build_visits_box(self) -> QGroupBox:
        from PySide6.QtWidgets import QGroupBox

        self.visits = self._entry_list()
        self.no_visits = QLabel(self.tr("暂无走访记录"))
        self.visits_box = QGroupBox(self.tr("走访记录"))
        box = QVBoxLayout(self.visits_box)
        box.addWidget(self.no_visits)
        box.addWidget(self.visits)
        return self.visits_box

    def _show_visits(self) -> None:
        from shequ_desktop.casework import visits

        shown = (visits.history(self.conn, self.resident_id, limit=VISITS_SHOWN)
                 if self.resident_id is not None else [])
        self.no_visits.setVisible(not shown)
        self.visits.setVisible(bool(shown))
        self.visits.clear()
        for v in shown:
            text = f"{v['visited_on']}  {v['method']}  {v['visitor']}"
            findings = " ".join((v["findings"] or "").split())
            if v["follow_up"]:
                findings = self.tr("【需跟进：{0}】").format(v["follow_up_note"]) + findings
            self.visits.addItem(f"{text}\n{findings}" if findings else text)

    # --- 相关事件: the events that concern the resident ----------------------------------------
    def _build_events_box(self) -> QGroupBox:
        from PySide6.QtWidgets import QGroupBox

        self.events = self._entry_list()
        self.events.setMaximumHeight(self.fontMetrics().lineSpacing() * 9)
        self.events_box = QGroupBox(self.tr("相关事件"))
        QVBoxLayout(self.events_box).addWidget(self.events)
        return self.events_box

    def _show_events(self) -> None:
        from shequ_desktop.casework import events

        shown = (events.of_resident(self.conn, self.resident_id)
                 if self.resident_id is not None else [])
        self.events_box.setVisible(bool(shown))
        self.events.clear()
        for e in shown:
            text = " ".join((e["description"] or "").split())
            self.events.addItem(f"{e['found_at'][:10]}  {e['category']}  {e['status']}\n{text}")

    def event_lines(self) -> list[str]:
        """The 相关事件 entries, newest first (for tests)."""
        if not self.built:
            return []
        return [self.events.item(r).text() for r in range(self.events.count())]

    def visit_lines(self) -> list[str]:
        """The 走访记录 entries, newest first (for tests)."""
        if not self.built:
            return []
        return [self.visits.item(r).text() for r in range(self.visits.count())]
