"""Data packages between PCs (issue 10): the file is refused whole when damaged, merges are
three-way and repeatable, conflicts are kept and resolved, deletions travel, access holds."""
import json
import shutil

import pytest

import db
from tests.sync.exchange_helpers import PASSPHRASE, dump, shequ
from shequ_desktop.core import audit
from shequ_desktop.sync import exchange, merging, package
from shequ_desktop.core import tree
from shequ_desktop.places import houses
from shequ_desktop.population import residents
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.core.context import Context


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """An office database (2 grids) and a laptop started from its first grid."""
    from shequ_desktop.demo import street as demo
    root = tmp_path_factory.mktemp("pair")
    office, laptop = root / "office.db", root / "laptop.db"
    conn = db.open_db(office)
    demo.generate(conn, residents=1200, seed=3)
    ctx = Context(conn, "社区")
    unit = conn.execute("SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id").fetchone()[0]
    exchange.export_package(ctx, root / "handout.sqpkg", PASSPHRASE, unit)
    conn.close()
    conn = db.open_db(laptop)
    merging.merge(Context(conn, "网格员"), root / "handout.sqpkg", PASSPHRASE)
    conn.close()
    return office, laptop


@pytest.fixture
def dbs(pair, tmp_path):
    out = []
    for path in pair:
        copy = tmp_path / path.name
        shutil.copy(path, copy)
        out.append(copy)
    return out


class Side:
    """One database in a test: its context and a way to send packages to the other."""

    def __init__(self, path, user: str, tmp_path):
        self.path, self.tmp = path, tmp_path
        self.conn = db.open_db(path)
        self.ctx = Context(self.conn, user)
        self.sent = 0

    def send(self, other: "Side", since: str | None = "auto") -> merging.MergeResult:
        self.sent += 1
        file = self.tmp / f"{self.path.stem}-{self.sent}.sqpkg"
        if since == "auto":
            since = exchange.settings.site_id(other.conn)
        exchange.export_package(self.ctx, file, PASSPHRASE, None, since)
        return merging.merge(other.ctx, file, PASSPHRASE)

    def resident(self, uuid: str) -> dict:
        return dict(self.conn.execute("SELECT * FROM residents WHERE uuid = ?",
                                      (uuid,)).fetchone())

    def edit(self, uuid: str, **values) -> None:
        residents.update_resident(self.ctx, self.resident(uuid)["id"], values)


@pytest.fixture
def sides(dbs, tmp_path):
    office, laptop = Side(dbs[0], "社区", tmp_path), Side(dbs[1], "网格员", tmp_path)
    # the office learns the laptop's site from its first package
    first = laptop.send(office, exchange.settings.site_id(office.conn))
    assert first.totals()["updated"] == 0
    yield office, laptop
    office.conn.close()
    laptop.conn.close()


def someone(side: Side, offset: int = 0) -> str:
    return side.conn.execute("SELECT uuid FROM residents WHERE status = '在册' ORDER BY id"
                             " LIMIT 1 OFFSET ?", (offset,)).fetchone()[0]


# --- the file ------------------------------------------------------------------------------

def conflict_on_both(office: Side, laptop: Side, offset: int, laptop_value: str,
                     office_value: str) -> str:
    """A resident whose workplace both sides changed, the packages crossed before anyone
    chose: the conflict is open at the office and on the laptop. Returns the resident."""
    who = someone(laptop, offset)
    laptop.edit(who, workplace=laptop_value)
    office.edit(who, workplace=office_value)
    assert len(laptop.send(office).conflicts) == 1
    assert len(office.send(laptop).conflicts) == 1
    return who


def reseal(src, dst, change) -> None:
    """A package rewritten by someone who knows the passphrase, its content changed."""
    manifest, data = package.read(src, PASSPHRASE)
    change(manifest, data)
    import os
    import zlib

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    salt, nonce = os.urandom(16), os.urandom(12)
    header = package._HEAD.pack(package.MAGIC, package.FORMAT, 15, 8, 1, salt, nonce)
    body = zlib.compress(json.dumps({"manifest": manifest, "data": data}).encode())
    key = package._key(PASSPHRASE, salt, 15, 8, 1)
    dst.write_bytes(header + AESGCM(key).encrypt(nonce, body, header))


