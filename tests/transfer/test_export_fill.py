"""Filling the platform's own template (issue 16), read back from the files: a 天阙-shaped
template keeps its title rows, widths, merges and drop-downs; the GB/T 31000 template writes
codes, YYYYMMDD dates and 人户一致标识; a filled template imports back into an empty database
as the same records; bad templates are refused with nothing written."""
import datetime as dt
import json
import re
import zipfile

import pytest
import xlsxwriter
from python_calamine import CalamineWorkbook

import db
from shequ_desktop.core import audit
from shequ_desktop.cli import main as cli
from shequ_desktop.transfer import exporting
from shequ_desktop.places import grid
from shequ_desktop.population import residents
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.transfer.exporting import coding, fill
from shequ_desktop.transfer.importing import import_file
from tests.conftest import make_id
from tests.transfer.registers import AID_SUB, AID_TOP, tianque_rows

HEAD_ID = make_id("1970-05-06", "1")


def sheet_rows(path, name=None):
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(name or book.sheet_names[0]).to_python()


def sheet_xml(path, n=1):
    with zipfile.ZipFile(path) as z:
        return z.read(f"xl/worksheets/sheet{n}.xml").decode("utf-8")


def tianque_template(path, protect=False):
    """The 需要救助人员 register as the platform ships it: title, notes, 填报单位, header over two
    rows, widths, a 性别 drop-down down to row 1000, a hidden lookup sheet."""
    rows, merges = tianque_rows(AID_TOP, AID_SUB, "需要救助人员信息登记表")
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("需要救助人员登记表")
    for r, row in enumerate(rows):
        ws.write_row(r, 0, row)
    for r1, c1, r2, c2 in merges:          # blanks the cells it covers but the first
        ws.merge_range(r1, c1, r2, c2, rows[r1][c1])
    ws.set_column(0, 0, 11)
    ws.set_column(4, 4, 23)
    ws.data_validation(6, 2, 999, 2, {"validate": "list", "source": ["男", "女"]})
    if protect:
        ws.protect()
    lookup = book.add_worksheet("省市")
    lookup.write_row(0, 0, ["安徽", "北京"])
    lookup.protect()                   # a protected lookup sheet does not stop the filling
    lookup.hide()
    book.close()
    return path


@pytest.fixture
def town(ctx, family, place):
    hh, p = family
    residents.update_resident(ctx, p["wife"], {
        "separated": 1, "residence_type": "流动人口", "ethnicity": "回族", "religion": "伊斯兰教",
        "inflow_reason": "务工", "inflow_date": "2020-03-04", "permit_type": "居住证",
        "permit_number": "JZ-001", "permit_expires_on": "2027-03-03",
        "registered_on": "2020-03-10", "dwelling_type": "租赁房屋", "former_name": "李秀"})
    residents.update_resident(ctx, p["head"], {"ethnicity": "汉族"})
    coding.set_division_code(ctx.conn, "110105001001", "测试员")
    return p


def test_a_tianque_template_keeps_its_rows_widths_merges_and_drop_downs(tmp_path, conn, town):
    template = fill.open_template(tianque_template(tmp_path / "aid.xlsx"))
    assert (template.header.first_row, template.header.row) == (4, 5)
    plan = fill.plan_columns("residents", template.labels)
    by_header = {p.header: p.key for p in plan}
    assert by_header["姓名"] == "name" and by_header["身份证号码"] == "id_number"
    assert by_header["现住地址"] == "address" and by_header["户籍详细地址"] == "register_address"
    assert by_header["宗教信仰"] == "religion" and by_header["曾用名"] == "former_name"
    assert "救助原因" in fill.unfilled(plan) and "户籍地/省" in fill.unfilled(plan)

    out = tmp_path / "filled.xlsx"
    result = fill.fill(conn, template, plan, "residents", out, actor="网格员")
    assert result["rows"] == 3 and "身份证号码" in result["warning"]
    rows = sheet_rows(out)
    assert rows[0][1] == "需要救助人员信息登记表" and rows[2][0] == "填报单位："
    assert rows[4][0] == "姓名*" and rows[5][6] == "省*"
    first = dict(zip(AID_TOP, rows[6]))
    assert first["姓名*"] == "王建国" and first["性别*"] == "男"
    assert first["身份证号码*"] == HEAD_ID[:6] + "********" + HEAD_ID[-4:]
    assert first["出生日期"] == "1970-05-06"
    wife = dict(zip(AID_TOP, rows[7]))
    assert wife["民族*"] == "回族" and wife["宗教信仰"] == "伊斯兰教" and wife["曾用名"] == "李秀"
    xml = sheet_xml(out)
    assert 'width="11.7109375"' in xml and 'width="23.7109375"' in xml      # widths kept
    assert '<dataValidation type="list"' in xml and "C7:C1000" in xml      # drop-down kept
    assert '<mergeCell ref="A5:A6"/>' in xml
    book = CalamineWorkbook.from_path(str(out))
    assert [str(m.visible).rsplit(".", 1)[-1] for m in book.sheets_metadata] == [
        "Visible", "Hidden"]
    entry = audit.entries(conn, action="export")[0]
    detail = json.loads(entry["detail"])
    assert entry["actor"] == "网格员" and detail["rows"] == 3 and detail["unmask"] is False
    assert detail["files"] == [str(out)] and "救助原因" in detail["unfilled"]


