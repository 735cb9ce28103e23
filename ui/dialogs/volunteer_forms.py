"""The volunteers page's forms: a new volunteer (linked to a resident or on their own), a new
activity, and the period of a service certificate.

The volunteer and activity dialogs save through the domain when OK is pressed and stay open
with the typing when it refuses (the reason is shown); `created` is the new record's id.
"""
from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QDate, QDateTime, Qt, QTime
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QWidget,
)

from db import StorageError
from shequ_desktop.core import codes, search, tree
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.masking import mask_id
from shequ_desktop.volunteers import activities as volunteer_activities
from shequ_desktop.volunteers import roster as volunteers
from ui.dialogs.form_dialog import FormDialog
from ui.dialogs.move_dialogs import date_edit


def _tr(text: str) -> str:
    return QCoreApplication.translate("volunteer_forms", text)


def iso_date(edit) -> str:
    return edit.date().toString(Qt.DateFormat.ISODate)


class SavingDialog(FormDialog):
    """OK runs `_save()`; a refusal (DomainError, or StorageError such as a database locked
    by another PC) keeps the dialog open with what was typed and says why."""

    created: int | None = None

    def _save(self) -> int:
        raise NotImplementedError

    def accept(self) -> None:
        try:
            self.created = self._save()
        except (DomainError, StorageError) as exc:
            QMessageBox.warning(self, self.windowTitle(), str(exc))
            return
        super().accept()

    def answer(self) -> int | None:
        return self.created


def team_combo(ctx: Context, none_text: str, keep: int | None = None) -> QComboBox:
    """The teams the user sees (volunteers.teams: a 网格员's those of their units, of the
    units above and with no unit), after `none_text`; `keep` (a volunteer's own team) is
    listed too, so that saving them does not take them out of it."""
    combo = QComboBox()
    combo.addItem(none_text, None)
    for team in volunteers.teams(ctx.conn, access=ctx.access):
        combo.addItem(team["name"], team["id"])
    if keep is not None and combo.findData(keep) < 0:
        row = ctx.conn.execute("SELECT name FROM volunteer_teams WHERE id = ?",
                               (keep,)).fetchone()
        if row is not None:
            combo.addItem(row[0], keep)
    return combo


