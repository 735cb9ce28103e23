"""Issue 18, bad files: no spreadsheet can kill the process. Limits are checked before the
reader allocates anything; formulas and invisible characters are handled."""
import os
import subprocess
import sys
import zipfile

import pytest
import xlsxwriter

from shequ_desktop.transfer.importing import UnreadableFile, build_plan, read_table
from shequ_desktop.transfer.importing import reading
from tests.conftest import make_id


def test_a_cell_at_xfd1048576_is_refused_before_reading(tmp_path):
    path = tmp_path / "far.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write(0, 0, "姓名")
    ws.write(1048575, 16383, "x")
    book.close()
    assert path.stat().st_size < 10_000
    with pytest.raises(UnreadableFile, match="延伸到第 16384 列"):
        read_table(path)


def _bomb(path, rows: int, columns: int = 30):
    """An .xlsx whose one sheet has `rows` rows of `columns` short cells: a few KB that
    expand to many MB."""
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet()
    book.close()
    with zipfile.ZipFile(path) as z:
        parts = {n: z.read(n) for n in z.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                z.writestr(name, data)
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as out:
            out.write(b'<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.'
                      b'org/spreadsheetml/2006/main"><sheetData>')
            letters = [chr(65 + c) if c < 26 else "A" + chr(65 + c - 26) for c in range(columns)]
            for start in range(1, rows + 1, 1000):
                chunk = []
                for r in range(start, min(start + 1000, rows + 1)):
                    cells = "".join(f'<c r="{col}{r}"><v>1</v></c>' for col in letters)
                    chunk.append(f'<row r="{r}">{cells}</row>')
                out.write("".join(chunk).encode())
            out.write(b"</sheetData></worksheet>")
    return path


def test_a_sheet_reaching_too_many_cells_is_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(reading, "MAX_CELLS", 30 * 5000)
    path = _bomb(tmp_path / "wide.xlsx", 6000)
    with pytest.raises(UnreadableFile, match="超过可导入的范围"):
        read_table(path)


def test_a_workbook_expanding_past_the_limit_is_refused(tmp_path, monkeypatch):
    path = _bomb(tmp_path / "bomb.xlsx", 20_000)
    monkeypatch.setattr(reading, "MAX_EXPANDED", 5 * 1024 * 1024)
    with pytest.raises(UnreadableFile, match="解压后超过 5 MB"):
        read_table(path)


def test_the_command_survives_a_bomb_exit_2_under_200_mb(tmp_path):
    path = tmp_path / "far.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["姓名", "身份证号"])
    ws.write(1048575, 701, "x")                  # column ZZ, the last row: 734 million cells
    book.close()
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    # the command, then its own peak memory (VmHWM: this process image's high-water mark)
    script = ("import sys\nfrom shequ_desktop.cli.main import main\ntry:\n    code = main(sys.argv[1:])\n"
              "finally:\n    peak = [l for l in open('/proc/self/status') if l.startswith('VmHWM')]\n"
              "    sys.stderr.write('\\n' + peak[0])\nsys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", script, "import", str(path), "--db",
                           str(tmp_path / "c.db")], env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "超过可导入的范围" in proc.stderr
    peak_kb = int(proc.stderr.rsplit("VmHWM:", 1)[1].split()[0])
    assert peak_kb < 200 * 1024


def test_a_huge_shared_string_part_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "s.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet().write_row(0, 0, ["姓名", "备注"])
    other = book.add_worksheet()
    for r in range(5):
        other.write(r, 0, str(r) + "长" * 30_000)
    book.close()
    monkeypatch.setattr(reading, "MAX_SHARED_STRINGS", 100_000)
    with pytest.raises(UnreadableFile, match="共享文本超过"):
        read_table(path)


def test_a_csv_field_over_the_limit_is_explained_in_chinese(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("姓名,备注\n张三,\"" + "长" * 200_000 + "\"\n", encoding="utf-8")
    with pytest.raises(UnreadableFile, match="第 2 行有一个单元格超过 131072 个字符"):
        read_table(path)


def test_formula_cells_are_read_by_their_result_with_a_warning_never_as_a_name(tmp_path,
                                                                             conn):
    path = tmp_path / "f.xlsx"
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["姓名", "身份证号", "与户主关系", "备注"])
    ws.write_formula(1, 0, "=cmd|' /C calc'!A0", None, "")
    ws.write(1, 1, make_id("1970-01-01"))
    ws.write(1, 2, "户主")
    ws.write(2, 0, "李四")
    ws.write(2, 1, make_id("1971-01-01", seq=3))
    ws.write(2, 2, "户主")
    ws.write_formula(2, 3, '="腿脚"&"不便"', None, "腿脚不便")
    book.close()
    table = read_table(path)
    assert table.formulas == {(1, 0): True, (2, 3): True}
    plan = build_plan(conn, table)
    assert plan.rows[0].status == "error" and "是公式" in plan.rows[0].reason()
    assert plan.rows[1].status == "new" and plan.rows[1].values["notes"] == "腿脚不便"
    assert any("公式" in w for _c, w in plan.rows[1].warnings)
