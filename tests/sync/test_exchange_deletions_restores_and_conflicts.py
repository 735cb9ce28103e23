"""Data packages between PCs (issue 10): deletions that travel, restores at the office, conflicts
that close, and packages that are refused whole rather than half applied."""
import pytest

import db
from shequ_desktop.core.context import Context

from tests.sync.exchange_helpers import PASSPHRASE
from shequ_desktop.sync import exchange, merging, package
from shequ_desktop.places import houses
from tests.sync.test_exchange import (Side, conflict_on_both, dbs, pair, sides,  # noqa: F401
                           someone)


def _building(side) -> int:
    return side.conn.execute("SELECT id FROM grid_units WHERE level = 'building'"
                             " ORDER BY id LIMIT 1").fetchone()[0]


def _count(side, table: str, uuid: str) -> int:
    return side.conn.execute(f"SELECT count(*) FROM {table} WHERE uuid = ?",
                             (uuid,)).fetchone()[0]


def test_the_office_deleting_a_record_the_laptop_made_deletes_it_on_the_laptop(sides):
    """A house the 网格员 added reaches the office, which deletes it (a duplicate) before it
    ever sends a package back: the laptop never changed it since, so it must go there too,
    not be refused as "本机修改过它" forever and keep travelling back to the office."""
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "997", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    assert laptop.send(office).new == {"houses": 1}
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.delete_house(office.ctx, at_office)
    back = office.send(laptop)
    assert back.refused == []
    assert back.deleted == {"houses": 1}
    assert _count(laptop, "houses", uuid) == 0
    again = laptop.send(office)
    assert again.refused == [] and again.totals()["new"] == 0
    assert _count(office, "houses", uuid) == 0


def test_the_laptop_changing_a_record_the_office_deleted_keeps_it(sides):
    """The other half of the rule above: a record changed here after the other side last
    saw it is not deleted by that side's tombstone."""
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "996", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    laptop.send(office)
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.delete_house(office.ctx, at_office)
    houses.update_house(laptop.ctx, made, {"usage": "出租"})
    back = office.send(laptop)
    assert back.deleted == {}
    assert [r["reason"] for r in back.refused] == ["对方已删除这条记录，但本机修改过它；未删除"]
    assert _count(laptop, "houses", uuid) == 1


def _worker_and_other(office, tmp_path):
    """A 网格员 of the office's first grid, and another database made from the whole office
    database (which has changed something in the second grid)."""
    from shequ_desktop.core.access import GRID_WORKER, Access
    from shequ_desktop.core.context import Context

    grids = [r[0] for r in office.conn.execute(
        "SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id")]
    worker = Context(office.conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({grids[0]}))
    other = Side(tmp_path / "other.db", "他处", tmp_path)
    file = tmp_path / "all.sqpkg"
    exchange.export_package(office.ctx, file, PASSPHRASE)
    assert merging.merge(other.ctx, file, PASSPHRASE).totals()["refused"] == 0
    second_uuid = office.ctx.get("grid_units", grids[1])["uuid"]
    return worker, other, second_uuid


def test_a_grid_worker_merging_a_deletion_in_another_grid_gets_it_refused_not_a_crash(
        sides, tmp_path):
    """Every package carries every tombstone: one for a house of another grid made a
    网格员's merge fail whole (Context.get refused to read the record before the savepoint),
    so no package from that PC could ever be merged by them again."""
    office, _laptop = sides
    worker, other, second_uuid = _worker_and_other(office, tmp_path)
    from shequ_desktop.core import tree
    second = other.conn.execute("SELECT id FROM grid_units WHERE uuid = ?",
                                (second_uuid,)).fetchone()[0]
    unit = other.conn.execute(
        "SELECT id FROM grid_units WHERE level = 'building' AND id IN"
        f" ({','.join(map(str, tree.descendants(other.conn, second)))}) ORDER BY id LIMIT 1"
    ).fetchone()[0]
    made = houses.create_house(other.ctx, unit, {"room_no": "995", "floor": 9}).id
    house = (made, other.ctx.get("houses", made)["uuid"])
    assert other.send(office, exchange.settings.site_id(office.conn)).new == {"houses": 1}
    houses.delete_house(other.ctx, house[0])
    file = tmp_path / "deleted.sqpkg"
    exchange.export_package(other.ctx, file, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn)[:8])
    result = merging.merge(worker, file, PASSPHRASE)
    assert [(r["entity"], r["uuid"]) for r in result.refused] == [("houses", house[1])]
    assert _count(office, "houses", house[1]) == 1


