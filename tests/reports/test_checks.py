"""Data-quality checks: each problem seeded into a real database, then counted and listed
exactly (and nothing else reported), and `shequ check` printing the same."""
import datetime as dt
import json

import pytest

from shequ_desktop.core import audit
from shequ_desktop.population import households, tags
from shequ_desktop.casework import visits
from shequ_desktop.reports.checks import ERROR, WARNING, Problem, open_target, run_checks
from shequ_desktop.cli.main import main
from tests.conftest import make_id

TODAY = dt.date.today()


def tag_id(conn, name):
    return conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]


def found(conn) -> dict[str, set]:
    """{check key: {(entity, id)}} of every check that found something."""
    return {r.key: {(p.entity, p.id) for p in r.problems} for r in run_checks(conn) if r.count}


def second_household(ctx, place, **head):
    hh = households.create_household(ctx, place.house2, {
        "name": "刘强", "id_number": make_id("1980-04-04", "1", seq=60), "phone": "13800001111",
        **head})
    return hh.id, hh.changes[1].id


def tagged(ctx, resident_id, name, since=None, visited=True):
    """A focus-group member with a phone, visited today unless told otherwise."""
    ctx.conn.execute("UPDATE residents SET phone = '13900002222' WHERE id = ?", (resident_id,))
    tags.assign_tag(ctx, resident_id, tag_id(ctx.conn, name), since or TODAY.isoformat())
    if visited:
        visits.record_visit(ctx, resident_id, TODAY, "入户", "张网格")


# Each case seeds one problem and returns what every check must find: {key: {(entity, id)}}.

def no_head(ctx, place, family):
    hh2, _ = second_household(ctx, place)
    ctx.conn.execute("UPDATE households SET head_resident_id = NULL WHERE id = ?", (hh2,))
    return {"household_without_head": {("households", hh2)}}


def head_elsewhere(ctx, place, family):
    hh_id, ids = family
    hh2, head2 = second_household(ctx, place)
    ctx.conn.execute("UPDATE households SET head_resident_id = ? WHERE id = ?", (ids["son"], hh2))
    return {"head_not_member": {("households", hh2)}}


def head_relation(ctx, place, family):
    _, ids = family
    ctx.conn.execute("UPDATE residents SET relation_to_head = '20' WHERE id = ?", (ids["head"],))
    return {"head_relation": {("residents", ids["head"])}}


def two_heads(ctx, place, family):
    hh_id, ids = family
    ctx.conn.execute("UPDATE residents SET relation_to_head = '02' WHERE id = ?", (ids["wife"],))
    return {"two_heads": {("households", hh_id)}}


def member_of_closed(ctx, place, family):
    hh2, head2 = second_household(ctx, place)
    ctx.conn.execute("UPDATE households SET status = '注销' WHERE id = ?", (hh2,))
    return {"active_in_closed_household": {("residents", head2)}}


def empty_household(ctx, place, family):
    cur = ctx.conn.execute("INSERT INTO households (house_id, household_no) VALUES (?, 'K9')",
                           (place.house2,))
    return {"empty_active_household": {("households", cur.lastrowid)},
            "household_without_head": {("households", cur.lastrowid)}}


def bad_ids(ctx, place, family):
    _, ids = family
    number = ctx.get("residents", ids["wife"])["id_number"]
    wrong = number[:17] + ("1" if number[17] != "1" else "2")
    ctx.conn.execute("UPDATE residents SET id_number = ? WHERE id = ?", (wrong, ids["wife"]))
    ctx.conn.execute("UPDATE residents SET id_number = '11010519700506' WHERE id = ?",
                     (ids["son"],))
    return {"id_invalid": {("residents", ids["wife"]), ("residents", ids["son"])}}


def id_birth_and_gender(ctx, place, family):
    _, ids = family
    ctx.conn.execute("UPDATE residents SET birth_date = '1970-05-07' WHERE id = ?", (ids["head"],))
    ctx.conn.execute("UPDATE residents SET gender = '1' WHERE id = ?", (ids["wife"],))
    return {"id_birth_date": {("residents", ids["head"])},
            "id_gender": {("residents", ids["wife"])}}


def duplicate_id(ctx, place, family):
    hh_id, ids = family
    number = ctx.get("residents", ids["son"])["id_number"]
    cur = ctx.conn.execute(
        "INSERT INTO residents (household_id, name, id_number, gender, birth_date, "
        "relation_to_head) VALUES (?, '王小明', ?, '1', '2001-09-01', '20')", (hh_id, number))
    return {"duplicate_id_number": {("residents", ids["son"]), ("residents", cur.lastrowid)}}


