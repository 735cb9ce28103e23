"""Workbooks shaped like the registers grid workers are handed (tests write them; no file of
a platform is shipped): the header rows of the 天阙 platform's blank templates (header texts
only, see /work/shared/templates/README.md) and of flat 流动人口/实有人口 lists, filled with
generated people."""
from __future__ import annotations

import datetime as dt

import xlsxwriter

NOTES = ("填写注意事项：\n1.表格中带有*的单元格，为必须填入的数据项目，否则将会出现数据无法导入系统"
         "的情况。\n4.出生日期填写格式为 年-月-日，如2008-08-08。")
FILLER = ["填报单位：", "某某省", "省*", "某某市", "市*", "某某区", "市/县/区*", "某某镇",
          "乡镇/街道*", "某某社区", "社区/村*"]

# 天阙 需要救助人员 (AIDNEEDPOPULATION): header row and its sub-header row.
AID_TOP = ["姓名*", "所属网格*", "性别*", "出生日期", "身份证号码*", "救助原因*", "户籍地", "", "",
           "关注程度", "户籍详细地址", "现住地址*", "其他地址", "曾用名", "工作单位或就读学校",
           "联系电话", "联系手机", "电子邮箱", "民族*", "政治面貌*", "文化程度*", "职业",
           "婚姻状况*", "血型", "宗教信仰", "身高(CM)", "是否低保", "困难证号", "困难类型",
           "领取金额(元)", "领取时间", "享受起始时间", "享受人数", "享受地区", "备注"]
AID_SUB = {6: "省*", 7: "市*", 8: "区县*"}
# 天阙 重点上访人员 (SUPERIORVISIT): two groups of sub columns.
VISIT_TOP = ["姓名*", "所属网格*", "性别", "出生日期", "身份证号码*", "上访原因*", "户籍地", "",
             "", "关注程度", "户籍详细地址", "现住地址*", "其他地址", "曾用名", "工作单位或就读学校",
             "联系电话", "联系手机", "电子邮箱", "民族*", "政治面貌*", "文化程度*", "职业",
             "婚姻状况*", "血型", "宗教信仰", "身高", "上访状态", "正常上访", "", "异常访", "",
             "", "", "", "备注"]
VISIT_SUB = {6: "省*", 7: "市*", 8: "区县*", 27: "集体访", 28: "重复访", 29: "越级访",
             30: "进京访", 31: "进省访", 32: "集体访", 33: "重复访"}
# 天阙 境外人员 (OVERSEASTAFF): one header row.
OVERSEAS_TOP = ["英文名*", "所属网格*", "性别*", "*证件种类", "证件号码*", "出生日期", "中文名",
                "流入原因", "国籍", "邮箱", "工作单位或就读学校", "职业", "固定电话", "联系手机",
                "证件有效期开始时间", "证件有效期结束时间", "抵达时间", "离开时间", "备注"]


def tianque_rows(top: list[str], sub: dict[int, str], title: str,
                 section: dict[int, str] | None = None) -> tuple[list[list], list[tuple]]:
    """The rows above the data of a 天阙 template (version cell, title, notes, 填报单位 row, a
    blank row, [a section row,] the header and its sub-header) and its merged ranges."""
    width = len(top)
    rows = [["1.0", title] + [""] * (width - 2), ["", NOTES] + [""] * (width - 2),
            FILLER + [""] * (width - len(FILLER)), [""] * width]
    merges = [(0, 1, 0, 11), (1, 1, 1, 11)]
    if section:
        starts = sorted(section)
        rows.append([section.get(k, "") for k in range(width)])
        for a, b in zip(starts, starts[1:] + [width]):
            merges.append((4, a, 4, b - 1))
    h = len(rows)
    rows.append(list(top))
    rows.append([sub.get(k, "") for k in range(width)] if sub else None)
    if not sub:
        rows.pop()
        return rows, merges
    for k, label in enumerate(top):
        if label and k not in sub:
            merges.append((h, k, h + 1, k))             # vertical: one header over two rows
        elif label:
            end = k
            while end + 1 < width and not top[end + 1] and end + 1 in sub:
                end += 1
            if end > k:
                merges.append((h, k, h, end))
    return rows, merges


def write_book(path, head_rows: list[list], merges: list[tuple], data: list[list],
               sheet: str = "登记表", below: list[list] = ()) -> str:
    """An .xlsx with the given rows above the data, merged like the template, then the data
    rows (dates as date cells) and any rows below (footnotes)."""
    book = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False})
    ws = book.add_worksheet(sheet)
    date_format = book.add_format({"num_format": "yyyy-mm-dd"})
    merged = set()
    every = [*head_rows, *data]
    for r1, c1, r2, c2 in merges:
        ws.merge_range(r1, c1, r2, c2, every[r1][c1])
        merged |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r, row in enumerate(head_rows):
        for c, value in enumerate(row):
            if value != "" and (r, c) not in merged:
                ws.write(r, c, value)
    for r, row in enumerate([*data, *below], start=len(head_rows)):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                ws.write_datetime(r, c, dt.datetime.combine(value, dt.time()), date_format)
            elif value is not None and value != "":
                ws.write(r, c, value)
    book.close()
    return str(path)

# 天阙 社区矫正人员 (RECTIFICATIVEPERSON): a focus-group register with its own columns.
RECTIFY_TOP = ["姓名*", "所属网格*", "性别*", "出生日期", "身份证号码*", "社区矫正开始时间*",
               "社区矫正结束时间*", "原判刑期", "刑法执行类别*", "籍贯", "", "", "户籍详细地址",
               "现住地址*", "其他地址", "曾用名", "工作单位或就读学校", "联系电话", "联系手机",
               "电子邮箱", "民族*", "政治面貌*", "文化程度*", "职业", "婚姻状况*", "血型",
               "宗教信仰", "身高(CM)", "近况描述", "备注"]
RECTIFY_SUB = {9: "省*", 10: "市*", 11: "县*"}
