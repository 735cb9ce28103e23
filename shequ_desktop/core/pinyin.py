"""Pinyin of names for search ("wf" and "wangfang" find 王芳), with polyphonic surnames right."""
from __future__ import annotations

import re
from functools import lru_cache

# Surnames read differently from the character's everyday reading.
SURNAME_PINYIN = {
    "单": ["shan"], "曾": ["zeng"], "解": ["xie"], "仇": ["qiu"], "区": ["ou"], "覃": ["qin"],
    "查": ["zha"], "朴": ["piao"], "盖": ["ge"], "乐": ["yue"], "尉": ["yu"], "缪": ["miao"],
    "长": ["chang"], "重": ["chong"], "折": ["she"], "瞿": ["qu"], "翟": ["zhai"],
    "种": ["chong"], "句": ["gou"], "员": ["yun"], "祭": ["zhai"], "繁": ["po"],
    "万俟": ["mo", "qi"], "尉迟": ["yu", "chi"],
}
_LONGEST_FIRST = sorted(SURNAME_PINYIN, key=len, reverse=True)


@lru_cache(maxsize=200_000)
def syllables(name: str) -> tuple[str, ...]:
    """One lower-case syllable per character (non-Chinese characters kept as they are)."""
    from pypinyin import Style, lazy_pinyin

    name = "".join(name.split())
    head: list[str] = []
    for surname in _LONGEST_FIRST:
        if name.startswith(surname):
            head, name = SURNAME_PINYIN[surname], name[len(surname):]
            break
    rest = lazy_pinyin(name, style=Style.NORMAL, errors=lambda s: list(s.lower()))
    return tuple(head) + tuple(s.lower() for s in rest)


def warm() -> None:
    """Load pypinyin's tables (0.2–0.4 s): the GUI calls this in a background thread after
    the window shows, so the first chooser sorted by pinyin does not wait for them."""
    syllables("拼音")


def initials(name: str) -> str:
    return "".join(s[0] for s in syllables(name) if s)


def full(name: str) -> str:
    return "".join(syllables(name))


def sort_key(text: str | None) -> tuple:
    """Chooser order a person expects: Chinese by pinyin (侯 after 初 and 刘 before 马), numbers
    as numbers (第2网格 before 第10网格). Each part is (0, number) or (1, syllable)."""
    out: list[tuple] = []
    for part in re.split(r"(\d+)", text or ""):
        if part.isdigit():
            out.append((0, int(part), ""))
        elif part:
            out.extend((1, 0, s) for s in syllables(part))
    return tuple(out)
