"""Users, roles and grid scope, enforced in the domain's write path."""
import pytest

from shequ_desktop.core import audit, keys
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents, tags
from shequ_desktop.security import users
from shequ_desktop.core.access import Access, NotPermitted
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, ReadOnlyError

from conftest import make_id

DB_KEY = bytes(32)


@pytest.fixture(autouse=True)
def fast_scrypt(monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)


@pytest.fixture
def two_grids(ctx, place, family):
    """第一网格 (the place fixture, with a family) and 第二网格 with its own household."""
    g2 = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    b2 = grid.create_unit(ctx, g2, "building", "9号楼").id
    house = houses.create_house(ctx, b2, {"room_no": "901"}).id
    hh2 = households.create_household(ctx, house, {"name": "赵六",
                                                   "id_number": make_id("1980-01-01")})
    return place.grid, g2, family, hh2


def as_user(conn, role, units=()):
    ctx = Context(conn, "网格员甲")
    ctx.access = Access(role, frozenset(units))
    return ctx


def test_a_grid_worker_edits_their_grid_and_is_refused_elsewhere(conn, two_grids):
    g1, g2, (hh1, people), hh2 = two_grids
    worker = as_user(conn, "网格员", [g1])
    residents.update_resident(worker, people["son"], {"phone": "13912340000"})
    residents.add_member(worker, hh1, {"name": "王小红",
                                       "id_number": make_id("2010-02-02", "2")}, "女")
    other = conn.execute("SELECT id FROM residents WHERE household_id = ?",
                         (hh2.id,)).fetchone()[0]
    with pytest.raises(NotPermitted, match="第二网格"):
        residents.update_resident(worker, other, {"phone": "13912341111"})
    with pytest.raises(NotPermitted):                        # nor move someone out of it
        residents.move_to_household(worker, other, hh1, "子")
    with pytest.raises(NotPermitted):                        # nor into it
        residents.move_to_household(worker, people["son"], hh2.id, "子")
    assert conn.execute("SELECT phone FROM residents WHERE id = ?", (other,)).fetchone()[0] \
        is None


def test_a_grid_worker_may_add_buildings_below_their_grid_only(conn, two_grids):
    g1, g2, *_ = two_grids
    worker = as_user(conn, "网格员", [g1])
    grid.create_unit(worker, g1, "building", "2号楼")
    with pytest.raises(NotPermitted):
        grid.create_unit(worker, g2, "building", "10号楼")
    with pytest.raises(NotPermitted, match="只有管理员"):
        with worker.transaction():
            worker.insert("tags", {"name": "新类别", "visit_interval_days": 30})


def test_read_only_users_change_nothing(conn, two_grids):
    reader = as_user(conn, "只读")
    _g1, _g2, (_hh1, people), _hh2 = two_grids
    with pytest.raises(ReadOnlyError, match="只读用户"):
        residents.update_resident(reader, people["son"], {"notes": "x"})


def test_users_are_created_with_a_wrapped_key_and_load_with_their_scope(ctx, conn, two_grids,
                                                                          tmp_path):
    g1, *_ = two_grids
    kf = keys.KeyFile.create(tmp_path / "x.db")
    users.create_user(ctx, kf, DB_KEY, "admin", "Admin-2026", "管理员")
    uid = users.create_user(ctx, kf, DB_KEY, "zhang", "Wangge-01", "网格员", [g1],
                            display_name="张网格").id
    loaded = users.load(conn, "zhang")
    assert loaded.role == "网格员" and loaded.unit_ids == {g1} and loaded.display_name == "张网格"
    assert kf.unwrap("zhang", "Wangge-01") == DB_KEY
    assert audit.entries(conn, entity="users", entity_id=uid)[0]["action"] == "create"
    with pytest.raises(DomainError, match="已被使用"):
        users.create_user(ctx, kf, DB_KEY, "zhang", "Another-01", "只读")
    with pytest.raises(DomainError, match="至少要分配一个网格"):
        users.create_user(ctx, kf, DB_KEY, "li", "Wangge-02", "网格员")
    with pytest.raises(DomainError, match="全是数字"):
        users.create_user(ctx, kf, DB_KEY, "wang", "12345678", "只读")
    assert "wang" not in kf.users()


def test_only_admins_manage_users_and_one_admin_always_remains(ctx, conn, two_grids, tmp_path):
    g1, *_ = two_grids
    kf = keys.KeyFile.create(tmp_path / "x.db")
    admin = users.create_user(ctx, kf, DB_KEY, "admin", "Admin-2026", "管理员").id
    zhang = users.create_user(ctx, kf, DB_KEY, "zhang", "Wangge-01", "网格员", [g1]).id
    worker = as_user(conn, "网格员", [g1])
    with pytest.raises(NotPermitted):
        users.set_role(worker, zhang, "管理员")
    with pytest.raises(DomainError, match="至少要保留一名"):
        users.set_role(ctx, admin, "只读")
    users.deactivate(ctx, kf, zhang)
    assert "zhang" not in kf.users()
    with pytest.raises(DomainError, match="已停用"):
        users.load(conn, "zhang")
    assert [u["username"] for u in users.all_users(conn)] == ["admin", "zhang"]
    assert tags.all_tags(conn)                                  # unrelated reads still work