class VolunteerDialog(SavingDialog):
    """新增志愿者. Find a resident by name, ID or phone fragment to link them (their personal
    data then come from the resident record), or type them in for someone from elsewhere."""

    def __init__(self, ctx: Context, parent: QWidget | None = None,
                 team_id: int | None = None):
        super().__init__(_tr("新增志愿者"), parent, min_width=460)
        self.ctx = ctx
        self.find = QLineEdit()
        self.find.setPlaceholderText(self.tr("本社区居民：输入姓名、身份证号或电话查找"))
        self.find_button = QPushButton(self.tr("查找"))
        self.matches = QComboBox()
        self.matches.addItem(self.tr("不关联（非本社区居民）"), None)
        row = QHBoxLayout()
        row.addWidget(self.find, 1)
        row.addWidget(self.find_button)
        self.name = QLineEdit()
        self.name.setMaxLength(50)
        self.id_number = QLineEdit()
        self.id_number.setMaxLength(20)
        self.phone = QLineEdit()
        self.phone.setMaxLength(20)
        self.skills = QLineEdit()
        self.skills.setPlaceholderText(self.tr("如：医疗护理、家电维修、法律咨询"))
        self.team = team_combo(ctx, self.tr("未分队"), keep=team_id)
        self.joined = date_edit()
        self.form.addRow(self.tr("关联居民："), row)
        self.form.addRow("", self.matches)
        self.link_note = QLabel(self.tr("姓名、身份证号、电话取自居民档案，不能在此修改；"
                                        "有误请到居民档案中更正。"))
        self.link_note.setWordWrap(True)
        self.link_note.setStyleSheet("color: #555")
        self.link_note.setVisible(False)
        self.form.addRow("", self.link_note)
        self.form.addRow(self.tr("姓名："), self.name)
        self.form.addRow(self.tr("身份证号："), self.id_number)
        self.form.addRow(self.tr("联系电话："), self.phone)
        self.form.addRow(self.tr("技能特长："), self.skills)
        self.form.addRow(self.tr("服务队："), self.team)
        self.form.addRow(self.tr("加入日期："), self.joined)
        self.find_button.clicked.connect(self.look_up)
        self.find.returnPressed.connect(self.look_up)
        self.matches.currentIndexChanged.connect(self._on_match)
        self.name.textChanged.connect(self._update_ok)
        self._finish()

    def look_up(self) -> int:
        """Fill the match list; returns how many residents were found."""
        found = search.search(self.ctx.conn, self.find.text().strip(), limit=30,
                              access=self.ctx.access)
        blocker = self.matches.blockSignals(True)
        while self.matches.count() > 1:
            self.matches.removeItem(1)
        for r in found:
            self.matches.addItem(f"{r['name']}　{mask_id(r['id_number'])}　{r['birth_date'] or ''}",
                                 r["id"])
        self.matches.blockSignals(blocker)
        if found:
            self.matches.setCurrentIndex(1)
        self._on_match()
        return len(found)

    def resident_id(self) -> int | None:
        return self.matches.currentData()

    def _on_match(self, *_args) -> None:
        rid = self.resident_id()
        person = self.ctx.get("residents", rid) if rid is not None else None
        for edit, key in ((self.name, "name"), (self.id_number, "id_number"),
                          (self.phone, "phone")):
            if person is not None:
                edit.setText(person[key] or "")
            edit.setReadOnly(person is not None)
        self.link_note.setVisible(rid is not None)
        self._update_ok()

    def _complete(self) -> bool:
        return bool(self.name.text().strip())

    def _save(self) -> int:
        values = {"skills": self.skills.text().strip() or None, "joined_on": iso_date(self.joined)}
        if self.resident_id() is None:
            values.update(name=self.name.text(), id_number=self.id_number.text().strip() or None,
                          phone=self.phone.text().strip() or None)
        return volunteers.create_volunteer(self.ctx, values, resident_id=self.resident_id(),
                                           team_id=self.team.currentData()).id

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context) -> int | None:
        return cls._run(cls(ctx, parent))


def unit_combo(conn, chosen: int | None, access=None) -> QComboBox:
    """街道/社区/网格 (indented, tree.chooser_order), after 不指定; `chosen` or, when it is below
    grid level, its nearest listed ancestor is selected. A 网格员 (`access`) is offered their
    own grids (and the one already chosen)."""

    units = tree.all_units(conn, tree.TOP_LEVELS)
    if access is not None and access.restricted:
        listed = {u["id"] for u in units}
        kept = next((a for a in tree.ancestors(conn, chosen) if a in listed),
                    None) if chosen is not None else None
        units = [u for u in units if access.may_read(u["id"]) or u["id"] == kept]
    combo = QComboBox()
    combo.addItem(_tr("不指定"), None)
    for unit, depth in tree.chooser_order(units):
        combo.addItem("　" * depth + unit["name"], unit["id"])
    listed = {u["id"] for u in units}
    if chosen is not None:
        ancestor = next((u for u in tree.ancestors(conn, chosen) if u in listed), None)
        combo.setCurrentIndex(max(combo.findData(ancestor), 0))
    return combo


