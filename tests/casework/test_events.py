"""Events through the closed loop, their log, deadlines in working days, overdue and the
monthly figures, and the categories: real SQLite files through the services."""
import datetime as dt
import json

import pytest

from shequ_desktop.casework import events
from shequ_desktop.places import grid
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, NotFoundError, ValidationError

D = dt.date
TODAY = dt.date.today()


FOUND = dt.date(2026, 1, 5)     # early enough for every acceptance date the tests use


def category(conn, name="安全隐患"):
    return conn.execute("SELECT id FROM event_categories WHERE name = ?", (name,)).fetchone()[0]


def report(ctx, unit_id, description="楼道堆放杂物", found_at=None, name="安全隐患", **kw):
    return events.report_event(ctx, unit_id, category(ctx.conn, name), description,
                               found_at or FOUND, kw.pop("reporter", ctx.user), **kw).id


def status(conn, event_id):
    return conn.execute("SELECT status FROM events WHERE id = ?", (event_id,)).fetchone()[0]


def transitions(conn, event_id):
    return [(r["action"], r["from_status"], r["to_status"]) for r in events.log(conn, event_id)]


@pytest.fixture
def event_id(ctx, place):
    return report(ctx, place.unit)


# --- the loop ----------------------------------------------------------------------------------

def test_report_writes_the_event_and_a_log_line(ctx, place, family):
    hh_id, ids = family
    result = events.report_event(
        ctx, place.unit, category(ctx.conn, "矛盾纠纷"), "  邻里噪音\n纠纷 ", "2026/3/2",
        "张网格", location="1单元3楼", household_id=hh_id, resident_id=ids["head"])
    row = ctx.get("events", result.id)
    assert (row["status"], row["found_at"], row["description"], row["reporter"]) == (
        "上报", "2026-03-02", "邻里噪音\n纠纷", "张网格")
    assert (row["household_id"], row["resident_id"], row["location"]) == (
        hh_id, ids["head"], "1单元3楼")
    assert [(c.entity, c.action) for c in result.changes] == [
        ("events", "create"), ("event_log", "create")]
    (line,) = events.log(ctx.conn, result.id)
    assert (line["user"], line["action"], line["from_status"], line["to_status"]) == (
        "测试员", "上报", None, "上报")
    assert line["at"][:10] == TODAY.isoformat()


def test_report_refuses_bad_input(ctx, place):
    with pytest.raises(ValidationError) as err:
        events.report_event(ctx, place.unit, category(ctx.conn), " ", TODAY + dt.timedelta(1),
                            "")
    assert set(err.value.by_field()) == {"description", "reporter", "found_at"}
    assert "晚于今天" in err.value.by_field()["found_at"]
    with pytest.raises(NotFoundError, match="找不到事件类别"):
        events.report_event(ctx, place.unit, 999, "x", TODAY, "张")
    with pytest.raises(NotFoundError, match="找不到网格单元"):
        events.report_event(ctx, 999, category(ctx.conn), "x", TODAY, "张")
    assert ctx.conn.execute("SELECT count(*) FROM events").fetchone()[0] == 0


def test_the_whole_loop_with_its_log(ctx, event_id):
    other = Context(ctx.conn, "李主任")
    events.accept(other, event_id, 5, "转物业", on=D(2026, 3, 2))
    row = ctx.get("events", event_id)
    assert (row["status"], row["accepted_at"], row["deadline_days"], row["deadline"]) == (
        "受理", "2026-03-02", 5, "2026-03-09")
    events.start(ctx, event_id, "已通知物业清理")
    assert status(ctx.conn, event_id) == "处置中"
    events.close(ctx, event_id, "杂物已清理，通道畅通", on=D(2026, 3, 5))
    row = ctx.get("events", event_id)
    assert (row["status"], row["resolution"], row["closed_at"]) == (
        "办结", "杂物已清理，通道畅通", "2026-03-05")
    events.archive(ctx, event_id)
    assert status(ctx.conn, event_id) == "归档"

    lines = events.log(ctx.conn, event_id)
    assert transitions(ctx.conn, event_id) == [
        ("上报", None, "上报"), ("受理", "上报", "受理"), ("处置", "受理", "处置中"),
        ("办结", "处置中", "办结"), ("归档", "办结", "归档")]
    assert [line["user"] for line in lines] == ["测试员", "李主任", "测试员", "测试员", "测试员"]
    assert lines[1]["note"] == "期限 5 个工作日，至 2026-03-09；转物业"
    assert lines[2]["note"] == "已通知物业清理"
    assert lines[3]["note"] == "杂物已清理，通道畅通"
    assert all(line["at"] for line in lines)


