"""Benchmarks: each prints `name: ours=… peer=… ratio=… unit=…` (ratio = ours / peer).

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
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run([sys.executable, str(ROOT / "bench" / "startup_probe.py"), *args],
                              capture_output=True, text=True, cwd=ROOT,
                              env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
        if "shown" not in done.stdout:
            raise RuntimeError(done.stderr)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


@benchmark
def startup(workdir: Path, residents: int) -> str:
    """Process start to main window shown on a street database; peer: bare QMainWindow."""
    path = street_db(workdir, residents)
    _startup(["bare"], 1)  # warm the OS file cache for both
    _startup(["app", str(path)], 1)
    peer = _startup(["bare"], 5)
    ours = _startup(["app", str(path)], 5)
    return line(f"startup_{residents}", ours, peer, "s")


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
