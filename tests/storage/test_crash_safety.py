"""Crash safety: a process killed (SIGKILL) mid-operation leaves a database that passes the
checks and holds each operation whole or not at all (real processes, real files). The
databases are encrypted, as the program makes them; the killed processes get the key as the
command line does (SHEQU_RECOVERY_KEY).

The children report their own kill points (tests/storage/crash_worker.py: every SQL statement and each
side of every rename); a test first counts an operation's points, then kills copies of it at
points spread over that count. Nothing depends on how fast the machine is."""
import os
import random
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import db
from tests.storage.crash_worker import POINT, TOTAL
from shequ_desktop.core import audit, keys
from shequ_desktop.demo import street as demo
from shequ_desktop.reports.checks import run_checks

WORKER = Path(__file__).with_name("crash_worker.py")
ROOT = Path(__file__).resolve().parents[2]


KEY = keys.new_db_key()


@pytest.fixture(autouse=True)
def the_key_is_known(tmp_path):
    """Every database here (and every copy) is encrypted under KEY."""
    db.use_key(tmp_path / "key-anchor.db", KEY)


def spawn(*args: str, **env: str) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SHEQU_RECOVERY_KEY=keys.recovery_text(KEY),
               **env)
    return subprocess.Popen([sys.executable, str(WORKER), *args], cwd=ROOT, env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def run_to(stop: int, kind: str, *args: str, **env: str) -> tuple[bool, int | None]:
    """Run the worker until its kill point `stop` and kill it there: (killed, and when it ran
    to its end instead, how many points it passed)."""
    proc = spawn(kind, "--stop-at", str(stop), *args, **env)
    total, output = None, []
    for line in proc.stdout:
        if line.startswith(POINT + " "):
            proc.kill()
            proc.wait()
            return True, None
        if line.startswith(TOTAL + " "):
            total = int(line.split()[1])
        output.append(line)
    proc.wait()
    assert total is not None, "".join(output)
    return False, total


def spread(total: int, n: int) -> list[int]:
    """n kill points from the first to the last, evenly spaced."""
    return sorted({1 + round((total - 1) * i / (n - 1)) for i in range(n)})


def points_of(base: Path, work: Path, kind: str, *args, **env) -> int:
    """How many kill points the operation passes on a fresh copy of `base`."""
    shutil.copyfile(base, work)
    killed, total = run_to(0, kind, *(str(a).replace("{db}", str(work)) for a in args), **env)
    assert not killed and total > 10
    return total


def sound(path) -> None:
    """What must hold after every kill."""
    conn = db.open_db(path)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        failed = [r.label for r in run_checks(conn) if not r.ok]
        assert failed == []
        assert audit.broken_links(conn) == []
    finally:
        conn.close()


@pytest.fixture(scope="module")
def street(tmp_path_factory):
    path = tmp_path_factory.mktemp("crash") / "street.db"
    db.use_key(path, KEY)
    conn = db.open_db(path)
    demo.generate(conn, residents=400, seed=11)
    h1, m = conn.execute(
        "SELECT household_id, id FROM residents WHERE status = '在册' AND relation_to_head"
        " NOT IN ('01', '02') ORDER BY id LIMIT 1").fetchone()
    h2 = conn.execute("SELECT id FROM households WHERE status = '在册' AND id <> ?"
                      " ORDER BY id LIMIT 1", (h1,)).fetchone()[0]
    a, b = [r[0] for r in conn.execute(
        "SELECT id FROM residents WHERE status = '在册' AND id <> ? AND household_id NOT IN"
        " (?, ?) ORDER BY id LIMIT 2", (m, h1, h2))]
    conn.close()
    return path, {"a": a, "b": b, "m": m, "h1": h1, "h2": h2}


@pytest.fixture(scope="module")
def sheet(tmp_path_factory):
    """500 new households of 3 (1,500 residents) as a grid worker's spreadsheet."""
    import xlsxwriter

    from conftest import make_id
    path = tmp_path_factory.mktemp("sheet") / "居民.xlsx"
    book = xlsxwriter.Workbook(path)
    ws = book.add_worksheet("居民")
    ws.write_row(0, 0, ["户号", "姓名", "身份证号", "与户主关系", "现住址", "联系电话"])
    row = 1
    for h in range(500):
        for k, relation in enumerate(("户主", "配偶", "子")):
            birth = f"{1950 + h % 40}-0{1 + k}-1{h % 9}"
            ws.write_row(row, 0, [f"H{h:04d}", f"测试{h}号{k}",
                                  make_id(birth, "2" if k == 1 else "1", area="110106", seq=h),
                                  relation, f"{20 + h // 40}栋{1 + h % 2}单元{101 + h % 40}",
                                  f"139{h:04d}{k:04d}"])
            row += 1
    book.close()
    return path, 1500


def residents_count(path) -> int:
    conn = db.open_db(path)
    try:
        return conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    finally:
        conn.close()


def test_imports_survive_sigkill_whole_or_not_at_all(street, sheet, tmp_path):
    base, _ids = street
    file, rows = sheet
    before = residents_count(base)
    command = ("cli", "import", str(file), "--db", "{db}", "--json")
    outcomes = []
    for i, stop in enumerate(spread(points_of(base, tmp_path / "count.db", *command), 12)):
        path = tmp_path / f"import{i}.db"
        shutil.copyfile(base, path)
        assert run_to(stop, *(a.replace("{db}", str(path)) for a in command))[0]
        sound(path)
        after = residents_count(path)
        assert after in (before, before + rows)              # the whole sheet, or none of it
        outcomes.append(after == before + rows)
    assert any(outcomes) and not all(outcomes)               # kills fell before and after


def test_ledgers_survive_sigkill_and_leave_no_half_pdf(street, tmp_path):
    from pypdf import PdfReader
    path, _ids = street
    command = ("cli", "ledger", "--db", str(path), "--kind", "residents", "-o")
    total = points_of(path, tmp_path / "count.db", *command, str(tmp_path / "count.pdf"))
    complete, stops = 0, spread(total, 12)
    for i, stop in enumerate(stops):
        out = tmp_path / f"ledger{i}.pdf"
        assert run_to(stop, *command, str(out))[0]
        sound(path)
        if out.exists():                                     # a PDF exists only when whole
            pages = PdfReader(out).pages
            assert "审核人" in pages[-1].extract_text()
            complete += 1
    assert 0 < complete < len(stops)


def test_edits_survive_sigkill_whole_or_not_at_all(street):
    path, ids = street
    rng = random.Random(2026)
    kills, steps_seen = 20, set()
    for _ in range(kills):
        killed, _ = run_to(rng.randrange(1, 1500), "edits", str(path),
                           *(str(ids[k]) for k in ("a", "b", "m", "h1", "h2")))
        assert killed
        sound(path)
        conn = db.open_db(path)
        note_a, note_b, home = (
            conn.execute("SELECT notes FROM residents WHERE id = ?", (ids["a"],)).fetchone()[0],
            conn.execute("SELECT notes FROM residents WHERE id = ?", (ids["b"],)).fetchone()[0],
            conn.execute("SELECT household_id FROM residents WHERE id = ?",
                         (ids["m"],)).fetchone()[0])
        conn.close()
        assert note_a == note_b                               # both notes of a step, or neither
        step = int((note_a or "op0")[2:])
        assert home == (ids["h2"] if step % 2 else ids["h1"])  # and the move with them
        steps_seen.add(step)
    assert len(steps_seen) > kills // 2                       # the kills fell mid-stream


def test_a_second_instance_writing_makes_us_wait_then_both_changes_land(street):
    from shequ_desktop.population import residents
    from shequ_desktop.core.context import Context
    path, ids = street
    other = spawn("hold_lock", str(path))
    assert other.stdout.readline().strip() == "locked"
    conn = db.open_db(path)
    done = threading.Event()

    def release_when_we_are_waiting():
        # While the other instance holds the lock our update cannot finish: it is still
        # waiting when we let the other one commit.
        assert not done.wait(0.5)
        other.stdin.write("commit\n")
        other.stdin.flush()

    releaser = threading.Thread(target=release_when_we_are_waiting)
    releaser.start()
    residents.update_resident(Context(conn, "本机"), ids["b"], {"phone": "13700001111"})
    done.set()
    releaser.join()
    assert other.stdout.readline().strip() == "committed"
    other.wait()
    assert conn.execute("SELECT phone FROM residents WHERE id = ?",
                        (ids["b"],)).fetchone()[0] == "13700001111"
    assert conn.execute("SELECT notes FROM residents ORDER BY id LIMIT 1").fetchone()[0] == \
        "另一实例"                                            # and the other's write is kept
    conn.close()


def test_a_second_instance_holding_the_lock_too_long_gives_a_clear_message(street):
    from shequ_desktop.population import residents
    from shequ_desktop.core.context import Context
    path, ids = street
    other = spawn("hold_lock", str(path))
    assert other.stdout.readline().strip() == "locked"
    conn = db.open_db(path, busy_timeout_ms=300)
    before = conn.execute("SELECT version, notes FROM residents WHERE id = ?",
                          (ids["a"],)).fetchone()
    with pytest.raises(db.DatabaseLockedError, match="正被其他程序或另一个窗口占用"):
        residents.update_resident(Context(conn, "本机"), ids["a"], {"notes": "等不到"})
    other.communicate("commit\n")
    assert conn.execute("SELECT version, notes FROM residents WHERE id = ?",
                        (ids["a"],)).fetchone() == before      # nothing half-written
    conn.close()


def dump(conn) -> dict:
    """Every row of every table (content, not bytes: WAL checkpoints may move pages)."""
    tables = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        " AND name NOT LIKE 'resident_%_data' AND name NOT LIKE '%_idx'"
        " AND name NOT LIKE '%_docsize' AND name NOT LIKE '%_config'"
        " AND name NOT LIKE '%_content'")]
    return {t: conn.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in tables}


