"""One door for the command line (issue 18): every command signs in and runs with the user's
role and grid scope; the audit log names the signed-in user, with a login entry per session;
`shequ users` manages users; a plain database without users works as before."""
import json
import shutil

import pytest
from python_calamine import CalamineWorkbook

import db
from shequ_desktop.core import audit
from shequ_desktop.security import unlock
from shequ_desktop.cli.main import main
from shequ_desktop.core.keys import KeyFile
from tests.transfer.test_import import problem_rows, write_xlsx

GRID1, GRID2 = "11010500100101", "11010500100102"
ADMIN = {"SHEQU_USER": "admin", "SHEQU_PASSWORD": "demo2026"}
WORKER = {"SHEQU_USER": "zhang", "SHEQU_PASSWORD": "grid-2026"}
READER = {"SHEQU_USER": "li", "SHEQU_PASSWORD": "read-2026"}


def run(monkeypatch, capsys, env, *argv):
    for name in ("SHEQU_USER", "SHEQU_PASSWORD", "SHEQU_RECOVERY_KEY", "SHEQU_NEW_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A demo street (two grids) with a 网格员 of 第1网格 and a 只读 user, made through
    `shequ users add` as the administrator."""
    path = tmp_path_factory.mktemp("signin") / "street.db"
    with pytest.MonkeyPatch.context() as mp:
        assert main(["demo", "--db", str(path), "--residents", "1200", "--seed", "3"]) == 0
        for name, value in ADMIN.items():
            mp.setenv(name, value)
        mp.setenv("SHEQU_NEW_PASSWORD", "grid-2026")
        assert main(["users", "add", "--db", str(path), "zhang", "--role", "网格员",
                     "--unit", GRID1]) == 0
        mp.setenv("SHEQU_NEW_PASSWORD", "read-2026")
        assert main(["users", "add", "--db", str(path), "li", "--role", "只读"]) == 0
    db.forget_keys()
    return path


@pytest.fixture
def street(built, tmp_path):
    """A copy of the built database (with its key file) for one test."""
    path = tmp_path / "street.db"
    shutil.copy2(built, path)
    shutil.copy2(KeyFile.path_for(built), KeyFile.path_for(path))
    return path


def opened(path):
    unlock.unlock(path, "admin", "demo2026")
    return db.open_db(path)


def residents_in(conn, code=None, status=None):
    if code is None:
        return conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    if status is not None:
        return conn.execute(
            "WITH RECURSIVE s(id) AS (SELECT id FROM grid_units WHERE code = ?"
            " UNION SELECT g.id FROM grid_units g JOIN s ON g.parent_id = s.id)"
            " SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id"
            " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM s)"
            " AND r.status = ?", (code, status)).fetchone()[0]
    return conn.execute(
        "WITH RECURSIVE s(id) AS (SELECT id FROM grid_units WHERE code = ?"
        " UNION SELECT g.id FROM grid_units g JOIN s ON g.parent_id = s.id)"
        " SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM s)",
        (code,)).fetchone()[0]


def test_a_grid_worker_exports_only_their_grid_and_is_recorded_by_name(street, tmp_path,
                                                                       monkeypatch, capsys):
    out_file = tmp_path / "mine.xlsx"
    code, out, err = run(monkeypatch, capsys, WORKER, "export", "--db", street,
                         "--what", "residents", "-o", out_file)
    assert code == 0, err
    rows = CalamineWorkbook.from_path(str(out_file)).get_sheet_by_index(0).to_python()
    conn = opened(street)
    mine, everyone = residents_in(conn, GRID1, "在册"), residents_in(conn)
    assert 0 < mine < everyone / 2
    assert len(rows) == mine + 1                               # the header, then their people
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "zhang"
    login = audit.entries(conn, action="login")[0]
    assert login["actor"] == "zhang" and "命令行：export" in login["summary"]
    conn.close()

    refused = run(monkeypatch, capsys, WORKER, "export", "--db", street, "--what", "residents",
                  "--unit", GRID2, "-o", tmp_path / "theirs.xlsx")
    assert refused[0] == 2 and "网格员只能" in refused[2]
    assert not (tmp_path / "theirs.xlsx").exists()


def test_a_grid_worker_prints_packages_and_searches_only_their_grid(street, tmp_path,
                                                                     monkeypatch, capsys):
    code, _out, err = run(monkeypatch, capsys, WORKER, "ledger", "--db", street, "--kind",
                          "residents", "--unit", GRID2, "--unmask", "-o", tmp_path / "l.pdf")
    assert code == 2 and "网格员只能" in err and not (tmp_path / "l.pdf").exists()

    code, _out, err = run(monkeypatch, capsys, WORKER, "package", "export", "--db", street,
                          "--unit", GRID2, "--passphrase", "pack-2026", "-o", tmp_path / "p")
    assert code == 2 and "网格员只能导出" in err
    code, out, err = run(monkeypatch, capsys, WORKER, "package", "export", "--db", street,
                         "--passphrase", "pack-2026", "-o", tmp_path / "mine.sqpkg")
    assert code == 0 and "第1网格" in out, err

    def found(env):
        code, out, _err = run(monkeypatch, capsys, env, "search", "--db", street, "王",
                              "--limit", "0", "--json")
        assert code == 0
        return {json.loads(line)["id"] for line in out.splitlines()}

    theirs, everyone = found(WORKER), found(ADMIN)
    assert theirs and theirs < everyone
    conn = opened(street)
    grid1 = {r[0] for r in conn.execute(
        "WITH RECURSIVE s(id) AS (SELECT id FROM grid_units WHERE code = ?"
        " UNION SELECT g.id FROM grid_units g JOIN s ON g.parent_id = s.id)"
        " SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM s)",
        (GRID1,))}
    assert theirs == everyone & grid1
    conn.close()


@pytest.mark.parametrize("env", [WORKER, READER], ids=["网格员", "只读"])
def test_only_administrators_back_up_restore_and_manage_users(street, tmp_path, monkeypatch,
                                                             capsys, env):
    for argv in (["backup", "--db", street, "-o", tmp_path / "b.db"],
                 ["restore", "--db", street, tmp_path / "b.db"],
                 ["users", "list", "--db", street],
                 ["users", "disable", "--db", street, "admin"]):
        code, _out, err = run(monkeypatch, capsys, env, *argv)
        assert code == 2 and "只有管理员" in err, argv
    assert not (tmp_path / "b.db").exists()


def test_imports_are_held_to_the_role_and_the_grid(street, tmp_path, monkeypatch, capsys):
    sheet = write_xlsx(tmp_path / "s.xlsx", problem_rows())
    conn = opened(street)
    before = residents_in(conn)
    conn.close()
    code, _out, err = run(monkeypatch, capsys, READER, "import", sheet, "--db", street)
    assert code == 2 and "只读用户不能修改数据" in err
    code, _out, err = run(monkeypatch, capsys, WORKER, "import", sheet, "--db", street,
                          "--unit", GRID2)
    assert code == 2 and "网格员只能" in err
    conn = opened(street)
    assert residents_in(conn) == before
    conn.close()
    code, out, err = run(monkeypatch, capsys, WORKER, "import", sheet, "--db", street, "--json")
    assert code == 3, err                                 # into their grid; bad rows left out
    conn = opened(street)
    assert residents_in(conn, GRID1) > 0 and residents_in(conn) == before + 8
    assert audit.entries(conn, action="import")[0]["actor"] == "zhang"
    conn.close()


def test_the_user_option_names_the_signed_in_user_and_needs_their_password(
        street, monkeypatch, capsys):
    code, _out, err = run(monkeypatch, capsys, {"SHEQU_PASSWORD": "demo2026"}, "check",
                          "--db", street, "--user", "张三假冒")
    assert code == 2 and "用户名或密码错误" in err
    code, _out, err = run(monkeypatch, capsys, {"SHEQU_PASSWORD": "grid-2026"}, "check",
                          "--db", street, "--user", "zhang")
    assert code == 0, err
    conn = opened(street)
    logins = audit.entries(conn, action="login")
    assert logins[0]["actor"] == "zhang" and "命令行：check" in logins[0]["summary"]
    failed = audit.entries(conn, action="login_failed")[0]       # counted, name not kept
    assert "未知用户名" in failed["summary"] and "张三假冒" not in failed["summary"]
    conn.close()


def test_a_disabled_user_cannot_sign_in_and_a_new_one_can(street, monkeypatch, capsys):
    code, out, err = run(monkeypatch, capsys, ADMIN, "users", "list", "--db", street, "--json")
    assert code == 0, err
    listed = {json.loads(line)["username"]: json.loads(line) for line in out.splitlines()}
    assert listed["zhang"]["role"] == "网格员" and "第1网格" in listed["zhang"]["units"]
    assert run(monkeypatch, capsys, ADMIN, "users", "disable", "--db", street, "zhang")[0] == 0
    code, _out, err = run(monkeypatch, capsys, WORKER, "search", "--db", street, "王")
    assert code == 2 and "用户名或密码错误" in err
    code, _out, err = run(monkeypatch, capsys, {**ADMIN, "SHEQU_NEW_PASSWORD": "1234"},
                          "users", "add", "--db", street, "wang", "--role", "只读")
    assert code == 2 and "至少需要 8 个字符" in err
    code, _out, err = run(monkeypatch, capsys, {**ADMIN, "SHEQU_NEW_PASSWORD": "wang-2026"},
                          "users", "add", "--db", street, "wang", "--role", "网格员")
    assert code == 2 and "至少要分配一个网格" in err
    code, _out, err = run(monkeypatch, capsys, {**ADMIN, "SHEQU_NEW_PASSWORD": "wang-2026"},
                          "users", "add", "--db", street, "wang", "--role", "网格员",
                          "--unit", GRID2)
    assert code == 0, err
    code, out, err = run(monkeypatch, capsys, {"SHEQU_USER": "wang", "SHEQU_PASSWORD":
                                               "wang-2026"}, "visits", "due", "--db", street,
                         "--unit", GRID1)
    assert code == 2 and "网格员只能" in err


def test_the_recovery_key_signs_in_as_an_administrator(street, tmp_path, monkeypatch, capsys):
    from shequ_desktop.core.keys import recovery_text

    conn = opened(street)
    key = db.key_of(street)
    conn.close()
    db.forget_keys()
    code, _out, err = run(monkeypatch, capsys, {"SHEQU_RECOVERY_KEY": recovery_text(key)},
                          "backup", "--db", street, "-o", tmp_path / "b.db")
    assert code == 0, err
    conn = opened(street)
    assert audit.entries(conn, action="backup")[0]["actor"] == "恢复密钥"
    assert "恢复密钥" in audit.entries(conn, action="login")[0]["summary"]
    conn.close()


def test_a_plain_database_without_users_works_as_before(tmp_path, monkeypatch, capsys):
    path = tmp_path / "plain.db"
    assert run(monkeypatch, capsys, {}, "init", "--db", path, "--community", "向阳社区")[0] == 0
    sheet = write_xlsx(tmp_path / "s.xlsx", problem_rows())
    code, _out, err = run(monkeypatch, capsys, {}, "import", sheet, "--db", path, "--user",
                          "张主任")
    assert code == 3, err
    code, out, _err = run(monkeypatch, capsys, {}, "search", "--db", path, "王", "--json")
    assert code == 0 and "王建国" in out
    conn = db.open_db(path)
    assert audit.entries(conn, action="import")[0]["actor"] == "张主任"
    assert not audit.entries(conn, action="login")
    conn.close()


def test_a_damaged_database_is_restored_by_whoever_proves_a_password(street, tmp_path,
                                                                      monkeypatch, capsys):
    backup = tmp_path / "b.db"
    assert run(monkeypatch, capsys, ADMIN, "backup", "--db", street, "-o", backup)[0] == 0
    data = bytearray(street.read_bytes())
    data[100:4096] = b"\x07" * 3996                  # page 1 no longer decrypts
    street.write_bytes(bytes(data))
    db.forget_keys()
    code, _out, err = run(monkeypatch, capsys, ADMIN, "search", "--db", street, "王")
    assert code == 2                                 # cannot be opened
    code, _out, err = run(monkeypatch, capsys, {**ADMIN, "SHEQU_PASSWORD": "wrong-2026"},
                          "restore", "--db", street, backup, "--keep-dir", tmp_path / "kept")
    assert code == 2 and "用户名或密码错误" in err
    code, _out, err = run(monkeypatch, capsys, ADMIN, "restore", "--db", street, backup,
                          "--keep-dir", tmp_path / "kept")
    assert code == 0, err
    assert run(monkeypatch, capsys, ADMIN, "search", "--db", street, "王")[0] == 0
    conn = opened(street)
    assert audit.entries(conn, action="restore")[0]["actor"] == "admin"
    conn.close()
