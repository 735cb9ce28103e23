"""Pinyin initials of names for search ("wf" finds 王芳), with polyphonic surnames right."""
from __future__ import annotations

from functools import lru_cache

# Surnames whose reading differs from the character's everyday one.
SURNAME_INITIALS = {
    "单": "s", "曾": "z", "解": "x", "仇": "q", "区": "o", "覃": "q", "查": "z", "朴": "p",
    "盖": "g", "乐": "y", "尉": "y", "缪": "m", "长": "c", "重": "c", "折": "s", "瞿": "q",
    "翟": "z", "种": "c", "句": "g", "万俟": "mq", "尉迟": "yc",
}


@lru_cache(maxsize=200_000)
def initials(name: str) -> str:
    from pypinyin import Style, lazy_pinyin

    name = name.strip()
    for surname in sorted(SURNAME_INITIALS, key=len, reverse=True):
        if name.startswith(surname):
            head, rest = SURNAME_INITIALS[surname], name[len(surname):]
            break
    else:
        head, rest = "", name
    tail = lazy_pinyin(rest, style=Style.FIRST_LETTER, errors=lambda s: s.lower())
    return (head + "".join(tail)).lower()
