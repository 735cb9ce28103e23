"""Dashboard and monthly-report figures (shequ_desktop.reports.stats) against direct SQL counts."""
import datetime as dt

import pytest

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.population import households, residents
from shequ_desktop.reports import stats
from shequ_desktop.casework import visits
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.tree import SUBTREE_SQL
from shequ_desktop.core.validation import age
from tests.conftest import make_id

TODAY = dt.date.today()


@pytest.fixture(scope="module")
def demo_conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("stats") / "demo.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=900, seed=5)
    yield conn
    conn.close()


def scoped(conn, unit_id, select, where="1", params=()):
    """Direct SQL over the active residents whose house is under unit_id (None: all)."""
    if unit_id is None:
        return conn.execute(f"SELECT {select} FROM residents r WHERE r.status = '在册' "
                            f"AND {where}", params).fetchone()[0]
    return conn.execute(SUBTREE_SQL + f"""
        SELECT {select} FROM residents r JOIN households h ON h.id = r.household_id
        JOIN houses ho ON ho.id = h.house_id
        WHERE ho.unit_id IN (SELECT id FROM subtree) AND r.status = '在册' AND {where}""",
                        (unit_id, *params)).fetchone()[0]


def units(conn):
    grid_id = conn.execute("SELECT id FROM grid_units WHERE level = 'grid' "
                           "ORDER BY id DESC LIMIT 1").fetchone()[0]
    building = conn.execute("SELECT id FROM grid_units WHERE level = 'building' "
                            "ORDER BY id DESC LIMIT 1").fetchone()[0]
    community = conn.execute("SELECT id FROM grid_units WHERE level = 'community'").fetchone()[0]
    return [None, community, grid_id, building]


def test_population_equals_direct_sql_counts(demo_conn):
    conn = demo_conn
    for unit_id in units(conn):
        p = stats.population(conn, unit_id)
        assert p["residents"] == scoped(conn, unit_id, "count(*)") > 0
        assert p["households"] == scoped(conn, unit_id, "count(DISTINCT r.household_id)")
        assert p["registered"] == scoped(conn, unit_id, "count(*)", "r.residence_type = '1'")
        assert p["floating"] == scoped(conn, unit_id, "count(*)", "r.residence_type = '2'")
        assert p["separated"] == scoped(conn, unit_id, "count(*)", "r.separated = 1")
        births = [r[0] for r in conn.execute(
            "SELECT birth_date FROM residents WHERE status = '在册' AND id IN (" +
            scoped(conn, unit_id, "group_concat(r.id)") + ")")]
        ages = [age(b, TODAY) for b in births]
        for (label, n), (_l, low, high) in zip(p["age_groups"], stats.AGE_GROUPS):
            assert n == sum(1 for a in ages if a >= low and (high is None or a <= high)), label
        men = scoped(conn, unit_id, "count(*)", "r.gender = '1'")
        assert sum(m for _b, m, _f in p["pyramid"]) == men
        assert sum(f for _b, _m, f in p["pyramid"]) == p["residents"] - men
        fifties = sum(1 for a in ages if 50 <= a <= 54)
        band = dict((b, m + f) for b, m, f in p["pyramid"])["50–54"]
        assert band == fifties


def test_focus_groups_equal_direct_sql_counts(demo_conn):
    conn = demo_conn
    for unit_id in units(conn)[:3]:
        f = stats.focus_groups(conn, unit_id)
        for tag_id, name, n in f["groups"]:
            assert n == scoped(conn, unit_id, "count(*)", "r.id IN (SELECT resident_id FROM "
                               "resident_tags WHERE tag_id = ? AND until IS NULL)", (tag_id,)), name
        assert f["members"] == scoped(conn, unit_id, "count(*)", "r.id IN (SELECT resident_id "
                                      "FROM resident_tags WHERE until IS NULL)") > 0


