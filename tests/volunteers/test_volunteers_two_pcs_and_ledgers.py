"""Volunteers (docs/decisions.md): sheets and records
saved from two PCs, who may change the settings, leaving dates, linked volunteers following
the resident record, star rounding, the points ledger never negative at any date, overlaps
made by moving an activity, certificate hours, NaN input, the CLI's files, team leaders."""
import datetime as dt
import math

import pytest

import db
from shequ_desktop.population import residents
from shequ_desktop.core import settings
from shequ_desktop.volunteers import activities as va
from shequ_desktop.volunteers import points as vp, roster as volunteers
from shequ_desktop.core.access import Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import ConflictError, DomainError, ReadOnlyError, ValidationError
from tests.volunteers.test_certificate import page_texts
from tests.volunteers.test_volunteers import activity, person


@pytest.fixture
def other_pc(db_path, conn):
    """A second connection to the same file, as another PC on the shared folder."""
    c = db.open_db(db_path)
    yield Context(c, "乙")
    c.close()


def records(ctx, activity_id) -> dict:
    return dict(ctx.conn.execute("SELECT volunteer_id, hours FROM service_records "
                                 "WHERE activity_id = ?", (activity_id,)).fetchall())


# --- H2: a sheet saved on another PC is not overwritten ----------------------------------------

def test_a_sheet_saved_meanwhile_elsewhere_is_refused_not_deleted(ctx, other_pc):
    x, y = person(ctx, "赵志强", seq=1), person(ctx, "钱小红", seq=2)
    a = activity(ctx)
    read = va.read_state(va.sheet(ctx.conn, a))            # PC A opens the sheet: empty
    va.save_sheet(other_pc, a, {y: 3})                     # PC B saves 钱小红
    with pytest.raises(ConflictError, match="签到表已被他人修改，请重新打开"):
        va.save_sheet(ctx, a, {x: 3}, read=read)
    assert records(ctx, a) == {y: 3}
    read = va.read_state(va.sheet(ctx.conn, a))            # reopened: both kept
    va.save_sheet(ctx, a, {x: 3, y: 3}, read=read)
    assert records(ctx, a) == {x: 3, y: 3}


def test_a_sheet_changed_hours_elsewhere_is_refused_and_unticking_removes(ctx, other_pc):
    x, y = person(ctx, "赵志强", seq=1), person(ctx, "钱小红", seq=2)
    a = activity(ctx)
    va.save_sheet(ctx, a, {x: 3, y: 3})
    read = va.read_state(va.sheet(ctx.conn, a))
    va.save_sheet(other_pc, a, {x: 2, y: 3})               # B corrects 赵志强's hours
    with pytest.raises(ConflictError):
        va.save_sheet(ctx, a, {y: 3}, read=read)
    assert records(ctx, a) == {x: 2, y: 3}
    read = va.read_state(va.sheet(ctx.conn, a))
    va.save_sheet(ctx, a, {y: 3}, read=read)               # unticked now: removed
    assert records(ctx, a) == {y: 3}


# --- H6: who may change the points and star settings -------------------------------------------

@pytest.mark.parametrize("role, error", [("只读", ReadOnlyError), ("网格员", NotPermitted)])
def test_only_an_admin_changes_the_points_settings(ctx, place, role, error):
    ctx.access = Access(role, frozenset({place.grid}))
    with pytest.raises(error):
        vp.save_settings(ctx, 5, [10, 20, 30, 40, 50])
    assert vp.rate(ctx.conn) == vp.DEFAULT_RATE
    assert settings.get(ctx.conn, vp.STARS_KEY) is None
    ctx.access = Access("管理员")
    vp.save_settings(ctx, 5, [10, 20, 30, 40, 50])
    assert vp.rate(ctx.conn) == 5


def test_a_grid_worker_cannot_sign_in_to_another_grids_activity(ctx, place):
    from shequ_desktop.places import grid

    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    vid = person(ctx, "赵志强")
    theirs = va.create_activity(ctx, {"title": "河道清理", "category": "环境保护",
                                      "starts_at": "2024-03-02 09:00",
                                      "ends_at": "2024-03-02 11:00", "unit_id": other}).id
    ctx.access = Access("网格员", frozenset({place.grid}))
    with pytest.raises(NotPermitted):
        va.save_sheet(ctx, theirs, {vid: 2})
    assert records(ctx, theirs) == {}


