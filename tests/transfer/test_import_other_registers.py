"""Issue 15: focus-group, visit and volunteer registers land where they belong (library and
`shequ import --what`, detected when obvious)."""
import datetime as dt
import json

import db
from shequ_desktop.cli.main import main
from shequ_desktop.transfer.importing import read_table
from shequ_desktop.transfer.importing.registers import detect, import_register
from tests.conftest import make_id
from tests.transfer.registers import RECTIFY_SUB, RECTIFY_TOP, tianque_rows, write_book


def rectify_register(path, n=6):
    head, merges = tianque_rows(RECTIFY_TOP, RECTIFY_SUB, "矫正人员信息登记表")
    data = []
    for i in range(1, n + 1):
        row = [""] * len(RECTIFY_TOP)
        row[0], row[1], row[2] = f"矫正{i}", "第一网格", "男"
        row[4] = make_id(f"198{i}-05-0{i}", "1", seq=30 + i)
        row[5], row[6] = f"2023-0{i}-01", "2026-12-31"
        row[7], row[8] = "三年", "缓刑"
        row[9], row[10], row[11] = "四川省", "成都市", "武侯区"
        row[13] = f"幸福花园{i}栋1单元101"
        row[18] = f"1391234567{i}"
        row[20], row[21], row[22], row[24] = "汉族", "群众", "初中", "未婚"
        row[28] = "表现良好"
        data.append(row)
    return write_book(path, head, merges, data)


def test_a_focus_register_imports_people_and_sets_their_group_from_its_start_date(
        tmp_path, conn, ctx, place):
    table = read_table(rectify_register(tmp_path / "矫正.xlsx"))
    assert detect(table)[0] == "focus"
    result = import_register(ctx, table, None, place.grid)
    assert result.tag == "社区矫正"
    assert result.counts["created"] == 6 and result.counts["errors"] == 0
    assert result.counts["tagged"] == 6
    got = conn.execute("""SELECT r.name, rt.since, r.extras FROM resident_tags rt
                          JOIN residents r ON r.id = rt.resident_id
                          JOIN tags t ON t.id = rt.tag_id WHERE t.name = '社区矫正'
                          ORDER BY r.name""").fetchall()
    assert [(n, s) for n, s, _e in got][:2] == [("矫正1", "2023-01-01"), ("矫正2", "2023-02-01")]
    extras = json.loads(got[0][2])
    assert extras["刑法执行类别"] == "缓刑" and extras["原判刑期"] == "三年"
    assert extras["社区矫正结束时间"] == "2026-12-31" and extras["籍贯/省"] == "四川省"
    # the same register again tags no one twice and creates no one
    again = import_register(ctx, read_table(tmp_path / "矫正.xlsx"), "focus", place.grid)
    assert again.counts["created"] == 0 and again.counts["tagged"] == 0


def test_a_focus_register_of_a_group_we_do_not_have_creates_the_group(tmp_path, conn, ctx,
                                                                      place):
    head, merges = tianque_rows(["姓名*", "性别*", "身份证号码*", "现住地址*", "吸毒原因",
                                 "查获日期"], {}, "吸毒人员信息登记表")
    data = [["吸一", "男", make_id("1990-01-01", seq=50), "5栋1单元101", "好奇", "2022-05-06"]]
    table = read_table(write_book(tmp_path / "d.xlsx", head, merges, data))
    result = import_register(ctx, table, None, place.grid)
    assert result.tag == "吸毒人员" and result.counts["tagged"] == 1
    assert conn.execute("SELECT since FROM resident_tags").fetchone()[0] == "2022-05-06"


def test_a_visit_register_records_visits_of_residents_on_record(tmp_path, conn, ctx, place,
                                                                family):
    _hh, ids = family
    head = [["走访登记表"], ["序号", "姓名", "身份证号", "走访日期", "走访方式", "走访人",
                            "走访情况", "是否需要跟进", "跟进事项"]]
    day = (dt.date.today() - dt.timedelta(days=3)).isoformat()
    data = [[1, "王建国", make_id("1970-05-06", "1"), day, "上门", "张网格", "身体好", "否", ""],
            [2, "李秀英", "", day, "电话回访", "张网格", "", "是", "联系社区医生"],
            [3, "查无此人", "", day, "入户", "张网格", "", "", ""],
            [4, "王小明", make_id("2001-09-01", "1"), "2099-01-01", "入户", "张网格", "", "", ""]]
    table = read_table(write_book(tmp_path / "v.xlsx", head, [], data))
    assert detect(table)[0] == "visits"
    result = import_register(ctx, table, None, None)
    assert result.counts["created"] == 2 and result.counts["errors"] == 2
    got = conn.execute("SELECT resident_id, method, visitor, follow_up, follow_up_note "
                       "FROM visits ORDER BY resident_id").fetchall()
    assert [tuple(r) for r in got] == [(ids["head"], "入户", "张网格", 0, None),
                                       (ids["wife"], "电话", "张网格", 1, "联系社区医生")]
    reasons = [r.reason() for r in result.plan.rows]
    assert "库中没有名为“查无此人”的居民" in reasons[2] and "晚于今天" in reasons[3]
    again = import_register(ctx, read_table(tmp_path / "v.xlsx"), "visits", None)
    assert again.counts["created"] == 0 and again.counts["skipped"] == 2