def test_visits_and_events_figures(demo_conn):
    conn = demo_conn
    monday = TODAY - dt.timedelta(days=TODAY.weekday())
    for unit_id in units(conn)[:3]:
        v = stats.visits_due(conn, unit_id, monday)
        rows = visits.due(conn, monday, unit_id, within_days=6)
        assert v["due"] == len(rows) > 0
        assert v["overdue"] == sum(1 for r in rows if r["days_overdue"] > 0)
        assert v["never_visited"] == sum(1 for r in rows if r["last_visit"] is None)
        e = stats.open_events(conn, unit_id)
        scope = "" if unit_id is None else \
            "AND unit_id IN (SELECT id FROM subtree)"
        head = "" if unit_id is None else SUBTREE_SQL
        params = () if unit_id is None else (unit_id,)
        assert e["open"] == conn.execute(
            head + f"SELECT count(*) FROM events WHERE status IN ('上报', '受理', '处置中') {scope}",
            params).fetchone()[0]
        assert e["overdue"] == conn.execute(
            head + f"SELECT count(*) FROM events WHERE status IN ('上报', '受理', '处置中') "
            f"AND deadline < ? {scope}", (*params, TODAY.isoformat())).fetchone()[0]
    assert stats.open_events(conn)["open"] > 0


def test_visits_per_grid_over_twelve_months(demo_conn):
    conn = demo_conn
    result = stats.visits_by_grid(conn)
    assert len(result["months"]) == 12 and result["months"][-1] == TODAY.strftime("%Y-%m")
    first = result["months"][0] + "-01"
    grids = conn.execute("SELECT id, name FROM grid_units WHERE level = 'grid'").fetchall()
    assert sorted(g for g, _n, _c in result["grids"]) == sorted(g for g, _ in grids)
    for grid_id, name, counts in result["grids"]:
        expected = conn.execute(SUBTREE_SQL + """
            SELECT count(*) FROM visits v JOIN residents r ON r.id = v.resident_id
            JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
            WHERE ho.unit_id IN (SELECT id FROM subtree) AND v.visited_on >= ?""",
                                (grid_id, first)).fetchone()[0]
        assert sum(counts) == expected, name
        this_month = conn.execute(SUBTREE_SQL + """
            SELECT count(*) FROM visits v JOIN residents r ON r.id = v.resident_id
            JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
            WHERE ho.unit_id IN (SELECT id FROM subtree) AND v.visited_on >= ?""",
                                  (grid_id, TODAY.strftime("%Y-%m-01"))).fetchone()[0]
        assert counts[-1] == this_month
    assert sum(sum(c) for _g, _n, c in result["grids"]) > 0
    community = conn.execute("SELECT id, name FROM grid_units WHERE level = 'community'"
                             ).fetchone()
    assert [(c, n) for c, n, _s in result["communities"]] == [tuple(community)]
    assert result["communities"][0][2] == [sum(col) for col in zip(
        *(c for _g, _n, c in result["grids"]))]
    # Under a building: only that building's grid, counting only the building's residents.
    building = units(conn)[3]
    one = stats.visits_by_grid(conn, building)
    assert len(one["grids"]) == 1


def test_dashboard_gathers_every_figure_and_can_be_cancelled(demo_conn):
    from shequ_desktop.core.progress import Cancelled

    figures = stats.dashboard(demo_conn)
    assert set(figures) >= {"population", "focus", "visits", "events", "volunteers",
                            "visits_by_grid"}
    seen = []
    stats.dashboard(demo_conn, progress=lambda d, t: seen.append((d, t)))
    assert seen[0] == (0, 6) and seen[-1] == (6, 6)
    with pytest.raises(Cancelled):
        stats.dashboard(demo_conn, progress=lambda d, t: d < 2)


# --- the month: moves, births, deaths, volunteers -----------------------------------------

