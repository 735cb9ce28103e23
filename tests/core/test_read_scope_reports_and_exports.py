"""A 网格员 reads only their grids, second half: visits due, events, volunteers and activities,
ledgers and the monthly report, exports and the data-quality checks (real SQLite files)."""
import csv
import datetime as dt

import pytest

from shequ_desktop.reports import checks, ledger_rows as ledgers
from shequ_desktop.casework import events, visits
from shequ_desktop.transfer import exporting
from shequ_desktop.population import tags
from shequ_desktop.security import users
from shequ_desktop.volunteers import activities as va, points as vp, roster as volunteers
from shequ_desktop.core.access import NotPermitted
from shequ_desktop.reports.pdf import ledger_print as printing

from tests.core.test_read_scope import fast_scrypt, signed_in, world  # noqa: F401  (fixtures)

MONTH = "2026-01"
FOUND = dt.date(2026, 1, 5)
TODAY = dt.date.today()


def tag_id(conn, name):
    return conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]


def category(conn, name="安全隐患"):
    return conn.execute("SELECT id FROM event_categories WHERE name = ?", (name,)).fetchone()[0]


@pytest.fixture
def both(ctx, conn, world, family):
    """Records of every kind in 第一网格 and in 第二网格 (and a few of the whole community)."""
    p = family[1]
    alone = tag_id(conn, "独居老人")
    since = (TODAY - dt.timedelta(days=60)).isoformat()
    tags.assign_tag(ctx, p["wife"], alone, since)              # 第一网格, no phone
    tags.assign_tag(ctx, world["zhao"], alone, since)          # 第二网格, no phone
    visits.record_visit(ctx, p["head"], FOUND, "入户", "张三")
    visits.record_visit(ctx, world["theirs"][1], FOUND, "电话", "李四")
    community = conn.execute("SELECT parent_id FROM grid_units WHERE id = ?",
                             (world["g1"],)).fetchone()[0]
    events.report_event(ctx, world["g1"], category(conn), "一网格楼道堆物", FOUND, "张三")
    events.report_event(ctx, world["g2"], category(conn), "二网格路灯不亮", FOUND, "李四")
    team1 = volunteers.create_team(ctx, {"name": "一网格服务队", "unit_id": world["g1"]}).id
    team2 = volunteers.create_team(ctx, {"name": "二网格服务队", "unit_id": world["g2"]}).id
    joined = {"joined_on": "2020-01-01"}
    mine = volunteers.create_volunteer(ctx, {"name": "钱一", **joined}, team_id=team1).id
    theirs = volunteers.create_volunteer(ctx, {"name": "孙二", **joined}, team_id=team2).id
    anyone = volunteers.create_volunteer(ctx, {"name": "周三", **joined}).id
    acts = {}
    for title, unit, day in (("一网格敬老", world["g1"], 10), ("二网格扫雪", world["g2"], 11),
                             ("社区义诊", community, 12)):
        acts[title] = va.create_activity(ctx, {
            "title": title, "category": "为老服务", "unit_id": unit,
            "starts_at": f"2026-01-{day} 09:00", "ends_at": f"2026-01-{day} 11:00"}).id
    va.save_sheet(ctx, acts["一网格敬老"], {mine: 2, anyone: 2})
    va.save_sheet(ctx, acts["二网格扫雪"], {theirs: 2})
    va.save_sheet(ctx, acts["社区义诊"], {mine: 1})
    worker = signed_in(conn, "zhang")
    return {**world, "worker": worker.access, "admin": signed_in(conn, "admin").access,
            "wife": p["wife"], "head": p["head"], "community": community}


def names(rows, key="name"):
    return sorted(r[key] for r in rows)


def test_visits_due_cover_only_their_grid(conn, both):
    worker, admin = both["worker"], both["admin"]
    assert names(visits.due(conn, access=worker)) == ["李秀英"]
    assert names(visits.due(conn, access=admin)) == ["李秀英", "赵六"]
    assert names(visits.due(conn, unit_id=both["g1"], access=worker)) == ["李秀英"]
    assert visits.due_counts(conn, access=worker) == {"due": 1, "overdue": 1,
                                                      "never_visited": 1}
    assert visits.due_counts(conn, access=admin)["due"] == 2
    assert names(visits.due_records(conn, access=worker)) == ["李秀英"]
    assert names(visits.due_records(conn)) == ["李秀英", "赵六"]     # the command line
    figures = visits.month_figures(conn, 2026, 1, access=worker)
    assert figures["visits"] == 1                                    # 王建国's, not 赵小六's
    assert visits.month_figures(conn, 2026, 1)["visits"] == 2
    with pytest.raises(NotPermitted, match="只能查看"):
        visits.due(conn, unit_id=both["g2"], access=worker)
    with pytest.raises(NotPermitted):
        visits.due_counts(conn, unit_id=both["g2"], access=worker)