def test_a_handed_out_laptop_changes_only_its_own_grid_at_the_office(sides, tmp_path):
    """The laptop's only user is its own administrator (the 网格员). What its packages bring
    to the office is held to the grid it was handed: a rename of the community above it or
    of a shared focus-group category is refused there, like that 网格员's own change at the
    office would be, and a package rewritten by someone who knows the passphrase (claiming
    the whole database) cannot change a resident of another grid either."""
    import json as _json

    from shequ_desktop.core import tree
    from shequ_desktop.places import grid
    from tests.sync.test_exchange import reseal

    office, laptop = sides
    community = laptop.conn.execute("SELECT id, uuid, name FROM grid_units"
                                    " WHERE level = 'community'").fetchone()
    grid.rename_unit(laptop.ctx, community[0], "改名社区")
    tag = laptop.conn.execute("SELECT id, uuid, name FROM tags ORDER BY id LIMIT 1").fetchone()
    with laptop.ctx.transaction():
        laptop.ctx.update("tags", tag[0], {"name": "改名类别"})
    mine = someone(laptop, 2)
    laptop.edit(mine, notes="本网格的修改")
    result = laptop.send(office)
    assert office.conn.execute("SELECT name FROM grid_units WHERE uuid = ?",
                               (community[1],)).fetchone()[0] == community[2]
    assert office.conn.execute("SELECT name FROM tags WHERE uuid = ?",
                               (tag[1],)).fetchone()[0] == tag[2]
    assert {r["entity"] for r in result.refused} == {"grid_units", "tags"}
    assert office.resident(mine)["notes"] == "本网格的修改"

    # a resident of the office's second grid, slipped into a rewritten package
    grids = [r[0] for r in office.conn.execute(
        "SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id")]
    second = set(tree.descendants(office.conn, grids[1]))
    victim = office.conn.execute(
        "SELECT r.uuid, r.name FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN"
        f" ({','.join(map(str, second))}) ORDER BY r.id LIMIT 1").fetchone()
    cols, rows = exchange.forms(office.conn, "residents", "WHERE t.uuid = ?", (victim[0],))
    row = list(rows[0])
    row[cols.index("name")] = "被篡改"
    laptop.edit(mine, notes="再改一次")
    file = tmp_path / "honest.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn))
    forged = tmp_path / "forged.sqpkg"

    def change(manifest, data):
        part = data["tables"]["residents"]
        assert part["columns"] == cols
        part["rows"].append(row)
        manifest["unit_uuid"], manifest["unit_name"] = None, "全部"
        manifest["counts"] = package.counts(data)
        manifest["sha256"] = package.data_digest(data)
    reseal(file, forged, change)
    result = merging.merge(office.ctx, forged, PASSPHRASE)
    assert office.resident(victim[0])["name"] == victim[1]
    assert ("residents", victim[0]) in {(r["entity"], r["uuid"]) for r in result.refused}
    assert office.resident(mine)["notes"] == "再改一次"
    assert _json.loads(office.conn.execute(
        "SELECT detail FROM audit_log WHERE action = 'merge' ORDER BY id DESC LIMIT 1"
    ).fetchone()[0])["refused"] >= 1
    assert all(r["reason"].startswith("这个数据包来自下发了一个网格的电脑") for r in result.refused)


def test_a_conflict_on_a_record_deleted_here_can_still_be_closed(sides):
    """Both sides changed a house; the office, holding the conflict, then deletes the house.
    The conflict could never be settled (resolve refused: 已不在本机), so 数据交换 and
    `shequ check` warned about it for ever. 保留本机的 (the deletion) closes it."""
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "994", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    laptop.send(office)
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.update_house(laptop.ctx, made, {"usage": "出租"})
    houses.update_house(office.ctx, at_office, {"usage": "空置"})
    [c] = laptop.send(office).conflicts
    houses.delete_house(office.ctx, at_office)
    [listed] = merging.conflicts(office.conn)
    assert listed["entity_id"] is None
    with pytest.raises(Exception, match="已不在本机"):
        merging.resolve(office.ctx, c["id"], "theirs")
    merging.resolve(office.ctx, c["id"], "ours")
    assert merging.conflicts(office.conn) == []
    from shequ_desktop.reports.checks import run_checks
    assert next(r for r in run_checks(office.conn) if r.key == "merge_conflicts_open").count == 0
    office.send(laptop)
    assert _count(laptop, "houses", uuid) == 0