class ActivityDialog(SavingDialog):
    """新建活动: title, category, organiser, place, start and end; or (`activity_id`) 修改活动,
    where the domain refuses a length shorter than hours already signed in."""

    def __init__(self, ctx: Context, organiser: str = "", unit_id: int | None = None,
                 parent: QWidget | None = None, activity_id: int | None = None):
        super().__init__(_tr("修改志愿活动") if activity_id else _tr("新建志愿活动"), parent,
                         min_width=440)
        self.ctx = ctx
        self.activity_id = activity_id
        act = ctx.get("activities", activity_id) if activity_id else None
        self.current = act                  # as read: a save refuses if changed since
        self.unit = unit_combo(ctx.conn, act["unit_id"] if act else unit_id, ctx.access)
        self.unit.setToolTip(self.tr("签到表默认列出该网格所在社区的志愿者"))
        self.title = QLineEdit()
        self.title.setMaxLength(100)
        self.category = QComboBox()
        for item in codes.table("activity_category").items:
            self.category.addItem(item.label, item.code)
        self.organiser = QLineEdit(organiser)
        self.place = QLineEdit()
        start = QDateTime(QDate.currentDate(), QTime(9, 0))
        self.starts = QDateTimeEdit(start)
        self.ends = QDateTimeEdit(start.addSecs(2 * 3600))
        for edit in (self.starts, self.ends):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.length = QLabel()
        self.notes = QPlainTextEdit()
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.form.addRow(self.tr("活动名称："), self.title)
        self.form.addRow(self.tr("服务类别："), self.category)
        self.form.addRow(self.tr("组织单位："), self.organiser)
        self.form.addRow(self.tr("活动地点："), self.place)
        self.form.addRow(self.tr("所属网格："), self.unit)
        self.form.addRow(self.tr("开始时间："), self.starts)
        self.form.addRow(self.tr("结束时间："), self.ends)
        self.form.addRow(self.tr("活动时长："), self.length)
        self.form.addRow(self.tr("备注："), self.notes)
        self.title.textChanged.connect(self._update_ok)
        self.starts.dateTimeChanged.connect(self._update_ok)
        self.ends.dateTimeChanged.connect(self._update_ok)
        if act:
            self._load(act)
        self._finish()

    def _load(self, act: dict) -> None:
        fmt = "yyyy-MM-dd HH:mm"
        self.title.setText(act["title"])
        index = self.category.findData(act["category"])
        if index < 0:                       # a category no longer in the code table
            self.category.addItem(act["category"], act["category"])
            index = self.category.count() - 1
        self.category.setCurrentIndex(index)
        self.organiser.setText(act["organiser"] or "")
        self.place.setText(act["place"] or "")
        self.starts.setDateTime(QDateTime.fromString(act["starts_at"], fmt))
        self.ends.setDateTime(QDateTime.fromString(act["ends_at"], fmt))
        self.notes.setPlainText(act["notes"] or "")

    def _hours(self) -> float:
        return round(self.starts.dateTime().secsTo(self.ends.dateTime()) / 3600, 2)

    def _complete(self) -> bool:
        hours = self._hours()
        self.length.setText(self.tr("{0} 小时").format(f"{hours:g}") if hours > 0
                            else self.tr("结束时间应晚于开始时间"))
        return bool(self.title.text().strip()) and hours > 0

    def values(self) -> dict:
        fmt = "yyyy-MM-dd HH:mm"
        return {"title": self.title.text(), "category": self.category.currentData(),
                "organiser": self.organiser.text().strip() or None,
                "place": self.place.text().strip() or None,
                "starts_at": self.starts.dateTime().toString(fmt),
                "ends_at": self.ends.dateTime().toString(fmt),
                "notes": self.notes.toPlainText().strip() or None,
                "unit_id": self.unit.currentData()}

    def _save(self) -> int:
        if self.activity_id:
            try:
                return volunteer_activities.update_activity(
                    self.ctx, self.activity_id, self.values(), expected=self.current).id
            except volunteer_activities.OverlapError as exc:
                if not self.confirm_overlaps(exc):
                    raise DomainError(self.tr("未保存：请调整活动时间。")) from None
                return volunteer_activities.update_activity(
                    self.ctx, self.activity_id, self.values(), expected=self.current,
                    accept_overlaps=True).id
        return volunteer_activities.create_activity(self.ctx, self.values()).id

    def confirm_overlaps(self, exc: Exception) -> bool:
        """Asked when the new time makes someone signed in overlap another activity."""
        return QMessageBox.question(
            self, self.tr("时间重叠"), self.tr("{0}\n\n仍要保存吗？").format(exc)
        ) == QMessageBox.StandardButton.Yes

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context, organiser: str = "",
            unit_id: int | None = None, activity_id: int | None = None) -> int | None:
        return cls._run(cls(ctx, organiser, unit_id, parent, activity_id))


