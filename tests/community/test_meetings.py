"""Issue 21, part 3 (议事协商): meetings with participants, decisions and votes, follow-up
items that become events in the closed loop, attachments stored in the database, the printed
议事记录 and the year's list — domain, command line and PDFs read back."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader

from shequ_desktop.casework import events
from shequ_desktop.places import grid
from shequ_desktop.community import meetings
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, ValidationError
from shequ_desktop.reports.pdf.meeting_record import build_record, build_year

TODAY = dt.date.today()
DAY = (TODAY - dt.timedelta(days=10)).isoformat()


def text_of(path):
    return "".join(page.extract_text() for page in PdfReader(str(path)).pages)


@pytest.fixture
def meeting(ctx, place, family):
    _hh, ids = family
    return meetings.create_meeting(
        ctx, place.grid, "院落议事会", DAY, "楼道堆物清理", place="1号楼架空层",
        host="张书记", recorder="李网格员",
        participants=[ids["head"], ids["wife"], {"name": "物业王经理", "role": "物业"}],
        discussion="住户同意周末集中清理。", decisions="本周六集中清理；以后每月检查一次。",
        votes_for=2, votes_against=0, votes_abstain=1).id


def test_a_meeting_keeps_who_took_part_what_was_decided_and_the_vote(conn, meeting):
    m = meetings.get_meeting(conn, meeting)
    assert [(p["name"], p["role"]) for p in m["participants"]] == [
        ("王建国", "居民"), ("李秀英", "居民"), ("物业王经理", "物业")]
    assert m["participants"][0]["resident_id"] is not None
    assert meetings.vote_text(m) == "赞成 2，反对 0，弃权 1"
    listed = meetings.list_meetings(conn, year=int(DAY[:4]))
    assert [(r["topic"], r["participants"]) for r in listed] == [("楼道堆物清理", 3)]
    assert meetings.list_meetings(conn, year=1999) == []


def test_bad_meetings_are_refused_with_what_and_where(ctx, place):
    future = (TODAY + dt.timedelta(days=2)).isoformat()
    with pytest.raises(ValidationError) as bad:
        meetings.create_meeting(ctx, place.building, "茶话会", future, " ", votes_for="many")
    assert {e.field for e in bad.value.errors} == {"unit_id", "kind", "held_on", "topic",
                                                   "votes_for"}
    with pytest.raises(ValidationError, match="超过参会人数 2"):
        meetings.create_meeting(ctx, place.grid, "居民议事会", DAY, "议题",
                                participants=["甲", "乙"], votes_for=3)


def test_a_follow_up_item_becomes_an_event_in_the_closed_loop(conn, ctx, meeting):
    item = meetings.add_follow_up(ctx, meeting, "物业清运大件垃圾", "物业王经理", deadline_days=3)
    event_id = conn.execute("SELECT event_id FROM meeting_items WHERE id = ?",
                            (item.id,)).fetchone()[0]
    event = events.get_event(conn, event_id)
    assert event["status"] == "受理" and event["accepted_at"] == DAY
    assert event["description"] == "【院落议事会】楼道堆物清理：物业清运大件垃圾"
    assert event["reporter"] == "物业王经理" and event["category"] == "民生诉求"
    events.start(ctx, event_id)
    events.close(ctx, event_id, "已清运")
    m = meetings.get_meeting(conn, meeting)
    assert m["items"][0]["status"] == "办结"
    assert meetings.list_meetings(conn)[0]["open_items"] == 0
    plain = meetings.add_follow_up(ctx, meeting, "下月复查")
    assert events.get_event(conn, conn.execute(
        "SELECT event_id FROM meeting_items WHERE id = ?", (plain.id,)).fetchone()[0]
    )["status"] == "上报"
    with pytest.raises(ValidationError):
        meetings.add_follow_up(ctx, meeting, "  ")


def test_attachments_are_stored_in_the_database_and_kept_out_of_the_audit_log(
        tmp_path, conn, ctx, meeting):
    photo = tmp_path / "签到表.jpg"
    photo.write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 40)
    attached = meetings.add_attachment(ctx, meeting, photo)
    name, data = meetings.attachment_data(conn, attached.id)
    assert name == "签到表.jpg" and data == photo.read_bytes()
    detail = conn.execute("SELECT detail FROM audit_log WHERE entity = 'meeting_attachments'"
                          ).fetchone()[0]
    assert "签到表.jpg" in detail and "sha256" in detail and len(detail) < 1000
    with pytest.raises(DomainError, match="不能超过"):
        meetings.add_attachment(ctx, meeting, name="大.bin",
                                data=b"0" * (meetings.MAX_ATTACHMENT + 1))
    meetings.delete_attachment(ctx, attached.id)
    assert conn.execute("SELECT count(*) FROM meeting_attachment_data").fetchone()[0] == 0


def test_a_grid_worker_records_meetings_of_their_grid_only(conn, ctx, place, meeting):
    elsewhere = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    theirs = meetings.create_meeting(ctx, elsewhere, "居民议事会", DAY, "别处的会").id
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    assert [m["id"] for m in meetings.list_meetings(conn, access=worker.access)] == [meeting]
    with pytest.raises(NotPermitted):
        meetings.update_meeting(worker, theirs, {"topic": "改"})
    with pytest.raises(NotPermitted):
        meetings.get_meeting(conn, theirs, worker.access)
    meetings.update_meeting(worker, meeting, {"place": "活动室"}, participants=["甲", "乙", "丙"])
    assert len(meetings.get_meeting(conn, meeting)["participants"]) == 3


def test_the_record_and_the_years_list_print_and_are_audited(tmp_path, conn, ctx, meeting):
    meetings.add_follow_up(ctx, meeting, "物业清运大件垃圾", "物业王经理", deadline_days=3)
    out = tmp_path / "record.pdf"
    result = build_record(conn, meeting, out, actor="测试员")
    text = text_of(out)
    assert result["pages"] == 1
    for part in ("议事记录", "院落议事会", "楼道堆物清理", "王建国", "物业王经理（物业）",
                 "本周六集中清理", "赞成 2，反对 0，弃权 1", "物业清运大件垃圾", "受理",
                 "主持人（签字）", "第 1 页 共 1 页"):
        assert part in text, part
    year = tmp_path / "year.pdf"
    build_year(conn, int(DAY[:4]), year, actor="测试员")
    text = text_of(year)
    assert "议事协商台账" in text and "楼道堆物清理" in text and f"{DAY[:4]}年" in text
    printed = conn.execute("SELECT count(*) FROM audit_log WHERE action = 'print' AND"
                           " entity = 'meetings'").fetchone()[0]
    assert printed == 2


def test_a_long_record_runs_over_pages_with_its_signature_last(tmp_path, conn, ctx, place):
    long = meetings.create_meeting(ctx, place.grid, "小区议事会", DAY, "长会",
                                   discussion="发言内容很长。" * 600).id
    out = tmp_path / "long.pdf"
    result = build_record(conn, long, out)
    pages = [p.extract_text() for p in PdfReader(str(out)).pages]
    assert result["pages"] == len(pages) > 1
    assert "记录人（签字）" in pages[-1] and "记录人（签字）" not in pages[0]
    assert f"第 {len(pages)} 页 共 {len(pages)} 页" in pages[-1]


def test_the_meetings_commands(tmp_path, conn, ctx, db_path, place, family, capsys):
    _hh, ids = family
    conn.execute("UPDATE grid_units SET code = 'G1' WHERE id = ?", (place.grid,))
    conn.commit()
    assert main(["meetings", "add", "--db", str(db_path), "--unit", "G1", "--kind", "居民议事会",
                 "--date", DAY, "--topic", "停车位划线", "--participant", str(ids["head"]),
                 "--participant", "业委会刘主任", "--for", "2", "--decisions", "按户分配"]) == 0
    meeting = conn.execute("SELECT id FROM meetings").fetchone()[0]
    assert main(["meetings", "follow-up", "--db", str(db_path), str(meeting), "物业划线",
                 "--owner", "物业", "--days", "5"]) == 0
    photo = tmp_path / "现场.png"
    photo.write_bytes(b"\x89PNG....")
    assert main(["meetings", "attach", "--db", str(db_path), str(meeting), str(photo)]) == 0
    capsys.readouterr()
    assert main(["meetings", "show", "--db", str(db_path), str(meeting)]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert [p["name"] for p in shown["participants"]] == ["王建国", "业委会刘主任"]
    assert shown["items"][0]["status"] == "受理"
    back = tmp_path / "back.png"
    assert main(["meetings", "attachment", "--db", str(db_path),
                 str(shown["attachments"][0]["id"]), "-o", str(back)]) == 0
    assert back.read_bytes() == photo.read_bytes()
    capsys.readouterr()
    assert main(["meetings", "list", "--db", str(db_path), "--json"]) == 0
    listed = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert listed[0]["items"] == 1 and listed[0]["attachments"] == 1
    out = tmp_path / "r.pdf"
    assert main(["meetings", "print", "--db", str(db_path), "--meeting", str(meeting),
                 "-o", str(out)]) == 0
    assert "停车位划线" in text_of(out)
    assert main(["meetings", "print", "--db", str(db_path), "-o", str(out)]) == 2
    assert "--meeting" in capsys.readouterr().err
