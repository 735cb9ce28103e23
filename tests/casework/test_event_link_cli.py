"""`shequ events link EVENT_ID --resident ID_NUMBER|ID` and `--none` (issue 20): signed in,
with the user's right to write; the event's log and the audit trail name the user."""
import datetime as dt

import pytest

import db
from shequ_desktop.casework import events
from shequ_desktop.core.context import Context
from shequ_desktop.security import unlock
# The signed-in street of the sign-in tests: a 网格员 (zhang) of 第1网格 and a 只读 user (li).
from tests.security.test_cli_signin import (  # noqa: F401  (fixtures)
    ADMIN,
    GRID1,
    GRID2,
    READER,
    WORKER,
    built,
    run,
    street,
)


@pytest.fixture
def linkable(street):
    """The street with an event in 第2网格 that names no one: (path, event id, a resident of
    第2网格, a resident of 第1网格)."""
    unlock.unlock(street, "admin", "demo2026")
    conn = db.open_db(street)
    try:
        person, stranger = (resident_of(conn, code) for code in (GRID2, GRID1))
        grid_id = conn.execute("SELECT id FROM grid_units WHERE code = ?", (GRID2,)).fetchone()[0]
        category = conn.execute("SELECT id FROM event_categories WHERE name = '矛盾纠纷'"
                                ).fetchone()[0]
        event_id = events.report_event(Context(conn, "admin"), grid_id, category,
                                       "邻里噪音纠纷", dt.date.today(), "张网格").id
    finally:
        conn.close()
        db.forget_keys()
    return street, event_id, person, stranger


def resident_of(conn, code) -> dict:
    return dict(conn.execute(
        """WITH RECURSIVE s(id) AS (SELECT id FROM grid_units WHERE code = ?
               UNION SELECT g.id FROM grid_units g JOIN s ON g.parent_id = s.id)
           SELECT r.id, r.name, r.id_number FROM residents r
           JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
           WHERE ho.unit_id IN (SELECT id FROM s) AND r.status = '在册'
           ORDER BY r.id LIMIT 1""", (code,)).fetchone())


def stored(path, event_id):
    """(resident_id, the event's log notes, actors of the audit's updates of the event)."""
    unlock.unlock(path, "admin", "demo2026")
    conn = db.open_db(path)
    try:
        resident = conn.execute("SELECT resident_id FROM events WHERE id = ?",
                                (event_id,)).fetchone()[0]
        notes = [(r["user"], r["note"]) for r in events.log(conn, event_id)[1:]]
        actors = [r[0] for r in conn.execute(
            "SELECT actor FROM audit_log WHERE entity = 'events' AND entity_id = ?"
            " AND action = 'update' ORDER BY id", (event_id,))]
    finally:
        conn.close()
        db.forget_keys()
    return resident, notes, actors


def test_link_by_id_number_and_unlink_are_confirmed_logged_and_audited(
        linkable, monkeypatch, capsys):
    path, event_id, person, _stranger = linkable
    code, out, err = run(monkeypatch, capsys, ADMIN, "events", "link", "--db", path, event_id,
                         "--resident", person["id_number"])
    assert (code, err) == (0, "")
    assert out == f"已将事件 {event_id}（矛盾纠纷：邻里噪音纠纷）关联到居民 {person['name']}\n"
    assert stored(path, event_id)[0] == person["id"]

    code, out, _err = run(monkeypatch, capsys, ADMIN, "events", "link", "--db", path,
                          event_id, "--resident", person["id"])          # the same, by id
    assert code == 0 and out.endswith(f"已关联居民 {person['name']}，未作修改\n")

    code, out, _err = run(monkeypatch, capsys, ADMIN, "events", "link", "--db", path,
                          event_id, "--none")
    assert code == 0
    assert out == f"已解除事件 {event_id}（矛盾纠纷：邻里噪音纠纷）与居民 {person['name']} 的关联\n"
    resident, notes, actors = stored(path, event_id)
    assert resident is None
    assert notes == [("admin", f"关联居民：{person['name']}"), ("admin", "取消关联居民")]
    assert actors == ["admin", "admin"]


def test_a_resident_of_another_grid_a_reader_and_a_worker_elsewhere_are_refused(
        linkable, monkeypatch, capsys):
    path, event_id, person, stranger = linkable
    code, out, err = run(monkeypatch, capsys, ADMIN, "events", "link", "--db", path, event_id,
                         "--resident", stranger["id_number"])
    assert (code, out) == (2, "")
    assert err.startswith(f"错误：{stranger['name']}不住在“")
    assert err.endswith(" / 第2网格”，不能关联到这里的事件\n")

    code, _out, err = run(monkeypatch, capsys, READER, "events", "link", "--db", path,
                          event_id, "--resident", person["id_number"])
    assert code == 2 and "只读" in err

    code, _out, err = run(monkeypatch, capsys, WORKER, "events", "link", "--db", path,
                          event_id, "--none")
    assert code == 2 and "网格员只能修改" in err and "第2网格" in err

    code, _out, err = run(monkeypatch, capsys, ADMIN, "events", "link", "--db", path,
                          event_id, "--resident", "110105190001010000")
    assert code == 2 and "找不到居民" in err
    assert stored(path, event_id) == (None, [], [])