def test_a_mapping_is_remembered_per_template_with_its_codings(tmp_path, conn, town):
    template = fill.open_template(tianque_template(tmp_path / "aid.xlsx"))
    plan = fill.plan_columns("residents", template.labels)
    gender = next(p.index for p in plan if p.key == "gender")
    other = next(p.index for p in plan if p.header == "其他地址")
    plan = fill.choose(plan, "residents", gender, "gender", code=True)
    plan = fill.choose(plan, "residents", other, "household_no")
    fill.remember(conn, template, plan)
    again = fill.open_template(tianque_template(tmp_path / "aid-copy.xlsx"))
    assert again.signature == template.signature
    replanned = fill.plan_columns("residents", again.labels, fill.remembered(conn, again))
    assert replanned[other].key == "household_no"
    assert replanned[gender].column.coding == "code"
    fill.fill(conn, again, replanned, "residents", tmp_path / "out.xlsx")
    assert dict(zip(AID_TOP, sheet_rows(tmp_path / "out.xlsx")[6]))["性别*"] == "1"


def test_the_gbt31000_template_writes_codes_compact_dates_and_the_match_flag(tmp_path, conn,
                                                                                 town):
    template = exporting.load("gbt31000_population")
    assert template.for_upload
    out = tmp_path / "gb.xlsx"
    result = exporting.export(conn, template, out, "xlsx", unmask=True)
    assert result["sheets"] == {"实有人口": 3, "户籍人口": 2, "流动人口": 1}
    rows = sheet_rows(out, "实有人口")
    people = {r[1]: dict(zip(rows[0], r)) for r in rows[1:]}
    head, wife = people["王建国"], people["李秀英"]
    assert head["公民身份号码"] == HEAD_ID and head["联系方式"] == "13912345678"
    assert head["性别"] == "1" and wife["性别"] == "2"
    assert head["民族"] == "01" and wife["民族"] == "03" and wife["宗教信仰"] == "70"
    assert head["出生日期"] == "19700506" and wife["出生日期"] == "19720308"
    assert head["人户一致标识"] == "01" and wife["人户一致标识"] == "02"
    assert head["现住地"] == "110105001001" and head["现住门（楼）详址"] == "阳光社区 1号楼1单元101"
    floating = sheet_rows(out, "流动人口")
    wife = dict(zip(floating[0], floating[1]))
    assert wife["姓名"] == "李秀英" and wife["流入原因"] == "01" and wife["办证类型"] == "01"
    assert wife["流入时间"] == "20200304" and wife["证件到期日期"] == "20270303"
    assert wife["证件号码"] == "JZ-001" and wife["住所类型"] == "03"
    registered = sheet_rows(out, "户籍人口")
    son = dict(zip(registered[0], registered[2]))
    assert son["户主公民身份号码"] == HEAD_ID and son["户主联系方式"] == "13912345678"
    assert son["与户主关系"] == "20"
    masked = exporting.export(conn, template, tmp_path / "masked.xlsx", "xlsx")
    assert "已脱敏" in masked["warning"] and "上传" in masked["warning"]