# --- M1: edits from two PCs --------------------------------------------------------------------

def test_a_volunteer_edited_meanwhile_elsewhere_is_refused(ctx, other_pc):
    vid = person(ctx, "孙立", seq=5, phone="13800000001")
    read = volunteers.get(ctx.conn, vid)
    volunteers.edit_volunteer(other_pc, vid, {"phone": "13900000002"})
    with pytest.raises(ConflictError, match="孙立的信息已被他人修改") as err:
        volunteers.edit_volunteer(ctx, vid, {"phone": read["phone"], "skills": "急救"},
                                  expected=read)
    assert "13900000002" in str(err.value)
    row = ctx.get("volunteers", vid)
    assert (row["phone"], row["skills"]) == ("13900000002", None)
    volunteers.edit_volunteer(ctx, vid, {"skills": "急救"}, expected=volunteers.get(ctx.conn, vid))
    assert ctx.get("volunteers", vid)["skills"] == "急救"


def test_teams_and_activities_edited_meanwhile_elsewhere_are_refused(ctx, other_pc):
    team = volunteers.create_team(ctx, {"name": "银发服务队"}).id
    a = activity(ctx)
    team_read, act_read = ctx.get("volunteer_teams", team), ctx.get("activities", a)
    volunteers.update_team(other_pc, team, {"notes": "每周二活动"})
    va.update_activity(other_pc, a, {"place": "活动室"})
    with pytest.raises(ConflictError):
        volunteers.update_team(ctx, team, {"name": "夕阳红服务队"}, expected=team_read)
    with pytest.raises(ConflictError, match="活动地点"):
        va.update_activity(ctx, a, {"title": "助老送餐"}, expected=act_read)
    assert ctx.get("volunteer_teams", team)["name"] == "银发服务队"
    assert ctx.get("activities", a)["title"] == "敬老院陪伴"


# --- M2: leaving dates -------------------------------------------------------------------------

def test_leaving_before_the_last_service_or_in_the_future_is_refused(ctx):
    vid = person(ctx, "赵志强")
    va.save_sheet(ctx, activity(ctx, start="2024-06-01 09:00", end="2024-06-01 12:00"), {vid: 3})
    with pytest.raises(ValidationError, match="早于其最后一次服务（2024-06-01）"):
        volunteers.leave(ctx, vid, "2024-03-01")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError, match="晚于今天"):
        volunteers.leave(ctx, vid, tomorrow)
    assert ctx.get("volunteers", vid)["status"] == volunteers.ACTIVE
    volunteers.leave(ctx, vid, "2024-06-01")
    assert ctx.get("volunteers", vid)["left_on"] == "2024-06-01"


# --- M3: a linked volunteer follows the resident record ----------------------------------------

def test_a_linked_volunteer_shows_the_corrected_resident_data(ctx, family, tmp_path):
    _, p = family
    vid = volunteers.create_volunteer(ctx, {"joined_on": "2023-01-01"},
                                      resident_id=p["head"]).id
    a = activity(ctx)
    va.save_sheet(ctx, a, {vid: 3})
    residents.update_resident(ctx, p["head"], {"name": "王建华", "phone": "13700000000"})
    row = volunteers.get(ctx.conn, vid)
    assert (row["name"], row["phone"]) == ("王建华", "13700000000")
    assert [r["name"] for r in vp.hours_summary(ctx.conn)] == ["王建华"]
    assert [r["name"] for r in va.sheet(ctx.conn, a) if r["came"]] == ["王建华"]
    assert volunteers.find(ctx.conn, "王建华")["id"] == vid
    from shequ_desktop.reports.pdf import certificate
    certificate.build(ctx.conn, vid, tmp_path / "c.pdf")
    text = page_texts(tmp_path / "c.pdf")[0]
    assert "王建华" in text and "王建国" not in text
    volunteers.update_volunteer(ctx, vid, {"name": "王建华", "skills": "维修"})  # as shown
    assert ctx.get("volunteers", vid)["skills"] == "维修"
    volunteers.unlink_resident(ctx, vid)          # keeps the data as they were last shown
    row = ctx.get("volunteers", vid)
    assert (row["resident_id"], row["name"], row["phone"]) == (None, "王建华", "13700000000")


# --- M4: stars from a float sum ----------------------------------------------------------------

