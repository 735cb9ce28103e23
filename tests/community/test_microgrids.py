"""Issue 21, part 2 (微网实格): micro-grids below a grid, their heads, the households they
cover, the head's visit list, events assigned to a head, the 公示牌 and the contact list —
domain, command line and PDFs read back."""
import datetime as dt
import json

import pytest
from pypdf import PdfReader

from shequ_desktop.casework import events, visits
from shequ_desktop.places import grid, houses
from shequ_desktop.population import households, tags
from shequ_desktop.community import microgrids
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError, ValidationError
from shequ_desktop.reports.pdf.microgrid_board import build_board, build_contacts
from tests.conftest import make_id

TODAY = dt.date.today()


@pytest.fixture
def block(ctx, place, family):
    """A second building in the grid with two households; the family lives in 1号楼."""
    building = grid.create_unit(ctx, place.grid, "building", "2号楼", floors=6).id
    ids = []
    for i, name in enumerate(("赵一", "钱二")):
        house = houses.create_house(ctx, building, {"room_no": f"20{i + 1}", "floor": 2}).id
        ids.append(households.create_household(ctx, house, {
            "name": name, "id_number": make_id(f"196{i}-01-01", "1", seq=70 + i),
            "phone": f"1391111222{i}"}).id)
    return building, ids


def text_of(path):
    return "".join(page.extract_text() for page in PdfReader(str(path)).pages)


def test_a_building_microgrid_covers_its_households_and_its_head_is_a_resident(
        conn, ctx, place, family, block):
    hh, ids = family
    mg = microgrids.create_microgrid(ctx, place.grid, "1号楼微网格", unit_id=place.building,
                                     head_resident_id=ids["head"], head_role="楼栋长").id
    row = ctx.get("microgrids", mg)
    assert (row["head_name"], row["head_phone"]) == ("王建国", "13912345678")
    assert microgrids.household_ids(conn, mg) == [hh]
    assert sorted(microgrids.resident_ids(conn, mg)) == sorted(ids.values())
    listed = microgrids.list_microgrids(conn)
    assert [(m["name"], m["scope"], m["households"], m["residents"]) for m in listed] == [
        ("1号楼微网格", "阳光社区 1号楼", 1, 3)]


def test_chosen_households_override_the_building_and_move_between_sets(conn, ctx, place,
                                                                        family, block):
    building, (a, b) = block
    whole = microgrids.create_microgrid(ctx, place.grid, "2号楼微网格", unit_id=building,
                                        head_name="孙楼长", head_role="楼栋长",
                                        head_phone="13900001111").id
    chosen = microgrids.create_microgrid(ctx, place.grid, "党员联系户", head_name="周党员",
                                         head_role="党员中心户").id
    microgrids.set_households(ctx, chosen, [a])
    assert microgrids.household_ids(conn, whole) == [b]
    assert microgrids.microgrid_of(conn, a) == chosen
    other = microgrids.create_microgrid(ctx, place.grid, "另一组", head_name="吴",
                                        head_role="志愿者").id
    microgrids.set_households(ctx, other, [a])            # moves, never in two sets
    assert microgrids.household_ids(conn, chosen) == []
    assert conn.execute("SELECT count(*) FROM microgrid_households").fetchone()[0] == 1
    microgrids.delete_microgrid(ctx, other)
    assert microgrids.microgrid_of(conn, a) == whole


def test_bad_microgrids_are_refused_with_what_and_where(conn, ctx, place, family):
    elsewhere = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    with pytest.raises(ValidationError) as bad:
        microgrids.create_microgrid(ctx, place.building, " ", unit_id=place.grid,
                                    head_name="某人", head_phone="12345")
    fields = {e.field for e in bad.value.errors}
    assert fields == {"name", "grid_id", "unit_id", "head_role", "head_phone"}
    with pytest.raises(ValidationError, match="不在所选网格内"):
        microgrids.create_microgrid(ctx, elsewhere, "越界", unit_id=place.building)
    microgrids.create_microgrid(ctx, place.grid, "甲")
    with pytest.raises(ValidationError, match="已有“甲”"):
        microgrids.create_microgrid(ctx, place.grid, "甲")
    mg = microgrids.create_microgrid(ctx, elsewhere, "乙").id
    with pytest.raises(DomainError, match="不在本微网格所属的网格内"):
        microgrids.set_households(ctx, mg, [family[0]])


def test_a_grid_worker_manages_microgrids_of_their_grid_only(conn, ctx, place, family):
    elsewhere = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    theirs = microgrids.create_microgrid(ctx, elsewhere, "别人的").id
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({place.grid}))
    mine = microgrids.create_microgrid(worker, place.grid, "我的", head_name="钱",
                                       head_role="单元长").id
    assert [m["id"] for m in microgrids.list_microgrids(conn, worker.access)] == [mine]
    with pytest.raises(NotPermitted):
        microgrids.update_microgrid(worker, theirs, {"name": "改名"})
    with pytest.raises(NotPermitted):
        microgrids.create_microgrid(worker, elsewhere, "越权")


