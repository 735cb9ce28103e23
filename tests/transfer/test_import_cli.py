"""`shequ import` and `shequ export`: exit codes 0/3/2, --json counts, error report,
--all-or-nothing, --dry-run; export with templates, masking and --unmask."""
import json

from python_calamine import CalamineWorkbook

import db
from shequ_desktop.core import audit
from shequ_desktop.cli.main import main
from tests.conftest import make_id
from tests.transfer.test_import import problem_rows, write_xlsx


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def counts_of(out):
    """The six counts of --json (which also lists kept/ignored columns and unknown values)."""
    got = json.loads(out.strip().splitlines()[-1])
    return {k: got[k] for k in ("rows", "created", "updated", "unchanged", "skipped", "errors")}


def residents(path):
    conn = db.open_db(path)
    try:
        return conn.execute("SELECT count(*) FROM residents").fetchone()[0]
    finally:
        conn.close()


def test_import_with_errors_exits_3_and_writes_the_report(tmp_path, capsys):
    sheet = write_xlsx(tmp_path / "s.xlsx", problem_rows())
    path = tmp_path / "c.db"
    errors = tmp_path / "errors.xlsx"
    code, out, err = run(capsys, "import", sheet, "--db", path, "--json", "--errors", errors)
    assert code == 3
    assert counts_of(out) == {"rows": 13, "created": 8, "updated": 0, "unchanged": 0,
                              "skipped": 0, "errors": 5}
    assert residents(path) == 8
    rows = CalamineWorkbook.from_path(str(errors)).get_sheet_by_name("错误行").to_python()
    assert len(rows) == 6
    # the empty database got a community to hold the households
    conn = db.open_db(path)
    assert conn.execute("SELECT name, level FROM grid_units WHERE parent_id IS NULL"
                        ).fetchall()[0][:] == ("新社区", "community")
    conn.close()
    # again: nothing new, the same rows in error
    code, out, err = run(capsys, "import", sheet, "--db", path, "--json")
    assert code == 3
    assert counts_of(out) == {"rows": 13, "created": 0, "updated": 0, "unchanged": 8,
                              "skipped": 0, "errors": 5}


def test_dry_run_and_all_or_nothing_write_nothing(tmp_path, capsys):
    sheet = write_xlsx(tmp_path / "s.xlsx", problem_rows())
    path = tmp_path / "c.db"
    code, out, _ = run(capsys, "import", sheet, "--db", path, "--dry-run", "--json")
    assert code == 3 and counts_of(out)["created"] == 8
    assert residents(path) == 0
    code, out, _ = run(capsys, "import", sheet, "--db", path, "--all-or-nothing", "--json")
    assert code == 3 and counts_of(out)["created"] == 0
    assert residents(path) == 0


def test_clean_file_exits_0_and_text_output(tmp_path, capsys):
    sheet = write_xlsx(tmp_path / "ok.xlsx", problem_rows()[:3])
    code, out, err = run(capsys, "import", sheet, "--db", tmp_path / "c.db")
    assert code == 0
    assert out.strip() == ("导入结果：共 3 行，新增 3，更新 0，无变化 0，跳过 0，错误 0\n"
                           "未导入的列：序号")          # issue 15: every unused column is named


def test_unreadable_file_exits_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_bytes("姓名\n".encode("utf-16"))
    code, out, err = run(capsys, "import", bad, "--db", tmp_path / "c.db", "--json")
    assert code == 2
    assert "UTF-16" in err and out == ""
    code, _, err = run(capsys, "import", tmp_path / "missing.xlsx", "--db", tmp_path / "c.db")
    assert code == 2 and "找不到文件" in err


def test_on_duplicate_update_and_sheet_and_unit(tmp_path, capsys):
    path = tmp_path / "c.db"
    assert run(capsys, "init", "--db", path, "--community", "阳光社区")[0] == 0
    first = write_xlsx(tmp_path / "a.xlsx", [["1", "A1", "王芳", make_id("1990-02-02", "2"),
                                              "户主", "", "", "13912345678", "1-1-101", ""]],
                       sheet="第一页")
    code, out, _ = run(capsys, "import", first, "--db", path, "--sheet", "第一页",
                       "--unit", "阳光社区", "--json")
    assert code == 0 and counts_of(out)["created"] == 1
    second = write_xlsx(tmp_path / "b.xlsx", [["1", "A1", "王芳", make_id("1990-02-02", "2"),
                                               "户主", "", "", "13800001111", "1-1-101", ""]])
    code, out, _ = run(capsys, "import", second, "--db", path, "--json")
    assert counts_of(out)["skipped"] == 1
    code, out, _ = run(capsys, "import", second, "--db", path, "--json",
                       "--on-duplicate", "update")
    assert counts_of(out)["updated"] == 1
    code, _, err = run(capsys, "import", second, "--db", path, "--sheet", "无此页")
    assert code == 2 and "没有名为“无此页”的工作表" in err
    code, _, err = run(capsys, "import", second, "--db", path, "--unit", "火星")
    assert code == 2 and "没有编码或名称为“火星”的网格单元" in err


def test_export_command(tmp_path, capsys):
    path = tmp_path / "c.db"
    sheet = write_xlsx(tmp_path / "ok.xlsx", problem_rows()[:3])
    run(capsys, "import", sheet, "--db", path)
    out_file = tmp_path / "up.csv"
    code, out, _ = run(capsys, "export", "--db", path, "--what", "residents", "--format", "csv",
                       "-o", out_file)
    assert code == 0 and out.startswith("已导出 3 行")
    text = out_file.read_text(encoding="utf-8-sig")
    assert "139****5678" in text and "13912345678" not in text
    code, out, _ = run(capsys, "export", "--db", path, "--what", "residents", "--format",
                       "xlsx", "-o", tmp_path / "full.xlsx", "--template", "full_residents",
                       "--unmask", "--user", "张主任")
    assert code == 0 and "未脱敏" in out
    conn = db.open_db(path)
    entry = audit.entries(conn, action="export")[0]
    assert entry["actor"] == "张主任" and json.loads(entry["detail"])["unmask"] is True
    conn.close()
    code, _, err = run(capsys, "export", "--db", path, "--what", "households", "-o",
                       tmp_path / "x.xlsx", "--template", "full_residents")
    assert code == 2 and "不能用于户和成员" in err
    code, _, err = run(capsys, "export", "--db", path, "--what", "households", "-o",
                       tmp_path / "x.xlsx", "--unit", "火星")
    assert code == 2