def test_a_filled_template_imports_back_as_the_same_records(tmp_path, conn, town, place):
    """Export into a template with title rows and codes → import into an empty database →
    the same people, households, codes and dates."""
    fields = ("name", "id_type", "id_number", "gender", "birth_date", "ethnicity",
              "relation_to_head", "residence_type", "separated", "phone", "political_status",
              "education", "marital_status", "occupation", "workplace", "health",
              "moved_in_at", "notes", "former_name", "native_place", "religion",
              "register_place", "inflow_reason", "inflow_date")
    residents.update_resident(Context(conn), town["son"], {
        "education": "大学本科", "marital_status": "未婚", "health": "健康", "notes": "=1+1",
        "former_name": "王小明", "native_place": "四川成都", "religion": "佛教",
        "register_place": "四川省成都市", "inflow_reason": "务工", "inflow_date": "2024-03-01"})
    header = ["户标识", "户号", "姓名", "证件类型", "公民身份号码", "性别", "出生日期", "民族",
              "与户主关系", "人口类型", "人户分离", "联系电话", "政治面貌", "文化程度", "婚姻状况",
              "职业", "工作单位", "健康状况", "迁入日期", "备注", "现住址", "曾用名", "籍贯",
              "宗教信仰", "户籍地", "流入原因", "流入时间"]
    path = tmp_path / "tpl.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet("人口")
    ws.write(0, 0, "阳光社区实有人口登记表")
    ws.write(1, 0, "填报单位：阳光社区")
    ws.write_row(2, 0, header)
    book.close()
    template = fill.open_template(path)
    plan = fill.plan_columns("residents", template.labels)
    assert fill.unfilled(plan) == []
    for p in list(plan):
        if p.column is not None and p.column.kind.startswith("code:"):
            plan = fill.choose(plan, "residents", p.index, p.key, code=True)
    out = tmp_path / "filled.xlsx"
    fill.fill(conn, template, plan, "residents", out, unmask=True)
    rows = sheet_rows(out)
    assert rows[0][0] == "阳光社区实有人口登记表" and rows[2] == header
    assert dict(zip(header, rows[3]))["民族"] == "01"

    def records(c):
        return sorted(tuple(r) for r in c.execute(f"""
            SELECT {', '.join('r.' + f for f in fields)}, h.household_no, hd.name
            FROM residents r JOIN households h ON h.id = r.household_id
            JOIN residents hd ON hd.id = h.head_resident_id WHERE r.status = '在册'"""))

    empty = db.open_db(tmp_path / "empty.db")
    ctx2 = Context(empty, "测试员")
    community = grid.create_unit(ctx2, None, "community", "新社区").id
    _plan, counts = import_file(ctx2, out, community)
    assert counts["created"] == 3 and counts["errors"] == 0
    assert records(empty) == records(conn)
    empty.close()


def test_an_xls_template_becomes_an_xlsx_with_its_title_rows_and_frozen_header(tmp_path, conn,
                                                                                   town):
    """.xls templates are reproduced (read as calamine reads an .xls; written with
    xlsxwriter): every sheet, merged cells above the data, widths measured for Chinese."""
    template = fill.open_template(tianque_template(tmp_path / "aid.xlsx"))
    template.kind = "xls"
    plan = fill.plan_columns("residents", template.labels)
    out = tmp_path / "from-xls.xlsx"
    fill.fill(conn, template, plan, "residents", out)
    rows = sheet_rows(out)
    assert rows[0][1] == "需要救助人员信息登记表" and rows[4][:3] == ["姓名*", "所属网格*", "性别*"]
    assert rows[6][0] == "王建国" and rows[6][14] == ""
    xml = sheet_xml(out)
    assert '<pane ySplit="6" topLeftCell="A7"' in xml and '<mergeCell ref="A5:A6"/>' in xml
    widths = {int(m[0]): float(m[1]) for m in re.findall(
        r'<col min="(\d+)" max="\d+" width="([\d.]+)"', xml)}
    assert widths[15] >= 20          # 工作单位或就读学校: nine characters, two columns each
    assert widths[5] >= 20           # 身份证号码: an 18-character number
    assert CalamineWorkbook.from_path(str(out)).sheets_metadata[1].name == "省市"


