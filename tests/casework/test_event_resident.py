"""An event names the resident it concerns (issue 20): chosen among the residents of the
event's grid, listed with the event, in the resident's details, the ledger, the export, the
`shequ events list --resident` command, and carried by data packages."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

import db
from shequ_desktop.demo import street as demo
from shequ_desktop.casework import events
from shequ_desktop.sync import exchange, merging
from shequ_desktop.transfer import exporting
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf import ledger_print as printing
from ui.details_panel import DetailsPanel
from ui.dialogs.event_dialog import EventDialog
from ui.pages.events_page import COLUMNS, EventsPage

PASSPHRASE = "口令abc123"


@pytest.fixture
def street(tmp_path):
    path = tmp_path / "demo.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=1800, seed=9)
    yield path, Context(conn, "网格员甲")
    conn.close()


def grids(conn) -> list[int]:
    return [r[0] for r in conn.execute(
        "SELECT id FROM grid_units WHERE level = 'grid' ORDER BY id")]


def resident_in(conn, grid_id: int) -> dict:
    """A registered resident living under the grid."""
    return dict(conn.execute(
        """WITH RECURSIVE sub(id) AS (SELECT ? UNION ALL
               SELECT g.id FROM grid_units g JOIN sub ON g.parent_id = sub.id)
           SELECT r.* FROM residents r JOIN households h ON h.id = r.household_id
           JOIN houses ho ON ho.id = h.house_id
           WHERE ho.unit_id IN (SELECT id FROM sub) AND r.status = '在册'
           ORDER BY r.id LIMIT 1""", (grid_id,)).fetchone())


def category(conn, name: str = "矛盾纠纷") -> int:
    return conn.execute("SELECT id FROM event_categories WHERE name = ?", (name,)).fetchone()[0]


def report(ctx, grid_id: int, resident_id: int | None, text: str = "邻里漏水纠纷") -> int:
    return events.report_event(ctx, grid_id, category(ctx.conn), text, dt.date.today(),
                               "张网格", resident_id=resident_id).id


def test_the_migration_indexes_the_events_of_a_resident(street):
    _path, ctx = street
    plan = " ".join(r[3] for r in ctx.conn.execute(
        "EXPLAIN QUERY PLAN SELECT id FROM events WHERE resident_id = 5"))
    assert "events_resident" in plan


def test_an_event_about_a_resident_is_listed_with_them(street):
    _path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    event_id = report(ctx, grid_id, person["id"])
    other = report(ctx, grid_id, None, "路灯不亮")

    listed = {e["id"]: e for e in events.list_events(ctx.conn, unit_id=grid_id)}
    assert listed[event_id]["resident"] == person["name"]
    assert listed[other]["resident"] is None
    assert [e["id"] for e in events.of_resident(ctx.conn, person["id"])] == [event_id]
    assert [e["id"] for e in events.list_events(ctx.conn, resident_id=person["id"])] == [
        event_id]
    record = next(r for r in events.list_records(ctx.conn) if r["id"] == event_id)
    assert (record["resident_id"], record["resident"]) == (person["id"], person["name"])


def test_a_resident_of_another_grid_is_refused_and_nothing_is_stored(street):
    _path, ctx = street
    first, second = grids(ctx.conn)[:2]
    stranger = resident_in(ctx.conn, second)
    before = ctx.conn.execute("SELECT count(*) FROM events").fetchone()[0]
    with pytest.raises(DomainError, match=f"{stranger['name']}不住在"):
        report(ctx, first, stranger["id"])
    assert ctx.conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    event_id = report(ctx, first, None)
    with pytest.raises(DomainError, match="不能关联"):
        events.set_resident(ctx, event_id, stranger["id"])
    assert events.get_event(ctx.conn, event_id)["resident_id"] is None


def test_linking_and_unlinking_later_is_noted_in_the_event_log(street):
    _path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    event_id = report(ctx, grid_id, None)
    events.set_resident(ctx, event_id, person["id"])
    assert events.get_event(ctx.conn, event_id)["resident"] == person["name"]
    events.set_resident(ctx, event_id, None)
    assert events.get_event(ctx.conn, event_id)["resident_id"] is None
    notes = [r["note"] for r in events.log(ctx.conn, event_id)][1:]
    assert notes == [f"关联居民：{person['name']}", "取消关联居民"]
    audit = ctx.conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'events'"
                             " AND entity_id = ? AND action = 'update'", (event_id,)).fetchone()
    assert audit[0] == 2


def test_choices_are_the_residents_of_the_events_grid(street):
    _path, ctx = street
    first, second = grids(ctx.conn)[:2]
    person = resident_in(ctx.conn, first)
    stranger = resident_in(ctx.conn, second)
    found = events.resident_choices(ctx.conn, first, person["id_number"][-6:])
    assert [r["id"] for r in found] == [person["id"]]
    assert found[0]["address"]
    assert events.resident_choices(ctx.conn, first, stranger["id_number"]) == []


def test_the_ledger_and_the_export_name_the_resident(street, tmp_path):
    path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    report(ctx, grid_id, person["id"], "楼上漏水淹了厨房")
    month = dt.date.today().isoformat()[:7]
    pdf = tmp_path / "events.pdf"
    printing.build(ctx.conn, "events", pdf, unit_id=grid_id, month=month, actor="网格员甲")
    text = "\n".join(p.extract_text() for p in PdfReader(str(pdf)).pages)
    assert "涉及居民" in text and person["name"] in text

    xlsx = tmp_path / "events.xlsx"
    exporting.export(ctx.conn, exporting.load("events"), xlsx, "xlsx", unit_id=grid_id,
                     actor="网格员甲")
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    column = rows[0].index("涉及居民")
    described = rows[0].index("事件描述")
    assert [r[column] for r in rows[1:] if r[described] == "楼上漏水淹了厨房"] == [
        person["name"]]


def test_the_command_lists_the_events_of_a_resident(street, capsys, monkeypatch):
    path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    event_id = report(ctx, grid_id, person["id"])
    report(ctx, grid_id, None, "路灯不亮")
    monkeypatch.setenv("SHEQU_PASSWORD", "demo2026")
    capsys.readouterr()
    assert main(["events", "list", "--db", str(path), "--resident", person["id_number"],
                 "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [(r["id"], r["resident"]) for r in rows] == [(event_id, person["name"])]
    assert main(["events", "list", "--db", str(path), "--resident", "110105190001010000"]) == 2
    assert "找不到居民" in capsys.readouterr().err


def test_a_data_package_carries_the_link_to_the_same_person(street, tmp_path):
    path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    event_id = report(ctx, grid_id, person["id"])
    exchange.export_package(ctx, tmp_path / "grid.sqpkg", PASSPHRASE, grid_id)
    laptop = db.open_db(tmp_path / "laptop.db")
    try:
        merging.merge(Context(laptop, "网格员"), tmp_path / "grid.sqpkg", PASSPHRASE)
        uuid = ctx.conn.execute("SELECT uuid FROM events WHERE id = ?", (event_id,)).fetchone()[0]
        there = laptop.execute("SELECT r.uuid, r.name FROM events e JOIN residents r"
                               " ON r.id = e.resident_id WHERE e.uuid = ?", (uuid,)).fetchone()
        assert tuple(there) == (person["uuid"], person["name"])
    finally:
        laptop.close()


# --- the GUI ------------------------------------------------------------------------------------

def test_the_dialog_finds_a_resident_of_the_grid_and_the_page_and_details_show_them(
        qtbot, street, monkeypatch):
    _path, ctx = street
    grid_id = grids(ctx.conn)[0]
    person = resident_in(ctx.conn, grid_id)
    dialog = EventDialog(ctx.conn, grid_id, "张网格")
    qtbot.addWidget(dialog)
    dialog.category.setCurrentIndex(dialog.category.findText("矛盾纠纷"))
    dialog.description.setPlainText("与邻居因噪音起争执")
    dialog.resident.find.setText(person["name"])
    assert dialog.resident.look_up() >= 1
    index = dialog.resident.matches.findData(person["id"])
    assert index >= 1 and person["name"] in dialog.resident.matches.itemText(index)
    assert person["id_number"] not in dialog.resident.matches.itemText(index)      # masked
    dialog.resident.matches.setCurrentIndex(index)
    values = dialog.answer()
    assert values["resident_id"] == person["id"]
    dialog.resident.find.setText("查无此人zzz")
    assert dialog.resident.look_up() == 0 and dialog.answer()["resident_id"] is None

    monkeypatch.setattr(EventDialog, "ask", lambda *a, **k: values)
    page = EventsPage(ctx)
    qtbot.addWidget(page)
    page.show()
    page.set_unit(grid_id)
    page.buttons["report"].click()
    row = page.model.row_of(page.current_event_id())
    column = [key for key, _w in COLUMNS].index("resident")
    assert page.model.headers[column] == "涉及居民"
    assert page.model.index(row, column).data() == person["name"]

    panel = DetailsPanel(ctx.conn)
    qtbot.addWidget(panel)
    panel.show_resident(person["id"])
    assert [line.split("\n")[1] for line in panel.event_lines()] == ["与邻居因噪音起争执"]
    assert not panel.events_box.isHidden()
