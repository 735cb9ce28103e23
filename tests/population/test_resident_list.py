"""The resident table's query: filtering by grid unit and status, ordering, display values."""
import pytest
from shequ_desktop.core.idnumber import check_digit

from db import open_db
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, residents
from shequ_desktop.core.context import Context
from shequ_desktop.core.tree import SUBTREE_SQL
from shequ_desktop.population.resident_list import COLUMNS, ResidentQuery, label, rows


def id_number(birth: str, seq: int, male: bool) -> str:
    body = f"110105{birth}{seq % 100:02d}{1 if male else 2}"
    return body + check_digit(body)


@pytest.fixture
def world(tmp_path):
    """A street with two grids; houses on units and directly on a building; one household
    without a house; one resident moved out, one dead."""
    conn = open_db(tmp_path / "w.db")
    ctx = Context(conn)
    u = {}

    def unit(key, parent, level, name):
        u[key] = grid.create_unit(ctx, u.get(parent), level, name).id

    unit("street", None, "street", "幸福街道")
    unit("comm", "street", "community", "阳光社区")
    unit("g1", "comm", "grid", "第一网格")
    unit("g2", "comm", "grid", "第二网格")
    unit("garden", "g1", "compound", "阳光花园")
    unit("b3", "garden", "building", "3号楼")
    unit("b3u1", "b3", "unit", "1单元")
    unit("b3u2", "b3", "unit", "2单元")
    unit("b12", "g1", "building", "12号楼")
    unit("b1", "g2", "building", "1号楼")
    unit("b1u1", "b1", "unit", "1单元")

    def house(key, room):
        return houses.create_house(ctx, u[key], {"room_no": room}).id

    people = {}

    def family(house_id, head, *members):
        name, birth, seq, male = head
        hh = households.create_household(ctx, house_id, {
            "name": name, "id_number": id_number(birth, seq, male), "phone": "13800138000",
            "residence_type": "2"}).id
        people[name] = conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                                    (hh,)).fetchone()[0]
        for (m_name, m_birth, m_seq, m_male), relation in members:
            people[m_name] = residents.add_member(ctx, hh, {
                "name": m_name, "id_number": id_number(m_birth, m_seq, m_male)}, relation).id
        return hh

    family(house("b3u1", "1201"), ("张伟", "19700302", 1, True),
           (("李娜", "19720510", 2, False), "10"))
    family(house("b3u1", "101"), ("王芳", "19800101", 3, False),
           (("赵敏", "20050607", 4, False), "30"))
    family(house("b3u1", "502"), ("曾强", "19650815", 5, True))
    family(house("b3u2", "101"), ("安然", "19900909", 6, False))
    family(house("b12", "301"), ("陈晨", "19851111", 7, True),
           (("陈小宝", "20150101", 8, True), "20"))
    family(house("b1u1", "101"), ("刘洋", "19751212", 9, True),
           (("孙丽", "19770303", 10, False), "10"))
    family(None, ("周游", "19990101", 11, True))
    residents.move_out(ctx, people["赵敏"], "2024-01-02", "海淀区")
    residents.record_death(ctx, people["孙丽"], "2023-05-06")
    yield conn, u, people
    conn.close()


def direct_ids(conn, unit_id, statuses):
    """Independent count: residents whose house lies in the subtree (plain joins, no reuse)."""
    marks = ", ".join("?" * len(statuses))
    sql = (SUBTREE_SQL + "SELECT r.id FROM residents r JOIN households h ON h.id = r.household_id"
           " JOIN houses ho ON ho.id = h.house_id WHERE ho.unit_id IN (SELECT id FROM subtree)"
           f" AND r.status IN ({marks}) ORDER BY r.id")
    return [r[0] for r in conn.execute(sql, (unit_id, *statuses))]


@pytest.mark.parametrize("key", ["street", "comm", "g1", "g2", "garden", "b3", "b3u1", "b12"])
@pytest.mark.parametrize("statuses", [("在册",), ("迁出",), ("死亡",), ("在册", "迁出", "死亡")])
def test_subtree_and_status_match_direct_sql(world, key, statuses):
    conn, u, _ = world
    got = ResidentQuery(unit_id=u[key], statuses=statuses).ids(conn)
    assert got == direct_ids(conn, u[key], statuses)
    assert ResidentQuery(unit_id=u[key], statuses=statuses).count(conn) == len(got)


