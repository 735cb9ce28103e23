"""Finding the header row and mapping its columns to fields by the registry's synonyms.

A confirmed mapping is remembered in the database settings under the sheet's header
signature, so the next file with the same headers maps the same way.
"""
from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

from shequ_desktop.core import settings
from shequ_desktop.core.fields import HOUSEHOLD_FIELDS, IMPORT_FIELDS, RESIDENT_FIELDS

HEADER_SCAN = 30                    # rows searched for the header (title rows above it)
TOTAL_WORDS = ("合计", "总计", "小计", "共计")
SETTINGS_PREFIX = "import_mapping:"


@dataclass(frozen=True)
class Target:
    key: str        # 'name', 'id_number', …, 'household_no', 'address', 'head_name', …
    label: str


def _targets() -> tuple[tuple[Target, tuple[str, ...]], ...]:
    out = []
    for f in RESIDENT_FIELDS:
        if f.editable or f.name == "relation_to_head":
            out.append((Target(f.name, f.label), (f.label, *f.synonyms)))
    for f in HOUSEHOLD_FIELDS:
        if f.name in ("household_no", "kind"):
            out.append((Target(f.name, f.label), (f.label, *f.synonyms)))
    for f in IMPORT_FIELDS:
        out.append((Target(f.name, f.label), (f.label, *f.synonyms)))
    return tuple(out)


TARGETS = _targets()
TARGET_LABELS = {t.key: t.label for t, _words in TARGETS}


def header_key(text) -> str:
    """'  公民身份 号码* ' and '公民身份号码（必填）' both give '公民身份号码'."""
    s = unicodedata.normalize("NFKC", str(text or "")).lower()
    s = re.sub(r"[(（\[【].*?[)）\]】]", "", s)      # (必填), （选填）, [文本]
    return re.sub(r"[\s*:：_]", "", s)


_BY_WORD = {header_key(word): t.key for t, words in TARGETS for word in words}


def guess(header) -> str | None:
    """The field a header names, or None. A two-row header's combined label ("联系方式/手机")
    names the field of its whole text, else of its sub label."""
    key = _BY_WORD.get(header_key(header))
    if key is None and isinstance(header, str) and "/" in header:
        key = _BY_WORD.get(header_key(header.rsplit("/", 1)[1]))
    return key



def auto_mapping(headers: list) -> list[str | None]:
    """One field key (or None) per column; a field is given to its first column only."""
    out: list[str | None] = []
    for h in headers:
        key = guess(h)
        out.append(None if key in out else key)
    return out


def signature(headers: list) -> str:
    joined = "\x1f".join(header_key(h) for h in headers)
    return hashlib.sha1(joined.encode("utf-8")).hexdigest()[:16]


def remembered(conn, headers: list) -> list[str | None] | None:
    saved = settings.get(conn, SETTINGS_PREFIX + signature(headers))
    if not isinstance(saved, list) or len(saved) != len(headers):
        return None
    return [k if k in TARGET_LABELS else None for k in saved]


def remember(conn, headers: list, mapping: list[str | None]) -> None:
    settings.put(conn, SETTINGS_PREFIX + signature(headers), list(mapping))


def mapping_for(conn, headers: list) -> list[str | None]:
    """The remembered mapping for these headers, else the automatic one."""
    return remembered(conn, headers) or auto_mapping(headers)


def is_blank(row: list) -> bool:
    for c in row:                        # stops at the first filled cell: most rows, at once
        if c is None or c == "" or (type(c) is str and not c.strip()):
            continue
        return False
    return True


def is_total(row: list) -> bool:
    """A 合计 row below the data: its first non-empty cell starts with 合计/总计/…"""
    for c in row:
        s = "".join(str(c).split()) if c is not None else ""
        if s:
            return s.startswith(TOTAL_WORDS)
    return False
