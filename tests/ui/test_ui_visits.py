"""The visits page, the visit dialog and the visit history on the details panel and household
view — real widgets (offscreen) over real SQLite files. The dialog's answer is monkeypatched
where a test is about the page; the dialog is driven in its own test."""
import datetime as dt

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, tags
from shequ_desktop.casework import visits
from tests.conftest import TODAY, make_id
from ui.details_panel import DetailsPanel
from ui.dialogs.visit_dialog import VisitDialog, names_text
from ui.pages.household_view import HouseholdView
from ui.pages.visits_page import OVERDUE_BACKGROUND, VisitsPage, VisitTableModel


def ago(days: int) -> str:
    return (TODAY - dt.timedelta(days=days)).isoformat()


def tag(ctx, resident_id: int, name: str, since_days_ago: int) -> int:
    tag_id = ctx.conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]
    return tags.assign_tag(ctx, resident_id, tag_id, ago(since_days_ago)).id


def visit_rows(conn):
    return [tuple(r) for r in conn.execute(
        "SELECT resident_id, visited_on, method, visitor, findings FROM visits ORDER BY id")]


@pytest.fixture
def elsewhere(ctx, place):
    """刘芳 in another grid of the same street, 高龄老人, never visited."""
    community = grid.create_unit(ctx, place.street, "community", "月亮社区").id
    g = grid.create_unit(ctx, community, "grid", "第九网格").id
    building = grid.create_unit(ctx, g, "building", "9号楼").id
    house = houses.create_house(ctx, building, {"room_no": "101", "floor": 1}).id
    hh = households.create_household(ctx, house, {
        "name": "刘芳", "id_number": make_id("1938-04-04", "2", seq=43)})
    rid = ctx.get("households", hh.id)["head_resident_id"]
    tag(ctx, rid, "高龄老人", 60)
    return rid


@pytest.fixture
def tagged(ctx, family):
    """王小明 残疾人 since 50 days, 王建国 高龄老人 since 30 days (both never visited);
    李秀英 低保, visited 10 days ago (due in 80 days)."""
    _, p = family
    tag(ctx, p["son"], "残疾人", 50)
    tag(ctx, p["head"], "高龄老人", 30)
    tag(ctx, p["wife"], "低保", 200)
    visits.record_visit(ctx, p["wife"], ago(10), "电话", "测试员")
    return p


@pytest.fixture
def page(qtbot, ctx, place):
    page = VisitsPage(ctx)
    qtbot.addWidget(page)
    page.resize(1000, 500)
    page.show()
    page.set_unit(place.grid)
    return page