def test_the_heads_visit_list_and_an_event_assigned_to_the_head(conn, ctx, place, family,
                                                                 block):
    _hh, ids = family
    building, (a, _b) = block
    lonely = conn.execute("SELECT id FROM tags WHERE name = '独居老人'").fetchone()[0]
    tags.assign_tag(ctx, ids["head"], lonely, (TODAY - dt.timedelta(days=30)).isoformat())
    other_head = conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                              (a,)).fetchone()[0]
    tags.assign_tag(ctx, other_head, lonely, (TODAY - dt.timedelta(days=30)).isoformat())
    mg = microgrids.create_microgrid(ctx, place.grid, "1号楼", unit_id=place.building,
                                     head_name="孙", head_role="楼栋长").id
    assert [r["name"] for r in microgrids.due_visits(conn, mg)] == ["王建国"]
    visits.record_visit(ctx, ids["head"], TODAY, "入户", "孙")
    assert microgrids.due_visits(conn, mg, within_days=3) == []     # next due in 7 days
    category = conn.execute("SELECT id FROM event_categories WHERE name = '安全隐患'"
                            ).fetchone()[0]
    event = events.report_event(ctx, place.building, category, "楼道堆物", TODAY, "孙").id
    microgrids.assign_event(ctx, event, mg)
    assert conn.execute("SELECT microgrid_id FROM events WHERE id = ?", (event,)
                        ).fetchone()[0] == mg
    assert "指派给微网格员 孙" in events.log(conn, event)[-1]["note"]
    far = grid.create_unit(ctx, place.community, "grid", "第三网格").id
    far_mg = microgrids.create_microgrid(ctx, far, "远处").id
    with pytest.raises(DomainError, match="不能指派"):
        microgrids.assign_event(ctx, event, far_mg)
    microgrids.delete_microgrid(ctx, mg)
    assert conn.execute("SELECT microgrid_id FROM events WHERE id = ?", (event,)
                        ).fetchone()[0] is None


def test_the_board_and_contact_list_print_heads_and_phones_and_are_audited(
        tmp_path, conn, ctx, place, family, block):
    _hh, ids = family
    microgrids.create_microgrid(ctx, place.grid, "1号楼微网格", unit_id=place.building,
                                head_resident_id=ids["head"], head_role="楼栋长")
    board = tmp_path / "board.pdf"
    result = build_board(conn, place.grid, board, phone="028-84561234", actor="测试员")
    text = text_of(board)
    assert result["pages"] == 1 and "公示牌" in text and "第一网格" in text
    assert "王建国" in text and "13912345678" in text and "028-84561234" in text
    contacts = tmp_path / "contacts.pdf"
    build_contacts(conn, place.grid, contacts, actor="测试员")
    text = text_of(contacts)
    assert "微网格联系表" in text and "楼栋长" in text and "第 1 页 共 1 页" in text
    printed = [r[0] for r in conn.execute("SELECT summary FROM audit_log WHERE action = 'print'"
                                          " AND entity = 'microgrids'")]
    assert len(printed) == 2 and "公示牌" in printed[0]
    with pytest.raises(DomainError, match="请选择一个网格"):
        build_board(conn, place.building, tmp_path / "x.pdf")


def test_the_microgrids_commands(tmp_path, conn, ctx, db_path, place, family, block, capsys):
    _hh, ids = family
    building, (a, b) = block
    conn.execute("UPDATE grid_units SET code = 'G1' WHERE id = ?", (place.grid,))
    conn.execute("UPDATE grid_units SET code = 'B2' WHERE id = ?", (building,))
    conn.commit()
    assert main(["microgrids", "add", "--db", str(db_path), "--grid", "G1", "2号楼微网格",
                 "--unit", "B2", "--head", "孙楼长", "--role", "楼栋长",
                 "--phone", "13900001111"]) == 0
    assert main(["microgrids", "add", "--db", str(db_path), "--grid", "G1", "联系户",
                 "--resident", str(ids["head"]), "--role", "党员中心户"]) == 0
    assert main(["microgrids", "households", "--db", str(db_path), "联系户",
                 "--set", f"{a}"]) == 0
    capsys.readouterr()
    assert main(["microgrids", "list", "--db", str(db_path), "--json"]) == 0
    listed = {json.loads(line)["name"]: json.loads(line)
              for line in capsys.readouterr().out.splitlines()}
    assert listed["2号楼微网格"]["households"] == 1 and listed["联系户"]["households"] == 1
    assert listed["联系户"]["head_phone"] == "13912345678"
    assert main(["microgrids", "residents", "--db", str(db_path), "2号楼微网格", "--json"]) == 0
    people = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [p["name"] for p in people] == ["钱二"] and "*" in people[0]["phone"]
    out = tmp_path / "board.pdf"
    assert main(["microgrids", "board", "--db", str(db_path), "--grid", "G1",
                 "--phone", "028-1234567", "-o", str(out)]) == 0
    assert "孙楼长" in text_of(out)
    assert main(["microgrids", "add", "--db", str(db_path), "--grid", "G1", "坏",
                 "--head", "某", "--role", "楼栋长", "--phone", "123"]) == 2
    assert "联系电话" in capsys.readouterr().err