def test_damaged_or_tampered_packages_are_refused_before_anything_is_applied(dbs, tmp_path):
    office, laptop = dbs
    conn = db.open_db(laptop)
    residents.update_resident(Context(conn, "网格员"), conn.execute(
        "SELECT id FROM residents ORDER BY id LIMIT 1").fetchone()[0], {"notes": "改过"})
    good = tmp_path / "good.sqpkg"
    exchange.export_package(Context(conn, "网格员"), good, PASSPHRASE, None, "团结湖社区")
    conn.close()
    raw = good.read_bytes()
    cases = {}
    (tmp_path / "short.sqpkg").write_bytes(raw[:len(raw) // 2])
    cases["short.sqpkg"] = "口令不正确，或文件已损坏、被截断或被改动"
    flipped = bytearray(raw)
    flipped[len(raw) - 40] ^= 0x01
    (tmp_path / "flipped.sqpkg").write_bytes(bytes(flipped))
    cases["flipped.sqpkg"] = "口令不正确，或文件已损坏、被截断或被改动"
    (tmp_path / "other.sqpkg").write_bytes(b"PK\x03\x04 not ours")
    cases["other.sqpkg"] = "不是社区网格工作台的数据交换包"
    reseal(good, tmp_path / "counts.sqpkg",
           lambda m, d: m["counts"].__setitem__("residents", 99))
    cases["counts.sqpkg"] = "记录数与清单不符"
    reseal(good, tmp_path / "digest.sqpkg",
           lambda m, d: d["tables"]["residents"]["rows"][0].__setitem__(1, "篡改"))
    cases["digest.sqpkg"] = "校验值与内容不符"
    before = dump(office)
    for name, message in cases.items():
        run = shequ("package", "merge", "--db", office, tmp_path / name, "--json")
        assert run.returncode == 2 and message in run.stderr, (name, run.stderr)
    wrong = shequ("package", "merge", "--db", office, good, passphrase="不对的口令123")
    assert wrong.returncode == 2 and "口令不正确" in wrong.stderr
    assert dump(office) == before
    assert shequ("package", "merge", "--db", office, good).returncode == 0
    assert dump(office) != before


def test_a_package_for_another_pc_or_older_than_one_merged_is_refused(sides, tmp_path):
    office, laptop = sides
    laptop.edit(someone(laptop), notes="第一次")
    old = tmp_path / "old.sqpkg"
    exchange.export_package(laptop.ctx, old, PASSPHRASE, None, "团结湖社区")
    laptop.edit(someone(laptop), notes="第二次")
    laptop.send(office)
    with pytest.raises(package.PackageError, match="更旧"):
        merging.merge(office.ctx, old, PASSPHRASE)
    to_laptop = tmp_path / "to-laptop.sqpkg"
    office.edit(someone(laptop), notes="办公室")
    exchange.export_package(office.ctx, to_laptop, PASSPHRASE, None, "第1网格")
    other = Side(tmp_path / "other.db", "他人", tmp_path)
    with pytest.raises(package.PackageError, match="不是发给本机的"):
        merging.merge(other.ctx, to_laptop, PASSPHRASE)
    with pytest.raises(package.PackageError, match="本机导出"):
        merging.merge(office.ctx, to_laptop, PASSPHRASE)


# --- merging -------------------------------------------------------------------------------

def test_merging_the_same_package_twice_changes_nothing(sides, tmp_path):
    office, laptop = sides
    who = someone(laptop, 3)
    laptop.edit(who, phone="13700007777", notes="新电话")
    file = tmp_path / "p.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None, "团结湖社区")
    first = merging.merge(office.ctx, file, PASSPHRASE)
    assert first.totals()["updated"] == 1 and office.resident(who)["phone"] == "13700007777"
    before = dump(office.path)
    again = merging.merge(office.ctx, file, PASSPHRASE)
    assert again.already_merged and dump(office.path) == before
    # the same content in a new package: the merge itself finds nothing to do
    file2 = tmp_path / "p2.sqpkg"
    exchange.export_package(laptop.ctx, file2, PASSPHRASE, None, "团结湖社区")
    assert package.read(file2, PASSPHRASE)[0]["counts"]["residents"] == 1
    second = merging.merge(office.ctx, file2, PASSPHRASE)
    assert second.totals() == {"new": 0, "updated": 0, "deleted": 0, "moved_out": 0,
                               "unchanged": 1, "conflicts": 0, "refused": 0}
    data_tables = ("residents", "households", "sync_conflicts", "tombstones")
    after = dump(office.path)
    assert all(after[t] == before[t] for t in data_tables)


def test_back_and_forth_edits_of_different_fields_never_conflict(sides):
    office, laptop = sides
    who = someone(laptop, 1)
    for round_ in range(4):
        laptop.edit(who, notes=f"网格员第{round_}次")
        office.edit(who, occupation=f"职业{round_}")
        to_office = laptop.send(office)
        back = office.send(laptop)
        assert to_office.conflicts == [] and back.conflicts == []
        assert office.resident(who)["notes"] == laptop.resident(who)["notes"] == \
            f"网格员第{round_}次"
        assert office.resident(who)["occupation"] == laptop.resident(who)["occupation"] == \
            f"职业{round_}"
    assert laptop.send(office).totals()["updated"] == 0
    assert office.send(laptop).totals()["updated"] == 0


def test_a_conflict_keeps_ours_and_use_theirs_travels_without_a_new_conflict(sides):
    office, laptop = sides
    who = someone(laptop, 2)
    laptop.edit(who, phone="13900001111")
    office.edit(who, phone="13900002222")
    result = laptop.send(office)
    [c] = result.conflicts
    assert (c["field"], c["ours"], c["theirs"]) == ("phone", "13900002222", "13900001111")
    assert office.resident(who)["phone"] == "13900002222"            # never overwritten
    listed = merging.conflicts(office.conn)
    assert listed[0]["field_label"] == "联系电话" and listed[0]["record"].startswith("居民 ")
    from shequ_desktop.reports.checks import run_checks
    check = next(r for r in run_checks(office.conn) if r.key == "merge_conflicts_open")
    assert check.count == 1 and check.ok and check.problems[0].detail == "第1网格：居民“联系电话”"
    assert merging.shown(office.conn, "residents", "phone", c["theirs"]) == "139****1111"
    merging.resolve(office.ctx, c["id"], "theirs")
    assert office.resident(who)["phone"] == "13900001111"
    entry = audit.entries(office.conn, action="resolve")[0]
    assert "用对方的" in entry["summary"] and entry["actor"] == "社区"
    assert merging.conflicts(office.conn) == []
    assert next(r for r in run_checks(office.conn) if r.key == "merge_conflicts_open").count == 0
    with pytest.raises(Exception, match="已经处理过"):
        merging.resolve(office.ctx, c["id"], "ours")
    back = office.send(laptop)
    assert back.conflicts == [] and laptop.resident(who)["phone"] == "13900001111"
    assert laptop.send(office).conflicts == []


def test_a_conflict_open_on_both_sides_closes_on_both_when_one_side_chooses(sides):
    office, laptop = sides
    # the office sends before anyone chose: the laptop sees the conflict too
    who = conflict_on_both(office, laptop, 4, "甲公司", "乙公司")
    assert laptop.resident(who)["workplace"] == "甲公司"
    [c] = merging.conflicts(office.conn)
    merging.resolve(office.ctx, c["id"], "ours")
    result = office.send(laptop)
    assert result.conflicts == [] and laptop.resident(who)["workplace"] == "乙公司"
    assert merging.conflicts(laptop.conn) == []
    closed = merging.conflicts(laptop.conn, include_resolved=True)[0]
    assert closed["resolution"] == "agreed"
    assert laptop.send(office).conflicts == []


def test_a_dry_run_tells_what_would_happen_and_changes_nothing(sides, tmp_path):
    office, laptop = sides
    laptop.edit(someone(laptop, 5), notes="预览")
    file = tmp_path / "dry.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None, "团结湖社区")
    before = dump(office.path)
    preview = merging.merge(office.ctx, file, PASSPHRASE, dry_run=True)
    assert dump(office.path) == before
    real = merging.merge(office.ctx, file, PASSPHRASE)
    assert preview.totals() == real.totals() and real.totals()["updated"] == 1


def test_deletions_travel_as_tombstones_unless_the_other_side_changed_the_record(sides):
    office, laptop = sides
    unit = laptop.conn.execute("SELECT id FROM grid_units WHERE level = 'building'"
                               " ORDER BY id LIMIT 1").fetchone()[0]
    spare = houses.create_house(laptop.ctx, unit, {"room_no": "999", "floor": 9}).id
    kept = houses.create_house(laptop.ctx, unit, {"room_no": "998", "floor": 9}).id
    uuids = [laptop.ctx.get("houses", h)["uuid"] for h in (spare, kept)]
    assert laptop.send(office).new == {"houses": 2}
    office_kept = office.conn.execute("SELECT id FROM houses WHERE uuid = ?",
                                      (uuids[1],)).fetchone()[0]
    houses.update_house(office.ctx, office_kept, {"usage": "出租"})
    for h in (spare, kept):
        houses.delete_house(laptop.ctx, h)
    stones = laptop.conn.execute("SELECT entity, uuid FROM tombstones").fetchall()
    assert {tuple(s) for s in stones} == {("houses", u) for u in uuids}
    result = laptop.send(office)
    assert result.deleted == {"houses": 1}
    assert [r["reason"] for r in result.refused] == ["对方已删除这条记录，但本机修改过它；未删除"]
    assert office.conn.execute("SELECT count(*) FROM houses WHERE uuid = ?",
                               (uuids[0],)).fetchone()[0] == 0
    assert office.conn.execute("SELECT usage FROM houses WHERE uuid = ?",
                               (uuids[1],)).fetchone()[0] == "出租"
    assert office.conn.execute("SELECT count(*) FROM tombstones WHERE uuid = ?",
                               (uuids[0],)).fetchone()[0] == 1


def test_a_grid_worker_merges_only_within_their_grids(sides, tmp_path):
    office, _laptop = sides
    grids = [r[0] for r in office.conn.execute(
        "SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id")]
    worker = Context(office.conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({grids[0]}))
    with pytest.raises(NotPermitted, match="只能导出分配给自己的网格"):
        exchange.export_package(worker, tmp_path / "x.sqpkg", PASSPHRASE, grids[1])
    # another database made from the whole office database edits someone of the second grid
    other = Side(tmp_path / "other.db", "他处", tmp_path)
    file = tmp_path / "all.sqpkg"
    exchange.export_package(office.ctx, file, PASSPHRASE)
    assert merging.merge(other.ctx, file, PASSPHRASE).totals()["refused"] == 0
    second = tree.descendants(other.conn, other.conn.execute(
        "SELECT id FROM grid_units WHERE uuid = ?", (office.ctx.get("grid_units", grids[1])[
            "uuid"],)).fetchone()[0])
    in_second = other.conn.execute(
        "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE r.status = '在册' AND ho.unit_id IN"
        f" ({','.join(map(str, second))}) ORDER BY r.id LIMIT 1").fetchone()[0]
    residents.update_resident(other.ctx, in_second, {"notes": "他处改的"})
    back = tmp_path / "back.sqpkg"
    exchange.export_package(other.ctx, back, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn)[:8])
    result = merging.merge(worker, back, PASSPHRASE)
    assert [(r["entity"], r["record"]) for r in result.refused] == [
        ("residents", "居民 " + other.ctx.get("residents", in_second)["name"])]
    assert "网格员只能修改" in result.refused[0]["reason"]
    assert result.totals()["updated"] == 0


def test_a_cancelled_merge_leaves_nothing_behind(sides, tmp_path):
    from shequ_desktop.core.progress import Cancelled
    office, laptop = sides
    for offset in range(3):
        laptop.edit(someone(laptop, offset), notes=f"取消{offset}")
    file = tmp_path / "cancel.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None, "团结湖社区")
    before = dump(office.path)
    calls = []

    def progress(done, total):
        calls.append(done)
        return len(calls) < 2                  # the user cancels after the first report
    with pytest.raises(Cancelled):
        merging.merge(office.ctx, file, PASSPHRASE, progress=progress)
    assert dump(office.path) == before
    assert merging.merge(office.ctx, file, PASSPHRASE).totals()["updated"] == 3


def test_the_command_line_previews_lists_peers_and_refuses_short_passphrases(dbs, tmp_path):
    office, laptop = dbs
    out = tmp_path / "l.sqpkg"
    short = shequ("package", "export", "--db", laptop, "--since", "团结湖社区", "-o", out,
                  passphrase="1234")
    assert short.returncode == 2 and "至少需要 8 个字符" in short.stderr and not out.exists()
    conn = db.open_db(laptop)
    residents.update_resident(Context(conn, "网格员"), conn.execute(
        "SELECT id FROM residents ORDER BY id LIMIT 1").fetchone()[0], {"notes": "命令行"})
    conn.close()
    assert shequ("package", "export", "--db", laptop, "--since", "团结湖社区",
                 "-o", out).returncode == 0
    before = dump(office)
    run = shequ("package", "merge", "--db", office, out, "--dry-run", "--json")
    result = json.loads(run.stdout)
    assert result["dry_run"] and result["updated"] == 1 and dump(office) == before
    assert shequ("package", "merge", "--db", office, out).returncode == 0
    peers = shequ("package", "peers", "--db", office, "--json")
    assert [json.loads(line)["name"] for line in peers.stdout.splitlines()] == ["第1网格"]
    unknown = shequ("package", "export", "--db", office, "--since", "没有这台电脑", "-o",
                    tmp_path / "x.sqpkg")
    assert unknown.returncode == 2 and "还没有合并过来自“没有这台电脑”的数据包" in unknown.stderr


def test_a_resident_moved_to_another_grid_leaves_the_laptop_without_a_tombstone(sides):
    from tests.sync.exchange_helpers import snapshot
    office, laptop = sides
    conn = office.conn
    grids = [r[0] for r in conn.execute("SELECT id FROM grid_units WHERE level = 'grid'"
                                        " ORDER BY id")]

    def households_of(unit):
        units = ",".join(map(str, tree.descendants(conn, unit)))
        return [r[0] for r in conn.execute(
            "SELECT h.id FROM households h JOIN houses ho ON ho.id = h.house_id"
            f" WHERE ho.unit_id IN ({units}) AND h.status = '在册' ORDER BY h.id")]
    first = households_of(grids[0])
    mover = conn.execute(
        "SELECT r.id, r.uuid FROM residents r JOIN households h ON h.id = r.household_id"
        f" WHERE r.household_id IN ({','.join(map(str, first))}) AND r.status = '在册'"
        " AND r.id <> h.head_resident_id AND NOT EXISTS (SELECT 1 FROM events e"
        " WHERE e.resident_id = r.id) ORDER BY r.id LIMIT 1").fetchone()
    from shequ_desktop.population import tags as tag_service
    tag_id = conn.execute("SELECT id FROM tags WHERE name = '低保'").fetchone()[0]
    tag_service.assign_tag(office.ctx, mover["id"], tag_id, "2026-01-01")
    office.send(laptop)                                   # the laptop has them, tag and all
    assert laptop.resident(mover["uuid"])["status"] == "在册"
    residents.move_to_household(office.ctx, mover["id"], households_of(grids[1])[0], "其他")
    result = office.send(laptop)
    assert result.moved_out.get("residents") == 1 and result.moved_out.get("resident_tags") == 1
    assert result.refused == []
    assert laptop.conn.execute("SELECT count(*) FROM residents WHERE uuid = ?",
                               (mover["uuid"],)).fetchone()[0] == 0
    assert laptop.conn.execute("SELECT count(*) FROM tombstones").fetchone()[0] == 0
    g1 = conn.execute("SELECT uuid FROM grid_units WHERE id = ?", (grids[0],)).fetchone()[0]
    assert snapshot(laptop.path, g1) == snapshot(office.path, g1)
    back = laptop.send(office)                           # nothing is deleted at the office
    assert back.totals()["deleted"] == 0 and office.resident(mover["uuid"])["status"] == "在册"
