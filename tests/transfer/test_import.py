"""Importing real sheets the tests write (xlsx with xlsxwriter, CSV in UTF-8/BOM/GB18030),
with every problem of issue 5, into real SQLite files; exact outcomes checked."""
import datetime as dt

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

from shequ_desktop.core import audit, settings
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.transfer.importing import (UnreadableFile, apply_plan, build_plan, import_file,
                                     read_table, write_error_report)
from shequ_desktop.transfer.importing import apply as apply_mod
from shequ_desktop.transfer.importing import headers, mapping
from shequ_desktop.transfer.importing import plan as plan_mod
from shequ_desktop.transfer.importing.normalize import NUMERIC_ID
from shequ_desktop.core.progress import Cancelled
from tests.conftest import make_id

HEAD_ID = make_id("1960-05-06", "1", seq=1)
WIFE_ID = "11010519620308038x"                  # check digit X, written in lower case
SON_ID = make_id("2001-09-01", "1", seq=2)
FULL_WIDTH_SON = SON_ID.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
BAD_CHECK = make_id("1975-01-02", "2", seq=3)[:17] + "0"
if BAD_CHECK == make_id("1975-01-02", "2", seq=3):
    BAD_CHECK = BAD_CHECK[:17] + "1"
ZHOU_ID = make_id("1985-07-07", "1", seq=9)
HEADERS = ["序号", "户号", "姓 名", "公民身份号码", "与户主关系", "性别", "出生日期",
           "联系电话", "现住址", "备注"]


def write_xlsx(path, rows, headers=HEADERS, title="阳光社区居民信息登记表", sheet="居民"):
    """A sheet as grid workers keep it: a merged title, a subtitle, the header, the data."""
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet(sheet)
    top = 0
    if title:
        ws.merge_range(0, 0, 0, len(headers) - 1, title)
        ws.write(1, 0, "填表日期：2024年3月")
        top = 2
    ws.write_row(top, 0, headers)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    for r, row in enumerate(rows, start=top + 1):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif value is not None:
                ws.write(r, c, value)
    book.close()
    return path


def problem_rows():
    """Sheet rows 4…: every problem of the issue, with the outcome expected for each."""
    return [
        [1, "A001", "王建国", HEAD_ID, "户主", "男", "1960.5.6", "13912345678", "3栋2单元501", ""],
        [2, "A001", "李秀英", WIFE_ID, "妻", "女", "1962/03/08", 13812345678.0, "3栋2单元501",
         "  腿脚 不便 "],
        [3, "A001", "王小明", FULL_WIDTH_SON, "子", "", "2001年9月1日", "", "3-2-501", ""],
        [None] * 10,                                                           # blank row
        [4, "A002", "张伟", 1.10105198001011234e17, "户主", "", "", "", "3栋2单元502", ""],
        [5, "A003", "赵敏", BAD_CHECK, "户主", "", "", "", "5号楼101", ""],
        [6, "A003", "赵强", "", "子", "男", "19980101", "", "5号楼101", ""],
        [7, "A004", "孙丽", "", "户主", "女", 25000, "", "6号楼2单元301", ""],
        [8, "A004", "孙小", "", "女", "女", dt.date(2012, 4, 5), "", "6号楼2单元301", ""],
        [9, "A001", "王建国", HEAD_ID, "户主", "男", "19600506", "", "3栋2单元501", ""],
        [10, "", "刘洋", "", "户主", "男", "1990-01-01", "", "幸福花园7号楼1单元101", ""],
        [11, "", "刘一", "", "子", "男", "2020-02-02", "", "幸福花园7号楼1单元101", ""],
        [12, "", "陈默", "", "女", "女", "2015-01-01", "", "8号楼101", ""],
        [13, "A009", "钱多", "", "", "男", "1970-13-01", "", "9号楼101", ""],
        ["合计", "", "13人"],
    ]


def dump(conn):
    """Every table's content (the FTS shadow tables included)."""
    return {t: sorted(map(tuple, conn.execute(f"SELECT * FROM {t}")), key=repr) for (t,) in
            conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"
                         " AND sql NOT LIKE 'CREATE VIRTUAL TABLE%'")}


