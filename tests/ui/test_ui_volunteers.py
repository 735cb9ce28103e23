"""The volunteers page and its dialogs — real widgets (offscreen) over real SQLite files.
Dialog answers are monkeypatched where a test is about the page; each dialog is driven in its
own test."""
import datetime as dt

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.core import audit
from shequ_desktop.volunteers import activities as va, points as vp, roster as volunteers
from tests.conftest import TODAY, make_id
from ui.dialogs.move_dialogs import DateDialog
from ui.dialogs.volunteer_forms import ActivityDialog, PeriodDialog, TeamDialog, VolunteerDialog
from ui.dialogs.volunteer_points import ADJUST, REDEEM, PointsDialog
from ui.dialogs.volunteer_sign_in import HOURS, NAME, SignInDialog
from ui.pages.volunteers_page import VolunteersPage

DAY = TODAY - dt.timedelta(days=1 if TODAY.day > 1 else 0)   # in this month and year


def at(hour: int, day: dt.date = DAY) -> str:
    return f"{day} {hour:02d}:00"


@pytest.fixture
def world(ctx, place):
    """Teams 银发服务队 (赵志强, 钱小红) and 绿色家园服务队 (孙立); activity 敬老院陪伴
    (3 h yesterday) with 赵志强 3 h; activity 清扫 (2 h, overlapping, nobody yet)."""
    silver = volunteers.create_team(ctx, {"name": "银发服务队", "unit_id": place.community}).id
    green = volunteers.create_team(ctx, {"name": "绿色家园服务队"}).id
    ids = {}
    for i, (name, team) in enumerate((("赵志强", silver), ("钱小红", silver), ("孙立", green))):
        ids[name] = volunteers.create_volunteer(ctx, {
            "name": name, "id_number": make_id("1980-01-02", "1", seq=i + 1),
            "joined_on": "2020-01-01"}, team_id=team).id
    visit = va.create_activity(ctx, {"title": "敬老院陪伴", "category": "为老服务",
                                     "starts_at": at(9), "ends_at": at(12)}).id
    va.save_sheet(ctx, visit, {ids["赵志强"]: 3})
    sweep = va.create_activity(ctx, {"title": "清扫", "category": "环境保护",
                                     "starts_at": at(11), "ends_at": at(13)}).id
    return {"people": ids, "visit": visit, "sweep": sweep, "silver": silver, "green": green}


@pytest.fixture
def page(qtbot, ctx, world):
    page = VolunteersPage(ctx)
    qtbot.addWidget(page)
    page.resize(1100, 600)
    page.show()
    return page


def row_of(page, name):
    return next(r for r in page.volunteer_model.rows if r["name"] == name)


# --- the register ------------------------------------------------------------------------------

def test_register_shows_hours_star_and_points(page, world, ctx):
    assert sorted(r["name"] for r in page.volunteer_model.rows) == ["孙立", "赵志强", "钱小红"]
    row = page.volunteer_model.rows.index(row_of(page, "赵志强"))
    texts = [page.volunteer_model.index(row, c).data() for c in range(8)]
    assert texts == ["赵志强", "银发服务队", "在册", "3", "3", "3", "", "3"]
    vp.set_star_thresholds(ctx.conn, [1, 20, 30, 40, 50])
    page.refresh()
    row = page.volunteer_model.rows.index(row_of(page, "赵志强"))
    assert page.volunteer_model.index(row, 6).data() == "一星"
    assert "星级志愿者 1 人" in page.count_label.text()


def test_models_pass_the_model_tester(qtmodeltester, page, world):
    page.select_volunteer(world["people"]["赵志强"])
    for model in (page.volunteer_model, page.ledger_model, page.activity_model):
        assert model.rowCount() > 0
        qtmodeltester.check(model, force_py=True)


def test_team_filter_and_left_volunteers(page, ctx, world):
    page.team.setCurrentIndex(page.team.findData(world["green"]))
    assert [r["name"] for r in page.volunteer_model.rows] == ["孙立"]
    volunteers.leave(ctx, world["people"]["孙立"], TODAY.isoformat())
    assert page.volunteer_model.rows == []                  # re-read after the change
    page.with_left.setChecked(True)
    assert [r["status"] for r in page.volunteer_model.rows] == ["退出"]
    page.team.setCurrentIndex(0)
    assert len(page.volunteer_model.rows) == 3