def test_month_changes_and_population_at_month_end(ctx, place, family):
    conn = ctx.conn
    hh_id, ids = family
    month = (TODAY.replace(day=1) - dt.timedelta(days=1)).strftime("%Y-%m")   # last month
    first, last = stats.month_range(month)
    mid = first[:8] + "15"
    before = (dt.date.fromisoformat(first) - dt.timedelta(days=3)).isoformat()
    # Moved in during the month; a baby born and registered then; one moved in long before.
    newcomer = residents.add_member(ctx, hh_id, {
        "name": "赵新", "id_number": make_id("1990-01-02", "1", seq=40),
        "moved_in_at": mid}, "侄子").id
    baby = residents.add_member(ctx, hh_id, {
        "name": "王宝宝", "id_number": make_id(mid, "2", seq=41), "moved_in_at": mid}, "孙女").id
    # A second household in room 102: its head dies in the month, one member moves out.
    other = households.create_household(ctx, place.house2, {
        "name": "刘老", "id_number": make_id("1930-02-02", "1", seq=42),
        "moved_in_at": "2000-01-01"})
    old_head = other.changes[1].id
    leaver = residents.add_member(ctx, other.id, {
        "name": "刘走", "id_number": make_id("1960-02-02", "1", seq=43),
        "moved_in_at": "2000-01-01"}, "子").id
    residents.move_out(ctx, leaver, mid, "外省")
    residents.record_death(ctx, old_head, mid)
    changes = stats.changes(conn, first, last)
    assert changes == {"moved_in": 1, "moved_out": 1, "died": 1, "born": 1}
    assert stats.changes(conn, first, last, place.grid) == changes
    assert stats.changes(conn, *stats.month_range(stats.shift_month(month, -1))) == \
        {"moved_in": 0, "moved_out": 0, "died": 0, "born": 0}
    # 3 days before the month: the son (moved in 2010), 刘老 and 刘走 (2000). The head and
    # wife have no moved_in_at: their 迁入 in the history (today) counts.
    at_start = stats.population(conn, None, before)
    assert (at_start["residents"], at_start["households"]) == (3, 2)
    # At its end: the son, the newcomer and the baby; 刘老 died, 刘走 left (102 closed).
    at_end = stats.population(conn, None, last)
    assert (at_end["residents"], at_end["households"]) == (3, 1)
    report = stats.month_figures(conn, month)
    assert report["population"]["residents"] == 3 and report["changes"] == changes
    now = stats.population(conn)
    assert now["residents"] == 5 and now["households"] == 1       # 102 closed at the death
    assert {newcomer, baby} <= {r[0] for r in conn.execute(
        "SELECT id FROM residents WHERE status = '在册'")}


def test_population_on_a_past_day_counts_who_was_there(ctx, place, family):
    conn = ctx.conn
    hh_id, ids = family
    residents.update_resident(ctx, ids["head"], {"moved_in_at": "2000-01-01"})
    residents.update_resident(ctx, ids["wife"], {"moved_in_at": "2000-01-01"})
    residents.move_out(ctx, ids["son"], "2020-06-01", "北京", new_head_id=None)
    # The son (moved in 2010-01-01) was there in 2015 and gone in 2021.
    assert stats.population(conn, None, "2015-01-01")["residents"] == 3
    assert stats.population(conn, None, "2021-01-01")["residents"] == 2
    assert stats.population(conn, None, "2005-01-01")["residents"] == 2
    assert stats.population(conn, place.community, "2015-01-01")["households"] == 1


def test_volunteer_hours_and_active_volunteers(ctx, place):
    conn = ctx.conn
    month = TODAY.strftime("%Y-%m")
    day = TODAY.strftime("%Y-%m-01")
    conn.execute("INSERT INTO volunteers (id, name, joined_on) VALUES (1, '甲', '2020-01-01'),"
                 " (2, '乙', '2020-01-01'), (3, '丙', '2020-01-01')")
    conn.execute("INSERT INTO activities (id, title, category, starts_at, ends_at, unit_id) VALUES"
                 f" (1, '清扫', '环境', '{day} 09:00', '{day} 11:00', {place.grid}),"
                 f" (2, '义诊', '健康', '{day} 14:00', '{day} 17:30', {place.street}),"
                 " (3, '旧活动', '环境', '2001-01-01 09:00', '2001-01-01 10:00', NULL)")
    conn.execute("INSERT INTO service_records (activity_id, volunteer_id, hours) VALUES"
                 " (1, 1, 2), (1, 2, 2), (2, 2, 3.5), (3, 3, 1)")
    first, last = stats.month_range(month)
    assert stats.volunteer_figures(conn, first, last) == {
        "hours": 7.5, "active_volunteers": 2, "activities": 2}
    assert stats.volunteer_figures(conn, first, last, place.grid) == {
        "hours": 4.0, "active_volunteers": 2, "activities": 1}