def test_known_counts(world):
    conn, u, people = world
    assert len(ResidentQuery(unit_id=u["g1"]).ids(conn)) == 7      # 赵敏 moved out
    assert len(ResidentQuery(unit_id=u["g2"]).ids(conn)) == 1      # 孙丽 died
    assert ResidentQuery(unit_id=u["g2"], statuses=("死亡",)).ids(conn) == [people["孙丽"]]
    assert ResidentQuery(unit_id=u["b3u2"]).ids(conn) == [people["安然"]]


def test_whole_street_includes_residents_without_house(world):
    conn, u, people = world
    everyone = ResidentQuery(statuses=()).ids(conn)
    assert everyone == [r[0] for r in conn.execute("SELECT id FROM residents ORDER BY id")]
    active = ResidentQuery().ids(conn)
    assert people["周游"] in active
    assert people["周游"] not in ResidentQuery(unit_id=u["street"]).ids(conn)
    assert people["赵敏"] not in active and people["孙丽"] not in active
    assert len(active) == 9


def test_order_by_name_follows_pinyin_initials(world):
    conn, u, people = world
    names = [r["name"] for r in rows(conn, ResidentQuery(order_by="name").ids(conn))]
    # 曾 as a surname reads zēng (zq), so 曾强 sorts before 张伟 (zw), not by code point.
    assert names == ["安然", "陈晨", "陈小宝", "李娜", "刘洋", "王芳", "曾强", "张伟", "周游"]
    desc = [r["name"] for r in rows(conn, ResidentQuery(order_by="name",
                                                          descending=True).ids(conn))]
    assert desc == names[::-1]


def test_order_by_address_is_natural_and_houseless_last(world):
    conn, u, people = world
    got = rows(conn, ResidentQuery(order_by="address").ids(conn))
    addresses = [r["address"] for r in got]
    # 1号楼 < 3号楼 < 12号楼 and 101 < 502 < 1201: numbers in number order.
    # 3号楼 stands in the compound 阳光花园, 1号楼 and 12号楼 in none.
    assert addresses == ["阳光社区 " + a if a else a for a in [
        "1号楼1单元101"] + ["阳光花园 " + a for a in ["3号楼1单元101", "3号楼1单元502", "3号楼1单元1201", "3号楼1单元1201",
        "3号楼2单元101"]] + ["12号楼301", "12号楼301", ""]]
    assert got[-1]["name"] == "周游"
    in_g1 = rows(conn, ResidentQuery(unit_id=u["g1"], order_by="address").ids(conn))
    assert [r["address"] for r in in_g1] == ["阳光社区 " + a for a in [
        "阳光花园 3号楼1单元101", "阳光花园 3号楼1单元502", "阳光花园 3号楼1单元1201",
        "阳光花园 3号楼1单元1201", "阳光花园 3号楼2单元101", "12号楼301", "12号楼301"]]
    back = ResidentQuery(unit_id=u["g1"], order_by="address", descending=True).ids(conn)
    assert back == [r["id"] for r in in_g1][::-1]


def test_other_orders(world):
    conn, u, people = world
    by_age = rows(conn, ResidentQuery(order_by="age").ids(conn))
    ages = [r["age"] for r in by_age]
    assert ages == sorted(ages) and by_age[0]["name"] == "陈小宝"
    by_grid = rows(conn, ResidentQuery(order_by="grid", statuses=()).ids(conn))
    # '第一' (U+4E00) sorts before '第二' (U+4E8C); the resident without a house comes last.
    assert [r["grid"] for r in by_grid] == ["第一网格"] * 8 + ["第二网格"] * 2 + [None]
    assert by_grid[-1]["name"] == "周游"
    # Ties are broken by id: equal birth years still come out in one fixed order.
    by_gender = ResidentQuery(order_by="gender").ids(conn)
    males = [people[n] for n in ("张伟", "曾强", "陈晨", "陈小宝", "刘洋", "周游")]
    assert by_gender[:6] == sorted(males)