class PeriodDialog(FormDialog):
    """The period a service certificate covers: all service, or from … to …."""

    def __init__(self, name: str, joined_on: str, parent: QWidget | None = None):
        super().__init__(_tr("志愿服务证明"), parent)
        self.all = QCheckBox(self.tr("全部服务记录（自加入起至今）"))
        self.all.setChecked(True)
        self.date_from = date_edit()
        self.date_from.setDate(QDate.fromString(joined_on, Qt.DateFormat.ISODate))
        self.date_to = date_edit()
        self.form.addRow(self.tr("志愿者："), QLabel(name))
        self.form.addRow("", self.all)
        self.form.addRow(self.tr("起始日期："), self.date_from)
        self.form.addRow(self.tr("截止日期："), self.date_to)
        self.all.toggled.connect(self._update_ok)
        self.date_from.dateChanged.connect(self._update_ok)
        self.date_to.dateChanged.connect(self._update_ok)
        self._finish()

    def _complete(self) -> bool:
        whole = self.all.isChecked()
        self.date_from.setEnabled(not whole)
        self.date_to.setEnabled(not whole)
        return whole or self.date_from.date() <= self.date_to.date()

    def answer(self) -> dict:
        if self.all.isChecked():
            return {"date_from": None, "date_to": None}
        return {"date_from": iso_date(self.date_from), "date_to": iso_date(self.date_to)}

    @classmethod
    def ask(cls, parent: QWidget | None, name: str, joined_on: str) -> dict | None:
        return cls._run(cls(name, joined_on, parent))


class TeamDialog(SavingDialog):
    """新建服务队, or (`team_id`) 修改服务队: name, leader (an active volunteer, who joins the
    team), the grid unit it serves (the grid tree and sign-in sheets go by it), founding date
    and notes."""

    def __init__(self, ctx: Context, unit_id: int | None = None, parent: QWidget | None = None,
                 team_id: int | None = None):
        super().__init__(_tr("修改志愿服务队") if team_id else _tr("新建志愿服务队"), parent,
                         min_width=420)
        self.ctx = ctx
        self.team_id = team_id
        team = ctx.get("volunteer_teams", team_id) if team_id else {}
        self.current = team                 # as read: a save refuses if changed since
        self.name = QLineEdit(team.get("name") or "")
        self.name.setMaxLength(volunteers.MAX_TEAM_NAME)
        self.name.setPlaceholderText(self.tr("如：银发服务队"))
        self.leader = QComboBox()
        self.leader.addItem(self.tr("暂不指定"), None)
        for person in volunteers.leader_choices(ctx.conn, team_id, ctx.access):
            self.leader.addItem(f"{person['name']}（{person['team'] or self.tr('未分队')}）",
                                person["id"])
        self.leader.setCurrentIndex(max(self.leader.findData(team.get("leader_id")), 0))
        self.leader.setToolTip(self.tr("队长须为在册志愿者；其他队的志愿者担任队长即转入本队"))
        self.unit = unit_combo(ctx.conn, team.get("unit_id") if team_id else unit_id,
                               ctx.access)
        self.founded = date_edit()
        if team.get("founded_on"):
            self.founded.setDate(QDate.fromString(team["founded_on"], Qt.DateFormat.ISODate))
        self.notes = QPlainTextEdit(team.get("notes") or "")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.form.addRow(self.tr("队名："), self.name)
        self.form.addRow(self.tr("队长："), self.leader)
        self.form.addRow(self.tr("所属网格："), self.unit)
        self.form.addRow(self.tr("成立日期："), self.founded)
        self.form.addRow(self.tr("备注："), self.notes)
        self.name.textChanged.connect(self._update_ok)
        self._finish()

    def _complete(self) -> bool:
        return bool(self.name.text().strip())

    def values(self) -> dict:
        return {"name": self.name.text(), "leader_id": self.leader.currentData(),
                "founded_on": iso_date(self.founded), "unit_id": self.unit.currentData(),
                "notes": self.notes.toPlainText().strip() or None}

    def _save(self) -> int:
        if self.team_id:
            return volunteers.update_team(self.ctx, self.team_id, self.values(),
                                          expected=self.current).id
        return volunteers.create_team(self.ctx, self.values()).id

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context, unit_id: int | None = None,
            team_id: int | None = None) -> int | None:
        return cls._run(cls(ctx, unit_id, parent, team_id))