def test_a_volunteer_roster_registers_volunteers(tmp_path, conn, ctx, place, family):
    head = [["阳光社区志愿者花名册"], ["姓名", "性别", "身份证号", "联系电话", "技能特长",
                                    "注册日期", "服务队", "备注"]]
    data = [["王建国", "男", make_id("1970-05-06", "1"), "13912345678", "理发", "2023-01-05",
             "", ""],
            ["赵志愿", "女", make_id("1995-02-03", "2", seq=60), "13700001111", "唱歌",
             "2024-03-01", "文艺队", ""],
            ["", "女", "", "", "", "2024-03-01", "", ""]]
    table = read_table(write_book(tmp_path / "vol.xlsx", head, [], data))
    assert detect(table)[0] == "volunteers"
    result = import_register(ctx, table, None, None)
    assert result.counts["created"] == 2 and result.counts["errors"] == 1
    got = {r["name"]: dict(r) for r in conn.execute("SELECT * FROM volunteers")}
    assert got["王建国"]["resident_id"] is not None and got["王建国"]["skills"] == "理发"
    assert "服务队：文艺队" in got["赵志愿"]["notes"]
    assert any("文艺队" in w for _c, w in result.plan.rows[1].warnings)


def test_the_command_imports_each_register_kind(tmp_path, capsys):
    path = tmp_path / "c.db"
    code = main(["import", rectify_register(tmp_path / "矫正.xlsx"), "--db", str(path),
                 "--json"])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and out["what"] == "focus" and out["tagged"] == 6
    assert "刑法执行类别" in out["kept_columns"]
    conn = db.open_db(path)
    try:
        assert conn.execute("SELECT count(*) FROM resident_tags").fetchone()[0] == 6
    finally:
        conn.close()
    code = main(["import", str(tmp_path / "矫正.xlsx"), "--db", str(path), "--what",
                 "residents", "--json"])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and out["what"] == "residents" and out["unchanged"] == 6


def test_an_overseas_register_reads_the_english_name_and_passport(tmp_path, conn, ctx, place):
    from tests.transfer.registers import OVERSEAS_TOP

    head, merges = tianque_rows(OVERSEAS_TOP, {}, "境外人员信息登记表")
    row = [""] * len(OVERSEAS_TOP)
    row[0], row[1], row[2], row[3], row[4] = "JOHN SMITH", "第一网格", "男", "护照", "E12345678"
    row[5], row[6], row[8], row[13] = "1980-02-03", "史密斯", "英国", "13912345678"
    table = read_table(write_book(tmp_path / "境外.xlsx", head, merges, [row]))
    result = import_register(ctx, table, None, place.grid)
    assert result.tag == "境外人员" and result.counts["created"] == 1, \
        [r.reason() for r in result.plan.rows]
    got = dict(conn.execute("SELECT name, id_type, id_number, extras FROM residents").fetchone())
    assert (got["name"], got["id_type"], got["id_number"]) == ("JOHN SMITH", "02", "E12345678")
    assert json.loads(got["extras"])["中文名"] == "史密斯"


def test_the_command_takes_a_value_map_and_reports_unknown_values(tmp_path, capsys):
    from tests.transfer.test_import_registers import flow_person, write_flow

    sheet = write_flow(tmp_path / "flow.xlsx", [flow_person(1, kind="未落户"),
                                               flow_person(2, kind="寄居")])
    code = main(["import", sheet, "--db", str(tmp_path / "a.db"), "--dry-run", "--json"])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and out["unknown_values"] == {"人口类型": {"未落户": 1, "寄居": 1}}
    assert out["kept_columns"] == ["联系手机", "人户状态"]
    assert out["ignored_columns"] == ["序号"] and out["warnings"] == 2
    values = tmp_path / "map.json"
    values.write_text(json.dumps({"人口类型": {"未落户": "流动人口", "寄居": None}},
                                 ensure_ascii=False), encoding="utf-8")
    code = main(["import", sheet, "--db", str(tmp_path / "a.db"), "--values", str(values),
                 "--json"])
    out = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert code == 0 and out["unknown_values"] == {} and out["created"] == 2
    conn = db.open_db(tmp_path / "a.db")
    try:
        kinds = dict(conn.execute("SELECT name, residence_type FROM residents"))
    finally:
        conn.close()
    assert kinds == {"测试001": "2", "测试002": "1"}
    code = main(["import", sheet, "--db", str(tmp_path / "a.db")])
    text = capsys.readouterr().out
    assert "没有对应字段、作为附加信息随人保存的列：联系手机、人户状态" in text


def test_a_grid_worker_cannot_create_a_focus_group_by_importing(tmp_path, conn, ctx, place):
    import pytest

    from shequ_desktop.core.access import Access
    from shequ_desktop.core.errors import DomainError
    from tests.transfer.registers import write_book

    head, merges = tianque_rows(["姓名*", "性别*", "身份证号码*", "现住地址*", "吸毒原因"], {},
                                "吸毒人员信息登记表")
    data = [["吸一", "男", make_id("1990-01-01", seq=50), "5栋1单元101", "好奇"]]
    table = read_table(write_book(tmp_path / "d.xlsx", head, merges, data))
    ctx.access = Access("网格员", frozenset({place.grid}))
    with pytest.raises(DomainError, match="只有管理员可以新建"):
        import_register(ctx, table, None, place.grid)
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 0
    # a group the database has: the 网格员's people join it
    table = read_table(rectify_register(tmp_path / "矫正.xlsx", n=2))
    result = import_register(ctx, table, None, place.grid)
    assert result.counts["tagged"] == 2