def test_choosing_a_volunteer_shows_their_ledger(page, world):
    assert page.ledger_model.rowCount() == 0 and not page.adjust_button.isEnabled()
    assert page.select_volunteer(world["people"]["赵志强"])
    assert [(r["kind"], r["text"], r["balance"]) for r in page.ledger_model.rows] == [
        ("服务", "敬老院陪伴", 3)]
    assert page.ledger_model.index(0, 4).data() == "+3"
    assert "积分余额 3 分" in page.ledger_label.text()
    assert page.adjust_button.isEnabled() and page.certificate_button.isEnabled()


def test_sorting_keeps_the_current_volunteer(page, world):
    page.select_volunteer(world["people"]["钱小红"])
    page.view.sortByColumn(5, Qt.SortOrder.DescendingOrder)
    assert page.volunteer_model.rows[0]["name"] == "赵志强"
    assert page.current_volunteer()["name"] == "钱小红"


# --- points ------------------------------------------------------------------------------------

def test_adjust_and_redeem_through_the_page(page, world, monkeypatch):
    page.select_volunteer(world["people"]["赵志强"])
    answers = iter([{"points": 5, "reason": "表彰奖励", "made_on": TODAY.isoformat()},
                    {"points": 6, "item": "大米一袋", "redeemed_on": TODAY.isoformat()}])
    monkeypatch.setattr(PointsDialog, "ask", classmethod(lambda cls, *a: next(answers)))
    page.points(ADJUST)
    page.points(REDEEM)
    assert [r["balance"] for r in page.ledger_model.rows] == [2, 8, 3]      # newest first
    assert row_of(page, "赵志强")["points"] == 2


def test_refused_redemption_is_explained(page, world, monkeypatch):
    page.select_volunteer(world["people"]["赵志强"])
    monkeypatch.setattr(PointsDialog, "ask", classmethod(
        lambda cls, *a: {"points": 50, "item": "电饭煲", "redeemed_on": None}))
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    page.points(REDEEM)
    assert warnings and "不足以兑换 50 分" in warnings[0]
    assert row_of(page, "赵志强")["points"] == 3


def test_points_dialog_needs_reason_and_stays_within_balance(qtbot):
    adjust = PointsDialog(ADJUST, "赵志强", 3)
    qtbot.addWidget(adjust)
    adjust.points.setValue(-5)                  # the spin box stops at −balance
    assert adjust.points.value() == -3
    assert not adjust.ok_button().isEnabled()   # no reason yet
    adjust.text.setText("登记有误")
    assert adjust.ok_button().isEnabled()
    assert adjust.answer()["points"] == -3 and adjust.after.text() == "0 分"
    redeem = PointsDialog(REDEEM, "赵志强", 3)
    qtbot.addWidget(redeem)
    redeem.text.setText("毛巾")
    redeem.points.setValue(10)
    assert redeem.points.value() == 3
    assert redeem.answer()["item"] == "毛巾"


# --- activities and the sign-in sheet ----------------------------------------------------------

