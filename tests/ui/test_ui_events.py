"""The events page and its dialogs as real widgets over a real SQLite file (offscreen).
Dialog answers are monkeypatched where a test is about the page; the dialogs are driven in
their own tests."""
import datetime as dt
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QDialog, QMessageBox  # noqa: E402

from shequ_desktop.casework import events  # noqa: E402
from shequ_desktop.core import workdays  # noqa: E402
from shequ_desktop.core.access import READ_ONLY, Access  # noqa: E402
from shequ_desktop.places import grid, houses  # noqa: E402
from shequ_desktop.population import households  # noqa: E402
from tests.conftest import make_id  # noqa: E402
from ui.details_panel import DetailsPanel  # noqa: E402
from ui.dialogs.event_dialog import (  # noqa: E402
    AcceptDialog,
    EventDialog,
    LinkDialog,
    TextDialog,
)
from ui.follow import follow_changes  # noqa: E402
from ui.pages.events_page import COLUMNS, OVERDUE_BACKGROUND, EventsPage  # noqa: E402

TODAY = dt.date.today()


def category(conn, name):
    return conn.execute("SELECT id FROM event_categories WHERE name = ?", (name,)).fetchone()[0]


def texts(page, column):
    return [page.model.index(r, column).data() for r in range(page.model.rowCount())]


def log_lines(page):
    table = page.log_table
    return [tuple(table.item(r, c).text() for c in range(5)) for r in range(table.rowCount())]


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, title, text: shown.append(text))
    return shown


@pytest.fixture
def page(qtbot, ctx, place):
    widget = EventsPage(ctx)
    qtbot.addWidget(widget)
    widget.resize(1000, 600)
    widget.show()
    return widget


def report(ctx, place, description, name="安全隐患", found=None):
    return events.report_event(ctx, place.unit, category(ctx.conn, name), description,
                               found or TODAY, "张网格").id


def test_report_through_the_page(page, ctx, place, monkeypatch, warnings):
    asked = []

    def fake_ask(parent, conn, unit_id, user, access=None):
        asked.append((unit_id, user))
        return {"unit_id": place.unit, "category_id": category(conn, "环境卫生"),
                "description": "2单元门口垃圾堆积", "location": "2单元门口",
                "found_at": TODAY.isoformat(), "reporter": user}
    monkeypatch.setattr(EventDialog, "ask", fake_ask)
    page.set_unit(place.grid)
    reloads = page.reloads
    page.buttons["report"].click()
    assert asked == [(place.grid, "测试员")]
    assert page.reloads == reloads + 1                      # one re-read, from the subscription
    assert page.model.rowCount() == 1
    assert [page.model.index(0, c).data() for c in range(8)] == [
        "环境卫生", "2单元门口垃圾堆积", "", "第一网格", TODAY.isoformat(), "上报", "",
        "已用 0 天"]
    assert page.current_event_id() == page.model.id_at(0)       # the new one is selected
    assert [line[2:4] for line in log_lines(page)] == [("上报", "上报")]
    assert page.buttons["accept"].isEnabled() and not page.buttons["close"].isEnabled()
    assert page.count_label.text() == "共 1 件"
    assert warnings == []


def test_take_an_event_through_the_loop_with_the_buttons(page, ctx, place, monkeypatch,
                                                         warnings):
    event_id = report(ctx, place, "楼道堆放杂物")
    assert page.select_event(event_id)
    monkeypatch.setattr(AcceptDialog, "ask", lambda parent, description: (3, "转物业"))
    page.buttons["accept"].click()
    deadline = workdays.add_workdays(TODAY, 3).isoformat()
    assert texts(page, 5) == ["受理"] and texts(page, 6) == [deadline]
    assert page.buttons["start"].isEnabled() and not page.buttons["accept"].isEnabled()

    monkeypatch.setattr(TextDialog, "ask", lambda *a, **k: "已通知物业清理")
    page.buttons["start"].click()
    assert texts(page, 5) == ["处置中"]
    monkeypatch.setattr(TextDialog, "ask", lambda *a, **k: "杂物已清理，通道畅通")
    page.buttons["close"].click()
    assert texts(page, 5) == ["办结"] and texts(page, 7) == ["用时 0 天"]
    assert page.buttons["archive"].isEnabled() and page.buttons["send_back"].isEnabled()

    lines = log_lines(page)
    assert [line[1:4] for line in lines] == [
        ("测试员", "上报", "上报"), ("测试员", "受理", "上报 → 受理"),
        ("测试员", "处置", "受理 → 处置中"), ("测试员", "办结", "处置中 → 办结")]
    assert lines[1][4] == f"期限 3 个工作日，至 {deadline}；转物业"
    assert lines[3][4] == "杂物已清理，通道畅通"
    assert "处置结果：杂物已清理，通道畅通" in page.summary.text()

    monkeypatch.setattr(TextDialog, "ask", lambda *a, **k: "居民反映仍有杂物")
    page.buttons["send_back"].click()
    assert texts(page, 5) == ["处置中"]
    assert log_lines(page)[-1][2:] == ("退回", "办结 → 处置中", "居民反映仍有杂物")
    assert warnings == []


