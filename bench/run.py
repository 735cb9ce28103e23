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
    from shequ_desktop.demo import street as demo

    path = workdir / f"street-{residents}.db"
    if not path.exists():
        demo.generate(db.open_db(path), residents=residents, seed=1)
    return path


@benchmark
def demo_generation(workdir: Path, residents: int) -> str:
    """Ours: shequ_desktop.demo.street. Peer: Faker calls per person + sqlite-utils insert_all."""
    import db
    from shequ_desktop.demo import street as demo

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


def _startup(args: list[str], runs: int, inner: bool = False) -> float:
    """Median seconds from starting the process to its "shown" line (exit not counted);
    `inner`: the seconds the probe itself reports (from the moment it times)."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        child = subprocess.Popen([sys.executable, str(ROOT / "bench" / "startup_probe.py"),
                                  *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, cwd=ROOT,
                                 env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                                      "PYTHONPATH": str(ROOT)})
        line = child.stdout.readline()
        elapsed = time.perf_counter() - start
        _, err = child.communicate()
        if not line.startswith("shown"):
            raise RuntimeError(err)
        times.append(float(line.split()[1]) if inner else elapsed)
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


@benchmark
def startup_signed_in(workdir: Path, residents: int) -> str:
    """Password accepted to main window shown on an encrypted street database (made by
    `shequ demo`); peer: a window with a tree and a table shown after QApplication (the
    bare-Qt floor of an item-view program)."""
    path = workdir / f"signed-in-{residents}.db"
    if not path.exists():
        subprocess.run([sys.executable, "-m", "shequ_desktop", "demo", "--db", str(path),
                        "--residents", str(residents)], cwd=ROOT, check=True,
                       capture_output=True)
    args = ["signed_in", str(path), "admin", "demo2026"]
    _startup(args, 1)                           # warm the OS file cache
    peer = _startup(["floor"], 5, inner=True)
    ours = _startup(args, 5, inner=True)
    return line(f"startup_signed_in_{residents}", ours, peer, "s")


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
    from shequ_desktop.population.resident_list import _BUILDING, _JOINS, _UNIT

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

    Ours: ResidentQuery(text=…).ids() (FTS5 phrase queries, shequ_desktop.core.search). Peer: the
    same question as a plain LIKE scan over the same database. Two lines per kind of input:
    the median and the worst of 15 runs, in ms.
    """
    import db
    from shequ_desktop.population.resident_list import ResidentQuery

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


@benchmark
def volunteer_hours(workdir: Path, residents: int) -> str:
    """The volunteer register (hours in a period, this month, this year, total, star, points
    balance) for a whole street. Ours: one aggregate (volunteer_points.hours_summary).
    Peer: the straightforward way, a query per volunteer per figure."""
    import db
    from shequ_desktop.volunteers import points as volunteer_points

    conn = db.open_db(street_db(workdir, residents))
    today = __import__("datetime").date.today()
    start, end = f"{today.year}-01-01", today.isoformat()
    ours, rows = _ms(lambda: volunteer_points.hours_summary(conn, start, end, today=today), 5)

    def peer():
        out = []
        for vid, name in conn.execute("SELECT id, name FROM volunteers ORDER BY name, id"):
            figures = [conn.execute(
                "SELECT coalesce(sum(s.hours), 0) FROM service_records s JOIN activities a"
                " ON a.id = s.activity_id WHERE s.volunteer_id = ? AND " + cond,
                (vid, *params)).fetchone()[0] for cond, params in (
                    ("a.starts_at BETWEEN ? AND ?", (start, end + " 99")),
                    ("substr(a.starts_at, 1, 7) = ?", (f"{today:%Y-%m}",)),
                    ("substr(a.starts_at, 1, 4) = ?", (f"{today:%Y}",)),
                    ("1", ()))]
            out.append((vid, name, *figures, volunteer_points.balance(conn, vid)))
        return out
    theirs, peer_rows = _ms(peer, 5)
    assert len(rows) == len(peer_rows)
    return line(f"volunteer_hours_{residents}", statistics.median(ours),
                statistics.median(theirs), "ms")