def test_a_transition_reports_its_changes(ctx, event_id):
    result = events.accept(ctx, event_id, 3, on=D(2026, 3, 2))
    fields = {(c.entity, c.field) for c in result.changes}
    assert {("events", "status"), ("events", "deadline"), ("event_log", None)} <= fields
    assert result.id == event_id


@pytest.mark.parametrize("do, message", [
    (lambda ctx, i: events.start(ctx, i, "x"), "事件当前为“上报”，需先受理，才能处置"),
    (lambda ctx, i: events.close(ctx, i, "已解决"), "事件当前为“上报”，需先受理，才能办结"),
    (lambda ctx, i: events.archive(ctx, i), "事件当前为“上报”，需先受理，才能归档"),
])
def test_a_jump_over_a_step_is_refused(ctx, event_id, do, message):
    with pytest.raises(DomainError, match=message):
        do(ctx, event_id)
    assert status(ctx.conn, event_id) == "上报"
    assert len(events.log(ctx.conn, event_id)) == 1       # the refusal wrote nothing


def test_later_jumps_and_repeats_are_refused(ctx, event_id):
    events.accept(ctx, event_id, 5)
    with pytest.raises(DomainError, match="需先处置，才能办结"):
        events.close(ctx, event_id, "已解决")
    with pytest.raises(DomainError, match="事件已是“受理”，不能再受理"):
        events.accept(ctx, event_id, 5)
    events.start(ctx, event_id, None)
    with pytest.raises(DomainError, match="事件当前为“处置中”，不能再受理"):
        events.accept(ctx, event_id, 5)
    with pytest.raises(DomainError, match="需先办结，才能归档"):
        events.archive(ctx, event_id)


def test_close_without_a_resolution_is_refused(ctx, event_id):
    events.accept(ctx, event_id, 5)
    events.start(ctx, event_id, "处理中")
    for empty in (None, "", "  \n "):
        with pytest.raises(ValidationError, match="办结必须填写处置结果") as err:
            events.close(ctx, event_id, empty)
        assert err.value.by_field() == {"resolution": "办结必须填写处置结果，不能为空"}
    assert status(ctx.conn, event_id) == "处置中"
    assert ctx.get("events", event_id)["closed_at"] is None


def test_send_back_goes_one_step_back_and_undoes_the_step(ctx, event_id):
    events.accept(ctx, event_id, 5, on=D(2026, 3, 2))
    events.start(ctx, event_id, "开始")
    events.close(ctx, event_id, "已解决", on=D(2026, 3, 4))

    events.send_back(ctx, event_id, "居民反映仍未清理")
    row = ctx.get("events", event_id)
    assert (row["status"], row["closed_at"], row["resolution"]) == ("处置中", None, None)
    events.send_back(ctx, event_id, "需重新派单")
    assert status(ctx.conn, event_id) == "受理"
    events.send_back(ctx, event_id, "不属本网格，重新受理")
    row = ctx.get("events", event_id)
    assert (row["status"], row["accepted_at"], row["deadline"], row["deadline_days"]) == (
        "上报", None, None, None)
    assert transitions(ctx.conn, event_id)[-3:] == [
        ("退回", "办结", "处置中"), ("退回", "处置中", "受理"), ("退回", "受理", "上报")]
    assert events.log(ctx.conn, event_id)[-1]["note"] == "不属本网格，重新受理"
    # and the loop can go on again
    events.accept(ctx, event_id, 2, on=D(2026, 3, 6))
    assert ctx.get("events", event_id)["deadline"] == "2026-03-10"


def test_send_back_refusals(ctx, event_id):
    with pytest.raises(DomainError, match="已是第一步，不能退回"):
        events.send_back(ctx, event_id, "理由")
    events.accept(ctx, event_id, 5)
    for empty in (None, "", "   "):
        with pytest.raises(ValidationError, match="退回必须说明原因"):
            events.send_back(ctx, event_id, empty)
    events.start(ctx, event_id, "x")
    events.close(ctx, event_id, "已解决")
    events.archive(ctx, event_id)
    with pytest.raises(DomainError, match="事件已归档，不能退回"):
        events.send_back(ctx, event_id, "理由")
    with pytest.raises(DomainError, match="事件已归档，不能再办结"):
        events.close(ctx, event_id, "再办一次")
    assert status(ctx.conn, event_id) == "归档"


