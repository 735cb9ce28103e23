import hashlib
from db.driver import sqlite3
import subprocess
import sys

import pytest

import db
from db import migrate
from db.connection import APPLICATION_ID
from shequ_desktop.places import grid
from shequ_desktop.core.context import Context


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_open_db_sets_pragmas_and_applies_every_migration(conn):
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == db.connection.BUSY_TIMEOUT_MS
    assert conn.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert migrate.applied(conn) == migrate.known()
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"grid_units", "houses", "households", "residents", "tags",
            "resident_tags"} <= tables
    for table in ("grid_units", "houses", "households", "residents", "tags", "resident_tags"):
        cols = {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}
        assert {"uuid", "version", "updated_at"} <= cols, table


def test_reopen_keeps_data_and_applies_nothing(db_path):
    conn = db.open_db(db_path)
    grid.create_unit(Context(conn), None, "community", "阳光社区")
    conn.close()
    conn = db.open_db(db_path)
    assert migrate.pending(conn) == []
    assert conn.execute("SELECT name FROM grid_units").fetchone()[0] == "阳光社区"


def test_up_to_date_database_opens_without_importing_sqlite_utils(db_path):
    db.open_db(db_path).close()
    code = ("import sys, db; db.open_db(sys.argv[1]); "
            "print('sqlite_utils' in sys.modules, 'pandas' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, str(db_path)], capture_output=True,
                         text=True, check=True).stdout
    assert out.split() == ["False", "False"]


def test_text_file_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("这不是数据库" * 200, encoding="utf-8")
    before = digest(path)
    with pytest.raises(db.NotADatabaseError, match="不是有效的数据库"):
        db.open_db(path)
    assert digest(path) == before


def test_other_programs_sqlite_file_is_refused(tmp_path):
    path = tmp_path / "other.db"
    other = sqlite3.connect(path)
    other.execute("CREATE TABLE contacts (name TEXT)")
    other.commit()
    other.close()
    before = digest(path)
    with pytest.raises(db.NotADatabaseError, match="其他程序的数据库"):
        db.open_db(path)
    assert digest(path) == before


def test_database_from_newer_version_is_refused(db_path):
    conn = db.open_db(db_path)
    conn.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at) "
                 "VALUES ('shequ', 'm999_future', '2030-01-01')")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    before = digest(db_path)
    with pytest.raises(db.NewerDatabaseError, match="更新版本"):
        db.open_db(db_path)
    assert digest(db_path) == before


def test_read_only_file_is_refused(db_path):
    db.open_db(db_path).close()
    db_path.chmod(0o444)
    try:
        with pytest.raises(db.ReadOnlyDatabaseError, match="只读"):
            db.open_db(db_path)
    finally:
        db_path.chmod(0o644)


def test_locked_database_gives_clear_message_and_keeps_data(db_path):
    conn = db.open_db(db_path, busy_timeout_ms=50)
    ctx = Context(conn)
    grid.create_unit(ctx, None, "community", "阳光社区")
    other = sqlite3.connect(db_path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(db.DatabaseLockedError, match="占用"):
            grid.create_unit(ctx, None, "community", "月亮社区")
    finally:
        other.execute("ROLLBACK")
        other.close()
    names = [r[0] for r in conn.execute("SELECT name FROM grid_units")]
    assert names == ["阳光社区"]


def test_locked_file_cannot_be_opened(tmp_path):
    path = tmp_path / "locked.db"
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("CREATE TABLE t (x)")
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(db.DatabaseLockedError):
            db.open_db(path, busy_timeout_ms=50)
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_failed_migration_leaves_the_database_as_it_was(db_path, monkeypatch):
    def m900_breaks(database):
        database.conn.execute("CREATE TABLE half_done (x)")
        database.conn.execute("INSERT INTO grid_units (level, name) VALUES ('community', 'x')")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrate, "MIGRATIONS", [*migrate.MIGRATIONS, m900_breaks])
    with pytest.raises(RuntimeError, match="boom"):
        db.open_db(db_path)
    check = sqlite3.connect(db_path)
    tables = {r[0] for r in check.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    check.close()
    # all migrations run in one transaction: none of them is left behind
    assert "half_done" not in tables and "grid_units" not in tables


def test_failed_migration_on_existing_data_keeps_the_data(db_path, monkeypatch):
    conn = db.open_db(db_path)
    grid.create_unit(Context(conn), None, "community", "阳光社区")
    conn.close()

    def m900_breaks(database):
        database.conn.execute("DELETE FROM grid_units")
        raise RuntimeError("boom")

    monkeypatch.setattr(migrate, "MIGRATIONS", [*migrate.MIGRATIONS, m900_breaks])
    with pytest.raises(RuntimeError):
        db.open_db(db_path)
    monkeypatch.undo()
    conn = db.open_db(db_path)
    assert conn.execute("SELECT count(*) FROM grid_units").fetchone()[0] == 1
    assert migrate.pending(conn) == []


def test_atomic_nested_block_rolls_back_alone(conn):
    with db.atomic(conn):
        conn.execute("INSERT INTO settings VALUES ('a', '1')")
        with pytest.raises(ValueError):
            with db.atomic(conn):
                conn.execute("INSERT INTO settings VALUES ('b', '2')")
                raise ValueError
    assert [r[0] for r in conn.execute("SELECT key FROM settings")] == ["a"]


def test_directory_is_not_a_database(tmp_path):
    with pytest.raises(db.NotADatabaseError, match="文件夹"):
        db.open_db(tmp_path)
