"""Demo data includes teams, a year of activities and service records that obey the rules."""
import datetime as dt

import pytest

from shequ_desktop.demo import street as demo
from shequ_desktop.volunteers import activities as va, points as vp

TODAY = dt.date(2026, 6, 15)


@pytest.fixture(scope="module")
def demo_conn(tmp_path_factory):
    import db

    conn = db.open_db(tmp_path_factory.mktemp("demo") / "demo.db")
    counts = demo.generate(conn, residents=3000, seed=3, today=TODAY)
    yield conn, counts
    conn.close()


def test_demo_has_teams_volunteers_and_a_year_of_activities(demo_conn):
    conn, counts = demo_conn
    assert counts["volunteer_teams"] == 4 and counts["volunteers"] >= 40
    first, last = conn.execute("SELECT min(starts_at), max(starts_at) FROM activities").fetchone()
    assert first[:10] >= (TODAY - dt.timedelta(days=365)).isoformat()
    assert (dt.date.fromisoformat(last[:10]) - dt.date.fromisoformat(first[:10])).days > 330
    assert counts["service_records"] > 5 * counts["activities"]
    assert conn.execute("SELECT count(*) FROM volunteers WHERE resident_id IS NOT NULL"
                        ).fetchone()[0] > counts["volunteers"] // 2
    assert conn.execute("PRAGMA foreign_key_check").fetchall() == []


def test_demo_service_obeys_the_rules(demo_conn):
    conn, _ = demo_conn
    assert va.overlaps(conn) == []
    assert conn.execute("""
        SELECT count(*) FROM service_records s JOIN activities a ON a.id = s.activity_id
        JOIN volunteers v ON v.id = s.volunteer_id
        WHERE s.hours > (julianday(a.ends_at) - julianday(a.starts_at)) * 24 + 1e-6
           OR substr(a.starts_at, 1, 10) < v.joined_on
           OR substr(a.starts_at, 1, 10) > coalesce(v.left_on, '9999')""").fetchone()[0] == 0
    rows = vp.hours_summary(conn, today=TODAY)
    assert min(r["points"] for r in rows) >= 0
    assert any(r["star"] >= 1 for r in rows)           # the keen ones reach a star
    assert conn.execute("SELECT count(*) FROM point_redemptions").fetchone()[0] > 0
    leaders = conn.execute("""SELECT count(*) FROM volunteer_teams t JOIN volunteers v
        ON v.id = t.leader_id WHERE v.team_id = t.id AND v.status = '在册'""").fetchone()[0]
    assert leaders == 4


def test_demo_ledgers_never_go_below_zero_at_any_date(demo_conn):
    conn, _ = demo_conn
    redeemers = [r[0] for r in conn.execute("SELECT DISTINCT volunteer_id FROM point_redemptions")]
    assert redeemers
    assert all(vp.lowest(conn, vid)[0] == 0 for vid in redeemers)
    assert all(min(r["balance"] for r in vp.ledger(conn, vid)) >= 0 for vid in redeemers)
