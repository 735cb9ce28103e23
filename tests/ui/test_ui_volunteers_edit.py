"""Editing on the volunteers page — volunteers, activities, teams, the points and star
settings — and the page and sign-in sheet following the grid tree. Real widgets (offscreen)
over real SQLite files; message boxes are monkeypatched to record what they say."""
import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.volunteers import activities as va, points as vp, roster as volunteers
from tests.conftest import TODAY
from tests.volunteers.test_volunteers import two_communities
from ui.dialogs.volunteer_edit import VolunteerEditDialog
from ui.dialogs.volunteer_forms import ActivityDialog, TeamDialog
from ui.dialogs.volunteer_settings import VolunteerSettingsDialog
from ui.dialogs.volunteer_sign_in import SignInDialog
from ui.pages.volunteers_page import VolunteersPage


@pytest.fixture
def world(ctx, place):
    return two_communities(ctx, place)


@pytest.fixture
def page(qtbot, ctx, world):
    page = VolunteersPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    return page


@pytest.fixture
def warnings(monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: said.append(a[2]))
    return said


def names(page):
    return sorted(r["name"] for r in page.volunteer_model.rows)


# --- editing a volunteer -----------------------------------------------------------------------

def test_linked_volunteer_is_edited_with_personal_data_read_only(qtbot, ctx, world, page):
    vid = world["people"]["李秀英"]
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    assert dialog.name.isReadOnly() and dialog.id_number.isReadOnly()
    assert dialog.phone.isReadOnly() and not dialog.link_note.isHidden()
    assert dialog.resident_id() == ctx.get("volunteers", vid)["resident_id"]
    assert dialog.born.text() == "女 1972-03-08"
    dialog.skills.setText("理发、缝补")
    dialog.team.setCurrentIndex(dialog.team.findData(world["silver"]))
    dialog.notes.setPlainText("周末有空")
    dialog.joined.setDate(QDate(2021, 5, 6))
    dialog.accept()
    row = volunteers.get(ctx.conn, vid)
    assert (row["skills"], row["team"], row["notes"], row["joined_on"]) == (
        "理发、缝补", "银发服务队", "周末有空", "2021-05-06")
    assert row["resident_id"] is not None
    assert next(r for r in page.volunteer_model.rows if r["id"] == vid)["team"] == "银发服务队"


def test_choosing_no_resident_unlinks_and_frees_the_fields(qtbot, ctx, world):
    vid = world["people"]["周杰"]
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    dialog.find.setText("没有这个人")
    assert dialog.look_up() == 0                       # a vain search keeps the link
    assert dialog.resident_id() is not None and not dialog.link_changed()
    dialog.matches.setCurrentIndex(0)                  # 不关联
    assert not dialog.name.isReadOnly() and dialog.link_note.isHidden()
    dialog.phone.setText("13987654321")
    dialog.accept()
    row = ctx.get("volunteers", vid)
    assert (row["resident_id"], row["name"], row["phone"]) == (None, "周杰", "13987654321")


def test_own_volunteer_links_to_a_resident_found_by_name(qtbot, ctx, world, family):
    _, p = family
    vid = volunteers.create_volunteer(ctx, {"name": "王小明", "joined_on": "2022-01-01"}).id
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    assert not dialog.name.isReadOnly() and dialog.resident_id() is None
    dialog.find.setText("王小明")
    assert dialog.look_up() == 1
    assert dialog.id_number.isReadOnly() and dialog.link_changed()
    dialog.accept()
    row = ctx.get("volunteers", vid)
    assert (row["resident_id"], row["birth_date"]) == (p["son"], "2001-09-01")


def test_a_refused_edit_keeps_the_dialog_open_and_says_why(qtbot, ctx, world, warnings):
    vid = world["people"]["赵志强"]
    va.save_sheet(ctx, world["acts"]["敬老院陪伴"], {vid: 2})
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    dialog.skills.setText("驾驶")
    dialog.joined.setDate(QDate.currentDate())
    dialog.accept()
    assert dialog.result() == 0 and "晚于其第一次服务" in warnings[0]
    assert ctx.get("volunteers", vid)["skills"] is None          # nothing half-written
    assert dialog.skills.text() == "驾驶"


def test_left_volunteer_shows_and_edits_the_left_date(qtbot, ctx, world):
    vid = world["people"]["孙立"]
    volunteers.leave(ctx, vid, TODAY.isoformat())
    dialog = VolunteerEditDialog(ctx, vid)
    qtbot.addWidget(dialog)
    assert dialog.status.text() == "退出" and dialog.left is not None
    dialog.left.setDate(QDate(2024, 1, 31))
    dialog.accept()
    assert ctx.get("volunteers", vid)["left_on"] == "2024-01-31"
    active = VolunteerEditDialog(ctx, world["people"]["赵志强"])
    qtbot.addWidget(active)
    assert active.left is None and "left_on" not in active.values()