def _ledger_probe(mode: str, path: Path, out: Path) -> tuple[float, int]:
    """(seconds, rows) of one resident ledger in a fresh process (bench/ledger_probe.py)."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "ledger_probe.py"), mode,
                           str(path), str(out)], capture_output=True, text=True, cwd=ROOT)
    found = [t for t in done.stdout.splitlines() if t.startswith("result ")]
    if done.returncode or not found:
        raise RuntimeError(f"ledger_probe {mode}: {done.stderr}")
    seconds, _pages, rows = found[0].split()[1:4]
    return float(seconds), int(rows)


@benchmark
def ledger(workdir: Path, residents: int) -> str:
    """The resident ledger (人口信息台账) as PDF for 10,000 and 50,000 residents (fixed sizes;
    --residents does not apply), each run in a fresh process: reading the rows and writing
    the file. Ours: the canvas engine (shequ_desktop/reports/pdf/long_table.py). Peer: one platypus
    LongTable of the same rows, columns and font (bench/ledger_probe.py). Median of 3 runs at
    10k, one at 50k (the peer takes minutes there). The `_per_1000_rows` lines show growth:
    seconds per 1,000 rows at 50k (ours=) against the same at 10k (peer=); ratio 1 is linear.
    """
    out, per_1000 = [], {}
    for n in (10_000, 50_000):
        path = street_db(workdir, n)
        runs = 3 if n == 10_000 else 1
        timed = {}
        for mode in ("ours", "peer"):
            results = [_ledger_probe(mode, path, workdir / f"{mode}.pdf") for _ in range(runs)]
            timed[mode] = statistics.median(r[0] for r in results)
            per_1000[(mode, n)] = timed[mode] / results[0][1] * 1000
        out.append(line(f"ledger_residents_{n}", timed["ours"], timed["peer"], "s"))
    for mode in ("ours", "peer"):
        out.append(line(f"ledger_{mode}_per_1000_rows", per_1000[(mode, 50_000)],
                        per_1000[(mode, 10_000)], "s"))
    return "\n".join(out)


def _transfer(mode: str, *args, env: dict | None = None) -> tuple[float, float, int]:
    """(seconds, peak MB, rows) of one bench/transfer_probe.py run in a fresh process."""
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "transfer_probe.py"), mode,
                           *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})})
    found = [t for t in done.stdout.splitlines() if t.startswith("result ")]
    if done.returncode or not found:
        raise RuntimeError(f"transfer_probe {mode}: {done.stderr[-2000:]}")
    seconds, peak, rows = found[0].split()[1:4]
    return float(seconds), float(peak), int(rows)


IMPORT_ROWS = 100_000
SERVICES_ROWS = 20_000        # the service-per-row peer is too slow for 100,000 rows


def _import_runs(workdir: Path, rows: int, modes: tuple[str, ...]) -> dict:
    sheet = workdir / f"import_{rows}.xlsx"
    if not sheet.exists():
        _transfer("sheet", sheet, rows)
    runs = {}
    for mode in modes:
        path = workdir / f"{mode}-{rows}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        runs[mode] = _transfer(mode, sheet, path)
    return runs


@benchmark
def import_xlsx(workdir: Path, residents: int) -> str:
    """A 100,000-row xlsx (title row, 合计 row, mixed date spellings, addresses, households of
    1–4) into an empty database, end to end, each side in a fresh process
    (bench/transfer_probe.py); peak memory is each process's ru_maxrss.

    Ours: shequ_desktop.transfer.importing (calamine, the form's validation, households, rooms, search
    index, one transaction). Peer: pandas.read_excel(openpyxl) + an INSERT per row with no
    checks, no households, no index (the issue's straightforward peer). A second pair, on
    20,000 rows: the peer that builds the same database as ours the straightforward way,
    pandas.read_excel(openpyxl) + the domain's services row by row in one transaction."""
    runs = _import_runs(workdir, IMPORT_ROWS, ("import-ours", "import-peer"))
    ours, peer = runs["import-ours"], runs["import-peer"]
    same = _import_runs(workdir, SERVICES_ROWS, ("import-ours", "import-peer-same"))
    n, m = IMPORT_ROWS // 1000, SERVICES_ROWS // 1000
    return "\n".join([
        line(f"import_xlsx_{n}k", ours[0], peer[0], "s"),
        line(f"import_xlsx_{n}k_peak_memory", ours[1], peer[1], "MB"),
        line(f"import_xlsx_{m}k_vs_services", same["import-ours"][0],
             same["import-peer-same"][0], "s"),
        line(f"import_xlsx_{m}k_vs_services_peak_memory", same["import-ours"][1],
             same["import-peer-same"][1], "MB")])


def _cpu_of(mode: str, sheet: Path, path: Path) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one transfer_probe import run."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "transfer_probe.py"), mode,
                           str(sheet), str(path)], capture_output=True, text=True, cwd=ROOT)
    found = [t for t in done.stdout.splitlines() if t.startswith("result ")]
    if done.returncode or not found:
        raise RuntimeError(f"transfer_probe {mode}: {done.stderr[-2000:]}")
    parts = found[0].split()
    return float(parts[1]), float(parts[4])


