"""Issue 21, part 3 in the GUI: the 议事协商 page — the year's meetings, the chosen record,
recording and editing a meeting, follow-up items as events, attachments and printing —
real widgets offscreen over real SQLite files."""
import datetime as dt

import pytest
from pypdf import PdfReader

from shequ_desktop.community import meetings
from ui.pages.meetings_page import (FollowUpDialog, MeetingDialog, MeetingsPage,
                                    participants_from_text)

TODAY = dt.date.today()
DAY = TODAY.replace(day=1).isoformat() if TODAY.day > 1 else TODAY.isoformat()


@pytest.fixture
def meeting(ctx, place, family):
    _hh, ids = family
    return meetings.create_meeting(ctx, place.grid, "院落议事会", DAY, "楼道堆物清理",
                                   participants=[ids["head"], {"name": "王经理", "role": "物业"}],
                                   decisions="周六集中清理", votes_for=2).id


@pytest.fixture
def page(qtbot, ctx, db_path, place, meeting):
    page = MeetingsPage(ctx, db_path)
    qtbot.addWidget(page)
    page.resize(1100, 650)
    page.show()
    page.set_unit(place.grid)
    return page


def test_the_page_lists_the_years_meetings_and_shows_the_record(page, qtmodeltester):
    assert [r["topic"] for r in page.model.rows] == ["楼道堆物清理"]
    text = page.record.toPlainText()
    assert "王建国" in text and "王经理（物业）" in text and "赞成 2" in text
    qtmodeltester.check(page.model)


def test_recording_a_meeting_and_a_follow_up_item(page, monkeypatch, conn):
    monkeypatch.setattr(MeetingDialog, "ask", classmethod(lambda cls, parent, values=None: {
        "kind": "小区议事会", "held_on": DAY, "place": "活动室", "topic": "停车位划线",
        "host": "张书记", "recorder": "", "discussion": "", "decisions": "按户分配",
        "participants": [{"name": "甲"}, {"name": "乙", "role": "业委会"}],
        "votes_for": 2, "votes_against": None, "votes_abstain": None}))
    page.add_meeting()
    assert sorted(r["topic"] for r in page.model.rows) == ["停车位划线", "楼道堆物清理"]
    row = [r["topic"] for r in page.model.rows].index("停车位划线")
    page.view.setCurrentIndex(page.model.index(row, 0))
    monkeypatch.setattr(FollowUpDialog, "ask", classmethod(lambda cls, parent: {
        "content": "物业划线", "owner": "物业", "deadline_days": 5}))
    page.add_follow_up()
    assert conn.execute("SELECT count(*) FROM events WHERE description LIKE '%物业划线%'"
                        ).fetchone()[0] == 1
    assert "物业划线" in page.record.toPlainText()
    assert page.model.rows[row]["open_items"] == 1


def test_editing_keeps_the_link_to_the_resident(page, monkeypatch, conn, meeting):
    monkeypatch.setattr(MeetingDialog, "ask", classmethod(
        lambda cls, parent, values=None: {**{k: values[k] for k in (
            "kind", "held_on", "place", "topic", "host", "recorder", "discussion", "decisions",
            "votes_for", "votes_against", "votes_abstain")}, "participants":
            participants_from_text("王建国\n王经理（物业）\n新来的")}))
    page.edit_meeting()
    people = meetings.get_meeting(conn, meeting)["participants"]
    assert [p["name"] for p in people] == ["王建国", "王经理", "新来的"]
    assert people[0]["resident_id"] is not None and people[2]["resident_id"] is None


def test_attachments_and_printing_from_the_page(page, tmp_path, conn):
    photo = tmp_path / "签到表.png"
    photo.write_bytes(b"\x89PNG" + b"x" * 2000)
    page.attach([str(photo)])
    assert "签到表.png" in page.record.toPlainText()
    out = tmp_path / "record.pdf"
    assert page.print_record(str(out))["pages"] == 1
    assert "楼道堆物清理" in PdfReader(str(out)).pages[0].extract_text()
    year = tmp_path / "year.pdf"
    assert page.print_year(str(year))["rows"] == 1


def test_the_dialogs_answer_what_was_entered(qtbot):
    dialog = MeetingDialog()
    qtbot.addWidget(dialog)
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.topic.setText("议题")
    dialog.people.setPlainText("甲\n刘主任（业委会）\n")
    dialog.votes[0].setValue(3)
    answer = dialog.answer()
    assert answer["participants"] == [{"name": "甲"}, {"name": "刘主任", "role": "业委会"}]
    assert (answer["votes_for"], answer["votes_against"]) == (3, None)
    follow = FollowUpDialog()
    qtbot.addWidget(follow)
    follow.content.setText("清运")
    assert follow.answer() == {"content": "清运", "owner": None, "deadline_days": None}


def test_the_main_window_has_the_page(qtbot, conn):
    from ui.main_window import MainWindow
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    assert isinstance(window.show_page("meetings"), MeetingsPage)