def two_households(ctx, place, family):
    _, ids = family
    number = ctx.get("residents", ids["wife"])["id_number"]
    hh2, head2 = second_household(ctx, place)
    twin = ctx.conn.execute(
        "INSERT INTO residents (household_id, name, id_number, gender, birth_date, "
        "relation_to_head) VALUES (?, '李秀英', ?, '2', '1972-03-08', '10')", (hh2, number))
    # Without ID numbers: the same name, birth date and gender in two households.
    a = ctx.conn.execute("INSERT INTO residents (household_id, name, gender, birth_date, "
                         "relation_to_head) VALUES (?, '无证', '1', '2019-01-01', '30')",
                         (family[0],)).lastrowid
    b = ctx.conn.execute("INSERT INTO residents (household_id, name, gender, birth_date, "
                         "relation_to_head) VALUES (?, '无证', '1', '2019-01-01', '30')",
                         (hh2,)).lastrowid
    return {"person_in_two_households": {("residents", ids["wife"]),
                                         ("residents", twin.lastrowid),
                                         ("residents", a), ("residents", b)}}


def missing_dates(ctx, place, family):
    _, ids = family
    ctx.conn.execute("UPDATE residents SET status = '迁出' WHERE id = ?", (ids["son"],))
    return {"status_dates": {("residents", ids["son"])}}


def tag_on_dead(ctx, place, family):
    _, ids = family
    tags.assign_tag(ctx, ids["son"], tag_id(ctx.conn, "残疾人"))
    ctx.conn.execute("UPDATE residents SET status = '死亡', death_date = ? WHERE id = ?",
                     (TODAY.isoformat(), ids["son"]))
    return {"tag_on_inactive": {("residents", ids["son"])}}


def levels_upside_down(ctx, place, family):
    ctx.conn.execute("UPDATE grid_units SET level = 'community' WHERE id = ?", (place.building,))
    return {"grid_level_order": {("grid_units", place.building)}}


def tags_against_age(ctx, place, family):
    _, ids = family
    tagged(ctx, ids["wife"], "高龄老人")          # born 1972
    tagged(ctx, ids["son"], "留守儿童")           # born 2001
    return {"elderly_tag_under_80": {("residents", ids["wife"])},
            "child_tag_over_16": {("residents", ids["son"])}}


def no_phone(ctx, place, family):
    _, ids = family
    tags.assign_tag(ctx, ids["wife"], tag_id(ctx.conn, "低保"))
    visits.record_visit(ctx, ids["wife"], TODAY, "电话", "张网格")
    tagged(ctx, ids["head"], "低保")             # has a phone: not listed
    return {"focus_without_phone": {("residents", ids["wife"])}}


def vacant_but_lived_in(ctx, place, family):
    ctx.conn.execute("UPDATE houses SET usage = '空置' WHERE id = ?", (place.house,))
    return {"vacant_house_with_residents": {("houses", place.house)}}


def too_old(ctx, place, family):
    _, ids = family
    ctx.conn.execute("UPDATE residents SET birth_date = '1900-01-01', id_number = NULL "
                     "WHERE id = ?", (ids["wife"],))
    return {"age_over_110": {("residents", ids["wife"])}}


def never_and_overdue(ctx, place, family):
    _, ids = family
    tagged(ctx, ids["wife"], "独居老人", visited=False)
    tagged(ctx, ids["son"], "独居老人", since="2020-01-01", visited=False)
    visits.record_visit(ctx, ids["son"], "2020-02-01", "入户", "张网格")
    tagged(ctx, ids["head"], "独居老人")          # visited today: neither
    return {"focus_never_visited": {("residents", ids["wife"])},
            "focus_visit_overdue": {("residents", ids["son"])}}


def audit_tampered(ctx, place, family):
    conn = ctx.conn
    first = audit.record(conn, "张三", "print", summary="打印台账")
    audit.record(conn, "张三", "export", summary="导出")
    conn.execute("DROP TRIGGER audit_log_no_update")
    conn.execute("UPDATE audit_log SET summary = '改过' WHERE id = ?", (first,))
    return {"audit_chain": {("audit_log", 0), ("audit_log", first)}}   # the trigger, the row


