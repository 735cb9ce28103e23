"""Houses (房屋): a room in a building or unit."""
from __future__ import annotations

from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.statuses import OWNER_OCCUPIED
from shequ_desktop.core.tree import HOUSE_LEVELS, LEVEL_LABELS
from shequ_desktop.core.validation import clean_record


def create_house(ctx: Context, unit_id: int, values: dict) -> Result:
    clean = clean_record("houses", {"usage": OWNER_OCCUPIED, **values})
    with ctx.transaction():
        unit = ctx.get("grid_units", unit_id)
        if unit["level"] not in HOUSE_LEVELS:
            raise DomainError(f"房屋只能登记在楼栋或单元下，“{unit['name']}”是"
                              f"{LEVEL_LABELS[unit['level']]}")
        _check_room_free(ctx, unit_id, clean["room_no"])
        new_id, changes = ctx.insert("houses", {**clean, "unit_id": unit_id})
    return Result(new_id, changes)


def update_house(ctx: Context, house_id: int, values: dict) -> Result:
    with ctx.transaction():
        current = ctx.get("houses", house_id)
        clean = clean_record("houses", values, existing=current)
        if "room_no" in clean:
            _check_room_free(ctx, current["unit_id"], clean["room_no"], house_id)
        return Result(house_id, ctx.update("houses", house_id, clean, current))


def _check_room_free(ctx: Context, unit_id: int, room_no: str, own_id: int | None = None):
    if ctx.conn.execute("SELECT 1 FROM houses WHERE unit_id = ? AND room_no = ? AND id IS NOT ?",
                        (unit_id, room_no, own_id)).fetchone():
        raise ValidationError([FieldError("room_no", "房号", f"该单元已有房号“{room_no}”")])


def delete_house(ctx: Context, house_id: int) -> Result:
    with ctx.transaction():
        house = ctx.get("houses", house_id)
        n = ctx.conn.execute("SELECT count(*) FROM households WHERE house_id = ?",
                             (house_id,)).fetchone()[0]
        if n:
            raise DomainError(f"房屋“{house['room_no']}”还登记着 {n} 户（含已注销户的历史），不能删除")
        return Result(house_id, ctx.delete("houses", house_id))
