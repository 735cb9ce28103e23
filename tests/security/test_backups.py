"""Backups through the online backup API, rotation, restore and its checks (real files)."""
import datetime as dt
import json

import pytest

from db import StorageError, open_db
from db.backup import check_file, copy_database, damage
from shequ_desktop.core import audit, keys
from shequ_desktop.security import backups, users
from shequ_desktop.population import residents
from shequ_desktop.cli.main import main


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


def names(conn):
    return sorted(r[0] for r in conn.execute("SELECT name FROM residents"))


def status(conn, resident_id):
    return conn.execute("SELECT status FROM residents WHERE id = ?",
                        (resident_id,)).fetchone()[0]


def test_backup_is_a_sound_copy_with_the_key_file(conn, ctx, db_path, family, tmp_path):
    users.create_first_admin(ctx, db_path, "admin", "Admin-2026")
    folder = tmp_path / "usb"
    copy = backups.make_backup(conn, folder, "张三", now=dt.datetime(2026, 11, 3, 18, 0))
    db_id = backups.database_id(conn)
    assert copy.name == f"test-{db_id}-20261103-180000-1.db" and check_file(copy) is None
    assert keys.KeyFile.path_for(copy).exists()
    assert not list(folder.glob("*.partial"))
    other = open_db(copy)
    assert names(other) == names(conn)
    assert backups.database_id(other) == db_id              # a restored copy keeps its id
    other.close()
    assert audit.entries(conn, action="backup")[0]["actor"] == "张三"


def test_a_cancelled_backup_leaves_no_file(conn, family, tmp_path):
    target = tmp_path / "b.db"

    def cancel(done, total):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        copy_database(conn, target, cancel)
    assert not target.exists() and not list(tmp_path.glob("*.partial"))


def test_rotation_keeps_7_daily_4_weekly_12_monthly_of_this_database_only(tmp_path):
    now = dt.datetime(2026, 11, 21, 12, 0)
    for day in range(400):                         # two backups a day for 400 days
        for hour in (9, 17):
            taken = now - dt.timedelta(days=day, hours=12 - hour)
            (tmp_path / f"shequ-aaaa1111-{taken:%Y%m%d-%H%M%S}.db").write_bytes(b"x")
    other = tmp_path / "shequ-bbbb2222-20250101-090000.db"     # same name, other database
    other.write_bytes(b"x")
    backups.rotate(tmp_path, "shequ", "aaaa1111", now=now)
    kept = [t for t, _f in backups.backups(tmp_path, "shequ", "aaaa1111")]
    days = {t.date() for t in kept}
    assert all(now.date() - dt.timedelta(days=d) in days for d in range(7))
    assert len({t.isocalendar()[:2] for t in kept}) >= 4
    assert len({(t.year, t.month) for t in kept}) == 12
    assert len(kept) <= 7 + 4 + 12
    assert all(t.hour == 17 for t in kept)         # the newest of each period is kept
    assert other.exists()


def test_backup_is_due_once_a_day_and_a_future_dated_one_does_not_count(tmp_path, conn):
    assert backups.is_due(tmp_path, "test", None)
    backups.make_backup(conn, tmp_path, "张三", now=dt.datetime(2026, 11, 21, 9, 0))
    db_id = backups.database_id(conn)
    assert not backups.is_due(tmp_path, "test", db_id, now=dt.datetime(2026, 11, 21, 23, 0))
    assert backups.is_due(tmp_path, "test", db_id, now=dt.datetime(2026, 11, 22, 8, 0))
    assert backups.is_due(tmp_path, "test", db_id, now=dt.datetime(2026, 11, 20, 8, 0))


def test_restore_checks_the_backup_and_keeps_the_current_database(ctx, conn, db_path, family,
                                                                  tmp_path):
    users.create_first_admin(ctx, db_path, "zhang", "Zhang-2026")
    folder = tmp_path / "backups"
    good = backups.make_backup(conn, folder, "张三")
    son = family[1]["son"]
    residents.record_death(ctx, son, "2026-11-01")             # a change after the backup
    users.create_user(ctx, keys.KeyFile.load(db_path), users.sign_in(
        conn, db_path, "zhang", "Zhang-2026")[1], "li", "Li-2026-x", "管理员")
    after = names(conn)
    conn.close()

    kept = backups.restore(db_path, good, folder, "张三")
    restored = open_db(db_path)
    assert status(restored, son) == "在册"                       # the backup's state is back
    assert audit.entries(restored, action="restore")[0]["actor"] == "张三"
    user, _key = users.sign_in(restored, db_path, "zhang", "Zhang-2026")  # keys match the data
    assert user.username == "zhang" and not keys.KeyFile.load(db_path).data["users"].get("li")
    restored.close()
    before_restore = open_db(kept)
    assert status(before_restore, son) == "死亡" and names(before_restore) == after
    before_restore.close()
    assert keys.KeyFile.path_for(kept).exists()
    assert not list(db_path.parent.glob("*.restoring"))


def test_a_damaged_backup_is_refused_and_nothing_changes(conn, db_path, family, tmp_path):
    good = backups.make_backup(conn, tmp_path, "张三")
    bad = tmp_path / "bad.db"
    data = bytearray(good.read_bytes())
    data[4096:8192] = b"\xff" * 4096                 # trash the second page
    bad.write_bytes(bytes(data))
    assert check_file(bad, full=True) is not None
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(StorageError, match="不能用于恢复"):
        backups.restore(db_path, bad, tmp_path, "张三")
    assert db_path.read_bytes() == before and not list(tmp_path.glob("*.restoring"))


