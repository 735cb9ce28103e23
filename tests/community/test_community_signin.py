"""Issue 21 on the one door of the command line: the community commands run signed in, with
the user's role and grid scope (a 网格员 lists their grid's micro-grids, meetings and
check-ups only; a 只读 user cannot record anything) and the audit log names who acted."""
import json

from tests.security.test_cli_signin import (ADMIN, GRID1, READER, WORKER, built,  # noqa: F401
                                   opened, run, street)


def lines(out):
    return [json.loads(line) for line in out.splitlines()]


def test_a_grid_worker_lists_only_their_grids_community_records(monkeypatch, capsys, street):
    conn = opened(street)
    grid1 = conn.execute("SELECT id FROM grid_units WHERE code = ?", (GRID1,)).fetchone()[0]
    mine = {r[0] for r in conn.execute("SELECT id FROM microgrids WHERE grid_id = ?", (grid1,))}
    every = conn.execute("SELECT count(*) FROM microgrids").fetchone()[0]
    conn.close()
    assert 0 < len(mine) < every
    code, out, _err = run(monkeypatch, capsys, WORKER, "microgrids", "list", "--db", street,
                          "--json")
    assert code == 0 and {r["id"] for r in lines(out)} == mine
    code, out, _err = run(monkeypatch, capsys, ADMIN, "microgrids", "list", "--db", street,
                          "--json")
    assert code == 0 and len(lines(out)) == every


def test_a_read_only_user_cannot_record_and_the_audit_names_who_did(monkeypatch, capsys,
                                                                     street):
    code, _out, err = run(monkeypatch, capsys, READER, "focus", "catalogue", "--db", street)
    assert code == 2 and "只读" in err
    code, _out, err = run(monkeypatch, capsys, WORKER, "focus", "add", "--db", street,
                          "自定义", "--interval", "30")
    assert code == 2 and "管理员" in err
    code, out, _err = run(monkeypatch, capsys, ADMIN, "focus", "add", "--db", street,
                          "自定义", "--interval", "30")
    assert code == 0
    conn = opened(street)
    actor = conn.execute("SELECT actor FROM audit_log WHERE entity = 'tags' ORDER BY id DESC"
                         ).fetchone()[0]
    conn.close()
    assert actor == "admin"
