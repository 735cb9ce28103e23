"""The ledger engine (shequ_desktop/reports/pdf/long_table.py): real PDFs written and read back with pypdf."""
import re

import pytest
from pypdf import PdfReader

from shequ_desktop.reports.pdf import fonts
from shequ_desktop.reports.pdf.long_table import Column, Group, LedgerTable, _Metrics, draw
from shequ_desktop.core.progress import Cancelled

PUNCTUATION = "：《》（）、“”——"
COLUMNS = [Column("姓名", 5), Column("身份证号", 11), Column("数量", 3, "right"),
           Column("备注", 10)]


@pytest.fixture(scope="module")
def font():
    found = fonts.get_font()
    assert found.path, "tests need a CJK TrueType font (fonts-wqy-zenhei)"
    return found


def texts(path) -> list[str]:
    return [page.extract_text() for page in PdfReader(str(path)).pages]


def rows(n: int, note: str = "") -> list[tuple]:
    return [(f"居民{i}", f"110105********{i:04d}", str(i), note) for i in range(1, n + 1)]


def test_pages_repeat_the_header_and_number_themselves(tmp_path, font):
    table = LedgerTable("人口信息台账", COLUMNS, [Group(None, rows(300))],
                        info=[("社区", "阳光社区"), ("期间", "2026年6月")],
                        printed_on="2026-06-30", count_unit="人")
    out = tmp_path / "l.pdf"
    result = draw(table, out, font.name)
    pages = texts(out)
    assert result == {"pages": len(pages), "rows": 300}
    assert len(pages) > 3
    for number, text in enumerate(pages, 1):
        assert "人口信息台账" in text
        assert "社区：阳光社区" in text and "期间：2026年6月" in text
        assert "打印日期：2026-06-30" in text
        assert "身份证号" in text and "序号" in text           # the header on every page
        assert f"第 {number} 页 共 {len(pages)} 页" in text
    assert "填报人" in pages[-1] and "审核人" in pages[-1] and "日期：" in pages[-1]
    assert not any("填报人" in t for t in pages[:-1])
    assert "合计：共 300 人" in pages[-1]
    every = "\n".join(pages)
    found = [int(n) for n in re.findall(r"^(\d+) 居民\1 ", every, re.M)]
    assert found == list(range(1, 301))              # every row once, in order, numbered


def test_long_text_wraps_inside_its_cell_and_rows_never_split(tmp_path, font):
    note = "楼道内堆放杂物，已多次劝说（见走访记录）、仍未清理；" * 6
    table = LedgerTable("台账", COLUMNS, [Group(None, rows(60, note))])
    out = tmp_path / "l.pdf"
    draw(table, out, font.name)
    pages = texts(out)
    for text in pages:
        names = re.findall(r"^\d+ (居民\d+) ", text, re.M)
        # each row's note ends on the page it starts on: as many endings as rows
        assert text.count("仍未清理；\n") + text.count("仍未清理；") >= len(names)
    layout_lines = _Metrics(font.name, 9).wrap(note, 80)
    assert len(layout_lines) > 3
    assert "".join(layout_lines) == note                 # wrapping loses nothing
    assert not any(line[0] in "，。、；）" for line in layout_lines[1:])


def test_wrapping_keeps_numbers_whole_and_brackets_with_their_text(font):
    metrics = _Metrics(font.name, 9)
    lines = metrics.wrap("幸福花园3号楼1单元501", 60)
    assert "".join(lines) == "幸福花园3号楼1单元501"
    assert lines[-1].endswith("501") and not lines[-2][-1].isdigit()
    assert metrics.wrap("历时(天)", 25) == ["历时", "(天)"]
    assert metrics.wrap("第一行\n第二行", 200) == ["第一行", "第二行"]


def test_windows_line_breaks_in_a_cell_are_line_breaks(tmp_path, font):
    out = tmp_path / "l.pdf"
    draw(LedgerTable("台账", COLUMNS, [Group(None, [("王芳", "1", "1", "第一行\r\n第二行\r第三行")])]),
         out, font.name)
    assert "第一行\n第二行\n第三行" in texts(out)[0]


