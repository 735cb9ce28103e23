"""Volunteers, teams, activities, sign-in sheets, hours rules, overlaps, points and stars —
the domain over real SQLite files."""
import datetime as dt

import pytest

from shequ_desktop.volunteers import activities as va, points as vp, roster as volunteers
from shequ_desktop.core.errors import DomainError, NotFoundError, ValidationError
from tests.conftest import TODAY, make_id


def person(ctx, name, birth="1980-01-02", gender="1", seq=1, **more):
    values = {"name": name, "id_number": make_id(birth, gender, seq=seq),
              "joined_on": "2020-01-01", **more}
    return volunteers.create_volunteer(ctx, values).id


def activity(ctx, title="敬老院陪伴", start="2024-03-02 09:00", end="2024-03-02 12:00",
             category="为老服务"):
    return va.create_activity(ctx, {"title": title, "category": category,
                                    "starts_at": start, "ends_at": end}).id


@pytest.fixture
def two(ctx):
    return person(ctx, "赵志强", seq=1), person(ctx, "钱小红", "1990-05-05", "2", seq=2)


# --- volunteers and teams ----------------------------------------------------------------------

def test_own_volunteer_gets_birth_and_gender_from_id(ctx):
    vid = person(ctx, "孙立", "1985-07-09", "2", seq=5, phone="13812345678", skills="急救")
    row = ctx.get("volunteers", vid)
    assert (row["birth_date"], row["gender"], row["status"]) == ("1985-07-09", "2", "在册")
    assert row["phone"] == "13812345678" and row["resident_id"] is None


def test_id_number_validated_like_residents(ctx):
    bad = make_id("1985-07-09")[:-1] + ("0" if make_id("1985-07-09")[-1] != "0" else "1")
    with pytest.raises(ValidationError) as err:
        volunteers.create_volunteer(ctx, {"name": "孙立", "id_number": bad})
    assert "身份证号" in str(err.value) and "校验位" in str(err.value)
    with pytest.raises(ValidationError, match="与身份证号不一致"):
        volunteers.create_volunteer(ctx, {"name": "孙立", "id_number": make_id("1985-07-09"),
                                          "birth_date": "1985-07-10"})
    assert ctx.conn.execute("SELECT count(*) FROM volunteers").fetchone()[0] == 0


def test_an_id_number_is_registered_once(ctx):
    person(ctx, "孙立", seq=3)
    with pytest.raises(ValidationError, match="已登记为志愿者（孙立"):
        person(ctx, "孙丽", seq=3)


def test_linked_resident_data_is_copied_and_locked(ctx, family):
    _, p = family
    vid = volunteers.create_volunteer(ctx, {"skills": "维修", "joined_on": "2023-01-01"},
                                      resident_id=p["wife"]).id
    row = ctx.get("volunteers", vid)
    assert (row["name"], row["id_number"], row["gender"], row["birth_date"]) == (
        "李秀英", make_id("1972-03-08", "2"), "2", "1972-03-08")
    with pytest.raises(DomainError, match="请在居民档案中修改"):
        volunteers.update_volunteer(ctx, vid, {"name": "李秀"})
    volunteers.update_volunteer(ctx, vid, {"skills": "维修、理发"})
    assert ctx.get("volunteers", vid)["skills"] == "维修、理发"


def test_team_leader_joins_team_and_leaving_clears_leadership(ctx, two):
    a, b = two
    team = volunteers.create_team(ctx, {"name": "银发服务队", "leader_id": a}).id
    assert ctx.get("volunteers", a)["team_id"] == team
    with pytest.raises(ValidationError, match="已有名为"):
        volunteers.create_team(ctx, {"name": "银发服务队"})
    [row] = volunteers.teams(ctx.conn)
    assert (row["leader"], row["members"]) == ("赵志强", 1)
    volunteers.leave(ctx, a, TODAY.isoformat(), "搬家")
    assert ctx.get("volunteer_teams", team)["leader_id"] is None
    assert ctx.get("volunteers", a)["status"] == "退出"
    assert "退出原因：搬家" in ctx.get("volunteers", a)["notes"]


