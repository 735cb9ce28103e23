"""Domain rules that once let bad data through: a leaving head naming themself, one ID number
registered twice, closing a household with members, focus groups after a move-out, visits
before a tag, events accepted before they were found, odd input, rolled-back savepoints."""
import datetime as dt

import pytest

from shequ_desktop.casework import events, visits
from shequ_desktop.population import residents, tags
from shequ_desktop.places import houses
from shequ_desktop.core import search
from shequ_desktop.reports.checks import run_checks
from shequ_desktop.core.errors import DomainError, ValidationError


def failing_checks(conn):
    return [r.key for r in run_checks(conn) if not r.ok]


def test_a_leaving_head_cannot_name_themself_as_new_head(ctx, family):
    _, ids = family
    with pytest.raises(DomainError, match="不能再任户主"):
        residents.move_out(ctx, ids["head"], "2026-03-01", new_head_id=ids["head"])
    assert ctx.get("residents", ids["head"])["status"] == "在册"
    assert failing_checks(ctx.conn) == []


def test_the_same_id_number_is_not_registered_twice(ctx, family):
    hh_id, ids = family
    taken = ctx.get("residents", ids["son"])["id_number"]
    with pytest.raises(ValidationError, match="已登记给在册人员王小明"):
        residents.add_member(ctx, hh_id, {"name": "王二", "id_number": taken}, "子")
    with pytest.raises(ValidationError, match="已登记给在册人员王小明"):
        residents.update_resident(ctx, ids["wife"], {"id_number": taken, "birth_date": None,
                                                     "gender": None})
    residents.move_out(ctx, ids["son"], "2026-01-01")       # gone: the number is free again
    residents.add_member(ctx, hh_id, {"name": "王小明", "id_number": taken}, "子")
    assert failing_checks(ctx.conn) == []


def test_a_household_with_a_member_is_not_closed(ctx, family):
    hh_id, _ = family
    with pytest.raises(DomainError, match="不能注销"):
        residents.close_household(ctx, hh_id)


def test_moving_out_or_dying_ends_focus_group_membership(ctx, family):
    _, ids = family
    tag = ctx.conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, ids["son"], tag, "2025-01-01")
    tags.assign_tag(ctx, ids["wife"], tag, "2025-01-01")
    residents.move_out(ctx, ids["son"], "2026-02-01")
    residents.record_death(ctx, ids["wife"], "2026-03-01")
    untils = dict(ctx.conn.execute("SELECT resident_id, until FROM resident_tags"))
    assert untils == {ids["son"]: "2026-02-01", ids["wife"]: "2026-03-01"}
    assert failing_checks(ctx.conn) == []


def test_a_visit_before_the_tag_does_not_make_a_new_member_overdue(ctx, family):
    _, ids = family
    disabled = ctx.conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    alone = ctx.conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    old = tags.assign_tag(ctx, ids["head"], disabled, "2019-01-01").id
    visits.record_visit(ctx, ids["head"], "2019-05-09", "入户", "测试员")
    tags.end_tag(ctx, old, "2019-12-31")
    tags.assign_tag(ctx, ids["head"], alone, "2026-11-01")
    row = next(r for r in visits.due(ctx.conn, dt.date(2026, 11, 3)) if r["resident_id"] == ids["head"])
    assert row["due_on"] == "2026-11-01" and row["days_overdue"] == 2


def test_an_event_cannot_be_accepted_before_it_was_found(ctx, place):
    category = ctx.conn.execute("SELECT id FROM event_categories LIMIT 1").fetchone()[0]
    event = events.report_event(ctx, place.grid, category, "单元门禁损坏", "2026-11-01", "测").id
    with pytest.raises(ValidationError, match="早于发现时间"):
        events.accept(ctx, event, 3, on="2020-01-02")
    with pytest.raises(ValidationError, match="日期"):
        events.accept(ctx, event, 3, on="abc")


def test_odd_input_gets_a_message_not_a_crash(ctx, place, family):
    hh_id, ids = family
    passport = residents.add_member(ctx, hh_id, {"name": "John", "id_type": "护照"}, "其他").id
    residents.update_resident(ctx, passport, {"id_number": "E1234567"})
    with pytest.raises(ValidationError, match="身份证号"):
        residents.update_resident(ctx, passport, {"id_type": "居民身份证"})
    with pytest.raises(ValidationError, match="至少为 1 天"):
        tags.create_tag(ctx, "困境儿童", 0)
    with pytest.raises(ValidationError, match="已有“低保”"):
        tags.update_tag(ctx, ctx.conn.execute("SELECT id FROM tags WHERE name = '特困'")
                        .fetchone()[0], {"name": "低保"})
    with pytest.raises(ValidationError, match="房屋用途：不能为空"):
        houses.update_house(ctx, place.house, {"usage": ""})
    with pytest.raises(DomainError, match="最多 10 个词"):
        search.clause(" ".join(["王"] * 3000))


def test_subscribers_never_hear_of_a_rolled_back_savepoint(ctx, family):
    _, ids = family
    heard = []
    ctx.subscribe(heard.append)
    with ctx.transaction():
        try:
            residents.update_resident(ctx, ids["son"], {"birth_date": "2001-09-02"})  # refused
        except ValidationError:
            pass
        try:
            with ctx.transaction():
                residents.update_resident(ctx, ids["son"], {"occupation": "学生"})
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        residents.update_resident(ctx, ids["wife"], {"occupation": "教师"})
    assert [(c.id, c.field) for c in heard[0]] == [(ids["wife"], "occupation")]
    assert ctx.get("residents", ids["son"])["occupation"] is None