def test_events_cover_only_their_grid(conn, both):
    worker, admin = both["worker"], both["admin"]
    assert names(events.list_events(conn, access=worker), "description") == ["一网格楼道堆物"]
    assert len(events.list_events(conn, access=admin)) == 2
    assert names(events.list_records(conn, access=worker), "description") == ["一网格楼道堆物"]
    assert len(events.list_records(conn)) == 2                       # the command line
    assert events.figures(conn, "2026-01-01", "2026-01-31", access=worker)["opened"] == 1
    assert events.figures(conn, "2026-01-01", "2026-01-31", access=admin)["opened"] == 2
    with pytest.raises(NotPermitted):
        events.list_events(conn, unit_id=both["g2"], access=worker)
    # Where a 网格员 may file an event: their grid only.
    assert [uid for uid, _label in events.unit_choices(conn, access=worker)] == [both["g1"]]
    assert {uid for uid, _ in events.unit_choices(conn, access=admin)} == {both["g1"],
                                                                          both["g2"]}


def test_volunteers_and_activities_cover_only_their_grid(conn, both):
    worker, admin = both["worker"], both["admin"]
    # Their team's volunteer, and one of no team and no home (listed everywhere).
    assert names(vp.hours_summary(conn, access=worker)) == ["周三", "钱一"]
    assert names(vp.hours_summary(conn, access=admin)) == ["周三", "孙二", "钱一"]
    assert names(vp.hours_summary(conn, unit_id=both["g1"], access=worker)) == ["周三", "钱一"]
    assert names(volunteers.teams(conn, access=worker)) == ["一网格服务队"]
    assert len(volunteers.teams(conn, access=admin)) == 2
    # Their grid's activities and the community's above it, not 第二网格's.
    assert names(va.list_activities(conn, access=worker), "title") == ["一网格敬老", "社区义诊"]
    assert len(va.list_activities(conn, access=admin)) == 3
    for fn in (vp.hours_summary, va.list_activities, volunteers.teams):
        with pytest.raises(NotPermitted):
            fn(conn, unit_id=both["g2"], access=worker)


def cells(table):
    return {str(cell) for group in table.groups for row in group.rows for cell in row}


@pytest.mark.parametrize("kind, ours, theirs", [
    ("residents", "王建国", "赵六"), ("focus", "李秀英", "赵六"), ("visits", "王建国", "赵小六"),
    ("events", "一网格楼道堆物", "二网格路灯不亮"), ("houses", "101", "901"),
    ("volunteers", "钱一", "孙二")])
def test_ledgers_cover_only_their_grid(conn, both, kind, ours, theirs):
    # The tags began 60 days ago; the residents moved in today (their 迁入日期).
    month = None if kind in ("focus", "residents") else MONTH
    worker = ledgers.table(conn, kind, month=month, access=both["worker"])
    assert ours in cells(worker) and theirs not in cells(worker)
    assert dict(worker.info)["网格"] == "第一网格"        # their one grid, named on paper
    everything = ledgers.table(conn, kind, month=month, access=both["admin"])
    assert {ours, theirs} <= cells(everything)
    assert dict(everything.info)["网格"] == "全部"
    with pytest.raises(NotPermitted):
        ledgers.table(conn, kind, unit_id=both["g2"], month=month, access=both["worker"])


def test_a_grid_worker_of_two_grids_gets_both_named(ctx, conn, both):
    users.set_units(ctx, users.load(conn, "zhang").id, [both["g1"], both["g2"]])
    worker = signed_in(conn, "zhang").access
    table = ledgers.table(conn, "residents", month=None, access=worker)   # moved in today
    assert {"王建国", "赵六"} <= cells(table)
    assert dict(table.info)["网格"] == "第一网格、第二网格"


def test_printed_ledger_and_monthly_report_refuse_another_grid(conn, both, tmp_path):
    from shequ_desktop.reports.pdf import monthly_report

    out = tmp_path / "ledger.pdf"
    result = printing.build(conn, "events", out, month=MONTH, access=both["worker"])
    assert result["rows"] == 1 and out.exists()
    with pytest.raises(NotPermitted):
        printing.build(conn, "events", tmp_path / "other.pdf", unit_id=both["g2"],
                       month=MONTH, access=both["worker"])
    assert not (tmp_path / "other.pdf").exists()
    report = monthly_report.build(conn, MONTH, None, tmp_path / "month.pdf",
                                  access=both["worker"])
    assert report["this"]["events"]["opened"] == 1          # their grid, not the database's
    assert monthly_report.build(conn, MONTH, None, tmp_path / "all.pdf")[
        "this"]["events"]["opened"] == 2
    with pytest.raises(NotPermitted):
        monthly_report.build(conn, MONTH, both["g2"], tmp_path / "m2.pdf",
                             access=both["worker"])


