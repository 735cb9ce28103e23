"""The field registry: every field described once (DESIGN.md §3).

Forms, table columns, import header mapping, exports, ledgers and masking are generated from it.
Adding a field is one entry here plus one migration in db/schema.py.
"""
from __future__ import annotations

from dataclasses import dataclass

KINDS = ("text", "code", "date", "int", "float", "bool", "id_number", "phone")


@dataclass(frozen=True)
class Field:
    name: str
    label: str
    kind: str = "text"
    code_table: str | None = None
    required: bool = False
    sensitive: bool = False
    synonyms: tuple[str, ...] = ()
    width: int = 8          # display width, in Chinese characters
    editable: bool = True   # False: derived or changed only by a dedicated action
    max_length: int = 200
    multiline: bool = False  # text that keeps its line breaks (notes)
    mask: str | None = None  # how exports, ledgers and the audit trail hide it: "id", "phone"
    ledger: bool = False     # a column of the entity's printed ledger (shequ_desktop/reports/ledger_rows.py)
    min_chars: int = 0       # ledger: a number this many characters long fits its column on
                             # one line (18 for an ID number, 11 for a mobile phone)


RESIDENT_FIELDS = (
    Field("name", "姓名", required=True, synonyms=("居民姓名", "人员姓名", "成员姓名", "英文名",
                                                "中文名", "外文姓名", "英文姓名"),
          width=5, max_length=50, ledger=True),
    Field("id_type", "证件类型", "code", "id_type", synonyms=("证件种类",), width=6),
    Field("id_number", "身份证号", "id_number", sensitive=True,
          synonyms=("公民身份号码", "身份证号码", "证件号码", "证件号", "身份证"), width=11,
          mask="id", ledger=True, min_chars=18),
    Field("gender", "性别", "code", "gender", synonyms=("性 别",), width=2, ledger=True),
    Field("birth_date", "出生日期", "date", synonyms=("出生年月", "出生年月日", "生日"), width=6,
          ledger=True, min_chars=10),
    Field("ethnicity", "民族", "code", "ethnicity", width=4, ledger=True),
    Field("relation_to_head", "与户主关系", "code", "relation", editable=False,
          synonyms=("与户主的关系", "关系", "家庭关系"), width=5, ledger=True),
    Field("residence_type", "人口类型", "code", "residence_type",
          synonyms=("户籍类型", "人口类别", "居住类型", "户籍性质"), width=5, ledger=True),
    Field("separated", "人户分离", "bool", synonyms=("是否人户分离",), width=4),
    Field("phone", "联系电话", "phone", sensitive=True,
          synonyms=("手机号", "手机号码", "联系方式", "电话", "电话号码", "手机", "联系手机",
                    "移动电话", "本人电话"), width=7, mask="phone", ledger=True, min_chars=12),
    Field("political_status", "政治面貌", "code", "political_status", width=5, ledger=True),
    Field("education", "文化程度", "code", "education", synonyms=("学历",), width=5,
          ledger=True),
    Field("marital_status", "婚姻状况", "code", "marital_status", synonyms=("婚姻状态",), width=4),
    Field("occupation", "职业", synonyms=("工作",), width=6),
    Field("workplace", "工作单位", synonyms=("单位", "就业单位", "服务处所", "工作单位或就读学校",
                                          "工作单位或学校", "工作/学习单位"), width=8),
    Field("health", "健康状况", "code", "health", synonyms=("身体状况",), width=5),
    Field("status", "状态", "code", "resident_status", editable=False,
          synonyms=("人员状态",), width=3),
    Field("moved_in_at", "迁入日期", "date", synonyms=("迁入时间", "入住日期"), width=6),
    Field("moved_out_at", "迁出日期", "date", editable=False, synonyms=("迁出时间",), width=6),
    Field("moved_out_to", "迁往地", editable=False, synonyms=("迁往地址", "去向"), width=8),
    Field("death_date", "死亡日期", "date", editable=False, width=6),
    Field("notes", "备注", synonyms=("说明",), width=10, max_length=2000, multiline=True,
          ledger=True),
    # GB/T 31000-2015 items (issue 16), migration m012_standard_fields
    Field("former_name", "曾用名", synonyms=("曾用名/别名", "别名"), width=5, max_length=50),
    Field("native_place", "籍贯", synonyms=("籍贯地",), width=8, max_length=100),
    Field("religion", "宗教信仰", "code", "religion", synonyms=("宗教",), width=5),
    Field("register_place", "户籍地", synonyms=("户籍所在地", "原户籍地", "户口所在地"), width=8,
          max_length=100),
    Field("register_address", "户籍详址", synonyms=(
        "户籍门（楼）详址", "户籍门(楼)详址", "户籍详细地址", "户籍地详址", "户籍地址"), width=12),
    Field("inflow_reason", "流入原因", "code", "inflow_reason", synonyms=("来本地原因",),
          width=5),
    Field("inflow_date", "流入时间", "date", synonyms=("流入日期", "来本地时间", "来本地日期"),
          width=6),
    Field("permit_type", "办证类型", "code", "permit_type", synonyms=("居住证件类型",),
          width=5),
    Field("permit_number", "居住证件号码", synonyms=("居住证号", "居住证号码",
                                                     "暂住证号"), width=10, max_length=50),
    Field("permit_expires_on", "证件到期日期", "date",
          synonyms=("证件有效期结束时间", "证件有效期至", "有效期截至时间", "居住证到期日期"),
          width=6),
    Field("registered_on", "登记日期", "date", synonyms=("登记时间",), width=6),
    Field("dwelling_type", "住所类型", "code", "dwelling_type", synonyms=("居住处所类型", "居所类型"),
          width=5),
)

