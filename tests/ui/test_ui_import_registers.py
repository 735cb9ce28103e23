"""The import wizard with real registers (issue 15) and the signed-in user's access (issue
18): a flat register and its household choice, unknown values with a remembered choice,
a focus-group register, a 网格员's target list and background job."""
import json

import pytest

from shequ_desktop.places import grid
from shequ_desktop.core.access import Access
from ui.dialogs.import_wizard import ImportWizard, target_units
from tests.transfer.test_import_other_registers import rectify_register
from tests.transfer.test_import_registers import flow_person, write_flow


@pytest.fixture
def wizard(qtbot, ctx, db_path, place):
    w = ImportWizard(ctx, db_path, place.grid)
    qtbot.addWidget(w)
    w.show()
    return w


def to_preview(w, path):
    w.file_page.path.setText(str(path))
    w.next()
    assert w.currentPage() is w.mapping_page
    w.next()
    assert w.currentPage() is w.preview_page


def test_a_flat_register_shows_its_household_choice_and_kept_columns(qtbot, wizard, tmp_path,
                                                                    conn):
    rows = [flow_person(i, address="幸福花园1栋1单元101" if i < 4 else None)
            for i in range(1, 11)]
    to_preview(wizard, write_flow(tmp_path / "flow.xlsx", rows))
    page = wizard.preview_page
    assert page.flat_row.isVisibleTo(page)
    assert "作为附加信息随人保存的列（2）：联系手机、人户状态" in page.columns.text()
    assert "未导入的列：序号" in page.columns.text()
    assert page.counts.text().startswith("共 10 行：新增 10，")
    page.flat.setCurrentIndex(page.flat.findData("person"))
    page.recheck()
    assert wizard.plan.flat == "person"
    wizard.next()
    assert conn.execute("SELECT count(*) FROM households").fetchone()[0] == 10
    assert wizard.run_page.result.text().startswith("导入完成：新增 10 人（10 户）")


def test_unknown_values_are_shown_once_per_column_and_the_choice_is_remembered(
        qtbot, wizard, tmp_path, conn, ctx, db_path):
    rows = [flow_person(i, kind="未落户" if i % 2 else "寄居") for i in range(1, 7)]
    path = write_flow(tmp_path / "flow.xlsx", rows)
    to_preview(wizard, path)
    page = wizard.preview_page
    assert page.values_box.isVisibleTo(page)
    shown = [(page.values.item(r, 0).text(), page.values.item(r, 1).text(),
              page.values.item(r, 2).text()) for r in range(page.values.rowCount())]
    assert shown == [("人口类型", "未落户", "3"), ("人口类型", "寄居", "3")]
    combo = page.value_combos[0][2]
    combo.setCurrentIndex(combo.findData("1"))             # 未落户 -> 户籍人口
    page.recheck()
    assert wizard.plan.unknown_values() == {}                # 寄居 kept as text (the default)
    assert page.values.rowCount() == 2                      # both still listed, to change
    wizard.next()
    kinds = dict(conn.execute("SELECT name, residence_type FROM residents"))
    assert kinds["测试001"] == "1" and kinds["测试002"] == "1"
    assert json.loads(conn.execute("SELECT extras FROM residents WHERE name = '测试002'"
                                   ).fetchone()[0])["人口类型"] == "寄居"
    again = ImportWizard(ctx, db_path)
    qtbot.addWidget(again)
    again.show()
    to_preview(again, path)
    assert again.value_choices == {"人口类型": {"未落户": "1", "寄居": "\x00keep"}}


def test_a_focus_register_through_the_wizard(qtbot, wizard, tmp_path, conn):
    to_preview(wizard, rectify_register(tmp_path / "矫正.xlsx"))
    assert wizard.what == "focus" and wizard.tag == "社区矫正"
    assert "表头在第 5–6 行（识别为重点人群登记表）" in wizard.mapping_page.header_label.text()
    assert "重点人群：社区矫正" in wizard.preview_page.columns.text()
    wizard.next()
    assert "6 人标记为“社区矫正”" in wizard.run_page.result.text()
    assert conn.execute("SELECT count(*) FROM resident_tags").fetchone()[0] == 6


