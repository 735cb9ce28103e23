"""Households (户) as records: founding one with its head, its 户号, its room, its members list.
Who belongs to a household and who heads it (joining, leaving, a new head, closing an emptied
household) is shequ_desktop.population.residents."""
from __future__ import annotations

from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError
from shequ_desktop.core.statuses import ON_RECORD, OWNER_OCCUPIED, VACANT
from shequ_desktop.core.validation import clean_record
from shequ_desktop.population.residents import (
    HEAD,
    insert_resident,
)


def create_household(ctx: Context, house_id: int | None, head: dict,
                     values: dict | None = None) -> Result:
    """A new household with its head (a new resident) in one transaction. Without a 户号 it
    gets one (house unit, the household's place in the house, its id); an empty (空置) house
    it moves into becomes 自住."""
    clean = clean_record("households", values or {})
    with ctx.transaction():
        house = ctx.get("houses", house_id) if house_id is not None else None
        hh_id, changes = ctx.insert("households", {**clean, "house_id": house_id,
                                                   "kind": clean.get("kind") or "1"})
        head_id, more = insert_resident(ctx, hh_id, head, HEAD, head=True)
        changes += more
        update = {"head_resident_id": head_id}
        if not clean.get("household_no"):
            update["household_no"] = _household_no(ctx, house, hh_id)
        changes += ctx.update("households", hh_id, update)
        if house is not None and house["usage"] == VACANT:
            changes += ctx.update("houses", house_id, {"usage": OWNER_OCCUPIED}, house)
    return Result(hh_id, changes)




def _household_no(ctx: Context, house: dict | None, household_id: int) -> str:
    """'00017' (the house's unit) + '02' (second household there) + '002824' (the id), the
    shape of the demo's and the 户籍 numbers; '00000' + '01' + id without a house."""
    if house is None:
        return f"{0:05d}01{household_id:06d}"
    k = ctx.conn.execute("SELECT count(*) FROM households WHERE house_id = ?",
                         (house["id"],)).fetchone()[0]
    return f"{house['unit_id']:05d}{k:02d}{household_id:06d}"


def update_household(ctx: Context, household_id: int, values: dict) -> Result:
    if "status" in values:
        raise DomainError("户的状态由成员变动决定，不能直接修改")
    with ctx.transaction():
        current = ctx.get("households", household_id)
        clean = clean_record("households", values, existing=current)
        return Result(household_id, ctx.update("households", household_id, clean, current))



def move_household(ctx: Context, household_id: int, house_id: int) -> Result:
    """The whole household moves to another room."""
    with ctx.transaction():
        household = ctx.get("households", household_id)
        if household["status"] != ON_RECORD:
            raise DomainError("该户已注销，不能迁移")
        ctx.get("houses", house_id)
        return Result(household_id, ctx.update("households", household_id,
                                               {"house_id": house_id}, household))


def members(ctx: Context, household_id: int, include_inactive: bool = False) -> list[dict]:
    sql = "SELECT * FROM residents WHERE household_id = ?"
    if not include_inactive:
        sql += f" AND status = '{ON_RECORD}'"
    sql += " ORDER BY relation_to_head, birth_date"
    return [dict(r) for r in ctx.conn.execute(sql, (household_id,))]
