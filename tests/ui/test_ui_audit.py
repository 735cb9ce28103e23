"""The audit page through pytest-qt: filters, a record's history, the tamper check."""
import re

import pytest
from PySide6.QtWidgets import QMessageBox

from shequ_desktop.core import audit
from shequ_desktop.population import residents
from ui.pages.audit_page import AuditPage, AuditTableModel


@pytest.fixture
def page(qtbot, ctx, family):
    son = family[1]["son"]
    residents.update_resident(ctx, son, {"phone": "13912345678"})
    audit.record(ctx.conn, "李四", "export", summary="导出居民 5 人")
    p = AuditPage(ctx)
    qtbot.addWidget(p)
    return p


def shown(page, column):
    return [page.model.index(r, column).data() for r in range(page.model.rowCount())]


def test_model_passes_the_qt_model_tester(qtmodeltester, page):
    qtmodeltester.check(page.model)
    assert isinstance(page.model, AuditTableModel)


def test_filters_by_action_and_person(page):
    everything = page.model.rowCount()
    assert everything >= 3 and shown(page, 1)[0] == "李四"        # newest first
    page.action.setCurrentIndex(page.action.findData("export"))
    assert shown(page, 2) == ["导出"] and shown(page, 4) == ["导出居民 5 人"]
    page.action.setCurrentIndex(0)
    page.actor.setCurrentIndex(page.actor.findData("测试员"))
    assert "李四" not in shown(page, 1) and page.model.rowCount() == everything - 1


def test_a_records_history_shows_old_and_new_values(page, family):
    son = family[1]["son"]
    page.show_record("residents", son)
    assert all(text == "居民 王小明" for text in shown(page, 3))
    first = page.model.index(0, 0)
    page.view.setCurrentIndex(first)
    assert "联系电话：（空） → 139****5678" in page.detail.toPlainText()
    page.show_record(None, None)
    assert "李四" in shown(page, 1)


def test_the_tamper_check_reports_an_edited_entry(page, ctx, monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a: said.append(("ok", a[2])))
    monkeypatch.setattr(QMessageBox, "critical", lambda *a: said.append(("bad", a[2])))
    page.verify()
    assert said[-1][0] == "ok" and "未发现" in said[-1][1]
    ctx.conn.execute("DROP TRIGGER audit_log_no_update")
    ctx.conn.execute("UPDATE audit_log SET actor = '王五' WHERE action = 'export'")
    page.verify()
    assert said[-1][0] == "bad" and "被修改" in said[-1][1]


def test_the_details_panel_opens_a_residents_history(qtbot, ctx, family, tmp_path):
    from PySide6.QtCore import QSettings

    from db import db_path
    from ui import app as ui_app
    son = family[1]["son"]
    residents.update_resident(ctx, son, {"notes": "搬来前住在老城区"})
    settings = QSettings(str(tmp_path / "w.ini"), QSettings.Format.IniFormat)
    window = ui_app.build_main_window(ctx.conn, db_path(ctx.conn), settings)
    qtbot.addWidget(window)
    window.details.show_resident(son)
    window.details.history_button.click()
    page = window.page("audit")
    assert window.pages.currentWidget() is page and page.record == ("residents", son)
    assert page.model.rowCount() >= 2                        # created, then the note


def test_ids_and_phones_are_masked_and_only_administrators_see_the_log(page, qtbot, ctx, family):
    from shequ_desktop.core.access import Access
    from shequ_desktop.core.context import Context
    page.action.setCurrentIndex(page.action.findData("create"))
    page.since.setDate(page.since.date().addYears(-1))
    rows = [r for r in range(page.model.rowCount()) if page.model.row_at(
        page.model.index(r, 0))["entity"] == "residents"]
    page.view.setCurrentIndex(page.model.index(rows[0], 0))
    text = page.detail.toPlainText()
    assert "身份证号：110105********" in text
    assert not re.search(r"\d{17}[\dX]|1\d{10}", text)             # no full ID or phone
    for role in ("网格员", "只读"):
        other = Context(ctx.conn, "某人")
        other.access = Access(role, frozenset())
        closed = AuditPage(other)
        qtbot.addWidget(closed)
        closed.show_record("residents", family[1]["son"])
        assert not closed.allowed and closed.model.rowCount() == 0
