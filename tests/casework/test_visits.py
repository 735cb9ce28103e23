"""Focus-group visits (走访): recording, refusals, who is due, monthly figures — on real SQLite
files. Dates are relative to today, since a visit may not lie in the future."""
import datetime as dt
import json

import pytest

from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents, tags
from shequ_desktop.casework import visits
from shequ_desktop.core.errors import DomainError, ValidationError
from tests.conftest import TODAY, make_id


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def tag_id(conn, name: str) -> int:
    return conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]


def tag(ctx, resident_id: int, name: str, since_days_ago: int) -> int:
    return tags.assign_tag(ctx, resident_id, tag_id(ctx.conn, name), ago(since_days_ago)).id


def visit(ctx, resident_id: int, days_ago: int, method: str = "入户", **kw) -> int:
    return visits.record_visit(ctx, resident_id, ago(days_ago), method, "测试员", **kw).id


def visit_count(conn) -> int:
    return conn.execute("SELECT count(*) FROM visits").fetchone()[0]


def by_name(rows) -> dict:
    return {r["name"]: r for r in rows}


@pytest.fixture
def neighbour(ctx, place):
    """张伟, head of a household in room 102 of the same unit. Returns his resident id."""
    hh = households.create_household(ctx, place.house2, {
        "name": "张伟", "id_number": make_id("1940-01-02", "1", seq=41)})
    return ctx.get("households", hh.id)["head_resident_id"]


@pytest.fixture
def elsewhere(ctx, place):
    """刘芳 in another community of the same street (月亮社区 / 第九网格 / 9号楼 101)."""
    community = grid.create_unit(ctx, place.street, "community", "月亮社区").id
    g = grid.create_unit(ctx, community, "grid", "第九网格", code="G09").id
    building = grid.create_unit(ctx, g, "building", "9号楼").id
    house = houses.create_house(ctx, building, {"room_no": "101", "floor": 1}).id
    hh = households.create_household(ctx, house, {
        "name": "刘芳", "id_number": make_id("1938-04-04", "2", seq=43)})
    return ctx.get("households", hh.id)["head_resident_id"]


# --- who is due ------------------------------------------------------------------------------

def test_due_list_rows_and_order(ctx, family):
    _, p = family
    tag(ctx, p["head"], "低保", 100)             # 90 days, never visited: due from day 100 ago
    tag(ctx, p["wife"], "独居老人", 20)          # 7 days, visited 10 days ago: 3 days overdue
    visit(ctx, p["wife"], 10)
    tag(ctx, p["son"], "残疾人", 200)            # 30 days, visited 5 days ago: due in 25 days
    visit(ctx, p["son"], 5)

    rows = visits.due(ctx.conn, TODAY)
    assert [r["name"] for r in rows] == ["王建国", "李秀英"]
    head, wife = rows
    assert head == {
        "resident_id": p["head"], "name": "王建国", "household_id": family[0],
        "address": "阳光社区 1号楼1单元101", "grid": "第一网格", "community": "阳光社区",
        "tags": ["低保"], "interval_days": 90,
        "last_visit": None, "due_on": ago(100), "days_overdue": 100, "never_visited": True}
    assert (wife["last_visit"], wife["due_on"], wife["days_overdue"], wife["never_visited"]) == (
        ago(10), ago(3), 3, False)

    everyone = visits.due(ctx.conn, TODAY, include_not_due=True)
    assert [r["name"] for r in everyone] == ["王建国", "李秀英", "王小明"]
    assert everyone[2]["due_on"] == ago(-25) and everyone[2]["days_overdue"] == -25
    # due within 30 days takes the son in too
    assert len(visits.due(ctx.conn, TODAY, within_days=25)) == 3
    assert len(visits.due(ctx.conn, TODAY, within_days=24)) == 2


def test_never_visited_come_first_even_when_less_overdue(ctx, family):
    _, p = family
    tag(ctx, p["head"], "独居老人", 2)          # never visited, tag began 2 days ago
    tag(ctx, p["wife"], "独居老人", 400)
    visit(ctx, p["wife"], 300)                  # 293 days overdue, but was visited once
    rows = visits.due(ctx.conn, TODAY)
    assert [(r["name"], r["days_overdue"]) for r in rows] == [("王建国", 2), ("李秀英", 293)]


