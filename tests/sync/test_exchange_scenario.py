"""Issue 10's scenario: an office database hands out three grids to three new laptop
databases; each edits offline; packages go back and forth through the real `shequ package`
command; in the end the databases agree, the one conflict was reported and resolved, nothing
was lost or duplicated, and `shequ check` passes on all four."""
import db
from conftest import make_id
from tests.sync.exchange_helpers import PASSPHRASE, export, merge_json, shequ, snapshot
from shequ_desktop.demo import street as demo
from shequ_desktop.places import houses
from shequ_desktop.population import households, residents, tags
from shequ_desktop.casework import visits
from shequ_desktop.core.context import Context
from shequ_desktop.sync.package import read as read_package


def grid_people(conn, grid_code: str) -> list[dict]:
    """Active residents of a grid, with their household, in id order."""
    return [dict(r) for r in conn.execute("""
        WITH RECURSIVE sub(id) AS (SELECT id FROM grid_units WHERE code = ?
            UNION ALL SELECT g.id FROM grid_units g JOIN sub ON g.parent_id = sub.id)
        SELECT r.*, h.head_resident_id FROM residents r JOIN households h ON h.id = r.household_id
        JOIN houses ho ON ho.id = h.house_id
        WHERE ho.unit_id IN sub AND r.status = '在册' AND h.status = '在册' ORDER BY r.id""",
        (grid_code,))]


def by_uuid(conn, table: str, uuid: str) -> dict:
    return dict(conn.execute(f"SELECT * FROM {table} WHERE uuid = ?", (uuid,)).fetchone())


def edit_offline(path, grid_code: str, n: int) -> dict:
    """On a laptop: a new household, a move, a death, a focus-group tag and a visit.
    Returns the uuids to follow."""
    conn = db.open_db(path)
    ctx = Context(conn, f"网格员{n}")
    people = grid_people(conn, grid_code)
    members = [p for p in people if p["id"] != p["head_resident_id"]]
    mover = members[0]
    dead = next(p for p in members[1:] if p["birth_date"] and p["birth_date"] < "1960"
                and p["household_id"] != mover["household_id"])
    target = next(p["household_id"] for p in people
                  if p["household_id"] not in (mover["household_id"], dead["household_id"]))
    empty_house = conn.execute("""
        SELECT ho.id FROM houses ho WHERE ho.unit_id IN (SELECT unit_id FROM houses WHERE id =
            (SELECT house_id FROM households WHERE id = ?))
        AND NOT EXISTS (SELECT 1 FROM households h WHERE h.house_id = ho.id AND h.status = '在册')
        ORDER BY ho.id LIMIT 1""", (target,)).fetchone()
    if empty_house is None:
        unit = conn.execute("SELECT unit_id FROM houses WHERE id = (SELECT house_id FROM"
                            " households WHERE id = ?)", (target,)).fetchone()[0]
        empty_house = (houses.create_house(ctx, unit, {"room_no": f"90{n}", "floor": 9}).id,)
    new_hh = households.create_household(ctx, empty_house[0], {
        "name": f"新住户{n}", "id_number": make_id(f"198{n}-02-03", "1", area="110108", seq=n),
        "phone": f"1390000000{n}"})
    newcomer = ctx.get("residents", new_hh.changes[1].id)
    residents.move_to_household(ctx, mover["id"], target, "其他")
    residents.record_death(ctx, dead["id"], "2026-10-01")
    tagged = next(p for p in members if p["id"] not in (mover["id"], dead["id"]))
    tag_id = conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    rt = tags.assign_tag(ctx, tagged["id"], tag_id, "2026-09-01")
    visit = visits.record_visit(ctx, tagged["id"], "2026-11-02", "入户", f"网格员{n}", "身体尚可")
    out = {"newcomer": newcomer["uuid"], "mover": mover["uuid"],
           "target": by_uuid_id(conn, "households", target), "dead": dead["uuid"],
           "tag": ctx.get("resident_tags", rt.id)["uuid"],
           "visit": ctx.get("visits", visit.id)["uuid"], "tagged": tagged["uuid"]}
    conn.close()
    return out


def by_uuid_id(conn, table: str, id_: int) -> str:
    return conn.execute(f"SELECT uuid FROM {table} WHERE id = ?", (id_,)).fetchone()[0]


LAPTOP_PASSWORD = "网格员的密码2026"


