"""Masking of ID numbers and phones on paper and in exports (DESIGN.md §8, §9)."""
from __future__ import annotations


def mask_id(value: str | None) -> str:
    """110105********1234: the region code and the last four stay, the birth date goes."""
    if not value:
        return ""
    text = str(value)
    keep = (6, 4) if len(text) > 10 else (2, 2) if len(text) > 4 else (0, 0)
    return text[:keep[0]] + "*" * (len(text) - sum(keep)) + text[len(text) - keep[1]:]


def mask_phone(value: str | None) -> str:
    """138****5678; landlines keep their area code and last four digits."""
    if not value:
        return ""
    text = str(value)
    if len(text) < 7:
        return "*" * len(text)
    return text[:3] + "*" * (len(text) - 7) + text[-4:]


# Masking rules a field can declare (Field.mask): exports, ledgers and the audit trail apply
# the rule, never the field's kind.
MASKS = {"id": mask_id, "phone": mask_phone}


def mask(rule: str | None, value) -> str:
    """`value` as shown under masking rule `rule` (None: unchanged)."""
    if value is None or value == "":
        return ""
    return MASKS[rule](str(value)) if rule else str(value)
