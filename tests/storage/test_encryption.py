"""Encryption at rest (issue 4): the file on disk holds no readable personal data, opens only
with its key, and a plain database from an older version is converted whole."""
import importlib
import threading

import pytest

import db
from db.backup import check_file, copy_database
from shequ_desktop.demo import street as demo
from shequ_desktop.core import keys, search
from shequ_desktop.security import unlock, users
from shequ_desktop.core.context import Context


def _table_rows(conn, table):
    return [tuple(r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1")]


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


@pytest.fixture
def encrypted(tmp_path):
    """A new encrypted database with 300 demo residents, its key and some of their names."""
    path = tmp_path / "街道.db"
    conn, key = unlock.create_database(path)
    demo.generate(conn, residents=300, seed=5)
    people = [tuple(r) for r in conn.execute(
        "SELECT name, id_number, phone FROM residents ORDER BY id LIMIT 50")]
    yield path, conn, key, people
    conn.close()


def test_the_file_and_its_wal_hold_no_names_or_id_numbers(encrypted):
    path, conn, _key, people = encrypted
    wal = path.with_name(path.name + "-wal")
    assert wal.stat().st_size > 0                       # recent writes are still in the WAL
    dump = path.read_bytes() + wal.read_bytes()
    assert not dump.startswith(b"SQLite format 3")
    for name, id_number, phone in people:
        assert name.encode("utf-8") not in dump
        assert id_number.encode("ascii") not in dump
        if phone:
            assert phone.encode("ascii") not in dump
    assert "社区".encode("utf-8") not in dump and b"residents" not in dump


def test_plain_sqlite_cannot_read_it(encrypted):
    path, conn, _key, _people = encrypted
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    stdlib = importlib.import_module("sqlite3")        # the standard library's own SQLite
    plain = stdlib.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    with pytest.raises(stdlib.DatabaseError, match="not a database"):
        plain.execute("SELECT name FROM residents").fetchall()
    plain.close()


def test_without_the_key_or_with_another_it_does_not_open(encrypted, tmp_path):
    path, conn, key, _people = encrypted
    conn.close()
    db.forget_keys()
    with pytest.raises(db.EncryptedDatabaseError, match="已加密，需要登录"):
        db.open_db(path)
    assert db.is_encrypted(path)
    db.use_key(tmp_path / "其他.db", keys.new_db_key())     # another database's key
    with pytest.raises(db.EncryptedDatabaseError, match="密钥不对"):
        db.open_db(path)
    db.use_key(path, key)
    again = db.open_db(path)
    assert again.execute("SELECT count(*) FROM residents").fetchone()[0] >= 250
    again.close()


def test_search_and_a_worker_threads_connection_work_on_the_encrypted_file(encrypted):
    path, conn, _key, people = encrypted
    name = people[0][0]
    assert name in [r["name"] for r in search.search(conn, name)]
    counted = []

    def worker():                      # opens its own connection, as ui.background does
        other = db.open_db(path)
        counted.append(other.execute("SELECT count(*) FROM residents").fetchone()[0])
        other.close()

    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert counted == [conn.execute("SELECT count(*) FROM residents").fetchone()[0]]


def test_a_backup_is_encrypted_with_the_same_key_and_checks_out(encrypted, tmp_path):
    path, conn, _key, people = encrypted
    copy = copy_database(conn, tmp_path / "usb" / "copy.db")
    assert db.is_encrypted(copy) and people[0][0].encode() not in copy.read_bytes()
    assert check_file(copy, full=True) is None
    db.forget_keys()
    assert "已加密" in check_file(copy)


def test_a_plain_database_is_encrypted_whole(tmp_path):
    path = tmp_path / "old.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=200, seed=9)
    tables = ("grid_units", "houses", "households", "residents", "resident_tags", "visits",
              "events", "audit_log", "settings")
    name = conn.execute("SELECT name FROM residents LIMIT 1").fetchone()[0]
    key = users.create_first_admin(Context(conn), path, "admin", "Admin-2026")
    before = {t: _table_rows(conn, t) for t in tables}
    conn.close()
    assert not db.is_encrypted(path)
    unlock.encrypt_plain(path, key)
    assert db.is_encrypted(path) and name.encode() not in path.read_bytes()
    assert not path.with_name(path.name + "-wal").exists()
    db.forget_keys()
    assert unlock.unlock(path, "admin", "Admin-2026") == key
    conn = db.open_db(path)
    assert {t: _table_rows(conn, t) for t in before} == before
    assert conn.execute("PRAGMA application_id").fetchone()[0] == db.connection.APPLICATION_ID
    assert name in [r["name"] for r in search.search(conn, name)]
    conn.close()


def test_encrypting_can_be_cancelled_and_leaves_the_plain_file(tmp_path):
    from shequ_desktop.core.progress import Cancelled

    path = tmp_path / "old.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=200, seed=9)
    before = _table_rows(conn, "residents")
    conn.close()
    calls = []

    def progress(done, total):
        calls.append(1)
        return False

    with pytest.raises(Cancelled):
        unlock.encrypt_plain(path, keys.new_db_key(), progress)
    assert calls and not db.is_encrypted(path)
    assert not path.with_name(path.name + ".encrypting").exists()
    conn = db.open_db(path)
    assert _table_rows(conn, "residents") == before
    conn.close()


def test_the_recovery_key_opens_it_and_sets_a_new_password_even_without_the_key_file(
        encrypted):
    path, conn, key, _people = encrypted
    users.create_first_admin(Context(conn), path, "admin", "Admin-2026", db_key=key)
    conn.close()
    keys.KeyFile.path_for(path).unlink()                     # the key file is lost
    db.forget_keys()
    with pytest.raises(Exception, match="不符"):
        unlock.check_recovery_key(path, keys.recovery_text(keys.new_db_key()))
    with pytest.raises(Exception, match="52 个字母"):
        unlock.check_recovery_key(path, "ABCD-EFGH")
    text = keys.recovery_text(key).lower().replace("-", " ")   # typed sloppily
    assert unlock.check_recovery_key(path, text) == key
    conn = db.open_db(path)
    user = unlock.reset_with_recovery_key(conn, path, key, "admin", "Newpass-2026")
    assert user.role == "管理员"
    conn.close()
    db.forget_keys()
    assert unlock.unlock(path, "admin", "Newpass-2026") == key


def test_a_damaged_encrypted_file_is_found_once_the_key_is_known(encrypted):
    from db.backup import damage

    path, conn, key, _people = encrypted
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(path.read_bytes())
    data[-8192:-4096] = bytes(4096)                 # one page wiped (its HMAC no longer fits)
    path.write_bytes(bytes(data))
    db.forget_keys()
    assert damage(path) is None                      # before sign-in it cannot be looked at
    db.use_key(path, key)
    problem = damage(path)
    assert problem is not None and "损坏" in problem
    assert "损坏" in check_file(path, full=True)


def test_encrypting_while_another_program_has_the_file_open_is_refused_whole(tmp_path):
    path = tmp_path / "old.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=100, seed=9)
    before = _table_rows(conn, "residents")           # `conn`: the other program, still open
    with pytest.raises(db.DatabaseLockedError, match="占用"):
        unlock.encrypt_plain(path, keys.new_db_key())
    assert not db.is_encrypted(path)
    assert not path.with_name(path.name + ".encrypting").exists()
    assert _table_rows(conn, "residents") == before
    conn.close()
