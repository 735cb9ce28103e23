"""Shared by the exchange tests: the `shequ` command in a real subprocess, and a database's
records of a unit in travelling form (what two databases must agree on)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import db
from shequ_desktop.sync import exchange

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "口令abc123"


def shequ(*args: str, passphrase: str = PASSPHRASE) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONPATH=str(ROOT), SHEQU_PACKAGE_PASSPHRASE=passphrase)
    return subprocess.run([sys.executable, "-m", "shequ_desktop", *map(str, args)], cwd=ROOT,
                          env=env, text=True, capture_output=True, stdin=subprocess.DEVNULL)


def merge_json(path, package) -> dict:
    run = shequ("package", "merge", "--db", path, package, "--json")
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def export(path, package, *extra) -> dict:
    run = shequ("package", "export", "--db", path, "-o", package, *extra)
    assert run.returncode == 0, run.stderr
    return run


def snapshot(path, unit_uuid: str) -> dict:
    """{table: {uuid: record in travelling form}} of the unit's scope."""
    conn = db.open_db(path)
    try:
        unit = conn.execute("SELECT id FROM grid_units WHERE uuid = ?", (unit_uuid,)).fetchone()[0]
        out = {}
        for table, (cols, rows) in exchange.collect(conn, unit).items():
            u = cols.index("uuid")
            out[table] = {r[u]: dict(zip(cols, r)) for r in rows}
        return out
    finally:
        conn.close()


def dump(path) -> dict:
    """Every row of every ordinary table (content, not bytes)."""
    conn = db.open_db(path)
    try:
        tables = [r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE 'resident_names%' AND name NOT LIKE 'resident_digits%'")]
        return {t: sorted(repr(tuple(r)) for r in conn.execute(f"SELECT * FROM {t}"))
                for t in tables}
    finally:
        conn.close()
