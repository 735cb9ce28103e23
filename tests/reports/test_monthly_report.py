"""The monthly report PDF: read back with pypdf, its figures equal direct SQL counts."""
import datetime as dt

import pytest
from pypdf import PdfReader

import db
from shequ_desktop.core import audit
from shequ_desktop.demo import street as demo
from shequ_desktop.cli.main import main
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.tree import SUBTREE_SQL
from shequ_desktop.reports.pdf import monthly_report
from shequ_desktop.core.progress import Cancelled
from shequ_desktop.reports.stats import month_range, shift_month

TODAY = dt.date.today()
MONTH = shift_month(TODAY.strftime("%Y-%m"), -1)        # last month: a whole month


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("report") / "demo.db"
    conn = db.open_db(path)
    demo.generate(conn, residents=900, seed=4)
    yield path, conn
    conn.close()


def lines_of(path) -> tuple[PdfReader, list[str]]:
    reader = PdfReader(str(path))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return reader, [line.strip() for line in text.splitlines() if line.strip()]


def row(lines: list[str], item: str) -> tuple[int, int]:
    """(this month, last month) printed for `item` in the report's tables."""
    i = lines.index(item)
    return tuple(int(float(v.replace(",", ""))) for v in lines[i + 1:i + 3])


def present(conn, day: str, unit_id=None, select="count(*)") -> int:
    scope, params = "", [day, day, day]
    head = ""
    if unit_id is not None:
        head = SUBTREE_SQL
        scope = """AND r.household_id IN (SELECT h.id FROM households h JOIN houses ho
                   ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM subtree))"""
        params = [unit_id, *params]
    return conn.execute(head + f"""
        SELECT {select} FROM residents r
        WHERE (r.status = '在册' OR (r.status = '迁出' AND r.moved_out_at > ?)
               OR (r.status = '死亡' AND r.death_date > ?))
          AND r.moved_in_at <= ? {scope}""", params).fetchone()[0]


def test_report_totals_equal_direct_sql_counts(demo_db, tmp_path):
    path, conn = demo_db
    out = tmp_path / "月报.pdf"
    result = monthly_report.build(conn, MONTH, None, out)
    reader, lines = lines_of(out)
    assert len(reader.pages) == result["pages"] >= 2
    assert "月度工作报表" in lines[0]
    for n in range(1, result["pages"] + 1):
        assert f"第 {n} 页 共 {result['pages']} 页" in lines
    assert any(line.startswith("填报人") for line in lines)
    for month, column in ((MONTH, 0), (shift_month(MONTH, -1), 1)):
        first, last = month_range(month)
        assert row(lines, "人口")[column] == present(conn, last)
        assert row(lines, "户数")[column] == present(conn, last,
                                                     select="count(DISTINCT household_id)")
        assert row(lines, "本月迁出")[column] == conn.execute(
            "SELECT count(*) FROM residents WHERE moved_out_at BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        assert row(lines, "本月死亡")[column] == conn.execute(
            "SELECT count(*) FROM residents WHERE death_date BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        assert row(lines, "本月出生")[column] == conn.execute(
            "SELECT count(*) FROM residents WHERE birth_date BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        assert row(lines, "走访人次")[column] == conn.execute(
            "SELECT count(*) FROM visits WHERE visited_on BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        assert row(lines, "新发现")[column] == conn.execute(
            "SELECT count(*) FROM events WHERE found_at BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        assert row(lines, "办结")[column] == conn.execute(
            "SELECT count(*) FROM events WHERE closed_at BETWEEN ? AND ?",
            (first, last)).fetchone()[0]
        for (name,) in conn.execute("SELECT name FROM tags WHERE active = 1"):
            assert row(lines, name)[column] == conn.execute("""
                SELECT count(DISTINCT rt.resident_id) FROM resident_tags rt
                JOIN tags t ON t.id = rt.tag_id JOIN residents r ON r.id = rt.resident_id
                WHERE t.name = ? AND rt.since <= ? AND (rt.until IS NULL OR rt.until >= ?)
                  AND (r.status = '在册' OR r.moved_out_at > ? OR r.death_date > ?)
                  AND r.moved_in_at <= ?""",
                (name, last, last, last, last, last)).fetchone()[0], name
    this = result["this"]
    assert row(lines, "人口")[0] == this["population"]["residents"] > 0
    assert this["visits"]["visits"] > 0


