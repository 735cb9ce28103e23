"""The audit log, masking of IDs and phones, DB settings and PDF font discovery."""
from db.driver import sqlite3

import pytest

from shequ_desktop.core import audit, masking, settings
from shequ_desktop.reports.pdf import fonts


def test_audit_entries_chain_and_read_back(conn):
    first = audit.record(conn, "张三", "export", summary="导出居民 3 人",
                         detail={"what": "residents", "rows": 3})
    second = audit.record(conn, "李四", "unmask", entity="residents", entity_id=7)
    rows = audit.entries(conn)
    assert [r["id"] for r in rows] == [second, first]          # newest first
    assert rows[1]["actor"] == "张三" and '"rows": 3' in rows[1]["detail"]
    assert audit.entries(conn, entity="residents", entity_id=7)[0]["actor"] == "李四"
    assert audit.broken_links(conn) == []
    prev = conn.execute("SELECT prev_hash FROM audit_log WHERE id = ?", (second,)).fetchone()[0]
    assert prev == conn.execute("SELECT hash FROM audit_log WHERE id = ?", (first,)).fetchone()[0]


def test_audit_log_refuses_update_and_delete(conn):
    audit.record(conn, "张三", "login")
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        conn.execute("UPDATE audit_log SET actor = '王五'")
    with pytest.raises(sqlite3.DatabaseError, match="只能追加"):
        conn.execute("DELETE FROM audit_log")


@pytest.mark.parametrize("tamper, why", [
    ("UPDATE audit_log SET summary = '改过' WHERE id = 2", "被修改"),
    ("DELETE FROM audit_log WHERE id = 2", "删除或插入"),
])
def test_tampering_behind_the_triggers_breaks_the_chain(conn, tamper, why):
    for actor in ("甲", "乙", "丙"):
        audit.record(conn, actor, "update", summary=f"{actor}修改")
    conn.execute("DROP TRIGGER audit_log_no_update")   # what someone with a hex editor could do
    conn.execute("DROP TRIGGER audit_log_no_delete")
    conn.execute(tamper)
    bad = audit.broken_links(conn)
    assert bad[0] == (0, "审计日志的防修改触发器被删除了") and why in bad[1][1]


def test_audit_entry_is_rolled_back_with_its_transaction(conn):
    from db import atomic
    with pytest.raises(RuntimeError):
        with atomic(conn):
            audit.record(conn, "张三", "import")
            raise RuntimeError("导入中断")
    assert audit.entries(conn) == []


@pytest.mark.parametrize("value, masked", [
    ("110105194912310021", "110105********0021"),
    ("11010549123100X", "110105*****100X"),
    ("A1234567", "A1****67"),
    ("", ""), (None, ""),
])
def test_mask_id(value, masked):
    assert masking.mask_id(value) == masked


@pytest.mark.parametrize("value, masked", [
    ("13812345678", "138****5678"), ("01062345678", "010****5678"), ("12345", "*****"),
])
def test_mask_phone(value, masked):
    assert masking.mask_phone(value) == masked


def test_settings_round_trip_json(conn):
    assert settings.get(conn, "volunteers.star_hours", [1]) == [1]
    settings.put(conn, "volunteers.star_hours", [100, 300])
    settings.put(conn, "pdf.font", "宋体")
    assert settings.get(conn, "volunteers.star_hours") == [100, 300]
    assert settings.get(conn, "pdf.font") == "宋体"


def test_fonts_prefer_an_embeddable_cjk_font_and_fall_back_with_a_warning(monkeypatch):
    found = fonts.available()
    assert found, "the bootstrap installs fonts-wqy-zenhei"
    chosen = fonts.get_font()
    assert chosen.path == found[0][0] and not chosen.warning
    assert fonts.get_font("/no/such/font.ttf").path == found[0][0]   # a bad choice is skipped
    monkeypatch.setattr(fonts, "available", lambda: [])
    fallback = fonts.get_font()
    assert fallback.name == fonts.FALLBACK and fallback.path is None
    assert "未找到可嵌入的中文字体" in fallback.warning


def test_every_change_through_the_context_is_audited_with_old_and_new(ctx, conn, family):
    from shequ_desktop.population import residents
    son = family[1]["son"]
    before = audit.entries(conn)[0]["id"]
    residents.update_resident(ctx, son, {"phone": "13912345678", "notes": "新备注"})
    residents.record_death(ctx, son, "2026-11-01")
    new = [e for e in audit.entries(conn) if e["id"] > before]
    edit = new[-1]                                   # newest first: the edit came first
    assert edit["action"] == "update" and edit["actor"] == "测试员"
    assert (edit["entity"], edit["entity_id"]) == ("residents", son)
    assert '"phone": [null, "13912345678"]' in edit["detail"]
    assert edit["summary"] == "修改居民：联系电话、备注"
    death = next(e for e in new if e["action"] == "status")
    assert death["entity_id"] == son and '"status": ["在册", "死亡"]' in death["detail"]
    assert audit.broken_links(conn) == []


def test_a_rolled_back_change_leaves_no_audit_entry(ctx, conn, family):
    from shequ_desktop.population import residents
    count = len(audit.entries(conn))
    with pytest.raises(RuntimeError):
        with ctx.transaction():
            residents.update_resident(ctx, family[1]["son"], {"notes": "不会保存"})
            raise RuntimeError("中断")
    assert len(audit.entries(conn)) == count