@pytest.mark.parametrize("do", [
    lambda ctx: events.accept(ctx, 999, 5),
    lambda ctx: events.start(ctx, 999, "x"),
    lambda ctx: events.close(ctx, 999, "x"),
    lambda ctx: events.archive(ctx, 999),
    lambda ctx: events.send_back(ctx, 999, "x"),
    lambda ctx: events.add_note(ctx, 999, "x"),
])
def test_acting_on_an_unknown_event_is_refused(ctx, place, do):
    with pytest.raises(NotFoundError, match=r"找不到事件（编号 999）"):
        do(ctx)
    assert ctx.conn.execute("SELECT count(*) FROM event_log").fetchone()[0] == 0


def test_accept_checks_the_deadline_days(ctx, event_id):
    for bad in (0, -1, "abc", None, 366, "2.5"):
        with pytest.raises(ValidationError, match="办理期限"):
            events.accept(ctx, event_id, bad)
    with pytest.raises(ValidationError, match="晚于今天"):
        events.accept(ctx, event_id, 5, on=TODAY + dt.timedelta(days=1))
    events.accept(ctx, event_id, "７")        # a full-width digit from a Chinese IME
    assert ctx.get("events", event_id)["deadline_days"] == 7


def test_close_cannot_predate_the_acceptance(ctx, event_id):
    events.accept(ctx, event_id, 5, on=D(2026, 3, 2))
    events.start(ctx, event_id, "x")
    with pytest.raises(ValidationError, match="早于受理日期 2026-03-02"):
        events.close(ctx, event_id, "已解决", on=D(2026, 3, 1))


def test_add_note_keeps_the_status(ctx, event_id):
    result = events.add_note(ctx, event_id, "电话联系物业，明日处理")
    assert [(c.entity, c.action) for c in result.changes] == [("event_log", "create")]
    assert transitions(ctx.conn, event_id)[-1] == ("备注", "上报", "上报")
    with pytest.raises(ValidationError, match="备注"):
        events.add_note(ctx, event_id, " ")


def test_a_rolled_back_transition_leaves_no_log_line(ctx, event_id, monkeypatch):
    def boom(*args, **kw):
        raise RuntimeError("disk full")
    monkeypatch.setattr(events, "_now", boom)
    with pytest.raises(RuntimeError):
        events.accept(ctx, event_id, 5)
    assert status(ctx.conn, event_id) == "上报"
    assert len(events.log(ctx.conn, event_id)) == 1


# --- deadlines across the holidays, through accept() ----------------------------------------

@pytest.mark.parametrize("accepted, days, deadline", [
    (D(2026, 2, 13), 3, "2026-02-25"),    # 02-14 调休 Saturday, then 02-24, 02-25
    (D(2026, 2, 13), 6, "2026-02-28"),    # up to the second 调休 Saturday
    (D(2026, 9, 30), 3, "2026-10-10"),    # 10-08, 10-09, 10-10 调休 Saturday
    (D(2026, 9, 30), 5, "2026-10-13"),
])
def test_deadline_across_spring_festival_and_national_day(ctx, event_id, accepted, days,
                                                          deadline):
    events.accept(ctx, event_id, days, on=accepted)
    assert ctx.get("events", event_id)["deadline"] == deadline
    assert events.log(ctx.conn, event_id)[-1]["note"] == (
        f"期限 {days} 个工作日，至 {deadline}")


# --- overdue, lists and figures -------------------------------------------------------------