def test_a_grid_worker_is_offered_and_held_to_their_own_units(qtbot, ctx, db_path, conn, place,
                                                              tmp_path):
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    ctx.access = Access("网格员", frozenset({place.grid}))
    assert [u for u, _p in target_units(conn, ctx.access)] == [place.grid]
    assert target_units(conn, Access("只读")) == []
    w = ImportWizard(ctx, db_path, place.grid)
    qtbot.addWidget(w)
    w.show()
    assert [w.file_page.target.itemData(i) for i in range(w.file_page.target.count())] == \
        [place.grid]
    path = write_flow(tmp_path / "flow.xlsx", [flow_person(1), flow_person(2)])
    to_preview(w, path)
    # the background job carries the 网格员's access: an import aimed at another grid fails
    w.file_page.target.addItem("第二网格", other)
    w.file_page.target.setCurrentIndex(1)
    w.next()
    assert "网格员只能" in w.run_page.result.text()
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0


def test_the_details_panel_shows_what_the_register_had_beyond_our_fields(qtbot, ctx, conn,
                                                                         place, tmp_path):
    from shequ_desktop.population import extras
    from shequ_desktop.transfer.importing import import_file
    from ui.details_panel import DetailsPanel

    import_file(ctx, write_flow(tmp_path / "flow.xlsx", [flow_person(1)]), place.grid)
    rid = conn.execute("SELECT id FROM residents").fetchone()[0]
    panel = DetailsPanel(conn)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_resident(rid)
    assert panel.extras_shown() == {"联系手机": "13800000001", "人户状态": "人在户不在"}
    assert extras.labels(conn) == ["联系手机", "人户状态"]


def test_a_volunteer_roster_through_the_wizard(qtbot, wizard, tmp_path, conn):
    from tests.conftest import make_id
    from tests.transfer.registers import write_book

    head = [["阳光社区志愿者花名册"], ["姓名", "性别", "身份证号", "联系电话", "技能特长", "注册日期"]]
    data = [["赵志愿", "女", make_id("1995-02-03", "2", seq=60), "13700001111", "唱歌",
             "2024-03-01"],
            ["钱志愿", "男", make_id("1990-02-03", "1", seq=61), "13700002222", "修理",
             "2024-03-02"]]
    to_preview(wizard, write_book(tmp_path / "vol.xlsx", head, [], data))
    assert wizard.what == "volunteers"
    assert not wizard.mapping_page.combos[0].isEnabled()        # read by column names
    assert wizard.preview_page.counts.text().startswith("共 2 行：新增 2，")
    assert conn.execute("SELECT count(*) FROM volunteers").fetchone()[0] == 0   # a dry run
    wizard.next()
    assert wizard.run_page.result.text().startswith("导入完成：新增 2 名志愿者")
    assert conn.execute("SELECT count(*) FROM volunteers").fetchone()[0] == 2


def test_a_grid_worker_imports_what_can_be_placed_in_their_grid(qtbot, ctx, db_path, conn,
                                                                place, tmp_path):
    ctx.access = Access("网格员", frozenset({place.grid}))
    w = ImportWizard(ctx, db_path, place.grid)
    qtbot.addWidget(w)
    w.show()
    rows = [flow_person(1), flow_person(2, address="村口老槐树下")]
    to_preview(w, write_flow(tmp_path / "flow.xlsx", rows))
    assert w.preview_page.counts.text().startswith("共 2 行：新增 1，更新 0，无变化 0，跳过 0，错误 1")
    assert "须有可识别的现住址" in w.plan.rows[1].reason()
    w.next()
    assert w.run_page.result.text().startswith("导入完成：新增 1 人（1 户）")
    got = conn.execute("SELECT r.name, h.house_id IS NOT NULL FROM residents r "
                       "JOIN households h ON h.id = r.household_id").fetchall()
    assert [tuple(r) for r in got] == [("测试001", 1)]
    building = conn.execute("SELECT id FROM grid_units WHERE level = 'building'").fetchone()[0]
    assert ctx.access.may_read(building)              # the window reads the new buildings