@benchmark
def import_floor(workdir: Path, residents: int) -> str:
    """Issue 15: the 100,000-row import against the machine's floor (calamine read +
    executemany of the raw cells into our residents table + our search index, no checks) and
    a competent peer (pandas.read_excel(engine="calamine") + executemany, no checks, no index),
    wall and CPU seconds (of the whole process and any it starts). Goal: ours within 2x of
    the floor."""
    sheet = workdir / f"import_{IMPORT_ROWS}.xlsx"
    if not sheet.exists():
        _transfer("sheet", sheet, IMPORT_ROWS)
    runs = {mode: _cpu_of(mode, sheet, workdir / f"{mode}-floor.db")
            for mode in ("import-ours", "import-floor", "import-pandas")}
    n = IMPORT_ROWS // 1000
    ours, floor, pandas = runs["import-ours"], runs["import-floor"], runs["import-pandas"]
    return "\n".join([
        line(f"import_xlsx_{n}k_vs_floor", ours[0], floor[0], "s"),
        line(f"import_xlsx_{n}k_vs_floor_cpu", ours[1], floor[1], "s_cpu"),
        line(f"import_xlsx_{n}k_vs_pandas_calamine", ours[0], pandas[0], "s"),
        line(f"import_xlsx_{n}k_vs_pandas_calamine_cpu", ours[1], pandas[1], "s_cpu")])


@benchmark
def export_xlsx(workdir: Path, residents: int) -> str:
    """The district upload sheet of a street (every resident on record) to xlsx, each side in a
    fresh process. Ours: shequ_desktop.transfer.exporting (xlsxwriter constant_memory, masking, code
    labels, addresses). Peer: pandas.read_sql + DataFrame.to_excel(engine="xlsxwriter") of the
    raw columns (no masking, no labels)."""
    path = street_db(workdir, residents)
    ours = _transfer("export-ours", path, workdir / "ours.xlsx")
    peer = _transfer("export-peer", path, workdir / "peer.xlsx")
    return "\n".join([line(f"export_xlsx_{residents}", ours[0], peer[0], "s"),
                      line(f"export_xlsx_{residents}_peak_memory", ours[1], peer[1], "MB")])


@benchmark
def fill_template(workdir: Path, residents: int) -> str:
    """A street's residents (every one on record) into the district's blank template, each
    side in a fresh process. Ours: shequ_desktop.transfer.exporting.fill (header found, columns mapped
    by synonyms, a copy of the .xlsx with rows streamed after its header: masked IDs, code
    labels, addresses, title rows, widths and drop-downs kept). Peer: pandas.read_sql of the
    same columns + DataFrame.to_excel (openpyxl, pandas' default engine), raw values in a
    new sheet. Goal: under 30 s and 200 MB at 200,000 residents."""
    path = street_db(workdir, residents)
    template = workdir / "template.xlsx"
    _transfer("template", template)
    ours = _transfer("fill-ours", path, template, workdir / "filled.xlsx")
    peer = _transfer("fill-peer", path, template, workdir / "peer-filled.xlsx")
    return "\n".join([line(f"fill_template_{residents}", ours[0], peer[0], "s"),
                      line(f"fill_template_{residents}_peak_memory", ours[1], peer[1], "MB")])