def test_double_click_and_edit_button_open_the_chosen_volunteer(qtbot, page, world,
                                                                monkeypatch):
    asked = []
    monkeypatch.setattr(VolunteerEditDialog, "ask",
                        classmethod(lambda cls, parent, ctx, vid: asked.append(vid)))
    assert not page.edit_button.isEnabled()
    assert page.select_volunteer(world["people"]["钱小红"])
    assert page.edit_button.isEnabled()
    page.edit_button.click()
    row = page.volunteer_model.row_of(world["people"]["孙立"])
    where = page.view.visualRect(page.volunteer_model.index(row, 0)).center()
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    qtbot.mouseDClick(page.view.viewport(), Qt.MouseButton.LeftButton, pos=where)
    assert asked == [world["people"]["钱小红"], world["people"]["孙立"]]


# --- activities --------------------------------------------------------------------------------

def test_activity_is_edited_in_its_dialog(qtbot, ctx, world, page):
    aid = world["acts"]["河道清理"]
    dialog = ActivityDialog(ctx, activity_id=aid)
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "修改志愿活动" and dialog.title.text() == "河道清理"
    assert dialog.length.text() == "2 小时" and dialog.unit.currentData() == world["moon"]
    dialog.place.setText("亮马河")
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(3 * 3600))
    dialog.accept()
    row = ctx.get("activities", aid)
    assert (row["place"], row["unit_id"]) == ("亮马河", world["moon"])
    assert va.length_hours(row["starts_at"], row["ends_at"]) == 3
    page.tabs.setCurrentIndex(1)
    assert page.select_activity(aid)
    shown = page.activity_model.rows[page.activity_model.row_of(aid)]
    assert shown["place"] == "亮马河" and shown["length"] == 3


def test_shortening_below_signed_hours_is_refused_in_the_dialog(qtbot, ctx, world, warnings):
    aid = world["acts"]["敬老院陪伴"]
    va.save_sheet(ctx, aid, {world["people"]["赵志强"]: 2})
    dialog = ActivityDialog(ctx, activity_id=aid)
    qtbot.addWidget(dialog)
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(3600))
    dialog.accept()
    assert dialog.result() == 0 and "赵志强 2 小时" in warnings[0]


def test_delete_activity_refused_with_records_and_confirmed_without(page, ctx, world, warnings,
                                                                    monkeypatch):
    page.tabs.setCurrentIndex(1)
    signed, empty = world["acts"]["敬老院陪伴"], world["acts"]["便民服务日"]
    va.save_sheet(ctx, signed, {world["people"]["赵志强"]: 2})
    assert page.select_activity(signed) and page.delete_activity_button.isEnabled()
    page.delete_activity()
    assert "已有 1 人签到，不能删除" in warnings[0]
    assert ctx.conn.execute("SELECT 1 FROM activities WHERE id = ?", (signed,)).fetchone()
    asked = []
    monkeypatch.setattr(page, "confirm", lambda title, text: asked.append(text) or False)
    page.select_activity(empty)
    page.delete_activity()                          # answered no
    assert ctx.conn.execute("SELECT 1 FROM activities WHERE id = ?", (empty,)).fetchone()
    monkeypatch.setattr(page, "confirm", lambda title, text: True)
    page.delete_activity()
    assert "便民服务日" in asked[0]
    assert all(r["id"] != empty for r in page.activity_model.rows)
    assert ctx.conn.execute("SELECT 1 FROM activities WHERE id = ?", (empty,)).fetchone() is None


# --- teams -------------------------------------------------------------------------------------

def test_team_is_renamed_led_and_placed(qtbot, ctx, place, world, page):
    assert not page.edit_team_button.isEnabled()             # 全部
    page.team.setCurrentIndex(page.team.findData(world["bright"]))
    assert page.edit_team_button.isEnabled()
    dialog = TeamDialog(ctx, None, None, world["bright"])
    qtbot.addWidget(dialog)
    assert dialog.windowTitle() == "修改志愿服务队" and dialog.name.text() == "明月服务队"
    assert dialog.unit.currentData() == world["moon"]
    assert dialog.leader.itemData(1) == world["people"]["钱小红"]   # the team's members first
    dialog.name.setText("明月先锋服务队")
    dialog.leader.setCurrentIndex(dialog.leader.findData(world["people"]["孙立"]))
    dialog.unit.setCurrentIndex(dialog.unit.findData(world["moon_grid"]))
    dialog.accept()
    team = ctx.get("volunteer_teams", world["bright"])
    assert (team["name"], team["leader_id"], team["unit_id"]) == (
        "明月先锋服务队", world["people"]["孙立"], world["moon_grid"])
    assert page.team.currentText().startswith("明月先锋服务队")
    assert names(page) == ["孙立", "钱小红"]                  # the leader joined


def test_team_name_must_be_unique(qtbot, ctx, world, warnings):
    dialog = TeamDialog(ctx, None, None, world["bright"])
    qtbot.addWidget(dialog)
    dialog.name.setText("银发服务队")
    dialog.accept()
    assert dialog.result() == 0 and "已有名为“银发服务队”的服务队" in warnings[0]


