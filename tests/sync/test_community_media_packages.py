"""Issue 21 (second round): meeting attachments, check-up photos and a compound's plan image
travel in data packages — a real package written by one database and merged into another
holds the same bytes; the same content travels once; contents left out for size are asked
for and come with the next package back; deletions take the bytes with them."""
import datetime as dt

import pytest
from PIL import Image

import db
from tests.sync.exchange_helpers import PASSPHRASE
from shequ_desktop.community import checkups, meetings, siteplan
from shequ_desktop.sync import exchange, merging, package
from shequ_desktop.places import grid
from shequ_desktop.community import media
from shequ_desktop.core.context import Context

DAY = (dt.date.today() - dt.timedelta(days=5)).isoformat()


def png(path, colour, size=(640, 400)):
    Image.new("RGB", size, colour).save(path)
    return path


@pytest.fixture
def office(tmp_path, ctx, place):
    """A compound with a plan image, a meeting with two attachments (one content twice) and
    a check-up with a photo of an item."""
    compound = grid.create_unit(ctx, place.grid, "compound", "幸福花园").id
    grid.move_unit(ctx, place.building, compound)
    siteplan.set_image(ctx, compound, png(tmp_path / "plan.png", (200, 230, 200)))
    meeting = meetings.create_meeting(ctx, place.grid, "院落议事会", DAY, "加装电梯").id
    sheet = png(tmp_path / "签到表.png", (250, 250, 250), (300, 420))
    meetings.add_attachment(ctx, meeting, sheet)
    meetings.add_attachment(ctx, meeting, sheet, name="签到表-副本.png")
    checkup = checkups.start_checkup(ctx, compound, int(DAY[:4]), DAY, "社区两委").id
    checkups.add_photo(ctx, checkup, "A1", png(tmp_path / "门口.jpg", (180, 60, 60)))
    return {"grid": place.grid, "compound": compound, "meeting": meeting, "checkup": checkup}


def laptop_from(tmp_path, ctx, unit) -> Context:
    exchange.export_package(ctx, tmp_path / "handout.sqpkg", PASSPHRASE, unit)
    other = db.open_db(tmp_path / "laptop.db")
    laptop = Context(other, "网格员")
    result = merging.merge(laptop, tmp_path / "handout.sqpkg", PASSPHRASE)
    assert not result.refused
    return laptop


def send(tmp_path, sender: Context, receiver: Context, name: str) -> merging.MergeResult:
    """A package of what changed since the last exchange, merged at the other PC."""
    file = tmp_path / f"{name}.sqpkg"
    exchange.export_package(sender, file, PASSPHRASE, None,
                            exchange.settings.site_id(receiver.conn))
    return merging.merge(receiver, file, PASSPHRASE)


def held(conn) -> dict[str, dict[str, bytes]]:
    """{table: {record uuid: bytes}} of every media record held with its bytes."""
    out = {}
    for table, (data_table, key) in media.MEDIA.items():
        out[table] = {u: bytes(d) for u, d in conn.execute(
            f"SELECT r.uuid, d.data FROM {table} r JOIN {data_table} d ON d.{key} = r.id")}
    return out


def test_a_merged_package_brings_the_plan_the_attachments_and_the_photos(tmp_path, conn, ctx,
                                                                         office):
    laptop = laptop_from(tmp_path, ctx, office["grid"])
    try:
        ours, theirs = held(conn), held(laptop.conn)
        assert {t: len(v) for t, v in ours.items()} == {
            "meeting_attachments": 2, "checkup_photos": 1, "site_plans": 1}
        assert theirs == ours
        _manifest, data = package.read(tmp_path / "handout.sqpkg", PASSPHRASE)
        # the signed sheet attached twice travels once: three contents for four records
        assert len(data["blobs"]) == 3 and _manifest["counts"]["blobs"] == 3
        plan = siteplan.image(laptop.conn, laptop.conn.execute(
            "SELECT id FROM grid_units WHERE name = '幸福花园'").fetchone()[0])
        assert plan == siteplan.image(conn, office["compound"])
        photo = laptop.conn.execute("SELECT id FROM checkup_photos").fetchone()[0]
        assert checkups.photo_data(laptop.conn, photo)[0] == "门口.jpg"
    finally:
        laptop.conn.close()


def test_contents_left_out_for_size_come_with_the_next_package_back(tmp_path, conn, ctx,
                                                                    office, monkeypatch):
    # room for the smallest content only (the sheet): the photo and the plan wait
    sizes = sorted(len(d) for contents in held(conn).values() for d in contents.values())
    monkeypatch.setattr(media, "PACKAGE_BLOBS", sizes[0] + 10)
    laptop = laptop_from(tmp_path, ctx, office["grid"])
    try:
        manifest, _data = package.read(tmp_path / "handout.sqpkg", PASSPHRASE)
        assert manifest["blobs_left_out"] == 2
        assert {t: len(v) for t, v in held(laptop.conn).items()} == {
            "meeting_attachments": 2, "checkup_photos": 0, "site_plans": 0}
        photo = laptop.conn.execute("SELECT id FROM checkup_photos").fetchone()[0]
        checkup = laptop.conn.execute("SELECT id FROM checkups").fetchone()[0]
        assert not checkups.photos(laptop.conn, checkup)["A1"][0]["held"]
        with pytest.raises(Exception, match="还没有随数据包传来"):
            checkups.photo_data(laptop.conn, photo)
        assert len(media.missing(laptop.conn)) == 2
        # the laptop's next package asks; the office's next one brings them (room enough now)
        monkeypatch.setattr(media, "PACKAGE_BLOBS", media.MAX_FILE * 5)
        send(tmp_path, laptop, ctx, "back")
        result = send(tmp_path, ctx, laptop, "again")
        assert result.files == 2 and "收到附件、照片和平面图 2 个" in result.summary()
        assert held(laptop.conn) == held(conn) and media.missing(laptop.conn) == []
    finally:
        laptop.conn.close()


def test_a_replaced_plan_and_a_deleted_attachment_travel(tmp_path, conn, ctx, office):
    laptop = laptop_from(tmp_path, ctx, office["grid"])
    try:
        send(tmp_path, laptop, ctx, "hello")
        siteplan.set_image(ctx, office["compound"], png(tmp_path / "new.png", (90, 90, 200)))
        first = conn.execute("SELECT id FROM meeting_attachments ORDER BY id").fetchone()[0]
        meetings.delete_attachment(ctx, first)
        result = send(tmp_path, ctx, laptop, "change")
        assert not result.refused and result.deleted == {"meeting_attachments": 1}
        assert held(laptop.conn) == held(conn)
        assert laptop.conn.execute("SELECT count(*) FROM meeting_attachment_data").fetchone()[0] == 1
    finally:
        laptop.conn.close()


def test_a_package_with_a_blob_that_is_not_its_hash_stores_nothing_of_it(tmp_path, conn, ctx,
                                                                        office):
    exchange.export_package(ctx, tmp_path / "h.sqpkg", PASSPHRASE, office["grid"])
    manifest, data = package.read(tmp_path / "h.sqpkg", PASSPHRASE)
    forged = next(iter(data["blobs"]))
    data["blobs"][forged] = "aGVsbG8="                     # "hello", not what the hash names
    other = db.open_db(tmp_path / "laptop.db")
    try:
        merging.merge_data(Context(other, "网格员"), manifest, data)
        assert forged in media.missing(other) and len(media.missing(other)) == 1
    finally:
        other.close()