def test_a_star_is_reached_with_exactly_the_threshold_in_two_decimal_hours(ctx):
    assert vp.star(99.99999999999991) == 1
    vp.set_star_thresholds(ctx.conn, [4, 300, 600, 1000, 1500])
    vid = person(ctx, "赵志强")
    for i, hours in enumerate((0.7, 1.4, 1.9)):            # float sum 3.9999999999999996
        va.save_sheet(ctx, activity(ctx, f"活动{i}", f"2024-03-0{i + 1} 09:00",
                                    f"2024-03-0{i + 1} 12:00"), {vid: hours})
    row = vp.hours_summary(ctx.conn, volunteer_id=vid)[0]
    assert (row["total"], row["star"], row["star_name"]) == (4, 1, "一星")


# --- M5: the ledger never goes below zero at any date ------------------------------------------

def test_back_dated_redemptions_and_adjustments_are_refused(ctx):
    vid = person(ctx, "赵志强")
    va.save_sheet(ctx, activity(ctx, start="2024-06-01 09:00", end="2024-06-01 12:00"), {vid: 3})
    with pytest.raises(DomainError, match="在 2024-01-01 将变为 -3"):
        vp.redeem(ctx, vid, 3, "毛巾", redeemed_on="2024-01-01")
    with pytest.raises(DomainError, match="积分不能为负"):
        vp.adjust(ctx, vid, -3, "扣分", made_on="2024-05-01")
    with pytest.raises(ValidationError, match="早于其加入日期 2020-01-01"):
        vp.adjust(ctx, vid, 5, "奖励", made_on="2019-12-31")
    assert vp.ledger(ctx.conn, vid)[-1]["balance"] == 3
    vp.redeem(ctx, vid, 3, "毛巾", redeemed_on="2024-06-01")     # same day, after serving
    assert [r["balance"] for r in vp.ledger(ctx.conn, vid)] == [3, 0]


def test_removing_or_moving_earlier_service_cannot_make_the_ledger_negative(ctx):
    vid = person(ctx, "赵志强")
    jan = activity(ctx, "一月", "2024-01-10 09:00", "2024-01-10 12:00")
    mar = activity(ctx, "三月", "2024-03-10 09:00", "2024-03-10 12:00")
    va.save_sheet(ctx, jan, {vid: 3})
    vp.redeem(ctx, vid, 3, "毛巾", redeemed_on="2024-02-01")
    va.save_sheet(ctx, mar, {vid: 3})
    with pytest.raises(DomainError, match="在 2024-02-01 将变为 -3"):
        va.save_sheet(ctx, jan, {})                        # final balance would be 0
    with pytest.raises(DomainError, match="在 2024-02-01 将变为 -3"):
        va.update_activity(ctx, jan, {"starts_at": "2024-02-10 09:00",
                                      "ends_at": "2024-02-10 12:00"})
    assert records(ctx, jan) == {vid: 3}
    assert min(r["balance"] for r in vp.ledger(ctx.conn, vid)) == 0


# --- M7 and L5: moving an activity; several days ----------------------------------------------

def test_moving_an_activity_into_an_overlap_needs_accepting(ctx):
    vid = person(ctx, "赵志强")
    am = activity(ctx, "上午", "2024-06-01 09:00", "2024-06-01 12:00")
    pm = activity(ctx, "下午", "2024-06-01 14:00", "2024-06-01 17:00")
    va.save_sheet(ctx, am, {vid: 3})
    va.save_sheet(ctx, pm, {vid: 3})
    moved = {"starts_at": "2024-06-01 10:00", "ends_at": "2024-06-01 13:00"}
    with pytest.raises(va.OverlapError, match="时间与“上午”"):
        va.update_activity(ctx, pm, moved)
    assert ctx.get("activities", pm)["starts_at"] == "2024-06-01 14:00"
    va.update_activity(ctx, pm, moved, accept_overlaps=True)
    assert len(va.overlaps(ctx.conn)) == 1
    va.update_activity(ctx, pm, {"place": "活动室"})        # an accepted overlap stays quiet


def test_more_than_24_hours_of_a_multi_day_activity_says_to_split_it(ctx):
    vid = person(ctx, "赵志强")
    camp = activity(ctx, "三日营", "2024-07-01 08:00", "2024-07-03 20:00")
    problems = va.check_sheet(ctx.conn, camp, {vid: 30})
    assert [p.message for p in problems] == [
        "服务时长 30 小时超过一天 24 小时（跨天的活动请按天分别登记为多个活动）"]
    va.save_sheet(ctx, camp, {vid: 24})
    assert records(ctx, camp) == {vid: 24}