def test_find_by_number_id_or_name_and_ambiguous_names_are_listed(ctx):
    a = person(ctx, "周杰", seq=7)
    b = person(ctx, "周杰", "1991-01-01", seq=8)
    assert volunteers.find(ctx.conn, str(a))["id"] == a
    assert volunteers.find(ctx.conn, make_id("1991-01-01", seq=8))["id"] == b
    with pytest.raises(DomainError) as err:
        volunteers.find(ctx.conn, "周杰")
    assert f"编号 {a}" in str(err.value) and f"编号 {b}" in str(err.value)
    assert "2 位志愿者" in str(err.value)
    with pytest.raises(NotFoundError):
        volunteers.find(ctx.conn, "吴用")


# --- activities and hours ----------------------------------------------------------------------

def test_activity_times_and_category_are_checked(ctx):
    with pytest.raises(ValidationError) as err:
        va.create_activity(ctx, {"title": "清扫", "category": "打扫", "starts_at": "2024-03-02 9:00",
                                 "ends_at": "2024-03-02 08:00"})
    text = str(err.value)
    assert "不在志愿服务类别代码表中" in text and "应晚于开始时间" in text
    aid = va.create_activity(ctx, {"title": "清扫", "category": "环保",
                                   "starts_at": "2024年3月2日 9:00", "ends_at": "2024/3/2 11:30"}).id
    row = ctx.get("activities", aid)
    assert (row["category"], row["starts_at"], row["ends_at"]) == (
        "环境保护", "2024-03-02 09:00", "2024-03-02 11:30")
    assert va.length_hours(row["starts_at"], row["ends_at"]) == 2.5


def test_sheet_defaults_to_activity_length(ctx, two):
    aid = activity(ctx)
    rows = va.sheet(ctx.conn, aid)
    assert [(r["name"], r["came"], r["hours"]) for r in rows] == [
        ("钱小红", False, 3.0), ("赵志强", False, 3.0)]          # by pinyin: qian, zhao


@pytest.mark.parametrize("hours, message", [
    (0, "应大于 0"), (-1, "应大于 0"), (3.5, "超过活动时长 3 小时"), ("三", "不是数字")])
def test_hours_must_be_positive_and_within_the_activity(ctx, two, hours, message):
    aid = activity(ctx)
    with pytest.raises(ValidationError, match=message):
        va.save_sheet(ctx, aid, {two[0]: 2, two[1]: hours})
    assert ctx.conn.execute("SELECT count(*) FROM service_records").fetchone()[0] == 0


def test_at_most_24_hours_a_day_across_activities(ctx, two):
    a, _ = two
    night = activity(ctx, "防汛值守", "2024-07-01 00:00", "2024-07-01 20:00", "应急")
    evening = activity(ctx, "夜间巡逻", "2024-07-01 20:00", "2024-07-02 02:00", "治安巡逻")
    va.save_sheet(ctx, night, {a: 20})
    problems = va.check_sheet(ctx.conn, evening, {a: 5})
    assert [p.blocking for p in problems] == [True]
    assert "当天合计 25 小时" in problems[0].message
    va.save_sheet(ctx, evening, {a: 4})
    assert vp.hours_summary(ctx.conn, today=dt.date(2024, 7, 15),
                            volunteer_id=a)[0]["total"] == 24


def test_overlapping_activities_are_flagged_and_saved_only_when_accepted(ctx, two):
    a, b = two
    first = activity(ctx, "社区义诊", "2024-05-10 09:00", "2024-05-10 11:00", "为老服务")
    second = activity(ctx, "文明劝导", "2024-05-10 10:00", "2024-05-10 12:00", "文明实践")
    va.save_sheet(ctx, first, {a: 2})
    problems = va.check_sheet(ctx.conn, second, {a: 2, b: 2})
    assert [(p.name, p.blocking) for p in problems] == [("赵志强", False)]
    assert "社区义诊" in problems[0].message
    with pytest.raises(va.OverlapError, match="赵志强"):
        va.save_sheet(ctx, second, {a: 2, b: 2})
    assert ctx.conn.execute("SELECT count(*) FROM service_records").fetchone()[0] == 1
    va.save_sheet(ctx, second, {a: 1, b: 2}, accept_overlaps=True)
    [pair] = va.overlaps(ctx.conn)
    assert (pair["name"], pair["first_title"], pair["second_title"]) == ("赵志强", "社区义诊",
                                                                          "文明劝导")


