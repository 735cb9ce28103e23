"""The 议事协商 page (issue 21): the year's meetings of the chosen unit, the full record of the
chosen one (participants, decisions, vote, follow-up items with their event's status,
attachments), recording and editing meetings, adding follow-up items (events in the closed
loop) and attachments, and printing the 议事记录 and the year's list.

Everything is a function of shequ_desktop.community.meetings; the page re-reads after a committed change
that touches what it shows, and only while shown.
"""
from __future__ import annotations

import datetime as dt
import re

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QTextBrowser,
    QWidget,
)

from shequ_desktop.community import meetings
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.meeting_record import build_record, build_year
from ui.dialogs.move_dialogs import date_edit
from ui.pages.community_base import AskDialog, CommunityPage, DictModel, page_title
from ui.table_setup import setup_table

RELEVANT = ("meetings", "meeting_participants", "meeting_items", "meeting_attachments",
            "events", "grid_units")
YEARS_SHOWN = 5
_ROLE = re.compile(r"^(.*?)[（(]([^）)]+)[）)]\s*$")


def participants_from_text(text: str) -> list[dict]:
    """One person a line: '王建国' or '刘主任（业委会）'."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _ROLE.match(line)
        out.append({"name": m[1].strip(), "role": m[2].strip()} if m else {"name": line})
    return out


def participants_to_text(people: list[dict]) -> str:
    return "\n".join(p["name"] if p["role"] == "居民" else f"{p['name']}（{p['role']}）"
                     for p in people)


class MeetingDialog(AskDialog):
    def __init__(self, values: dict | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        values = values or {}
        self.setWindowTitle(self.tr("编辑议事会议") if values else self.tr("记录议事会议"))
        self.setMinimumWidth(520)
        self.kind = QComboBox()
        self.kind.addItems(list(meetings.KINDS))
        self.kind.setCurrentText(values.get("kind") or meetings.KINDS[0])
        self.date = date_edit()
        if values.get("held_on"):
            self.date.setDate(QDate.fromString(values["held_on"], Qt.DateFormat.ISODate))
        self.place = QLineEdit(values.get("place") or "")
        self.topic = QLineEdit(values.get("topic") or "")
        self.host = QLineEdit(values.get("host") or "")
        self.recorder = QLineEdit(values.get("recorder") or "")
        self.people = QPlainTextEdit(participants_to_text(values.get("participants", [])))
        self.people.setPlaceholderText(self.tr("每行一人，如：\n王建国\n刘主任（业委会）"))
        self.discussion = QPlainTextEdit(values.get("discussion") or "")
        self.decisions = QPlainTextEdit(values.get("decisions") or "")
        for edit in (self.people, self.discussion, self.decisions):
            edit.setTabChangesFocus(True)
            edit.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 12)
        self.votes = []
        votes = QHBoxLayout()
        for key in meetings.VOTES:
            spin = QSpinBox()
            spin.setRange(-1, 100000)
            spin.setSpecialValueText(self.tr("—"))
            spin.setValue(-1 if values.get(key) is None else values[key])
            self.votes.append(spin)
            votes.addWidget(QLabel(self.tr(meetings.LABELS[key])))
            votes.addWidget(spin)
        votes.addStretch(1)
        form = QFormLayout()
        for label, widget in ((self.tr("会议类型："), self.kind), (self.tr("会议日期："), self.date),
                              (self.tr("地点："), self.place), (self.tr("议题："), self.topic),
                              (self.tr("主持人："), self.host), (self.tr("记录人："), self.recorder),
                              (self.tr("参会人员："), self.people),
                              (self.tr("讨论情况："), self.discussion),
                              (self.tr("议定事项："), self.decisions)):
            form.addRow(label, widget)
        form.addRow(self.tr("表决："), votes)
        self.finish(form, self.topic)

    def answer(self) -> dict:
        values = {"kind": self.kind.currentText(),
                  "held_on": self.date.date().toString(Qt.DateFormat.ISODate),
                  "place": self.place.text(), "topic": self.topic.text(),
                  "host": self.host.text(), "recorder": self.recorder.text(),
                  "discussion": self.discussion.toPlainText(),
                  "decisions": self.decisions.toPlainText(),
                  "participants": participants_from_text(self.people.toPlainText())}
        for key, spin in zip(meetings.VOTES, self.votes):
            values[key] = None if spin.value() < 0 else spin.value()
        return values



class FollowUpDialog(AskDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("添加跟进事项"))
        self.setMinimumWidth(420)
        self.content = QLineEdit()
        self.owner = QLineEdit()
        self.days = QSpinBox()
        self.days.setRange(0, 365)
        self.days.setSpecialValueText(self.tr("暂不受理"))
        self.days.setSuffix(self.tr(" 个工作日"))
        form = QFormLayout()
        form.addRow(self.tr("跟进事项："), self.content)
        form.addRow(self.tr("负责人："), self.owner)
        form.addRow(self.tr("办理期限："), self.days)
        form.addRow(QLabel(self.tr("跟进事项生成一件事件，在“事件”页按闭环办理。")))
        self.finish(form)

    def answer(self) -> dict:
        return {"content": self.content.text(), "owner": self.owner.text() or None,
                "deadline_days": self.days.value() or None}



def record_html(m: dict) -> str:
    """The chosen meeting's record as the page shows it."""
    from html import escape

    def block(title: str, body: str) -> str:
        return (f"<h4>{escape(title)}</h4><p>"
                + (escape(body).replace("\n", "<br>") if body else "（无）") + "</p>")

    items = "<br>".join(
        f"{i}. {escape(it['content'])}" + (f"（{escape(it['owner'])}）" if it["owner"] else "")
        + (f" — 事件 {it['event_id']}：{escape(it['status'] or '')}"
           + (f"，时限 {it['deadline'][:10]}" if it["deadline"] else "") if it["event_id"] else "")
        for i, it in enumerate(m["items"], 1))
    return (f"<h3>{escape(m['topic'])}</h3>"
            f"<p>{escape(m['kind'])} · {m['held_on']} · {escape(m['place'] or '')} · "
            f"{escape(m['unit_name'])}<br>主持人：{escape(m['host'] or '')} 记录人："
            f"{escape(m['recorder'] or '')}</p>"
            + block(f"参会人员（{len(m['participants'])} 人）",
                    participants_to_text(m["participants"]).replace("\n", "、"))
            + block("讨论情况", m["discussion"]) + block("议定事项", m["decisions"])
            + block("表决", meetings.vote_text(m) or "未表决")
            + f"<h4>跟进事项</h4><p>{items or '（无）'}</p>"
            + block("附件", "、".join(f"{a['name']}（{a['size'] // 1024 + 1} KB）"
                                     for a in m["attachments"])))


