"""The grid tree: counts per node and editing units through the context menu's actions."""
import pytest
from PySide6.QtWidgets import QInputDialog, QMessageBox

from shequ_desktop.population import households
from ui.grid_tree import GridTree


@pytest.fixture
def tree(qtbot, ctx, place, family):
    households.create_household(ctx, place.house2, {"name": "赵敏"})
    tree = GridTree(ctx.conn)
    tree.set_context(ctx)
    ctx.subscribe(tree.apply_changes)
    qtbot.addWidget(tree)
    tree.load_counts()                        # synchronous in tests
    return tree


def cell(tree, unit_id, column):
    tree.unit(unit_id)                        # below a grid, units load when it is opened
    model = tree.model()
    index = model.index_of(unit_id)
    return model.index(index.row(), column, index.parent()).data()


def test_counts_of_households_and_residents(tree, place):
    assert cell(tree, place.unit, 1) == "2/4"
    assert cell(tree, place.community, 1) == "2/4"


def test_create_rename_move_and_delete_units(tree, ctx, place, monkeypatch):
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("第二网格", True))
    tree._create(place.community, "grid")
    new = ctx.conn.execute("SELECT id FROM grid_units WHERE name = '第二网格'").fetchone()[0]
    assert cell(tree, new, 0) == "第二网格" and tree.current_unit() == new

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("第二网格（西）", True))
    tree._rename(new)
    assert cell(tree, new, 0) == "第二网格（西）"

    monkeypatch.setattr(QInputDialog, "getItem",
                        lambda *a, **k: ("幸福街道 / 阳光社区 / 第二网格（西）", True))
    tree._move(place.building)
    assert ctx.get("grid_units", place.building)["parent_id"] == new
    assert cell(tree, new, 1) == "2/4" and cell(tree, place.grid, 1) == "0/0"

    warnings = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, text: warnings.append(text))
    tree._delete(new)
    assert warnings and "不能删除" in warnings[0]
    assert ctx.get("grid_units", new)["name"] == "第二网格（西）"
    tree._delete(place.grid)                  # empty now
    assert tree.model().index_of(place.grid).isValid() is False


def test_tree_model_passes_the_model_tester(qtmodeltester, tree):
    qtmodeltester.check(tree.model())


def test_units_below_a_grid_load_when_it_is_opened(qtmodeltester, tree, place):
    model = tree.model()
    grid_index = model.index_of(place.grid)
    assert model.hasChildren(grid_index) and model.rowCount(grid_index) == 0
    assert model.canFetchMore(grid_index)
    tree.expand(grid_index)
    model.fetchMore(grid_index)
    assert model.rowCount(grid_index) == 1 and not model.canFetchMore(grid_index)
    assert model.index(0, 0, grid_index).data() == "1号楼"
    qtmodeltester.check(model)
