"""Every ledger generated from a demo database, written as PDF and read back with pypdf:
page count, header and footer on every page, rows equal to SQL counts, masking, the audit
record, the `shequ ledger` command."""
import datetime as dt
import json
import re
import shutil

import pytest
from pypdf import PdfReader

import db
from shequ_desktop.core import audit, settings
from shequ_desktop.demo import street as demo
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.cli.main import main as cli_main
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf import ledger_print as printing

TODAY = dt.date(2026, 6, 15)
MONTH = "2026-06"
END = "2026-06-30"
HEADERS = {"residents": "身份证号", "focus": "最近走访", "visits": "走访情况",
           "events": "事件描述", "houses": "产权人", "volunteers": "积分余额",
           "services": "服务内容"}


@pytest.fixture(scope="module")
def demo_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledgers") / "demo.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=1500, seed=11, today=TODAY)
    conn.close()
    return path


@pytest.fixture
def demo_conn(demo_path, tmp_path):
    """A copy of the demo database per test (prints write to its audit log)."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_path, path)
    conn = db.open_db(path)
    yield conn
    conn.close()


def read(path) -> list[str]:
    return [p.extract_text() for p in PdfReader(str(path)).pages]


def total(pages: list[str]) -> int:
    found = re.search(r"合计：共 ([\d,]+) ", pages[-1])
    return int(found[1].replace(",", ""))


def count(conn, sql: str, *params) -> int:
    return conn.execute(sql, params).fetchone()[0]


EXPECTED = {
    "residents": """SELECT count(*) FROM residents r JOIN households h ON h.id = r.household_id
                    JOIN houses ho ON ho.id = h.house_id WHERE r.status = '在册'""",
    "focus": """SELECT count(*) FROM resident_tags rt JOIN residents r ON r.id = rt.resident_id
                WHERE rt.since <= '2026-06-30' AND (rt.until IS NULL OR rt.until >= '2026-06-30')
                AND r.status = '在册'""",
    "visits": "SELECT count(*) FROM visits WHERE visited_on BETWEEN '2026-06-01' AND '2026-06-30'",
    "events": """SELECT count(*) FROM events WHERE found_at <= '2026-06-30'
                 AND (closed_at IS NULL OR closed_at >= '2026-06-01')""",
    "houses": "SELECT count(*) FROM houses",
    "volunteers": """SELECT count(*) FROM volunteers WHERE joined_on <= '2026-06-30' AND
                     (left_on IS NULL OR left_on >= '2026-01-01' OR id IN (
                       SELECT volunteer_id FROM service_records sr JOIN activities a
                       ON a.id = sr.activity_id WHERE a.starts_at BETWEEN '2026-01-01'
                       AND '2026-06-30 99'))""",
    "services": "SELECT count(*) FROM services WHERE served_on BETWEEN '2026-06-01' AND '2026-06-30'",
}


@pytest.mark.parametrize("kind", list(ledgers.KINDS))
def test_each_ledger_from_demo_data(demo_conn, tmp_path, kind):
    out = tmp_path / f"{kind}.pdf"
    result = printing.build(demo_conn, kind, out, month=MONTH, actor="测试员", today=TODAY)
    pages = read(out)
    expected = count(demo_conn, EXPECTED[kind])
    assert expected > 0
    assert result["rows"] == total(pages) == expected
    assert result["pages"] == len(pages)
    assert result["warning"] == ""
    for number, text in enumerate(pages, 1):
        assert ledgers.KINDS[kind] in text
        assert HEADERS[kind] in text and "序号" in text
        assert "期间：2026年6月" in text
        assert f"第 {number} 页 共 {len(pages)} 页" in text
    assert "填报人" in pages[-1] and "审核人" in pages[-1]
    numbers = re.findall(r"^(\d+) ", "\n".join(pages), re.M)
    assert str(expected) in numbers                       # the last row is numbered N


def test_resident_ids_are_masked_unless_unmasked_and_that_is_recorded(demo_conn, tmp_path):
    person = demo_conn.execute(
        "SELECT r.name, r.id_number, r.phone FROM residents r WHERE r.status = '在册'"
        " AND r.phone IS NOT NULL AND length(r.id_number) = 18 ORDER BY r.id LIMIT 1").fetchone()
    masked, full = tmp_path / "m.pdf", tmp_path / "u.pdf"
    before = len(audit.entries(demo_conn))
    printing.build(demo_conn, "residents", masked, month=MONTH, actor="张三", today=TODAY)
    every = "\n".join(read(masked))
    assert person["id_number"] not in every and person["phone"] not in every
    assert f"{person['id_number'][:6]}********{person['id_number'][-4:]}" in every
    assert f"{person['phone'][:3]}****{person['phone'][-4:]}" in every
    assert not re.search(r"\d{17}[\dX]", every)
    entries = audit.entries(demo_conn)
    assert len(entries) == before + 1 and entries[0]["action"] == "print"
    assert entries[0]["actor"] == "张三"

    printing.build(demo_conn, "residents", full, month=MONTH, actor="张三", today=TODAY)
    printing.build(demo_conn, "residents", full, month=MONTH, unmask=True, actor="李四",
                   today=TODAY)
    every = "\n".join(read(full))
    assert person["id_number"] in every and person["phone"] in every
    latest = audit.entries(demo_conn, limit=2)
    assert [e["action"] for e in latest] == ["print", "unmask"]
    detail = json.loads(latest[1]["detail"])
    rows = count(demo_conn, EXPECTED["residents"])
    assert {k: detail[k] for k in ("kind", "unit", "month", "rows")} == {
        "kind": "residents", "unit": None, "month": MONTH, "rows": rows}
    assert latest[1]["actor"] == "李四" and "显示完整" in latest[1]["summary"]
    assert audit.broken_links(demo_conn) == []


def test_a_unit_limits_the_ledger_and_names_it(demo_conn, tmp_path):
    grid_id, grid_name, community = demo_conn.execute(
        "SELECT g.id, g.name, c.name FROM grid_units g JOIN grid_units c ON c.id = g.parent_id"
        " WHERE g.level = 'grid' ORDER BY g.id LIMIT 1").fetchone()
    expected = count(demo_conn, """
        WITH RECURSIVE subtree(id) AS (SELECT ? UNION ALL
            SELECT g.id FROM grid_units g JOIN subtree s ON g.parent_id = s.id)
        SELECT count(*) FROM houses WHERE unit_id IN (SELECT id FROM subtree)""", grid_id)
    out = tmp_path / "h.pdf"
    result = printing.build(demo_conn, "houses", out, unit_id=grid_id, month=MONTH,
                            today=TODAY)
    pages = read(out)
    assert result["rows"] == total(pages) == expected < count(demo_conn, EXPECTED["houses"])
    assert f"社区：{community}" in pages[0] and f"网格：{grid_name}" in pages[0]


def test_grouping_is_optional(demo_conn, tmp_path):
    grouped, flat = tmp_path / "g.pdf", tmp_path / "f.pdf"
    printing.build(demo_conn, "houses", grouped, month=MONTH, today=TODAY)
    printing.build(demo_conn, "houses", flat, month=MONTH, group=None, today=TODAY)
    g, f = "\n".join(read(grouped)), "\n".join(read(flat))
    usage = dict(demo_conn.execute("SELECT usage, count(*) FROM houses GROUP BY usage"))
    subtotals = re.findall(r"小计：([\d,]+) 套（([^）]*)）", g)
    assert sum(int(n.replace(",", "")) for n, _ in subtotals) == sum(usage.values())
    in_notes: dict[str, int] = {}
    for _n, note in subtotals:
        for part in note.split("、"):
            name, n = part.split(" ")
            in_notes[name] = in_notes.get(name, 0) + int(n)
    assert in_notes == usage                       # every house counted once by its usage
    assert "小计" not in f and "（续）" not in f

    by_tag = tmp_path / "t.pdf"
    printing.build(demo_conn, "focus", by_tag, month=MONTH, today=TODAY)
    text = "\n".join(read(by_tag))
    for name, n in demo_conn.execute("""
            SELECT t.name, count(*) FROM resident_tags rt JOIN tags t ON t.id = rt.tag_id
            JOIN residents r ON r.id = rt.resident_id WHERE r.status = '在册'
            AND rt.since <= ? AND (rt.until IS NULL OR rt.until >= ?) GROUP BY t.id""",
                                     (END, END)):
        assert f"{name}　小计：{n:,} 人次" in text


def test_volunteer_hours_and_points_match_sql(demo_conn):
    table = ledgers.table(demo_conn, "volunteers", month=MONTH, group=None, unmask=True,
                          today=TODAY)
    labels = [c.label for c in table.columns]
    rows = {r[labels.index("身份证号")] or r[labels.index("姓名")]: r
            for r in table.groups[0].rows}
    vid, id_number, name = demo_conn.execute("""
        SELECT v.id, v.id_number, v.name FROM volunteers v JOIN service_records sr
        ON sr.volunteer_id = v.id JOIN activities a ON a.id = sr.activity_id
        WHERE a.starts_at BETWEEN '2026-06-01' AND '2026-06-30 99'
        GROUP BY v.id ORDER BY v.id LIMIT 1""").fetchone()
    row = rows[id_number or name]

    def hours(start: str) -> float:
        return demo_conn.execute("""
            SELECT sum(sr.hours) FROM service_records sr JOIN activities a ON a.id = sr.activity_id
            WHERE sr.volunteer_id = ? AND substr(a.starts_at, 1, 10) BETWEEN ? AND ?""",
                                 (vid, start, END)).fetchone()[0]

    assert float(row[labels.index("本月时长")]) == pytest.approx(hours("2026-06-01"))
    assert float(row[labels.index("本年时长")]) == pytest.approx(hours("2026-01-01"))
    earned = demo_conn.execute("""
        SELECT coalesce(sum(sr.points), 0) FROM service_records sr
        JOIN activities a ON a.id = sr.activity_id
        WHERE sr.volunteer_id = ? AND substr(a.starts_at, 1, 10) <= ?""", (vid, END)).fetchone()[0]
    adjusted = count(demo_conn, "SELECT coalesce(sum(points), 0) FROM point_adjustments"
                     " WHERE volunteer_id = ? AND made_on <= ?", vid, END)
    redeemed = count(demo_conn, "SELECT coalesce(sum(points), 0) FROM point_redemptions"
                     " WHERE volunteer_id = ? AND redeemed_on <= ?", vid, END)
    assert float(row[labels.index("积分余额")]) == pytest.approx(earned + adjusted - redeemed)


def test_the_focus_ledger_shows_the_last_visit_by_month_end(demo_conn):
    table = ledgers.table(demo_conn, "focus", month=MONTH, group=None, unmask=True,
                          today=TODAY)
    labels = [c.label for c in table.columns]
    last = {}
    for rid, visited in demo_conn.execute(
            "SELECT resident_id, max(visited_on) FROM visits WHERE visited_on <= ?"
            " GROUP BY resident_id", (END,)):
        last[rid] = visited
    ids = dict(demo_conn.execute("SELECT id_number, id FROM residents"))
    seen_never = False
    for row in table.groups[0].rows:
        shown = row[labels.index("最近走访")]
        expected = last.get(ids[row[labels.index("身份证号")]])
        assert shown == (expected or "从未走访")
        seen_never |= expected is None
    assert seen_never


def test_events_show_status_and_days_open(demo_conn):
    table = ledgers.table(demo_conn, "events", month=MONTH, group=None, today=TODAY)
    labels = [c.label for c in table.columns]
    for row in table.groups[0].rows:
        event = demo_conn.execute("SELECT * FROM events WHERE id = ?",
                                  (int(row[labels.index("编号")]),)).fetchone()
        assert row[labels.index("状态")] == event["status"]
        found = dt.date.fromisoformat(event["found_at"][:10])
        closed = event["closed_at"]
        end = dt.date.fromisoformat(closed[:10]) if closed and closed[:10] <= TODAY.isoformat() \
            else TODAY
        assert int(row[labels.index("历时(天)")]) == max(0, (end - found).days)


def test_chosen_font_from_settings_and_a_bad_font_warns(demo_conn, tmp_path):
    from shequ_desktop.reports.pdf import fonts

    path = fonts.available()[0][0]
    settings.put(demo_conn, printing.FONT_SETTING, path)
    assert printing.font_for(demo_conn).path == path
    result = printing.build(demo_conn, "events", tmp_path / "e.pdf", month=MONTH,
                            font_path=str(tmp_path / "missing.ttf"), today=TODAY)
    assert "missing.ttf" in result["warning"] and "无法使用" in result["warning"]


def test_bad_requests_are_refused_in_chinese(demo_conn, tmp_path):
    with pytest.raises(DomainError, match="月份“2026-13”"):
        ledgers.table(demo_conn, "residents", month="2026-13")
    with pytest.raises(DomainError, match="没有“people”这种台账"):
        ledgers.table(demo_conn, "people")
    with pytest.raises(DomainError, match="不能按“tag”分组"):
        ledgers.table(demo_conn, "houses", group="tag")
    with pytest.raises(DomainError, match="找不到网格单元"):
        ledgers.table(demo_conn, "houses", unit_id=999999)
    with pytest.raises(DomainError, match="不存在"):
        printing.build(demo_conn, "houses", tmp_path / "nowhere" / "h.pdf")
    assert ledgers.parse_month("2026年3月").key == "2026-03"
    assert ledgers.parse_month(None, TODAY).label == "2026年6月"


def test_cli_prints_a_ledger(demo_path, tmp_path, capsys):
    path = tmp_path / "demo.db"
    shutil.copy(demo_path, path)
    conn = db.open_db(path)
    code = conn.execute("SELECT code FROM grid_units WHERE level = 'grid' ORDER BY id"
                        " LIMIT 1").fetchone()[0]
    conn.close()
    out = tmp_path / "r.pdf"
    assert cli_main(["ledger", "--db", str(path), "--kind", "residents", "--unit", code,
                     "--month", MONTH, "--unmask", "-o", str(out)]) == 0
    said = capsys.readouterr().out
    pages = read(out)
    assert f"{len(pages)} 页" in said and "人口信息台账" in said
    assert re.search(r"\d{17}[\dX]", "\n".join(pages))          # unmasked
    conn = db.open_db(path)
    assert [e["action"] for e in audit.entries(conn, limit=2)] == ["print", "unmask"]
    conn.close()
    assert cli_main(["ledger", "--db", str(path), "--kind", "houses", "--unit", "nope",
                     "-o", str(out)]) == 2
    assert "没有编码或名称为“nope”的网格单元" in capsys.readouterr().err
    assert cli_main(["ledger", "--db", str(path), "--kind", "houses", "--group", "none",
                     "-o", str(out)]) == 0
    assert "小计" not in "\n".join(read(out))


def test_volunteer_ledger_needs_its_tables(tmp_path):
    conn = db.open_db(tmp_path / "old.db")
    assert "volunteers" in ledgers.available(conn)
    conn.execute("DROP TABLE service_records")
    assert "volunteers" not in ledgers.available(conn)
    with pytest.raises(DomainError, match="数据表还没有建立"):
        ledgers.table(conn, "volunteers")
    conn.close()
