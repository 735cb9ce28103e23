"""Issue 15: registers as they really are go in whole. Workbooks with the header rows of real
registers (a flat 流动人口 list, 天阙 templates), filled with generated people."""
import json
import os
import subprocess
import sys

import db
from shequ_desktop.transfer.importing import build_plan, import_file, read_table, write_error_report
from tests.conftest import make_id
from tests.transfer.registers import AID_SUB, AID_TOP, tianque_rows, write_book

FLOW_HEADERS = ["序号", "姓名", "性别", "民族", "公民身份号码", "出生年月", "文化程度", "婚姻状况",
                "人口类型", "户籍地", "现住地址", "联系电话", "联系手机", "工作单位或就读学校",
                "流入时间", "人户状态", "备注"]


def flow_person(i, *, address=None, birth=None, gender="1", education="高中\\中专",
                marital="已婚", kind="流动人口", phone=None):
    birth = birth or f"{1950 + i % 50}-{i % 12 + 1:02d}-{i % 27 + 1:02d}"
    number = make_id(birth, gender, area="510104", seq=i)
    return [i, f"测试{i:03d}", "男" if gender == "1" else "女", "汉族", number, birth[:7],
            education, marital, kind, "四川省成都市", address or f"幸福花园{i % 4 + 1}栋1单元{i % 3 + 1}01",
            phone or f"139{i:08d}", f"138{i:08d}", "某某公司", "2020-03-15", "人在户不在", ""]


def write_flow(path, rows, headers=FLOW_HEADERS, below=()):
    head = [["阳光社区流动人口登记表"] + [""] * (len(headers) - 1), list(headers)]
    return write_book(path, head, [(0, 0, 0, len(headers) - 1)], rows, below=below)


def people(conn):
    return {r["name"]: dict(r) for r in conn.execute("SELECT * FROM residents")}


def test_a_flat_register_imports_whole_one_household_per_address(tmp_path, conn, ctx, place):
    rows = [flow_person(i) for i in range(1, 31)]
    plan, counts = import_file(ctx, write_flow(tmp_path / "flow.xlsx", rows), place.grid)
    assert counts["created"] == 30 and counts["errors"] == 0
    assert plan.is_flat
    got = people(conn)
    assert len(got) == 30
    # one household per address, its eldest the head, marked for checking
    households = conn.execute("SELECT count(*) FROM households").fetchone()[0]
    addresses = {r[10] for r in rows}
    assert households == len(addresses) < 30
    for hid, head, notes in conn.execute("SELECT id, head_resident_id, notes FROM households"):
        members = conn.execute("SELECT id, birth_date FROM residents WHERE household_id = ?",
                               (hid,)).fetchall()
        eldest = min(members, key=lambda m: m[1])[0]
        assert head == eldest
        assert (len(members) > 1) == ("请核对户主" in (notes or ""))
    one = got["测试001"]
    assert one["education"] == "60" and one["residence_type"] == "2"
    assert one["birth_date"] == "1951-02-02"                  # 1951-02 completed from the ID
    assert one["phone"] == "13900000001"
    extras = json.loads(one["extras"])
    assert extras["联系手机"] == "13800000001"                 # the second phone is kept
    assert extras["人户状态"] == "人在户不在"
    assert one["register_place"] == "四川省成都市" and one["inflow_date"] == "2020-03-15"
    assert one["workplace"] == "某某公司"                      # 工作单位或就读学校
    assert plan.kept_columns() == ["联系手机", "人户状态"]


def test_a_year_month_in_a_date_that_is_not_a_key_is_kept_as_written(tmp_path, conn, ctx, place):
    """流入时间 2020-03 is no date: the field stays empty, the person comes in, the text is kept
    and the row says why."""
    row = flow_person(1)
    row[FLOW_HEADERS.index("流入时间")] = "2020-03"
    plan, counts = import_file(ctx, write_flow(tmp_path / "flow.xlsx", [row]), place.grid)
    assert counts["created"] == 1 and counts["errors"] == 0
    one = people(conn)["测试001"]
    assert one["inflow_date"] is None and json.loads(one["extras"])["流入时间"] == "2020-03"
    assert [w for _c, w in plan.rows[0].warnings] == [
        "流入时间：“2020-03”不是完整的日期，该项留空，原文保留在附加信息中"]
    assert plan.ignored_columns() == ["序号"]
    # the address became 小区/楼栋/单元/房号 under the grid
    assert conn.execute("SELECT count(*) FROM grid_units WHERE name = '幸福花园' AND level = "
                        "'compound'").fetchone()[0] == 1


