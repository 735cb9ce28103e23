"""A field is one registry entry (plus its column): a synthetic field added to the registry at
run time reaches the export templates, the resident ledger and every masking (issue 19 §1)."""
import pytest
from python_calamine import CalamineWorkbook

from shequ_desktop.core import audit, fields
from shequ_desktop.transfer import exporting
from shequ_desktop.reports import ledger_rows as ledgers
from shequ_desktop.transfer.exporting import templates
from shequ_desktop.core.fields import Field

WECHAT = "wxid_13912345678"


@pytest.fixture
def wechat(monkeypatch, conn, family):
    """微信号: optional, masked like a phone, a ledger column that must not wrap."""
    synthetic = Field("wechat", "微信号", sensitive=True, mask="phone", ledger=True,
                      min_chars=16, synonyms=("微信",), width=6)
    monkeypatch.setitem(fields.REGISTRY, "residents", fields.RESIDENT_FIELDS + (synthetic,))
    conn.execute("ALTER TABLE residents ADD COLUMN wechat TEXT")
    _hh, people = family
    conn.execute("UPDATE residents SET wechat = ? WHERE id = ?", (WECHAT, people["head"]))
    templates.load.cache_clear()
    yield synthetic
    templates.load.cache_clear()


def _rows(path):
    book = CalamineWorkbook.from_path(str(path))
    return book.get_sheet_by_name(book.sheet_names[0]).to_python()


def test_a_new_field_is_in_the_full_export_masked_by_its_rule(tmp_path, conn, wechat):
    template = exporting.load("full_residents")
    assert "微信号" in [h for h, _c in template.sheets[0].columns]
    out = tmp_path / "full.xlsx"
    exporting.export(conn, template, out, "xlsx")
    rows = _rows(out)
    head = dict(zip(rows[0], rows[1]))
    assert head["微信号"] == "wxi*********5678"
    exporting.export(conn, template, out, "xlsx", unmask=True)
    assert dict(zip(*_rows(out)[:2]))["微信号"] == WECHAT


def test_a_new_field_is_a_ledger_column_masked_and_kept_wide(conn, wechat):
    table = ledgers.table(conn, "residents", group=None)
    labels = [c.label for c in table.columns]
    assert "微信号" in labels
    column = table.columns[labels.index("微信号")]
    assert column.min_chars == 16
    cells = [row[labels.index("微信号")] for row in table.groups[0].rows]
    assert "wxi*********5678" in cells and WECHAT not in cells
    shown = ledgers.table(conn, "residents", group=None, unmask=True)
    assert WECHAT in [row[labels.index("微信号")] for row in shown.groups[0].rows]


def test_a_new_field_is_masked_in_the_audit_trail(wechat):
    assert audit.shown_value("residents", "wechat", WECHAT) == "wxi*********5678"
    assert audit.field_label("residents", "wechat") == "微信号"


def test_a_new_field_fills_a_template_column_named_by_a_synonym(tmp_path, conn, wechat):
    from shequ_desktop.transfer.exporting import fill
    plan = fill.plan_columns("residents", ["姓名", "微信"])
    assert [c.key for c in plan] == ["name", "wechat"]


def test_ledger_numbers_do_not_wrap_however_many_columns(conn, wechat):
    """The minimum widths hold in the laid-out page: an 18-digit ID, a phone and a date fit
    their columns on one line."""
    from shequ_desktop.reports.pdf import long_table as engine
    from shequ_desktop.reports.pdf.fonts import get_font

    table = ledgers.table(conn, "residents", group=None, unmask=True)
    layout = engine._Layout(table, get_font(None).name)
    labels = [c.label for c in layout.columns]
    for label, sample in (("身份证号", "11010519700506123X"), ("联系电话", "13912345678"),
                          ("出生日期", "1970-05-06"), ("微信号", WECHAT[:14])):
        room = layout.widths[labels.index(label)] - 2 * engine.PAD_X
        assert layout.metrics.wrap(sample, room) == [sample], label


def test_every_editable_field_comes_in_through_an_import_under_its_label(tmp_path, conn, ctx,
                                                                         place):
    """Import mapping and the import's insert are derived from the registry: a sheet with one
    column per editable resident field, headed by its label, fills every one of them."""
    import xlsxwriter

    from conftest import make_id
    from shequ_desktop.core import codes
    from shequ_desktop.transfer.importing import import_file
    id_number = make_id("1980-01-02", "1", seq=41)
    given = {"name": "赵一", "id_number": id_number, "gender": "男", "birth_date": "1980-01-02",
             "phone": "13912345678", "id_type": "居民身份证", "separated": "是"}
    row = {"户号": "H1", "与户主关系": "户主", "现住址": "2栋1单元101"}
    for f in fields.RESIDENT_FIELDS:
        if not f.editable:
            continue
        if f.name in given:
            row[f.label] = given[f.name]
        elif f.kind == "code":
            row[f.label] = codes.table(f.code_table).items[0].label
        elif f.kind == "date":
            row[f.label] = "2020-05-06"
        else:
            row[f.label] = f"{f.label}值"
    sheet = tmp_path / "全字段.xlsx"
    book = xlsxwriter.Workbook(str(sheet))
    ws = book.add_worksheet()
    ws.write_row(0, 0, list(row))
    ws.write_row(1, 0, list(row.values()))
    book.close()
    _plan, counts = import_file(ctx, sheet, place.grid)
    assert counts["created"] == 1 and counts["errors"] == 0
    stored = dict(conn.execute("SELECT * FROM residents WHERE id_number = ?",
                               (id_number,)).fetchone())
    empty = [f.name for f in fields.RESIDENT_FIELDS if f.editable and stored[f.name] in (None, "")]
    assert empty == []
