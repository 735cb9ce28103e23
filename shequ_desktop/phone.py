"""Mobile and landline numbers (libphonenumber metadata via `phonenumbers`)."""
from __future__ import annotations

import re
import unicodedata

_EXTENSION = re.compile(r"(?:转|分机|ext\.?|-)(\d{1,6})$", re.IGNORECASE)
_LOCAL = re.compile(r"[2-9]\d{6,7}")


# Whether a mainland mobile number is valid depends on its first 7 digits only (libphonenumber's
# CN ranges; checked over every 7-digit prefix 13–19): an import of 100,000 numbers asks the
# metadata once per prefix.
_MOBILE_VALID: dict[str, bool] = {}


def clean(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(text)).split())


def check(text: str) -> str:
    """Return the number as it should be stored; raise ValueError with a Chinese reason."""
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
        # Built directly: parse() refuses some 11-digit numbers with an exception that is not
        # a ValueError (1102…), and costs twice the time of the validity check itself.
        valid = _MOBILE_VALID.get(digits[:7]) if digits[1] in "3456789" else None
        if valid is None:
            parsed = phonenumbers.PhoneNumber(country_code=86, national_number=int(digits))
            valid = phonenumbers.is_valid_number(parsed)
            if digits[1] in "3456789":
                _MOBILE_VALID[digits[:7]] = valid
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