def test_most_overdue_first_among_the_visited(ctx, family):
    _, p = family
    for who, last in (("head", 10), ("wife", 40), ("son", 8)):
        tag(ctx, p[who], "独居老人", 100)
        visit(ctx, p[who], last)
    rows = visits.due(ctx.conn, TODAY)
    assert [r["days_overdue"] for r in rows] == [33, 3, 1]


def test_a_tag_added_later_with_a_shorter_interval_makes_the_visit_due_earlier(ctx, family):
    _, p = family
    tag(ctx, p["head"], "低保", 200)
    visit(ctx, p["head"], 20)
    assert visits.due(ctx.conn, TODAY) == []    # 低保: due in 70 days
    tag(ctx, p["head"], "独居老人", 10)          # 7 days from the same last visit
    [row] = visits.due(ctx.conn, TODAY)
    assert (row["interval_days"], row["due_on"], row["days_overdue"]) == (7, ago(13), 13)
    assert row["tags"] == ["独居老人", "低保"]   # in the tags' own order
    # as of a day before the new tag began, the 90-day interval still applied
    [before] = visits.due(ctx.conn, ago(15), include_not_due=True)
    assert (before["interval_days"], before["tags"], before["due_on"]) == (90, ["低保"], ago(-70))


def test_a_tag_ended_moves_the_due_date_out_then_drops_the_person(ctx, family):
    _, p = family
    alone = tag(ctx, p["head"], "独居老人", 100)
    poor = tag(ctx, p["head"], "低保", 100)
    visit(ctx, p["head"], 30)
    [row] = visits.due(ctx.conn, TODAY)
    assert (row["interval_days"], row["days_overdue"]) == (7, 23)

    tags.end_tag(ctx, alone, ago(1))            # no longer 独居老人 since yesterday
    assert visits.due(ctx.conn, TODAY) == []
    [row] = visits.due(ctx.conn, TODAY, include_not_due=True)
    assert (row["interval_days"], row["due_on"], row["tags"]) == (90, ago(-60), ["低保"])
    # the day the tag ended it was still active
    [then] = visits.due(ctx.conn, ago(1))
    assert then["interval_days"] == 7

    tags.end_tag(ctx, poor, ago(0))             # ends today: still active today …
    assert len(visits.due(ctx.conn, TODAY, include_not_due=True)) == 1
    tomorrow = TODAY + dt.timedelta(days=1)     # … and gone tomorrow
    assert visits.due(ctx.conn, tomorrow, include_not_due=True) == []


def test_a_tag_not_yet_begun_or_without_interval_is_not_due(ctx, family):
    _, p = family
    tag(ctx, p["head"], "独居老人", 20)
    assert visits.due(ctx.conn, ago(21), include_not_due=True) == []
    assert len(visits.due(ctx.conn, ago(20), include_not_due=True)) == 1
    plain = tags.create_tag(ctx, "志愿者骨干", None).id
    tags.assign_tag(ctx, p["wife"], plain, ago(50))
    assert [r["name"] for r in visits.due(ctx.conn, TODAY, include_not_due=True)] == ["王建国"]


def test_visits_on_the_same_day(ctx, family):
    _, p = family
    tag(ctx, p["head"], "独居老人", 30)
    first = visit(ctx, p["head"], 0, "电话")
    second = visit(ctx, p["head"], 0, "入户", findings="身体不错")
    [row] = visits.due(ctx.conn, TODAY, within_days=7)   # visited today: due in 7 days
    assert row["days_overdue"] == -7 and row["last_visit"] == ago(0)
    assert visits.due(ctx.conn, TODAY, within_days=6) == []
    # both kept; the later one first
    assert [v["id"] for v in visits.history(ctx.conn, p["head"])] == [second, first]
    # as of yesterday, today's visits had not happened yet
    [yesterday] = visits.due(ctx.conn, ago(1))
    assert yesterday["never_visited"] and yesterday["days_overdue"] == 29