@pytest.fixture
def sheet(tmp_path):
    return write_xlsx(tmp_path / "居民.xlsx", problem_rows())


def red_cells(path) -> set[str]:
    """References of the cells highlighted in red (#FFC7CE) in the first sheet of an xlsx (read from
    its XML: styles.xml's fills and cellXfs, the sheet's style index per cell)."""
    import re
    import zipfile

    with zipfile.ZipFile(path) as z:
        styles = z.read("xl/styles.xml").decode()
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    fills = re.findall(r"<fill>(.*?)</fill>", styles, re.S)
    red = {i for i, f in enumerate(fills) if "FFC7CE" in f.upper()}
    xfs = re.search(r"<cellXfs[^>]*>(.*?)</cellXfs>", styles, re.S)[1]
    fill_of = [int(m) for m in re.findall(r'<xf [^>]*fillId="(\d+)"', xfs)]
    return {ref for ref, style in re.findall(r'<c r="([A-Z]+\d+)" s="(\d+)"', sheet)
            if fill_of[int(style)] in red}


def outcome(plan):
    return {row.line: (row.status, row.reason()) for row in plan.rows}


def test_reading_finds_header_below_titles_and_skips_blank_and_total_rows(conn, sheet):
    table = read_table(sheet)
    assert table.sheet == "居民"
    assert headers.find_header(table.rows) == 2
    plan = build_plan(conn, table)
    assert plan.headers[2] == "姓 名"
    assert plan.mapping == [None, "household_no", "name", "id_number", "relation_to_head",
                            "gender", "birth_date", "phone", "address", "notes"]
    assert [r.line for r in plan.rows] == [4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]


def test_dry_run_outcome_row_by_row(conn, ctx, place, sheet):
    before = dump(conn)
    plan = build_plan(conn, read_table(sheet))
    assert outcome(plan) == {
        4: ("new", ""), 5: ("new", ""), 6: ("new", ""),
        8: ("error", NUMERIC_ID),
        9: ("error", f"身份证号：校验位错误（末位应为 {make_id('1975-01-02', '2', seq=3)[17]}"
                     "，请核对号码）"),
        10: ("new", ""),           # issue 15: the head's error no longer holds back 赵强
        11: ("new", ""), 12: ("new", ""),
        13: ("error", "身份证号与第 4 行重复"),
        14: ("new", ""), 15: ("new", ""),
        16: ("error", "没有户号，同一地址前面也没有户主，无法确定所属的户"),
        17: ("error", "出生日期：“1970-13-01”不是有效日期"),
    }
    assert plan.counts() == {"rows": 13, "created": 8, "updated": 0, "unchanged": 0,
                             "skipped": 0, "errors": 5}
    assert plan.rows[5].warnings == [(4, "户主（第 9 行）有错误未导入，修正该行后再次导入即成为本户户主")]
    assert dump(conn) == before              # a dry run writes nothing


def test_values_are_normalised(conn, ctx, place, sheet):
    plan, counts = import_file(ctx, sheet, place.grid)
    assert counts["created"] == 8
    rows = {r["name"]: dict(r) for r in conn.execute("SELECT * FROM residents")}
    wife = rows["李秀英"]
    assert wife["id_number"] == WIFE_ID.upper()
    assert wife["phone"] == "13812345678"
    assert wife["birth_date"] == "1962-03-08"
    assert wife["notes"] == "腿脚 不便"
    assert wife["relation_to_head"] == "12"
    assert rows["王小明"]["id_number"] == SON_ID
    assert rows["王小明"]["birth_date"] == "2001-09-01"
    assert rows["王建国"]["relation_to_head"] == "02"
    assert rows["孙丽"]["birth_date"] == "1968-06-11"          # Excel serial 25000
    assert rows["孙小"]["birth_date"] == "2012-04-05"          # a date cell
    assert rows["刘一"]["relation_to_head"] == "20"


