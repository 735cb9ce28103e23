import datetime as dt
import json

from shequ_desktop.casework import events, visits
from shequ_desktop.population import tags
from shequ_desktop.cli.main import main


def test_visits_due_json(ctx, db_path, family, capsys):
    _, ids = family
    tag = ctx.conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]  # 7 days
    tags.assign_tag(ctx, ids["head"], tag, "2026-01-01")
    tags.assign_tag(ctx, ids["wife"], tag, "2026-01-01")
    visits.record_visit(ctx, ids["wife"], "2026-03-01", "入户", "测试员")
    ctx.conn.execute("UPDATE grid_units SET code = 'G1' WHERE level = 'grid'")
    assert main(["visits", "due", "--db", str(db_path), "--on", "2026-03-03", "--json",
                 "--unit", "G1"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == ["王建国", "李秀英"]     # never visited first
    assert main(["visits", "due", "--db", str(db_path), "--on", "2026-03-20", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and rows[1]["name"] == "李秀英"


def test_events_list_json_and_bad_date(ctx, db_path, place, capsys):
    category = ctx.conn.execute("SELECT id FROM event_categories WHERE name = '安全隐患'"
                                ).fetchone()[0]
    event = events.report_event(ctx, place.grid, category, "楼道堆放杂物", "2026-11-02",
                                "测试员").id
    events.accept(ctx, event, 3, on=dt.date(2026, 11, 2))
    assert main(["events", "list", "--db", str(db_path), "--overdue", "--on", "2026-11-20",
                 "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [r["description"] for r in rows] == ["楼道堆放杂物"]
    assert main(["events", "list", "--db", str(db_path), "--overdue", "--on", "2026-11-03",
                 "--json"]) == 0
    assert capsys.readouterr().out == ""
    assert main(["events", "list", "--db", str(db_path), "--on", "2026-13-45"]) == 2
    assert "日期" in capsys.readouterr().err
