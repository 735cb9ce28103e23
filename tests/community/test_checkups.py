"""Issue 21, part 4 (社区体检): a compound's yearly check-up against the 完整社区 items, findings
as improvement items followed through as events, the report comparing two years — domain,
command line and the PDF read back."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader

from shequ_desktop.community import checkups
from shequ_desktop.casework import events
from shequ_desktop.places import grid
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, ValidationError
from shequ_desktop.reports.pdf.checkup_report import build

TODAY = dt.date.today()
YEAR = TODAY.year


@pytest.fixture
def compound(ctx, place):
    return grid.create_unit(ctx, place.grid, "compound", "幸福花园").id


@pytest.fixture
def two_years(ctx, compound):
    last = checkups.start_checkup(ctx, compound, YEAR - 1, f"{YEAR - 1}-10-01", "社区两委").id
    this = checkups.start_checkup(ctx, compound, YEAR, TODAY, "社区两委").id
    for code, status in (("C2", "不达标"), ("D1", "基本达标"), ("A1", "达标")):
        checkups.set_result(ctx, last, code, status)
    for code, status in (("C2", "达标"), ("D1", "不达标"), ("A1", "达标"), ("A2", "不适用")):
        checkups.set_result(ctx, this, code, status, "缺少活动场地" if code == "D1" else None)
    return last, this


def test_the_checklist_has_the_six_areas_and_their_items():
    areas = checkups.areas()
    assert [a for a, _items in areas] == ["基本公共服务设施", "便民商业服务设施", "市政配套基础设施",
                                         "公共活动空间", "物业管理", "社区治理"]
    assert len(checkups.items()) == 20 and checkups.items()["C2"][1] == "停车及充电设施"


def test_one_checkup_per_unit_and_year_and_bad_input_is_refused(ctx, place, compound,
                                                                 two_years):
    with pytest.raises(DomainError, match="已经建立"):
        checkups.start_checkup(ctx, compound, YEAR)
    with pytest.raises(DomainError, match="小区"):
        checkups.start_checkup(ctx, place.building, YEAR)
    with pytest.raises(ValidationError, match="状态"):
        checkups.set_result(ctx, two_years[1], "C2", "还行")
    with pytest.raises(DomainError, match="没有“Z9”"):
        checkups.set_result(ctx, two_years[1], "Z9", "达标")
    checkups.set_result(ctx, two_years[1], "C2", "基本达标")          # set again: replaced
    assert checkups.get_checkup(ctx.conn, two_years[1])["results"]["C2"]["status"] == "基本达标"


def test_a_finding_becomes_an_improvement_event_with_owner_and_deadline(conn, ctx, two_years):
    _last, this = two_years
    finding = checkups.add_finding(ctx, this, "D1", "闲置空地改造为口袋公园", "物业服务中心", 20)
    event_id = conn.execute("SELECT event_id FROM checkup_findings WHERE id = ?",
                            (finding.id,)).fetchone()[0]
    event = events.get_event(conn, event_id)
    assert event["status"] == "受理" and event["reporter"] == "物业服务中心"
    assert event["description"] == f"【社区体检 {YEAR}·公共活动场地】闲置空地改造为口袋公园"
    listed = checkups.list_checkups(conn, year=YEAR)[0]
    assert (listed["checked"], listed["passed"], listed["failed"], listed["open_findings"]) == (
        4, 2, 1, 1)
    events.start(ctx, event_id)
    events.close(ctx, event_id, "已改造")
    assert checkups.list_checkups(conn, year=YEAR)[0]["open_findings"] == 0


def test_the_comparison_marks_what_got_better_and_worse(conn, two_years):
    rows = {r["item"]: r for r in checkups.compare(conn, two_years[1])["rows"]}
    assert (rows["C2"]["last"], rows["C2"]["this"], rows["C2"]["change"]) == ("不达标", "达标", "↑")
    assert rows["D1"]["change"] == "↓" and rows["A1"]["change"] == "="
    assert rows["A2"]["change"] == "" and rows["B1"]["this"] is None
    first = checkups.compare(conn, two_years[0])
    assert first["last"] is None and first["last_counts"] is None


def test_the_report_prints_both_years_and_the_findings(tmp_path, conn, ctx, two_years):
    checkups.add_finding(ctx, two_years[1], "D1", "闲置空地改造为口袋公园", "物业服务中心", 20)
    out = tmp_path / "report.pdf"
    result = build(conn, two_years[1], out, actor="测试员")
    text = "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert result["pages"] >= 1
    for part in (f"社区体检报告（{YEAR}年，对比{YEAR - 1}年）", "幸福花园", "停车及充电设施",
                 "↑", "↓", "缺少活动场地", "闲置空地改造为口袋公园", "整改事项", "社区负责人"):
        assert part in text, part
    assert conn.execute("SELECT count(*) FROM audit_log WHERE action = 'print' AND"
                        " entity = 'checkups'").fetchone()[0] == 1


def test_a_grid_worker_checks_compounds_of_their_grid_only(conn, ctx, place, compound,
                                                            two_years):
    other_grid = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    other = grid.create_unit(ctx, other_grid, "compound", "别的小区").id
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    checkups.set_result(worker, two_years[1], "B1", "达标")
    with pytest.raises(NotPermitted):
        checkups.start_checkup(worker, other, YEAR)
    theirs = checkups.start_checkup(ctx, other, YEAR).id
    assert theirs not in [c["id"] for c in checkups.list_checkups(conn, access=worker.access)]


def test_the_checkup_commands(tmp_path, conn, ctx, db_path, compound, capsys):
    conn.execute("UPDATE grid_units SET code = 'XQ1' WHERE id = ?", (compound,))
    conn.commit()
    assert main(["checkup", "start", "--db", str(db_path), "--unit", "XQ1", "--year",
                 str(YEAR), "--inspector", "社区两委"]) == 0
    checkup = conn.execute("SELECT id FROM checkups").fetchone()[0]
    assert main(["checkup", "set", "--db", str(db_path), str(checkup), "C2=不达标",
                 "d1=达标"]) == 0
    assert main(["checkup", "finding", "--db", str(db_path), str(checkup), "C2",
                 "增设充电桩", "--owner", "物业", "--days", "30"]) == 0
    capsys.readouterr()
    assert main(["checkup", "list", "--db", str(db_path), "--json"]) == 0
    row = json.loads(capsys.readouterr().out.splitlines()[0])
    assert (row["checked"], row["failed"], row["findings"]) == (2, 1, 1)
    out = tmp_path / "r.pdf"
    assert main(["checkup", "report", "--db", str(db_path), str(checkup), "-o", str(out)]) == 0
    assert "增设充电桩" in "".join(p.extract_text() for p in PdfReader(str(out)).pages)
    assert main(["checkup", "set", "--db", str(db_path), str(checkup), "C2"]) == 2
    assert "项目编号=状态" in capsys.readouterr().err