def test_a_merge_that_deletes_a_record_closes_its_open_conflicts(sides):
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "993", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    laptop.send(office)
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.update_house(laptop.ctx, made, {"usage": "出租"})
    houses.update_house(office.ctx, at_office, {"usage": "空置"})
    assert len(laptop.send(office).conflicts) == 1
    assert len(office.send(laptop).conflicts) == 1       # open on the laptop too
    [on_laptop] = merging.conflicts(laptop.conn)
    merging.resolve(laptop.ctx, on_laptop["id"], "theirs")   # the laptop takes 空置 …
    houses.delete_house(laptop.ctx, made)                      # … then deletes the house
    result = laptop.send(office)
    assert result.deleted == {"houses": 1}
    assert merging.conflicts(office.conn) == []


def test_after_the_office_restores_a_backup_its_next_package_is_not_refused_as_older(
        sides, tmp_path):
    """Package numbers live in the database: restoring yesterday's backup took them back, so
    the laptops refused the office's next packages as "比已经合并过的……更旧" until it had
    exported as many again."""
    from shequ_desktop.security import backups

    office, laptop = sides
    saved = backups.make_backup(office.conn, tmp_path / "bk", "社区")
    for n in range(3):
        laptop.edit(someone(laptop, n), notes=f"恢复前{n}")
        office.send(laptop)
    office.conn.close()
    backups.restore(office.path, saved, tmp_path / "kept", "社区")
    office.conn = db.open_db(office.path)
    office.ctx = Context(office.conn, "社区")
    office.edit(someone(office, 7), notes="恢复后")
    result = office.send(laptop)
    assert result.totals()["updated"] >= 1


def test_changes_merged_after_the_backup_the_office_restored_are_not_lost(sides, tmp_path):
    """The laptop's change reached the office, which acknowledged it in its next package;
    then the office restored an older backup. The laptop never sent that change again (its
    base said the office had it): lost at the office for good. The laptop's next package
    (it has merged a newer office package than the office now knows) is refused with what
    to do, and its full package brings the change back."""
    from shequ_desktop.security import backups

    office, laptop = sides
    saved = backups.make_backup(office.conn, tmp_path / "bk", "社区")
    who = someone(laptop, 3)
    laptop.edit(who, notes="备份之后的修改")
    assert laptop.send(office).totals()["updated"] == 1
    office.send(laptop)                               # acknowledges it
    office.conn.close()
    backups.restore(office.path, saved, tmp_path / "kept", "社区")
    office.conn = db.open_db(office.path)
    office.ctx = Context(office.conn, "社区")
    assert office.resident(who)["notes"] != "备份之后的修改"
    laptop.edit(someone(laptop, 4), notes="恢复之后的修改")
    with pytest.raises(package.PackageError, match="从备份恢复"):
        laptop.send(office)
    full = tmp_path / "full.sqpkg"
    exchange.export_package(laptop.ctx, full, PASSPHRASE)
    result = merging.merge(office.ctx, full, PASSPHRASE)
    assert office.resident(who)["notes"] == "备份之后的修改"
    assert office.resident(someone(laptop, 4))["notes"] == "恢复之后的修改"
    assert result.conflicts == []
    assert laptop.send(office).refused == []


def test_a_dry_run_on_the_command_line_shows_no_conflict_numbers(sides, tmp_path):
    """The preview's conflict numbers belong to rows that were rolled back: `package resolve`
    with one of them answered 已经处理过, or settled another conflict that took the number."""
    from tests.sync.exchange_helpers import shequ

    office, laptop = sides
    who = someone(laptop, 6)
    laptop.edit(who, workplace="甲单位")
    office.edit(who, workplace="乙单位")
    file = tmp_path / "dry.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn))
    office.conn.close()
    run = shequ("package", "merge", "--db", office.path, file, "--dry-run")
    assert run.returncode == 0, run.stderr
    [line] = [x for x in run.stdout.splitlines() if "冲突" in x and "工作单位" in x]
    assert "#" not in line and "预览" in run.stdout
    run = shequ("package", "merge", "--db", office.path, file)
    [line] = [x for x in run.stdout.splitlines() if "冲突 #" in x]
    assert "工作单位" in line
    office.conn = db.open_db(office.path)