def test_new_team_and_activity_get_the_grid_of_the_chosen_building(qtbot, ctx, place, world):
    activity = ActivityDialog(ctx, "阳光社区", place.building)
    qtbot.addWidget(activity)
    activity.title.setText("楼道清理")
    activity.accept()
    assert ctx.get("activities", activity.created)["unit_id"] == place.grid
    dialog = TeamDialog(ctx, place.building)
    qtbot.addWidget(dialog)
    assert dialog.unit.currentData() == place.grid           # nearest listed unit above
    assert [dialog.unit.itemText(i).strip() for i in range(dialog.unit.count())] == [
        "不指定", "幸福街道", "明月社区", "第二网格", "阳光社区", "第一网格"]   # by pinyin


# --- settings ----------------------------------------------------------------------------------

def test_settings_dialog_validates_and_saves(qtbot, ctx, world, page, monkeypatch):
    dialog = VolunteerSettingsDialog(ctx)
    qtbot.addWidget(dialog)
    assert dialog.rate.value() == 1 and dialog.star_hours() == [100, 300, 600, 1000, 1500]
    dialog.stars[2].setValue(200)
    assert not dialog.ok_button().isEnabled() and "逐级增加" in dialog.problem.text()
    dialog.stars[2].setValue(600)
    dialog.rate.setValue(0)
    assert not dialog.ok_button().isEnabled() and "应大于 0" in dialog.problem.text()
    dialog.rate.setValue(2)
    for spin, hours in zip(dialog.stars, (1, 2, 3, 4, 5)):
        spin.setValue(hours)
    assert dialog.ok_button().isEnabled() and dialog.problem.text() == ""
    va.save_sheet(ctx, world["acts"]["敬老院陪伴"], {world["people"]["赵志强"]: 2})
    dialog.accept()
    assert vp.rate(ctx.conn) == 2 and vp.star_thresholds(ctx.conn) == (1, 2, 3, 4, 5)
    assert vp.balance(ctx.conn, world["people"]["赵志强"]) == 2     # earned at 1 per hour
    monkeypatch.setattr(VolunteerSettingsDialog, "ask", classmethod(lambda cls, *a: True))
    page.edit_settings()                                 # the page shows the new stars
    row = next(r for r in page.volunteer_model.rows if r["name"] == "赵志强")
    assert row["star_name"] == "二星"


# --- the grid tree and the sign-in sheet -------------------------------------------------------

def test_page_follows_the_grid_tree(qtmodeltester, page, ctx, place, world):
    assert len(page.volunteer_model.rows) == 5
    page.set_unit(place.community)
    assert names(page) == ["孙立", "李秀英", "赵志强"]
    assert page.count_label.text().startswith("阳光社区：共 3 人")
    teams = [page.team.itemText(i) for i in range(page.team.count())]
    assert teams == ["全部", "银发服务队（1 人）", "未分队"]
    assert sorted(a["title"] for a in page.activity_model.rows) == ["便民服务日", "敬老院陪伴"]
    qtmodeltester.check(page.volunteer_model, force_py=True)
    page.set_unit(world["moon_grid"])
    assert names(page) == ["周杰", "孙立"]
    page.set_unit(None)
    assert len(page.volunteer_model.rows) == 5 and page.count_label.text().startswith("共 5 人")


def test_hidden_page_reads_again_when_shown(page, place):
    page.hide()
    before = page.reloads
    page.set_unit(place.community)
    assert page.reloads == before
    page.show()
    assert page.reloads == before + 1 and names(page) == ["孙立", "李秀英", "赵志强"]


def test_sign_in_sheet_lists_the_activity_community_by_default(qtbot, ctx, world):
    dialog = SignInDialog(ctx, world["acts"]["河道清理"])
    qtbot.addWidget(dialog)
    assert dialog.everyone.isEnabled() and not dialog.everyone.isChecked()
    assert sorted(dialog.shown()) == ["周杰", "孙立", "钱小红"]
    assert "默认只列明月社区的志愿者" in dialog.count_label.text()

    def teams():
        return [dialog.team.itemText(i) for i in range(1, dialog.team.count())]

    assert teams() == ["明月服务队", "未分队"]
    dialog.everyone.setChecked(True)
    assert len(dialog.shown()) == 5 and teams() == ["明月服务队", "银发服务队", "未分队"]
    dialog.tick("赵志强")                                # from the other community
    dialog.everyone.setChecked(False)
    assert "赵志强" in dialog.shown()                    # ticked stays shown
    assert dialog.entries() == {world["people"]["赵志强"]: 2.0}
    dialog.team.setCurrentIndex(dialog.team.findText("明月服务队"))
    assert dialog.shown() == ["钱小红"]


def test_sign_in_sheet_of_an_activity_without_unit_lists_everyone(qtbot, ctx, world):
    dialog = SignInDialog(ctx, world["acts"]["便民服务日"])
    qtbot.addWidget(dialog)
    assert dialog.everyone.isChecked() and not dialog.everyone.isEnabled()
    assert len(dialog.shown()) == 5
    assert dialog.table.item(0, 0).flags() & Qt.ItemFlag.ItemIsUserCheckable
