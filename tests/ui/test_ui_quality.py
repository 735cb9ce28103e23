"""The data-quality page (数据质量) driven through pytest-qt."""
import pytest
from PySide6.QtCore import QSettings, Qt

from shequ_desktop.reports import checks
from shequ_desktop.population import tags
from ui import app as ui_app
from ui import resident_dialog
from ui.pages.quality_page import CheckTableModel, ProblemTableModel, QualityPage


@pytest.fixture
def seeded(ctx, place, family):
    """Two heads in the family's household (an error) and a focus-group member never visited
    (a warning)."""
    hh_id, ids = family
    ctx.conn.execute("UPDATE residents SET relation_to_head = '02' WHERE id = ?", (ids["wife"],))
    tag_id = ctx.conn.execute("SELECT id FROM tags WHERE name = '低保'").fetchone()[0]
    tags.assign_tag(ctx, ids["head"], tag_id)
    return hh_id, ids


@pytest.mark.qt_log_level_fail("WARNING")
def test_models_pass_the_qt_model_tester(qtmodeltester, ctx, seeded):
    results = checks.run_checks(ctx.conn)
    model = CheckTableModel()
    model.set_results(results)
    qtmodeltester.check(model)
    problems = ProblemTableModel()
    problems.set_problems(next(r for r in results if r.key == "two_heads").problems)
    qtmodeltester.check(problems)
    qtmodeltester.check(problems, force_py=True)
    assert problems.rowCount() == 1


def test_the_page_lists_every_check_with_its_count(qtbot, ctx, seeded):
    hh_id, ids = seeded
    page = QualityPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.runs == 1)
    model = page.checks_model
    assert model.rowCount() == len(checks.run_checks(ctx.conn))
    texts = {model.index(r, 1).data(): (model.index(r, 0).data(), model.index(r, 2).data())
             for r in range(model.rowCount())}
    assert texts["一户有两名以上户主"] == ("错误", "1")
    assert texts["重点人员从未走访"] == ("提示", "1")
    assert texts["在册户没有户主"] == ("错误", "通过")
    assert "错误 1 处，提示 1 处" in page.summary.text() and "1 项未通过" in page.summary.text()
    assert page.current_check() == "two_heads"            # the first check that found something
    assert page.problems_model.index(0, 0).data() == str(hh_id)
    assert page.problems_model.index(0, 1).data() == "户"

    page.select_check("focus_never_visited")
    assert page.problems_model.rowCount() == 1
    assert page.problems_model.index(0, 0).data() == str(ids["head"])
    assert "李秀英" not in page.problems_model.index(0, 2).data()


def test_a_row_opens_the_record_in_the_window(qtbot, ctx, seeded, db_path, tmp_path,
                                               monkeypatch):
    hh_id, ids = seeded
    opened = []
    monkeypatch.setattr(resident_dialog, "open_resident",
                        lambda parent, c, rid: opened.append(rid))
    w = ui_app.build_main_window(ctx.conn, db_path,
                                 QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    page = w.show_page("quality")
    qtbot.waitUntil(lambda: page.runs == 1)

    page.select_check("focus_never_visited")
    view = page.problems_view
    view.setFocus()
    view.setCurrentIndex(page.problems_model.index(0, 2))
    assert page.open_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert opened == [ids["head"]]

    page.select_check("two_heads")
    page.problems_view.setCurrentIndex(page.problems_model.index(0, 0))
    qtbot.mouseClick(page.open_button, Qt.MouseButton.LeftButton)
    assert w.pages.currentWidget() is w.page("household")
    assert w.page("household").household_id == hh_id


def test_after_a_fix_the_page_says_so_and_checks_again(qtbot, ctx, seeded):
    hh_id, ids = seeded
    page = QualityPage(ctx)
    qtbot.addWidget(page)
    page.show()
    qtbot.waitUntil(lambda: page.runs == 1)
    from shequ_desktop.population import residents

    residents.set_relation(ctx, ids["wife"], "10")       # the fix, through the write path
    assert "重新检查" in page.summary.text()
    qtbot.mouseClick(page.run_button, Qt.MouseButton.LeftButton)
    assert page.runs == 2
    assert "错误 0 处" in page.summary.text()
    assert page.current_check() == "two_heads"           # stays on the check being fixed
    assert page.problems_model.rowCount() == 0
    assert "没有发现问题" in page.problems_label.text()
