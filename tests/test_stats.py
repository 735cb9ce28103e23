"""Dashboard and monthly-report figures (shequ_desktop.stats) against direct SQL counts."""
import datetime as dt

import pytest

import db
from shequ_desktop import demo, households, residents, stats, visits
from shequ_desktop.errors import DomainError
from shequ_desktop.grid import SUBTREE_SQL
from shequ_desktop.validation import age
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
    from shequ_desktop.progress import Cancelled

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
