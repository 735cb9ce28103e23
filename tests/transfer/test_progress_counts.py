"""Long work says how far it has come in rows: `shequ demo` prints 「已生成 x / y 人」, the
progress dialog of a ledger or an export shows 「已导出 x / y 行」 under its label."""
import shutil

import pytest

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from ui import background
from ui.pages.reports_page import ReportsPage


def test_demo_prints_how_many_people_it_has_made(tmp_path, capsys):
    assert main(["demo", "--db", str(tmp_path / "d.db"), "--residents", "2000"]) == 0
    lines = [x for x in capsys.readouterr().err.splitlines() if x.startswith("已生成")]
    assert lines[-1] == "已生成 2,000 / 2,000 人"
    made = [int(x.split()[1].replace(",", "")) for x in lines]
    assert len(lines) >= 2 and made == sorted(made) and made[0] < 2000


def test_the_progress_dialog_shows_the_counted_rows(qtbot):
    task = background.Task(None, lambda conn, progress: None)
    background._add_dialog(task, None, "正在导出…", background.counted("已导出"))
    task.progressed.emit(12000, 200000)
    assert task.dialog.labelText() == "正在导出…\n已导出 12,000 / 200,000 行"
    assert (task.dialog.value(), task.dialog.maximum()) == (12000, 200000)
    task.dialog.deleteLater()


@pytest.fixture
def ctx(tmp_path):
    conn = db.open_db(tmp_path / "demo.db")
    demo.generate(conn, residents=400, seed=4)
    yield Context(conn, "网格员甲")
    conn.close()


def test_a_ledger_counts_its_rows_laid_out_then_drawn(qtbot, ctx, monkeypatch):
    page = ReportsPage(ctx)
    qtbot.addWidget(page)
    lines = []
    run = background.run

    def counting_run(fn, path, **kw):
        counting = kw["counting"]

        def work(conn, progress):
            def spy(done, total):
                lines.append(counting(done, total))
                return progress(done, total)
            return fn(conn, spy)
        return run(work, path, **kw)

    monkeypatch.setattr(background, "run", counting_run)
    page.kind.setCurrentIndex(page.kind.findData("residents"))
    page.generate()
    rows = page.last["rows"]
    assert rows > 150 and "residents" in ledgers.KINDS
    assert lines[-1] == f"已绘制 {rows:,} / {rows:,} 行"
    assert page._ledger_count(150, 2 * rows) == f"已排版 150 / {rows:,} 行"