def test_months_are_checked():
    assert stats.month_range("2024-02") == ("2024-02-01", "2024-02-29")
    assert stats.shift_month("2026-01", -1) == "2025-12"
    assert stats.shift_month("2025-12", 1) == "2026-01"
    for bad in ("2026-13", "2026/03", "三月", ""):
        with pytest.raises(DomainError, match="月份"):
            stats.month_range(bad)


def test_a_future_month_has_no_report(conn):
    future = (TODAY.replace(day=1) + dt.timedelta(days=40)).strftime("%Y-%m")
    with pytest.raises(DomainError, match="还没有到"):
        stats.month_figures(conn, future)


# --- the dashboard's faster paths ----------------------------------------------------------------

def test_due_counts_equal_the_due_list(demo_conn):
    conn = demo_conn
    for unit_id in units(conn):
        for day, within in ((TODAY, 7), (TODAY - dt.timedelta(days=40), 3), (TODAY, -1)):
            rows = visits.due(conn, day, unit_id, within_days=within)
            assert visits.due_counts(conn, day, unit_id, within_days=within) == {
                "due": len(rows),
                "overdue": sum(1 for r in rows if r["days_overdue"] > 0),
                "never_visited": sum(1 for r in rows if r["never_visited"])}
    assert visits.due_counts(conn, TODAY, None)["due"] > 0


def test_due_counts_leave_out_who_left(ctx, place, family):
    from shequ_desktop.population import tags

    hh_id, ids = family
    tag = tags.create_tag(ctx, "测试关注", visit_interval_days=30).id
    for rid in ids.values():
        tags.assign_tag(ctx, rid, tag, since="2020-01-01")
    assert visits.due_counts(ctx.conn)["due"] == 3
    residents.move_out(ctx, ids["son"], TODAY.isoformat(), "北京")
    counts = visits.due_counts(ctx.conn)
    assert counts == {"due": 2, "overdue": 2, "never_visited": 2}
    assert counts["due"] == len(visits.due(ctx.conn))
    assert stats.focus_groups(ctx.conn)["members"] == 2


def test_focus_groups_count_who_moves_out_later(ctx, place, family):
    """Today's whole-database count leaves out only those no longer on record: someone whose
    move-out date is still to come counts."""
    from shequ_desktop.population import tags

    hh_id, ids = family
    tag = tags.create_tag(ctx, "测试关注").id
    for rid in ids.values():
        tags.assign_tag(ctx, rid, tag, since="2020-01-01")
    later = (TODAY + dt.timedelta(days=10)).isoformat()
    ctx.conn.execute("UPDATE residents SET status = '迁出', moved_out_at = ? WHERE id = ?",
                     (later, ids["son"]))
    ctx.conn.execute("UPDATE residents SET status = '死亡', death_date = ? WHERE id = ?",
                     (TODAY.isoformat(), ids["wife"]))
    figures = stats.focus_groups(ctx.conn)
    assert figures["members"] == 2                      # the head and the son
    assert dict((t, n) for t, _name, n in figures["groups"])[tag] == 2
    # The scoped query (residents' rows read) agrees.
    assert stats.focus_groups(ctx.conn, place.street) == figures


def test_dashboard_for_the_street_equals_its_scoped_figures(demo_conn):
    conn = demo_conn
    street = conn.execute("SELECT id FROM grid_units WHERE level = 'street'").fetchone()[0]
    assert stats._whole(conn, street)[0]
    figures = stats.dashboard(conn, street)
    assert figures["population"] == stats.population(conn, street)
    assert figures["focus"] == stats.focus_groups(conn, street)
    assert figures["visits"] == stats.visits_due(conn, street)
    assert figures["visits_by_grid"] == stats.visits_by_grid(conn, street)
    assert figures["events"] == stats.open_events(conn, street)
    assert figures["volunteers"] == stats.volunteer_figures(
        conn, *stats.month_range(TODAY.strftime("%Y-%m"))[:1], TODAY.isoformat(), street)
    assert figures["unit_id"] == street
    community = units(conn)[1]
    assert stats._whole(conn, community) == (False, False, False)
    assert stats.dashboard(conn, community)["population"] == stats.population(conn, community)