def test_sheet_is_replaced_whole(ctx, two):
    a, b = two
    aid = activity(ctx)
    va.save_sheet(ctx, aid, {a: 3, b: 2})
    va.save_sheet(ctx, aid, {b: 2.5})
    rows = {r["name"]: (r["came"], r["hours"]) for r in va.sheet(ctx.conn, aid)}
    assert rows == {"赵志强": (False, 3.0), "钱小红": (True, 2.5)}


def test_left_volunteer_cannot_sign_in_after_leaving(ctx, two):
    a, _ = two
    volunteers.leave(ctx, a, "2024-01-01")
    aid = activity(ctx)
    assert a not in [r["volunteer_id"] for r in va.sheet(ctx.conn, aid)]
    with pytest.raises(ValidationError, match="已于 2024-01-01 退出"):
        va.save_sheet(ctx, aid, {a: 1})


def test_shortening_an_activity_below_recorded_hours_is_refused(ctx, two):
    aid = activity(ctx)
    va.save_sheet(ctx, aid, {two[0]: 3})
    with pytest.raises(DomainError, match="赵志强 3 小时"):
        va.update_activity(ctx, aid, {"ends_at": "2024-03-02 10:00"})
    with pytest.raises(DomainError, match="已有 1 条服务记录"):
        va.delete_activity(ctx, aid)
    assert ctx.get("activities", aid)["ends_at"] == "2024-03-02 12:00"


# --- points ----------------------------------------------------------------------------------

def test_points_earned_at_the_rate_in_force(ctx, two):
    a, _ = two
    first = activity(ctx, start="2024-03-02 09:00", end="2024-03-02 12:00")
    va.save_sheet(ctx, first, {a: 3})
    vp.set_rate(ctx.conn, 2)
    second = activity(ctx, "助残", "2024-03-05 09:00", "2024-03-05 11:00", "助残")
    va.save_sheet(ctx, second, {a: 2})
    assert vp.balance(ctx.conn, a) == 3 * 1 + 2 * 2
    assert [(r["kind"], r["points"], r["balance"]) for r in vp.ledger(ctx.conn, a)] == [
        ("服务", 3, 3), ("服务", 4, 7)]


def test_adjustment_needs_a_reason(ctx, two):
    with pytest.raises(ValidationError, match="必须写明原因"):
        vp.adjust(ctx, two[0], 5, "  ")
    with pytest.raises(ValidationError, match="不能为 0"):
        vp.adjust(ctx, two[0], 0, "奖励")
    vp.adjust(ctx, two[0], 5, "抗疫表彰")
    assert vp.balance(ctx.conn, two[0]) == 5
    [row] = vp.ledger(ctx.conn, two[0])
    assert (row["kind"], row["text"], row["by"]) == ("调整", "抗疫表彰", "测试员")


def test_redemption_never_takes_the_balance_below_zero(ctx, two):
    a, _ = two
    aid = activity(ctx)
    va.save_sheet(ctx, aid, {a: 3})
    with pytest.raises(DomainError, match="余额为 3，不足以兑换 4 分"):
        vp.redeem(ctx, a, 4, "大米一袋")
    vp.redeem(ctx, a, 3, "大米一袋")
    assert vp.balance(ctx.conn, a) == 0
    with pytest.raises(DomainError, match="不足以兑换"):
        vp.redeem(ctx, a, 0.5, "毛巾")
    with pytest.raises(DomainError, match="积分不能为负"):
        vp.adjust(ctx, a, -1, "误登记")
    with pytest.raises(DomainError, match="积分不能为负"):    # removing earned points too
        va.save_sheet(ctx, aid, {})
    assert ctx.conn.execute("SELECT count(*) FROM service_records").fetchone()[0] == 1
    assert ctx.conn.execute("SELECT count(*) FROM point_adjustments").fetchone()[0] == 0
    assert [r["balance"] for r in vp.ledger(ctx.conn, a)] == [3, 0]


