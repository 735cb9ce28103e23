"""Packages from the wrong hands (issue 18): the office holds a laptop to the grid it handed it
(not to what its packages claim); unknown senders and other offices are refused whole before
anything is applied; a zip bomb is refused with bounded memory and exit 2."""
import json
import os
import shutil
import subprocess
import sys
import uuid
import zlib

import pytest

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.sync import exchange, merging, package
from shequ_desktop.core.context import Context
from tests.sync.exchange_helpers import PASSPHRASE, ROOT, dump

GRID1, GRID2 = "11010500100101", "11010500100102"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    path = tmp_path_factory.mktemp("office") / "office.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=1200, seed=3)
    conn.close()
    return path


@pytest.fixture
def office(built, tmp_path):
    path = tmp_path / "office.db"
    shutil.copy2(built, path)
    return path


def ctx_of(path, user="管理员"):
    return Context(db.open_db(path), user)


def unit(conn, code):
    return conn.execute("SELECT id, uuid FROM grid_units WHERE code = ?", (code,)).fetchone()


def hand_out(office, tmp_path, code=GRID1):
    """The office exports a grid; a new laptop database is started from it."""
    ctx = ctx_of(office)
    pkg = tmp_path / f"handout-{code}.sqpkg"
    exchange.export_package(ctx, pkg, PASSPHRASE, unit(ctx.conn, code)[0])
    ctx.conn.close()
    laptop = tmp_path / "laptop.db"
    lctx = ctx_of(laptop)
    merging.merge(lctx, pkg, PASSPHRASE)
    lctx.conn.close()
    return laptop


def rewrite(src, dst, change):
    """A package read, changed by `change(manifest, data)`, written again (a forger who knows
    the passphrase: checksums and counts are made anew)."""
    manifest, data = package.read(src, PASSPHRASE)
    change(manifest, data)
    for key in ("format", "counts", "sha256"):
        manifest.pop(key, None)
    package.write(dst, PASSPHRASE, manifest, data)
    return dst


def travelling(conn, table, where, params):
    """(columns, rows) of records in package form."""
    tcols, rows = exchange.collect(conn, None)[table]
    ids = {r[0] for r in conn.execute(f"SELECT uuid FROM {table} WHERE {where}", params)}
    u = tcols.index("uuid")
    return tcols, [list(r) for r in rows if r[u] in ids]


def test_a_forged_package_from_an_unknown_pc_is_refused_whole(office, tmp_path):
    ctx = ctx_of(office)
    whole = tmp_path / "whole.sqpkg"
    exchange.export_package(ctx, whole, PASSPHRASE)           # to get the travelling form
    ctx.conn.close()
    before = dump(office)

    def forge(manifest, data):
        manifest.update(source_site=uuid.uuid4().hex, source_name="陌生电脑", unit_uuid=None,
                        handout=None, package=uuid.uuid4().hex, target_site=None)
        part = data["tables"]["grid_units"]
        name = part["columns"].index("name")
        level = part["columns"].index("level")
        part["rows"] = [r for r in part["rows"] if r[level] in ("street", "community")]
        for r in part["rows"]:
            r[name] = "被改名的" + r[name]
        data["tables"] = {"grid_units": part}
        data["tombstones"], data["seen"], data["have"] = [], {}, {}

    forged = rewrite(whole, tmp_path / "forged.sqpkg", forge)
    ctx = ctx_of(office)
    with pytest.raises(package.PackageError, match="从未与它交换过数据"):
        merging.merge(ctx, forged, PASSPHRASE)
    ctx.conn.close()
    after = dump(office)
    after.pop("settings"), before.pop("settings")            # the site id made on export
    assert after == before


def test_a_package_from_another_office_is_refused_whole(office, tmp_path):
    other = tmp_path / "other.db"
    conn = db.open_db(other)
    demo.generate(conn, residents=300, seed=9)
    conn.close()
    octx = ctx_of(other)
    pkg = tmp_path / "other.sqpkg"
    exchange.export_package(octx, pkg, PASSPHRASE)             # same passphrase, whole office
    octx.conn.close()
    before = dump(office)
    ctx = ctx_of(office)
    with pytest.raises(package.PackageError, match="另一个社区或办公室"):
        merging.merge(ctx, pkg, PASSPHRASE)
    ctx.conn.close()
    assert dump(office) == before                 # nothing applied, no category uuid replaced


