"""Temporary files with people's data stay in a private folder (issue 18): an export killed
while xlsxwriter streams its rows leaves them there, not in the shared system temp, and the
next start of any `shequ` command removes them; a command that ends removes its own."""
import os
import signal
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import db
from shequ_desktop.demo import street as demo

ROOT = Path(__file__).resolve().parents[2]

EXPORTER = """
import sys, tempfile
import db
from shequ_desktop.transfer import exporting
from shequ_desktop.core.paths import use_private_temp
folder = use_private_temp()

def progress(done, total):
    if done:
        print("MARK " + str(folder), flush=True)
        sys.stdin.readline()          # killed here, rows on disk

conn = db.open_db(sys.argv[1])
exporting.export(conn, exporting.for_what("residents", None), sys.argv[2], "xlsx",
                 unmask=True, progress=progress)
"""


def test_a_killed_export_leaves_its_rows_only_in_the_private_folder_until_next_start(
        tmp_path):
    path = tmp_path / "office.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=5200, seed=3)      # the export reports every 5000 rows
    name = conn.execute("SELECT name FROM residents WHERE status = '在册' ORDER BY id"
                        " LIMIT 1").fetchone()[0]
    conn.close()
    data = tmp_path / "data"
    env = dict(os.environ, PYTHONPATH=str(ROOT), SHEQU_DATA_DIR=str(data))
    system_before = set(Path(tempfile.gettempdir()).iterdir())
    child = subprocess.Popen([sys.executable, "-c", EXPORTER, str(path), str(tmp_path / "o.xlsx")],
                             env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    marker = child.stdout.readline().split(" ", 1)
    assert marker[0] == "MARK", child.stderr.read()
    folder = Path(marker[1].strip())
    child.send_signal(signal.SIGKILL)
    child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        stream.close()
    assert folder.parent == data / "tmp"
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    left = [f for f in folder.iterdir() if f.is_file()]
    assert left and any(name.encode() in f.read_bytes() for f in left)    # rows with names
    new_in_system = [f for f in set(Path(tempfile.gettempdir()).iterdir()) - system_before
                     if f.is_file() and name.encode() in f.read_bytes()]
    assert new_in_system == []

    done = subprocess.run([sys.executable, "-m", "shequ_desktop", "check", "--db", str(path)],
                          env=env, cwd=ROOT, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 0, done.stderr
    assert not folder.exists()                            # swept at the next start
    assert list((data / "tmp").iterdir()) == []          # and its own removed at exit