@pytest.fixture
def ledger(ctx, place):
    """Hand-made events in two grids (first grid: place; second grid: its own building).

    a: accepted 2026-03-02, 3 days → deadline 03-05, closed 03-05 (on time)
    b: accepted 2026-03-02, 3 days → deadline 03-05, closed 03-10 (late)
    c: accepted 2026-03-02, 3 days → deadline 03-05, still 处置中 (overdue from 03-06)
    d: accepted 2026-03-16, 10 days → deadline 03-30, 受理 (overdue only from 03-31)
    e: reported 2026-03-20, not accepted (no deadline, never overdue)
    f: second grid, found 2026-02-20, accepted 02-24, 2 days → 02-26, still open
    """
    second = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    building2 = grid.create_unit(ctx, second, "building", "8号楼").id
    ids = {}
    for key, unit, found in (("a", place.unit, "2026-03-01"), ("b", place.building, "2026-03-01"),
                             ("c", place.unit, "2026-03-02"), ("d", place.grid, "2026-03-15"),
                             ("e", place.unit, "2026-03-20"), ("f", building2, "2026-02-20")):
        ids[key] = report(ctx, unit, f"事件{key}", found_at=found,
                          name="环境卫生" if key in "af" else "安全隐患")
    for key in "abc":
        events.accept(ctx, ids[key], 3, on=D(2026, 3, 2))
        events.start(ctx, ids[key], "处置")
    events.close(ctx, ids["a"], "已解决", on=D(2026, 3, 5))
    events.close(ctx, ids["b"], "已解决", on=D(2026, 3, 10))
    events.accept(ctx, ids["d"], 10, on=D(2026, 3, 16))
    events.accept(ctx, ids["f"], 2, on=D(2026, 2, 24))
    ids["second"] = second
    return ids


def test_overdue_is_open_and_past_the_deadline(ctx, ledger):
    rows = {r["description"]: r for r in events.list_events(ctx.conn, on="2026-03-20")}
    assert {k for k, r in rows.items() if r["overdue"]} == {"事件c", "事件f"}
    assert rows["事件c"]["overdue_days"] == 15           # 03-05 → 03-20
    assert rows["事件c"]["days_open"] == 18              # found 03-02
    assert rows["事件b"]["overdue"] is False and rows["事件b"]["overdue_days"] == 5  # closed late
    assert rows["事件a"]["overdue_days"] == 0 and rows["事件a"]["days_open"] == 4
    assert rows["事件d"]["deadline"] == "2026-03-30" and not rows["事件d"]["overdue"]
    assert rows["事件e"]["deadline"] is None and not rows["事件e"]["overdue"]
    # on the deadline itself an event is not overdue yet; the day after it is
    overdue_on = lambda day: {r["description"] for r in   # noqa: E731
                              events.list_events(ctx.conn, overdue=True, on=day)}
    assert overdue_on("2026-03-05") == {"事件f"}
    assert overdue_on("2026-03-06") == {"事件c", "事件f"}
    assert overdue_on("2026-03-31") == {"事件c", "事件d", "事件f"}
    not_overdue = {r["description"] for r in events.list_events(ctx.conn, overdue=False,
                                                                 on="2026-03-31")}
    assert not_overdue == {"事件a", "事件b", "事件e"}


def test_list_filters_and_order(ctx, place, ledger):
    rows = events.list_events(ctx.conn, on="2026-03-20")
    # open first (awaiting acceptance, then by deadline), then the closed ones
    assert [r["description"] for r in rows] == ["事件e", "事件f", "事件c", "事件d", "事件b",
                                                "事件a"]
    first_grid = events.list_events(ctx.conn, unit_id=place.grid, on="2026-03-20")
    assert {r["description"] for r in first_grid} == {"事件a", "事件b", "事件c", "事件d", "事件e"}
    assert {r["grid"] for r in first_grid} == {"第一网格"}
    row = next(r for r in first_grid if r["description"] == "事件a")
    assert row["unit_path"] == "幸福街道 / 阳光社区 / 第一网格 / 1号楼 / 1单元"
    assert row["category"] == "环境卫生"
    assert {r["description"] for r in events.list_events(
        ctx.conn, unit_id=place.building)} == {"事件a", "事件b", "事件c", "事件e"}
    assert [r["grid"] for r in events.list_events(ctx.conn, unit_id=ledger["second"])] == [
        "第二网格"]
    assert {r["description"] for r in events.list_events(
        ctx.conn, category_id=category(ctx.conn, "环境卫生"))} == {"事件a", "事件f"}
    assert {r["description"] for r in events.list_events(ctx.conn, status="办结")} == {
        "事件a", "事件b"}
    assert {r["description"] for r in events.list_events(
        ctx.conn, status=("上报", "受理"))} == {"事件d", "事件e", "事件f"}
    with pytest.raises(DomainError, match="未知的事件状态“完成”"):
        events.list_events(ctx.conn, status="完成")
    one = events.get_event(ctx.conn, ledger["c"], on="2026-03-20")
    assert (one["description"], one["overdue_days"], one["grid"]) == ("事件c", 15, "第一网格")
    assert events.get_event(ctx.conn, 999) is None


