"""Issue 21, part 1: the 27 focus groups served finely (catalogue, own fields per person,
import, export, CLI) and 一老一小 services with their own ledger."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader
from python_calamine import CalamineWorkbook

from shequ_desktop.population import focus_groups, tags
from shequ_desktop.casework import services
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import ValidationError
from shequ_desktop.transfer.exporting import templates, writer
from shequ_desktop.transfer.importing import read_table
from shequ_desktop.transfer.importing.registers import focus_kind, import_register
from tests.transfer.test_import_other_registers import rectify_register

TODAY = dt.date.today()


def tag_id(conn, name):
    return conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0]


def test_the_catalogue_names_27_groups_each_with_words_interval_and_fields():
    groups = focus_groups.catalogue()
    assert len(groups) == 27 and len({g["name"] for g in groups}) == 27
    assert all(g["aliases"] and g["interval"] > 0 for g in groups)
    disabled = focus_groups.catalogue_group("残疾人")
    assert {"残疾类型", "残疾等级", "残疾证号"} <= set(disabled["fields"])
    assert "托育" in focus_groups.service_kinds()


def test_adding_the_catalogue_fills_in_missing_groups_once_and_keeps_the_communitys_intervals(
        conn, ctx):
    tags.update_tag(ctx, tag_id(conn, "残疾人"), {"visit_interval_days": 45})
    before = conn.execute("SELECT count(*) FROM tags").fetchone()[0]
    added = focus_groups.ensure_catalogue(ctx)
    after = conn.execute("SELECT count(*) FROM tags").fetchone()[0]
    assert after - before == len(added.changes) and after >= 27
    assert focus_groups.ensure_catalogue(ctx).changes == []
    assert conn.execute("SELECT visit_interval_days FROM tags WHERE name = '残疾人'"
                        ).fetchone()[0] == 45
    assert conn.execute("SELECT visit_interval_days FROM tags WHERE name = '吸毒人员'"
                        ).fetchone()[0] == 14
    names = {g["name"] for g in focus_groups.groups(conn)}
    assert {"困境儿童", "失业人员", "境外人员"} <= names


def test_an_administrator_adds_an_own_group_with_its_own_fields_a_grid_worker_may_not(
        conn, ctx, place):
    new = focus_groups.add_group(ctx, "电动车违规充电户", 30, ["充电位置, 整改情况", "整改情况"])
    assert focus_groups.fields_of(conn, new.id) == ["充电位置", "整改情况"]
    focus_groups.set_fields(ctx, new.id, ["充电位置"])
    assert focus_groups.fields_of(conn, new.id) == ["充电位置"]
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    with pytest.raises(NotPermitted):
        focus_groups.add_group(worker, "自定义类别")
    with pytest.raises(NotPermitted):
        focus_groups.set_fields(worker, new.id, ["随便"])
    # a catalogue group added by name takes the catalogue's interval and fields
    known = focus_groups.add_group(ctx, "困境儿童")
    assert conn.execute("SELECT visit_interval_days, fields FROM tags WHERE id = ?",
                        (known.id,)).fetchone()[:] == (30, None)
    assert "困境类型" in focus_groups.fields_of(conn, known.id)


def test_a_members_group_fields_are_kept_with_their_other_extras_and_audited(conn, ctx, family):
    _hh, ids = family
    disabled = tag_id(conn, "残疾人")
    tags.assign_tag(ctx, ids["head"], disabled, "2025-01-01")
    conn.execute("UPDATE residents SET extras = ? WHERE id = ?",
                 (json.dumps({"户籍地/省": "四川省"}, ensure_ascii=False), ids["head"]))
    focus_groups.set_member_values(ctx, ids["head"], {"残疾类型": "肢体残疾", "残疾等级": "二级"})
    shown = dict(focus_groups.member_fields(conn, ids["head"]))
    assert dict(shown["残疾人"])["残疾类型"] == "肢体残疾"
    assert dict(shown["残疾人"])["残疾证号"] == ""
    stored = json.loads(conn.execute("SELECT extras FROM residents WHERE id = ?",
                                     (ids["head"],)).fetchone()[0])
    assert stored == {"户籍地/省": "四川省", "残疾类型": "肢体残疾", "残疾等级": "二级"}
    focus_groups.set_member_values(ctx, ids["head"], {"残疾等级": ""})       # cleared
    assert "残疾等级" not in json.loads(conn.execute(
        "SELECT extras FROM residents WHERE id = ?", (ids["head"],)).fetchone()[0])
    audited = conn.execute("SELECT actor, detail FROM audit_log WHERE entity = 'residents'"
                           " AND entity_id = ? ORDER BY id DESC", (ids["head"],)).fetchone()
    assert audited[0] == "测试员" and "残疾类型" in audited[1]
    with pytest.raises(ValidationError, match="不能超过"):
        focus_groups.set_member_values(ctx, ids["head"], {"残疾类型": "长" * 600})


def test_an_imported_register_fills_the_groups_fields_and_the_export_carries_them(
        tmp_path, conn, ctx, place):
    table = read_table(rectify_register(tmp_path / "矫正.xlsx", n=3))
    import_register(ctx, table, None, place.grid)
    group = tag_id(conn, "社区矫正")
    members = focus_groups.members(conn, group)
    assert len(members) == 3
    assert members[0]["values"]["刑法执行类别"] == "缓刑"
    assert members[0]["values"]["原判刑期"] == "三年"
    out = tmp_path / "矫正名单.xlsx"
    template = templates.focus_group_template(conn, group)
    result = writer.export(conn, template, out, "xlsx", actor="测试员")
    assert result["rows"] == 3
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_index(0).to_python()
    header = [str(h) for h in rows[0]]
    assert header[-5:] == focus_groups.fields_of(conn, group)
    assert rows[1][header.index("刑法执行类别")] == "缓刑"
    assert "*" in str(rows[1][header.index("身份证号")])            # masked by default


def test_register_titles_name_the_catalogue_groups():
    from shequ_desktop.transfer.importing.reading import Table
    for title, group in (("易肇事肇祸精神病人信息登记表", "严重精神障碍"),
                         ("需要救助人员信息登记表", "困难群众"), ("老年人信息登记表", "老年人"),
                         ("重点青少年信息登记表", "重点青少年"), ("育龄妇女信息登记表", "育龄妇女"),
                         ("困境儿童信息登记表", "困境儿童"), ("独居老人名单", "独居老人")):
        table = Table("x.xlsx", "登记表", [["1.0", title], ["姓名", "身份证号码"]])
        assert focus_kind(table, 1) == group, title


def test_services_are_recorded_like_visits_and_scoped_by_grid(conn, ctx, place, family):
    _hh, ids = family
    done = services.record_services(ctx, [ids["head"], ids["wife"]], TODAY, "助餐", "幸福食堂",
                                    "午餐送餐")
    assert len(done) == 2
    with pytest.raises(ValidationError) as bad:
        services.record_services(ctx, [ids["head"]], TODAY + dt.timedelta(days=1), " ", "")
    assert {e.field for e in bad.value.errors} == {"served_on", "kind", "provider"}
    assert conn.execute("SELECT count(*) FROM services").fetchone()[0] == 2
    rows = services.list_services(conn, kind="助餐")
    assert sorted(r["name"] for r in rows) == ["李秀英", "王建国"]
    assert rows[0]["address"].endswith("1号楼1单元101")
    # a 网格员 of another grid sees none of them and may not record one here
    other = ctx.conn.execute("INSERT INTO grid_units (parent_id, level, name) VALUES (?, 'grid',"
                             " '第二网格')", (place.community,)).lastrowid
    worker = Context(conn, "网格员乙")
    worker.access = Access(GRID_WORKER, frozenset({other}))
    assert services.list_services(conn, access=worker.access) == []
    with pytest.raises(NotPermitted):
        services.record_services(worker, [ids["head"]], TODAY, "助浴", "网格员乙")


def test_the_services_ledger_prints_by_kind(tmp_path, conn, ctx, db_path, family):
    _hh, ids = family
    services.record_services(ctx, [ids["head"]], TODAY, "上门服务", "社工 李敏", "理发")
    services.record_services(ctx, [ids["wife"]], TODAY, "助餐", "幸福食堂")
    conn.commit()
    out = tmp_path / "services.pdf"
    assert main(["ledger", "--db", str(db_path), "--kind", "services", "-o", str(out)]) == 0
    text = "".join(page.extract_text() for page in PdfReader(str(out)).pages)
    assert "一老一小服务台账" in text and "上门服务" in text and "理发" in text
    assert text.index("上门服务") != text.index("助餐")


def test_the_focus_and_services_commands(tmp_path, conn, ctx, db_path, family, capsys):
    _hh, ids = family
    assert main(["focus", "catalogue", "--db", str(db_path)]) == 0
    assert "已按目录补充" in capsys.readouterr().out
    assert main(["focus", "add", "--db", str(db_path), "群租房租户", "--interval", "60",
                 "--fields", "房东,租住人数"]) == 0
    capsys.readouterr()
    tags.assign_tag(ctx, ids["head"], tag_id(conn, "群租房租户"), "2025-03-01")
    assert main(["focus", "set", "--db", str(db_path), "--resident", str(ids["head"]),
                 "租住人数=6"]) == 0
    assert main(["focus", "members", "--db", str(db_path), "群租房租户", "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    member = json.loads(out[-1])
    assert member["name"] == "王建国" and member["fields"] == {"房东": "", "租住人数": "6"}
    assert "*" in member["phone"]
    assert main(["focus", "groups", "--db", str(db_path), "--json"]) == 0
    groups = {json.loads(line)["name"]: json.loads(line)
              for line in capsys.readouterr().out.splitlines()}
    assert groups["群租房租户"]["members"] == 1 and len(groups) >= 28
    assert main(["focus", "set", "--db", str(db_path), "--resident", str(ids["head"]),
                 "没有等号"]) == 2
    assert "字段=值" in capsys.readouterr().err
    assert main(["services", "record", "--db", str(db_path), "--resident", str(ids["head"]),
                 "--resident", str(ids["wife"]), "--kind", "助浴", "--provider", "颐养中心"]) == 0
    assert main(["services", "list", "--db", str(db_path), "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "{" in line]
    assert sorted(r["name"] for r in listed) == ["李秀英", "王建国"]
    xlsx = tmp_path / "名单.xlsx"
    assert main(["focus", "export", "--db", str(db_path), "群租房租户", "-o", str(xlsx)]) == 0
    rows = CalamineWorkbook.from_path(str(xlsx)).get_sheet_by_index(0).to_python()
    assert rows[0][-2:] == ["房东", "租住人数"] and rows[1][-1] == "6"
