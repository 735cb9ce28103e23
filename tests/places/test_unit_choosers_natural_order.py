"""Every place that offers a list of units orders it naturally: 第2网格 before 第10网格, names
by pinyin (白云 before 阳光), whatever order the units were entered in."""
import pytest

from shequ_desktop.casework import events
from shequ_desktop.core import tree
from shequ_desktop.places import grid
from shequ_desktop.core.context import Context
from ui.dialogs.event_dialog import EventDialog
from ui.dialogs.import_wizard import target_units
from ui.dialogs.volunteer_forms import unit_combo
from ui.pages.exchange_page import conn_rows
from ui.pages.reports_page import ReportsPage
from ui.pages.users_page import UserDialog

# entered as a spreadsheet sorted as text would list them
ENTERED = ["第1网格", "第10网格", "第11网格", "第2网格", "第3网格"]
NATURAL = ["第1网格", "第2网格", "第3网格", "第10网格", "第11网格"]


@pytest.fixture
def units(ctx):
    street = grid.create_unit(ctx, None, "street", "幸福街道").id
    sunny = grid.create_unit(ctx, street, "community", "阳光社区").id
    cloud = grid.create_unit(ctx, street, "community", "白云社区").id
    ids = {}
    for name in ENTERED:
        ids[name] = grid.create_unit(ctx, sunny, "grid", name).id
    grid.create_unit(ctx, cloud, "grid", "第1网格")
    building = grid.create_unit(ctx, ids["第2网格"], "building", "3号楼").id
    return {"street": street, "sunny": sunny, "cloud": cloud, "grids": ids,
            "building": building}


EXPECTED = ["幸福街道", "白云社区", "第1网格", "阳光社区", *NATURAL]


def combo_texts(combo) -> list[str]:
    return [combo.itemText(i).strip() for i in range(combo.count())]


def test_the_chooser_order_is_natural_with_pinyin(ctx, units):
    ordered = tree.chooser_order(tree.all_units(ctx.conn, tree.TOP_LEVELS))
    assert [u["name"] for u, _depth in ordered] == EXPECTED
    assert [d for _u, d in ordered] == [0, 1, 2, 1, 2, 2, 2, 2, 2]
    assert sorted(["阳光社区 / 第10网格", "阳光社区 / 第2网格", "白云社区 / 第1网格"],
                  key=tree.path_key) == [
        "白云社区 / 第1网格", "阳光社区 / 第2网格", "阳光社区 / 第10网格"]


def test_report_and_volunteer_unit_choosers(qtbot, ctx, units):
    page = ReportsPage(ctx)
    qtbot.addWidget(page)
    assert combo_texts(page.unit)[1:] == EXPECTED
    combo = unit_combo(ctx.conn, None)
    qtbot.addWidget(combo)
    assert combo_texts(combo)[1:] == EXPECTED


def test_event_exchange_import_and_move_choosers(qtbot, ctx, units):
    dialog = EventDialog(ctx.conn, None, "测试员")
    qtbot.addWidget(dialog)
    assert combo_texts(dialog.unit) == ["白云社区 / 第1网格"] + [
        f"阳光社区 / {name}" for name in NATURAL]
    assert [c[1] for c in events.unit_choices(ctx.conn)] == combo_texts(dialog.unit)
    assert [r[2] for r in conn_rows(ctx.conn, ("street", "community", "grid"), None)] == \
        EXPECTED
    paths = [p for _id, p in target_units(ctx.conn)]
    sunny = [p.split(" / ")[-1] for p in paths if p.startswith("幸福街道 / 阳光社区 / 第")]
    assert sunny[:5] == NATURAL
    targets = [p for _id, p in tree.move_targets(ctx.conn, units["building"])]
    assert [p for p in targets if p.startswith("幸福街道 / 阳光社区 /")] == [
        f"幸福街道 / 阳光社区 / {name}" for name in NATURAL if name != "第2网格"]


def test_the_users_unit_list(qtbot, ctx, units):
    dialog = UserDialog(Context(ctx.conn, "管理员"))
    qtbot.addWidget(dialog)
    names = [dialog.units.item(i).text().strip() for i in range(dialog.units.count())]
    assert names == ["白云社区", "第1网格", "阳光社区", *NATURAL]