# --- stars and hours ---------------------------------------------------------------------------

@pytest.mark.parametrize("hours, level", [(0, 0), (99.9, 0), (100, 1), (299, 1), (300, 2),
                                          (600, 3), (999, 3), (1000, 4), (1500, 5), (9000, 5)])
def test_default_star_thresholds(hours, level):
    assert vp.star(hours) == level


def test_star_thresholds_are_configurable(ctx):
    vp.set_star_thresholds(ctx.conn, [10, 20, 30, 40, 50])
    assert vp.star(25, vp.star_thresholds(ctx.conn)) == 2
    with pytest.raises(DomainError, match="由小到大"):
        vp.set_star_thresholds(ctx.conn, [10, 5, 30, 40, 50])


def test_hours_in_period_month_year_and_total(ctx, two):
    a, b = two
    for title, start, hours in (("一", "2023-12-30 09:00", 8), ("二", "2024-02-01 09:00", 6),
                                ("三", "2024-03-02 09:00", 4)):
        aid = activity(ctx, title, start, start[:11] + "18:00")
        va.save_sheet(ctx, aid, {a: hours})
    vp.set_star_thresholds(ctx.conn, [10, 20, 30, 40, 50])
    rows = {r["name"]: r for r in vp.hours_summary(ctx.conn, "2024-01-01", "2024-02-29",
                                                    today=dt.date(2024, 3, 20))}
    r = rows["赵志强"]
    assert (r["hours"], r["activities"], r["month"], r["year"], r["total"]) == (6, 1, 4, 10, 18)
    assert (r["star"], r["star_name"], r["points"]) == (1, "一星", 18)
    assert rows["钱小红"]["total"] == 0 and rows["钱小红"]["star_name"] == ""
    with pytest.raises(DomainError, match="晚于截止日期"):
        vp.hours_summary(ctx.conn, "2024-03-01", "2024-01-01")


def test_every_write_is_one_transaction_and_reported(ctx, two):
    seen = []
    ctx.subscribe(seen.append)
    aid = activity(ctx)
    va.save_sheet(ctx, aid, {two[0]: 3, two[1]: 3})
    assert [len(batch) for batch in seen] == [1, 2]
    assert {c.entity for c in seen[1]} == {"service_records"}


# --- editing, settings and where volunteers are ------------------------------------------------

def test_editing_a_linked_volunteer_keeps_resident_data_and_unlinking_frees_it(ctx, family):
    _, p = family
    vid = volunteers.create_volunteer(ctx, {"joined_on": "2023-01-01"},
                                      resident_id=p["wife"]).id
    team = volunteers.create_team(ctx, {"name": "银发服务队"}).id
    volunteers.edit_volunteer(ctx, vid, {"name": "别人", "phone": "13900000000",
                                         "skills": "理发", "team_id": team, "notes": "周末有空"})
    row = ctx.get("volunteers", vid)
    assert (row["name"], row["phone"], row["skills"], row["team_id"], row["notes"]) == (
        "李秀英", None, "理发", team, "周末有空")
    volunteers.edit_volunteer(ctx, vid, {"phone": "13900000000"}, resident_id=None)
    row = ctx.get("volunteers", vid)
    assert (row["resident_id"], row["name"], row["phone"]) == (None, "李秀英", "13900000000")
    with pytest.raises(DomainError, match="不是同一人"):
        volunteers.edit_volunteer(ctx, vid, {"skills": "唱歌"}, resident_id=p["head"])
    assert ctx.get("volunteers", vid)["skills"] == "理发"          # all or nothing
    volunteers.edit_volunteer(ctx, vid, {}, resident_id=p["wife"])
    assert ctx.get("volunteers", vid)["resident_id"] == p["wife"]
    with pytest.raises(DomainError, match="未关联居民档案"):
        volunteers.unlink_resident(ctx, person(ctx, "孙立", seq=9))