def test_figures_for_the_month(ctx, place, ledger):
    march = events.figures(ctx.conn, "2026-03-01", "2026-03-31", today=D(2026, 11, 1))
    # opened: a b c d e found in March; closed: a, b; on time: a;
    # overdue at 03-31: c (03-05), d (03-30), f (02-26)
    assert march == {"opened": 5, "closed": 2, "closed_on_time": 1, "overdue": 3}
    february = events.figures(ctx.conn, "2026-02-01", "2026-02-28", today=D(2026, 11, 1))
    assert february == {"opened": 1, "closed": 0, "closed_on_time": 0, "overdue": 1}
    first_grid = events.figures(ctx.conn, "2026-03-01", "2026-03-31", unit_id=place.grid,
                                today=D(2026, 11, 1))
    assert first_grid == {"opened": 5, "closed": 2, "closed_on_time": 1, "overdue": 2}
    # a month not over yet counts overdue as of today
    mid_march = events.figures(ctx.conn, "2026-03-01", "2026-03-31", today=D(2026, 3, 6))
    assert mid_march["overdue"] == 3                     # b (closed only on 03-10), c, f
    empty = events.figures(ctx.conn, "2025-01-01", "2025-01-31", unit_id=ledger["second"])
    assert empty == {"opened": 0, "closed": 0, "closed_on_time": 0, "overdue": 0}


def test_figures_after_closing_late(ctx, ledger):
    events.close(ctx, ledger["c"], "终于解决", on=D(2026, 4, 2))
    april = events.figures(ctx.conn, "2026-04-01", "2026-04-30", today=D(2026, 11, 1))
    assert april == {"opened": 0, "closed": 1, "closed_on_time": 0, "overdue": 2}   # d, f


def test_list_records_are_json_ready(ctx, ledger):
    rows = events.list_records(ctx.conn, overdue=True, on="2026-03-20")
    assert [r["description"] for r in rows] == ["事件f", "事件c"]
    assert json.loads(json.dumps(rows, ensure_ascii=False)) == rows
    assert set(rows[0]) == set(events.RECORD_KEYS)
    assert rows[1]["status"] == "处置中" and rows[1]["overdue"] is True
    assert [r["status"] for r in events.list_records(ctx.conn, status="办结")] == ["办结"] * 2


# --- categories ------------------------------------------------------------------------------

def test_the_seeded_categories(conn):
    assert [c["name"] for c in events.categories(conn)] == [
        "矛盾纠纷", "安全隐患", "环境卫生", "民生诉求", "其他"]


def test_categories_create_rename_and_switch_off(ctx, place):
    new = events.create_category(ctx, " 物业服务 ").id
    assert events.categories(ctx.conn)[-1] == {"id": new, "name": "物业服务", "sort": 5,
                                               "active": 1}
    with pytest.raises(ValidationError, match="已有“安全隐患”"):
        events.create_category(ctx, "安全隐患")
    with pytest.raises(ValidationError, match="类别名称：不能为空"):
        events.create_category(ctx, "  ")
    result = events.rename_category(ctx, new, "物业管理")
    assert [(c.field, c.old, c.new) for c in result.changes] == [("name", "物业服务", "物业管理")]
    with pytest.raises(ValidationError, match="已有“其他”"):
        events.rename_category(ctx, new, "其他")
    assert events.rename_category(ctx, new, "物业管理").changes == []

    used = report(ctx, place.unit, name="其他")
    events.set_category_active(ctx, category(ctx.conn, "其他"), False)
    assert "其他" not in [c["name"] for c in events.categories(ctx.conn)]
    assert "其他" in [c["name"] for c in events.categories(ctx.conn, include_inactive=True)]
    with pytest.raises(DomainError, match="事件类别“其他”已停用"):
        report(ctx, place.unit, name="其他")
    assert events.get_event(ctx.conn, used)["category"] == "其他"     # old events keep it
    events.set_category_active(ctx, category(ctx.conn, "其他"), True)
    assert report(ctx, place.unit, name="其他")
    with pytest.raises(NotFoundError, match="找不到事件类别"):
        events.rename_category(ctx, 999, "x")
