"""Issue 21, part 1 in the GUI: the 重点人群 page (groups, members with their own fields,
一老一小 services, export) and the group fields on the details panel — real widgets
(offscreen) over real SQLite files; dialogs' answers are monkeypatched where a test is about
the page, and each dialog is driven in its own test."""
import datetime as dt
import json

import pytest
from python_calamine import CalamineWorkbook

from shequ_desktop.population import focus_groups, tags
from shequ_desktop.casework import services
from shequ_desktop.core.access import GRID_WORKER, Access
from shequ_desktop.core.context import Context
from ui.details_panel import DetailsPanel
from ui.dialogs.focus_dialogs import GroupDialog, MemberFieldsDialog, ServiceDialog
from ui.pages.focus_page import FocusPage

TODAY = dt.date.today()


def tag_id(conn, name):
    return conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]


@pytest.fixture
def members(ctx, family):
    _hh, ids = family
    tags.assign_tag(ctx, ids["son"], tag_id(ctx.conn, "残疾人"), "2025-01-01")
    tags.assign_tag(ctx, ids["head"], tag_id(ctx.conn, "残疾人"), "2025-02-01")
    focus_groups.set_member_values(ctx, ids["son"], {"残疾类型": "肢体残疾"})
    return ids


@pytest.fixture
def page(qtbot, ctx, db_path, members):
    page = FocusPage(ctx, db_path)
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    return page


def test_the_page_lists_groups_and_a_groups_members_with_its_own_fields(page, qtmodeltester):
    page.select_group("残疾人")
    model = page.members
    assert model.headers[:4] == ("姓名", "住址", "纳入日期", "最近走访")
    assert list(model.headers[4:]) == focus_groups.fields_of(page.ctx.conn,
                                                            tag_id(page.ctx.conn, "残疾人"))
    names = [model.index(r, 0).data() for r in range(model.rowCount())]
    assert sorted(names) == ["王小明", "王建国"]
    row = names.index("王小明")
    column = model.headers.index("残疾类型")
    assert model.index(row, column).data() == "肢体残疾"
    groups = {page.groups.index(r, 0).data(): page.groups.index(r, 2).data()
              for r in range(page.groups.rowCount())}
    assert groups["残疾人"] == "2"
    qtmodeltester.check(page.groups)
    qtmodeltester.check(page.members)


def test_filling_in_a_members_fields_saves_them_and_the_page_follows(page, monkeypatch,
                                                                      members):
    page.select_group("残疾人")
    row = [r["name"] for r in page.members.rows].index("王建国")
    page.member_view.selectRow(row)
    monkeypatch.setattr(MemberFieldsDialog, "ask",
                        classmethod(lambda cls, parent, name, group, values:
                                    {**values, "残疾等级": "三级"}))
    page.edit_member()
    stored = json.loads(page.ctx.conn.execute("SELECT extras FROM residents WHERE id = ?",
                                              (members["head"],)).fetchone()[0])
    assert stored == {"残疾等级": "三级"}
    row = [r["name"] for r in page.members.rows].index("王建国")
    assert page.members.index(row, page.members.headers.index("残疾等级")).data() == "三级"


def test_a_service_for_the_chosen_members_is_recorded_and_listed(page, monkeypatch):
    page.select_group("残疾人")
    page.member_view.selectAll()
    monkeypatch.setattr(ServiceDialog, "ask", classmethod(
        lambda cls, parent, names, kinds, provider="": {
            "served_on": TODAY.isoformat(), "kind": "助餐", "provider": "幸福食堂",
            "content": "午餐"}))
    page.record_service()
    assert page.ctx.conn.execute("SELECT count(*) FROM services").fetchone()[0] == 2
    assert page.services.rowCount() == 2
    assert "助餐 2" in page.service_count.text()


def test_an_administrator_adds_a_group_and_a_grid_worker_sees_no_such_buttons(
        qtbot, page, monkeypatch, conn, place):
    monkeypatch.setattr(GroupDialog, "ask", classmethod(lambda cls, parent, **kw: {
        "name": "群租房租户", "visit_interval_days": 60, "fields": ["房东", "租住人数"]}))
    page.add_group()
    page.select_group("群租房租户")
    assert page.members.headers[4:] == ("房东", "租住人数")
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    theirs = FocusPage(worker)
    qtbot.addWidget(theirs)
    assert theirs.add_button.isHidden() and theirs.catalogue_button.isHidden()


def test_the_export_button_writes_the_groups_list_with_its_fields(page, tmp_path):
    page.select_group("残疾人")
    out = tmp_path / "残疾人.xlsx"
    result = page.export_group(str(out))
    assert result["rows"] == 2
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    assert "残疾类型" in rows[0]
    assert "肢体残疾" in [row[rows[0].index("残疾类型")] for row in rows[1:]]


def test_the_dialogs_answer_what_was_entered(qtbot):
    dialog = GroupDialog(name="", interval=None)
    qtbot.addWidget(dialog)
    assert not dialog.buttons.button(dialog.buttons.StandardButton.Ok).isEnabled()
    dialog.name.setText("自定义")
    dialog.interval.setValue(15)
    dialog.fields.setPlainText("甲\n\n乙")
    assert dialog.answer() == {"name": "自定义", "visit_interval_days": 15, "fields": ["甲", "乙"]}
    fields = MemberFieldsDialog("王建国", "残疾人", {"残疾类型": "", "残疾等级": "二级"})
    qtbot.addWidget(fields)
    fields.edits["残疾类型"].setText("视力残疾")
    assert fields.answer() == {"残疾类型": "视力残疾", "残疾等级": "二级"}
    service = ServiceDialog(["王建国"], focus_groups.service_kinds())
    qtbot.addWidget(service)
    assert not service.buttons.button(service.buttons.StandardButton.Ok).isEnabled()
    service.provider.setText("颐养中心")
    service.kind.setCurrentText("上门理发")
    answer = service.answer()
    assert answer["kind"] == "上门理发" and answer["provider"] == "颐养中心"
    assert answer["served_on"] == TODAY.isoformat()


def test_the_details_panel_shows_each_groups_fields_and_the_rest_apart(qtbot, conn, ctx,
                                                                      members):
    conn.execute("UPDATE residents SET extras = json_set(extras, '$.户籍地', '四川省')"
                 " WHERE id = ?", (members["son"],))
    panel = DetailsPanel(conn)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_resident(members["son"])
    shown = panel.focus_shown()
    assert shown[0] == ("残疾人", "")
    assert ("残疾类型", "肢体残疾") in shown and ("残疾等级", "（未填）") in shown
    assert panel.extras_shown() == {"户籍地": "四川省"}


def test_the_main_window_has_the_page(qtbot, conn):
    from ui.main_window import MainWindow
    window = MainWindow(conn, "x.db")
    qtbot.addWidget(window)
    page = window.show_page("focus")
    assert isinstance(page, FocusPage)
    services.list_services(conn)       # the table exists in a fresh database