def test_joined_and_left_dates_stay_around_the_service_records(ctx, two):
    a, _ = two
    aid = activity(ctx)                                 # 2024-03-02
    va.save_sheet(ctx, aid, {a: 3})
    with pytest.raises(ValidationError, match="晚于其第一次服务（2024-03-02）"):
        volunteers.update_volunteer(ctx, a, {"joined_on": "2024-03-03"})
    with pytest.raises(ValidationError, match="在册志愿者没有退出日期"):
        volunteers.update_volunteer(ctx, a, {"left_on": "2024-05-01"})
    volunteers.leave(ctx, a, "2024-06-01")
    with pytest.raises(ValidationError, match="早于其最后一次服务"):
        volunteers.update_volunteer(ctx, a, {"left_on": "2024-03-01"})
    volunteers.update_volunteer(ctx, a, {"left_on": "2024-04-01", "status": "在册"})
    row = ctx.get("volunteers", a)
    assert (row["left_on"], row["status"]) == ("2024-04-01", "退出")   # status not edited here


def test_an_activity_cannot_move_away_from_its_records_or_be_deleted_with_them(ctx, two):
    a, b = two
    volunteers.update_volunteer(ctx, b, {"joined_on": "2024-03-01"})
    aid = activity(ctx)
    va.save_sheet(ctx, aid, {a: 3, b: 3})
    with pytest.raises(DomainError, match="早于其加入日期 2024-03-01"):
        va.update_activity(ctx, aid, {"starts_at": "2024-02-20 09:00",
                                      "ends_at": "2024-02-20 12:00"})
    assert ctx.get("activities", aid)["starts_at"] == "2024-03-02 09:00"
    va.update_activity(ctx, aid, {"title": "敬老院陪伴（上午）", "place": "养老驿站"})
    with pytest.raises(DomainError, match="已有 2 条服务记录，不能删除"):
        va.delete_activity(ctx, aid)
    va.save_sheet(ctx, aid, {})
    va.delete_activity(ctx, aid)
    assert ctx.conn.execute("SELECT count(*) FROM activities").fetchone()[0] == 0


def test_settings_are_validated_audited_and_earned_points_keep_their_rate(ctx, two):
    from shequ_desktop.core import audit

    a, b = two
    first = activity(ctx)
    va.save_sheet(ctx, first, {a: 3})
    for rate, stars, message in ((0, [1, 2, 3, 4, 5], "应大于 0"),
                                 (2, [1, 2, 2, 4, 5], "由小到大"),
                                 (2, [1, 2, 3, 4], "五个")):
        with pytest.raises(DomainError, match=message):
            vp.save_settings(ctx, rate, stars)
    assert vp.rate(ctx.conn) == 1 and vp.star_thresholds(ctx.conn) == vp.DEFAULT_STARS
    vp.save_settings(ctx, 2.5, [1, 5, 10, 20, 40])
    second = activity(ctx, "清扫", "2024-03-03 09:00", "2024-03-03 11:00")
    va.save_sheet(ctx, second, {a: 2})
    assert [r["points"] for r in vp.ledger(ctx.conn, a)] == [3, 5]
    assert vp.hours_summary(ctx.conn, volunteer_id=a)[0]["star_name"] == "二星"   # 5 h
    [entry] = [e for e in audit.entries(ctx.conn) if e["entity"] == "settings"]
    assert "每小时 2.5 分" in entry["summary"] and "1/5/10/20/40" in entry["summary"]