HOUSEHOLD_FIELDS = (
    Field("household_no", "户号", synonyms=("户编号", "户口号"), width=6, max_length=30),
    Field("kind", "户别", "code", "household_kind", synonyms=("户类型", "户口类别"), width=4),
    Field("phone", "户联系电话", "phone", sensitive=True, synonyms=("家庭电话",), width=7,
          mask="phone"),
    Field("status", "户状态", editable=False, width=3),
    Field("notes", "备注", width=10, max_length=2000, multiline=True),
)

HOUSE_FIELDS = (
    Field("room_no", "房号", required=True, synonyms=("门牌号", "房间号", "室"), width=4,
          max_length=20),
    Field("floor", "楼层", "int", synonyms=("层",), width=3),
    Field("area", "面积(㎡)", "float", synonyms=("建筑面积", "面积"), width=4),
    Field("usage", "房屋用途", "code", "house_usage", required=True,
          synonyms=("用途", "使用情况", "房屋状态"), width=4),
    Field("owner_name", "产权人", synonyms=("房主", "房主姓名", "业主"), width=5, max_length=50),
    Field("owner_phone", "产权人电话", "phone", sensitive=True, synonyms=("房主电话", "业主电话"),
          width=7, mask="phone"),
    Field("owner_id_number", "产权人证件号", "id_number", sensitive=True,
          synonyms=("房主身份证号", "业主身份证号"), width=11, mask="id"),
    Field("notes", "备注", width=10, max_length=2000, multiline=True),
)

GRID_UNIT_FIELDS = (
    Field("name", "名称", required=True, width=8, max_length=50),
    Field("code", "编码", synonyms=("代码",), width=8, max_length=30),
    Field("floors", "层数", "int", width=3),
    Field("notes", "备注", width=10, max_length=2000, multiline=True),
)

TAG_FIELDS = (
    Field("name", "名称", required=True, width=6, max_length=30),
    Field("visit_interval_days", "走访周期(天)", "int", width=4),
)

