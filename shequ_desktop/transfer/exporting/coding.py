"""How a template wants values written (issue 16): code-table values as label or code, dates
as real dates or as text, and the community's administrative-division code (GB/T 2260 /
统计用区划代码), a setting of the database written where a template asks for 现住地."""
from __future__ import annotations

import re
from dataclasses import replace

from db import atomic
from db.driver import sqlite3
from shequ_desktop.core import audit, settings
from shequ_desktop.core.codes import normalize
from shequ_desktop.core.errors import DomainError

DIVISION_KEY = "community.division_code"
CODINGS = ("label", "code")
DATE_FORMATS = ("", "YYYYMMDD", "YYYY-MM-DD")
_ASKS_CODE = ("代码", "编码", "代码值")
_COMPACT_DATE = re.compile(r"yyyymmdd|年月日8位|8位日期", re.IGNORECASE)


def division_code(conn: sqlite3.Connection) -> str | None:
    return settings.get(conn, DIVISION_KEY)


def set_division_code(conn: sqlite3.Connection, code: str, actor: str = "系统") -> str:
    """Store the community's division code (6-digit county, 9-digit township or 12-digit
    统计用区划代码), once per database: every PC using it writes the same code."""
    text = normalize(code or "")
    if not re.fullmatch(r"\d{6}|\d{9}|\d{12}", text):
        raise DomainError(f"行政区划代码“{code}”应为 6、9 或 12 位数字"
                          "（如 510104 或 510104001001）")
    old = division_code(conn)
    if old != text:
        with atomic(conn):
            settings.put(conn, DIVISION_KEY, text)
            audit.record(conn, actor, "settings", entity="settings",
                         summary=f"社区行政区划代码：{old or '（空）'} → {text}",
                         detail={"key": DIVISION_KEY, "old": old, "new": text})
    return text


def asks_code(header: str) -> bool:
    """A header such as 性别代码 or 民族（编码） asks for the code, not the label."""
    return any(word in header for word in _ASKS_CODE)


def header_dates(header: str) -> str | None:
    """The date format a header asks for (出生日期(YYYYMMDD) → YYYYMMDD), None if it says
    nothing."""
    return "YYYYMMDD" if _COMPACT_DATE.search(header) else None


def bare(header: str) -> str:
    """A header without what only decorates it: the required mark *, a bracketed format or
    coding hint, spaces; what names the field is left."""
    text = normalize(header).replace("*", "").replace("＊", "")
    text = re.sub(r"[（(][^）)]*(代码|编码|yyyy|YYYY|格式|必填)[^）)]*[）)]", "", text)
    for word in _ASKS_CODE:
        if text.endswith(word) and len(text) > len(word):
            text = text[:-len(word)]
    return text


def apply(column, *, coding: str | None = None, dates: str | None = None):
    """The column as a template wants it written (only what applies to its kind)."""
    if coding is not None and coding not in CODINGS:
        raise DomainError(f"编码方式应为 label 或 code（现为“{coding}”）")
    if dates is not None and dates not in DATE_FORMATS:
        raise DomainError(f"日期格式应为 YYYYMMDD 或 YYYY-MM-DD（现为“{dates}”）")
    changes = {}
    if coding is not None and column.kind.startswith("code:"):
        changes["coding"] = coding
    if dates is not None and column.kind == "date":
        changes["dates"] = dates
    return replace(column, **changes) if changes else column
