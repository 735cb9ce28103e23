"""Mobile and landline numbers (libphonenumber metadata via `phonenumbers`)."""
from __future__ import annotations

import re
import unicodedata

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|-)(\d{1,6})$", re.IGNORECASE)
_LOCAL = re.compile(r"[2-9]\d{6,7}")


# libphonenumber's validity check for a mainland number, with CN's patterns compiled once:
# is_valid_number looks the metadata up and walks it per call (7 µs; an import checks 100,000
# numbers). The same descriptions, so the same answer (a test compares): valid is the
# general description and any one type (mobile first: it is the common one).
_CN_DESCS: tuple | None = None
_DESC_NAMES = ("mobile", "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
               "pager", "uan", "voicemail", "fixed_line")


def _cn_descs() -> tuple:
    """(general lengths, general pattern, {length: all types' patterns as one})."""
    global _CN_DESCS
    if _CN_DESCS is None:
        import phonenumbers

        metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
        general = metadata.general_desc
        types = [d for d in (getattr(metadata, n) for n in _DESC_NAMES)
                 if d is not None and d.national_number_pattern]
        # A type whose possible lengths are not given takes the general description's.
        by_length = {n: re.compile("|".join(f"(?:{d.national_number_pattern})" for d in types
                                            if not d.possible_length or n in d.possible_length)
                                   ).fullmatch
                     for n in general.possible_length}
        _CN_DESCS = (frozenset(general.possible_length),
                     re.compile(general.national_number_pattern).fullmatch, by_length)
    return _CN_DESCS


def valid_cn(digits: str) -> bool:
    """phonenumbers.is_valid_number(+86 `digits`) for a national number of ASCII digits
    without a leading 0: it matches CN's general description and one of its types."""
    lengths, general, by_length = _cn_descs()
    n = len(digits)
    return n in lengths and general(digits) is not None and by_length[n](digits) is not None


def clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def check(text: str) -> str:
    """Return the number as it should be stored; raise ValueError with a Chinese reason."""
    if len(text) == 11 and text[0] == "1" and text.isascii() and text.isdigit():
        if not valid_cn(text):                   # the common cell: a plain mobile number
            raise ValueError(f"“{text}”不是有效的手机号码")
        return text
    import phonenumbers

    number = clean(text)
    if number.endswith(".0"):
        number = number[:-2]
    main = number
    plain = re.sub(r"[-()（）]", "", number)
    if plain.isdigit() and len(plain) == 11 and plain.startswith("1"):
        main = plain
    else:
        m = _EXTENSION.search(number)
        if m and len(re.sub(r"\D", "", number[: m.start()])) >= 10:
            main = number[: m.start()]
    digits = re.sub(r"[-()（）+]", "", main)
    if not digits.isdigit():
        raise ValueError("只能包含数字、“-”和分机号")
    if _LOCAL.fullmatch(digits):
        return number  # a local landline without area code
    if len(digits) == 11 and digits.startswith("1"):
        # Checked directly: parse() refuses some 11-digit numbers with an exception that is
        # not a ValueError (1102…), and costs twice the time of the validity check itself.
        valid = valid_cn(digits) if digits.isascii() else phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=86, national_number=int(digits)))
        if not valid:
            raise ValueError(f"“{digits}”不是有效的手机号码")
        return digits
    try:
        parsed = phonenumbers.parse(main, "CN")
    except phonenumbers.NumberParseException:
        raise ValueError("不是有效的电话号码") from None
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("不是有效的手机或固定电话号码（固定电话请带区号，如 010-88886666）")
    return number
