"""The audit trail cannot be rewritten unseen with the database password alone (issue 18): the
newest entry's hash is anchored in the key file (outside the database) at every sign-in,
command-line session and backup, and `shequ check` compares."""
import pytest

import db
from shequ_desktop.core import audit
from shequ_desktop.places import founding as community
from shequ_desktop.security import unlock, users
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.keys import KeyFile

PASSWORD = "Admin-2026"


@pytest.fixture
def encrypted(tmp_path, monkeypatch):
    path = tmp_path / "office.db"
    conn, key = unlock.create_database(path)
    users.create_first_admin(Context(conn, "admin"), path, "admin", PASSWORD, db_key=key)
    ctx = Context(conn, "admin")
    community.init_community(ctx, "向阳社区", "幸福街道")
    for i in range(5):
        audit.record(conn, "admin", "export", summary=f"导出第 {i} 次")
    conn.close()
    db.forget_keys()
    monkeypatch.setenv("SHEQU_USER", "admin")
    monkeypatch.setenv("SHEQU_PASSWORD", PASSWORD)
    return path


def check(path, capsys):
    code = main(["check", "--db", str(path)])
    out = capsys.readouterr().out
    return code, out


def rewrite_chain(path, drop):
    """What a holder of the database password can do: drop the triggers, delete entries,
    recompute every hash after them, put the triggers back."""
    unlock.unlock(path, "admin", PASSWORD)
    conn = db.open_db(path)
    triggers = [r[0] for r in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")]
    with db.atomic(conn):
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("DROP TRIGGER audit_log_no_delete")
        drop(conn)
        prev = audit.GENESIS
        for row in conn.execute("SELECT id, at, actor, action, entity, entity_id, summary,"
                                " detail FROM audit_log ORDER BY id").fetchall():
            digest = audit._digest(prev, *row[1:])
            conn.execute("UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?",
                         (prev, digest, row[0]))
            prev = digest
        for sql in triggers:
            conn.execute(sql)
    # the chain itself holds again: only the anchor outside the database tells
    assert all("密钥文件" in why for _id, why in audit.broken_links(conn))
    conn.close()
    db.forget_keys()


def test_a_chain_rewritten_through_the_database_fails_the_check(encrypted, capsys):
    code, out = check(encrypted, capsys)                  # signs in: the anchor is written
    assert code == 0, out
    assert KeyFile.load(encrypted).audit_anchor() is not None

    rewrite_chain(encrypted, lambda conn: conn.execute(
        "DELETE FROM audit_log WHERE action = 'export' AND summary = '导出第 2 次'"))
    code, out = check(encrypted, capsys)
    assert code == 1 and "审计日志链条断裂" in out and "密钥文件" in out


def test_cutting_off_the_newest_entries_fails_the_check(encrypted, capsys):
    assert check(encrypted, capsys)[0] == 0
    rewrite_chain(encrypted, lambda conn: conn.execute(
        "DELETE FROM audit_log WHERE id >= (SELECT max(id) - 1 FROM audit_log)"))
    code, out = check(encrypted, capsys)
    assert code == 1 and "不见了" in out


def test_an_untouched_chain_keeps_passing_session_after_session(encrypted, capsys):
    for _ in range(3):
        code, out = check(encrypted, capsys)
        assert code == 0, out
    anchored = KeyFile.load(encrypted).audit_anchor()
    unlock.unlock(encrypted, "admin", PASSWORD)
    conn = db.open_db(encrypted)
    assert anchored["id"] == conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    conn.close()