def test_flat_register_one_household_each_when_chosen(tmp_path, conn, ctx, place):
    rows = [flow_person(i, address="幸福花园1栋1单元101") for i in range(1, 5)]
    table = read_table(write_flow(tmp_path / "flow.xlsx", rows))
    plan = build_plan(conn, table, flat="person")
    from shequ_desktop.transfer.importing import apply_plan
    counts = apply_plan(ctx, plan, place.grid)
    assert counts["created"] == 4 and counts["households_created"] == 4
    assert conn.execute("SELECT count(*) FROM households WHERE notes LIKE '%核对%'"
                        ).fetchone()[0] == 0


def test_flat_rows_join_the_household_on_record_at_their_address(tmp_path, conn, ctx, place,
                                                                 family):
    hh_id, _ids = family
    rows = [flow_person(40, address="1号楼1单元101"), flow_person(41, address="1号楼1单元101")]
    plan, counts = import_file(ctx, write_flow(tmp_path / "flow.xlsx", rows), place.grid)
    assert counts["created"] == 2 and counts.get("households_created") == 0
    assert {r[0] for r in conn.execute("SELECT household_id FROM residents WHERE name LIKE '测试%'")
            } == {hh_id}


def test_unknown_values_leave_the_field_empty_are_named_and_kept(tmp_path, conn, ctx, place):
    rows = [flow_person(1, kind="未落户", education="学龄前", marital="其他"),
            flow_person(2, kind="未落户", phone="19912345678"),
            flow_person(3, kind="寄居", phone="11112345678")]
    plan, counts = import_file(ctx, write_flow(tmp_path / "flow.xlsx", rows), place.grid)
    assert counts["created"] == 3 and counts["errors"] == 0
    assert plan.unknown_values() == {"人口类型": {"未落户": 2, "寄居": 1}}
    got = people(conn)
    assert got["测试001"]["education"] == "90" and got["测试001"]["marital_status"] == "90"
    assert got["测试001"]["residence_type"] == "1"            # empty: the default
    assert json.loads(got["测试001"]["extras"])["人口类型"] == "未落户"
    three = plan.rows[2]
    assert any("“寄居”不在" in w for _c, w in three.warnings)
    assert any(w.startswith("联系电话") for _c, w in three.warnings)   # unknown prefix: a warning
    assert got["测试003"]["phone"] is None
    assert json.loads(got["测试003"]["extras"])["联系电话"] == "11112345678"


def test_a_value_map_maps_leaves_empty_or_keeps(tmp_path, conn, ctx, place):
    rows = [flow_person(1, kind="未落户"), flow_person(2, kind="寄居", education="扫盲班")]
    table = read_table(write_flow(tmp_path / "flow.xlsx", rows))
    plan = build_plan(conn, table, values={"人口类型": {"未落户": "户籍人口", "寄居": None},
                                           "education": {"扫盲班": ""}})
    assert plan.unknown_values() == {}
    assert plan.rows[0].values["residence_type"] == "1"
    assert plan.rows[1].extras["人口类型"] == "寄居" and not plan.rows[1].warnings
    assert plan.rows[1].values.get("education") is None


def test_tianque_register_with_two_row_header_imports_whole(tmp_path, conn, ctx, place):
    head, merges = tianque_rows(AID_TOP, AID_SUB, "需要救助人员信息登记表")
    data = []
    for i in range(1, 11):
        row = [""] * len(AID_TOP)
        row[0], row[1], row[2] = f"救助{i}", "第一网格", "女"
        row[4] = make_id(f"19{40 + i}-03-0{i % 9 + 1}", "2", seq=i)
        row[5], row[6], row[7], row[8] = "因病", "四川省", "成都市", "武侯区"
        row[11] = f"幸福花园{i}栋2单元30{i % 4 + 1}"
        row[15], row[16] = "028-85551234", f"1370000000{i % 10}"
        row[18], row[19], row[20], row[22] = "汉族", "群众", "小学", "丧偶"
        row[26] = "是"
        data.append(row)
    path = write_book(tmp_path / "aid.xlsx", head, merges, data,
                      below=[["注：本表由社区填报"], ["填表人：张三", "", "审核人：李四"]])
    plan, counts = import_file(ctx, path, place.grid)
    assert counts["created"] == 10 and counts["errors"] == 0, [r.reason() for r in plan.rows]
    assert plan.header_row == 5 and plan.first_row == 4
    got = people(conn)["救助1"]
    extras = json.loads(got["extras"])
    assert extras["户籍地/省"] == "四川省" and extras["救助原因"] == "因病"
    assert extras["联系手机"] == "13700000001" and extras["所属网格"] == "第一网格"
    assert got["phone"] == "028-85551234" and got["marital_status"] == "30"
    assert "是否低保" in plan.kept_columns()