def test_a_package_that_cannot_be_written_is_explained_and_leaves_no_partial_file(
        sides, tmp_path, monkeypatch):
    """A full USB stick or a folder that is gone: the command line printed a Python
    traceback, and a failed write left NAME.sqpkg.partial on the stick."""
    import errno
    import os

    from tests.sync.exchange_helpers import shequ

    office, laptop = sides
    office.conn.close()
    run = shequ("package", "export", "--db", office.path, "-o", tmp_path / "gone" / "x.sqpkg")
    assert run.returncode != 0
    assert "Traceback" not in run.stderr and "无法写入数据包" in run.stderr
    office.conn = db.open_db(office.path)
    office.ctx = Context(office.conn, "社区")

    def full(_fd):
        raise OSError(errno.ENOSPC, "No space left on device")
    monkeypatch.setattr(os, "fsync", full)
    target = tmp_path / "stick" / "x.sqpkg"
    target.parent.mkdir()
    with pytest.raises(package.PackageError, match="无法写入数据包"):
        exchange.export_package(laptop.ctx, target, PASSPHRASE)
    assert list(target.parent.iterdir()) == []


def test_a_grid_worker_neither_sees_nor_settles_another_grids_conflicts(sides, tmp_path, qtbot):
    """Conflicts were listed to everyone (数据交换 page): a 网格员 saw another grid's residents
    with their values, and could close such a conflict with 保留本机的."""
    from shequ_desktop.core import tree
    from shequ_desktop.population import residents
    from shequ_desktop.core.access import NotPermitted
    from ui.pages.exchange_page import ExchangePage

    office, _laptop = sides
    worker, other, second_uuid = _worker_and_other(office, tmp_path)
    second = office.conn.execute("SELECT id FROM grid_units WHERE uuid = ?",
                                 (second_uuid,)).fetchone()[0]
    theirs_id, uuid = office.conn.execute(
        "SELECT r.id, r.uuid FROM residents r JOIN households h ON h.id = r.household_id"
        " JOIN houses ho ON ho.id = h.house_id WHERE r.status = '在册' AND ho.unit_id IN"
        f" ({','.join(map(str, tree.descendants(office.conn, second)))}) ORDER BY r.id LIMIT 1"
    ).fetchone()
    residents.update_resident(office.ctx, theirs_id, {"workplace": "办公室写的"})
    other_id = other.conn.execute("SELECT id FROM residents WHERE uuid = ?", (uuid,)).fetchone()[0]
    residents.update_resident(other.ctx, other_id, {"workplace": "他处写的"})
    [c] = other.send(office, exchange.settings.site_id(office.conn)).conflicts
    assert [x["id"] for x in merging.conflicts(office.conn)] == [c["id"]]
    assert merging.conflicts(office.conn, access=worker.access) == []
    page = ExchangePage(worker, office.path)
    qtbot.addWidget(page)
    assert page.conflict_model.rowCount() == 0
    with pytest.raises(NotPermitted):
        merging.resolve(worker, c["id"], "ours")
    assert len(merging.conflicts(office.conn)) == 1
    merging.resolve(office.ctx, c["id"], "ours")
    assert merging.conflicts(office.conn) == []


def test_a_laptop_database_started_on_the_command_line_is_born_encrypted(pair, tmp_path):
    """`shequ package merge` into a new database (README: how a laptop's database starts)
    wrote the whole grid into a plain SQLite file: names, ID numbers and phones readable on
    the laptop's disk. It is now born encrypted with its first administrator (password from
    SHEQU_PASSWORD) and prints the recovery key; a preview creates no file at all."""
    import os

    from tests.sync.exchange_helpers import shequ
    from shequ_desktop.security import unlock

    office, _laptop = pair
    handout = tmp_path / "handout.sqpkg"
    conn = db.open_db(office)
    unit = conn.execute("SELECT code FROM grid_units WHERE level = 'grid' ORDER BY id").fetchone()[0]
    conn.close()
    assert shequ("package", "export", "--db", office, "--unit", unit, "-o", handout).returncode == 0
    laptop = tmp_path / "new-laptop.db"
    preview = shequ("package", "merge", "--db", laptop, handout, "--dry-run")
    assert preview.returncode == 0, preview.stderr
    assert "预览" in preview.stdout and not laptop.exists()
    os.environ["SHEQU_PASSWORD"] = "网格员的密码2026"
    try:
        run = shequ("package", "merge", "--db", laptop, handout)
    finally:
        del os.environ["SHEQU_PASSWORD"]
    assert run.returncode == 0, run.stderr
    assert "恢复密钥" in run.stderr
    assert db.is_encrypted(laptop) and unlock.has_key_file(laptop)
    unlock.unlock(laptop, "admin", "网格员的密码2026")
    conn = db.open_db(laptop)
    people = [r[0] for r in conn.execute("SELECT id_number FROM residents LIMIT 20")]
    assert len(people) == 20
    conn.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("new-laptop.db*") if p.is_file())
    assert not any(p.encode() in raw for p in people)
    # without a password and without a terminal: refused, and nothing is left behind
    other = tmp_path / "other-laptop.db"
    refused = shequ("package", "merge", "--db", other, handout)
    assert refused.returncode != 0 and "SHEQU_PASSWORD" in refused.stderr
    assert list(tmp_path.glob("other-laptop.db*")) == []