def test_a_backup_from_a_newer_program_is_refused_before_anything_is_touched(
        conn, db_path, family, tmp_path):
    newer = backups.make_backup(conn, tmp_path / "b", "张三")
    other = open_db(newer)
    other.execute("INSERT INTO _sqlite_migrations (migration_set, name, applied_at)"
                  " VALUES ('shequ', 'm999_future', '2030-01-01')")
    other.close()
    assert "更新版本" in check_file(newer)
    assert backups.newest_good(tmp_path / "b", "test", backups.database_id(conn)) is None
    conn.close()
    before = db_path.read_bytes()
    with pytest.raises(StorageError, match="更新版本"):
        backups.restore(db_path, newer, tmp_path, "张三")
    assert db_path.read_bytes() == before


def test_a_damaged_database_is_kept_aside_and_replaced_by_the_newest_good_backup(
        conn, db_path, family, tmp_path):
    folder = tmp_path / "backups"
    backups.make_backup(conn, folder, "张三", now=dt.datetime(2026, 11, 1, 9, 0))
    backups.make_backup(conn, folder, "张三", now=dt.datetime(2026, 11, 2, 9, 0))
    db_id = backups.database_id(conn)
    newest = backups.backups(folder, "test", db_id)[0][1]
    newest.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)   # the newest backup is broken
    wanted = names(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db_path.read_bytes())
    data[4096 * 3:4096 * 5] = b"\x07" * 8192                     # the database is damaged
    db_path.write_bytes(bytes(data))
    assert damage(db_path) is not None

    good = backups.newest_good(folder, "test", db_id)
    assert good is not None and good.name.startswith(f"test-{db_id}-20261101-090000-")
    kept = backups.restore(db_path, good, folder, "张三")
    assert kept.name.startswith("test.db.damaged-") and kept.read_bytes() == bytes(data)
    restored = open_db(db_path)
    assert names(restored) == wanted
    restored.close()


def test_damage_leaves_new_and_foreign_files_to_open_db(tmp_path):
    assert damage(tmp_path / "new.db") is None
    (tmp_path / "名单.txt").write_text("姓名,电话\n", encoding="utf-8")
    assert damage(tmp_path / "名单.txt") is None


def test_cli_backup_and_restore(conn, db_path, family, tmp_path, capsys):
    conn.close()
    out = tmp_path / "manual.db"
    assert main(["backup", "--db", str(db_path), "-o", str(out)]) == 0
    assert check_file(out) is None
    assert main(["restore", "--db", str(db_path), str(out), "--keep-dir",
                 str(tmp_path / "kept")]) == 0
    assert list((tmp_path / "kept").glob("test-恢复前-*.db"))
    assert main(["restore", "--db", str(db_path), str(tmp_path / "missing.db")]) == 2
    assert "不存在" in capsys.readouterr().err


def test_a_hot_journal_of_a_damaged_database_is_never_replayed_into_the_restored_one(
        conn, db_path, family, tmp_path):
    good = backups.make_backup(conn, tmp_path / "b", "张三")
    wanted = names(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    journal = db_path.with_name(db_path.name + "-journal")
    journal.write_bytes(b"\xd9\xd5\x05\xf9\x20\xa1\x63\xd7" + b"\x00" * 4088)   # a hot journal
    data = bytearray(db_path.read_bytes())
    data[-4096:] = b"\x07" * 4096
    db_path.write_bytes(bytes(data))
    kept = backups.restore(db_path, good, tmp_path, "张三")
    assert not journal.exists() and kept.with_name(kept.name + "-journal").exists()
    assert check_file(db_path) is None
    restored = open_db(db_path)
    assert names(restored) == wanted
    restored.close()


def test_a_failed_swap_keeps_the_current_databases_last_changes_and_says_so(
        ctx, conn, db_path, family, tmp_path, monkeypatch):
    good = backups.make_backup(conn, tmp_path / "b", "张三")
    residents.record_death(ctx, family[1]["son"], "2026-11-01")
    conn.close()                                   # restore refuses while it is open
    real_replace = backups.os.replace

    def busy(src, dst):
        if str(dst) == str(db_path):
            raise PermissionError(13, "文件正在使用")
        return real_replace(src, dst)

    monkeypatch.setattr(backups.os, "replace", busy)
    with pytest.raises(StorageError, match="恢复进行到一半.*恢复前的数据库保存在"):
        backups.restore(db_path, good, tmp_path, "张三")
    monkeypatch.undo()
    kept = next(tmp_path.glob("test-恢复前-*.db"))
    copy = open_db(kept)
    assert status(copy, family[1]["son"]) == "死亡"                 # nothing lost
    copy.close()
    assert not list(tmp_path.glob("*.restoring"))


def test_the_current_key_file_is_kept_when_a_damaged_database_is_replaced(
        ctx, conn, db_path, tmp_path):
    users.create_first_admin(ctx, db_path, "admin", "Admin-2026")
    good = backups.make_backup(conn, tmp_path / "b", "admin")
    keys.KeyFile.path_for(good).unlink()                        # a backup without its key file
    current_keys = keys.KeyFile.path_for(db_path).read_bytes()
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    data = bytearray(db_path.read_bytes())
    data[-4096:] = b"\x07" * 4096
    db_path.write_bytes(bytes(data))
    kept = backups.restore(db_path, good, tmp_path, "admin")
    assert keys.KeyFile.path_for(kept).read_bytes() == current_keys
    restored_keys = json.loads(keys.KeyFile.path_for(db_path).read_text(encoding="utf-8"))
    assert restored_keys["users"] == json.loads(current_keys)["users"]     # same users
    assert restored_keys["audit_anchor"]["id"] > 0           # anchored anew after the restore
