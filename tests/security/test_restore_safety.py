"""Restore under attack (issue 18): another program with the database open, and SIGKILL at
every step of a restore. The killed process reports each step on a marker line and waits on
its stdin there; the test kills it when it reads the marker (no sleeps). After every kill the
database opens, is sound, and every transaction committed before the restore is in the live
database or, once the backup has replaced it, in the copy kept of it."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import db
from db.backup import check_file
from shequ_desktop.security import backups, unlock, users
from shequ_desktop.demo import street as demo
from shequ_desktop.core.context import Context
from shequ_desktop.core.keys import KeyFile

ROOT = Path(__file__).resolve().parents[2]
STEPS = ("copied", "held", "kept", "aside", "keys", "swapped", "encrypted", "recorded")
EDIT = "已提交的修改"

RESTORER = """
import sys
import db
from shequ_desktop.security import backups
live, backup, folder, stop = sys.argv[1:5]
if len(sys.argv) > 5:
    key = bytes.fromhex(sys.argv[5])
    db.use_key(live, key)
    db.use_key(backup, key)

def step(name):
    print("STEP " + name, flush=True)
    if name == stop:
        sys.stdin.readline()          # killed here

backups.restore(live, backup, folder, "测试", on_step=step)
print("DONE", flush=True)
"""

WRITER = """
import sys
import db
from db import atomic
live = sys.argv[1]
if len(sys.argv) > 2:
    db.use_key(live, bytes.fromhex(sys.argv[2]))
conn = db.open_db(live)
for line in sys.stdin:
    n = line.strip()
    if not n:
        break
    with atomic(conn):
        conn.execute("UPDATE residents SET name = ? WHERE id = ?", (%r + n, int(n)))
    print("COMMITTED " + n, flush=True)
""" % EDIT


def env():
    return dict(os.environ, PYTHONPATH=str(ROOT))


def start(script, *args):
    return subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT,
                            env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def read_until(proc, marker):
    for line in proc.stdout:
        if line.strip() == marker:
            return True
    return False


def kill(proc):
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        stream.close()


@pytest.fixture(params=["plain", "encrypted"])
def office(request, tmp_path):
    """A database, a backup of it, then an edit committed by a process killed at once (it
    stays in the WAL, not checkpointed). Returns (db file, backup, key hex or None)."""
    path = tmp_path / "office.db"
    key = None
    if request.param == "encrypted":
        conn, key = unlock.create_database(path)
        users.create_first_admin(Context(conn, "admin"), path, "admin", "Admin-2026", db_key=key)
    else:
        conn = db.open_db(path)
    demo.generate(conn, residents=150, seed=5)
    backup = backups.make_backup(conn, tmp_path / "usb", "测试")
    with db.atomic(conn):                          # after the backup, in the file itself
        conn.execute("UPDATE residents SET name = ? WHERE id = 2", (EDIT + "2",))
    conn.close()
    hexkey = key.hex() if key else None
    writer = start(WRITER, path, *([hexkey] if hexkey else []))
    writer.stdin.write("1\n")
    writer.stdin.flush()
    assert read_until(writer, "COMMITTED 1")
    kill(writer)                                   # committed, left in the WAL
    assert Path(f"{path}-wal").stat().st_size > 0
    return path, backup, hexkey


def name_of(path, key, resident_id=1):
    if key:
        db.use_key(path, bytes.fromhex(key))
    conn = db.open_read_only(path)
    try:
        return conn.execute("SELECT name FROM residents WHERE id = ?",
                            (resident_id,)).fetchone()[0]
    finally:
        conn.close()


@pytest.mark.parametrize("stop", [*STEPS, None])
def test_a_restore_killed_at_any_step_loses_no_committed_transaction(office, tmp_path, stop):
    path, backup, key = office
    folder = tmp_path / "kept"
    restorer = start(RESTORER, path, backup, folder, stop or "-", *([key] if key else []))
    if stop is None:
        assert read_until(restorer, "DONE"), restorer.stderr.read()
        restorer.wait()
        for stream in (restorer.stdin, restorer.stdout, restorer.stderr):
            stream.close()
    else:
        assert read_until(restorer, f"STEP {stop}"), restorer.stderr.read()
        kill(restorer)
    if key:
        db.use_key(path, bytes.fromhex(key))
    assert check_file(path) is None                       # the live database is sound
    if key:
        assert KeyFile.load(path).users() == ["admin"]     # and someone can sign in
        unlock.unlock(path, "admin", "Admin-2026")
    live = [name_of(path, key, n).startswith(EDIT) for n in (1, 2)]
    kept = sorted(folder.glob("office-恢复前-*.db"))
    if live == [True, True]:
        return                                  # not replaced: both edits are there
    assert live == [False, False], "the live database lost its last committed transaction"
    assert name_of(path, key, 3) == name_of(backup, key, 3)         # it is the backup
    assert kept and all(name_of(kept[0], key, n).startswith(EDIT) for n in (1, 2)), \
        "the committed edits are in no database"


def test_restore_refuses_while_another_program_has_the_database_open(office, tmp_path):
    path, backup, key = office
    writer = start(WRITER, path, *([key] if key else []))
    try:
        for n in range(2, 7):
            writer.stdin.write(f"{n}\n")
            writer.stdin.flush()
            assert read_until(writer, f"COMMITTED {n}")
        if key:
            db.use_key(path, bytes.fromhex(key))
            db.use_key(backup, bytes.fromhex(key))
        with pytest.raises(db.StorageError, match="正打开着"):
            backups.restore(path, backup, tmp_path / "kept", "测试")
        for n in range(7, 12):                            # it goes on writing
            writer.stdin.write(f"{n}\n")
            writer.stdin.flush()
            assert read_until(writer, f"COMMITTED {n}")
        writer.stdin.write("\n")
        writer.stdin.flush()
        writer.wait()
    finally:
        if writer.poll() is None:
            kill(writer)
        else:
            for stream in (writer.stdin, writer.stdout, writer.stderr):
                stream.close()
    lost = [n for n in range(1, 12) if not name_of(path, key, n).startswith(EDIT)]
    assert lost == []
    assert not list(path.parent.glob("*.restoring"))


def test_a_backup_with_a_damaged_key_file_does_not_replace_a_good_one(tmp_path):
    path = tmp_path / "office.db"
    conn, key = unlock.create_database(path)
    users.create_first_admin(Context(conn, "admin"), path, "admin", "Admin-2026", db_key=key)
    demo.generate(conn, residents=50, seed=5)
    backup = backups.make_backup(conn, tmp_path / "usb", "测试")
    conn.close()
    KeyFile.path_for(backup).write_text("{broken", encoding="utf-8")
    good = KeyFile.path_for(path).read_bytes()
    backups.restore(path, backup, tmp_path / "kept", "测试")     # the current one opens it
    assert KeyFile.path_for(path).read_bytes().startswith(good[:20])
    db.forget_keys()
    assert unlock.unlock(path, "admin", "Admin-2026") == key       # still signs in

    other = tmp_path / "other.db"                       # a backup of another database
    conn, _other_key = unlock.create_database(other)
    users.create_first_admin(Context(conn, "admin"), other, "admin", "Other-2026")
    foreign = backups.make_backup(conn, tmp_path / "usb2", "测试")
    conn.close()
    KeyFile.path_for(foreign).write_text("{broken", encoding="utf-8")
    before = KeyFile.path_for(path).read_bytes()
    db.use_key(path, key)
    with pytest.raises(db.StorageError, match="密钥文件已损坏"):
        backups.restore(path, foreign, tmp_path / "kept", "测试")
    assert KeyFile.path_for(path).read_bytes() == before
