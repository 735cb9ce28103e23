"""Exports read back from the real files: templates, masking, text cells, formula escaping,
CSV with BOM, the audit entry, unit filter, and the round trip export → import → same records."""
import csv
import datetime as dt
import json

import pytest
from python_calamine import CalamineWorkbook

import db
from shequ_desktop.core import audit
from shequ_desktop.transfer import exporting
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents, tags
from shequ_desktop.casework import visits
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.transfer.exporting import templates
from shequ_desktop.transfer.importing import import_file
from shequ_desktop.core.progress import Cancelled
from tests.conftest import make_id

HEAD_ID = make_id("1970-05-06", "1")


def sheet_rows(path, name=None):
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name or book.sheet_names[0]).to_python()


def csv_rows(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


@pytest.fixture
def town(ctx, family, place):
    """The family of room 101 (with notes that look like formulas) and a second household in
    another grid."""
    hh, p = family
    residents.update_resident(ctx, p["son"], {"notes": "=HYPERLINK(\"x\")",
                                              "workplace": "@某公司", "occupation": "-"})
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    b = grid.create_unit(ctx, other, "building", "9号楼").id
    house = houses.create_house(ctx, b, {"room_no": "301", "floor": 3}).id
    households.create_household(ctx, house, {"name": "赵六", "phone": "010-88886666",
                                             "id_number": make_id("1950-01-01", "2", seq=30)},
                                {"household_no": "B-9"})
    return p


def test_district_template_masks_and_writes_text(tmp_path, conn, town):
    out = tmp_path / "up.xlsx"
    result = exporting.export(conn, exporting.for_what("residents"), out, "xlsx",
                              actor="网格员")
    assert result["rows"] == 4
    rows = sheet_rows(out)
    template = exporting.load("district_residents")
    assert rows[0] == [h for h, _c in template.sheets[0].columns]
    head = dict(zip(rows[0], rows[1]))
    assert head["公民身份号码"] == HEAD_ID[:6] + "********" + HEAD_ID[-4:]
    assert head["联系电话"] == "139****5678"
    assert head["姓名"] == "王建国" and head["性别"] == "男" and head["与户主关系"] == "户主"
    assert head["现住址"] == "阳光社区 1号楼1单元101"
    assert head["所属社区"] == "阳光社区" and head["所属网格"] == "第一网格"
    assert head["人户分离"] == "否"
    zhao = dict(zip(rows[0], rows[4]))
    assert zhao["联系电话"] == "010*****6666"
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "网格员"
    detail = json.loads(entry["detail"])
    assert (detail["rows"], detail["unmask"], detail["what"]) == (4, False, "residents")


def test_unmasked_export_is_recorded(tmp_path, conn, town):
    out = tmp_path / "full.csv"
    exporting.export(conn, exporting.for_what("residents"), out, "csv", unmask=True,
                     actor="社区主任")
    rows = csv_rows(out)
    assert rows[1][0] == HEAD_ID
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "社区主任"
    assert "未脱敏" in entry["summary"] and "4 行" in entry["summary"]
    assert json.loads(entry["detail"])["unmask"] is True
    assert audit.broken_links(conn) == []


def test_csv_has_a_bom_and_formulas_are_escaped(tmp_path, conn, town):
    out = tmp_path / "r.csv"
    exporting.export(conn, exporting.load("full_residents"), out, "csv")
    assert out.read_bytes().startswith(b"\xef\xbb\xbf")
    rows = csv_rows(out)
    son = dict(zip(rows[0], rows[3]))
    assert son["备注"] == "'=HYPERLINK(\"x\")"
    assert son["工作单位"] == "'@某公司"
    assert son["职业"] == "'-"
    xlsx = tmp_path / "r.xlsx"
    exporting.export(conn, exporting.load("full_residents"), xlsx, "xlsx")
    rows = sheet_rows(xlsx)
    assert dict(zip(rows[0], rows[3]))["备注"] == "'=HYPERLINK(\"x\")"
    assert exporting.escape("+86 139") == "'+86 139" and exporting.escape("王") == "王"


def test_households_and_members_share_a_stable_key(tmp_path, conn, town):
    out = tmp_path / "h.xlsx"
    result = exporting.export(conn, exporting.for_what("households"), out, "xlsx")
    assert result["sheets"] == {"户": 2, "成员": 4}
    homes = sheet_rows(out, "户")
    members = sheet_rows(out, "成员")
    keys = {r[0] for r in homes[1:]}
    assert {r[0] for r in members[1:]} == keys
    uuids = {r[0] for r in conn.execute("SELECT uuid FROM households")}
    assert keys == uuids
    assert dict(zip(homes[0], homes[1]))["在册人数"] == 3.0
    # as CSV: one file per sheet
    result = exporting.export(conn, exporting.for_what("households"), tmp_path / "h.csv", "csv")
    assert [p.rsplit("/", 1)[1] for p in result["files"]] == ["h.csv", "h_成员.csv"]
    assert len(csv_rows(tmp_path / "h_成员.csv")) == 5


def test_unit_filter(tmp_path, conn, town, place):
    out = tmp_path / "g.csv"
    result = exporting.export(conn, exporting.for_what("residents"), out, "csv",
                              unit_id=place.grid)
    assert result["rows"] == 3
    assert {r[1] for r in csv_rows(out)[1:]} == {"王建国", "李秀英", "王小明"}


def test_focus_visits_events_volunteers(tmp_path, ctx, conn, town, place):
    tag_id = conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, town["son"], tag_id, "2024-01-01")
    visits.record_visit(ctx, town["son"], "2024-02-01", "入户", "张晓燕")
    from shequ_desktop.casework import events
    cat = conn.execute("SELECT id FROM event_categories WHERE name = '安全隐患'").fetchone()[0]
    events.report_event(ctx, place.grid, cat, "楼道堆物", "2024-03-01", "张晓燕")
    focus = exporting.export(conn, exporting.for_what("focus"), tmp_path / "f.xlsx", "xlsx")
    rows = sheet_rows(tmp_path / "f.xlsx")
    assert focus["rows"] == 1
    row = dict(zip(rows[0], rows[1]))
    assert (row["重点人群类别"], row["姓名"], row["最近走访日期"]) == (
        "残疾人", "王小明", dt.date(2024, 2, 1))         # a date cell in a working export
    exporting.export(conn, exporting.for_what("visits"), tmp_path / "v.csv", "csv")
    row = dict(zip(*csv_rows(tmp_path / "v.csv")[:2]))
    assert (row["走访日期"], row["走访方式"], row["需要跟进"]) == ("2024-02-01", "入户", "否")
    result = exporting.export(conn, exporting.for_what("events"), tmp_path / "e.csv", "csv")
    assert csv_rows(tmp_path / "e.csv")[0][:3] == ["发现时间", "事件类别", "事件描述"]
    assert result["rows"] == conn.execute("SELECT count(*) FROM events").fetchone()[0]

    with ctx.transaction():
        team, _ = ctx.insert("volunteer_teams", {"name": "银发服务队", "unit_id": place.grid})
        vol, _ = ctx.insert("volunteers", {"name": "李志愿", "id_number": make_id(
            "1960-06-06", "2", seq=40), "phone": "13600001111", "team_id": team,
            "joined_on": "2023-01-01"})
        act, _ = ctx.insert("activities", {"title": "敬老助餐", "category": "为老服务",
                                           "starts_at": "2024-03-01 09:00",
                                           "ends_at": "2024-03-01 11:30", "unit_id": place.grid})
        ctx.insert("service_records", {"activity_id": act, "volunteer_id": vol, "hours": 2.5,
                                       "points": 25})
    result = exporting.export(conn, exporting.for_what("volunteers"), tmp_path / "vol.xlsx",
                              "xlsx")
    assert result["sheets"] == {"志愿者": 1, "服务时长": 1}
    people = sheet_rows(tmp_path / "vol.xlsx", "志愿者")
    row = dict(zip(people[0], people[1]))
    assert (row["姓名"], row["联系电话"], row["累计服务时长(小时)"], row["积分余额"]) == (
        "李志愿", "136****1111", 2.5, 25.0)
    hours = sheet_rows(tmp_path / "vol.xlsx", "服务时长")
    assert dict(zip(hours[0], hours[1]))["活动名称"] == "敬老助餐"


