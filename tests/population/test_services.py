import datetime as dt

import pytest

from shequ_desktop.core import tree
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents, tags
from shequ_desktop.reports.checks import run_checks
from shequ_desktop.core.context import Change
from shequ_desktop.core.errors import DomainError, NotFoundError, ValidationError
from tests.conftest import make_id

TOMORROW = (dt.date.today() + dt.timedelta(days=1)).isoformat()


def all_checks_pass(conn):
    failed = [(r.key, r.examples) for r in run_checks(conn) if not r.ok]
    assert failed == []


# --- grid tree ------------------------------------------------------------------------------

def test_grid_levels_must_go_down(ctx, place):
    with pytest.raises(DomainError, match="不能放在"):
        grid.create_unit(ctx, place.grid, "community", "错层社区")
    with pytest.raises(DomainError, match="必须属于上级"):
        grid.create_unit(ctx, None, "grid", "孤立网格")
    # a building may hang directly on a grid (no compound)
    assert grid.create_unit(ctx, place.grid, "building", "2号楼").id


def test_sibling_names_are_unique(ctx, place):
    with pytest.raises(ValidationError, match="已有“第一网格”"):
        grid.create_unit(ctx, place.community, "grid", "第一网格")


def test_rename_reports_the_change(ctx, place):
    result = grid.rename_unit(ctx, place.grid, "第一网格（东）")
    assert result.changes == [Change("grid_units", place.grid, "update", "name",
                                     "第一网格", "第一网格（东）")]
    assert tree.path_names(ctx.conn, place.unit) == [
        "幸福街道", "阳光社区", "第一网格（东）", "1号楼", "1单元"]


def test_move_unit_and_refuse_cycles(ctx, place):
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    grid.move_unit(ctx, place.building, other)
    assert tree.ancestors(ctx.conn, place.unit)[:3] == [place.unit, place.building, other]
    with pytest.raises(DomainError, match="它自己或它的下级"):
        grid.move_unit(ctx, place.community, place.unit)


def test_delete_only_when_empty(ctx, place):
    with pytest.raises(DomainError, match="不能删除"):
        grid.delete_unit(ctx, place.unit)
    empty = grid.create_unit(ctx, place.grid, "building", "空楼").id
    result = grid.delete_unit(ctx, empty)
    assert result.changes[0].action == "delete"
    with pytest.raises(NotFoundError):
        ctx.get("grid_units", empty)


def test_descendants_cover_the_subtree(ctx, place):
    assert set(tree.descendants(ctx.conn, place.grid)) == {place.grid, place.building, place.unit}


# --- houses ---------------------------------------------------------------------------------

def test_house_rules(ctx, place):
    with pytest.raises(DomainError, match="只能登记在楼栋或单元下"):
        houses.create_house(ctx, place.grid, {"room_no": "1"})
    with pytest.raises(ValidationError, match="已有房号“101”"):
        houses.create_house(ctx, place.unit, {"room_no": "101"})
    with pytest.raises(ValidationError, match="房屋用途"):
        houses.update_house(ctx, place.house, {"usage": "仓库"})
    result = houses.update_house(ctx, place.house, {"usage": "出租", "area": "89.5"})
    assert {(c.field, c.new) for c in result.changes} == {("usage", "出租"), ("area", 89.5)}


# --- households and residents ---------------------------------------------------------------

def test_new_household_has_exactly_one_head(ctx, family):
    hh_id, ids = family
    hh = ctx.get("households", hh_id)
    assert hh["head_resident_id"] == ids["head"]
    rel = {r["name"]: r["relation_to_head"] for r in households.members(ctx, hh_id)}
    assert rel == {"王建国": "02", "李秀英": "12", "王小明": "20"}
    all_checks_pass(ctx.conn)


def test_a_second_head_is_refused(ctx, family):
    hh_id, _ = family
    with pytest.raises(ValidationError, match="户内已有户主"):
        residents.add_member(ctx, hh_id, {"name": "王二"}, "户主")


def test_set_head_swaps_relations(ctx, family):
    hh_id, ids = family
    result = residents.set_head(ctx, hh_id, ids["wife"], old_head_relation="夫")
    assert ctx.get("households", hh_id)["head_resident_id"] == ids["wife"]
    assert ctx.get("residents", ids["wife"])["relation_to_head"] == "02"
    assert ctx.get("residents", ids["head"])["relation_to_head"] == "11"
    assert {(c.entity, c.field) for c in result.changes} == {
        ("residents", "relation_to_head"), ("households", "head_resident_id"),
        ("resident_events", None)}
    all_checks_pass(ctx.conn)


