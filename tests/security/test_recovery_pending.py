"""A recovery key that was never shown is shown at the next sign-in of an administrator
(issue 18): `shequ encrypt` killed after the first administrator was made but before the
file was encrypted, and `package merge` into a new file killed mid-merge. Killed at a marker
the child prints (no sleeps)."""
import os
import signal
import subprocess
import sys
from pathlib import Path

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.sync import exchange
from shequ_desktop.core import keys
from shequ_desktop.core.context import Context
from tests.sync.exchange_helpers import PASSPHRASE

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "Admin-2026"

KILLED_ENCRYPT = """
import sys
from shequ_desktop.cli import main as cli
from shequ_desktop.security import unlock

def encrypt_plain(*args, **kwargs):
    print("MARK", flush=True)
    sys.stdin.readline()              # killed here: the administrator made, the file plain

unlock.encrypt_plain = encrypt_plain
cli.main(["encrypt", "--db", sys.argv[1]])
"""

KILLED_MERGE = """
import sys
from shequ_desktop.cli import main as cli
from shequ_desktop.sync import merging

def merge(*args, **kwargs):
    print("MARK", flush=True)
    sys.stdin.readline()              # killed here: the new database made, nothing merged

merging.merge = merge
cli.main(["package", "merge", "--db", sys.argv[1], sys.argv[2]])
"""


def env(**extra):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SHEQU_")}
    return dict(clean, PYTHONPATH=str(ROOT), SHEQU_DATA_DIR=os.environ["SHEQU_DATA_DIR"],
                SHEQU_PASSWORD=PASSWORD, SHEQU_PACKAGE_PASSPHRASE=PASSPHRASE, **extra)


def kill_at_marker(script, *args):
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, args)], cwd=ROOT,
                             env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    for line in child.stdout:
        if line.strip() == "MARK":
            break
    else:
        raise AssertionError(child.stderr.read())
    child.send_signal(signal.SIGKILL)
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        stream.close()


def shequ(*args):
    return subprocess.run([sys.executable, "-m", "shequ_desktop", *map(str, args)], cwd=ROOT,
                          env=env(), capture_output=True, text=True, stdin=subprocess.DEVNULL)


def recovery_in(text):
    for word in text.split():
        try:
            return keys.from_recovery_text(word)
        except ValueError:
            continue
    return None


def test_a_killed_first_encryption_shows_the_recovery_key_at_the_next_command(tmp_path):
    path = tmp_path / "old.db"
    assert shequ("init", "--db", path, "--community", "向阳社区").returncode == 0
    kill_at_marker(KILLED_ENCRYPT, path)
    assert not db.is_encrypted(path) and keys.KeyFile.load(path).recovery_pending()

    first = shequ("search", "--db", path, "王")          # any command: finished, key shown
    assert first.returncode == 0, first.stderr
    key = recovery_in(first.stderr)
    assert key is not None and db.is_encrypted(path)
    db.use_key(path, key)
    conn = db.open_db(path)                               # the key shown opens it
    assert conn.execute("SELECT name FROM grid_units WHERE level = 'community'"
                        ).fetchone()[0] == "向阳社区"
    conn.close()
    again = shequ("search", "--db", path, "王")
    assert again.returncode == 0 and recovery_in(again.stderr) is None     # shown once


def test_a_rerun_of_encrypt_after_a_kill_prints_the_recovery_key(tmp_path):
    path = tmp_path / "old.db"
    assert shequ("init", "--db", path).returncode == 0
    kill_at_marker(KILLED_ENCRYPT, path)
    rerun = shequ("encrypt", "--db", path)
    assert rerun.returncode == 0, rerun.stderr
    key = keys.from_recovery_text(rerun.stdout.strip())
    db.use_key(path, key)
    assert db.is_encrypted(path) and db.open_db(path).close() is None


def test_a_killed_merge_into_a_new_database_shows_the_recovery_key_on_the_rerun(tmp_path):
    office = tmp_path / "office.db"
    conn = db.open_db(office)
    demo.generate(conn, residents=300, seed=2)
    unit = conn.execute("SELECT id FROM grid_units WHERE level = 'grid'").fetchone()[0]
    package = tmp_path / "grid.sqpkg"
    exchange.export_package(Context(conn, "管理员"), package, PASSPHRASE, unit)
    conn.close()
    laptop = tmp_path / "laptop.db"
    kill_at_marker(KILLED_MERGE, laptop, package)
    rerun = shequ("package", "merge", "--db", laptop, package)
    assert rerun.returncode == 0, rerun.stderr
    key = recovery_in(rerun.stderr)
    assert key is not None
    db.use_key(laptop, key)
    conn = db.open_db(laptop)
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] > 0
    conn.close()