def test_order_by_is_whitelisted(world):
    conn, *_ = world
    with pytest.raises(ValueError):
        ResidentQuery(order_by="name; DROP TABLE residents").ids(conn)
    with pytest.raises(ValueError):
        ResidentQuery(statuses=("x",)).ids(conn)
    for column in COLUMNS:
        ResidentQuery(order_by=column).ids(conn)   # every shown column can be sorted


def test_rows_show_labels_and_keep_given_order(world):
    conn, u, people = world
    ids = [people["李娜"], people["张伟"], people["孙丽"]]
    got = rows(conn, ids)
    assert [r["id"] for r in got] == ids
    lina, zhang, sun = got
    assert lina["gender"] == "女" and lina["relation_to_head"] == "配偶"
    assert zhang["relation_to_head"] == "户主" and zhang["residence_type"] == "流动人口"
    assert zhang["id_number"] == id_number("19700302", 1, True)
    assert zhang["phone"] == "13800138000"
    assert zhang["address"] == "阳光社区 阳光花园 3号楼1单元1201" and zhang["grid"] == "第一网格"
    assert zhang["birth_date"] == "1970-03-02" and zhang["age"] >= 54
    assert zhang["id_type"] == "居民身份证" and zhang["separated"] == "否"
    assert sun["status"] == "死亡" and sun["age"] == 46     # age at death, not today
    assert sun["address"] == "阳光社区 1号楼1单元101" and sun["grid"] == "第二网格"
    assert set(COLUMNS) <= set(zhang)
    assert rows(conn, []) == []


def test_rows_many_ids_in_chunks(world):
    conn, *_ = world
    ids = ResidentQuery(statuses=()).ids(conn)
    assert [r["id"] for r in rows(conn, ids * 120)] == ids * 120


def test_labels():
    assert label("name") == "姓名"
    assert label("address") == "地址" and label("grid") == "网格" and label("age") == "年龄"
    assert COLUMNS[:3] == ("name", "gender", "birth_date")
    assert len(set(COLUMNS)) == len(COLUMNS)


def test_filters_and_search_text_combine(tmp_path):
    import datetime as dt

    import db as storage
    from shequ_desktop.demo import street as demo
    from shequ_desktop.population.resident_list import ResidentQuery

    conn = storage.open_db(tmp_path / "f.db")
    demo.generate(conn, residents=1500, seed=11)
    one = lambda sql, *p: conn.execute(sql, p).fetchone()[0]  # noqa: E731
    tag = one("SELECT id FROM tags WHERE name = '高龄老人'")
    tagged = ResidentQuery(tag_ids=(tag,)).ids(conn)
    assert sorted(tagged) == [r[0] for r in conn.execute(
        "SELECT r.id FROM residents r JOIN resident_tags rt ON rt.resident_id = r.id "
        "WHERE rt.tag_id = ? AND rt.until IS NULL AND r.status = '在册' ORDER BY r.id", (tag,))]
    assert tagged
    ages = ResidentQuery(age_min=60, age_max=69, gender="2").rows(
        conn, ResidentQuery(age_min=60, age_max=69, gender="2").ids(conn))
    assert ages and all(60 <= r["age"] <= 69 and r["gender"] == "女" for r in ages)
    assert len(ages) == sum(
        1 for (b,) in conn.execute(
            "SELECT birth_date FROM residents WHERE status = '在册' AND gender = '2'")
        if 60 <= (dt.date.today().year - int(b[:4])
                  - ((dt.date.today().month, dt.date.today().day) < (int(b[5:7]), int(b[8:10]))))
        <= 69)
    floating = ResidentQuery(residence_type="2").count(conn)
    assert floating == one("SELECT count(*) FROM residents WHERE status = '在册' "
                           "AND residence_type = '2'")
    name = one("SELECT name FROM residents WHERE status = '在册' LIMIT 1")
    found = ResidentQuery(text=name, order_by="address").ids(conn)
    assert found and set(found) == {r[0] for r in conn.execute(
        "SELECT id FROM residents WHERE status = '在册' AND name LIKE ?", (f"%{name}%",))}
