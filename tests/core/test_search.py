import pytest

from shequ_desktop.population import residents
from shequ_desktop.core import search
from shequ_desktop.core.context import Context
from tests.conftest import make_id


def names(conn, text, **kw):
    return sorted(r["name"] for r in search.search(conn, text, limit=None, **kw))


@pytest.fixture
def people(ctx, place, family):
    hh_id, ids = family
    extra = {}
    for i, (name, gender) in enumerate([("单田芳", "1"), ("曾芳", "2"), ("解放", "1"),
                                         ("王芳", "2"), ("欧阳芳芳", "2")]):
        extra[name] = residents.add_member(ctx, hh_id, {
            "name": name, "id_number": make_id(f"19{60 + i}-01-0{i + 1}", gender, seq=100 + i),
            "phone": f"1380000{i:04d}"}, "其他").id
    return hh_id, {**ids, **extra}


def test_two_character_and_one_character_names(ctx, people):
    assert names(ctx.conn, "王芳") == ["王芳"]
    assert names(ctx.conn, "芳") == ["单田芳", "曾芳", "欧阳芳芳", "王芳"]
    assert names(ctx.conn, "芳芳") == ["欧阳芳芳"]


def test_pinyin_initials_and_full_pinyin_with_polyphonic_surnames(ctx, people):
    assert names(ctx.conn, "stf") == ["单田芳"]       # 单 read shan, not dan
    assert names(ctx.conn, "shantian") == ["单田芳"]
    assert names(ctx.conn, "zf") == ["曾芳"]          # 曾 read zeng
    assert names(ctx.conn, "xief") == ["解放"]        # 解 read xie
    assert names(ctx.conn, "wf") == ["王芳"]
    assert names(ctx.conn, "WF") == ["王芳"]


def test_id_and_phone_fragments(ctx, people):
    _, ids = people
    number = ctx.get("residents", ids["王芳"])["id_number"]
    assert names(ctx.conn, number[8:14]) == ["王芳"]
    assert names(ctx.conn, "13800000003") == ["王芳"]
    assert "王芳" in names(ctx.conn, "0003")
    assert names(ctx.conn, number[-2:].lower()) == sorted(
        r[0] for r in ctx.conn.execute(
            "SELECT name FROM residents WHERE id_number LIKE ?1 OR phone LIKE ?1",
            (f"%{number[-2:]}%",)))


def test_address(ctx, place, people):
    everyone = names(ctx.conn, "王建国") + names(ctx.conn, "李秀英")
    assert everyone == ["王建国", "李秀英"]
    in_101 = names(ctx.conn, "1号楼1单元101")
    assert len(in_101) == 8 and names(ctx.conn, "1-1-101") == in_101
    assert names(ctx.conn, "1-1-102") == []
    assert names(ctx.conn, "2号楼101") == []


def test_words_are_combined(ctx, people):
    assert names(ctx.conn, "芳 138") == ["单田芳", "曾芳", "欧阳芳芳", "王芳"]
    assert names(ctx.conn, "芳 wf") == ["王芳"]


def test_index_follows_edits_and_status(ctx, people):
    _, ids = people
    residents.update_resident(ctx, ids["王芳"], {"name": "王芬"})
    assert names(ctx.conn, "王芳") == [] and names(ctx.conn, "王芬") == ["王芬"]
    residents.move_out(ctx, ids["王芳"], "2026-01-01")
    assert names(ctx.conn, "王芬") == []
    assert names(ctx.conn, "王芬", statuses=("迁出",)) == ["王芬"]


def test_rolled_back_write_leaves_the_index_alone(ctx, people):
    _, ids = people
    with pytest.raises(RuntimeError):
        with ctx.transaction():
            residents.update_resident(ctx, ids["王芳"], {"name": "王芬"})
            raise RuntimeError
    assert names(ctx.conn, "王芳") == ["王芳"] and names(ctx.conn, "王芬") == []


def test_index_is_built_for_a_database_that_has_none(conn, people):
    conn.execute("DELETE FROM resident_names")
    conn.execute("DELETE FROM resident_digits")
    conn.execute("DELETE FROM settings WHERE key = 'search_index'")
    assert names(conn, "王芳") == []
    Context(conn)
    assert names(conn, "王芳") == ["王芳"]


@pytest.mark.parametrize("text", ['"', "*", "AND", "NEAR(", "王\"芳", "-", "..", "'"])
def test_odd_input_never_breaks_the_query(ctx, people, text):
    assert isinstance(search.search(ctx.conn, text), list)


def test_demo_data_is_searchable(conn):
    from shequ_desktop.demo import street as demo

    demo.generate(conn, residents=300, seed=5)
    row = conn.execute("SELECT name, phone FROM residents WHERE phone IS NOT NULL").fetchone()
    assert row["name"] in names(conn, row["name"])
    assert row["name"] in names(conn, row["phone"][-6:])
    total = conn.execute("SELECT count(*) FROM resident_names").fetchone()[0]
    assert total == 300


def test_cli_search_json(db_path, people, capsys):
    import json

    from shequ_desktop.cli.main import main

    assert main(["search", "--db", str(db_path), "芳", "--limit", "2", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(rows) == 2 and all("芳" in r["name"] for r in rows)
    assert main(["search", "--db", str(db_path), "wf", "--json"]) == 0
    rows = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["name"] for r in rows] == ["王芳"] and rows[0]["gender"] == "2"
