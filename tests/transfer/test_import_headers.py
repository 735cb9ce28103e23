"""headers.locate on workbooks with the header rows of real registers (written here with
xlsxwriter, read back with calamine as the importer reads them)."""
import pytest

from shequ_desktop.transfer.importing import UnreadableFile, read_table
from shequ_desktop.transfer.importing.headers import locate
from shequ_desktop.transfer.importing.mapping import auto_mapping
from tests.conftest import make_id
from tests.transfer.registers import (AID_SUB, AID_TOP, OVERSEAS_TOP, VISIT_SUB, VISIT_TOP, tianque_rows,
                             write_book)


def rows_of(path):
    return read_table(path).rows


def person(width, **cells):
    row = [""] * width
    for k, v in cells.items():
        row[int(k[1:])] = v
    return row


def test_tianque_register_header_spans_two_rows_below_the_fill_in_unit_row(tmp_path):
    head, merges = tianque_rows(AID_TOP, AID_SUB, "需要救助人员信息登记表")
    data = [person(len(AID_TOP), c0="赵一", c4=make_id("1950-01-02"), c6="四川省", c7="成都市")]
    h = locate(rows_of(write_book(tmp_path / "aid.xlsx", head, merges, data)))
    assert (h.first_row, h.row) == (4, 5)
    assert h.labels[:9] == ["姓名", "所属网格", "性别", "出生日期", "身份证号码", "救助原因",
                            "户籍地/省", "户籍地/市", "户籍地/区县"]
    assert h.labels[11] == "现住地址" and h.labels[-1] == "备注"
    assert len(h.labels) == len(AID_TOP)
    mapping = auto_mapping(h.labels)
    assert mapping[0] == "name" and mapping[4] == "id_number" and mapping[6] is None


def test_grouped_sub_columns_are_labelled_with_their_group_and_duplicates_kept(tmp_path):
    head, merges = tianque_rows(VISIT_TOP, VISIT_SUB, "重点上访人员登记表")
    h = locate(rows_of(write_book(tmp_path / "visit.xlsx", head, merges, [])))
    assert h.labels[27:34] == ["正常上访/集体访", "正常上访/重复访", "异常访/越级访",
                               "异常访/进京访", "异常访/进省访", "异常访/集体访", "异常访/重复访"]
    assert h.labels[26] == "上访状态"


def test_section_row_above_a_two_row_header_is_left_out_of_the_labels(tmp_path):
    top = ["姓名*", "所属网格*", "性别*", "出生日期", "身份证号码*", "户籍地", "", "", "备注",
           "姓名", "身份证号", "联系手机", "固定电话", "现居地址", "", "", ""]
    sub = {5: "省*", 6: "市*", 7: "区县*", 13: "现居地址类型", 14: "小区/地址", 15: "幢",
           16: "单元"}
    head, merges = tianque_rows(top, sub, "育妇信息登记表", section={0: "女方信息", 9: "男方信息"})
    h = locate(rows_of(write_book(tmp_path / "women.xlsx", head, merges, [])))
    assert (h.first_row, h.row) == (4, 6)
    assert h.labels[0] == "姓名" and h.labels[9] == "姓名"          # both kept
    assert h.labels[5] == "户籍地/省" and h.labels[15] == "现居地址/幢"
    assert auto_mapping(h.labels)[9] is None                        # 姓名 goes to the first


def test_single_header_row_with_data_below_has_no_sub_header(tmp_path):
    head, merges = tianque_rows(OVERSEAS_TOP, {}, "境外人员信息登记表")
    data = [person(len(OVERSEAS_TOP), c0="JOHN SMITH", c2="男", c3="护照", c4="E1234567")]
    rows = rows_of(write_book(tmp_path / "overseas.xlsx", head, merges, data))
    h = locate(rows)
    assert (h.first_row, h.row) == (4, 4)
    assert h.labels[3] == "证件种类" and h.labels[0] == "英文名"


def test_a_merged_parent_over_two_phone_columns_combines_with_its_sub_labels(tmp_path):
    head = [["阳光社区流动人口登记表", "", "", "", ""],
            ["姓名", "公民身份号码", "联系方式", "", "现住址"],
            ["", "", "手机", "固话", ""]]
    merges = [(0, 0, 0, 4), (1, 0, 2, 0), (1, 1, 2, 1), (1, 2, 1, 3), (1, 4, 2, 4)]
    data = [["钱二", make_id("1990-03-04"), "13912345678", "028-12345678", "3栋2单元501"]]
    h = locate(rows_of(write_book(tmp_path / "flow.xlsx", head, merges, data)))
    assert (h.first_row, h.row) == (1, 2)
    assert h.labels == ["姓名", "公民身份号码", "联系方式/手机", "联系方式/固话", "现住址"]
    assert auto_mapping(h.labels)[2] == "phone"


def test_a_sheet_without_a_header_is_refused_in_chinese(tmp_path):
    path = write_book(tmp_path / "none.xlsx", [["2024年工作总结"]], [], [["今年走访 300 户"]])
    with pytest.raises(UnreadableFile, match="没有找到表头"):
        locate(rows_of(path))
