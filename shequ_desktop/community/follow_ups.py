"""Work that a meeting (议事协商) or a check-up (社区体检) hands on becomes an event in the
closed loop (events.py): reported on the day it was decided, by whoever owns it, in the unit it
concerns, and accepted at once with a deadline when one is given (issue 21)."""
from __future__ import annotations

from shequ_desktop.casework import events
from shequ_desktop.core.context import Context, Result
from shequ_desktop.core.errors import DomainError, FieldError, ValidationError
from shequ_desktop.core.validation import clean_text


def clean_item(content, owner, label: str) -> tuple[str, str | None]:
    """(the item's text, its owner) cleaned; ValidationError naming `label` when empty."""
    text = clean_text(content)
    if not text:
        raise ValidationError([FieldError("content", label, "不能为空")])
    return text, clean_text(owner, multiline=False) if owner else None


def open_event(ctx: Context, unit_id: int, category: str, description: str, day: str,
               reporter: str, *, location: str | None = None,
               deadline_days: int | None = None, note: str | None = None) -> Result:
    """The event (inside the caller's transaction), accepted on `day` when `deadline_days`."""
    found = ctx.conn.execute("SELECT id FROM event_categories WHERE name = ?",
                             (category,)).fetchone()
    if found is None:
        raise DomainError(f"没有“{category}”这一事件类别")
    event = events.report_event(ctx, unit_id, found[0], description, day, reporter,
                                location=location)
    changes = list(event.changes)
    if deadline_days:
        changes += events.accept(ctx, event.id, deadline_days, note=note, on=day).changes
    return Result(event.id, changes)