VOLUNTEER_FIELDS = (
    Field("name", "姓名", required=True, synonyms=("志愿者姓名",), width=5, max_length=50),
    Field("id_number", "身份证号", "id_number", sensitive=True,
          synonyms=("公民身份号码", "身份证号码", "证件号码", "身份证"), width=11, mask="id"),
    Field("gender", "性别", "code", "gender", width=2),
    Field("birth_date", "出生日期", "date", synonyms=("出生年月",), width=6),
    Field("phone", "联系电话", "phone", sensitive=True, synonyms=("手机号", "手机号码", "电话"),
          width=7, mask="phone"),
    Field("skills", "技能特长", synonyms=("特长", "专业技能"), width=10),
    Field("joined_on", "加入日期", "date", required=True, synonyms=("注册日期", "入队日期"),
          width=6),
    Field("left_on", "退出日期", "date", editable=False, width=6),
    Field("status", "状态", editable=False, width=3),
    Field("notes", "备注", width=10, max_length=2000, multiline=True),
)

ACTIVITY_FIELDS = (
    Field("title", "活动名称", required=True, synonyms=("活动主题", "项目名称"), width=12,
          max_length=100),
    Field("category", "服务类别", "code", "activity_category", required=True,
          synonyms=("活动类别", "服务类型"), width=5),
    Field("organiser", "组织单位", synonyms=("主办单位", "组织方"), width=8, max_length=100),
    Field("place", "活动地点", synonyms=("地点", "服务地点"), width=8, max_length=100),
    Field("notes", "备注", width=10, max_length=2000, multiline=True),
)

# Columns of an import sheet that are not stored as such: they place and group the rows
# (shequ_desktop/transfer/importing). 户标识 is the stable household key our exports write.
IMPORT_FIELDS = (
    Field("address", "现住址", synonyms=("居住地址", "现居住地址", "住址", "地址", "家庭住址",
                                         "现居住地", "居住地", "房屋地址", "现住地址", "现居地址",
                                         "实际居住地址", "居住详址", "门牌号", "门牌地址",
                                         "现住详址"), width=12),
    Field("head_name", "户主姓名", synonyms=("户主名称",), width=5),
    Field("head_id_number", "户主身份证号", synonyms=("户主公民身份号码", "户主身份证号码",
                                                 "户主证件号码"), width=11),
    Field("household_key", "户标识", synonyms=("户编码", "家庭标识"), width=8),
)

REGISTRY: dict[str, tuple[Field, ...]] = {
    "residents": RESIDENT_FIELDS,
    "households": HOUSEHOLD_FIELDS,
    "houses": HOUSE_FIELDS,
    "grid_units": GRID_UNIT_FIELDS,
    "tags": TAG_FIELDS,
    "volunteers": VOLUNTEER_FIELDS,
    "activities": ACTIVITY_FIELDS,
}

ENTITY_LABELS = {
    "residents": "居民", "households": "户", "houses": "房屋", "grid_units": "网格单元",
    "tags": "重点人群类别", "resident_tags": "重点人群标记",
    "volunteers": "志愿者", "volunteer_teams": "志愿服务队", "activities": "志愿活动",
    "service_records": "服务记录", "point_adjustments": "积分调整", "point_redemptions": "积分兑换",
    "visits": "走访记录", "events": "事件", "event_log": "事件处理记录",
    "event_categories": "事件类别", "resident_events": "居民变动记录", "users": "用户",
    "ledger": "台账", "settings": "设置", "focus": "重点人群", "sync_package": "数据交换包",
    "sync_conflicts": "合并冲突", "services": "一老一小服务", "microgrids": "微网格",
    "microgrid_households": "微网格的户", "meetings": "议事会议",
    "meeting_participants": "参会人员", "meeting_items": "议定事项", "meeting_attachments": "会议附件",
    "checkups": "社区体检", "checkup_results": "体检结果", "checkup_findings": "整改事项",
    "site_plans": "小区平面图", "site_plan_buildings": "平面图上的楼栋",
    "checkup_photos": "体检照片",
}


def fields(entity: str) -> tuple[Field, ...]:
    return REGISTRY[entity]


def field(entity: str, name: str) -> Field:
    for f in REGISTRY[entity]:
        if f.name == name:
            return f
    raise KeyError(f"{entity}.{name}")