def two_communities(ctx, place):
    """阳光社区 (place): team 银发服务队 (its unit: 阳光社区) with 赵志强 (lives elsewhere);
    李秀英 lives in 阳光社区's 101, no team. 明月社区 with 第二网格 and room 201: team
    明月服务队 with 钱小红; 周杰 lives in 201, no team. 孙立: no team, no home (everywhere).
    Activities: 敬老院陪伴 at 阳光社区's 第一网格, 河道清理 at 明月社区, 便民服务日 (no unit)."""
    from shequ_desktop.places import grid, houses
    from shequ_desktop.population import households

    moon = grid.create_unit(ctx, place.street, "community", "明月社区").id
    moon_grid = grid.create_unit(ctx, moon, "grid", "第二网格").id
    building = grid.create_unit(ctx, moon_grid, "building", "8号楼").id
    house = houses.create_house(ctx, building, {"room_no": "201", "floor": 2}).id
    hh = households.create_household(ctx, house, {"name": "周杰",
                                                  "id_number": make_id("1975-02-03", seq=30)})
    sun_hh = households.create_household(ctx, place.house, {
        "name": "李秀英", "id_number": make_id("1972-03-08", "2", seq=31)})
    silver = volunteers.create_team(ctx, {"name": "银发服务队", "unit_id": place.community}).id
    bright = volunteers.create_team(ctx, {"name": "明月服务队", "unit_id": moon}).id
    ids = {"赵志强": person(ctx, "赵志强", seq=1),
           "钱小红": person(ctx, "钱小红", "1990-05-05", "2", seq=2),
           "孙立": person(ctx, "孙立", seq=3)}
    volunteers.update_volunteer(ctx, ids["赵志强"], {"team_id": silver})
    volunteers.update_volunteer(ctx, ids["钱小红"], {"team_id": bright})
    for name, change in (("周杰", hh), ("李秀英", sun_hh)):
        resident = change.changes[1].id
        ids[name] = volunteers.create_volunteer(ctx, {"joined_on": "2020-01-01"},
                                                resident_id=resident).id
    day = TODAY - dt.timedelta(days=1)
    acts = {}
    for title, unit in (("敬老院陪伴", place.grid), ("河道清理", moon), ("便民服务日", None)):
        acts[title] = va.create_activity(ctx, {
            "title": title, "category": "其他", "starts_at": f"{day} 09:00",
            "ends_at": f"{day} 11:00", "unit_id": unit}).id
    return {"people": ids, "acts": acts, "moon": moon, "moon_grid": moon_grid,
            "silver": silver, "bright": bright}


def test_the_register_and_sheets_follow_the_grid_tree(ctx, place):
    w = two_communities(ctx, place)

    def names(unit):
        return sorted(r["name"] for r in vp.hours_summary(ctx.conn, unit_id=unit))

    assert names(None) == names(place.street) == ["周杰", "孙立", "李秀英", "赵志强", "钱小红"]
    assert names(place.community) == ["孙立", "李秀英", "赵志强"]
    assert names(place.grid) == ["孙立", "李秀英"]          # the team hangs on the community
    assert names(w["moon_grid"]) == ["周杰", "孙立"]
    assert names(w["moon"]) == ["周杰", "孙立", "钱小红"]
    assert volunteers.community_of(ctx.conn, place.unit) == place.community
    assert volunteers.community_of(ctx.conn, place.street) == place.street
    assert [t["name"] for t in volunteers.teams(ctx.conn, place.grid)] == ["银发服务队"]
    titles = [a["title"] for a in va.list_activities(ctx.conn, unit_id=place.grid)]
    assert sorted(titles) == ["便民服务日", "敬老院陪伴"]
    local = {r["name"]: r["local"] for r in va.sheet(ctx.conn, w["acts"]["敬老院陪伴"])}
    assert local == {"赵志强": True, "钱小红": False, "孙立": True, "李秀英": True,
                     "周杰": False}
    assert all(r["local"] for r in va.sheet(ctx.conn, w["acts"]["便民服务日"]))
    assert volunteers.ids_in_scope(ctx.conn, w["moon"]) == {
        w["people"][n] for n in ("周杰", "孙立", "钱小红")}
