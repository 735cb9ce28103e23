"""A 网格员 reads only their grids: resident lists, search, the home page's figures and
Context.get, in the domain (not only hidden in the GUI)."""
import pytest

from shequ_desktop.core import tree
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents
from shequ_desktop.core import keys, search
from shequ_desktop.reports import stats
from shequ_desktop.security import users
from shequ_desktop.core.access import NotPermitted
from shequ_desktop.core.context import Context
from shequ_desktop.population.resident_list import ResidentQuery

from conftest import make_id

DB_KEY = bytes(32)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


@pytest.fixture
def world(ctx, place, family, db_path):
    """第一网格 (the place fixture: 王建国's family of three) and 第二网格 (赵六 and 赵小六),
    a 网格员 of 第一网格 and an administrator, created as the users page creates them."""
    g2 = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    b2 = grid.create_unit(ctx, g2, "building", "9号楼").id
    house = houses.create_house(ctx, b2, {"room_no": "901"}).id
    hh2 = households.create_household(ctx, house, {"name": "赵六",
                                                   "id_number": make_id("1980-01-01")})
    zhao_son = residents.add_member(ctx, hh2.id, {"name": "赵小六",
                                                  "id_number": make_id("2012-01-01")}, "子").id
    zhao = ctx.conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                            (hh2.id,)).fetchone()[0]
    kf = keys.KeyFile.create(db_path)
    users.create_user(ctx, kf, DB_KEY, "admin", "Admin-2026", "管理员")
    users.create_user(ctx, kf, DB_KEY, "zhang", "Wangge-01", "网格员", [place.grid])
    return {"g1": place.grid, "g2": g2, "mine": sorted(family[1].values()),
            "theirs": sorted([zhao, zhao_son]), "zhao": zhao}


def signed_in(conn, username):
    """A Context as the main window makes one for the signed-in user."""
    user = users.load(conn, username)
    ctx = Context(conn, user.username)
    ctx.access = user.access
    return ctx


def test_the_scope_is_worked_out_once_at_sign_in(conn, world):
    worker = signed_in(conn, "zhang")
    g1_and_below = set(tree.descendants(conn, world["g1"]))
    assert worker.access.readable == g1_and_below and world["g2"] not in g1_and_below
    street, community = tree.ancestors(conn, world["g1"])[:0:-1]
    assert worker.access.above == {street, community}
    assert signed_in(conn, "admin").access.readable is None        # not restricted


def test_a_grid_worker_lists_and_finds_only_their_grid(conn, world):
    access = signed_in(conn, "zhang").access
    assert ResidentQuery(access=access).ids(conn) == world["mine"]
    assert ResidentQuery(access=access).count(conn) == 3
    assert ResidentQuery(access=access, order_by="address").ids(conn) == world["mine"]
    assert ResidentQuery(access=access, unit_id=world["g1"]).ids(conn) == world["mine"]
    # The search box goes through the same query; 赵 is only in 第二网格.
    assert ResidentQuery(access=access, text="赵").ids(conn) == []
    assert ResidentQuery(access=access, text="王").ids(conn) != []
    assert search.search(conn, "赵", access=access) == []
    assert [r["name"] for r in search.search(conn, "王建国", access=access)] == ["王建国"]
    with pytest.raises(NotPermitted, match="只能查看"):
        ResidentQuery(access=access, unit_id=world["g2"]).ids(conn)
    with pytest.raises(NotPermitted):
        ResidentQuery(access=access, unit_id=world["g2"]).count(conn)


def test_an_administrator_still_sees_everyone(conn, world):
    access = signed_in(conn, "admin").access
    everyone = sorted(world["mine"] + world["theirs"])
    assert ResidentQuery(access=access).ids(conn) == everyone
    assert ResidentQuery(access=access, unit_id=world["g2"]).ids(conn) == world["theirs"]
    assert {r["name"] for r in search.search(conn, "赵", access=access)} == {"赵六", "赵小六"}
    assert stats.dashboard(conn, access=access)["population"]["residents"] == 5


def test_the_home_page_counts_only_their_grid(conn, world):
    worker = signed_in(conn, "zhang")
    figures = stats.dashboard(conn, access=worker.access)
    assert figures["unit_id"] is None
    assert figures["population"]["residents"] == 3
    assert figures["population"]["households"] == 1
    assert figures == {**stats.dashboard(conn, world["g1"]), "unit_id": None}
    assert [g for g, _name, _counts in figures["visits_by_grid"]["grids"]] == [world["g1"]]
    with pytest.raises(NotPermitted):
        stats.dashboard(conn, world["g2"], access=worker.access)


def test_two_grids_are_added_up(ctx, conn, world):
    users.set_units(ctx, users.load(conn, "zhang").id, [world["g1"], world["g2"]])
    worker = signed_in(conn, "zhang")
    figures = stats.dashboard(conn, access=worker.access)
    whole = stats.dashboard(conn)
    assert figures["population"] == whole["population"]
    assert figures["population"]["residents"] == 5
    assert figures["focus"] == whole["focus"]
    assert [g for g, *_ in figures["visits_by_grid"]["grids"]] == [world["g1"], world["g2"]]
    assert ResidentQuery(access=worker.access).ids(conn) == sorted(world["mine"] +
                                                                   world["theirs"])


def test_context_get_refuses_records_outside_their_grid(conn, world):
    worker = signed_in(conn, "zhang")
    assert worker.get("residents", world["mine"][0])["id"] == world["mine"][0]
    with pytest.raises(NotPermitted, match="第二网格"):
        worker.get("residents", world["zhao"])
    household = conn.execute("SELECT household_id FROM residents WHERE id = ?",
                             (world["zhao"],)).fetchone()[0]
    with pytest.raises(NotPermitted):
        worker.get("households", household)
    with pytest.raises(NotPermitted):
        worker.get("grid_units", world["g2"])
    # Their own grid, and the community above it (its name is shown), may be read.
    assert worker.get("grid_units", world["g1"])["name"] == "第一网格"
    community = tree.ancestors(conn, world["g1"])[1]
    assert worker.get("grid_units", community)["level"] == "community"
    assert signed_in(conn, "admin").get("residents", world["zhao"])["name"] == "赵六"


def test_units_a_grid_worker_adds_are_in_their_scope_at_once(conn, world):
    worker = signed_in(conn, "zhang")
    building = grid.create_unit(worker, world["g1"], "building", "5号楼").id
    assert building in worker.access.readable
    assert worker.get("grid_units", building)["name"] == "5号楼"
    assert ResidentQuery(access=worker.access, unit_id=building).ids(conn) == []