def test_households_and_places_beneath_the_target(conn, ctx, place, sheet):
    import_file(ctx, sheet, place.grid)
    got = conn.execute("""
        SELECT h.household_no, hd.name, b.name, u.name, ho.room_no, ho.floor,
               (SELECT group_concat(name, '、') FROM residents r WHERE r.household_id = h.id)
        FROM households h JOIN residents hd ON hd.id = h.head_resident_id
        JOIN houses ho ON ho.id = h.house_id JOIN grid_units u ON u.id = ho.unit_id
        JOIN grid_units b ON b.id = u.parent_id ORDER BY h.id""").fetchall()
    assert [tuple(r) for r in got] == [
        ("A001", "王建国", "3号楼", "2单元", "501", 5, "王建国、李秀英、王小明"),
        ("A004", "孙丽", "6号楼", "2单元", "301", 3, "孙丽、孙小"),      # A003 has no head yet
        (None, "刘洋", "7号楼", "1单元", "101", 1, "刘洋、刘一"),
    ]
    compound = conn.execute("SELECT parent_id, level FROM grid_units WHERE name = '幸福花园'"
                            ).fetchone()
    assert tuple(compound) == (place.grid, "compound")
    seven = conn.execute("SELECT parent_id FROM grid_units WHERE name = '7号楼'").fetchone()[0]
    assert conn.execute("SELECT name FROM grid_units WHERE id = ?", (seven,)).fetchone()[0] \
        == "幸福花园"
    # history and search index follow the write path
    assert conn.execute("SELECT count(*) FROM resident_events WHERE kind = '迁入'"
                        ).fetchone()[0] == 8
    from shequ_desktop.population.resident_list import ResidentQuery
    assert len(ResidentQuery(text="李秀英").ids(conn)) == 1


def test_import_is_audited_in_the_same_transaction(conn, ctx, place, sheet):
    import_file(ctx, sheet, place.grid)
    entry = audit.entries(conn, action="import")[0]
    assert entry["actor"] == "测试员"
    assert "新增 8 人" in entry["summary"]
    assert '"created": 8' in entry["detail"] and "居民.xlsx" in entry["detail"]
    assert audit.broken_links(conn) == []


def test_reimport_of_the_same_file_changes_nothing(conn, ctx, place, sheet):
    import_file(ctx, sheet, place.grid)
    before = [tuple(r) for r in conn.execute("SELECT * FROM residents ORDER BY id")]
    for mode in ("skip", "update", "fill"):
        plan, counts = import_file(ctx, sheet, place.grid, on_duplicate=mode)
        assert (counts["created"], counts["updated"], counts["unchanged"]) == (0, 0, 8), mode
    assert [tuple(r) for r in conn.execute("SELECT * FROM residents ORDER BY id")] == before


def test_duplicates_against_the_database_skip_update_fill(tmp_path, conn, ctx, family):
    """王建国 matched by ID (new phone, new occupation); 李秀英 matched by name + birth date +
    address (no ID in the sheet) with a workplace where hers is empty."""
    hh, p = family
    ctx_conn = conn
    from shequ_desktop.population import residents
    residents.update_resident(ctx, p["head"], {"occupation": "工人"})
    rows = [[1, "", "王建国", make_id("1970-05-06", "1"), "户主", "", "", "13700001111",
             "1号楼1单元101", "", "司机"],
            [2, "", "李秀英", "", "妻", "", "1972.3.8", "", "1-1-101", "", "区医院"]]
    path = write_xlsx(tmp_path / "dup.xlsx", rows, HEADERS + ["职业"], title=None)
    plan = build_plan(ctx_conn, read_table(path))
    assert [(r.match_id, r.match_how, r.status) for r in plan.rows] == [
        (p["head"], "身份证号", "skip"), (p["wife"], "姓名+出生日期+地址", "skip")]
    assert plan.counts()["skipped"] == 2
    # fill: only empty fields — the head's occupation stays, his phone was set: stays
    plan, counts = import_file(ctx, path, None, on_duplicate="fill")
    head = ctx.get("residents", p["head"])
    assert (head["phone"], head["occupation"]) == ("13912345678", "工人")
    assert ctx.get("residents", p["wife"])["occupation"] == "区医院"
    assert counts["updated"] == 1 and counts["unchanged"] == 1
    # update: non-empty values overwrite; empty cells never erase
    plan, counts = import_file(ctx, path, None, on_duplicate="update")
    head = ctx.get("residents", p["head"])
    assert (head["phone"], head["occupation"]) == ("13700001111", "司机")
    assert ctx.get("residents", p["wife"])["id_number"] == make_id("1972-03-08", "2")
    assert counts == {**counts, "created": 0, "updated": 1, "unchanged": 1}
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 3