def test_a_household_without_a_house_is_not_the_streets(ctx, place, family):
    conn = ctx.conn
    hh = households.create_household(ctx, None, {
        "name": "无房户", "id_number": make_id("1980-01-01", "1", seq=50)})
    assert hh.id
    assert stats._whole(conn, place.street) == (False, True, True)
    street = stats.dashboard(conn, place.street)["population"]
    assert street == stats.population(conn, place.street)
    assert street["residents"] == 3
    assert stats.dashboard(conn)["population"]["residents"] == 4


def test_dashboard_sees_changes_not_yet_committed(ctx, place, family):
    """Inside a transaction the figures come from this connection alone (a second one would
    not see the changes); outside, from two connections, with the same figures."""
    conn = ctx.conn
    apart = stats.dashboard(conn)
    assert apart["population"]["residents"] == 3
    with ctx.transaction():
        residents.add_member(ctx, family[0], {
            "name": "王新", "id_number": make_id("2010-01-01", "1", seq=51)}, "孙子")
        inside = stats.dashboard(conn)
        assert inside["population"]["residents"] == 4
        assert {k: v for k, v in inside.items() if k != "population"} == \
            {k: v for k, v in apart.items() if k != "population"}
    assert stats.dashboard(conn) == inside


def test_cancelling_the_dashboard_stops_the_second_connection(demo_conn):
    from shequ_desktop.core.progress import Cancelled

    assert stats._helper_path(demo_conn)            # the two-connection path is the one tested
    for stop_at in (0, 1, 4, 6):
        with pytest.raises(Cancelled):
            stats.dashboard(demo_conn, progress=lambda d, t, stop_at=stop_at: d < stop_at)
    assert stats.dashboard(demo_conn)["population"] == stats.population(demo_conn)


def test_dashboard_indexes_are_read_alone(demo_conn):
    """The whole-database population and focus-group queries read only the covering indexes
    of migration m009 (of the residents' rows, only the few moved out or dead)."""
    plans = []
    demo_conn.set_trace_callback(plans.append)
    try:
        stats.population(demo_conn)
        stats.focus_groups(demo_conn)
    finally:
        demo_conn.set_trace_callback(None)
    steps = [row[3] for sql in plans if "group_" in sql
             for row in demo_conn.execute("EXPLAIN QUERY PLAN " + sql)]
    assert "SCAN r USING COVERING INDEX residents_figures" in steps
    assert "SCAN rt USING COVERING INDEX resident_tags_current" in steps
    assert not [s for s in steps if s == "SCAN r" or s.startswith(
        ("SEARCH r USING INTEGER PRIMARY KEY", "SCAN rt USING INDEX"))]


def test_dashboard_without_a_second_connection_computes_everything_itself(demo_conn,
                                                                         monkeypatch):
    expected = stats.dashboard(demo_conn)

    def refused(path):
        raise db.StorageError("打不开")

    monkeypatch.setattr(stats.db, "open_db", refused)
    assert stats.dashboard(demo_conn) == expected


def test_an_activity_with_no_unit_is_not_the_streets(ctx, place):
    conn = ctx.conn
    day = TODAY.strftime("%Y-%m-01")
    conn.execute("INSERT INTO volunteers (id, name, joined_on) VALUES (1, '甲', '2020-01-01')")
    conn.execute("INSERT INTO activities (id, title, category, starts_at, ends_at, unit_id) VALUES"
                 f" (1, '清扫', '环境', '{day} 09:00', '{day} 11:00', {place.grid})")
    conn.execute("INSERT INTO service_records (activity_id, volunteer_id, hours) VALUES (1, 1, 2)")
    assert stats._whole(conn, place.street) == (True, True, True)
    assert stats.dashboard(conn, place.street)["volunteers"]["activities"] == 1
    conn.execute("INSERT INTO activities (id, title, category, starts_at, ends_at, unit_id) VALUES"
                 f" (2, '义诊', '健康', '{day} 14:00', '{day} 17:00', NULL)")
    assert stats._whole(conn, place.street) == (True, True, False)
    assert stats.dashboard(conn, place.street)["volunteers"]["activities"] == 1
    assert stats.dashboard(conn)["volunteers"]["activities"] == 2
