"""Two imports at once (issue 18): the second waits for the first's transaction and, when it
is held longer than the wait, is refused with one clear message; neither is half-written.
The first import is held inside its transaction at a marker it prints (no sleeps)."""
import subprocess
import sys

from shequ_desktop.cli.main import main
from tests.storage.test_disk_full import sheet
from tests.transfer.test_import_cli import residents
from tests.security.test_restore_safety import ROOT, env, kill, read_until

HELD_IMPORT = """
import sys
from shequ_desktop.cli import main as cli, transfer as cli_transfer

def progress(label):
    def report(done, total):
        if label == "导入" and done:
            print("HELD", flush=True)
            if sys.stdin.readline().strip() == "die":
                raise SystemExit(9)
    return report

cli_transfer._progress = progress
sys.exit(cli.main(["import", sys.argv[2], "--db", sys.argv[1]]))
"""


def test_a_second_import_waits_or_is_refused_clearly_and_nothing_is_half_written(
        tmp_path, capsys):
    path = tmp_path / "office.db"
    assert main(["init", "--db", str(path), "--community", "向阳社区"]) == 0
    first = sheet(tmp_path / "first.xlsx", 600)
    second = sheet(tmp_path / "second.xlsx", 50, start=5000)
    held = subprocess.Popen([sys.executable, "-c", HELD_IMPORT, str(path), str(first)],
                            cwd=ROOT, env=env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        assert read_until(held, "HELD"), held.stderr.read()
        capsys.readouterr()
        code = main(["import", str(second), "--db", str(path)])      # waits 5 s, then:
        err = capsys.readouterr().err
        assert code == 2 and "占用" in err and err.count("错误") == 1
        held.stdin.write("go\n")
        held.stdin.flush()
        assert held.wait() == 0, held.stderr.read()
    finally:
        if held.poll() is None:
            kill(held)
        else:
            for stream in (held.stdin, held.stdout, held.stderr):
                stream.close()
    assert residents(path) == 600                       # the first, whole
    assert main(["import", str(second), "--db", str(path)]) == 0
    assert residents(path) == 650