def test_round_trip_into_an_empty_database(tmp_path, conn, town, place):
    """Export (full template, unmasked) → import into an empty database → the same records,
    the same households and heads, the same buildings, units and rooms (beneath the unit the
    import was pointed at: grids above the buildings are not made again)."""
    fields = ("name", "id_type", "id_number", "gender", "birth_date", "ethnicity",
              "relation_to_head", "residence_type", "separated", "phone", "political_status",
              "education", "marital_status", "occupation", "workplace", "health",
              "moved_in_at", "notes", "name_initials")
    residents.update_resident(Context(conn), town["wife"], {
        "ethnicity": "回族", "education": "大学本科", "separated": 1, "residence_type": "流动人口",
        "moved_in_at": "2001-02-03", "marital_status": "已婚", "health": "健康",
        "notes": "第一行\n第二行"})

    def records(c):
        return sorted(tuple(r) for r in c.execute(f"""
            SELECT {', '.join('r.' + f for f in fields)}, h.household_no, hd.name,
                   ho.room_no, CASE WHEN u.level = 'unit' THEN u.name END,
                   CASE WHEN u.level = 'unit' THEN b.name ELSE u.name END
            FROM residents r JOIN households h ON h.id = r.household_id
            JOIN residents hd ON hd.id = h.head_resident_id
            LEFT JOIN houses ho ON ho.id = h.house_id
            LEFT JOIN grid_units u ON u.id = ho.unit_id
            LEFT JOIN grid_units b ON b.id = u.parent_id WHERE r.status = '在册'"""))

    for fmt in ("xlsx", "csv"):
        out = tmp_path / f"backup.{fmt}"
        exporting.export(conn, exporting.load("full_residents"), out, fmt, unmask=True)
        empty = db.open_db(tmp_path / f"empty-{fmt}.db")
        ctx2 = Context(empty, "测试员")
        community = grid.create_unit(ctx2, None, "community", "新社区").id
        plan, counts = import_file(ctx2, out, community)
        assert counts["created"] == 4 and counts["errors"] == 0, fmt
        assert records(empty) == records(conn), fmt
        plan, counts = import_file(ctx2, out, community, on_duplicate="update")
        assert counts["unchanged"] == 4, fmt
        empty.close()


