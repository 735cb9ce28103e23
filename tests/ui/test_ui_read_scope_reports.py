"""The pages of a signed-in 网格员 show only their grid: visits due, events (and where a new one
may be filed), volunteers and activities, the reports page's units and ledger, the export
dialog and the data-quality page (real widgets offscreen, real SQLite files)."""
import csv

import pytest
from pypdf import PdfReader

from ui.dialogs import export_dialog
from ui.dialogs.event_dialog import EventDialog
from ui.dialogs.export_dialog import ExportDialog
from ui.pages.events_page import EventsPage
from ui.pages.quality_page import QualityPage
from ui.pages.reports_page import ReportsPage
from ui.pages.visits_page import VisitsPage
from ui.pages.volunteers_page import VolunteersPage

from tests.core.test_read_scope import fast_scrypt, signed_in, world  # noqa: F401  (fixtures)
from tests.core.test_read_scope_reports_and_exports import MONTH, both  # noqa: F401  (fixture)


@pytest.fixture
def worker(conn, both):
    return signed_in(conn, "zhang")


def shown(qtbot, page):
    qtbot.addWidget(page)
    page.resize(1100, 650)
    page.show()
    qtbot.waitExposed(page)
    return page


def column(model, key):
    return sorted(row[key] for row in model.rows)


def test_visits_and_events_pages(qtbot, worker, both, qtmodeltester):
    visits = shown(qtbot, VisitsPage(worker))
    visits.mode.setCurrentIndex(visits.mode.findData("all"))
    visits.set_unit(None)
    visits.reload()
    assert column(visits.model, "name") == ["李秀英"]
    qtmodeltester.check(visits.model)

    events = shown(qtbot, EventsPage(worker))
    events.set_unit(None)
    events.reload()
    assert column(events.model, "description") == ["一网格楼道堆物"]
    qtmodeltester.check(events.model)
    dialog = EventDialog(worker.conn, None, worker.user, access=worker.access)
    qtbot.addWidget(dialog)
    assert [dialog.unit.itemData(i) for i in range(dialog.unit.count())] == [both["g1"]]


def test_an_administrator_sees_both_grids_on_the_same_pages(qtbot, conn, both):
    admin = signed_in(conn, "admin")
    visits = shown(qtbot, VisitsPage(admin))
    visits.mode.setCurrentIndex(visits.mode.findData("all"))
    visits.set_unit(None)
    visits.reload()
    assert column(visits.model, "name") == ["李秀英", "赵六"]
    events = shown(qtbot, EventsPage(admin))
    events.set_unit(None)
    events.reload()
    assert len(events.model.rows) == 2
    reports = shown(qtbot, ReportsPage(admin))
    labels = [reports.unit.itemText(i).strip("　") for i in range(reports.unit.count())]
    assert labels[0] == "全部" and {"第一网格", "第二网格", "阳光社区"} <= set(labels)


def test_volunteers_page(qtbot, worker, qtmodeltester):
    page = shown(qtbot, VolunteersPage(worker))
    page.set_unit(None)
    page.reload()
    assert column(page.volunteer_model, "name") == ["周三", "钱一"]
    assert column(page.activity_model, "title") == ["一网格敬老", "社区义诊"]
    teams = {page.team.itemText(i) for i in range(page.team.count())}
    assert teams == {"全部", "未分队", "一网格服务队（1 人）"}
    qtmodeltester.check(page.volunteer_model)
    qtmodeltester.check(page.activity_model)


def test_reports_page_offers_only_their_units_and_prints_their_ledger(qtbot, worker, both):
    page = shown(qtbot, ReportsPage(worker))
    units = [(page.unit.itemText(i).strip("　"), page.unit.itemData(i))
             for i in range(page.unit.count())]
    assert units == [("我负责的全部网格", None), ("第一网格", both["g1"])]
    page.set_unit(both["community"])          # greyed in their tree: their own units instead
    assert page.unit.currentData() is None
    page.kind.setCurrentIndex(page.kind.findData("events"))
    page.month.setDate(page.month.date().fromString(MONTH + "-01", "yyyy-MM-dd"))
    page.generate()
    text = "".join(p.extract_text() for p in PdfReader(str(page.last["path"])).pages)
    assert "一网格楼道堆物" in text and "二网格路灯不亮" not in text
    assert page.last["rows"] == 1


def test_export_dialog_exports_only_their_grid(qtbot, worker, both, db_path, tmp_path,
                                               monkeypatch):
    messages = []
    monkeypatch.setattr(export_dialog.QMessageBox, "information",
                        staticmethod(lambda *a: messages.append(a[2])))
    dialog = ExportDialog(worker, db_path, both["community"],      # above theirs: ignored
                          folder=str(tmp_path))
    qtbot.addWidget(dialog)
    dialog.show()
    assert not dialog.scope.isEnabled()
    assert dialog.scope.text().startswith("您负责的全部网格")
    dialog.what.setCurrentIndex(dialog.what.findData("events"))
    dialog.format.setCurrentIndex(dialog.format.findData("csv"))
    dialog.path.setText(str(tmp_path / "events.csv"))
    dialog.accept()
    assert dialog.result["rows"] == 1 and messages
    with open(tmp_path / "events.csv", encoding="utf-8-sig", newline="") as f:
        assert [r["事件描述"] for r in csv.DictReader(f)] == ["一网格楼道堆物"]


def test_quality_page_lists_only_their_problems(qtbot, worker, both, qtmodeltester):
    page = shown(qtbot, QualityPage(worker))
    qtbot.waitUntil(lambda: page.runs == 1)
    assert page.scope_note.isVisible()
    keys = {r.key for r in page.results}
    assert "integrity" not in keys and "audit_chain" not in keys
    page.select_check("focus_without_phone")
    model = page.problems_model
    assert [model.index(r, 0).data() for r in range(model.rowCount())] == [str(both["wife"])]
    qtmodeltester.check(page.checks_model)
    qtmodeltester.check(model)