def test_moved_out_residents_are_not_due(ctx, family):
    _, p = family
    tag(ctx, p["son"], "残疾人", 100)
    assert len(visits.due(ctx.conn, TODAY)) == 1
    residents.move_out(ctx, p["son"], ago(0), "外省市")
    assert visits.due(ctx.conn, TODAY, include_not_due=True) == []


def test_due_under_a_unit(ctx, family, elsewhere, place):
    _, p = family
    tag(ctx, p["head"], "独居老人", 30)
    tag(ctx, elsewhere, "高龄老人", 30)
    names = lambda unit: sorted(r["name"] for r in visits.due(ctx.conn, TODAY, unit))  # noqa
    assert names(None) == ["刘芳", "王建国"]
    assert names(place.street) == ["刘芳", "王建国"]      # a street: filtered after the join
    assert names(place.community) == ["王建国"]           # below: members picked first
    assert names(place.building) == ["王建国"]
    other_grid = ctx.conn.execute("SELECT id FROM grid_units WHERE code = 'G09'").fetchone()[0]
    [row] = visits.due(ctx.conn, TODAY, other_grid)
    assert (row["name"], row["address"], row["grid"]) == ("刘芳", "月亮社区 9号楼101", "第九网格")


# --- recording and refusals ------------------------------------------------------------------

def test_record_visit_stores_and_reports_the_change(ctx, family):
    _, p = family
    seen = []
    ctx.subscribe(seen.append)
    result = visits.record_visit(ctx, p["wife"], ago(2), "视频", " 张  网格 ",
                                 findings="  血压偏高 ", follow_up=True,
                                 follow_up_note="联系社区医生")
    row = dict(ctx.conn.execute("SELECT * FROM visits WHERE id = ?", (result.id,)).fetchone())
    assert {k: row[k] for k in ("resident_id", "visited_on", "method", "visitor", "findings",
                                "follow_up", "follow_up_note")} == {
        "resident_id": p["wife"], "visited_on": ago(2), "method": "视频", "visitor": "张 网格",
        "findings": "血压偏高", "follow_up": 1, "follow_up_note": "联系社区医生"}
    assert len(row["uuid"]) == 32 and row["version"] == 1
    [change] = result.changes
    assert (change.entity, change.id, change.action) == ("visits", result.id, "create")
    assert seen == [[change]]


@pytest.mark.parametrize("kwargs, field, message", [
    ({"visited_on": (TODAY + dt.timedelta(days=1)).isoformat()}, "visited_on", "晚于今天"),
    ({"visited_on": "1969-12-31"}, "visited_on", "早于王建国的出生日期 1970-05-06"),
    ({"visited_on": "2024-02-30"}, "visited_on", "不是有效日期"),
    ({"visited_on": ""}, "visited_on", "不能为空"),
    ({"method": "上门"}, "method", "不是可选的走访方式"),
    ({"method": None}, "method", "请选择走访方式"),
    ({"visitor": "   "}, "visitor", "不能为空"),
    ({"follow_up": True, "follow_up_note": " "}, "follow_up_note", "请写明跟进事项"),
])
def test_refusals_name_the_field(ctx, family, kwargs, field, message):
    _, p = family
    values = {"visited_on": ago(1), "method": "入户", "visitor": "测试员", **kwargs}
    with pytest.raises(ValidationError) as info:
        visits.record_visit(ctx, p["head"], **values)
    assert message in info.value.by_field()[field]
    assert visit_count(ctx.conn) == 0


def test_every_wrong_field_is_listed_at_once(ctx, family):
    _, p = family
    with pytest.raises(ValidationError) as info:
        visits.record_visit(ctx, p["head"], TODAY + dt.timedelta(days=3), "上门", "")
    assert set(info.value.by_field()) == {"visited_on", "method", "visitor"}
    assert "走访日期" in str(info.value)


def test_no_visit_for_someone_not_on_the_register(ctx, family):
    _, p = family
    residents.move_out(ctx, p["son"], ago(0), "外省市")
    with pytest.raises(ValidationError, match="王小明已迁出，不能登记走访") as info:
        visit(ctx, p["son"], 0)
    assert "resident_id" in info.value.by_field()
    assert visit_count(ctx.conn) == 0