def click_row(qtbot, page, row, modifier=Qt.KeyboardModifier.NoModifier):
    rect = page.view.visualRect(page.model.index(row, 0))
    qtbot.mouseClick(page.view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def cell(page, row, key):
    from ui.pages.visits_page import COLUMNS
    column = [k for k, _ in COLUMNS].index(key)
    return page.model.index(row, column)


# --- the list --------------------------------------------------------------------------------

def test_page_lists_the_due_residents_of_the_unit(page, tagged, elsewhere, place):
    page.reload()
    assert page.names() == ["王小明", "王建国"]            # never visited, longest waiting first
    assert cell(page, 0, "last_visit").data() == "从未走访"
    assert cell(page, 0, "days_overdue").data() == "50"
    assert cell(page, 0, "tags").data() == "残疾人"
    assert cell(page, 0, "interval_days").data() == "30"
    assert cell(page, 0, "address").data() == "阳光社区 1号楼1单元101"
    assert cell(page, 0, "due_on").data() == ago(50)
    background = cell(page, 0, "name").data(Qt.ItemDataRole.BackgroundRole)
    assert background.color() == OVERDUE_BACKGROUND
    assert cell(page, 0, "last_visit").data(Qt.ItemDataRole.FontRole).bold()
    assert page.count_label.text() == "共 2 人，逾期 2 人，从未走访 2 人"

    page.set_unit(place.street)                             # the tree chose the street
    assert sorted(page.names()) == ["刘芳", "王小明", "王建国"]
    page.set_unit(place.grid)
    page.set_mode("all")
    assert page.names() == ["王小明", "王建国", "李秀英"]
    wife = page.model.row_of(tagged["wife"])
    assert cell(page, wife, "last_visit").data() == ago(10)
    assert cell(page, wife, "days_overdue").data() == "还有 80 天"
    assert cell(page, wife, "name").data(Qt.ItemDataRole.BackgroundRole) is None
    page.set_mode("overdue")
    assert page.names() == ["王小明", "王建国"]


def test_this_week_means_due_by_sunday(page, ctx, family):
    _, p = family
    weekday = TODAY.weekday()                               # Monday 0 … Sunday 6
    tag(ctx, p["head"], "独居老人", 100)
    tag(ctx, p["wife"], "独居老人", 100)
    visits.record_visit(ctx, p["head"], ago(weekday + 1), "入户", "测试员")  # due on Sunday
    visits.record_visit(ctx, p["wife"], ago(weekday), "入户", "测试员")      # next Monday
    assert page.names() == ["王建国"]
    tag(ctx, p["son"], "独居老人", 100)
    visits.record_visit(ctx, p["son"], ago(7), "入户", "测试员")          # due today
    assert sorted(page.names()) == ["王小明", "王建国"]
    son = page.model.row_of(p["son"])
    assert cell(page, son, "days_overdue").data() == "今天到期"
    assert cell(page, son, "name").data(Qt.ItemDataRole.BackgroundRole) is None
    page.set_mode("overdue")
    assert page.names() == []
    page.set_mode("all")
    assert sorted(page.names()) == ["李秀英", "王小明", "王建国"]


# --- recording -------------------------------------------------------------------------------

def test_record_a_visit_for_two_selected_rows(qtbot, page, ctx, tagged, monkeypatch):
    page.reload()
    selected = []
    page.residentSelected.connect(selected.append)
    asked = []

    def answer(parent, names, visitor):
        asked.append((names, visitor))
        return {"visited_on": TODAY.isoformat(), "method": "入户", "visitor": visitor,
                "findings": "楼栋走访，情况正常", "follow_up": False, "follow_up_note": None}

    monkeypatch.setattr(VisitDialog, "ask", staticmethod(answer))
    assert not page.record_button.isEnabled()
    click_row(qtbot, page, 0)
    click_row(qtbot, page, 1, Qt.KeyboardModifier.ControlModifier)
    assert selected == [tagged["son"], tagged["head"]]
    assert page.selected_ids() == [tagged["son"], tagged["head"]]
    assert page.record_button.isEnabled()
    reloads = page.reloads

    qtbot.mouseClick(page.record_button, Qt.MouseButton.LeftButton)
    assert asked == [(["王小明", "王建国"], "测试员")]
    assert visit_rows(ctx.conn)[1:] == [
        (tagged["son"], TODAY.isoformat(), "入户", "测试员", "楼栋走访，情况正常"),
        (tagged["head"], TODAY.isoformat(), "入户", "测试员", "楼栋走访，情况正常")]
    assert page.reloads == reloads + 1                      # one transaction, one re-read
    assert page.names() == []                               # both due again in 30 days
    assert page.count_label.text() == "共 0 人，逾期 0 人，从未走访 0 人"
    assert not page.record_button.isEnabled()


def test_a_refused_visit_is_shown_and_nothing_is_written(qtbot, page, ctx, tagged,
                                                         monkeypatch):
    page.reload()
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *args: warnings.append(args[2]))
    monkeypatch.setattr(VisitDialog, "ask", staticmethod(lambda *a: {
        "visited_on": TODAY.isoformat(), "method": "入户", "visitor": "测试员",
        "findings": None, "follow_up": True, "follow_up_note": None}))
    before = visit_rows(ctx.conn)
    click_row(qtbot, page, 0)
    page.record_visit()
    assert warnings and "请写明跟进事项" in warnings[0]
    assert visit_rows(ctx.conn) == before
    assert page.names() == ["王小明", "王建国"]


def test_cancel_writes_nothing(qtbot, page, ctx, tagged, monkeypatch):
    page.reload()
    monkeypatch.setattr(VisitDialog, "ask", staticmethod(lambda *a: None))
    before = visit_rows(ctx.conn)
    click_row(qtbot, page, 0)
    page.record_visit()
    assert visit_rows(ctx.conn) == before


# --- keeping current -------------------------------------------------------------------------

def test_page_rereads_only_for_changes_that_matter(page, ctx, tagged):
    page.reload()
    reloads = page.reloads
    with ctx.transaction():                                 # an event category: irrelevant
        ctx.insert("event_categories", {"name": "测试类别"})
    assert page.reloads == reloads
    visits.record_visit(ctx, tagged["son"], TODAY, "电话", "测试员")
    assert page.reloads == reloads + 1
    assert page.names() == ["王建国"]
    tag(ctx, tagged["wife"], "独居老人", 5)                 # 7 days from her visit 10 days ago
    assert page.reloads == reloads + 2
    assert page.names() == ["王建国", "李秀英"]


def test_hidden_page_rereads_when_shown(qtbot, page, ctx, tagged):
    page.reload()
    page.hide()
    reloads = page.reloads
    visits.record_visit(ctx, tagged["son"], TODAY, "电话", "测试员")
    assert page.reloads == reloads and page.names() == ["王小明", "王建国"]
    page.show()
    assert page.reloads == reloads + 1
    assert page.names() == ["王建国"]


def test_selection_survives_a_reread(qtbot, page, ctx, tagged):
    page.reload()
    click_row(qtbot, page, 1)                               # 王建国
    tag(ctx, tagged["wife"], "独居老人", 5)                 # re-read; 李秀英 joins the list
    assert page.selected_ids() == [tagged["head"]]


# --- the model -------------------------------------------------------------------------------

def test_model_passes_the_model_tester(qtmodeltester, page, tagged, elsewhere, place):
    page.set_unit(place.street)
    page.set_mode("all")
    assert page.model.rowCount() == 4
    qtmodeltester.check(page.model, force_py=True)
    page.model.sort(1, Qt.SortOrder.DescendingOrder)
    qtmodeltester.check(page.model, force_py=True)