def test_the_office_holds_a_laptop_to_the_grid_it_handed_not_to_what_it_claims(office,
                                                                                tmp_path):
    laptop = hand_out(office, tmp_path)
    ctx = ctx_of(office)
    office_site = exchange.site_name(ctx.conn)
    community = ctx.conn.execute("SELECT uuid FROM grid_units WHERE level = 'community'"
                                 ).fetchone()[0]
    grid2 = unit(ctx.conn, GRID2)
    other_resident = ctx.conn.execute(
        "WITH RECURSIVE s(id) AS (SELECT ? UNION SELECT g.id FROM grid_units g JOIN s"
        " ON g.parent_id = s.id) SELECT r.uuid, r.name FROM residents r JOIN households h"
        " ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id"
        " WHERE ho.unit_id IN (SELECT id FROM s) LIMIT 1", (grid2[0],)).fetchone()
    assert other_resident is not None
    cols, rows = travelling(ctx.conn, "residents", "uuid = ?", (other_resident[0],))
    ctx.conn.close()

    # the laptop's first package claims the whole community
    lctx = ctx_of(laptop)
    first = tmp_path / "first.sqpkg"
    exchange.export_package(lctx, first, PASSPHRASE, since=office_site)
    lctx.conn.close()
    claimed = rewrite(first, tmp_path / "claimed.sqpkg",
                      lambda m, d: m.update(unit_uuid=community, unit_name="团结湖社区"))
    ctx = ctx_of(office)
    merging.merge(ctx, claimed, PASSPHRASE)
    held = [p[0] for p in ctx.conn.execute("SELECT unit_uuid FROM sync_peers")]
    assert held == [unit(ctx.conn, GRID1)[1]]
    ctx.conn.close()

    # a later package changes a resident of 第2网格: refused, not a conflict
    lctx = ctx_of(laptop)
    second = tmp_path / "second.sqpkg"
    exchange.export_package(lctx, second, PASSPHRASE, since=office_site)
    lctx.conn.close()
    name = cols.index("name")
    rows[0][name] = "篡改" + rows[0][name]

    def add_row(manifest, data):
        manifest.update(unit_uuid=community)
        data["tables"]["residents"] = {"columns": cols, "rows": rows}

    changed = rewrite(second, tmp_path / "changed.sqpkg", add_row)
    ctx = ctx_of(office)
    result = merging.merge(ctx, changed, PASSPHRASE)
    assert [r["uuid"] for r in result.refused] == [other_resident[0]] and not result.conflicts
    assert ctx.conn.execute("SELECT name FROM residents WHERE uuid = ?",
                            (other_resident[0],)).fetchone()[0] == other_resident[1]
    ctx.conn.close()


BOMB_EXPANDED = 1024 * 2 ** 20            # 1 GB of spaces behind ~1 MB of compressed bytes


def write_bomb(path):
    squeeze = zlib.compressobj(9)
    head = json.dumps({"manifest": {"package": "x"}, "data": {"tables": {}}})[:-3] + '"'
    parts = [squeeze.compress(head.encode())]
    block = b" " * (16 * 2 ** 20)
    for _ in range(BOMB_EXPANDED // len(block)):
        parts.append(squeeze.compress(block))
    parts.append(squeeze.compress(b'"}}}') + squeeze.flush())
    body = b"".join(parts)
    header, sealed = package.seal(PASSPHRASE, body)
    path.write_bytes(header + sealed)
    return len(body)


def test_a_zip_bomb_is_refused_with_exit_2_and_bounded_memory(office, tmp_path):
    bomb = tmp_path / "bomb.sqpkg"
    compressed = write_bomb(bomb)
    assert compressed < 2 * 2 ** 20
    # a wrapper process whose only child is `shequ package merge`: its children's peak RSS
    wrapper = (
        "import resource, subprocess, sys\n"
        "run = subprocess.run([sys.executable, '-m', 'shequ_desktop', 'package', 'merge',"
        " '--db', sys.argv[1], sys.argv[2]], capture_output=True, text=True)\n"
        "print(run.returncode)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "print(run.stderr)\n")
    env = dict(os.environ, PYTHONPATH=str(ROOT), SHEQU_PACKAGE_PASSPHRASE=PASSPHRASE)
    before = dump(office)
    done = subprocess.run([sys.executable, "-c", wrapper, str(office), str(bomb)], env=env,
                          capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL)
    code, peak_kb, err = done.stdout.split("\n", 2)
    assert int(code) == 2, err
    assert "解压后超过" in err and "Traceback" not in err
    assert int(peak_kb) < 200 * 1024, f"peak {int(peak_kb) // 1024} MB"
    assert dump(office) == before


def test_a_large_merge_leaves_the_planner_its_statistics(office, tmp_path):
    laptop = hand_out(office, tmp_path)
    conn = db.open_db(laptop)
    residents = conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    stat = conn.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'residents'"
                        " AND idx IS NOT NULL").fetchone()
    conn.close()
    assert residents > 300 and stat is not None
    assert int(stat[0].split()[0]) == residents
