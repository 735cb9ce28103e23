"""Benchmarks: each prints lines `name: ours=… peer=… ratio=… unit=…` (ratio = ours / peer).

    .venv/bin/python bench/run.py [--only NAME] [--residents N]

The peer is the straightforward way with the same libraries, or the floor (bare Qt), run in the
same process on the same machine, so the ratio means something on any PC.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCHMARKS = {}


def benchmark(fn):
    BENCHMARKS[fn.__name__] = fn
    return fn


def line(name: str, ours: float, peer: float, unit: str) -> str:
    return f"{name}: ours={ours:.3f} peer={peer:.3f} ratio={ours / peer:.2f} unit={unit}"


def street_db(workdir: Path, residents: int) -> Path:
    """A street-scale demo database, made once per run."""
    import db
    from shequ_desktop import demo

    path = workdir / f"street-{residents}.db"
    if not path.exists():
        demo.generate(db.open_db(path), residents=residents, seed=1)
    return path


@benchmark
def demo_generation(workdir: Path, residents: int) -> str:
    """Ours: shequ_desktop.demo. Peer: Faker calls per person + sqlite-utils insert_all."""
    import db
    from shequ_desktop import demo

    path = workdir / "ours.db"
    start = time.perf_counter()
    demo.generate(db.open_db(path), residents=residents, seed=1)
    ours = time.perf_counter() - start

    from faker import Faker
    from sqlite_utils import Database

    start = time.perf_counter()
    fake = Faker("zh_CN")
    Faker.seed(1)
    rows = ({"name": fake.name(), "id_number": fake.ssn(), "phone": fake.phone_number(),
             "birth_date": fake.date_of_birth().isoformat(), "gender": fake.random_element("12"),
             "address": fake.address()} for _ in range(residents))
    Database(workdir / "peer.db")["residents"].insert_all(rows, batch_size=1000)
    peer = time.perf_counter() - start
    return line(f"demo_generation_{residents}", ours, peer, "s")


def _startup(args: list[str], runs: int) -> float:
    """Median seconds from starting the process to its "shown" line (exit not counted)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "startup_probe.py"),
                                  *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, cwd=ROOT,
                                 env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        _, err = child.communicate()
        if not line.startswith("shown"):
            raise RuntimeError(err)
        times.append(elapsed)
    return statistics.median(times)


@benchmark
def startup(workdir: Path, residents: int) -> str:
    """Process start to main window shown on a street database; peer: bare QMainWindow."""
    path = street_db(workdir, residents)
    # As installed: byte-compiled (.ci/bootstrap does this; PYTHONDONTWRITEBYTECODE would
    # otherwise make every start compile the project's modules again).
    subprocess.run([sys.executable, "-m", "compileall", "-q", "shequ_desktop", "db", "ui"],
                   cwd=ROOT, check=True, capture_output=True)
    _startup(["bare"], 1)  # warm the OS file cache for both
    _startup(["app", str(path)], 1)
    peer = _startup(["bare"], 5)
    views = _startup(["views"], 5)
    ours = _startup(["app", str(path)], 5)
    return "\n".join([line(f"startup_{residents}", ours, peer, "s"),
                      line(f"startup_{residents}_vs_item_views", ours, views, "s")])


def _ms(fn, runs: int) -> tuple[list[float], object]:
    """Milliseconds of `runs` calls of fn() (after one untimed warm-up call), and its result."""
    result = fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return times, result


