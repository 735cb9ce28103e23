"""The main window signed in as a 网格员: the tree, the resident list and the home page show
only their grid (real widgets, offscreen)."""
import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt

from shequ_desktop.places import grid, houses
from shequ_desktop.population import households
from shequ_desktop.core import keys
from shequ_desktop.security import users
from ui import app as ui_app
from ui.grid_tree import UNIT_ROLE

from conftest import make_id


@pytest.fixture
def two_grids(ctx, place, family, db_path):
    g2 = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    b2 = grid.create_unit(ctx, g2, "building", "9号楼").id
    house = houses.create_house(ctx, b2, {"room_no": "901"}).id
    households.create_household(ctx, house, {"name": "赵六", "id_number": make_id("1980-01-01")})
    kf = keys.KeyFile.create(db_path)
    users.create_user(ctx, kf, bytes(32), "admin", "Admin-2026", "管理员")
    users.create_user(ctx, kf, bytes(32), "zhang", "Wangge-01", "网格员", [place.grid])
    return place, g2


@pytest.fixture
def window_of(qtbot, conn, db_path, tmp_path, monkeypatch):
    monkeypatch.setattr(keys, "SCRYPT_N", 2 ** 10)

    def make(username):
        w = ui_app.build_main_window(
            conn, db_path, QSettings(str(tmp_path / f"{username}.ini"),
                                     QSettings.Format.IniFormat),
            user=users.load(conn, username))
        qtbot.addWidget(w)
        w.show()
        qtbot.waitExposed(w)
        qtbot.waitUntil(lambda: w.page("dashboard").figures is not None)
        return w
    return make


def shown_rows(model, parent=QModelIndex()):
    """(name, unit id, selectable) of every row in the model, depth first."""
    out = []
    for row in range(model.rowCount(parent)):
        index = model.index(row, 0, parent)
        selectable = bool(model.flags(index) & Qt.ItemFlag.ItemIsSelectable)
        out.append((index.data(), index.data(UNIT_ROLE), selectable))
        out += shown_rows(model, index)
    return out


def test_a_grid_worker_sees_only_their_grid(window_of, two_grids, qtmodeltester):
    place, g2 = two_grids
    w = window_of("zhang")
    rows = shown_rows(w.tree.model())
    # Street and community greyed above, their grid and what is below it; no 第二网格 and
    # no 「全部人员」.
    assert [(name, selectable) for name, _uid, selectable in rows[:3]] == [
        ("幸福街道", False), ("阳光社区", False), ("第一网格", True)]
    assert g2 not in [uid for _name, uid, _s in rows]
    assert "全部人员" not in [name for name, _uid, _s in rows]
    assert w.tree.current_unit() == place.grid
    qtmodeltester.check(w.tree.model())
    # The street's count (all grids) is not shown on the greyed rows.
    w.tree.load_counts()
    model = w.tree.model()
    street = model.index_of(place.street)
    assert model.index(street.row(), 1, street.parent()).data() == ""
    grid1 = model.index_of(place.grid)
    assert model.index(grid1.row(), 1, grid1.parent()).data() == "1/3"

    tiles = w.page("dashboard").tiles
    assert tiles["residents"].value == 3 and tiles["households"].value == 1
    residents = w.show_page("residents")
    assert residents.count() == 3
    names = {residents.model.index(r, 0).data() for r in range(residents.count())}
    assert names == {"王建国", "李秀英", "王小明"}
    w.tree.select_unit(g2)                          # not offered: the choice stays
    assert w.tree.current_unit() == place.grid
    # The details panel shows their residents, and nobody of 第二网格.
    wang = w.conn.execute("SELECT id FROM residents WHERE name = '王建国'").fetchone()[0]
    zhao = w.conn.execute("SELECT id FROM residents WHERE name = '赵六'").fetchone()[0]
    w.details.show_resident(wang)
    assert w.details.text_of("name") == "王建国"
    w.details.show_resident(zhao)
    assert w.details.text_of("name") == "" and w.details.resident_id is None
    assert w.details.placeholder.isVisible()


def test_an_administrator_sees_every_grid(window_of, two_grids):
    place, g2 = two_grids
    w = window_of("admin")
    rows = shown_rows(w.tree.model())
    assert rows[0][0] == "全部人员" and g2 in [uid for _name, uid, _s in rows]
    assert all(selectable for _name, _uid, selectable in rows)
    assert w.tree.current_unit() is None
    assert w.page("dashboard").tiles["residents"].value == 4
    assert w.show_page("residents").count() == 4
