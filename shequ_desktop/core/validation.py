"""Validation and normalisation of records, driven by the field registry.

The same rules serve the form, the importer and the services: a value is checked once, here.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from shequ_desktop.core import codes, idnumber, phone
from shequ_desktop.core.errors import FieldError, ValidationError
from shequ_desktop.core.fields import Field, fields

_DATE_PATTERNS = (
    re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?"),
    re.compile(r"(\d{4})(\d{2})(\d{2})"),
)
_TRUE = {"1", "是", "true", "yes", "y", "√", "有"}
_FALSE = {"0", "否", "false", "no", "n", "", "无"}
RESIDENT_ID_CARD = "01"
# Dates that cannot lie in the future.
PAST_DATES = {"birth_date", "death_date", "moved_out_at", "moved_in_at"}


def parse_date(value: Any) -> str:
    """ISO date from a date, 'YYYY-MM-DD', 'YYYY/M/D', 'YYYY.M.D', 'YYYY年M月D日' or 'YYYYMMDD'."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return dt.date(int(m[1]), int(m[2]), int(m[3])).isoformat()
            except ValueError:
                raise ValueError(f"“{text}”不是有效日期") from None
    raise ValueError(f"“{text}”不是可识别的日期（请写成 2024-03-02）")


def clean_text(value: Any, multiline: bool = True) -> str | None:
    """Trimmed text, runs of spaces folded (per line when multi-line); None when empty."""
    if value is None:
        return None
    lines = str(value).splitlines() if multiline else [str(value)]
    return "\n".join(" ".join(line.split()) for line in lines).strip() or None


# Names of people: a space between two Chinese characters is typing, not part of the name
# (「周 杰」 → 周杰); spaces in Latin names stay (Maria Lopez).
PERSON_NAMES = ("name", "owner_name")
_CJK_GAP = re.compile(r"(?<=[\u3400-\u9fff])\s+(?=[\u3400-\u9fff])")


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def clean_value(f: Field, value: Any, today: dt.date) -> Any:
    """Normalise one value or raise ValueError with the reason (without the label)."""
    if _empty(value):
        if f.required:
            raise ValueError("不能为空")
        return 0 if f.kind == "bool" else None
    if f.kind == "text":
        text = clean_text(value, f.multiline) or ""
        if f.name in PERSON_NAMES:
            text = _CJK_GAP.sub("", text)          # 「周 杰」 is 周杰 (typed to align names)
        if len(text) > f.max_length:
            raise ValueError(f"不能超过{f.max_length}个字")
        return text
    if f.kind == "code":
        table = codes.table(f.code_table)
        code = table.code_for(str(value))
        if code is None:
            raise ValueError(f"“{value}”不在{table.title}代码表中")
        return code
    if f.kind == "date":
        iso = parse_date(value)
        if f.name in PAST_DATES and iso > today.isoformat():
            raise ValueError(f"“{iso}”晚于今天")
        return iso
    if f.kind in ("int", "float"):
        text = unicodedata.normalize("NFKC", str(value)).strip()
        try:
            number = float(text)
        except ValueError:
            raise ValueError(f"“{text}”不是数字") from None
        if number < 0:
            raise ValueError("不能为负数")
        if f.kind == "int":
            if number != int(number):
                raise ValueError(f"“{text}”不是整数")
            return int(number)
        return number
    if f.kind == "bool":
        text = str(value).strip().lower()
        if text in _TRUE or value is True:
            return 1
        if text in _FALSE or value is False:
            return 0
        raise ValueError(f"“{value}”应为“是”或“否”")
    if f.kind == "id_number":
        return idnumber.parse(str(value), today).number
    if f.kind == "phone":
        return phone.check(str(value))
    raise AssertionError(f.kind)


def clean_record(entity: str, values: dict[str, Any], *, existing: dict | None = None,
                 today: dt.date | None = None) -> dict[str, Any]:
    """Validate the given values (all fields when `existing` is None, else only those given).

    Returns the normalised values; raises ValidationError listing every wrong field.
    """
    today = today or dt.date.today()
    by_name = {f.name: f for f in fields(entity)}
    unknown = set(values) - set(by_name)
    if unknown:
        raise KeyError(f"{entity} has no field(s) {sorted(unknown)}")
    out: dict[str, Any] = {}
    errors: list[FieldError] = []
    names = values if existing is not None else by_name
    for name in names:
        f = by_name[name]
        try:
            if f.kind == "id_number" and not _is_id_card(entity, values, existing):
                value = values.get(name)
                out[name] = idnumber.clean(value) if not _empty(value) else None
                continue
            out[name] = clean_value(f, values.get(name), today)
        except ValueError as exc:
            errors.append(FieldError(f.name, f.label, str(exc)))
    if entity == "residents" and not errors:
        errors += _resident_rules(out, existing or {}, today)
    if errors:
        raise ValidationError(errors)
    return out


def _is_id_card(entity: str, values: dict, existing: dict | None) -> bool:
    """Only a 居民身份证 number follows GB 11643; passports and permits are kept as typed."""
    if entity != "residents":
        return True
    id_type = values["id_type"] if "id_type" in values else (existing or {}).get("id_type")
    return codes.table("id_type").code_for(id_type or RESIDENT_ID_CARD) == RESIDENT_ID_CARD


def _resident_rules(out: dict, existing: dict, today: dt.date) -> list[FieldError]:
    """ID number against birth date and gender: fill what is missing, flag what disagrees."""
    merged = {**existing, **out}
    number = merged.get("id_number")
    if not number or not _is_id_card("residents", merged, None):
        return []
    try:
        info = idnumber.parse(number, today)
    except ValueError as exc:        # a stored passport number, now said to be an ID card
        return [FieldError("id_number", "身份证号", str(exc))]
    return agree_with_id(out, info)


def agree_with_id(values: dict, info: idnumber.IdInfo) -> list[FieldError]:
    """Birth date and gender against what the ID number says: fill them in when missing,
    flag them when they disagree (`values` is updated)."""
    errors = []
    for name, label, derived, shown in (
        ("birth_date", "出生日期", info.birth_date, info.birth_date),
        ("gender", "性别", info.gender, codes.table("gender").label(info.gender)),
    ):
        typed = values.get(name)
        if typed and typed != derived:
            errors.append(FieldError(name, label, f"与身份证号不一致（身份证号显示为{shown}）"))
        else:
            values[name] = derived
    return errors


def age(birth_date: str | None, on: dt.date | None = None) -> int | None:
    if not birth_date:
        return None
    on = on or dt.date.today()
    b = dt.date.fromisoformat(birth_date)
    return on.year - b.year - ((on.month, on.day) < (b.month, b.day))
