"""Property-based tests: no input crashes the validators, every rejection has a message."""
import datetime as dt
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shequ_desktop.core import idnumber, phone
from shequ_desktop.core.errors import ValidationError
from shequ_desktop.core.fields import fields
from shequ_desktop.core.validation import clean_record, clean_value, parse_date

TODAY = dt.date(2026, 11, 21)
# What turns up in spreadsheets: digits (full-width too), Chinese, separators, X, spaces.
SHEET_TEXT = st.text(alphabet=string.digits + "０１２３４５６７８９xX-/.年月日 \u3000+()（）号码王芳",
                     max_size=30) | st.text(max_size=30)
CELL = st.none() | SHEET_TEXT | st.integers() | st.floats(allow_nan=True) | st.dates()
FAST = settings(max_examples=300, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])


def rejected_with_a_message(fn, *args) -> None:
    try:
        fn(*args)
    except ValueError as exc:
        assert str(exc).strip(), f"{fn.__name__}{args!r} refused without a message"


@FAST
@given(SHEET_TEXT)
def test_id_numbers(text):
    rejected_with_a_message(idnumber.parse, text, TODAY)


@FAST
@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=TODAY), st.integers(0, 999))
def test_every_valid_id_is_accepted_and_gives_back_its_birth_date(birth, seq):
    from stdnum.cn import ric
    body = f"110105{birth:%Y%m%d}{seq:03d}"
    number = body + idnumber.check_digit(body)
    assert ric.is_valid(number)                 # the library's own verdict, not ours
    info = idnumber.parse(number.lower(), TODAY)
    assert info.number == number.upper() and info.birth_date == birth.isoformat()


@FAST
@given(SHEET_TEXT)
def test_phones(text):
    rejected_with_a_message(phone.check, text)


@FAST
@given(CELL)
def test_dates(value):
    rejected_with_a_message(parse_date, value)


@FAST
@given(st.sampled_from(fields("residents")), CELL)
def test_every_resident_field(f, value):
    rejected_with_a_message(clean_value, f, value, TODAY)


@settings(max_examples=200, deadline=None)
@given(st.fixed_dictionaries({}, optional={f.name: CELL for f in fields("residents")}))
def test_whole_records(values):
    try:
        clean_record("residents", values, today=TODAY)
    except ValidationError as exc:
        assert exc.errors and all(e.message.strip() for e in exc.errors)