def test_a_cell_too_long_for_a_page_is_cut_not_split(tmp_path, font):
    huge = "很长的备注" * 600
    table = LedgerTable("台账", COLUMNS, [Group(None, [("甲", "1", "1", huge),
                                                       ("乙", "2", "2", "短")])])
    out = tmp_path / "l.pdf"
    result = draw(table, out, font.name)
    pages = texts(out)
    assert result["pages"] == len(pages)
    first = [t for t in pages if "1 甲" in t]
    assert len(first) == 1 and "…" in first[0]          # cut, on one page
    assert first[0].count("很长的备注") < 600
    assert "2 乙" in "\n".join(pages)


def test_groups_have_headings_counts_and_continue(tmp_path, font):
    groups = [Group("第一网格", rows(70)), Group("第二网格", rows(5), note="自住 3、出租 2")]
    table = LedgerTable("台账", COLUMNS, groups, count_unit="人")
    out = tmp_path / "l.pdf"
    draw(table, out, font.name)
    every = "\n".join(texts(out))
    assert "第一网格" in every.split("\n")[2:5] or "\n第一网格\n" in every
    assert "第一网格（续）" in every
    assert "第一网格　小计：70 人" in every
    assert "第二网格　小计：5 人（自住 3、出租 2）" in every
    assert "合计：共 75 人" in every
    assert every.index("第一网格　小计") < every.index("\n第二网格\n")


def test_every_punctuation_mark_prints_in_the_embedded_font(tmp_path, font):
    from reportlab.pdfbase import pdfmetrics

    sample = f"标点{PUNCTUATION}结束"
    table = LedgerTable("《测试》台账（一）", COLUMNS,
                        [Group(None, [("王芳", "1", "1", sample)])])
    out = tmp_path / "l.pdf"
    draw(table, out, font.name)
    text = texts(out)[0]
    assert sample in text and "《测试》台账（一）" in text
    face = pdfmetrics.getFont(font.name).face
    assert all(ord(ch) in face.charToGlyph for ch in PUNCTUATION)   # real glyphs, no tofu
    reader = PdfReader(str(out))
    fonts_used = reader.pages[0]["/Resources"]["/Font"]
    embedded = []
    for ref in fonts_used.values():
        descriptor = ref.get_object().get("/FontDescriptor")
        embedded.append(descriptor is not None and "/FontFile2" in descriptor.get_object())
    assert embedded and all(embedded)


def test_the_fallback_font_is_not_embedded_but_still_prints(tmp_path):
    fallback = fonts._fallback()
    assert fallback.warning and fallback.path is None
    out = tmp_path / "l.pdf"
    draw(LedgerTable("台账", COLUMNS, [Group(None, [("王芳", "1", "1", PUNCTUATION)])]),
         out, fallback.name)
    assert PUNCTUATION in texts(out)[0]


def test_an_empty_ledger_is_one_page_that_says_so(tmp_path, font):
    out = tmp_path / "l.pdf"
    result = draw(LedgerTable("台账", COLUMNS, [Group(None, [])], count_unit="户"), out,
                  font.name)
    text = texts(out)
    assert result["pages"] == 1 and len(text) == 1
    assert "（无记录）" in text[0] and "合计：共 0 户" in text[0] and "填报人" in text[0]


def test_cancel_leaves_the_old_file_and_no_temporary(tmp_path, font):
    out = tmp_path / "l.pdf"
    out.write_bytes(b"old")
    seen = []

    def progress(done, total):
        seen.append((done, total))
        return len(seen) < 3

    with pytest.raises(Cancelled):
        draw(LedgerTable("台账", COLUMNS, [Group(None, rows(3000))]), out, font.name,
             progress=progress)
    assert out.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.pdf"]
    assert all(done <= total for done, total in seen)


def test_progress_reaches_the_end(tmp_path, font):
    seen = []
    draw(LedgerTable("台账", COLUMNS, [Group(None, rows(1200))]), tmp_path / "l.pdf",
         font.name, progress=lambda d, t: seen.append((d, t)))
    assert seen[-1][0] == seen[-1][1]
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_portrait_and_landscape(tmp_path, font):
    for landscape in (True, False):
        out = tmp_path / f"{landscape}.pdf"
        draw(LedgerTable("台账", COLUMNS, [Group(None, rows(3))], landscape=landscape), out,
             font.name)
        box = PdfReader(str(out)).pages[0].mediabox
        assert (float(box.width) > float(box.height)) == landscape
