"""The service certificate (志愿服务证明) read back from the PDF with pypdf, and the
`shequ volunteers` commands."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader

from shequ_desktop.core import audit
from shequ_desktop.volunteers import activities as va, roster as volunteers
from shequ_desktop.cli.main import main
from shequ_desktop.reports.pdf import certificate
from tests.conftest import make_id

ID = make_id("1960-02-03", "2", seq=21)


def page_texts(path) -> list[str]:
    return [p.extract_text() for p in PdfReader(str(path)).pages]


@pytest.fixture
def served(ctx, place):
    """欧阳春华 of 银发服务队 (阳光社区), with `n` activities of 2.5 hours every third day
    from 2023-01-01 (call with n)."""
    team = volunteers.create_team(ctx, {"name": "银发服务队", "unit_id": place.community}).id
    vid = volunteers.create_volunteer(ctx, {"name": "欧阳春华", "id_number": ID,
                                            "joined_on": "2020-03-01"}, team_id=team).id

    def serve(n: int) -> int:
        for i in range(n):
            day = dt.date(2023, 1, 1) + dt.timedelta(days=3 * i)
            aid = va.create_activity(ctx, {
                "title": f"敬老院陪伴第{i + 1}期", "category": "为老服务",
                "starts_at": f"{day} 09:00", "ends_at": f"{day} 11:30"}).id
            va.save_sheet(ctx, aid, {vid: 2.5})
        return vid
    return serve


def test_certificate_states_identity_hours_activities_issuer_and_stamp(ctx, served, tmp_path):
    vid = served(3)
    out = tmp_path / "证明.pdf"
    result = certificate.build(ctx.conn, vid, out, issued_on=dt.date(2024, 5, 6),
                               actor="测试员")
    assert (result["pages"], result["hours"], result["activities"]) == (1, 7.5, 3)
    [text] = page_texts(out)
    flat = text.replace(" ", "").replace("\n", "")
    assert "志愿服务证明" in flat and "欧阳春华" in flat
    assert "110105********" + ID[-4:] in flat and ID not in flat   # masked, never whole
    assert "累计志愿服务时长7.5小时" in flat and "参加志愿服务活动3次" in flat
    assert "银发服务队" in flat and "阳光社区志愿者" in flat
    for i in (1, 2, 3):
        assert f"敬老院陪伴第{i}期" in flat
    assert "2023-01-04" in flat
    assert "出具单位（盖章）：阳光社区" in flat and "出具日期：2024年5月6日" in flat
    assert "第1页共1页" in flat
    [entry] = audit.entries(ctx.conn, action="print")
    assert (entry["entity"], entry["entity_id"], entry["actor"]) == ("volunteers", vid, "测试员")
    assert "欧阳春华" in entry["summary"] and "7.5 小时" in entry["summary"]


def test_long_service_runs_over_pages_with_header_and_numbering(ctx, served, tmp_path):
    vid = served(70)
    out = tmp_path / "long.pdf"
    result = certificate.build(ctx.conn, vid, out)
    texts = [t.replace(" ", "").replace("\n", "") for t in page_texts(out)]
    assert result["pages"] == len(texts) >= 3
    for i, text in enumerate(texts, 1):
        assert f"第{i}页共{len(texts)}页" in text
        assert "活动名称" in text                 # the header on every page with rows
    everything = "".join(texts)
    assert all(f"敬老院陪伴第{i}期" in everything for i in range(1, 71))
    assert "累计志愿服务时长175小时" in texts[0]
    assert "出具单位" in texts[-1] and "出具单位" not in texts[0]


def test_period_limits_the_activities_and_total(ctx, served, tmp_path):
    vid = served(10)                              # 2023-01-01 … 2023-01-28
    out = tmp_path / "p.pdf"
    result = certificate.build(ctx.conn, vid, out, date_from="2023-01-04",
                               date_to="2023-01-10")
    flat = "".join(page_texts(out)).replace(" ", "").replace("\n", "")
    assert (result["activities"], result["hours"]) == (3, 7.5)
    assert "2023-01-04至2023-01-10期间" in flat
    assert "敬老院陪伴第1期" not in flat
    assert "敬老院陪伴第2期" in flat and "敬老院陪伴第5期" not in flat


def test_cli_hours_json(ctx, db_path, served, capsys):
    vid = served(4)                               # 2023-01-01, 04, 07, 10
    volunteers.create_volunteer(ctx, {"name": "钱小红", "joined_on": "2021-01-01"})
    assert main(["volunteers", "hours", "--db", str(db_path), "--from", "2023-01-02",
                 "--to", "2023-01-08", "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {"欧阳春华", "钱小红"}
    r = by_name["欧阳春华"]
    assert (r["id"], r["team"], r["hours"], r["total"], r["star"], r["points"]) == (
        vid, "银发服务队", 5, 10, 0, 10)
    assert {"month", "year"} <= set(r)
    assert by_name["钱小红"]["hours"] == 0 and by_name["钱小红"]["team"] is None


def test_cli_certificate_by_name_and_ambiguous_name(ctx, db_path, served, tmp_path, capsys):
    served(2)
    out = tmp_path / "c.pdf"
    assert main(["volunteers", "certificate", "--db", str(db_path), "--volunteer", "欧阳春华",
                 "-o", str(out)]) == 0
    assert "5 小时" in capsys.readouterr().out
    assert "欧阳春华" in page_texts(out)[0]
    volunteers.create_volunteer(ctx, {"name": "欧阳春华", "joined_on": "2022-01-01"})
    assert main(["volunteers", "certificate", "--db", str(db_path), "--volunteer", "欧阳春华",
                 "-o", str(tmp_path / "d.pdf")]) == 2
    err = capsys.readouterr().err
    assert "有 2 位志愿者名为“欧阳春华”" in err and "编号 1" in err and "编号 2" in err
    assert not (tmp_path / "d.pdf").exists()
    assert main(["volunteers", "hours", "--db", str(db_path), "--from", "2023-13-01"]) == 2