def dangling_reference(ctx, place, family):
    conn = ctx.conn
    conn.execute("PRAGMA foreign_keys = OFF")
    cur = conn.execute("INSERT INTO visits (resident_id, visited_on, method, visitor) "
                       "VALUES (99999, '2026-01-01', '入户', '某人')")
    conn.execute("PRAGMA foreign_keys = ON")
    return {"foreign_keys": {("visits", cur.lastrowid)}}


CASES = [no_head, head_elsewhere, head_relation, two_heads, member_of_closed, empty_household,
         bad_ids, id_birth_and_gender, duplicate_id, two_households, missing_dates, tag_on_dead,
         levels_upside_down, tags_against_age, no_phone, vacant_but_lived_in, too_old,
         never_and_overdue, audit_tampered, dangling_reference]


def test_a_clean_database_has_no_problem(ctx, family):
    results = run_checks(ctx.conn)
    assert [(r.key, r.examples) for r in results if r.count] == []
    assert all(r.ok for r in results)


@pytest.mark.parametrize("seed", CASES, ids=lambda f: f.__name__)
def test_each_problem_is_counted_and_listed_exactly(ctx, place, family, seed):
    expected = seed(ctx, place, family)
    assert found(ctx.conn) == expected
    results = {r.key: r for r in run_checks(ctx.conn)}
    for key, records in expected.items():
        assert results[key].count == len(records)


def test_errors_fail_and_warnings_do_not(ctx, place, family):
    results = {r.key: r for r in run_checks(ctx.conn)}
    assert results["household_without_head"].severity == ERROR
    assert results["audit_chain"].severity == ERROR
    assert results["age_over_110"].severity == WARNING
    too_old(ctx, place, family)
    assert all(r.ok for r in run_checks(ctx.conn))          # a warning passes
    two_heads(ctx, place, family)
    assert [r.key for r in run_checks(ctx.conn) if not r.ok] == ["two_heads"]


def test_a_problem_opens_the_record_to_fix(ctx, place, family):
    hh_id, ids = family
    conn = ctx.conn
    assert open_target(conn, Problem("residents", ids["son"], "")) == ("resident", ids["son"])
    assert open_target(conn, Problem("households", hh_id, "")) == ("household", hh_id)
    assert open_target(conn, Problem("houses", place.house, "")) == ("household", hh_id)
    assert open_target(conn, Problem("houses", place.house2, "")) is None      # empty room
    assert open_target(conn, Problem("audit_log", 1, "")) is None


def test_checks_report_progress_and_can_be_cancelled(ctx, family):
    from shequ_desktop.core.progress import Cancelled

    seen = []
    run_checks(ctx.conn, progress=lambda d, t: seen.append((d, t)))
    assert seen[0][0] == 0 and seen[-1][0] == seen[-1][1]
    with pytest.raises(Cancelled):
        run_checks(ctx.conn, progress=lambda d, t: d < 3)


# --- the command line ----------------------------------------------------------------------

def test_shequ_check_prints_the_same_checks(ctx, place, family, db_path, capsys):
    never_and_overdue(ctx, place, family)
    assert main(["check", "--db", str(db_path)]) == 0           # warnings only
    out = capsys.readouterr().out
    assert "提示  重点人员从未走访：1 处" in out and "全部检查通过，2 项提示" in out
    _, ids = family
    assert f"#{ids['wife']} 李秀英（独居老人）" in out

    two_heads(ctx, place, family)
    assert main(["check", "--db", str(db_path), "--json"]) == 1
    lines = {x["check"]: x for x in map(json.loads, capsys.readouterr().out.splitlines())}
    assert {r.key for r in run_checks(ctx.conn)} == set(lines)
    assert lines["two_heads"]["severity"] == "error" and lines["two_heads"]["count"] == 1
    assert lines["two_heads"]["records"][0]["entity"] == "households"
    assert lines["two_heads"]["records"][0]["id"] == family[0]
    assert lines["focus_visit_overdue"]["records"] == [
        {"entity": "residents", "id": ids["son"],
         "detail": lines["focus_visit_overdue"]["records"][0]["detail"]}]
    assert "逾期" in lines["focus_visit_overdue"]["records"][0]["detail"]


def test_shequ_check_limits_what_it_lists(ctx, place, family, db_path, capsys):
    two_households(ctx, place, family)
    assert main(["check", "--db", str(db_path), "--limit", "1"]) == 1
    out = capsys.readouterr().out
    assert "失败  同一人同时在两户在册：4 处" in out and "另有 3 处" in out
    assert "1 项检查未通过" in out
