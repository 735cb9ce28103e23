"""The volunteers GUI under pressure: the sign-in sheet saves before it closes
(a locked database or a sheet saved on another PC keeps every tick), edit dialogs refuse a
record changed elsewhere and stay open, moving an activity into an overlap asks first, and
only an administrator gets the points settings button. Real widgets over real SQLite files."""
import pytest
from PySide6.QtCore import QDateTime
from PySide6.QtWidgets import QMessageBox

import db
from shequ_desktop.volunteers import activities as va, roster as volunteers
from shequ_desktop.core.access import Access
from shequ_desktop.core.context import Context
from tests.volunteers.test_volunteers import two_communities
from ui.dialogs.volunteer_edit import VolunteerEditDialog
from ui.dialogs.volunteer_forms import ActivityDialog, TeamDialog
from ui.dialogs.volunteer_sign_in import SignInDialog


@pytest.fixture
def world(ctx, place):
    return two_communities(ctx, place)


@pytest.fixture
def warnings(monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(a[2]))
    return said


@pytest.fixture
def other_pc(db_path, conn):
    c = db.open_db(db_path)
    yield c
    c.close()


def records(ctx, activity_id) -> dict:
    return dict(ctx.conn.execute("SELECT volunteer_id, hours FROM service_records "
                                 "WHERE activity_id = ?", (activity_id,)).fetchall())


def test_sign_in_sheet_stays_open_with_its_ticks_while_the_database_is_locked(
        qtbot, ctx, world, warnings, other_pc):
    aid = world["acts"]["便民服务日"]
    dialog = SignInDialog(ctx, aid)
    qtbot.addWidget(dialog)
    dialog.tick("孙立")
    dialog.tick("钱小红", hours=1.5)
    ctx.conn.execute("PRAGMA busy_timeout = 50")
    other_pc.execute("BEGIN IMMEDIATE")                    # another PC is writing
    try:
        dialog.accept()
    finally:
        other_pc.rollback()
    assert dialog.result() == 0 and "占用" in warnings[0]
    ids = world["people"]
    assert dialog.entries() == {ids["孙立"]: 2.0, ids["钱小红"]: 1.5}
    assert records(ctx, aid) == {}
    dialog.accept()                                        # the lock is gone: saved
    assert dialog.result() == 1 and records(ctx, aid) == {ids["孙立"]: 2.0, ids["钱小红"]: 1.5}


def test_sign_in_sheet_saved_elsewhere_meanwhile_is_not_overwritten(
        qtbot, ctx, world, warnings, other_pc):
    aid = world["acts"]["便民服务日"]
    ids = world["people"]
    dialog = SignInDialog(ctx, aid)
    qtbot.addWidget(dialog)
    va.save_sheet(Context(other_pc, "乙"), aid, {ids["周杰"]: 2})
    dialog.tick("孙立")
    dialog.accept()
    assert dialog.result() == 0 and "签到表已被他人修改，请重新打开" in warnings[0]
    assert records(ctx, aid) == {ids["周杰"]: 2}
    assert dialog.entries() == {ids["孙立"]: 2.0}


def test_volunteer_edited_elsewhere_keeps_the_dialog_open(qtbot, ctx, world, warnings,
                                                          other_pc):
    vid = world["people"]["孙立"]
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    volunteers.edit_volunteer(Context(other_pc, "乙"), vid, {"phone": "13900000002"})
    dialog.skills.setText("急救")
    dialog.accept()
    assert dialog.result() == 0 and "已被他人修改" in warnings[0]
    row = ctx.get("volunteers", vid)
    assert (row["phone"], row["skills"]) == ("13900000002", None)


def test_team_edited_elsewhere_keeps_the_dialog_open(qtbot, ctx, world, warnings, other_pc):
    dialog = TeamDialog(ctx, team_id=world["silver"])
    qtbot.addWidget(dialog)
    volunteers.update_team(Context(other_pc, "乙"), world["silver"], {"notes": "周二活动"})
    dialog.name.setText("夕阳红服务队")
    dialog.accept()
    assert dialog.result() == 0 and "已被他人修改" in warnings[0]
    assert ctx.get("volunteer_teams", world["silver"])["name"] == "银发服务队"


def test_moving_an_activity_into_an_overlap_asks_first(qtbot, ctx, world, warnings,
                                                       monkeypatch):
    ids, acts = world["people"], world["acts"]
    va.save_sheet(ctx, acts["敬老院陪伴"], {ids["孙立"]: 2})
    later = va.create_activity(ctx, {"title": "午后巡查", "category": "其他",
                                     "starts_at": "2024-03-02 14:00",
                                     "ends_at": "2024-03-02 16:00"}).id
    va.save_sheet(ctx, later, {ids["孙立"]: 2})
    start = ctx.get("activities", acts["敬老院陪伴"])["starts_at"]
    asked = []
    monkeypatch.setattr(ActivityDialog, "confirm_overlaps",
                        lambda self, exc: asked.append(str(exc)) or False)
    dialog = ActivityDialog(ctx, activity_id=later)
    qtbot.addWidget(dialog)
    moved = QDateTime.fromString(start, "yyyy-MM-dd HH:mm")
    dialog.starts.setDateTime(moved)
    dialog.ends.setDateTime(moved.addSecs(2 * 3600))
    dialog.accept()
    assert dialog.result() == 0 and "孙立" in asked[0] and "未保存" in warnings[0]
    assert ctx.get("activities", later)["starts_at"] == "2024-03-02 14:00"
    monkeypatch.setattr(ActivityDialog, "confirm_overlaps", lambda self, exc: True)
    dialog.accept()
    assert dialog.result() == 1 and ctx.get("activities", later)["starts_at"] == start


@pytest.mark.parametrize("role, enabled", [("管理员", True), ("网格员", False), ("只读", False)])
def test_only_an_admin_gets_the_settings_button(qtbot, ctx, world, role, enabled):
    from ui.pages.volunteers_page import VolunteersPage

    ctx.access = Access(role, frozenset())
    page = VolunteersPage(ctx)
    qtbot.addWidget(page)
    assert page.settings_button.isEnabled() is enabled
    assert (page.settings_button.toolTip() == "") is enabled
