"""Residents (人员) and their membership of households: create, edit, join or move between
households, a new head, move out, death, closing a household its last member left.

People are never deleted: moving out and death change their status and keep the record.
"""
from __future__ import annotations

import datetime as dt

from shequ_desktop.core import pinyin
from shequ_desktop.core.addresses import house_address
from shequ_desktop.core.context import Change, Context, Result
from shequ_desktop.core.errors import (
    ConflictError,
    DomainError,
    FieldError,
    ValidationError,
)
from shequ_desktop.core.fields import field, fields
from shequ_desktop.core.statuses import CLOSED, DECEASED, MOVED_OUT, ON_RECORD
from shequ_desktop.core.validation import clean_record, clean_value

HEAD = "02"                       # GB/T 4761 户主
HEAD_RELATIONS = ("01", "02")     # 本人 / 户主: only the head has them
EDITABLE = tuple(f.name for f in fields("residents") if f.editable)


def _date(name: str, value) -> str:
    """The date of a move or death: today when not given, never in the future."""
    f = field("residents", name)
    try:
        return clean_value(f, value or dt.date.today(), dt.date.today())
    except ValueError as exc:
        raise ValidationError([FieldError(name, f.label, str(exc))]) from None


def _relation(relation: str | None, head: bool) -> str:
    f = field("residents", "relation_to_head")
    try:
        code = clean_value(f, relation, dt.date.today()) if relation else None
    except ValueError as exc:
        raise ValidationError([FieldError(f.name, f.label, str(exc))]) from None
    if head:
        return HEAD
    if code is None:
        raise ValidationError([FieldError(f.name, f.label, "不能为空")])
    if code in HEAD_RELATIONS:
        raise ValidationError([FieldError(f.name, f.label,
                                          "户内已有户主；更换户主请使用“设为户主”")])
    return code


def add_event(ctx: Context, resident_id: int, kind: str, date: str, household_id: int | None,
              from_household_id: int | None = None, note: str | None = None) -> list[Change]:
    """One line of a resident's history (迁入, 户间迁移, 迁出, 死亡, 设为户主)."""
    return ctx.insert("resident_events", {
        "resident_id": resident_id, "kind": kind, "date": date, "household_id": household_id,
        "from_household_id": from_household_id, "note": note})[1]


def insert_resident(ctx: Context, household_id: int, values: dict, relation: str,
                    *, head: bool = False) -> tuple[int, list[Change]]:
    """Validate and insert one resident into a household (inside the caller's transaction)."""
    non_editable = set(values) - set(EDITABLE)
    if non_editable:
        raise DomainError(f"这些字段不能直接填写：{sorted(non_editable)}")
    try:
        relation_code = _relation(relation, head)
        relation_errors = []
    except ValidationError as exc:
        relation_errors = exc.errors
    try:
        clean = clean_record("residents", values)
    except ValidationError as exc:       # every wrong field at once, the relation too
        raise ValidationError(exc.errors + relation_errors) from None
    if relation_errors:
        raise ValidationError(relation_errors)
    clean["relation_to_head"] = relation_code
    clean["name_initials"] = pinyin.initials(clean["name"])
    clean["household_id"] = household_id
    clean["status"] = ON_RECORD
    # The history says 迁入 on a day; the record (and so every export) says the same day.
    clean["moved_in_at"] = clean.get("moved_in_at") or dt.date.today().isoformat()
    _check_id_free(ctx, clean.get("id_number"))
    new_id, changes = ctx.insert("residents", clean)
    changes += add_event(ctx, new_id, "迁入", clean["moved_in_at"], household_id)
    return new_id, changes


def add_member(ctx: Context, household_id: int, values: dict, relation: str) -> Result:
    with ctx.transaction():
        household = ctx.get("households", household_id)
        if household["status"] != ON_RECORD:
            raise DomainError("该户已注销，不能添加成员")
        new_id, changes = insert_resident(ctx, household_id, values, relation)
    return Result(new_id, changes)


def update_resident(ctx: Context, resident_id: int, values: dict,
                    expected: dict | None = None) -> Result:
    """Edit a resident's own fields (moves, deaths and relations have their own actions).

    `expected` is the record as the editor read it: if its version is no longer current,
    someone else saved in between and the edit is refused (ConflictError), never overwriting.
    """
    non_editable = set(values) - set(EDITABLE)
    if non_editable:
        raise DomainError(f"这些字段需通过专门的操作修改：{sorted(non_editable)}")
    with ctx.transaction():
        current = ctx.get("residents", resident_id)
        if expected is not None:
            check_version(current, expected)
        clean = clean_record("residents", values, existing=current)
        if clean.get("id_number"):
            _check_id_free(ctx, clean["id_number"], resident_id)
        if "name" in clean:
            clean["name_initials"] = pinyin.initials(clean["name"])
        return Result(resident_id, ctx.update("residents", resident_id, clean, current))