def test_office_and_three_laptops_end_up_agreeing(tmp_path, monkeypatch):
    from shequ_desktop.security import unlock

    # a laptop's database is born encrypted, its administrator's password from the variable
    monkeypatch.setenv("SHEQU_PASSWORD", LAPTOP_PASSWORD)
    office = tmp_path / "office.db"
    conn = db.open_db(office)
    demo.generate(conn, residents=3000, seed=3)
    grids = [tuple(r) for r in conn.execute(
        "SELECT code, uuid FROM grid_units WHERE level = 'grid' ORDER BY id LIMIT 3")]
    residents_before = conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    conn.close()
    laptops = [tmp_path / f"laptop{i + 1}.db" for i in range(3)]

    # 1. hand out: one package per grid starts each laptop's database
    for (code, _uuid), laptop in zip(grids, laptops):
        package = tmp_path / f"handout-{code}.sqpkg"
        export(office, package, "--unit", code)
        result = merge_json(laptop, package)
        assert result["new"] > 100 and result["conflicts"] == 0 and result["refused"] == 0
        assert db.is_encrypted(laptop)
        unlock.unlock(laptop, "admin", LAPTOP_PASSWORD)     # this process opens it too
    for (code, unit_uuid), laptop in zip(grids, laptops):
        assert snapshot(laptop, unit_uuid) == snapshot(office, unit_uuid)

    # 2. offline: every laptop edits; one resident of grid 1 is edited on laptop 1 and in
    # the office; one of grid 2 in both places but in different fields
    followed = [edit_offline(laptop, code, i + 1)
                for i, ((code, _u), laptop) in enumerate(zip(grids, laptops))]
    conn = db.open_db(laptops[0])
    both = grid_people(conn, grids[0][0])[5]
    residents.update_resident(Context(conn, "网格员1"), both["id"], {"phone": "13811112222"})
    conn.close()
    conn = db.open_db(laptops[1])
    shared = grid_people(conn, grids[1][0])[7]
    residents.update_resident(Context(conn, "网格员2"), shared["id"], {"occupation": "退休"})
    conn.close()
    conn = db.open_db(office)
    octx = Context(conn, "社区工作者")
    residents.update_resident(octx, by_uuid(conn, "residents", both["uuid"])["id"],
                              {"phone": "13833334444"})
    residents.update_resident(octx, by_uuid(conn, "residents", shared["uuid"])["id"],
                              {"notes": "社区登记：独居"})
    conn.close()

    # 3. back to the office: only what changed since the hand-out
    results = []
    for i, laptop in enumerate(laptops):
        package = tmp_path / f"back{i + 1}.sqpkg"
        export(laptop, package, "--since", "团结湖社区")
        results.append(merge_json(office, package))
    assert [r["conflicts"] for r in results] == [1, 0, 0]
    assert all(r["refused"] == 0 and r["new"] >= 6 for r in results), [(r["new_by_table"], r["refused_list"]) for r in results]
    conflict = results[0]["conflict_list"][0]
    assert (conflict["uuid"], conflict["field"], conflict["ours"], conflict["theirs"]) == (
        both["uuid"], "phone", "13833334444", "13811112222")
    conn = db.open_db(office)
    assert by_uuid(conn, "residents", both["uuid"])["phone"] == "13833334444"   # not overwritten
    merged_shared = by_uuid(conn, "residents", shared["uuid"])
    assert (merged_shared["occupation"], merged_shared["notes"]) == ("退休", "社区登记：独居")
    conn.close()

    # 4. the office resolves the conflict: keep its own number
    listed = shequ("package", "conflicts", "--db", office)
    assert f"#{conflict['id']}" in listed.stdout and "联系电话" in listed.stdout
    assert shequ("package", "resolve", "--db", office, conflict["id"], "ours").returncode == 0
    assert shequ("package", "conflicts", "--db", office).stdout == ""

    # 5. and back to each laptop
    for i, ((code, _u), laptop) in enumerate(zip(grids, laptops)):
        package = tmp_path / f"out{i + 1}.sqpkg"
        export(office, package, "--since", f"第{i + 1}网格")
        counts = read_package(package, PASSPHRASE)[0]["counts"]
        assert counts["residents"] <= 2 and counts["households"] == 0     # only what changed
        result = merge_json(laptop, package)
        assert result["conflicts"] == 0 and result["refused"] == 0

    # the four databases agree on every grid, with every change in place once
    for (code, unit_uuid), laptop in zip(grids, laptops):
        assert snapshot(laptop, unit_uuid) == snapshot(office, unit_uuid)
    conn = db.open_db(office)
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == residents_before + 3
    for f in followed:
        newcomer = by_uuid(conn, "residents", f["newcomer"])
        assert conn.execute("SELECT count(*) FROM residents WHERE name = ?",
                            (newcomer["name"],)).fetchone()[0] == 1
        assert by_uuid(conn, "residents", f["mover"])["household_id"] == \
            by_uuid(conn, "households", f["target"])["id"]
        assert by_uuid(conn, "residents", f["dead"])["status"] == "死亡"
        assert by_uuid(conn, "resident_tags", f["tag"])["until"] is None
        assert by_uuid(conn, "visits", f["visit"])["findings"] == "身体尚可"
    assert by_uuid(conn, "residents", both["uuid"])["phone"] == "13833334444"
    merges = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'merge'").fetchone()[0]
    assert merges == 3
    conn.close()
    conn = db.open_db(laptops[0])
    assert by_uuid(conn, "residents", both["uuid"])["phone"] == "13833334444"   # travelled back
    conn.close()

    # 6. another round finds nothing left to send either way: no false conflicts
    for i, laptop in enumerate(laptops):
        package = tmp_path / f"again{i + 1}.sqpkg"
        export(laptop, package, "--since", "团结湖社区")
        result = merge_json(office, package)
        assert (result["new"], result["updated"], result["conflicts"]) == (0, 0, 0)

    for path in (office, *laptops):
        check = shequ("check", "--db", path)
        assert check.returncode == 0, check.stdout