def test_per_row_decision_overrides_the_default(tmp_path, conn, ctx, family):
    _, p = family
    rows = [[1, "", "王建国", make_id("1970-05-06", "1"), "户主", "", "", "13700001111",
             "", ""],
            [2, "", "李秀英", make_id("1972-03-08", "2"), "妻", "", "", "13700002222", "", ""]]
    path = write_xlsx(tmp_path / "d.xlsx", rows, title=None)
    plan = build_plan(conn, read_table(path), on_duplicate="skip")
    plan.set_decision("update", [plan.rows[1]])
    assert [r.status for r in plan.rows] == ["skip", "update"]
    apply_plan(ctx, plan, None)
    assert ctx.get("residents", p["head"])["phone"] == "13912345678"
    assert ctx.get("residents", p["wife"])["phone"] == "13700002222"


def test_new_member_joins_the_household_on_record(tmp_path, conn, ctx, family):
    hh, p = family
    conn.execute("UPDATE households SET household_no = 'H-1' WHERE id = ?", (hh,))
    rows = [[1, "H-1", "王小红", make_id("2005-05-05", "2", seq=7), "女", "", "", "", "", ""],
            [2, "H-1", "王大", make_id("1940-01-01", "1", seq=8), "户主", "", "", "", "", ""]]
    path = write_xlsx(tmp_path / "m.xlsx", rows, title=None)
    plan, counts = import_file(ctx, path, None)
    assert outcome(plan) == {2: ("new", ""), 3: (
        "error", "该户已登记户主，导入不更换户主（请在“户”页面设为户主）")}
    new = conn.execute("SELECT household_id, relation_to_head FROM residents WHERE name = '王小红'"
                       ).fetchone()
    assert tuple(new) == (hh, "30")


def test_failed_import_leaves_the_database_unchanged(monkeypatch, conn, ctx, place, sheet):
    import_file(ctx, write_xlsx(sheet.with_name("first.xlsx"), problem_rows()[:3]), place.grid)
    before = dump(conn)
    plan = build_plan(conn, read_table(sheet), on_duplicate="update")
    calls = {"n": 0}
    real = apply_mod.pinyin.initials

    def crash(name):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk on fire")
        return real(name)

    monkeypatch.setattr(apply_mod.pinyin, "initials", crash)
    with pytest.raises(RuntimeError):
        apply_plan(ctx, plan, place.grid)
    assert dump(conn) == before


def test_cancelled_import_leaves_the_database_unchanged(conn, ctx, place, tmp_path):
    born = [(dt.date(1950, 1, 1) + dt.timedelta(days=i)).isoformat() for i in range(12000)]
    rows = [[i, f"B{i:04d}", f"居民{i}", make_id(born[i], "1"), "户主", "", "", "",
             f"{i // 50 + 1}号楼{i % 50 + 1}01", ""] for i in range(12000)]
    path = write_xlsx(tmp_path / "big.xlsx", rows, title=None)
    plan = build_plan(conn, read_table(path))
    assert plan.counts()["created"] == 12000
    before = dump(conn)
    seen = []

    def progress(done, total):
        seen.append(done)
        return done < 10000              # the user presses cancel part-way

    with pytest.raises(Cancelled):
        apply_plan(ctx, plan, place.grid, progress=progress)
    assert seen and max(seen) >= 10000
    assert dump(conn) == before


def test_all_or_nothing_imports_nothing_when_a_row_is_wrong(conn, ctx, place, sheet):
    before = dump(conn)
    plan = build_plan(conn, read_table(sheet))
    with pytest.raises(DomainError, match="有 5 行错误"):
        apply_plan(ctx, plan, place.grid, all_or_nothing=True)
    assert dump(conn) == before