class MeetingsPage(CommunityPage):
    RELEVANT = RELEVANT

    def __init__(self, ctx: Context, db_path=None, parent: QWidget | None = None):
        super().__init__(ctx, db_path, parent)

        self.year = QComboBox()
        this = dt.date.today().year
        for y in range(this, this - YEARS_SHOWN, -1):
            self.year.addItem(self.tr("{0}年").format(y), y)
        self.year.currentIndexChanged.connect(self.reload)
        self.add_button = QPushButton(self.tr("记录会议…"))
        self.add_button.clicked.connect(self.add_meeting)
        self.edit_button = QPushButton(self.tr("编辑…"))
        self.edit_button.clicked.connect(self.edit_meeting)
        self.item_button = QPushButton(self.tr("添加跟进事项…"))
        self.item_button.clicked.connect(self.add_follow_up)
        self.attach_button = QPushButton(self.tr("添加附件…"))
        self.attach_button.clicked.connect(lambda: self.attach())
        self.print_button = QPushButton(self.tr("打印议事记录…"))
        self.print_button.clicked.connect(lambda: self.print_record())
        self.year_button = QPushButton(self.tr("打印年度台账…"))
        self.year_button.clicked.connect(lambda: self.print_year())
        self.count_label = QLabel()
        title = page_title(self.tr("议事协商"))
        bar = QHBoxLayout()
        bar.addWidget(title)
        bar.addSpacing(12)
        bar.addWidget(self.year)
        for button in (self.add_button, self.edit_button, self.item_button, self.attach_button,
                       self.print_button, self.year_button):
            bar.addWidget(button)
        bar.addStretch(1)
        bar.addWidget(self.count_label)

        self.model = DictModel(("会议日期", "类型", "所属", "议题", "人数", "跟进", "未办结"),
                               ("held_on", "kind", "unit_name", "topic", "participants",
                                "items", "open_items"), parent=self)
        self.view = QTableView()
        self.view.setModel(self.model)
        setup_table(self.view, [6, 5, 6, 14, 3, 3, 3], stretch=3)
        self.view.selectionModel().currentRowChanged.connect(self._show_record)
        self.view.doubleClicked.connect(lambda _i: self.edit_meeting())
        self.record = QTextBrowser()
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.view)
        split.addWidget(self.record)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 2)
        self.arrange(bar, split)
        self._update_buttons()

    # --- what is shown -----------------------------------------------------------------------
    def reload(self, *_args) -> None:
        self._stale = False
        try:
            rows = meetings.list_meetings(self.ctx.conn, access=self.ctx.access,
                                          unit_id=self.unit_id, year=self.year.currentData())
        except DomainError:
            rows = []
        self.show_rows(self.view, rows, self.current_id())
        self.count_label.setText(self.tr("共 {0} 次，跟进事项未办结 {1} 项").format(
            len(rows), sum(r["open_items"] for r in rows)))
        self._show_record()

    def current_id(self) -> int | None:
        return self.current_id_of(self.view)

    def _show_record(self, *_args) -> None:
        mid = self.current_id()
        self.record.setHtml(record_html(meetings.get_meeting(self.ctx.conn, mid, self.ctx.access))
                            if mid is not None else self.tr("<p>选择一次会议查看记录</p>"))
        self._update_buttons()

    def _update_buttons(self, *_args) -> None:
        chosen = self.current_id() is not None
        self.add_button.setEnabled(self.unit_id is not None)
        for button in (self.edit_button, self.item_button, self.attach_button,
                       self.print_button):
            button.setEnabled(chosen)
        self.year_button.setEnabled(self.db_path is not None)

    # --- acting ------------------------------------------------------------------------------
    def add_meeting(self) -> None:
        if self.unit_id is None:
            return
        values = MeetingDialog.ask(self)
        if values is not None:
            people = values.pop("participants")
            self.attempt(self.tr("无法记录会议"), lambda: meetings.create_meeting(
                self.ctx, self.unit_id, participants=people, **values))

    def edit_meeting(self) -> None:
        mid = self.current_id()
        if mid is None:
            return
        current = meetings.get_meeting(self.ctx.conn, mid, self.ctx.access)
        values = MeetingDialog.ask(self, current)
        if values is not None:
            linked = {p["name"]: p["resident_id"] for p in current["participants"]}
            people = [{**p, "resident_id": linked.get(p["name"])}
                      for p in values.pop("participants")]
            self.attempt(self.tr("无法保存会议"), lambda: meetings.update_meeting(
                self.ctx, mid, values, participants=people))

    def add_follow_up(self) -> None:
        mid = self.current_id()
        if mid is None:
            return
        values = FollowUpDialog.ask(self)
        if values is not None:
            self.attempt(self.tr("无法添加跟进事项"),
                         lambda: meetings.add_follow_up(self.ctx, mid, **values))

    def attach(self, paths: list[str] | None = None) -> None:
        from PySide6.QtWidgets import QFileDialog

        mid = self.current_id()
        if mid is None:
            return
        if paths is None:
            paths, _filter = QFileDialog.getOpenFileNames(
                self, self.tr("选择附件（照片、签到表等）"), "",
                self.tr("图片和文档 (*.jpg *.jpeg *.png *.pdf);;所有文件 (*)"))
        for path in paths:
            if not self.attempt(self.tr("无法添加附件"),
                                lambda p=path: meetings.add_attachment(self.ctx, mid, p)):
                break

    def print_record(self, path: str | None = None) -> dict | None:

        mid = self.current_id()
        if mid is None:
            return None
        return self.write_file(lambda ctx, out, _p: build_record(
            ctx.conn, mid, out, access=ctx.access, actor=ctx.user),
                               path, self.tr("保存议事记录"), f"议事记录_{mid}.pdf")

    def print_year(self, path: str | None = None) -> dict | None:

        year, unit = self.year.currentData(), self.unit_id
        return self.write_file(lambda ctx, out, _p: build_year(
            ctx.conn, year, out, unit_id=unit, access=ctx.access, actor=ctx.user),
            path, self.tr("保存议事协商台账"), f"议事协商台账_{year}.pdf")