def export_rows(conn, what, tmp_path, **kw):
    """{sheet name: [rows as dicts]} of an export written as CSV and read back."""
    template = exporting.load(exporting.DEFAULTS[what])
    out = tmp_path / f"{what}-{len(list(tmp_path.iterdir()))}.csv"
    result = exporting.export(conn, template, out, "csv", **kw)
    sheets = {}
    for sheet, path in zip(template.sheets, result["files"]):
        with open(path, encoding="utf-8-sig", newline="") as f:
            sheets[sheet.name] = list(csv.DictReader(f))
    return sheets


@pytest.mark.parametrize("what, column, ours, theirs", [
    ("residents", "姓名", "王建国", "赵六"), ("focus", "姓名", "李秀英", "赵六"),
    ("visits", "姓名", "王建国", "赵小六"), ("events", "事件描述", "一网格楼道堆物", "二网格路灯不亮"),
    ("volunteers", "姓名", "钱一", "孙二")])
def test_exports_cover_only_their_grid(conn, both, tmp_path, what, column, ours, theirs):
    mine = export_rows(conn, what, tmp_path, access=both["worker"])
    first = next(iter(mine.values()))
    values = {r.get(column) for r in first}
    assert ours in values and theirs not in values
    everything = next(iter(export_rows(conn, what, tmp_path, access=both["admin"]).values()))
    assert {ours, theirs} <= {r.get(column) for r in everything}
    with pytest.raises(NotPermitted):
        export_rows(conn, what, tmp_path, unit_id=both["g2"], access=both["worker"])


def test_exported_service_hours_are_their_activities(conn, both, tmp_path):
    sheets = export_rows(conn, "volunteers", tmp_path, access=both["worker"])
    hours = next(rows for name, rows in sheets.items() if name != next(iter(sheets)))
    assert {r["活动名称"] for r in hours} == {"一网格敬老"}
    all_hours = list(export_rows(conn, "volunteers", tmp_path).values())[1]
    assert {r["活动名称"] for r in all_hours} == {"一网格敬老", "二网格扫雪", "社区义诊"}


def problems(results, key):
    return {p.id for r in results if r.key == key for p in r.problems}


def test_quality_checks_list_only_their_grids_problems(conn, both):
    worker = checks.run_checks(conn, access=both["worker"])
    admin = checks.run_checks(conn, access=both["admin"])
    assert problems(admin, "focus_without_phone") == {both["wife"], both["zhao"]}
    assert problems(worker, "focus_without_phone") == {both["wife"]}
    assert problems(admin, "focus_never_visited") == {both["wife"], both["zhao"]}
    assert problems(worker, "focus_never_visited") == {both["wife"]}
    # What belongs to no grid (the file, the audit chain, exchange conflicts) is left out.
    keys = {r.key for r in worker}
    assert keys.isdisjoint(checks.ADMIN_ONLY_CHECKS)
    assert set(checks.ADMIN_ONLY_CHECKS) <= {r.key for r in admin}
    assert keys == {r.key for r in admin} - set(checks.ADMIN_ONLY_CHECKS)
    assert {r.key for r in checks.run_checks(conn)} == {r.key for r in admin}  # command line


def test_quality_problems_of_households_and_houses_are_scoped(ctx, conn, both):
    """A vacant house with residents in each grid: the 网格员 sees only theirs."""
    from shequ_desktop.places import houses as houses_mod

    mine = conn.execute("SELECT house_id FROM households h JOIN residents r "
                        "ON r.household_id = h.id WHERE r.id = ?", (both["head"],)).fetchone()[0]
    theirs = conn.execute("SELECT house_id FROM households h JOIN residents r "
                          "ON r.household_id = h.id WHERE r.id = ?",
                          (both["zhao"],)).fetchone()[0]
    for house in (mine, theirs):
        houses_mod.update_house(ctx, house, {"usage": "空置"})
    worker = checks.run_checks(conn, access=both["worker"])
    assert problems(worker, "vacant_house_with_residents") == {mine}
    assert problems(checks.run_checks(conn), "vacant_house_with_residents") == {mine, theirs}