def test_error_report_highlights_cells_and_imports_again_after_fixing(tmp_path, conn, ctx,
                                                                      place, sheet):
    plan, counts = import_file(ctx, sheet, place.grid)
    out = tmp_path / "errors.xlsx"
    assert write_error_report(plan, out) == 5
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("错误行").to_python()
    assert rows[0] == HEADERS + ["错误原因", "原行号"]
    assert [r[-1] for r in rows[1:]] == [8.0, 9.0, 13.0, 16.0, 17.0]
    assert rows[1][3] == "110105198001011200"    # as the sheet kept it: the last digits are lost
    assert rows[1][-2] == NUMERIC_ID
    assert all(isinstance(c, str) for r in rows[1:] for c in r[:-1])
    # highlighted: the IDs of lines 8, 9, 13; the relation of line 16; the date of 17
    assert red_cells(out) == {"D2", "D3", "D4", "E5", "G6"}
    # fix the rows in the report itself and import it again
    fixed = [list(r[:-2]) for r in rows[1:]]
    fixed[0][3] = make_id("1980-01-01", "1", seq=11)
    fixed[1][3] = make_id("1975-01-02", "2", seq=3)
    fixed[2][3] = make_id("1960-05-07", "1", seq=12)
    fixed[2][2] = "王建民"
    fixed[2][1] = "A010"
    fixed[2][6] = ""
    fixed[3][4] = "户主"
    fixed[4][6] = "1970-12-01"
    fixed[4][4] = "户主"
    again = write_xlsx(tmp_path / "fixed.xlsx", fixed, rows[0][:-2], title=None)
    plan, counts = import_file(ctx, again, place.grid)
    assert counts["errors"] == 0 and counts["created"] == 5, outcome(plan)
    # 赵强 came in the first time; 赵敏, fixed, is now the head of that household (A003)
    got = conn.execute("""SELECT hd.name, (SELECT group_concat(name, '、') FROM residents r
                          WHERE r.household_id = h.id) FROM households h
                          JOIN residents hd ON hd.id = h.head_resident_id
                          WHERE h.household_no = 'A003'""").fetchall()
    assert [tuple(r) for r in got] == [("赵敏", "赵强、赵敏")]
    assert conn.execute("SELECT count(*) FROM residents").fetchone()[0] == 13


def test_csv_encodings_are_detected(tmp_path, conn, ctx, place):
    text = ("姓名,身份证号,与户主关系,现住址\n"
            f"王芳,{make_id('1990-02-02', '2', seq=20)},户主,3栋1单元101\n"
            f"王磊,{make_id('2015-02-02', '1', seq=21)},子,3栋1单元101\n")
    for encoding, label in (("gb18030", "GB18030"), ("utf-8-sig", "UTF-8 (BOM)"),
                            ("utf-8", "UTF-8"), ("gbk", "GB18030")):
        path = tmp_path / f"{encoding}.csv"
        path.write_bytes(text.encode(encoding))
        table = read_table(path)
        assert table.encoding == label
        assert table.rows[1][0] == "王芳"
    plan, counts = import_file(ctx, tmp_path / "gb18030.csv", place.grid)
    assert counts["created"] == 2 and counts["errors"] == 0


