"""Backups and their rotation killed (issue 18): the process is killed at a marker it prints
(during the copy, before the rotation); no half-written copy carries a backup's name, the
database is untouched, and the next backup works."""
import datetime as dt
import signal
import subprocess
import sys
from pathlib import Path

import pytest

import db
from db.backup import check_file
from shequ_desktop.security import backups
from shequ_desktop.demo import street as demo
from tests.security.test_backup_rotation_clock import db_id_of
from tests.security.test_restore_safety import env, kill, read_until

ROOT = Path(__file__).resolve().parents[2]

BACKER = """
import datetime as dt, sys
import db
from shequ_desktop.security import backups
live, folder, stop = sys.argv[1:4]

def marker(name):
    print("STEP " + name, flush=True)
    if name == stop:
        sys.stdin.readline()          # killed here

real_rotate = backups.rotate
def rotate(*args, **kwargs):
    marker("rotate")
    return real_rotate(*args, **kwargs)
backups.rotate = rotate

def progress(done, total):
    if done:
        marker("copy")

conn = db.open_db(live)
backups.make_backup(conn, folder, "测试", now=dt.datetime(2026, 12, 1, 9, 0), progress=progress)
print("DONE", flush=True)
"""


@pytest.mark.parametrize("stop", ["copy", "rotate"])
def test_a_backup_killed_during_the_copy_or_the_rotation_leaves_no_bad_backup(tmp_path,
                                                                              stop):
    path = tmp_path / "office.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=400, seed=4)
    folder = tmp_path / "usb"
    for day in range(10):                               # older backups to rotate
        backups.make_backup(conn, folder, "测试", now=dt.datetime(2026, 11, 1 + day, 9, 0))
    conn.close()
    before = len(backups.backups(folder, "office", db_id_of(path)))
    child = subprocess.Popen([sys.executable, "-c", BACKER, str(path), str(folder), stop],
                             cwd=ROOT, env=env(), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert read_until(child, f"STEP {stop}"), child.stderr.read()
    child.send_signal(signal.SIGKILL)
    kill(child)
    assert check_file(path) is None                       # the database untouched
    named = backups.backups(folder, "office", db_id_of(path))
    assert all(check_file(f) is None for _t, f in named)   # every named backup is whole
    assert len(named) == before + (1 if stop == "rotate" else 0)
    conn = db.open_db(path)
    newest = backups.make_backup(conn, folder, "测试", now=dt.datetime(2026, 12, 2, 9, 0))
    conn.close()
    assert check_file(newest) is None and not list(folder.glob("*.partial"))
    assert backups.backups(folder, "office", db_id_of(path))[0][1] == newest