def test_closing_without_a_resolution_is_refused_with_a_message(page, ctx, place,
                                                                 monkeypatch, warnings):
    event_id = report(ctx, place, "路灯不亮")
    events.accept(ctx, event_id, 5)
    events.start(ctx, event_id, None)
    page.select_event(event_id)
    monkeypatch.setattr(TextDialog, "ask", lambda *a, **k: "")
    page.buttons["close"].click()
    assert warnings == ["办结情况：办结必须填写处置结果，不能为空"]
    assert texts(page, 5) == ["处置中"]
    assert len(log_lines(page)) == 3
    # cancelling the question does nothing at all
    monkeypatch.setattr(TextDialog, "ask", lambda *a, **k: None)
    page.buttons["close"].click()
    assert len(warnings) == 1


def test_a_refused_jump_is_shown(page, ctx, place, warnings):
    """The buttons follow the status; a stale page still gets the service's reason."""
    event_id = report(ctx, place, "井盖缺失")
    page.select_event(event_id)
    page.archive_event()
    assert warnings == ["事件当前为“上报”，需先受理，才能归档"]


def test_only_overdue(page, ctx, place):
    late = report(ctx, place, "违章搭建", found=TODAY - dt.timedelta(days=40))
    events.accept(ctx, late, 3, on=TODAY - dt.timedelta(days=30))
    fresh = report(ctx, place, "噪音扰民")
    events.accept(ctx, fresh, 5)
    report(ctx, place, "树枝折断")
    assert page.model.rowCount() == 3
    assert page.count_label.text() == "共 3 件，逾期 1 件"
    page.overdue_only.setChecked(True)
    assert texts(page, 1) == ["违章搭建"]
    assert texts(page, 7)[0].startswith("逾期 ")
    index = page.model.index(0, 7)
    assert index.data(Qt.ItemDataRole.BackgroundRole).color() == OVERDUE_BACKGROUND
    page.overdue_only.setChecked(False)
    row = page.model.row_of(fresh)
    assert page.model.index(row, 0).data(Qt.ItemDataRole.BackgroundRole) is None


def test_status_category_and_unit_filters(page, ctx, place):
    report(ctx, place, "漏水", name="民生诉求")
    accepted = report(ctx, place, "电线私拉")
    events.accept(ctx, accepted, 5)
    other_grid = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    events.report_event(ctx, other_grid, category(ctx.conn, "其他"), "别处的事", TODAY, "王")
    assert page.model.rowCount() == 3
    page.status_filter.setCurrentIndex(page.status_filter.findData("受理"))
    assert texts(page, 1) == ["电线私拉"]
    page.status_filter.setCurrentIndex(0)
    page.category_filter.setCurrentIndex(
        page.category_filter.findData(category(ctx.conn, "民生诉求")))
    assert texts(page, 1) == ["漏水"]
    page.category_filter.setCurrentIndex(0)
    page.set_unit(other_grid)
    assert texts(page, 1) == ["别处的事"]
    page.set_unit(None)
    assert page.model.rowCount() == 3


def test_refreshes_only_for_event_changes(page, ctx, place, family):
    from shequ_desktop.population import residents
    reloads = page.reloads
    residents.update_resident(ctx, family[1]["son"], {"phone": "13700001111"})
    assert page.reloads == reloads
    events.create_category(ctx, "物业服务")
    assert page.reloads == reloads + 1
    assert page.category_filter.findText("物业服务") > 0


