"""社区体检 photos per item per compound: kept in the database (encrypted with it), refused with
a clear message when they cannot be, counted beside their item and shown as thumbnails in the
printed report, added from the command line."""
import datetime as dt

import pytest
from PIL import Image
from pypdf import PdfReader

from shequ_desktop.community import checkups
from shequ_desktop.places import grid
from shequ_desktop.core.access import GRID_WORKER, Access, NotPermitted
from shequ_desktop.cli.main import main
from shequ_desktop.core.context import Context
from shequ_desktop.core.errors import DomainError
from shequ_desktop.reports.pdf.checkup_report import build

YEAR = dt.date.today().year


@pytest.fixture
def checkup(ctx, place):
    compound = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    return checkups.start_checkup(ctx, compound, YEAR, dt.date.today(), "社区两委").id


def jpeg(path, colour=(200, 90, 90)):
    Image.new("RGB", (400, 300), colour).save(path)
    return path


def test_photos_are_kept_per_item_and_bad_ones_refused(tmp_path, conn, ctx, place, checkup):
    first = checkups.add_photo(ctx, checkup, "C2", jpeg(tmp_path / "车棚.jpg")).id
    checkups.add_photo(ctx, checkup, "C2", name="充电桩.png", data=b"\x89PNG not really")
    photos = checkups.get_checkup(conn, checkup)["photos"]
    assert [p["name"] for p in photos["C2"]] == ["车棚.jpg", "充电桩.png"]
    assert checkups.photo_data(conn, first) == ("车棚.jpg", (tmp_path / "车棚.jpg").read_bytes())
    with pytest.raises(DomainError, match="没有“Z9”"):
        checkups.add_photo(ctx, checkup, "Z9", jpeg(tmp_path / "x.jpg"))
    with pytest.raises(DomainError, match="无法读取"):
        checkups.add_photo(ctx, checkup, "C2", tmp_path / "不存在.jpg")
    with pytest.raises(DomainError, match="照片要有文件名和内容"):
        checkups.add_photo(ctx, checkup, "C2", name="空.jpg", data=b"")
    other = grid.create_unit(ctx, place.community, "grid", "第二网格").id
    worker = Context(conn, "网格员甲")
    worker.access = Access(GRID_WORKER, frozenset({other}))
    with pytest.raises(NotPermitted):
        checkups.add_photo(worker, checkup, "C2", jpeg(tmp_path / "y.jpg"))
    checkups.delete_photo(ctx, first)
    assert conn.execute("SELECT count(*) FROM checkup_photo_data").fetchone()[0] == 1


def test_the_report_counts_each_items_photos_and_shows_thumbnails(tmp_path, conn, ctx, checkup):
    checkups.set_result(ctx, checkup, "C2", "不达标", "车棚破损")
    for i in range(7):                       # two photo pages of six
        checkups.add_photo(ctx, checkup, "C2", jpeg(tmp_path / f"车棚{i}.jpg", (30 * i, 90, 90)))
    checkups.add_photo(ctx, checkup, "A1", name="坏的.jpg", data=b"not an image")
    out = tmp_path / "report.pdf"
    result = build(conn, checkup, out, actor="测试员")
    pages = PdfReader(str(out)).pages
    text = "".join(p.extract_text() for p in pages)
    assert "车棚破损（照片 7 张）" in text and "（照片 1 张）" in text
    assert result["photos"] == 8 and result["pages"] == len(pages)
    photo_pages = [p for p in pages if "社区体检 · 照片" in p.extract_text()]
    assert len(photo_pages) == 2
    assert [len(p.images) for p in photo_pages] == [5, 2]      # the bad one is a framed note
    assert "不是可显示的图片" in text and "车棚6.jpg" in text


def test_the_photo_command(tmp_path, conn, db_path, checkup, capsys):
    assert main(["checkup", "photo", "--db", str(db_path), str(checkup), "c2",
                 str(jpeg(tmp_path / "a.jpg")), str(jpeg(tmp_path / "b.jpg"))]) == 0
    assert "已存入 2 张照片" in capsys.readouterr().out
    assert len(checkups.photos(conn, checkup)["C2"]) == 2