def test_follow_up_note_dropped_without_follow_up(ctx, family):
    _, p = family
    vid = visit(ctx, p["head"], 0, follow_up=False, follow_up_note="不该保存")
    row = ctx.conn.execute("SELECT follow_up, follow_up_note FROM visits WHERE id = ?",
                           (vid,)).fetchone()
    assert tuple(row) == (0, None)


def test_batch_is_all_or_nothing(ctx, family):
    _, p = family
    residents.move_out(ctx, p["son"], ago(0), "外省市")
    seen = []
    ctx.subscribe(seen.append)
    with pytest.raises(ValidationError, match="王小明已迁出"):
        visits.record_visits(ctx, [p["head"], p["wife"], p["son"]], ago(0), "入户", "测试员")
    assert visit_count(ctx.conn) == 0 and seen == []
    with pytest.raises(ValidationError, match="请至少选择一位居民"):
        visits.record_visits(ctx, [], ago(0), "入户", "测试员")

    results = visits.record_visits(ctx, [p["head"], p["wife"], p["head"]], ago(0), "入户",
                                   "测试员", findings="楼栋走访")
    assert len(results) == 2                     # the repeated id counts once
    assert visit_count(ctx.conn) == 2
    assert len(seen) == 1 and [c.entity for c in seen[0]] == ["visits", "visits"]
    assert {r["resident_id"] for r in ctx.conn.execute("SELECT resident_id FROM visits")} == {
        p["head"], p["wife"]}


def test_batch_fails_whole_when_a_later_write_fails(ctx, family, monkeypatch):
    """A failure after the first insert (here: the second insert) rolls the first back."""
    _, p = family
    real_insert = ctx.insert
    calls = []

    def failing_insert(table, values):
        calls.append(table)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real_insert(table, values)

    monkeypatch.setattr(ctx, "insert", failing_insert)
    with pytest.raises(RuntimeError):
        visits.record_visits(ctx, [p["head"], p["wife"]], ago(0), "入户", "测试员")
    assert visit_count(ctx.conn) == 0


# --- history -----------------------------------------------------------------------------------

def test_history_newest_first_and_household_visits(ctx, family, neighbour):
    hh, p = family
    a = visit(ctx, p["head"], 30, "电话")
    b = visit(ctx, p["head"], 3, "入户", findings="家中整洁")
    c = visit(ctx, p["son"], 10, "视频")
    visit(ctx, neighbour, 1)
    assert [v["id"] for v in visits.history(ctx.conn, p["head"])] == [b, a]
    assert visits.history(ctx.conn, p["head"])[0]["findings"] == "家中整洁"
    assert [v["id"] for v in visits.history(ctx.conn, p["head"], limit=1)] == [b]
    assert [(v["id"], v["name"]) for v in visits.household_visits(ctx.conn, hh)] == [
        (b, "王建国"), (c, "王小明"), (a, "王建国")]
    assert visits.history(ctx.conn, p["wife"]) == []


# --- monthly figures ----------------------------------------------------------------------------

