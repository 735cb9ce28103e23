"""Issue 15: formula cells of an .ods are flagged as those of an .xlsx are (a name or ID that
is a formula refused, any other formula cell imported by its saved result with a warning)."""
import zipfile

from shequ_desktop.transfer.importing import build_plan, read_table
from tests.conftest import make_id

NS = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
      'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
      'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')


def cell(text=None, formula=None, repeat=None):
    attrs = (f' table:formula="{formula}"' if formula else "") + \
        (f' table:number-columns-repeated="{repeat}"' if repeat else "")
    if text is None:
        return f"<table:table-cell{attrs}/>"
    return (f'<table:table-cell{attrs} office:value-type="string">'
            f"<text:p>{text}</text:p></table:table-cell>")


def row(*cells, repeat=None):
    rows = f' table:number-rows-repeated="{repeat}"' if repeat else ""
    return f"<table:table-row{rows}>{''.join(cells)}</table:table-row>"


def write_ods(path, rows, sheet="居民") -> str:
    """A minimal OpenDocument spreadsheet, as LibreOffice and WPS lay out content.xml."""
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {NS} '
               'office:version="1.2"><office:body><office:spreadsheet>'
               f'<table:table table:name="{sheet}">{"".join(rows)}</table:table>'
               "</office:spreadsheet></office:body></office:document-content>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest='
                '"urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
                '<manifest:file-entry manifest:full-path="/" manifest:media-type='
                '"application/vnd.oasis.opendocument.spreadsheet"/><manifest:file-entry '
                'manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
                "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        z.writestr("META-INF/manifest.xml", manifest)
        z.writestr("content.xml", content)
    return str(path)


def test_formula_cells_of_an_ods_are_flagged_like_those_of_an_xlsx(tmp_path, conn):
    path = write_ods(tmp_path / "f.ods", [
        row(cell("居民登记表")),
        row(cell(), repeat=2),                               # rows repeated: counted as 2
        row(cell("姓名"), cell("身份证号"), cell("与户主关系"), cell("备注")),
        row(cell("张三", formula="of:=&quot;张&quot;&amp;&quot;三&quot;"),
            cell(make_id("1970-01-01")), cell("户主"), cell()),
        row(cell(repeat=1), cell(make_id("1971-01-01", seq=3)), cell("户主"), cell()),
        row(cell("李四"), cell(make_id("1972-01-01", seq=4)), cell("户主"),
            cell("腿脚不便", formula="of:=[.A1]"))])
    table = read_table(path)
    assert table.formulas == {(4, 0): True, (6, 3): True}
    plan = build_plan(conn, table)
    by_line = {r.line: r for r in plan.rows}
    assert by_line[5].status == "error" and "是公式" in by_line[5].reason()
    assert by_line[7].status == "new" and by_line[7].values["notes"] == "腿脚不便"
    assert any("公式" in w for _c, w in by_line[7].warnings)


def test_an_ods_without_formulas_has_none_noted(tmp_path):
    path = write_ods(tmp_path / "plain.ods", [
        row(cell("姓名"), cell("备注")), row(cell("王五"), cell("=不是公式，是文字"))])
    assert read_table(path).formulas == {}