def _search_inputs(conn, residents: int) -> list[tuple[str, str, str, list]]:
    """(kind, what the user types, peer SQL, peer params) for five kinds of input, taken from
    residents at fixed places in the database so every run asks the same questions."""
    from shequ_desktop.resident_list import _BUILDING, _JOINS, _UNIT

    def first(sql: str, start: int):
        return conn.execute(f"{sql} AND r.id >= ? ORDER BY r.id LIMIT 1", (start,)).fetchone()

    base = ("SELECT r.id FROM residents r WHERE r.status = '在册' AND ({}) ORDER BY r.id")
    # The most common 2-character name (many matches: the harder case for both).
    name = conn.execute("SELECT name FROM residents WHERE length(name) = 2 GROUP BY name"
                        " ORDER BY count(*) DESC, name LIMIT 1").fetchone()[0]
    initials = first("SELECT r.name_initials FROM residents r"
                     " WHERE length(r.name_initials) BETWEEN 2 AND 3", residents // 2)[0]
    id_number = first("SELECT r.id_number FROM residents r WHERE length(r.id_number) = 18",
                      2 * residents // 3)[0]
    phone = first("SELECT r.phone FROM residents r WHERE length(r.phone) = 11",
                  3 * residents // 4)[0]
    building, unit, room = first(
        f"SELECT {_BUILDING}, {_UNIT}, ho.room_no FROM residents r {_JOINS}"
        " WHERE u1.level = 'unit'", residents // 5)
    b, u = building.removesuffix("号楼"), unit.removesuffix("单元")
    # The peer's address: the string the table shows (building + unit + room), scanned.
    address = (f"SELECT r.id FROM residents r {_JOINS} WHERE r.status = '在册' AND"
               f" (coalesce({_BUILDING}, '') || coalesce({_UNIT}, '') || coalesce(ho.room_no, ''))"
               " LIKE ? ORDER BY r.id")
    fragment = id_number[6:12]
    tail = phone[-4:]
    return [
        ("name2", name, base.format("r.name LIKE ?"), [f"%{name}%"]),
        ("initials", initials, base.format("r.name_initials LIKE ?"), [f"{initials}%"]),
        # The search box looks for a digit string in ID numbers and phones alike, so the peer
        # asks the same: either column contains it.
        ("id6", fragment, base.format("r.id_number LIKE ? OR r.phone LIKE ?"),
         [f"%{fragment}%"] * 2),
        ("phone4", tail, base.format("r.id_number LIKE ? OR r.phone LIKE ?"), [f"%{tail}%"] * 2),
        ("address", f"{b}-{u}-{room}", address, [f"%{building}{unit}{room}%"]),
    ]


@benchmark
def search(workdir: Path, residents: int) -> str:
    """The search box at street scale: every matching id, as the resident table asks for them.

    Ours: ResidentQuery(text=…).ids() (FTS5 phrase queries, shequ_desktop.search). Peer: the
    same question as a plain LIKE scan over the same database. Two lines per kind of input:
    the median and the worst of 15 runs, in ms.
    """
    import db
    from shequ_desktop.resident_list import ResidentQuery

    conn = db.open_db(street_db(workdir, residents))
    out = []
    for kind, text, sql, params in _search_inputs(conn, residents):
        ours, found = _ms(lambda: ResidentQuery(text=text).ids(conn), 15)
        peer, expected = _ms(lambda: [row[0] for row in conn.execute(sql, params)], 15)
        if found != expected:
            print(f"search_{kind}: {text!r}: ours found {len(found)}, peer {len(expected)}"
                  f" ({len(set(found) - set(expected))} only ours,"
                  f" {len(set(expected) - set(found))} only peer)", file=sys.stderr)
        out.append(line(f"search_{kind}", statistics.median(ours), statistics.median(peer),
                        "ms"))
        out.append(line(f"search_{kind}_worst", max(ours), max(peer), "ms"))
        print(f"  search_{kind}: {text!r} -> {len(found)} residents", file=sys.stderr)
    conn.close()
    return "\n".join(out)


def _table_probe(mode: str, path: Path, runs: int) -> tuple[float, float, float] | None:
    """Medians of (first paint ms, jump ms, extra MB) over `runs` fresh table_probe processes;
    None when the probe says it cannot run `mode` (no QSQLITE driver)."""
    results = []
    for _ in range(runs):
        done = subprocess.run([sys.executable, str(ROOT / "bench" / "table_probe.py"), mode,
                               str(path)], capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        if done.stdout.startswith("unavailable"):
            return None
        found = [t for t in done.stdout.splitlines() if t.startswith("result ")]
        if done.returncode or not found:
            raise RuntimeError(f"table_probe {mode}: {done.stderr}")
        results.append([float(v) for v in found[0].split()[1:4]])
    return tuple(statistics.median(r[i] for r in results) for i in range(3))


@benchmark
def table(workdir: Path, residents: int) -> str:
    """The resident table at street scale, each side in fresh processes (bench/table_probe.py):
    creating the model to its first rows painted (ms), jumping to row 150,000 and repainting
    (ms), and the memory the table takes (resident set size after the jump minus before the
    model was made, MB). Ours: the residents page (lazy ResidentTableModel). Peers: a model
    holding every row in a Python list; QSqlQueryModel over the same file (lines `…_qsql`).

    The QSQLITE driver ships with PySide6-Essentials here (plugins/sqldrivers/libqsqlite.so);
    if it is missing the `…_qsql` lines are left out.
    """
    path = street_db(workdir, residents)
    # Row 150,000 of at least 150,001 rows (the probe checks it is on screen after the jump).
    assert residents > 160_000, "the table benchmark needs --residents above 160000"
    peers = ["list", "qsql"]
    for mode in ["ours", *peers]:
        if _table_probe(mode, path, 1) is None:      # also warms the OS file cache
            peers.remove(mode)
    ours = _table_probe("ours", path, 3)
    out = []
    for mode in peers:
        peer = _table_probe(mode, path, 3)
        suffix = "" if mode == "list" else f"_{mode}"
        out += [line(f"table_first_paint{suffix}", ours[0], peer[0], "ms"),
                line(f"table_jump{suffix}", ours[1], peer[1], "ms"),
                line(f"table_memory{suffix}", ours[2], peer[2], "MB")]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--only", choices=sorted(BENCHMARKS))
    parser.add_argument("--residents", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in BENCHMARKS.items():
            if args.only in (None, name):
                print(fn(Path(tmp), args.residents), flush=True)


if __name__ == "__main__":
    main()