def row(rid, name, address, overdue, last=None):
    return {"resident_id": rid, "name": name, "household_id": 1,
            "address": address, "grid": "第一网格", "tags": ["独居老人"], "interval_days": 7,
            "last_visit": last, "due_on": "2024-01-01", "days_overdue": overdue,
            "never_visited": last is None}


def test_sorting_by_address_is_natural_and_column_minus_one_restores_the_order(qapp):
    model = VisitTableModel()
    rows = [row(1, "甲", "12号楼1单元101", 3, "2024-01-01"), row(2, "乙", "3号楼2单元1201", 9),
            row(3, "丙", "3号楼2单元501", 1, "2024-02-01"), row(4, "丁", "", 4, "2024-01-05")]
    model.set_rows(rows)
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert [r["name"] for r in model.rows] == ["丙", "乙", "甲", "丁"]
    model.sort(7, Qt.SortOrder.DescendingOrder)
    assert [r["name"] for r in model.rows] == ["乙", "丁", "甲", "丙"]
    model.sort(5, Qt.SortOrder.AscendingOrder)              # never visited counts as oldest
    assert [r["name"] for r in model.rows] == ["乙", "甲", "丁", "丙"]
    model.sort(-1)
    assert [r["name"] for r in model.rows] == ["甲", "乙", "丙", "丁"]
    model.set_rows(list(reversed(rows)))                    # a sort stays on for new rows
    model.sort(1, Qt.SortOrder.AscendingOrder)
    model.set_rows(rows)
    assert [r["name"] for r in model.rows] == ["丙", "乙", "甲", "丁"]


# --- the dialog --------------------------------------------------------------------------------

def test_visit_dialog(qtbot):
    dialog = VisitDialog(["王建国", "李秀英"], "测试员")
    qtbot.addWidget(dialog)
    assert dialog.date.date() == QDate.currentDate()
    assert dialog.date.maximumDate() == QDate.currentDate()
    assert [dialog.method.itemText(i) for i in range(dialog.method.count())] == [
        "入户", "电话", "视频", "其他"]
    assert dialog.visitor.text() == "测试员" and dialog.ok_button().isEnabled()
    dialog.visitor.clear()
    assert not dialog.ok_button().isEnabled()
    dialog.visitor.setText("张网格")
    assert not dialog.note.isEnabled()
    dialog.follow_up.setChecked(True)
    assert dialog.note.isEnabled() and not dialog.ok_button().isEnabled()
    dialog.note.setText("联系社区医生")
    assert dialog.ok_button().isEnabled()
    dialog.method.setCurrentText("电话")
    dialog.findings.setPlainText("  血压偏高 ")
    dialog.date.setDate(QDate.currentDate().addDays(-2))
    assert dialog.answer() == {
        "visited_on": ago(2), "method": "电话", "visitor": "张网格", "findings": "血压偏高",
        "follow_up": True, "follow_up_note": "联系社区医生"}
    dialog.follow_up.setChecked(False)
    assert dialog.answer()["follow_up_note"] is None
    assert names_text([f"人{i}" for i in range(9)]) == "人0、人1、人2、人3、人4、人5 等 9 人"


# --- visit history on the details panel and the household view -------------------------------

def test_details_panel_shows_the_visit_history(qtbot, ctx, family):
    _, p = family
    panel = DetailsPanel(ctx.conn)
    qtbot.addWidget(panel)
    panel.show()
    ctx.subscribe(panel.apply_changes)                      # as the main window does
    panel.show_resident(p["head"])
    assert panel.visit_lines() == [] and panel.no_visits.isVisible()
    visits.record_visit(ctx, p["head"], ago(20), "电话", "张网格", findings="身体  不错")
    visits.record_visit(ctx, p["head"], ago(3), "入户", "李网格", follow_up=True,
                        follow_up_note="联系社区医生")
    visits.record_visit(ctx, p["wife"], ago(1), "入户", "李网格")
    assert panel.visit_lines() == [
        f"{ago(3)}  入户  李网格\n【需跟进：联系社区医生】",
        f"{ago(20)}  电话  张网格\n身体 不错"]
    assert not panel.no_visits.isVisible() and panel.visits_box.isVisible()
    panel.show_resident(p["wife"])
    assert panel.visit_lines() == [f"{ago(1)}  入户  李网格"]
    panel.show_resident(None)
    assert panel.visit_lines() == []


def test_household_view_shows_the_households_visits(qtbot, ctx, family):
    hh, p = family
    view = HouseholdView(ctx)
    qtbot.addWidget(view)
    view.show_household(hh)
    assert view.visit_lines() == ["暂无走访记录"]
    visits.record_visit(ctx, p["son"], ago(5), "视频", "张网格", findings="在外地上学")
    visits.record_visit(ctx, p["head"], ago(2), "入户", "张网格")
    assert view.visit_lines() == [f"{ago(2)} 王建国 入户（张网格）",
                                  f"{ago(5)} 王小明 视频（张网格）：在外地上学"]