def check_version(current: dict, expected: dict) -> None:
    """Refuse when the record changed since `expected` was read; say what changed."""
    if current["version"] == expected.get("version"):
        return
    labels = {f.name: f.label for f in fields("residents")}
    changed = {k: (expected.get(k), v) for k, v in current.items()
               if k in labels and expected.get(k) != v}
    detail = "、".join(f"{labels[k]}（{old or '空'} → {new or '空'}）"
                      for k, (old, new) in changed.items())
    raise ConflictError(f"{current['name']}的信息已被他人修改，本次保存未生效。"
                        + (f"对方修改了：{detail}。" if detail else "")
                        + "请重新打开后再编辑。", changed)


def set_relation(ctx: Context, resident_id: int, relation: str) -> Result:
    with ctx.transaction():
        current = ctx.get("residents", resident_id)
        if _is_head(ctx, current):
            raise DomainError("户主的关系固定为“户主”；请先把户主换给他人")
        code = _relation(relation, head=False)
        return Result(resident_id, ctx.update("residents", resident_id,
                                              {"relation_to_head": code}, current))


def _is_head(ctx: Context, resident: dict) -> bool:
    row = ctx.conn.execute("SELECT head_resident_id FROM households WHERE id = ?",
                           (resident["household_id"],)).fetchone()
    return bool(row) and row[0] == resident["id"]


def _active(ctx: Context, resident_id: int) -> dict:
    resident = ctx.get("residents", resident_id)
    if resident["status"] != ON_RECORD:
        raise DomainError(f"{resident['name']}的状态是“{resident['status']}”，不能再办理此操作")
    return resident


def set_head(ctx: Context, household_id: int, resident_id: int,
             old_head_relation: str = "99") -> Result:
    """Make an active member the head; the old head (if still active) gets `old_head_relation`."""
    with ctx.transaction():
        household = ctx.get("households", household_id)
        resident = ctx.get("residents", resident_id)
        if resident["household_id"] != household_id or resident["status"] != ON_RECORD:
            raise DomainError(f"{resident['name']}不是该户的在册成员，不能设为户主")
        changes = []
        old_id = household["head_resident_id"]
        if old_id == resident_id:
            return Result(household_id, [])
        if old_id is not None:
            old = ctx.get("residents", old_id)
            if old["status"] == ON_RECORD and old["household_id"] == household_id:
                changes += ctx.update("residents", old_id, {
                    "relation_to_head": _relation(old_head_relation, head=False)}, old)
        changes += ctx.update("residents", resident_id, {"relation_to_head": HEAD}, resident)
        changes += add_event(ctx, resident_id, "设为户主", dt.date.today().isoformat(),
                             household_id)
        changes += ctx.update("households", household_id, {"head_resident_id": resident_id},
                              household)
    return Result(household_id, changes)


def close_household(ctx: Context, household_id: int, leaving_id: int | None = None) -> Result:
    """注销 a household whose last member has left, or is leaving (`leaving_id`); the head
    stays recorded as history."""
    with ctx.transaction():
        left = ctx.conn.execute(
            "SELECT count(*) FROM residents WHERE household_id = ? AND status = ? "
            "AND id IS NOT ?", (household_id, ON_RECORD, leaving_id)).fetchone()[0]
        if left:
            raise DomainError(f"户内还有 {left} 名在册成员，不能注销")
        return Result(household_id, ctx.update("households", household_id, {"status": CLOSED}))


def _leave_household(ctx: Context, resident: dict, new_head_id: int | None,
                     old_head_relation: str | None) -> list[Change]:
    """Handle the household the resident leaves: hand over the head, or close it when empty."""
    changes: list[Change] = []
    household_id = resident["household_id"]
    others = ctx.conn.execute(
        "SELECT count(*) FROM residents WHERE household_id = ? AND status = ? AND id <> ?",
        (household_id, ON_RECORD, resident["id"])).fetchone()[0]
    if not _is_head(ctx, resident):
        return changes
    if others and new_head_id is None:
        raise DomainError(f"{resident['name']}是户主，户内还有 {others} 人，请先指定新户主")
    if new_head_id == resident["id"]:
        raise DomainError(f"{resident['name']}正要离开本户，不能再任户主，请指定其他成员")
    if others:
        changes += set_head(ctx, household_id, new_head_id,
                            old_head_relation=old_head_relation or "99").changes
    else:
        changes += close_household(ctx, household_id, leaving_id=resident["id"]).changes
    return changes


