"""Issue 15: a visit register's row whose person is not on record is refused with a message
naming the row and the ID number, and counted — never silently dropped."""
import datetime as dt
import json

from python_calamine import CalamineWorkbook

from shequ_desktop.cli.main import main
from shequ_desktop.transfer.importing import read_table
from shequ_desktop.transfer.importing.registers import import_register
from tests.conftest import make_id
from tests.transfer.registers import write_book

HEAD = [["走访登记表"], ["序号", "姓名", "身份证号", "走访日期", "走访方式", "走访人", "走访情况"]]
STRANGER = make_id("1988-08-08", "2", seq=77)


def visit_register(tmp_path) -> str:
    day = (dt.date.today() - dt.timedelta(days=2)).isoformat()
    data = [[1, "王建国", make_id("1970-05-06", "1"), day, "入户", "张网格", "身体好"],
            [2, "赵不在", STRANGER, day, "入户", "张网格", "没人"],
            [3, "李秀英", make_id("1972-03-08", "2"), day, "电话", "张网格", ""]]
    return write_book(tmp_path / "走访.xlsx", HEAD, [], data)


def test_a_visit_of_someone_not_on_record_is_refused_and_counted(tmp_path, conn, ctx, family):
    result = import_register(ctx, read_table(visit_register(tmp_path)), "visits", None)
    assert result.counts["created"] == 2 and result.counts["errors"] == 1
    assert result.counts["not_on_record"] == 1
    refused = result.plan.error_rows()
    assert [r.line for r in refused] == [4]
    assert refused[0].reason() == f"身份证号 {STRANGER} 不在册，走访未导入；请先导入该居民"
    assert conn.execute("SELECT count(*) FROM visits").fetchone()[0] == 2


def test_a_moved_out_resident_is_not_on_record_for_a_visit(tmp_path, conn, ctx, family):
    _hh, ids = family
    conn.execute("UPDATE residents SET status = '迁出' WHERE id = ?", (ids["wife"],))
    result = import_register(ctx, read_table(visit_register(tmp_path)), "visits", None)
    assert result.counts["created"] == 1 and result.counts["not_on_record"] == 2
    assert "李秀英" not in {r[0] for r in conn.execute(
        "SELECT r.name FROM visits v JOIN residents r ON r.id = v.resident_id")}


def test_the_command_names_the_row_and_the_id_number_and_reports_it(tmp_path, capsys, db_path,
                                                                   family):
    sheet, errors = visit_register(tmp_path), tmp_path / "错误行.xlsx"
    code = main(["import", sheet, "--what", "visits", "--db", str(db_path), "--errors",
                 str(errors)])
    out, err = capsys.readouterr()
    assert code == 3
    assert f"第 4 行：身份证号 {STRANGER} 不在册，走访未导入；请先导入该居民" in err
    assert "其中 1 行的居民不在册，走访未导入" in out and "新增 2" in out
    rows = CalamineWorkbook.from_path(str(errors)).get_sheet_by_index(0).to_python()
    assert len(rows) == 2 and rows[1][2] == STRANGER
    assert "不在册，走访未导入" in rows[1][len(HEAD[1])] and rows[1][-1] == 4
    code = main(["import", sheet, "--what", "visits", "--db", str(db_path), "--json"])
    got = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert got["not_on_record"] == 1 and got["errors"] == 1 and got["skipped"] == 2