def test_report_for_a_grid_and_its_charts(demo_db, tmp_path):
    path, conn = demo_db
    grid_id, grid_name = conn.execute(
        "SELECT id, name FROM grid_units WHERE level = 'grid' ORDER BY id LIMIT 1").fetchone()
    out = tmp_path / "grid.pdf"
    result = monthly_report.build(conn, MONTH, grid_id, out)
    _reader, lines = lines_of(out)
    _, last = month_range(MONTH)
    assert row(lines, "人口")[0] == present(conn, last, grid_id) > 0
    assert any(grid_name in line and "单位" in line for line in lines)
    for title in ("图1", "图2", "图3"):
        assert any(line.startswith(title) for line in lines), title
    assert "男" in lines and "女" in lines                 # the pyramid's legend
    assert result["visits_by_grid"]["grids"][0][1] == grid_name


def test_report_embeds_its_font_and_is_audited(demo_db, tmp_path):
    path, conn = demo_db
    out = tmp_path / "a.pdf"
    before = len(audit.entries(conn, action="print"))
    result = monthly_report.build(conn, MONTH, None, out, actor="王网格")
    entries = audit.entries(conn, action="print")
    assert len(entries) == before + 1
    assert entries[0]["actor"] == "王网格" and MONTH in entries[0]["summary"]
    assert audit.broken_links(conn) == []
    reader = PdfReader(str(out))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts.values():
        font = ref.get_object()
        for desc in font.get("/DescendantFonts", [font]):
            descriptor = desc.get_object().get("/FontDescriptor")
            if descriptor is not None:
                embedded.append("/FontFile2" in descriptor.get_object())
    assert embedded and (all(embedded) or result["warning"])


def test_a_cancelled_report_leaves_no_file(demo_db, tmp_path):
    _path, conn = demo_db
    out = tmp_path / "x.pdf"
    with pytest.raises(Cancelled):
        monthly_report.build(conn, MONTH, None, out, progress=lambda d, t: d < 3)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(DomainError, match="月份"):
        monthly_report.build(conn, "2026-3月", None, out)
    with pytest.raises(DomainError, match="找不到网格单元"):
        monthly_report.build(conn, MONTH, 987654, out)


def test_cli_report_monthly(demo_db, tmp_path, capsys):
    path, conn = demo_db
    code = conn.execute("SELECT code FROM grid_units WHERE code IS NOT NULL LIMIT 1").fetchone()
    out = tmp_path / "cli.pdf"
    assert main(["report", "monthly", "--db", str(path), "--month", MONTH, "-o", str(out)]) == 0
    assert "已生成" in capsys.readouterr().out and out.stat().st_size > 1000
    assert main(["report", "monthly", "--db", str(path), "--month", "2026-13",
                 "-o", str(out)]) == 2
    assert "月份“2026-13”不对" in capsys.readouterr().err
    assert main(["report", "monthly", "--db", str(path), "--month", MONTH, "--unit", "无此编码",
                 "-o", str(out)]) == 2
    assert "无此编码" in capsys.readouterr().err
    if code:
        assert main(["report", "monthly", "--db", str(path), "--month", MONTH,
                     "--unit", code[0], "-o", str(out)]) == 0
    missing = tmp_path / "没有的目录" / "x.pdf"
    assert main(["report", "monthly", "--db", str(path), "--month", MONTH,
                 "-o", str(missing)]) == 2
    assert "无法写入" in capsys.readouterr().err


def test_many_grids_are_charted_by_community(demo_db, tmp_path, monkeypatch):
    _path, conn = demo_db
    monkeypatch.setattr(monthly_report, "MAX_GRIDS", 0)
    out = tmp_path / "street.pdf"
    monthly_report.build(conn, MONTH, None, out)
    _reader, lines = lines_of(out)
    community = conn.execute("SELECT name FROM grid_units WHERE level = 'community'"
                             ).fetchone()[0]
    assert any(line.startswith("图3　本月走访人次（按社区）") for line in lines)
    assert community in lines


def test_header_keeps_its_bracket_apart_from_the_print_date_and_nothing_is_faux_bold(
        demo_db, tmp_path):
    path, conn = demo_db
    out = tmp_path / "header.pdf"
    monthly_report.build(conn, MONTH, None, out, actor="王网格")
    reader, lines = lines_of(out)
    year, month = map(int, MONTH.split("-"))
    last = f"{year - (month == 1)}-{(month - 2) % 12 + 1:02d}"
    info = next(line for line in lines if line.startswith("单位"))
    assert info.endswith(f"对比：上月（{last}）") and "打印日期" not in info
    assert any("打印日期：" in line and "对比" not in line for line in lines)
    content = b"".join(page.get_contents().get_data() for page in reader.pages)
    assert b"2 Tr" not in content                 # no stroked (smeared) text anywhere