def test_month_figures_against_hand_counts(ctx, family, neighbour, elsewhere, place):
    _, p = family
    first = (TODAY.replace(day=1) - dt.timedelta(days=40)).replace(day=1)   # two months ago
    next_month = (first + dt.timedelta(days=32)).replace(day=1)
    last = next_month - dt.timedelta(days=1)
    day = lambda d, n=0: d + dt.timedelta(days=n)  # noqa: E731

    def assign(who, name, since):
        tags.assign_tag(ctx, who, tag_id(ctx.conn, name), since)

    def seen_on(who, when):
        visits.record_visit(ctx, who, when, "入户", "测试员")

    # 王建国 独居老人 (7): due 4 days into the month, visited on day 11 and 2 days before the end
    assign(p["head"], "独居老人", day(first, -60))
    seen_on(p["head"], day(first, -3))
    seen_on(p["head"], day(first, 10))
    seen_on(p["head"], day(last, -2))
    # 李秀英 低保 (90): visited 30 days before the month, not due in it; visited anyway
    assign(p["wife"], "低保", day(first, -200))
    seen_on(p["wife"], day(first, -30))
    seen_on(p["wife"], day(first, 1))
    # 王小明 残疾人 (30): never visited — due, not done, overdue at the end
    assign(p["son"], "残疾人", day(first, -100))
    # 张伟 高龄老人 (30): tag began 10 days before the month, visited on day 6
    assign(neighbour, "高龄老人", day(first, -10))
    seen_on(neighbour, day(first, 5))
    # 刘芳 in the other community: 独居老人 never visited; a visit after the month
    assign(elsewhere, "独居老人", day(first, -5))
    seen_on(elsewhere, day(next_month, 1))      # last month: counts for neither figure

    figures = visits.month_figures(ctx.conn, first.year, first.month)
    assert figures == {"year": first.year, "month": first.month,
                       "due": 4, "done": 2, "visits": 4, "overdue": 2}
    assert visits.month_figures(ctx.conn, first.year, first.month, place.grid) == {
        "year": first.year, "month": first.month, "due": 3, "done": 2, "visits": 4,
        "overdue": 1}
    empty_grid = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    assert visits.month_figures(ctx.conn, first.year, first.month, empty_grid) == {
        "year": first.year, "month": first.month, "due": 0, "done": 0, "visits": 0,
        "overdue": 0}
    with pytest.raises(DomainError, match="月份"):
        visits.month_figures(ctx.conn, 2024, 13)


# --- CLI records -------------------------------------------------------------------------------

def test_due_records_are_json_ready(ctx, family, elsewhere, place):
    _, p = family
    tag(ctx, p["head"], "独居老人", 30)
    visit(ctx, p["head"], 9)
    tag(ctx, elsewhere, "高龄老人", 40)
    grid.update_unit(ctx, place.grid, {"code": "G01"})

    records = visits.due_records(ctx.conn, TODAY.isoformat())
    assert json.loads(json.dumps(records, ensure_ascii=False)) == records
    assert records == [
        {"resident_id": elsewhere, "name": "刘芳", "address": "月亮社区 9号楼101", "community": "月亮社区",
         "grid": "第九网格",
         "tags": ["高龄老人"], "interval_days": 30, "last_visit": None, "due_on": ago(40),
         "days_overdue": 40, "never_visited": True},
        {"resident_id": p["head"], "name": "王建国", "address": "阳光社区 1号楼1单元101",
         "community": "阳光社区", "grid": "第一网格", "tags": ["独居老人"], "interval_days": 7,
         "last_visit": ago(9), "due_on": ago(2), "days_overdue": 2, "never_visited": False}]
    assert [r["name"] for r in visits.due_records(ctx.conn, TODAY, unit_code="G01")] == ["王建国"]
    assert [r["name"] for r in visits.due_records(ctx.conn, ago(10), unit_code="G09")] == ["刘芳"]
    assert visits.due_records(ctx.conn, ago(40), unit_code="G01") == []   # no tag yet
    with pytest.raises(DomainError, match="没有编码为“X99”的网格单元"):
        visits.due_records(ctx.conn, TODAY, unit_code="X99")
    with pytest.raises(DomainError, match="不是可识别的日期"):
        visits.due_records(ctx.conn, "下周一")


def test_address_names_the_compound(ctx, place):
    compound = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    building = grid.create_unit(ctx, compound, "building", "3号楼").id
    unit = grid.create_unit(ctx, building, "unit", "2单元").id
    house = houses.create_house(ctx, unit, {"room_no": "501", "floor": 5}).id
    hh = households.create_household(ctx, house, {
        "name": "孙丽", "id_number": make_id("1945-02-03", "2", seq=44)})
    tag(ctx, ctx.get("households", hh.id)["head_resident_id"], "独居老人", 3)
    [row] = visits.due(ctx.conn, TODAY, place.community)
    assert (row["address"], row["grid"], row["community"]) == (
        "阳光社区 幸福花园 3号楼2单元501", "第一网格", "阳光社区")
