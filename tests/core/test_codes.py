import json

import pytest

from shequ_desktop.core import codes
from shequ_desktop.core.codes import CodeItem, normalize, table, table_names

EXPECTED_TABLES = {
    "gender", "ethnicity", "relation", "political_status", "education",
    "marital_status", "health", "id_type", "residence_type", "resident_status",
    "house_usage", "household_kind",
}


def test_expected_tables_present():
    assert EXPECTED_TABLES <= set(table_names())


def test_every_json_file_is_listed_and_loadable():
    files = sorted(p.stem for p in codes.CODES_DIR.glob("*.json"))
    assert files == table_names()
    for name in files:
        t = table(name)
        assert t.name == name
        assert t.title and t.standard
        assert len(t) > 0


@pytest.mark.parametrize("name", sorted(EXPECTED_TABLES))
def test_table_keys_are_unique_and_strings(name):
    raw = json.loads((codes.CODES_DIR / f"{name}.json").read_text(encoding="utf-8"))
    items = raw["items"]
    assert all(isinstance(i["code"], str) and i["code"] for i in items)
    assert all(isinstance(i["label"], str) and i["label"] for i in items)
    assert len({i["code"] for i in items}) == len(items)
    assert len({i["label"] for i in items}) == len(items)
    owner = {}
    for i in items:
        for key in {normalize(k) for k in [i["code"], i["label"], *i.get("aliases", [])]}:
            assert owner.setdefault(key, i["code"]) == i["code"], f"{name}: {key} is ambiguous"


def test_all_56_ethnic_groups():
    t = table("ethnicity")
    numbered = [item for item in t if item.code not in ("97", "98")]
    assert [item.code for item in numbered] == [f"{n:02d}" for n in range(1, 57)]
    assert all(item.label.endswith("族") for item in numbered)
    assert t.label("01") == "汉族"
    assert t.label("56") == "基诺族"
    assert t.label("10") == "朝鲜族"
    assert t.code_for("汉") == "01"
    assert t.code_for("蒙古") == "02"
    assert "97" in t and "98" in t


def test_code_for_code_label_alias():
    t = table("gender")
    assert t.code_for("1") == "1"
    assert t.code_for("男") == "1"
    assert t.code_for("男性") == "1"
    assert t.code_for("女性") == "2"
    assert t.code_for("人妖") is None
    assert t.code_for("") is None
    assert t.code_for(None) is None


def test_code_for_ignores_spaces_and_full_width():
    assert table("gender").code_for("\u3000男 ") == "1"
    assert table("gender").code_for("１") == "1"
    assert table("ethnicity").code_for("０１") == "01"
    assert table("ethnicity").code_for(" 汉 族 ") == "01"
    assert table("id_type").code_for("居民 身份证") == "01"


def test_code_for_restores_lost_leading_zero():
    assert table("ethnicity").code_for("1") == "01"
    assert table("relation").code_for("2") == "02"
    assert table("health").code_for("1") == "1"


def test_relation_aliases():
    t = table("relation")
    assert t.code_for("户主") == "02"
    assert t.code_for("儿子") == t.code_for("之子") == "20"
    assert t.code_for("女儿") == t.code_for("之女") == "30"
    assert t.code_for("孙子") == "41"
    assert t.code_for("孙女") == "42"
    assert t.code_for("外孙") == "43"
    assert t.code_for("女婿") == "28"
    assert t.code_for("儿媳") == "38"
    assert t.code_for("岳父") == "55"
    assert t.code_for("岳母") == "56"
    assert t.code_for("兄弟") == t.code_for("姐妹") == "70"
    assert t.code_for("非亲属") == "99"


def test_other_national_tables():
    assert table("political_status").code_for("群众") == "13"
    assert table("political_status").code_for("台盟盟员") == "11"
    assert table("political_status").code_for("中国共产党党员") == "01"
    edu = table("education")
    assert [edu.code_for(w) for w in ("本科", "大专", "高中", "初中", "小学")] == ["20", "30", "60", "70", "80"]
    assert edu.code_for("硕士") == "14" and edu.code_for("博士") == "11"
    assert edu.code_for("中专") == "41" and edu.code_for("技校") == "47"
    assert edu.code_for("文盲") == "90"
    assert table("marital_status").code_for("离异") == "40"
    health = table("health")
    assert health.code_for("健康") == "1"
    assert health.code_for("慢性病") == "3"
    assert health.code_for("残疾") == "6"
    assert health.label("64") == "肢体残疾"


def test_application_tables():
    rt = table("residence_type")
    assert [rt.code_for(w) for w in ("户籍", "常住", "流动", "外来", "暂住", "境外")] == list("112223")
    assert table("resident_status").codes() == ["在册", "迁出", "死亡"]
    assert table("house_usage").label("出租") == "出租"
    assert table("household_kind").code_for("集体户口") == "2"


def test_label_and_container_protocol():
    t = table("marital_status")
    assert t.label("20") == "已婚"
    assert t.label("99") is None
    assert t.label("已婚") is None
    assert "20" in t and "已婚" not in t
    assert t.codes() == [item.code for item in t]
    assert len(t) == len(t.codes())
    assert all(isinstance(item, CodeItem) for item in t)
    assert isinstance(t.items, tuple)


def test_table_is_cached():
    assert table("gender") is table("gender")


def test_unknown_table_raises_key_error():
    with pytest.raises(KeyError, match="nope"):
        table("nope")
    with pytest.raises(KeyError):
        table("../setup")


def test_code_item_is_frozen():
    item = table("gender").items[0]
    with pytest.raises(AttributeError):
        item.label = "x"