def test_first_admin_sign_in_and_failed_attempts_in_the_audit_trail(ctx, conn, db_path):
    assert users.needs_admin(conn)
    db_key = users.create_first_admin(ctx, db_path, "admin", "Admin-2026")
    assert len(db_key) == 32 and not users.needs_admin(conn)
    with pytest.raises(keys.WrongPassword):
        users.sign_in(conn, db_path, "admin", "wrong-pass")
    user, key = users.sign_in(conn, db_path, " admin ", "Admin-2026")
    assert key == db_key and user.role == "管理员"
    actions = [e["action"] for e in audit.entries(conn, entity="users")]
    assert actions[:2] == ["login", "login_failed"]
    with pytest.raises(DomainError, match="已经有用户了"):
        users.create_first_admin(ctx, db_path, "other", "Other-2026")


def test_the_demo_admin_is_documented_and_remembered(ctx, conn, db_path):
    users.create_demo_admin(ctx, db_path)
    assert keys.KeyFile.load(db_path).demo_login() == (users.DEMO_USER, users.DEMO_PASSWORD)
    assert users.sign_in(conn, db_path, "admin", "demo2026")[0].display_name == "演示管理员"
    readme = (__import__("pathlib").Path(__file__).parents[2] / "README.md").read_text("utf-8")
    assert "demo2026" in readme


def test_a_grid_worker_cannot_move_or_rename_grids_nor_move_buildings_out(ctx, conn, place,
                                                                          two_grids):
    g1, g2, *_ = two_grids
    other = grid.create_unit(ctx, place.street, "community", "月亮社区").id
    worker = as_user(conn, "网格员", [g1])
    building = grid.create_unit(worker, g1, "building", "5号楼").id
    grid.rename_unit(worker, building, "5号楼（东）")               # below their grid: fine
    with pytest.raises(NotPermitted):
        grid.move_unit(worker, building, g2)                         # out of their grid
    with pytest.raises(NotPermitted):
        grid.rename_unit(worker, g1, "我的网格")                      # the grid itself
    with pytest.raises(NotPermitted):
        grid.move_unit(worker, g1, other)                             # nor move it
    assert conn.execute("SELECT parent_id FROM grid_units WHERE id = ?",
                        (building,)).fetchone()[0] == g1


def test_service_records_belong_to_their_activitys_grid(ctx, conn, two_grids):
    g1, g2, *_ = two_grids
    with ctx.transaction():
        vid, _ = ctx.insert("volunteers", {"name": "志愿者甲", "joined_on": "2026-01-01"})
        mine, _ = ctx.insert("activities", {"title": "清扫", "category": "环境保护",
                                            "starts_at": "2026-11-01 09:00",
                                            "ends_at": "2026-11-01 11:00", "unit_id": g1})
        theirs, _ = ctx.insert("activities", {"title": "助老", "category": "为老服务",
                                              "starts_at": "2026-11-02 09:00",
                                              "ends_at": "2026-11-02 11:00", "unit_id": g2})
    worker = as_user(conn, "网格员", [g1])
    with worker.transaction():
        worker.insert("service_records", {"activity_id": mine, "volunteer_id": vid, "hours": 2})
    with pytest.raises(NotPermitted, match="第二网格"):
        with worker.transaction():
            worker.insert("service_records", {"activity_id": theirs, "volunteer_id": vid,
                                              "hours": 2})
    for role in ("网格员", "只读"):
        with pytest.raises((NotPermitted, ReadOnlyError)):
            as_user(conn, role, [g1]).access.check_table("settings")


def test_changing_a_users_grids_is_one_audited_field_change(ctx, conn, two_grids, tmp_path):
    g1, g2, *_ = two_grids
    kf = keys.KeyFile.create(tmp_path / "x.db")
    zhang = users.create_user(ctx, kf, DB_KEY, "zhang", "Wangge-01", "网格员", [g1]).id
    users.set_units(ctx, zhang, [g2, g1])
    assert users.load(conn, "zhang").unit_ids == {g1, g2}
    entry = audit.entries(conn, entity="users", entity_id=zhang)[0]
    assert entry["action"] == "update" and f'"unit_ids": ["[{g1}]", "[{g1}, {g2}]"]' in \
        entry["detail"]
    assert [u["units"] for u in users.all_users(conn)] == ["第一网格、第二网格"]