def test_sign_in_sheet_defaults_flags_and_saves(qtbot, page, ctx, world, monkeypatch):
    dialog = SignInDialog(ctx, world["sweep"])
    qtbot.addWidget(dialog)
    rows = {dialog.table.item(i, NAME).text(): i for i in range(dialog.table.rowCount())}
    assert set(rows) == {"赵志强", "钱小红", "孙立"}
    assert all(dialog.table.item(i, HOURS).data(Qt.ItemDataRole.EditRole) == 2
               for i in rows.values())
    assert dialog.entries() == {}
    dialog.tick("钱小红", hours=2.5)
    assert "超过活动时长 2 小时" in dialog.problem_view.toPlainText()
    assert not dialog.ok_button().isEnabled()
    dialog.tick("钱小红", hours=1.5)
    dialog.tick("赵志强")
    assert dialog.ok_button().isEnabled()
    assert "时间与“敬老院陪伴”" in dialog.problem_view.toPlainText()
    assert dialog.flags() and not dialog.blocking()
    monkeypatch.setattr(SignInDialog, "confirm_overlaps", lambda self: False)
    dialog.accept()
    assert dialog.result() == 0                   # still open: the overlap was not accepted
    assert ctx.conn.execute("SELECT count(*) FROM service_records WHERE activity_id = ?",
                            (world["sweep"],)).fetchone()[0] == 0      # nothing saved yet
    monkeypatch.setattr(SignInDialog, "confirm_overlaps", lambda self: True)
    dialog.accept()
    assert dialog.result() == 1 and dialog.saved is not None
    assert dict(ctx.conn.execute(
        "SELECT volunteer_id, hours FROM service_records WHERE activity_id = ?",
        (world["sweep"],)).fetchall()) == {world["people"]["钱小红"]: 1.5,
                                           world["people"]["赵志强"]: 2.0}


def test_sign_in_through_the_page(page, ctx, world, monkeypatch):
    page.tabs.setCurrentIndex(1)
    assert page.select_activity(world["sweep"])
    monkeypatch.setattr(SignInDialog, "exec", lambda self: (
        self.tick("孙立"), self.accept(), self.result())[-1])
    page.sign_in()
    sweep = next(r for r in page.activity_model.rows if r["id"] == world["sweep"])
    assert (sweep["people"], sweep["hours"]) == (1, 2)
    assert row_of(page, "孙立")["total"] == 2
    assert page.current_activity_id() == world["sweep"]


def test_typing_hours_ticks_the_person_and_filter_hides_others(qtbot, ctx, world):
    dialog = SignInDialog(ctx, world["visit"])
    qtbot.addWidget(dialog)
    row = dialog.row_of("孙立")
    dialog.table.item(row, HOURS).setData(Qt.ItemDataRole.EditRole, 1.0)
    assert dialog.table.item(row, NAME).checkState() == Qt.CheckState.Checked
    assert "已勾选 2 人，合计 4 小时" == dialog.count_label.text()
    dialog.search.setText("钱")
    hidden = [dialog.table.item(i, NAME).text() for i in range(dialog.table.rowCount())
              if dialog.table.isRowHidden(i)]
    assert sorted(hidden) == ["孙立", "赵志强"]
    dialog.tick_all(True)                         # only those shown
    assert len(dialog.entries()) == 3


def test_activity_dialog_creates_and_refuses_with_reason(qtbot, ctx, page, monkeypatch):
    dialog = ActivityDialog(ctx, "阳光社区")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button().isEnabled()
    dialog.title.setText("垃圾分类宣传")
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(-60))
    assert not dialog.ok_button().isEnabled()
    assert "应晚于开始时间" in dialog.length.text()
    dialog.ends.setDateTime(dialog.starts.dateTime().addSecs(90 * 60))
    assert dialog.length.text() == "1.5 小时"
    dialog.accept()
    row = ctx.get("activities", dialog.created)
    assert (row["title"], row["organiser"], row["category"]) == ("垃圾分类宣传", "阳光社区",
                                                                 "为老服务")
    assert any(r["id"] == dialog.created for r in page.activity_model.rows)


# --- new volunteers ----------------------------------------------------------------------------

def test_volunteer_dialog_links_a_resident(qtbot, ctx, family, page):
    _, p = family
    dialog = VolunteerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.find.setText("李秀英")
    assert dialog.look_up() == 1
    assert dialog.resident_id() == p["wife"]
    assert dialog.name.text() == "李秀英" and dialog.name.isReadOnly()
    dialog.skills.setText("理发")
    dialog.team.setCurrentIndex(dialog.team.findText("银发服务队"))
    dialog.accept()
    row = volunteers.get(ctx.conn, dialog.created)
    assert (row["resident_id"], row["skills"], row["team"]) == (p["wife"], "理发", "银发服务队")
    assert row["id_number"] == make_id("1972-03-08", "2")
    assert any(r["name"] == "李秀英" for r in page.volunteer_model.rows)