# --- L1: not-a-number input --------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["nan", "NaN", "inf", float("nan"), -math.inf])
def test_non_finite_hours_and_points_get_a_chinese_message(ctx, bad):
    vid = person(ctx, "赵志强")
    a = activity(ctx)
    with pytest.raises(ValidationError, match="不是数字"):
        va.save_sheet(ctx, a, {vid: bad})
    va.save_sheet(ctx, a, {vid: 3})
    with pytest.raises(ValidationError, match="兑换积分：.*不是数字"):
        vp.redeem(ctx, vid, bad, "毛巾")
    with pytest.raises(ValidationError, match="调整积分：.*不是数字"):
        vp.adjust(ctx, vid, bad, "测试")
    with pytest.raises(DomainError, match="不是数字"):
        vp.save_settings(ctx, bad, [100, 300, 600, 1000, 1500])
    assert vp.balance(ctx.conn, vid) == 3


# --- M9 and L3: the certificate and the CLI ----------------------------------------------------

def test_certificate_rows_add_up_to_the_total(ctx, tmp_path):
    from shequ_desktop.reports.pdf import certificate

    vid = person(ctx, "赵志强")
    for i in range(4):
        va.save_sheet(ctx, activity(ctx, f"活动{i}", f"2024-06-0{i + 1} 09:00",
                                    f"2024-06-0{i + 1} 12:00"), {vid: 2.25})
    certificate.build(ctx.conn, vid, tmp_path / "c.pdf")
    text = page_texts(tmp_path / "c.pdf")[0]
    assert text.count("2.25") == 4 and "2.2\n" not in text and "累计志愿服务时长 9 小时" in text


def test_cli_refuses_a_missing_database_and_says_why_a_file_cannot_be_written(
        ctx, db_path, tmp_path, capsys):
    vid = person(ctx, "赵志强")
    va.save_sheet(ctx, activity(ctx), {vid: 3})
    typo = tmp_path / "typo.db"
    assert main(["volunteers", "hours", "--db", str(typo), "--json"]) == 2
    assert "不存在" in capsys.readouterr().err and not typo.exists()
    assert main(["volunteers", "certificate", "--db", str(typo), "--volunteer", "赵志强",
                 "-o", str(tmp_path / "a.pdf")]) == 2
    assert not typo.exists()
    capsys.readouterr()
    assert main(["volunteers", "certificate", "--db", str(db_path), "--volunteer", "赵志强",
                 "-o", str(tmp_path / "nodir" / "x.pdf")]) == 2
    err = capsys.readouterr().err
    assert "所在文件夹不存在" in err and "No such file" not in err
    assert main(["volunteers", "certificate", "--db", str(db_path), "--volunteer", "赵志强",
                 "-o", str(tmp_path)]) == 2
    assert "这是一个文件夹" in capsys.readouterr().err
    bad_font = tmp_path / "bad.ttf"
    bad_font.write_text("not a font")
    assert main(["volunteers", "certificate", "--db", str(db_path), "--volunteer", "赵志强",
                 "--font", str(bad_font), "-o", str(tmp_path / "y.pdf")]) == 0
    assert f"字体文件“{bad_font}”无法使用" in capsys.readouterr().err


# --- L7: a leader moved to another team --------------------------------------------------------

def test_a_leader_moved_to_another_team_no_longer_leads_the_old_one(ctx):
    x, y = person(ctx, "赵志强", seq=1), person(ctx, "钱小红", seq=2)
    silver = volunteers.create_team(ctx, {"name": "银发服务队", "leader_id": x}).id
    green = volunteers.create_team(ctx, {"name": "绿色家园服务队", "leader_id": y}).id
    volunteers.update_volunteer(ctx, x, {"team_id": green})
    assert ctx.get("volunteer_teams", silver)["leader_id"] is None
    volunteers.set_leader(ctx, silver, y)                  # 钱小红 moves to lead 银发
    assert ctx.get("volunteer_teams", green)["leader_id"] is None
    assert ctx.get("volunteer_teams", silver)["leader_id"] == y
    volunteers.update_volunteer(ctx, y, {"team_id": silver, "skills": "急救"})   # same team
    assert ctx.get("volunteer_teams", silver)["leader_id"] == y