def test_update_bumps_version_and_reports_old_and_new(ctx, family):
    _, ids = family
    before = ctx.get("residents", ids["son"])
    result = residents.update_resident(ctx, ids["son"], {"phone": "13700001111",
                                                         "name": "王晓明"})
    after = ctx.get("residents", ids["son"])
    assert after["version"] == before["version"] + 1
    assert after["updated_at"] > before["updated_at"]
    assert after["name_initials"] == "wxm"
    assert ("phone", None, "13700001111") in {(c.field, c.old, c.new) for c in result.changes}


def test_unchanged_update_writes_nothing(ctx, family):
    _, ids = family
    before = ctx.get("residents", ids["son"])
    assert residents.update_resident(ctx, ids["son"], {"name": "王小明"}).changes == []
    assert ctx.get("residents", ids["son"])["version"] == before["version"]


def test_status_is_changed_only_by_its_actions(ctx, family):
    _, ids = family
    with pytest.raises(DomainError, match="专门的操作"):
        residents.update_resident(ctx, ids["son"], {"status": "死亡"})


def test_invalid_update_changes_nothing(ctx, family):
    _, ids = family
    with pytest.raises(ValidationError, match="出生日期"):
        residents.update_resident(ctx, ids["son"], {"birth_date": "2001-09-02"})
    assert ctx.get("residents", ids["son"])["birth_date"] == "2001-09-01"


def test_head_cannot_leave_without_a_successor(ctx, family):
    _, ids = family
    with pytest.raises(DomainError, match="请先指定新户主"):
        residents.move_out(ctx, ids["head"], "2026-03-02", "某社区")
    assert ctx.get("residents", ids["head"])["status"] == "在册"


def test_move_out_keeps_the_record_and_hands_over_the_head(ctx, family):
    hh_id, ids = family
    residents.move_out(ctx, ids["head"], "2026-03-02", "朝阳区某社区", new_head_id=ids["wife"])
    gone = ctx.get("residents", ids["head"])
    assert (gone["status"], gone["moved_out_at"], gone["moved_out_to"]) == \
        ("迁出", "2026-03-02", "朝阳区某社区")
    assert ctx.get("households", hh_id)["head_resident_id"] == ids["wife"]
    all_checks_pass(ctx.conn)


def test_death_with_dates_checked(ctx, family):
    _, ids = family
    with pytest.raises(ValidationError, match="晚于今天"):
        residents.record_death(ctx, ids["son"], TOMORROW)
    with pytest.raises(ValidationError, match="早于出生日期"):
        residents.record_death(ctx, ids["son"], "2000-01-01")
    residents.record_death(ctx, ids["son"], "2026.1.5")
    assert ctx.get("residents", ids["son"])["death_date"] == "2026-01-05"
    with pytest.raises(DomainError, match="状态是“死亡”"):
        residents.move_out(ctx, ids["son"])


def test_last_member_leaving_closes_the_household(ctx, place, family):
    hh_id, ids = family
    other = households.create_household(ctx, place.house2, {
        "name": "赵敏", "id_number": make_id("1988-01-01", "2", seq=40)})
    residents.move_to_household(ctx, ids["son"], other.id, "其他")
    residents.move_to_household(ctx, ids["wife"], other.id, "其他")
    residents.move_out(ctx, ids["head"], "2026-01-01")
    assert ctx.get("households", hh_id)["status"] == "注销"
    assert len(households.members(ctx, other.id)) == 3
    all_checks_pass(ctx.conn)


def test_history_stays_visible(ctx, place, family):
    _, ids = family
    other = households.create_household(ctx, place.house2, {
        "name": "赵敏", "id_number": make_id("1988-01-01", "2", seq=40)})
    residents.move_to_household(ctx, ids["son"], other.id, "其他", "2025-05-01")
    residents.move_out(ctx, ids["son"], "2026-03-02", "朝阳区某社区")
    lines = residents.history(ctx, ids["son"])
    assert lines[1:] == ["2025-05-01 户间迁移 阳光社区 1号楼1单元102（原 阳光社区 1号楼1单元101）",
                         "2026-03-02 迁出 → 朝阳区某社区"]
    assert lines[0].endswith("迁入 阳光社区 1号楼1单元101")


def test_move_household_to_another_room(ctx, place, family):
    hh_id, _ = family
    result = households.move_household(ctx, hh_id, place.house2)
    assert residents.household_address(ctx, hh_id) == "阳光社区 1号楼1单元102"
    assert result.changes[0].old == place.house and result.changes[0].new == place.house2


# --- the write path --------------------------------------------------------------------------

