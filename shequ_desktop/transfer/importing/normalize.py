"""Normalising cells as spreadsheets deliver them: full-width characters, stray spaces,
numbers that should be text, Excel date serials, addresses (3栋2单元501, 3-2-501).

Every function either returns a clean value or raises ValueError with a Chinese reason.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from shequ_desktop.core.validation import parse_date

# The exact message of the issue: an 18-digit ID that arrived as a number has lost digits.
NUMERIC_ID = "身份证号在表格中被存为数字，末位已丢失，请将该列设为文本后重新导出"
EXCEL_EPOCH = dt.date(1899, 12, 30)        # serial 1 = 1900-01-01 (with Excel's 1900 leap bug)
_FORMULA_ESCAPE = re.compile(r"'[=+\-@]")
_OTHER_SPACE = re.compile(r"[^\S ]")                  # whitespace other than a plain space
# Control characters (tab and line breaks aside), zero-width and bidi-override characters:
# invisible in a cell, they make names that look alike differ, or reorder what a terminal shows.
INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e"
                       "\u2060-\u2064\u2066-\u2069\ufeff\ufff9-\ufffb]")
# Text that a spreadsheet would run as a formula (=cmd|' /C calc'!A0, @SUM(…), +HYPERLINK(…)).
FORMULA = re.compile(r"[=@]|[+\-]\s*[A-Za-z(]")


def text(value: Any) -> str:
    """A cell as text: NFKC (full-width → half-width), spaces folded (line breaks kept),
    12.0 → '12'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value != value:               # NaN
            return ""
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    s = str(value)
    if INVISIBLE.search(s):
        s = INVISIBLE.sub("", s.replace("\t", " "))
    if not (unicodedata.is_normalized("NFKC", s) and s == s.strip() and "  " not in s
            and not _OTHER_SPACE.search(s)):          # the common clean cell skips the work
        s = unicodedata.normalize("NFKC", s)
        s = "\n".join(" ".join(line.split()) for line in s.splitlines()).strip()
    if _FORMULA_ESCAPE.match(s):         # our exports escape = + - @ with a quote
        s = s[1:]
    return s


def id_number(value: Any) -> str:
    """An ID cell as text; a number of 16+ digits has lost its last digits: refuse it."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if abs(value) >= 1e15:
            raise ValueError(NUMERIC_ID)
        return text(value)
    s = text(value).replace(" ", "")
    if re.fullmatch(r"\d(\.\d+)?[eE]\+?\d+|\d{16,}\.0+", s):
        raise ValueError(NUMERIC_ID)
    return s.upper()


def date(value: Any) -> str:
    """ISO date from a date cell, an Excel serial, 1950.3.2, 1950/03/02, 1950年3月2日,
    19500302 or 1950-03-02."""
    if isinstance(value, (dt.date, dt.datetime)):
        return parse_date(value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if value != value or not 1 <= value < 2958466:
            raise ValueError(f"“{text(value)}”不是可识别的日期")
        if float(value).is_integer() and 19000101 <= value <= 29991231:
            return parse_date(str(int(value)))                 # 19500302 typed as a number
        return (EXCEL_EPOCH + dt.timedelta(days=int(value))).isoformat()
    s = text(value).replace(" ", "")
    if re.fullmatch(r"\d{5}(\.0+)?", s):                      # a serial that became text
        return (EXCEL_EPOCH + dt.timedelta(days=int(float(s)))).isoformat()
    return parse_date(s)


@dataclass(frozen=True)
class Address:
    compound: str       # '' when the address starts with the building
    building: str       # '3' (or 'A' for A座)
    unit: str           # '' when the building has no units
    room: str

    def key(self) -> str:
        """A comparable form: the same flat written 3栋2单元501 or 3-2-501."""
        return f"{self.compound}|{self.building}|{self.unit}|{self.room}"


_BLD = r"(?P<b>[0-9]+|[A-Z])"
_ADDRESS_PATTERNS = (
    re.compile(r"(?P<c>.*?)" + _BLD + r"(?:号楼|栋|幢|座|号|#楼?)(?:(?P<u>[0-9]+)单元)?-?"
               r"(?P<r>[0-9]+[A-Z]?)(?:室|号|户)?"),
    re.compile(r"(?P<c>.*?)" + _BLD + r"-(?P<u>[0-9]+)-(?P<r>[0-9]+[A-Z]?)(?:室|号)?"),
    re.compile(r"(?P<c>.*?)" + _BLD + r"-(?P<r>[0-9]+[A-Z]?)(?:室|号)?"),
)


# The administrative path a register's 现住地址 often starts with (四川省成都市武侯区某某街道
# 阳光社区…): not part of the 小区 name. 小区 is a compound, not a district.
_ADMIN_PREFIX = re.compile(r"(?:[^\d]{1,12}?(?:省|自治区|特别行政区))?(?:[^\d]{1,12}?市)?"
                           r"(?:[^\d]{1,12}?(?<!小)(?:区|县|旗))?(?:[^\d]{1,15}?(?:街道|镇|乡))?"
                           r"(?:[^\d]{1,15}?(?:社区|村)(?!委))?")


def address(value: Any) -> Address | None:
    """Building/unit/room from 幸福花园3号楼2单元501室, 3栋2单元501, 3-2-501, 3号楼501;
    None when the text follows none of these patterns."""
    s = text(value).replace(" ", "").upper()
    if not s:
        return None
    for pattern in _ADDRESS_PATTERNS:
        m = pattern.fullmatch(s)
        if m:
            compound = m["c"].rstrip("-,，、")
            compound = compound[_ADMIN_PREFIX.match(compound).end():]
            if compound and compound[-1].isdigit():   # '12-3-501' would read as compound '1'
                continue
            return Address(compound, m["b"].lstrip("0") or "0",
                           (m.groupdict().get("u") or "").lstrip("0"), m["r"])
    return None


def floor_of(room: str) -> int | None:
    """501 → 5, 1203 → 12; None for a room number that does not say."""
    digits = re.match(r"\d+", room)
    if not digits or len(digits[0]) < 3:
        return None
    return int(digits[0][:-2]) or None


def number_of(name: str) -> str:
    """'3号楼' → '3', '2单元' → '2', 'A座' → 'A': how a unit's name compares with an address."""
    s = unicodedata.normalize("NFKC", name or "").replace(" ", "").upper()
    m = re.fullmatch(r"(?:第)?([0-9]+|[A-Z])(?:号楼|栋|幢|座|号|#楼?|单元)?", s)
    return (m[1].lstrip("0") or "0") if m else s