def test_volunteer_dialog_keeps_typing_when_id_is_wrong(qtbot, ctx, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    dialog = VolunteerDialog(ctx)
    qtbot.addWidget(dialog)
    dialog.name.setText("周杰")
    dialog.id_number.setText("11010519800102001")       # 17 characters
    dialog.accept()
    assert dialog.created is None and "应为18位" in warnings[0]
    assert dialog.name.text() == "周杰"
    dialog.id_number.setText(make_id("1980-01-02", seq=40))
    dialog.accept()
    assert volunteers.get(ctx.conn, dialog.created)["birth_date"] == "1980-01-02"


# --- certificate -------------------------------------------------------------------------------

def test_certificate_from_the_page(page, ctx, world, tmp_path, monkeypatch):
    page.select_volunteer(world["people"]["赵志强"])
    monkeypatch.setattr(PeriodDialog, "ask", classmethod(
        lambda cls, *a: {"date_from": None, "date_to": None}))
    monkeypatch.setattr(page, "ask_save_path", lambda suggested: str(tmp_path / "cert"))
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: shown.append(a[2]))
    page.certificate()
    path = tmp_path / "cert.pdf"
    text = PdfReader(str(path)).pages[0].extract_text().replace(" ", "").replace("\n", "")
    assert "赵志强" in text and "累计志愿服务时长3小时" in text and "敬老院陪伴" in text
    assert page.last_certificate["pages"] == 1 and str(path) in shown[0]
    [entry] = audit.entries(ctx.conn, action="print")
    assert entry["entity_id"] == world["people"]["赵志强"]


def test_period_dialog(qtbot):
    dialog = PeriodDialog("赵志强", "2020-01-01")
    qtbot.addWidget(dialog)
    assert dialog.answer() == {"date_from": None, "date_to": None}
    assert not dialog.date_from.isEnabled()
    dialog.all.setChecked(False)
    assert dialog.answer()["date_from"] == "2020-01-01"
    dialog.date_to.setDate(dialog.date_from.date().addDays(-1))
    assert not dialog.ok_button().isEnabled()


# --- main window -------------------------------------------------------------------------------

def test_main_window_has_the_volunteers_page(qtbot, conn, db_path, world, tmp_path):
    from ui import app as ui_app
    from ui.main_window import PAGES

    for fmt in (QSettings.Format.NativeFormat, QSettings.Format.IniFormat):
        QSettings.setPath(fmt, QSettings.Scope.UserScope, str(tmp_path / "config"))
    window = ui_app.build_main_window(conn, db_path, QSettings(str(tmp_path / "w.ini"),
                                                               QSettings.Format.IniFormat))
    qtbot.addWidget(window)
    window.show()
    assert ("volunteers", "志愿者") in PAGES
    page = window.show_page("volunteers")
    assert isinstance(page, VolunteersPage)
    assert len(page.volunteer_model.rows) == 3
    before = page.reloads
    va.save_sheet(window.ctx, world["sweep"], {world["people"]["孙立"]: 2})
    assert page.reloads == before + 1


def test_team_dialog_and_leaving_through_the_page(qtbot, page, ctx, place, world, monkeypatch):
    page.set_unit(place.community)
    dialog = TeamDialog(ctx, page.unit_id)
    qtbot.addWidget(dialog)
    assert not dialog.ok_button().isEnabled()
    dialog.name.setText("平安守护服务队")
    dialog.leader.setCurrentIndex(dialog.leader.findData(world["people"]["孙立"]))
    dialog.accept()
    team = ctx.get("volunteer_teams", dialog.created)
    assert (team["leader_id"], team["unit_id"]) == (world["people"]["孙立"], place.community)
    assert row_of(page, "孙立")["team"] == "平安守护服务队"
    page.select_volunteer(world["people"]["孙立"])
    assert page.leave_button.isEnabled()
    monkeypatch.setattr(DateDialog, "ask", classmethod(lambda cls, *a: TODAY.isoformat()))
    page.leave()
    assert all(r["name"] != "孙立" for r in page.volunteer_model.rows)   # 在册 only
    assert ctx.get("volunteer_teams", dialog.created)["leader_id"] is None