def test_merged_cells_fill_down_and_footnotes_are_skipped(tmp_path, conn, ctx, place):
    headers = ["姓名", "身份证号", "与户主关系", "现住址"]
    head = [headers]
    data = [["周一", make_id("1960-01-01", "1", seq=1), "户主", "3栋1单元101"],
            ["周二", make_id("1962-01-01", "2", seq=2), "妻", ""],
            ["周三", make_id("1990-01-01", "1", seq=3), "子女", ""]]
    path = write_book(tmp_path / "m.xlsx", head, [(1, 3, 3, 3)], data,
                      below=[["说明：户主排在第一行"]])
    # merge_range wrote 3栋1单元101 into the merged area; calamine reads it as one cell
    plan, counts = import_file(ctx, path, place.grid)
    assert counts["created"] == 3 and counts["errors"] == 0, [r.reason() for r in plan.rows]
    assert people(conn)["周三"]["relation_to_head"] == "20"     # 子女 of a man: 子
    assert conn.execute("SELECT count(DISTINCT household_id) FROM residents").fetchone()[0] == 1


def test_invisible_characters_are_removed_and_formulas_are_not_names(tmp_path, conn, ctx, place):
    rows = [flow_person(1), flow_person(2), flow_person(3)]
    rows[0][1] = "张\u202e三\u200b"
    rows[1][1] = "=cmd|' /C calc'!A0"
    plan, counts = import_file(ctx, write_flow(tmp_path / "f.xlsx", rows), place.grid)
    assert counts["created"] == 2 and counts["errors"] == 1
    assert "张三" in people(conn)
    assert any("不可见字符" in w for _c, w in plan.rows[0].warnings)
    assert "是公式" in plan.rows[1].reason()


def test_what_the_importer_refused_stays_refused(tmp_path, conn, ctx, place):
    rows = [flow_person(i) for i in range(1, 6)]
    rows[0][4] = rows[0][4][:17] + ("0" if rows[0][4][17] != "0" else "1")   # check digit
    rows[1][4] = rows[1][4][:6] + "********" + rows[1][4][14:]                 # masked
    rows[2][5] = "1999-01"                                                     # disagrees
    rows[3][2] = "女"                                                          # gender
    plan, counts = import_file(ctx, write_flow(tmp_path / "f.xlsx", rows), place.grid)
    assert counts["created"] == 1 and counts["errors"] == 4
    reasons = [r.reason() for r in plan.rows[:4]]
    assert "校验位" in reasons[0] and "脱敏" in reasons[1]
    assert "只有年月，与身份证号不符" in reasons[2] and "性别" in reasons[3]


def test_fix_and_reimport_of_a_flat_register_converges(tmp_path, conn, ctx, place):
    rows = [flow_person(i, address="幸福花园9栋1单元101") for i in range(1, 4)]
    rows[1][4] = rows[1][4][:17] + ("0" if rows[1][4][17] != "0" else "1")
    plan, counts = import_file(ctx, write_flow(tmp_path / "f.xlsx", rows), place.grid)
    assert counts["created"] == 2 and counts["errors"] == 1
    report = tmp_path / "errors.xlsx"
    write_error_report(plan, report)
    fixed = read_table(report).rows
    fixed[1][4] = make_id("1952-03-03", "1", area="510104", seq=2)
    again = write_book(tmp_path / "fixed.xlsx", [fixed[0]], [], [fixed[1]])
    plan, counts = import_file(ctx, again, place.grid)
    assert counts["created"] == 1 and counts["errors"] == 0
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 3
    assert conn.execute("SELECT count(DISTINCT household_id) FROM residents").fetchone()[0] == 1
    plan, counts = import_file(ctx, again, place.grid)
    assert counts["created"] == 0 and counts["unchanged"] == 1


