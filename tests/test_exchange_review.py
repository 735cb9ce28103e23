"""Review of the data packages (issue 10): defects found and fixed, each with its test."""
import pytest

from exchange_helpers import PASSPHRASE
from shequ_desktop import exchange, houses, merging
from test_exchange import Side, dbs, pair, sides  # noqa: F401  (fixtures)


def _building(side) -> int:
    return side.conn.execute("SELECT id FROM grid_units WHERE level = 'building'"
                             " ORDER BY id LIMIT 1").fetchone()[0]


def _count(side, table: str, uuid: str) -> int:
    return side.conn.execute(f"SELECT count(*) FROM {table} WHERE uuid = ?",
                             (uuid,)).fetchone()[0]


def test_the_office_deleting_a_record_the_laptop_made_deletes_it_on_the_laptop(sides):
    """A house the 网格员 added reaches the office, which deletes it (a duplicate) before it
    ever sends a package back: the laptop never changed it since, so it must go there too,
    not be refused as "本机修改过它" forever and keep travelling back to the office."""
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "997", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    assert laptop.send(office).new == {"houses": 1}
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.delete_house(office.ctx, at_office)
    back = office.send(laptop)
    assert back.refused == []
    assert back.deleted == {"houses": 1}
    assert _count(laptop, "houses", uuid) == 0
    again = laptop.send(office)
    assert again.refused == [] and again.totals()["new"] == 0
    assert _count(office, "houses", uuid) == 0


def test_the_laptop_changing_a_record_the_office_deleted_keeps_it(sides):
    """The other half of the rule above: a record changed here after the other side last
    saw it is not deleted by that side's tombstone."""
    office, laptop = sides
    made = houses.create_house(laptop.ctx, _building(laptop), {"room_no": "996", "floor": 9}).id
    uuid = laptop.ctx.get("houses", made)["uuid"]
    laptop.send(office)
    at_office = office.conn.execute("SELECT id FROM houses WHERE uuid = ?", (uuid,)).fetchone()[0]
    houses.delete_house(office.ctx, at_office)
    houses.update_house(laptop.ctx, made, {"usage": "出租"})
    back = office.send(laptop)
    assert back.deleted == {}
    assert [r["reason"] for r in back.refused] == ["对方已删除这条记录，但本机修改过它；未删除"]
    assert _count(laptop, "houses", uuid) == 1