def test_model_passes_the_model_tester(qtmodeltester, page, ctx, place):
    late = report(ctx, place, "违章搭建", found=TODAY - dt.timedelta(days=20))
    events.accept(ctx, late, 3, on=TODAY - dt.timedelta(days=15))
    report(ctx, place, "噪音扰民")
    qtmodeltester.check(page.model)
    qtmodeltester.check(page.model, force_py=True)
    page.view.sortByColumn(6, Qt.SortOrder.AscendingOrder)
    assert texts(page, 1)[0] == "违章搭建"
    page.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    assert texts(page, 1) == ["违章搭建", "噪音扰民"]
    qtmodeltester.check(page.model)


# --- the dialogs -----------------------------------------------------------------------------

def test_event_dialog(qtbot, ctx, place):
    dialog = EventDialog(ctx.conn, place.unit, "测试员")
    qtbot.addWidget(dialog)
    assert dialog.unit.currentText() == "第一网格 / 1号楼 / 1单元"
    assert dialog.reporter.text() == "测试员"
    assert not dialog.ok_button().isEnabled()
    dialog.category.setCurrentIndex(dialog.category.findText("矛盾纠纷"))
    dialog.description.setPlainText("邻里因漏水起纠纷")
    assert dialog.ok_button().isEnabled()
    values = dialog.answer()
    assert values == {"unit_id": place.unit, "category_id": category(ctx.conn, "矛盾纠纷"),
                      "description": "邻里因漏水起纠纷", "location": None,
                      "found_at": TODAY.isoformat(), "reporter": "测试员", "resident_id": None}
    assert events.report_event(ctx, **values).id
    # a community chosen in the tree: no grid is preselected
    at_community = EventDialog(ctx.conn, place.community, "测试员")
    qtbot.addWidget(at_community)
    assert at_community.unit.currentIndex() == -1
    assert at_community.unit.findText("阳光社区 / 第一网格") >= 0


def test_accept_dialog_shows_the_deadline_and_warns_past_the_calendar(qtbot):
    dialog = AcceptDialog("楼道堆放杂物", today=dt.date(2026, 2, 13))
    qtbot.addWidget(dialog)
    assert dialog.days.value() == 5
    assert dialog.deadline.text().startswith("2026-02-27（星期五）")
    assert dialog.warning.text() == ""
    year = next(y for y in range(2026, 2100) if not workdays.covered(y))
    late = AcceptDialog("x", today=dt.date(year - 1, 12, 28))
    qtbot.addWidget(late)
    late.days.setValue(10)
    assert late.warning.text() == f"{year}年节假日安排尚未公布，期限按周一至周五计算"
    late.days.setValue(1)
    assert late.answer() == (1, None)


def test_text_dialog_waits_for_required_text(qtbot):
    dialog = TextDialog("办结", "填写处置结果（必填）：")
    qtbot.addWidget(dialog)
    assert not dialog.ok_button().isEnabled()
    dialog.text.setPlainText("  已处理 ")
    assert dialog.ok_button().isEnabled() and dialog.answer() == "已处理"
    optional = TextDialog("处置", "说明：", required=False)
    qtbot.addWidget(optional)
    assert optional.ok_button().isEnabled()


# --- 关联居民: an existing event and the resident it concerns (issue 20) ---------------------------

def link_answer(name=None, unlink=False):
    """LinkDialog.ask driven through the real dialog: search `name` and take the first match,
    or press 解除关联."""
    def ask(parent, conn, event, access=None):
        dialog = LinkDialog(conn, event, access, parent)
        if unlink:
            dialog.unlink_button.click()
        else:
            dialog.resident.find.setText(name)
            assert dialog.resident.look_up() == 1
            dialog.ok_button().click()
        return dialog.answer() if dialog.result() == QDialog.DialogCode.Accepted else None
    return ask


def resident_column(page, event_id):
    column = [key for key, _chars in COLUMNS].index("resident")
    return page.model.index(page.model.row_of(event_id), column).data()