def test_a_full_disk_during_an_import_is_explained_and_nothing_is_half_written(street, sheet,
                                                                               tmp_path):
    from shequ_desktop.core.context import Context
    from shequ_desktop.transfer.importing import import_file
    base, _ids = street
    path = tmp_path / "full.db"
    path.write_bytes(base.read_bytes())
    conn = db.open_db(path)
    community = conn.execute("SELECT id FROM grid_units WHERE level = 'community'").fetchone()[0]
    before = dump(conn)
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages + 20}")    # the disk fills up mid-import
    with pytest.raises(db.DiskFullError, match="磁盘空间不足"):
        import_file(Context(conn, "网格员"), sheet[0], community)
    assert dump(conn) == before
    conn.close()
    sound(path)


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    """A whole community as one data package, and an empty database to merge it into."""
    from shequ_desktop.sync import exchange
    from shequ_desktop.core.context import Context
    root = tmp_path_factory.mktemp("merge")
    office = root / "office.db"
    db.use_key(office, KEY)
    conn = db.open_db(office)
    demo.generate(conn, residents=1500, seed=11)
    total = conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    exchange.export_package(Context(conn, "社区"), root / "all.sqpkg", "口令abc123")
    conn.close()
    empty = root / "empty.db"
    db.use_key(empty, KEY)
    db.open_db(empty).close()
    return root / "all.sqpkg", empty, total


