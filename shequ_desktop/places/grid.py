"""The grid units' services: create, rename, move and delete 街道 → 社区 → 网格 → 小区/院落 →
楼栋 → 单元 (the read-only queries of the tree are shequ_desktop.core.tree).

Lazy import, for start-up: the grid tree imports this module to offer its actions, and
validation (code tables, stdnum, phonenumbers behind it) loads at the first change of a unit.
"""
from __future__ import annotations

from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.tree import LEVEL_LABELS, LEVELS, ROOT_LEVELS, ancestors


def _check_parent(ctx: Context, level: str, parent_id: int | None) -> None:
    if level not in LEVELS:
        raise DomainError(f"未知的层级“{level}”")
    if parent_id is None:
        if level not in ROOT_LEVELS:
            raise DomainError(f"{LEVEL_LABELS[level]}必须属于上级单元")
        return
    parent = ctx.get("grid_units", parent_id)
    if LEVELS.index(level) <= LEVELS.index(parent["level"]):
        raise DomainError(f"{LEVEL_LABELS[level]}不能放在{LEVEL_LABELS[parent['level']]}"
                          f"“{parent['name']}”之下")


def _check_name_free(ctx: Context, parent_id: int | None, name: str, own_id: int | None = None):
    row = ctx.conn.execute(
        "SELECT id FROM grid_units WHERE parent_id IS ? AND name = ? AND id IS NOT ?",
        (parent_id, name, own_id)).fetchone()
    if row:
        raise ValidationError([FieldError("name", "名称", f"同一上级下已有“{name}”")])


def create_unit(ctx: Context, parent_id: int | None, level: str, name: str, *,
                code: str | None = None, floors: int | None = None,
                sort: int | None = None) -> Result:
    from shequ_desktop.core.validation import clean_record     # lazy, for start-up

    values = clean_record("grid_units", {"name": name, "code": code, "floors": floors,
                                         "notes": None})
    with ctx.transaction():
        _check_parent(ctx, level, parent_id)
        _check_name_free(ctx, parent_id, values["name"])
        if sort is None:
            sort = ctx.conn.execute(
                "SELECT coalesce(max(sort), -1) + 1 FROM grid_units WHERE parent_id IS ?",
                (parent_id,)).fetchone()[0]
        new_id, changes = ctx.insert("grid_units", {**values, "parent_id": parent_id,
                                                    "level": level, "sort": sort})
    return Result(new_id, changes)


def update_unit(ctx: Context, unit_id: int, values: dict) -> Result:
    """Rename or change code, floors, notes."""
    with ctx.transaction():
        current = ctx.get("grid_units", unit_id)
        from shequ_desktop.core.validation import clean_record  # lazy, for start-up

        clean = clean_record("grid_units", values, existing=current)
        if "name" in clean:
            _check_name_free(ctx, current["parent_id"], clean["name"], unit_id)
        return Result(unit_id, ctx.update("grid_units", unit_id, clean, current))


def rename_unit(ctx: Context, unit_id: int, name: str) -> Result:
    return update_unit(ctx, unit_id, {"name": name})


def move_unit(ctx: Context, unit_id: int, new_parent_id: int | None) -> Result:
    with ctx.transaction():
        current = ctx.get("grid_units", unit_id)
        if new_parent_id is not None and unit_id in ancestors(ctx.conn, new_parent_id):
            raise DomainError("不能把单元移到它自己或它的下级之下")
        _check_parent(ctx, current["level"], new_parent_id)
        _check_name_free(ctx, new_parent_id, current["name"], unit_id)
        return Result(unit_id, ctx.update("grid_units", unit_id,
                                          {"parent_id": new_parent_id}, current))


def delete_unit(ctx: Context, unit_id: int) -> Result:
    """Delete a unit only when nothing hangs on it."""
    with ctx.transaction():
        unit = ctx.get("grid_units", unit_id)
        children = ctx.conn.execute("SELECT count(*) FROM grid_units WHERE parent_id = ?",
                                    (unit_id,)).fetchone()[0]
        houses = ctx.conn.execute("SELECT count(*) FROM houses WHERE unit_id = ?",
                                  (unit_id,)).fetchone()[0]
        if children or houses:
            raise DomainError(f"“{unit['name']}”下还有 {children} 个下级单元、{houses} 套房屋，"
                              "不能删除。请先移走或删除它们。")
        return Result(unit_id, ctx.delete("grid_units", unit_id))