def test_link_and_unlink_a_resident_from_the_page_updates_the_row_and_the_details(
        page, ctx, place, family, qtbot, monkeypatch, warnings):
    _hh, ids = family
    event_id = report(ctx, place, "楼上漏水")
    panel = DetailsPanel(ctx.conn)
    qtbot.addWidget(panel)
    follow_changes(panel, ctx, panel.apply_changes)           # as the main window does
    panel.show_resident(ids["wife"])
    page.set_unit(place.grid)
    page.select_event(event_id)
    assert page.buttons["link"].isEnabled()
    assert page.context_menu().actions() == [page.link_action]
    assert page.link_action.isEnabled() and page.link_action.text() == "关联居民…"
    reloads = page.reloads

    monkeypatch.setattr(LinkDialog, "ask", link_answer("李秀英"))
    page.link_action.trigger()                                 # the context menu's item
    assert resident_column(page, event_id) == "李秀英"
    assert "涉及居民：李秀英" in page.summary.text()
    assert log_lines(page)[-1][2:] == ("备注", "上报", "关联居民：李秀英")
    assert [line.split("\n")[1] for line in panel.event_lines()] == ["楼上漏水"]
    assert page.reloads == reloads                # the row was updated, not the list re-read

    monkeypatch.setattr(LinkDialog, "ask", link_answer(unlink=True))
    page.buttons["link"].click()
    assert resident_column(page, event_id) == ""
    assert "涉及居民" not in page.summary.text()
    assert log_lines(page)[-1][4] == "取消关联居民"
    assert panel.event_lines() == [] and panel.events_box.isHidden()
    assert events.get_event(ctx.conn, event_id)["resident_id"] is None
    assert page.reloads == reloads and warnings == []


def test_a_resident_of_another_grid_is_refused_on_the_page(page, ctx, place, family,
                                                         monkeypatch, warnings):
    other_grid = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    building = grid.create_unit(ctx, other_grid, "building", "9号楼", floors=6).id
    house = houses.create_house(ctx, building, {"room_no": "201", "floor": 2}).id
    stranger = households.create_household(ctx, house, {
        "name": "赵外人", "id_number": make_id("1980-01-02", "1")}).changes[1].id
    event_id = report(ctx, place, "楼道堆物")
    page.set_unit(place.grid)
    page.select_event(event_id)
    monkeypatch.setattr(LinkDialog, "ask", lambda *a, **k: {"resident_id": stranger})
    page.buttons["link"].click()
    assert warnings == ["赵外人不住在“幸福街道 / 阳光社区 / 第一网格”，不能关联到这里的事件"]
    assert resident_column(page, event_id) == ""
    assert events.get_event(ctx.conn, event_id)["resident_id"] is None


def test_a_read_only_user_and_a_closed_event_are_not_offered_the_link(
        page, ctx, place, family, monkeypatch, warnings):
    _hh, ids = family
    done = report(ctx, place, "路灯不亮")
    events.accept(ctx, done)
    events.start(ctx, done)
    events.close(ctx, done, "已修复")
    event_id = report(ctx, place, "楼道堆物")
    page.set_unit(place.grid)
    page.select_event(done)
    assert not page.buttons["link"].isEnabled() and not page.link_action.isEnabled()
    page.select_event(event_id)
    assert page.buttons["link"].isEnabled()

    ctx.access = Access(READ_ONLY)
    page.select_event(event_id)
    assert not page.buttons["link"].isEnabled() and not page.link_action.isEnabled()
    monkeypatch.setattr(LinkDialog, "ask", lambda *a, **k: {"resident_id": ids["wife"]})
    page.link_resident()                                # e.g. a shortcut: the rule still holds
    assert warnings == ["只读用户不能修改数据"]
    assert events.get_event(ctx.conn, event_id)["resident_id"] is None


def test_link_dialog_finds_in_the_events_grid_and_offers_unlink_only_when_linked(
        qtbot, ctx, place, family):
    _hh, ids = family
    event_id = report(ctx, place, "楼上漏水")
    row = events.get_event(ctx.conn, event_id)
    dialog = LinkDialog(ctx.conn, row)
    qtbot.addWidget(dialog)
    assert dialog.unlink_button is None and not dialog.ok_button().isEnabled()
    dialog.resident.find.setText("王小明")
    assert dialog.resident.look_up() == 1
    text = dialog.resident.matches.currentText()
    assert text.startswith("王小明") and make_id("2001-09-01", "1") not in text   # masked
    assert dialog.ok_button().isEnabled()
    assert dialog.answer() == {"resident_id": ids["son"]}
    dialog.resident.find.setText("查无此人")
    assert dialog.resident.look_up() == 0 and not dialog.ok_button().isEnabled()

    events.set_resident(ctx, event_id, ids["son"])
    linked = LinkDialog(ctx.conn, events.get_event(ctx.conn, event_id))
    qtbot.addWidget(linked)
    assert linked.unlink_button.text() == "解除关联"
    linked.resident.find.setText("王小明")
    linked.resident.look_up()
    assert not linked.ok_button().isEnabled()            # the same resident: nothing to do
    linked.unlink_button.click()
    assert linked.answer() == {"resident_id": None}
