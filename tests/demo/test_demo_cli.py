import datetime as dt
import json
from db.driver import sqlite3
import subprocess
import sys

import pytest

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.reports.checks import run_checks
from shequ_desktop.cli.main import main
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.progress import Cancelled
from shequ_desktop.core.validation import clean_record

TODAY = dt.date(2026, 6, 30)
CHECKED = ["name", "id_type", "id_number", "gender", "birth_date", "ethnicity", "phone",
           "political_status", "education", "marital_status", "health", "residence_type"]


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    conn = db.open_db(path)
    counts = demo.generate(conn, residents=3000, seed=7, today=TODAY)
    return conn, counts


def test_demo_counts_match_the_database(demo_db):
    conn, counts = demo_db
    for table, n in counts.items():
        assert conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] == n
    assert counts["residents"] == 3000


def test_demo_passes_every_consistency_check(demo_db):
    conn, _ = demo_db
    assert [(r.key, r.examples) for r in run_checks(conn) if not r.ok] == []


def test_demo_residents_pass_the_same_validation_as_the_form(demo_db):
    conn, _ = demo_db
    rows = conn.execute(f"SELECT {', '.join(CHECKED)} FROM residents").fetchall()
    for row in rows:
        values = dict(row)
        assert clean_record("residents", values, existing={}, today=TODAY) == values


def test_demo_leaves_out_mobile_prefixes_the_validator_refuses(tmp_path, monkeypatch):
    """Faker's prefix list grows between releases (149 in 40.61); the demo must not follow it
    into numbers the form refuses."""
    from faker.providers.phone_number.zh_CN import Provider

    monkeypatch.setattr(Provider, "phonenumber_prefixes", [149, 138])
    conn = db.open_db(tmp_path / "prefix.db")
    demo.generate(conn, residents=200, seed=3, today=TODAY)
    phones = [r[0] for r in conn.execute("SELECT phone FROM residents WHERE phone IS NOT NULL")]
    assert phones and {p[:3] for p in phones} == {"138"}
    conn.close()


def test_demo_is_believable(demo_db):
    conn, _ = demo_db
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    active = one("SELECT count(*) FROM residents WHERE status = '在册'")
    households = one("SELECT count(*) FROM households")
    assert 2.0 < active / households < 3.5
    assert one("SELECT count(DISTINCT level) FROM grid_units") == 6
    # spouses of opposite sex, children younger than the head
    assert one("""SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                  JOIN residents hd ON hd.id = h.head_resident_id
                  WHERE r.relation_to_head IN ('20', '30') AND r.birth_date <= hd.birth_date""") == 0
    assert one("""SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                  JOIN residents hd ON hd.id = h.head_resident_id
                  WHERE r.relation_to_head = '10' AND r.gender = hd.gender""") == 0
    tagged = one("SELECT count(DISTINCT resident_id) FROM resident_tags")
    assert 0.05 < tagged / active < 0.4
    # 高龄老人 are really 80 or older
    assert one(f"""SELECT count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
                   JOIN residents r ON r.id = rt.resident_id
                   WHERE t.name = '高龄老人' AND r.birth_date > '{TODAY.year - 80}-12-31'""") == 0
    assert one("SELECT count(*) FROM residents WHERE status = '迁出'") > 0
    assert one("SELECT count(DISTINCT usage) FROM houses") >= 4


def test_demo_visits_and_events_are_consistent(demo_db):
    conn, counts = demo_db
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    assert counts["visits"] > 0 and counts["events"] > 0
    assert one(f"SELECT count(*) FROM visits WHERE visited_on > '{TODAY}'") == 0
    assert one("""SELECT count(*) FROM visits v JOIN residents r ON r.id = v.resident_id
                  WHERE r.status <> '在册' OR NOT EXISTS (SELECT 1 FROM resident_tags t
                  WHERE t.resident_id = r.id AND t.since <= v.visited_on)""") == 0
    # every event has one log line per step it went through, closed ones a resolution
    steps = "CASE status WHEN '上报' THEN 1 WHEN '受理' THEN 2 WHEN '处置中' THEN 3 " \
            "WHEN '办结' THEN 4 ELSE 5 END"
    assert one(f"""SELECT count(*) FROM events e WHERE {steps} <>
                   (SELECT count(*) FROM event_log l WHERE l.event_id = e.id)""") == 0
    assert one("SELECT count(*) FROM events WHERE status IN ('办结', '归档') "
               "AND (resolution IS NULL OR closed_at IS NULL)") == 0
    assert one("SELECT count(*) FROM events WHERE status <> '上报' AND deadline IS NULL") == 0


def test_demo_is_reproducible(tmp_path):
    names = []
    for i in range(2):
        conn = db.open_db(tmp_path / f"{i}.db")
        demo.generate(conn, residents=200, seed=3, today=TODAY)
        names.append(conn.execute("SELECT group_concat(name || id_number) FROM residents")
                     .fetchone()[0])
    assert names[0] == names[1]


def test_demo_refuses_a_database_with_data(demo_db):
    conn, _ = demo_db
    with pytest.raises(DomainError, match="已有数据"):
        demo.generate(conn, residents=10)


def test_cancelled_demo_leaves_nothing(conn):
    calls = []

    def progress(done, total):
        calls.append(done)
        return False

    with pytest.raises(Cancelled):
        demo.generate(conn, residents=2000, progress=progress)
    assert calls and conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0
    assert conn.execute("SELECT count(*) FROM grid_units").fetchone()[0] == 0


def test_cli_init_demo_check(tmp_path, capsys, monkeypatch):
    path = str(tmp_path / "c.db")
    assert main(["init", "--db", path, "--community", "向阳社区", "--street", "幸福街道"]) == 0
    conn = db.open_db(path)
    assert [r[0] for r in conn.execute("SELECT name FROM grid_units ORDER BY id")] == \
        ["幸福街道", "向阳社区"]
    assert main(["init", "--db", path]) == 2
    assert "已有社区" in capsys.readouterr().err

    path2 = str(tmp_path / "d.db")
    assert main(["demo", "--db", path2, "--residents", "300", "--seed", "2"]) == 0
    assert "300 人" in capsys.readouterr().out
    assert main(["check", "--db", path2, "--json"]) == 2       # every command signs in
    assert "SHEQU_PASSWORD" in capsys.readouterr().err
    monkeypatch.setenv("SHEQU_PASSWORD", "demo2026")
    assert main(["check", "--db", path2, "--json"]) == 0
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert {x["check"] for x in lines} >= {"integrity", "foreign_keys", "household_without_head"}
    assert all(x["count"] == 0 for x in lines if x["severity"] == "error")


def test_cli_check_fails_and_says_what(tmp_path, capsys):
    path = tmp_path / "bad.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=100, seed=1)
    conn.execute("UPDATE households SET head_resident_id = NULL WHERE id = 1")
    conn.close()
    assert main(["check", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "失败  在册户没有户主：1 处" in out and "1 项检查未通过" in out


def test_cli_reports_a_bad_file_in_chinese(tmp_path, capsys):
    path = tmp_path / "x.db"
    path.write_bytes(b"not a database at all" * 100)
    assert main(["check", "--db", str(path)]) == 2
    assert "不是有效的数据库" in capsys.readouterr().err


def test_python_dash_m_entry_point(tmp_path):
    path = tmp_path / "m.db"
    done = subprocess.run([sys.executable, "-m", "shequ_desktop", "init", "--db", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sqlite3.connect(path).execute("SELECT level FROM grid_units").fetchone()[0] == \
        "community"
