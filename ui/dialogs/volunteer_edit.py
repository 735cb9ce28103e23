"""修改志愿者: the new-volunteer form (ui.dialogs.volunteer_forms.VolunteerDialog) opened on an
existing volunteer, with their notes and, once they have left, the date they left.

While linked to a resident, name, ID number and phone come from the resident record and are
read-only here; choosing 不关联 in the resident list unlinks (the data stay, now editable),
finding and choosing another resident links to them. Everything is saved in one transaction
(volunteers.edit_volunteer); a refusal keeps the dialog open with the typing.
A 网格员 cannot open a volunteer of another grid (Context.get refuses it); the volunteer's own
team stays in the team list even when it is not one the user may choose.
"""
from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QLabel, QPlainTextEdit, QWidget

from shequ_desktop.core import codes
from shequ_desktop.core.context import Context
from shequ_desktop.core.masking import mask_id
from shequ_desktop.volunteers import roster as volunteers
from ui.dialogs.move_dialogs import date_edit
from ui.dialogs.volunteer_forms import VolunteerDialog, iso_date


class VolunteerEditDialog(VolunteerDialog):
    def __init__(self, ctx: Context, volunteer_id: int, parent: QWidget | None = None):
        stored = ctx.get("volunteers", volunteer_id)   # NotPermitted: another grid's (网格员)
        super().__init__(ctx, parent, team_id=stored["team_id"])
        self.volunteer_id = volunteer_id
        self.current = volunteers.get(ctx.conn, volunteer_id)
        row = self.current
        self.setWindowTitle(self.tr("修改志愿者 — {0}").format(row["name"]))
        if row["resident_id"] is not None:
            self.matches.addItem(self.tr("{0}　{1}（已关联）").format(
                row["name"], mask_id(row["id_number"]) or ""), row["resident_id"])
        blocker = self.matches.blockSignals(True)
        self.matches.setCurrentIndex(self.matches.count() - 1)
        self.matches.blockSignals(blocker)
        self.matches.setToolTip(self.tr("选“不关联”即取消与居民档案的关联（已有资料保留）"))
        for edit, key in ((self.name, "name"), (self.id_number, "id_number"),
                          (self.phone, "phone"), (self.skills, "skills")):
            edit.setText(row[key] or "")
        for edit in (self.name, self.id_number, self.phone):
            edit.setReadOnly(row["resident_id"] is not None)
        self.link_note.setVisible(row["resident_id"] is not None)
        self.team.setCurrentIndex(max(self.team.findData(row["team_id"]), 0))
        self.joined.setDate(QDate.fromString(row["joined_on"], Qt.DateFormat.ISODate))
        gender = codes.table("gender").label(row["gender"]) if row["gender"] else ""
        self.born = QLabel(" ".join(filter(None, (gender, row["birth_date"] or ""))) or "—")
        self.born.setToolTip(self.tr("由身份证号得出"))
        self.form.insertRow(self.form.getWidgetPosition(self.phone)[0], self.tr("性别、出生："),
                            self.born)
        self.left = None
        if row["left_on"]:
            self.left = date_edit()
            self.left.setDate(QDate.fromString(row["left_on"], Qt.DateFormat.ISODate))
            self.form.addRow(self.tr("退出日期："), self.left)
        self.status = QLabel(row["status"])
        self.form.addRow(self.tr("状态："), self.status)
        self.notes = QPlainTextEdit(row["notes"] or "")
        self.notes.setTabChangesFocus(True)
        self.notes.setFixedHeight(self.fontMetrics().lineSpacing() * 3 + 12)
        self.form.addRow(self.tr("备注："), self.notes)

    def look_up(self) -> int:
        """As for a new volunteer; but a search that finds nobody keeps the current choice
        (it must not quietly unlink)."""
        text, data = self.matches.currentText(), self.matches.currentData()
        found = super().look_up()
        if not found and data is not None:
            self.matches.addItem(text, data)
            self.matches.setCurrentIndex(self.matches.count() - 1)
        return found

    def link_changed(self) -> bool:
        return self.resident_id() != self.current["resident_id"]

    def values(self) -> dict:
        values = {"name": self.name.text(), "id_number": self.id_number.text().strip() or None,
                  "phone": self.phone.text().strip() or None,
                  "skills": self.skills.text().strip() or None,
                  "team_id": self.team.currentData(), "joined_on": iso_date(self.joined),
                  "notes": self.notes.toPlainText().strip() or None}
        if self.left is not None:
            values["left_on"] = iso_date(self.left)
        return values

    def _save(self) -> int:
        link = self.resident_id() if self.link_changed() else volunteers.KEEP
        return volunteers.edit_volunteer(self.ctx, self.volunteer_id, self.values(),
                                         resident_id=link, expected=self.current).id

    @classmethod
    def ask(cls, parent: QWidget | None, ctx: Context, volunteer_id: int) -> int | None:
        return cls._run(cls(ctx, volunteer_id, parent))