def test_unreadable_files_say_why(tmp_path, conn):
    with pytest.raises(UnreadableFile, match="找不到文件"):
        read_table(tmp_path / "nope.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(UnreadableFile, match="无法打开“bad.xlsx”"):
        read_table(bad)
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("姓名\n".encode("utf-16"))
    with pytest.raises(UnreadableFile, match="UTF-16"):
        read_table(utf16)
    no_header = write_xlsx(tmp_path / "x.xlsx", [["a", "b"]], headers=["甲", "乙"], title=None)
    with pytest.raises(UnreadableFile, match="没有找到表头"):
        build_plan(conn, read_table(no_header))
    with pytest.raises(UnreadableFile, match="没有名为“其他”的工作表"):
        read_table(no_header, "其他")


def test_a_confirmed_mapping_is_remembered_for_the_same_headers(tmp_path, conn, ctx, place):
    headers = ["名字", "号码", "关系"]
    rows = [["王芳", make_id("1990-02-02", "2", seq=20), "户主"]]
    path = write_xlsx(tmp_path / "odd.xlsx", rows, headers, title=None)
    table = read_table(path)
    assert mapping.auto_mapping(headers) == [None, None, "relation_to_head"]
    with pytest.raises(UnreadableFile, match="没有“姓名”列"):
        build_plan(conn, table, header_row=0)
    plan = build_plan(conn, table, ["name", "id_number", "relation_to_head"], header_row=0)
    apply_plan(ctx, plan, place.grid)
    assert mapping.mapping_for(conn, [" 名字", "号码", "关系 "]) == [
        "name", "id_number", "relation_to_head"]
    assert settings.get(conn, mapping.SETTINGS_PREFIX + mapping.signature(headers)) == [
        "name", "id_number", "relation_to_head"]


def test_header_synonyms_ignore_spaces_full_width_and_notes():
    assert mapping.guess("公民身份号码") == "id_number"
    assert mapping.guess("证件号码") == "id_number"
    assert mapping.guess("  联系方式 ") == "phone"
    assert mapping.guess("手机号*") == "phone"
    assert mapping.guess("姓　名（必填）") == "name"
    assert mapping.guess("与户主关系") == "relation_to_head"
    assert mapping.guess("户号") == "household_no"
    assert mapping.guess("居住地址") == "address"
    assert mapping.guess("现住址") == "address"
    assert mapping.guess("户主姓名") == "head_name"
    assert mapping.guess("ＩＤ") is None


def test_rows_without_household_number_group_by_head_and_address(tmp_path, conn, ctx, place):
    rows = [["周一", "户主", "8号楼101"], ["周二", "子", "8号楼101"],
            ["吴一", "户主", "8号楼102"], ["吴二", "妻", "8号楼102"],
            ["郑一", "户主", "某某村"], ["郑二", "子", "某某村"]]
    path = write_xlsx(tmp_path / "g.xlsx", rows, ["姓名", "与户主关系", "现住址"], title=None)
    plan, counts = import_file(ctx, path, place.grid)
    assert counts["created"] == 6
    got = conn.execute("""SELECT hd.name, group_concat(r.name, ''), h.house_id IS NULL, h.notes
        FROM households h JOIN residents hd ON hd.id = h.head_resident_id
        JOIN residents r ON r.household_id = h.id GROUP BY h.id ORDER BY h.id""").fetchall()
    assert [tuple(r) for r in got] == [("周一", "周一周二", 0, None), ("吴一", "吴一吴二", 0, None),
                                       ("郑一", "郑一郑二", 1, "导入地址：某某村")]


def test_two_heads_in_one_household_and_a_household_without_head(tmp_path, conn, ctx, place):
    rows = [["C1", "甲", "户主"], ["C1", "乙", "户主"], ["C2", "丙", "子"]]
    path = write_xlsx(tmp_path / "h.xlsx", rows, ["户号", "姓名", "与户主关系"], title=None)
    plan = build_plan(conn, read_table(path))
    assert outcome(plan) == {2: ("new", ""), 3: ("error", "同一户有多个户主（第 2 行已是户主）"),
                             4: ("error", "该户没有户主（与户主关系为“户主”的成员）")}


def test_masked_ids_are_refused_with_a_reason(tmp_path, conn):
    rows = [["王芳", "110105********1234", "138****5678", "户主"]]
    path = write_xlsx(tmp_path / "m.xlsx", rows, ["姓名", "身份证号", "联系电话", "与户主关系"],
                      title=None)
    plan = build_plan(conn, read_table(path))
    assert plan.rows[0].reason() == ("身份证号已脱敏（含 *），请导出完整号码后再导入；"
                                     "联系电话已脱敏（含 *），请导出完整号码后再导入")


def test_target_must_be_above_buildings(conn, ctx, place, sheet):
    plan = build_plan(conn, read_table(sheet))
    with pytest.raises(DomainError, match="请选择社区、网格或小区"):
        apply_plan(ctx, plan, place.building)
    with pytest.raises(DomainError, match="请选择导入到哪个社区或网格"):
        apply_plan(ctx, plan, None)


def test_second_sheet_by_name(tmp_path, conn):
    path = tmp_path / "two.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("说明").write(0, 0, "本表说明")
    ws = book.add_worksheet("人员")
    ws.write_row(0, 0, ["姓名", "与户主关系"])
    ws.write_row(1, 0, ["王芳", "户主"])
    book.close()
    from shequ_desktop.transfer.importing import sheet_names
    assert sheet_names(path) == ["说明", "人员"]
    plan = build_plan(conn, read_table(path, "人员"))
    assert plan.counts()["created"] == 1


def test_context_user_is_the_actor(conn, place, sheet):
    ctx = Context(conn, "网格员小李")
    import_file(ctx, sheet, place.grid)
    assert audit.entries(conn, action="import")[0]["actor"] == "网格员小李"


def test_existing_buildings_units_and_rooms_are_reused(tmp_path, conn, ctx, place):
    """1号楼/1单元/102 exist under 第一网格: a new household there makes no new units or rooms,
    whichever way the address is written; a new room in the same unit is added to it."""
    rows = [["A", "甲", "户主", "1号楼1单元102"], ["B", "乙", "户主", "1-1-103"],
            ["C", "丙", "户主", "1栋1单元102室"]]
    path = write_xlsx(tmp_path / "p.xlsx", rows, ["户号", "姓名", "与户主关系", "现住址"],
                      title=None)
    units_before = conn.execute("SELECT count(*) FROM grid_units").fetchone()[0]
    plan, counts = import_file(ctx, path, place.community)
    assert (counts["units_created"], counts["houses_created"]) == (0, 1)
    assert conn.execute("SELECT count(*) FROM grid_units").fetchone()[0] == units_before
    got = dict(conn.execute("SELECT household_no, house_id FROM households"))
    assert got["A"] == got["C"] == place.house2
    assert conn.execute("SELECT unit_id, room_no, floor FROM houses WHERE id = ?",
                        (got["B"],)).fetchone()[:] == (place.unit, "103", 1)


def _read(plan):
    return [(r.line, r.values, sorted(r.given), r.relation, r.kind, r.household_no,
             r.address_text, r.address, r.errors) for r in plan.rows]


def test_second_process_reads_rows_exactly_as_this_one(monkeypatch, conn, sheet):
    here = build_plan(conn, read_table(sheet), today=dt.date(2024, 6, 1))
    monkeypatch.setattr(plan_mod, "PARALLEL_ROWS", 2)
    started = []
    real = plan_mod._SecondProcess

    def spy(*args):
        helper = real(*args)
        started.append(helper.process)
        return helper

    monkeypatch.setattr(plan_mod, "_SecondProcess", spy)
    split = build_plan(conn, read_table(sheet), today=dt.date(2024, 6, 1))
    assert len(started) == 1 and started[0].returncode == 0      # it ran and finished well
    assert _read(split) == _read(here)
    assert outcome(split) == outcome(here)


@pytest.mark.parametrize("executable", ["python-fails", "python-missing", "", "/bin/sleep"])
def test_a_second_process_that_fails_or_cannot_start_changes_nothing(monkeypatch, conn, sheet,
                                                                     tmp_path, executable):
    """A Python that fails, one that is not there, an embedded program with no executable,
    and a program that is not Python at all (a frozen app's launcher would start itself)."""
    here = build_plan(conn, read_table(sheet))
    if executable == "python-fails":
        script = tmp_path / "python3"
        script.write_text("#!/bin/sh\nexit 1\n")
        script.chmod(0o755)
        executable = str(script)
    elif executable == "python-missing":
        executable = str(tmp_path / "python3")
    monkeypatch.setattr(plan_mod, "PARALLEL_ROWS", 2)
    monkeypatch.setattr(plan_mod.sys, "executable", executable)
    split = build_plan(conn, read_table(sheet))
    assert _read(split) == _read(here)


def test_cancelling_the_dry_run_ends_the_second_process(monkeypatch, conn, sheet):
    monkeypatch.setattr(plan_mod, "PARALLEL_ROWS", 2)
    started = []
    real = plan_mod._SecondProcess

    def spy(*args):
        helper = real(*args)
        started.append(helper.process)
        return helper

    monkeypatch.setattr(plan_mod, "_SecondProcess", spy)
    with pytest.raises(Cancelled):
        build_plan(conn, read_table(sheet), progress=lambda done, total: False)
    assert len(started) == 1 and started[0].returncode is not None   # ended, not left running