def test_merges_survive_sigkill_whole_or_not_at_all(handout, tmp_path):
    package, empty, total = handout
    command = ("cli", "package", "merge", "--db", "{db}", str(package))
    env = {"SHEQU_PACKAGE_PASSPHRASE": "口令abc123"}
    outcomes = []
    for i, stop in enumerate(spread(points_of(empty, tmp_path / "count.db", *command, **env), 10)):
        path = tmp_path / f"merge{i}.db"
        shutil.copyfile(empty, path)
        assert run_to(stop, *(a.replace("{db}", str(path)) for a in command), **env)[0]
        sound(path)
        conn = db.open_db(path)
        people, merges, bases, peers = (conn.execute(sql).fetchone()[0] for sql in (
            "SELECT count(*) FROM residents",
            "SELECT count(*) FROM audit_log WHERE action = 'merge'",
            "SELECT count(*) FROM sync_base", "SELECT count(*) FROM sync_peers"))
        conn.close()
        assert people in (0, total)                          # the whole package, or none of it
        merged = people == total
        assert (merges, peers) == ((1, 1) if merged else (0, 0))
        assert (bases > 0) == merged
        outcomes.append(merged)
    assert any(outcomes) and not all(outcomes)               # kills fell before and after


def test_the_street_databases_here_are_encrypted(street, handout):
    assert db.is_encrypted(street[0]) and db.is_encrypted(handout[1])


@pytest.fixture(scope="module")
def plain_street(tmp_path_factory):
    """A plain database of an older version, without users, with its residents' names."""
    path = tmp_path_factory.mktemp("plain") / "old.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=3000, seed=12)
    conn.execute("PRAGMA journal_mode = DELETE")
    names = [r[0] for r in conn.execute("SELECT name FROM residents LIMIT 20")]
    conn.close()
    return path, names


def test_encrypting_a_plain_database_survives_sigkill(plain_street, tmp_path):
    from shequ_desktop.security import unlock
    base, names = plain_street
    before = residents_count(base)
    command = ("cli", "encrypt", "--db", "{db}")
    env = {"SHEQU_PASSWORD": "Admin-2026"}
    outcomes = []
    for i, stop in enumerate(spread(points_of(base, tmp_path / "count.db", *command, **env), 10)):
        path = tmp_path / f"old{i}.db"
        shutil.copyfile(base, path)
        assert run_to(stop, *(a.replace("{db}", str(path)) for a in command), **env)[0]
        encrypted = db.is_encrypted(path)
        if encrypted:                            # the whole file, under the admin's key
            unlock.unlock(path, "admin", "Admin-2026")
        else:                                    # or the plain file as it was
            assert path.read_bytes()[:16] == b"SQLite format 3\x00"
        sound(path)
        assert residents_count(path) == before
        partial = path.with_name(path.name + ".encrypting")
        if partial.exists():                     # a cut-off copy is never plaintext
            assert not any(n.encode() in partial.read_bytes() for n in names)
        outcomes.append(encrypted)
    assert any(outcomes) and not all(outcomes)   # kills fell before and after