@pytest.mark.parametrize("damage", ["no source", "short row", "bad tombstone", "bad seq"])
def test_a_package_with_a_malformed_content_is_refused_whole_not_a_crash(
        sides, tmp_path, damage):
    """A package rewritten by hand (or by a future version) with its checksum recomputed:
    a missing source, a row shorter than its columns or a malformed tombstone made the
    merge fail with KeyError/ValueError instead of being refused with a reason."""
    from tests.sync.test_exchange import reseal

    office, laptop = sides
    laptop.edit(someone(laptop, 1), notes="改")
    file = tmp_path / "ok.sqpkg"
    exchange.export_package(laptop.ctx, file, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn))
    bad = tmp_path / "bad.sqpkg"

    def change(manifest, data):
        if damage == "no source":
            del manifest["source_site"]
        elif damage == "short row":
            data["tables"]["residents"]["rows"][0] = data["tables"]["residents"]["rows"][0][:3]
        elif damage == "bad tombstone":
            data["tombstones"].append(["residents"])
        else:
            manifest["seq"] = "十"
        manifest["counts"] = package.counts(data)
        manifest["sha256"] = package.data_digest(data)
    reseal(file, bad, change)
    with pytest.raises(package.PackageError, match="未作任何修改"):
        merging.merge(office.ctx, bad, PASSPHRASE)
    assert merging.merge(office.ctx, file, PASSPHRASE).totals()["updated"] == 1


def test_both_sides_keeping_their_own_value_does_not_swap_the_values_silently(sides, tmp_path):
    """A conflict open on both PCs; each chose 保留本机的 and their packages crossed. Each took
    the other's value as "chosen after seeing ours": the office ended with the laptop's value
    and the laptop with the office's, no conflict left, and no later exchange noticed."""
    office, laptop = sides
    who = conflict_on_both(office, laptop, 4, "甲公司", "乙公司")
    [at_office] = merging.conflicts(office.conn)
    merging.resolve(office.ctx, at_office["id"], "ours")
    [at_laptop] = merging.conflicts(laptop.conn)
    merging.resolve(laptop.ctx, at_laptop["id"], "ours")
    to_laptop, to_office = tmp_path / "o.sqpkg", tmp_path / "l.sqpkg"
    exchange.export_package(office.ctx, to_laptop, PASSPHRASE, None,
                            exchange.settings.site_id(laptop.conn))
    exchange.export_package(laptop.ctx, to_office, PASSPHRASE, None,
                            exchange.settings.site_id(office.conn))
    assert len(merging.merge(laptop.ctx, to_laptop, PASSPHRASE).conflicts) == 1
    assert len(merging.merge(office.ctx, to_office, PASSPHRASE).conflicts) == 1
    assert office.resident(who)["workplace"] == "乙公司"          # each keeps its own …
    assert laptop.resident(who)["workplace"] == "甲公司"          # … until someone chooses
    for _ in range(2):                                              # still a conflict, not a swap
        office.send(laptop)
        laptop.send(office)
    assert len(merging.conflicts(office.conn)) == 1
    [again] = merging.conflicts(office.conn)
    merging.resolve(office.ctx, again["id"], "theirs")
    office.send(laptop)
    laptop.send(office)
    assert office.resident(who)["workplace"] == laptop.resident(who)["workplace"] == "甲公司"
    assert merging.conflicts(office.conn) == [] and merging.conflicts(laptop.conn) == []


def test_a_conflict_open_on_both_sides_closes_on_both_when_one_side_takes_theirs(sides):
    """The office took the laptop's value (用对方的): both hold the same, nothing differs to
    send, and the laptop's copy of the conflict stayed open for ever."""
    office, laptop = sides
    who = conflict_on_both(office, laptop, 8, "丙公司", "丁公司")
    [c] = merging.conflicts(office.conn)
    merging.resolve(office.ctx, c["id"], "theirs")
    for _ in range(2):
        laptop.send(office)
        office.send(laptop)
    assert office.resident(who)["workplace"] == laptop.resident(who)["workplace"] == "丙公司"
    assert merging.conflicts(laptop.conn) == [] and merging.conflicts(office.conn) == []