def _end_tags(ctx: Context, resident_id: int, when: str) -> list[Change]:
    """Someone who moved out or died leaves their focus groups on that day."""
    changes: list[Change] = []
    for row in ctx.conn.execute("SELECT * FROM resident_tags WHERE resident_id = ? "
                                "AND until IS NULL", (resident_id,)).fetchall():
        changes += ctx.update("resident_tags", row["id"],
                              {"until": max(when, row["since"])}, dict(row))
    return changes


def _check_id_free(ctx: Context, id_number: str | None, own_id: int | None = None) -> None:
    """One ID number, one person on record."""
    if not id_number:
        return
    other = ctx.conn.execute(
        f"SELECT id, name FROM residents WHERE id_number = ? AND status = '{ON_RECORD}' AND id IS NOT ?",
        (id_number, own_id)).fetchone()
    if other:
        raise ValidationError([FieldError(
            "id_number", "身份证号",
            f"已登记给在册人员{other['name']}（编号 {other['id']}），请勿重复登记")])


def move_to_household(ctx: Context, resident_id: int, household_id: int, relation: str,
                      date=None, *, new_head_id: int | None = None) -> Result:
    """Move an active resident into another active household, with their new relation."""
    when = _date("moved_in_at", date)
    with ctx.transaction():
        resident = _active(ctx, resident_id)
        target = ctx.get("households", household_id)
        if target["id"] == resident["household_id"]:
            raise DomainError(f"{resident['name']}已在该户")
        if target["status"] != ON_RECORD:
            raise DomainError("目标户已注销")
        code = _relation(relation, head=False)
        changes = _leave_household(ctx, resident, new_head_id, None)
        changes += ctx.update("residents", resident_id,
                              {"household_id": household_id, "relation_to_head": code})
        changes += add_event(ctx, resident_id, "户间迁移", when, household_id,
                             resident["household_id"])
    return Result(resident_id, changes)


def move_out(ctx: Context, resident_id: int, date=None, destination: str = "",
             *, new_head_id: int | None = None) -> Result:
    """迁出: the resident stays on record with status 迁出, the date and where they went."""
    when = _date("moved_out_at", date)
    with ctx.transaction():
        resident = _active(ctx, resident_id)
        changes = _leave_household(ctx, resident, new_head_id, None)
        where = " ".join(str(destination or "").split()) or None
        changes += ctx.update("residents", resident_id, {
            "status": MOVED_OUT, "moved_out_at": when, "moved_out_to": where})
        changes += add_event(ctx, resident_id, MOVED_OUT, when, None, resident["household_id"],
                             where)
        changes += _end_tags(ctx, resident_id, when)
    return Result(resident_id, changes)


def record_death(ctx: Context, resident_id: int, date=None,
                 *, new_head_id: int | None = None) -> Result:
    when = _date("death_date", date)
    with ctx.transaction():
        resident = _active(ctx, resident_id)
        if resident["birth_date"] and when < resident["birth_date"]:
            raise ValidationError([FieldError("death_date", "死亡日期", "早于出生日期")])
        changes = _leave_household(ctx, resident, new_head_id, None)
        changes += ctx.update("residents", resident_id, {"status": DECEASED, "death_date": when})
        changes += add_event(ctx, resident_id, DECEASED, when, resident["household_id"])
        changes += _end_tags(ctx, resident_id, when)
    return Result(resident_id, changes)


def history(ctx: Context, resident_id: int) -> list[str]:
    """The resident's history as lines a person reads, oldest first.

    e.g. "2019-05-01 迁入 3号楼1单元501", "2026-03-02 迁出 → 朝阳区某社区".
    """
    lines = []
    for e in ctx.conn.execute("""
            SELECT e.kind, e.date, e.note, e.household_id, e.from_household_id
            FROM resident_events e WHERE e.resident_id = ? ORDER BY e.date, e.id""",
                              (resident_id,)):
        text = f"{e['date']} {e['kind']}"
        if e["kind"] in ("迁入", "户间迁移") and e["household_id"]:
            text += f" {household_address(ctx, e['household_id'])}"
        if e["kind"] == "户间迁移" and e["from_household_id"]:
            text += f"（原 {household_address(ctx, e['from_household_id'])}）"
        if e["note"]:
            text += f" → {e['note']}" if e["kind"] == MOVED_OUT else f"：{e['note']}"
        lines.append(text)
    return lines


def household_address(ctx: Context, household_id: int) -> str:
    """'阳光社区 幸福花园 3号楼1单元501' for a household's house, or '户 #12' when it has none."""
    row = ctx.conn.execute("SELECT house_id FROM households WHERE id = ?",
                           (household_id,)).fetchone()
    return (house_address(ctx.conn, row[0]) if row else "") or f"户 #{household_id}"