def test_two_imports_of_one_file_at_once_create_each_person_once(tmp_path):
    path = tmp_path / "c.db"
    conn = db.open_db(path)
    conn.close()
    sheet = write_flow(tmp_path / "flow.xlsx", [flow_person(i) for i in range(1, 401)])
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    cmd = [sys.executable, "-m", "shequ_desktop", "import", sheet, "--db", str(path), "--json"]
    procs = [subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    created = sorted(json.loads(o.splitlines()[-1])["created"] for o, _e in outs)
    conn = db.open_db(path)
    try:
        assert conn.execute("SELECT count(*), count(DISTINCT id_number) FROM residents"
                            ).fetchone()[:] == (400, 400)
    finally:
        conn.close()
    assert sum(created) == 400, created


def test_a_plan_made_before_another_import_committed_creates_no_one_twice(tmp_path, db_path,
                                                                          place):
    from shequ_desktop.core.context import Context
    from shequ_desktop.transfer.importing import apply_plan

    sheet = write_flow(tmp_path / "flow.xlsx", [flow_person(i) for i in range(1, 21)])
    first, second = db.open_db(db_path), db.open_db(db_path)
    try:
        plans = [build_plan(c, read_table(sheet)) for c in (first, second)]
        assert apply_plan(Context(first, "甲"), plans[0], place.grid)["created"] == 20
        counts = apply_plan(Context(second, "乙"), plans[1], place.grid)
        assert counts["created"] == 0 and counts["skipped"] == 20
        assert second.execute("SELECT count(*) FROM residents").fetchone()[0] == 20
        assert second.execute("SELECT count(*) FROM households").fetchone()[0] == \
            first.execute("SELECT count(*) FROM households").fetchone()[0]
    finally:
        first.close()
        second.close()


def test_an_address_with_its_administrative_path_lands_in_its_compound(tmp_path, conn, ctx,
                                                                       place):
    rows = [flow_person(1, address="四川省成都市武侯区某某街道阳光社区幸福花园3栋2单元501"),
            flow_person(2, address="阳光社区3栋1单元101")]
    import_file(ctx, write_flow(tmp_path / "f.xlsx", rows), place.grid)
    got = conn.execute("""SELECT c.name, b.name, u.name, ho.room_no FROM residents r
        JOIN households h ON h.id = r.household_id JOIN houses ho ON ho.id = h.house_id
        JOIN grid_units u ON u.id = ho.unit_id JOIN grid_units b ON b.id = u.parent_id
        JOIN grid_units c ON c.id = b.parent_id ORDER BY r.name""").fetchall()
    assert [tuple(r) for r in got] == [("幸福花园", "3号楼", "2单元", "501"),
                                       ("第一网格", "3号楼", "1单元", "101")]


def test_the_error_report_keeps_the_text_exactly_and_marks_the_faulty_cell(tmp_path, conn):
    from tests.transfer.test_import import red_cells

    rows = [flow_person(1)]
    rows[0][4] = rows[0][4][:17] + ("0" if rows[0][4][17] != "0" else "1")
    rows[0][10] = "幸福花园３栋２单元５０１（东门），"
    rows[0][16] = "  两个  空格 "
    plan = build_plan(conn, read_table(write_flow(tmp_path / "f.xlsx", rows)))
    out = tmp_path / "errors.xlsx"
    write_error_report(plan, out)
    got = read_table(out).rows
    assert got[1][10] == "幸福花园３栋２单元５０１（东门），" and got[1][16] == "  两个  空格 "
    assert red_cells(out) == {"E2"}


def test_a_head_stored_meanwhile_by_another_import_takes_in_the_members(tmp_path, db_path,
                                                                        place):
    from shequ_desktop.core.context import Context
    from shequ_desktop.transfer.importing import apply_plan

    head = ["孙一", make_id("1960-01-01", "1", seq=70), "户主", "9栋1单元101"]
    wife = ["孙二", make_id("1962-01-01", "2", seq=71), "妻", "9栋1单元101"]
    headers = [["姓名", "身份证号", "与户主关系", "现住址"]]
    both = read_table(write_book(tmp_path / "both.xlsx", headers, [], [head, wife]))
    alone = read_table(write_book(tmp_path / "alone.xlsx", headers, [], [head]))
    first, second = db.open_db(db_path), db.open_db(db_path)
    try:
        plan = build_plan(first, both)
        assert apply_plan(Context(second, "乙"), build_plan(second, alone),
                          place.grid)["created"] == 1
        counts = apply_plan(Context(first, "甲"), plan, place.grid)
        assert (counts["created"], counts["skipped"]) == (1, 1)
        rows = first.execute("SELECT name, household_id FROM residents ORDER BY name").fetchall()
        assert len(rows) == 2 and rows[0][1] == rows[1][1]
        assert first.execute("SELECT count(*) FROM households").fetchone()[0] == 1
    finally:
        first.close()
        second.close()