def test_bad_templates_are_refused_and_nothing_is_written(tmp_path, conn, town):
    text = tmp_path / "名单.xlsx"
    text.write_text("姓名,身份证号\n", encoding="utf-8")
    with pytest.raises(DomainError, match="“名单.xlsx”不是 Excel/WPS 表格文件"):
        fill.open_template(text)
    with pytest.raises(DomainError, match="工作表“需要救助人员登记表”设有保护"):
        fill.open_template(tianque_template(tmp_path / "locked.xlsx", protect=True))
    sealed = tmp_path / "sealed.xlsx"          # what Office writes for a password to open
    sealed.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504
                       + "EncryptionInfo".encode("utf-16-le") + b"\0" * 512)
    with pytest.raises(DomainError, match="设有打开密码"):
        fill.open_template(sealed)
    numbers = tmp_path / "numbers.xlsx"
    book = xlsxwriter.Workbook(str(numbers))
    book.add_worksheet().write_row(0, 0, [1, 2, 3])
    book.close()
    with pytest.raises(DomainError, match="没有认得出的表头"):
        fill.open_template(numbers)
    template = fill.open_template(tianque_template(tmp_path / "aid.xlsx"))
    plan = fill.plan_columns("residents", template.labels)
    with pytest.raises(DomainError, match="不存在"):
        fill.fill(conn, template, plan, "residents", tmp_path / "no" / "out.xlsx")
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".xlsx") == sorted([
        "名单.xlsx", "locked.xlsx", "sealed.xlsx", "numbers.xlsx", "aid.xlsx"])
    assert audit.entries(conn, action="export") == []


def test_a_working_export_has_real_dates_text_ids_and_widths_for_chinese(tmp_path, conn, town):
    out = tmp_path / "full.xlsx"
    exporting.export(conn, exporting.load("full_residents"), out, "xlsx", unmask=True)
    rows = sheet_rows(out)
    head = dict(zip(rows[0], rows[1]))
    assert head["出生日期"] == dt.date(1970, 5, 6)
    assert head["身份证号"] == HEAD_ID and head["联系电话"] == "13912345678"
    xml = sheet_xml(out)
    assert '<pane ySplit="1" topLeftCell="A2"' in xml and "<autoFilter ref=" in xml
    widths = {int(m[0]): float(m[1]) for m in re.findall(
        r'<col min="(\d+)" max="\d+" width="([\d.]+)"', xml)}
    assert widths[rows[0].index("户籍详址") + 1] >= 10      # 4 characters: 8 columns + margin
    assert widths[rows[0].index("身份证号") + 1] >= 20


def test_the_division_code_is_checked_and_audited(conn):
    with pytest.raises(DomainError, match="应为 6、9 或 12 位数字"):
        coding.set_division_code(conn, "11010")
    assert coding.set_division_code(conn, " 110105 ", "管理员") == "110105"
    assert coding.division_code(conn) == "110105"
    assert "110105" in audit.entries(conn, action="settings")[0]["summary"]


def test_the_command_line_fills_a_template(tmp_path, db_path, conn, town, capsys):
    template = tianque_template(tmp_path / "aid.xlsx")
    out = tmp_path / "aid-filled.xlsx"
    code = cli.main(["export", "--db", str(db_path), "--what", "residents", "--into",
                     str(template), "-o", str(out), "--for-upload", "--code", "性别"])
    assert code == 0
    err = capsys.readouterr().err
    assert "将留空" in err and "救助原因" in err
    first = dict(zip(AID_TOP, sheet_rows(out)[6]))
    assert first["身份证号码*"] == HEAD_ID and first["性别*"] == "1"
    assert json.loads(audit.entries(conn, action="export")[0]["detail"])["unmask"] is True


def test_a_focus_register_is_filled_with_one_group_and_the_resident_fields(tmp_path, db_path,
                                                                           ctx, conn, town):
    from shequ_desktop.population import tags
    tag = conn.execute("SELECT id FROM tags WHERE name = '残疾人'").fetchone()[0]
    other = conn.execute("SELECT id FROM tags WHERE name <> '残疾人'").fetchone()[0]
    tags.assign_tag(ctx, town["wife"], tag, "2024-01-01")
    tags.assign_tag(ctx, town["son"], other, "2024-01-01")
    out = tmp_path / "disabled.xlsx"
    assert cli.main(["export", "--db", str(db_path), "--what", "focus", "--into",
                     str(tianque_template(tmp_path / "aid.xlsx")), "-o", str(out),
                     "--tag", "残疾人"]) == 0
    rows = sheet_rows(out)[6:]
    assert len(rows) == 1
    wife = dict(zip(AID_TOP, rows[0]))
    assert (wife["姓名*"], wife["民族*"], wife["宗教信仰"]) == ("李秀英", "回族", "伊斯兰教")
    assert wife["现住地址*"] == "阳光社区 1号楼1单元101"