def test_a_template_is_a_file(tmp_path, monkeypatch, conn, town):
    monkeypatch.setattr(templates, "TEMPLATES_DIR", tmp_path)
    templates.load.cache_clear()
    (tmp_path / "mini.json").write_text(json.dumps({
        "title": "简表", "what": "residents", "sheets": [{"name": "人", "source": "residents",
        "columns": [{"field": "name"}, {"header": "手机", "field": "phone"}]}]},
        ensure_ascii=False), encoding="utf-8")
    (tmp_path / "broken.json").write_text(json.dumps({
        "what": "residents", "sheets": [{"name": "人", "source": "residents",
                                         "columns": [{"field": "shoe_size"}]}]}),
        encoding="utf-8")
    try:
        assert exporting.for_what("residents", "mini").title == "简表"
        exporting.export(conn, exporting.load("mini"), tmp_path / "m.csv", "csv")
        assert csv_rows(tmp_path / "m.csv")[:2] == [["姓名", "手机"], ["王建国", "139****5678"]]
        with pytest.raises(DomainError, match="“shoe_size”不是居民的字段"):
            exporting.load("broken")
        with pytest.raises(DomainError, match="没有名为“nope”的导出模板"):
            exporting.load("nope")
        with pytest.raises(DomainError, match="不能用于户和成员"):
            exporting.for_what("households", "mini")
    finally:
        templates.load.cache_clear()


def test_cancelled_export_leaves_no_file(tmp_path, conn, town, monkeypatch):
    from shequ_desktop.transfer.exporting import writer
    monkeypatch.setattr(writer, "REPORT_EVERY", 1)
    out = tmp_path / "c.xlsx"
    with pytest.raises(Cancelled):
        exporting.export(conn, exporting.for_what("residents"), out, "xlsx",
                         progress=lambda done, total: done < 2)
    assert not out.exists()
    assert audit.entries(conn, action="export") == []


def test_bad_requests_say_why(tmp_path, conn, town):
    with pytest.raises(DomainError, match="导出格式应为 xlsx 或 csv"):
        exporting.export(conn, exporting.for_what("residents"), tmp_path / "x.pdf", "pdf")
    with pytest.raises(DomainError, match="文件夹"):
        exporting.export(conn, exporting.for_what("residents"), tmp_path / "no" / "x.csv", "csv")
    with pytest.raises(DomainError, match="不能导出“cars”"):
        exporting.for_what("cars")


def test_every_shipped_template_loads_and_exports(tmp_path, conn, town):
    assert set(exporting.names()) >= {"district_residents", "full_residents", "households",
                                      "focus_groups", "visits", "events", "volunteers"}
    for name in exporting.names():
        template = exporting.load(name)
        result = exporting.export(conn, template, tmp_path / f"{name}.xlsx", "xlsx")
        assert result["files"] == [str(tmp_path / f"{name}.xlsx")]