def _dashboard_peer(conn) -> dict:
    """The dashboard's figures the straightforward way: every row fetched, counted in Python
    (the visits rule is the program's own: there is no other)."""
    import collections
    import datetime as dt

    from shequ_desktop.casework import events, visits

    today = dt.date.today()
    rows = conn.execute("SELECT gender, birth_date, residence_type, separated, household_id"
                        " FROM residents WHERE status = '在册'").fetchall()
    ages = collections.Counter()
    kinds = collections.Counter()
    for gender, birth, kind, separated, _hh in rows:
        b = dt.date.fromisoformat(birth) if birth else None
        age = today.year - b.year - ((today.month, today.day) < (b.month, b.day)) if b else -1
        ages[(gender, min(age, 100) // 5)] += 1
        kinds[(kind, separated)] += 1
    households = len({r[4] for r in rows})
    tags = collections.Counter(t for (t,) in conn.execute(
        "SELECT rt.tag_id FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id"
        " WHERE rt.until IS NULL AND r.status = '在册'"))
    due = visits.due(conn, today, None, within_days=6 - today.weekday())
    open_events = events.list_events(conn, status=events.OPEN_STATUSES)
    by_grid = collections.Counter(conn.execute(
        "SELECT ho.unit_id, substr(v.visited_on, 1, 7) FROM visits v"
        " JOIN residents r ON r.id = v.resident_id JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE v.visited_on >= ?",
        ((today - dt.timedelta(days=366)).isoformat(),)).fetchall())
    return {"households": households, "ages": ages, "kinds": kinds, "tags": tags,
            "due": len(due), "events": len(open_events), "by_grid": len(by_grid)}


@benchmark
def dashboard(workdir: Path, residents: int) -> str:
    """Every figure of the home page for the whole street (stats.dashboard), each run on a
    fresh connection as the page's background worker does. Peer: the same figures by
    fetching the rows and counting in Python. Further lines: the street's node chosen in the
    grid tree (the same residents, reached through the tree), and one community."""
    import db
    from shequ_desktop.reports import stats

    path = street_db(workdir, residents)

    def fresh(fn):
        def run():
            conn = db.open_db(path)
            try:
                return fn(conn)
            finally:
                conn.close()
        return run

    ours, figures = _ms(fresh(stats.dashboard), 7)
    peer, expected = _ms(fresh(_dashboard_peer), 3)
    if figures["population"]["households"] != expected["households"]:
        print("dashboard: households differ", figures["population"]["households"],
              expected["households"], file=sys.stderr)
    conn = db.open_db(path)
    community = conn.execute("SELECT id FROM grid_units WHERE level = 'community' ORDER BY id"
                             " LIMIT 1").fetchone()[0]
    street = conn.execute("SELECT id FROM grid_units WHERE level = 'street'").fetchone()[0]
    conn.close()
    one, _ = _ms(fresh(lambda c: stats.dashboard(c, community)), 7)
    tree, _ = _ms(fresh(lambda c: stats.dashboard(c, street)), 7)     # the street's node
    print(f"  dashboard: {figures['population']['residents']:,} residents,"
          f" parts in ms: " + ", ".join(
              f"{k}={statistics.median(_ms(fresh(getattr(stats, f)), 3)[0]):.0f}"
              for k, f in (("population", "population"), ("focus", "focus_groups"),
                           ("visits_due", "visits_due"), ("by_grid", "visits_by_grid"))),
          file=sys.stderr)
    return "\n".join([line(f"dashboard_{residents}", statistics.median(ours),
                            statistics.median(peer), "ms"),
                      line(f"dashboard_{residents}_street_node", statistics.median(tree),
                           statistics.median(peer), "ms"),
                      line(f"dashboard_{residents}_one_community", statistics.median(one),
                           statistics.median(peer), "ms")])

@benchmark
def merge_package(workdir: Path, residents: int, changed: int = 20_000) -> str:
    """Ours: merging.merge of a package of `changed` residents changed on another PC (three-way
    per field, through Context: audit, search index, base kept). Peer: the same package read,
    then one plain executemany UPDATE … WHERE uuid = ? in one transaction."""
    import random
    import shutil
    import uuid as uuidlib

    import db
    from shequ_desktop.sync import exchange, merging, package
    from shequ_desktop.core.context import Context

    street = street_db(workdir, residents)
    office, peer_copy = workdir / "merge-office.db", workdir / "merge-peer.db"
    for copy in (office, peer_copy):
        shutil.copy(street, copy)
    conn = db.open_db(street)
    ids = sorted(random.Random(7).sample(
        [r[0] for r in conn.execute("SELECT id FROM residents")], min(changed, residents)))
    marks = ",".join(map(str, ids))
    cols, before = exchange.forms(conn, "residents", f"WHERE t.id IN ({marks})")
    conn.close()
    # the other PC's changes: new phone, occupation and notes for each of them
    u = cols.index("uuid")
    rows, seen = [], {}
    for i, row in enumerate(before):
        record = dict(zip(cols, row))
        new = {"phone": f"1{3 + i % 7}{i:09d}"[:11], "occupation": "网格交换测试",
               "notes": f"第{i}条修改"}
        seen[row[u]] = {k: record[k] for k in new}
        record.update(new)
        rows.append([record[c] for c in cols])
    data = {"tables": {"residents": {"columns": cols, "rows": rows}}, "tombstones": [],
            "seen": {"residents": seen}, "have": {}}
    manifest = {"package": uuidlib.uuid4().hex, "source_site": uuidlib.uuid4().hex,
                "source_name": "另一台电脑", "seq": 1, "created_at": exchange.now_utc(),
                "unit_uuid": None, "unit_name": "全部", "target_site": None}
    file = workdir / "changes.sqpkg"
    package.write(file, "bench-passphrase", manifest, data)

    conn = db.open_db(office)
    start = time.perf_counter()
    result = merging.merge(Context(conn, "bench"), file, "bench-passphrase")
    ours = time.perf_counter() - start
    assert result.totals()["updated"] == len(ids) and not result.conflicts, result.totals()
    conn.close()

    conn = db.open_db(peer_copy)
    start = time.perf_counter()
    _manifest, data = package.read(file, "bench-passphrase")
    part = data["tables"]["residents"]
    columns = [c for c in part["columns"] if c != "uuid"]
    sets = ", ".join(f"{c} = (SELECT id FROM households WHERE uuid = ?)" if c == "household_id"
                     else f"{c} = ?" for c in columns)
    at = part["columns"].index("uuid")
    with db.atomic(conn):
        conn.executemany(
            f"UPDATE residents SET {sets}, version = version + 1 WHERE uuid = ?",
            ([v for c, v in zip(part["columns"], r) if c != "uuid"] + [r[at]]
             for r in part["rows"]))
    peer = time.perf_counter() - start
    conn.close()
    return line(f"merge_package_{len(ids)}", ours, peer, "s")


@benchmark
def encryption(workdir: Path, residents: int) -> str:
    """The cost of encryption at rest (SQLCipher, issue 4): ours is the encrypted database,
    the peer the same database plain, in the same run. Search: the five kinds of input of the
    search benchmark (median of 15 each), alternating plain and encrypted. Import: the
    100,000-row sheet into an empty database, fresh processes, plain then encrypted. Start-up:
    the main window on the street database, plain and encrypted (medians of 5)."""
    import shutil

    import db
    from shequ_desktop.core.keys import new_db_key
    from shequ_desktop.population.resident_list import ResidentQuery

    plain_path = street_db(workdir, residents)
    secret_path = workdir / f"street-{residents}-encrypted.db"
    key = new_db_key()
    if not secret_path.exists():
        db.open_db(plain_path).execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        shutil.copyfile(plain_path, secret_path)
        db.encrypt_file(secret_path, key)
    db.use_key(secret_path, key)
    plain, secret = db.open_db(plain_path), db.open_db(secret_path)
    out = []
    for kind, text, _sql, _params in _search_inputs(plain, residents):
        query = ResidentQuery(text=text)
        peer, expected = _ms(lambda: query.ids(plain), 15)
        ours, found = _ms(lambda: query.ids(secret), 15)
        assert found == expected, kind
        out.append(line(f"encrypted_search_{kind}", statistics.median(ours),
                        statistics.median(peer), "ms"))
    plain.close()
    secret.close()
    sheet = workdir / f"import_{IMPORT_ROWS}.xlsx"
    if not sheet.exists():
        _transfer("sheet", sheet, IMPORT_ROWS)
    times = {}
    for name, env in (("plain", {}), ("encrypted", {"BENCH_DB_KEY": key.hex()})):
        target = workdir / f"import-{name}.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target}{suffix}").unlink(missing_ok=True)
        times[name] = _transfer("import-ours", sheet, target, env=env)
    out.append(line(f"encrypted_import_xlsx_{IMPORT_ROWS // 1000}k", times["encrypted"][0],
                    times["plain"][0], "s"))
    _startup(["app", str(secret_path), key.hex()], 1)
    peer = _startup(["app", str(plain_path)], 5)
    ours = _startup(["app", str(secret_path), key.hex()], 5)
    out.append(line(f"encrypted_startup_{residents}", ours, peer, "s"))
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
