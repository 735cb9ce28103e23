"""Copying rows of a list to the clipboard (issue 18): it is data leaving the program, like an
export — sensitive fields (the registry's `sensitive`: ID numbers, phones) are masked, and the
copy is recorded in the audit trail with how many records and which fields."""
from __future__ import annotations

from db import StorageError
from db.driver import sqlite3
from shequ_desktop.core import audit
from shequ_desktop.core.fields import ENTITY_LABELS, REGISTRY
from shequ_desktop.core.masking import mask_id, mask_phone


def masked(entity: str, key: str, text: str) -> str:
    """A cell's text as it may be copied: masked when the field is sensitive."""
    field = next((f for f in REGISTRY.get(entity, ()) if f.name == key), None)
    if field is None or not field.sensitive or not text:
        return text
    return mask_phone(text) if field.kind == "phone" else mask_id(text)


def copy_rows(conn: sqlite3.Connection, actor: str, entity: str, keys: list[str],
              rows: list[list[str]]) -> list[list[str]]:
    """The rows (cells as shown, in the order of `keys`) with sensitive fields masked; the copy
    recorded. A database that cannot be written (opened read-only) still gets the masked
    rows: nothing sensitive leaves unrecorded."""
    out = [[masked(entity, key, cell) for key, cell in zip(keys, row)] for row in rows]
    label = ENTITY_LABELS.get(entity, entity)
    try:
        audit.record(conn, actor, "export", entity=entity,
                     summary=f"复制 {len(rows)} 条{label}到剪贴板（已脱敏）",
                     detail={"to": "clipboard", "rows": len(rows), "fields": keys,
                             "unmask": False})
    except (sqlite3.Error, StorageError):          # opened read-only (damaged)
        pass
    return out