def test_subscribers_hear_once_per_commit_and_never_on_rollback(ctx, family):
    hh_id, ids = family
    heard = []
    ctx.subscribe(heard.append)
    residents.move_out(ctx, ids["head"], "2026-03-02", new_head_id=ids["wife"])
    assert len(heard) == 1
    assert {(c.entity, c.id, c.field) for c in heard[0] if c.entity != "resident_events"} == {
        ("residents", ids["head"], "relation_to_head"), ("residents", ids["wife"],
                                                          "relation_to_head"),
        ("households", hh_id, "head_resident_id"),
        ("residents", ids["head"], "status"), ("residents", ids["head"], "moved_out_at")}
    with pytest.raises(DomainError):
        residents.move_out(ctx, ids["wife"], "2026-03-02")  # head with a member left
    assert len(heard) == 1


def test_writes_outside_a_transaction_are_refused(ctx):
    with pytest.raises(RuntimeError, match="transaction"):
        ctx.insert("settings", {"key": "a"})


# --- tags ------------------------------------------------------------------------------------

def test_tag_assignment_with_since_and_until(ctx, family):
    _, ids = family
    tag = ctx.conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    rt = tags.assign_tag(ctx, ids["son"], tag, "2024-01-01").id
    with pytest.raises(DomainError, match="已在“残疾人”中"):
        tags.assign_tag(ctx, ids["son"], tag)
    assert [t["name"] for t in tags.active_tags(ctx, ids["son"])] == ["残疾人"]
    with pytest.raises(ValidationError, match="早于开始日期"):
        tags.end_tag(ctx, rt, "2023-12-31")
    tags.end_tag(ctx, rt, "2025-06-30")
    assert tags.active_tags(ctx, ids["son"]) == []
    tags.assign_tag(ctx, ids["son"], tag, "2025-08-01")  # may join again later
    assert len(tags.active_tags(ctx, ids["son"])) == 1


def test_new_tag_and_interval_validation(ctx):
    tid = tags.create_tag(ctx, "困境儿童", 30).id
    assert ctx.get("tags", tid)["visit_interval_days"] == 30
    with pytest.raises(ValidationError, match="已有"):
        tags.create_tag(ctx, "困境儿童")
    with pytest.raises(ValidationError, match="不能为负数"):
        tags.update_tag(ctx, tid, {"visit_interval_days": -3})


def test_second_editor_is_refused_with_what_changed(ctx, db_path, family):
    import db
    from shequ_desktop.core.context import Context
    from shequ_desktop.core.errors import ConflictError

    _, ids = family
    read_by_first = ctx.get("residents", ids["son"])
    other = Context(db.open_db(db_path), "另一位网格员")   # a second process
    residents.update_resident(other, ids["son"], {"phone": "13700001111"},
                              expected=other.get("residents", ids["son"]))
    with pytest.raises(ConflictError, match="已被他人修改.*联系电话（空 → 13700001111）") as err:
        residents.update_resident(ctx, ids["son"], {"occupation": "教师"},
                                  expected=read_by_first)
    assert err.value.changed == {"phone": (None, "13700001111")}
    assert ctx.get("residents", ids["son"])["occupation"] is None


def test_unit_counts_roll_up_the_tree(ctx, place, family):
    households.create_household(ctx, place.house2, {"name": "赵敏"})
    counts = tree.unit_counts(ctx.conn)
    assert counts[place.unit] == (2, 4)
    assert counts[place.street] == (2, 4)
    empty = grid.create_unit(ctx, place.grid, "building", "空楼").id
    assert tree.unit_counts(ctx.conn)[empty] == (0, 0)
    assert tree.child_levels("grid") == ["compound", "building", "unit"]
    assert tree.child_levels(None) == ["street", "community"]


def test_move_targets_are_higher_levels_outside_the_subtree(ctx, place):
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    targets = dict(tree.move_targets(ctx.conn, place.building))
    assert targets == {place.street: "幸福街道", place.community: "幸福街道 / 阳光社区",
                       other: "幸福街道 / 阳光社区 / 第二网格"}
    assert place.unit not in dict(tree.move_targets(ctx.conn, place.grid))


def test_missing_relation_is_reported_with_the_other_errors(ctx, family):
    hh_id, _ = family
    with pytest.raises(ValidationError) as err:
        residents.add_member(ctx, hh_id, {"name": "", "phone": "123"}, None)
    assert set(err.value.by_field()) == {"name", "phone", "relation_to_head"}


def test_grid_of_a_unit(ctx, place):
    assert tree.grid_of(ctx.conn, place.unit) == place.grid
    assert tree.grid_of(ctx.conn, place.grid) == place.grid
    assert tree.grid_of(ctx.conn, place.community) is None
