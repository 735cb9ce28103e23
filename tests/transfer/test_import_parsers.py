"""Property-based tests (hypothesis) of the cleaners the importer and the form share: no input
crashes them, every rejection says why in Chinese, and what they accept is well formed."""
import datetime as dt
import re

from hypothesis import example, given, settings
from hypothesis import strategies as st

from shequ_desktop.core import idnumber, phone
from shequ_desktop.transfer.importing import normalize
from shequ_desktop.core.validation import parse_date
from tests.conftest import make_id

CJK = re.compile(r"[\u4e00-\u9fff]")
cells = st.one_of(st.text(max_size=30), st.integers(-10**20, 10**20),
                  st.floats(allow_nan=True, allow_infinity=True), st.dates(), st.datetimes(),
                  st.booleans(), st.none())
digits_and_marks = st.text(alphabet="0123456789-/.年月日栋号楼单元室幢座 xX#０１２３", max_size=20)


def rejected_in_chinese(fn, value):
    try:
        return fn(value)
    except ValueError as exc:
        assert exc.args and CJK.search(str(exc.args[0])), (value, exc)
        return None


@settings(max_examples=400, deadline=None)
@given(st.one_of(cells, digits_and_marks))
@example("1950.3.2")
@example("19500302")
@example(18324.0)
@example("2024-02-30")
def test_dates_never_crash_and_are_iso(value):
    out = rejected_in_chinese(normalize.date, value)
    if out is not None:
        assert dt.date.fromisoformat(out).isoformat() == out


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(max_size=20), digits_and_marks))
def test_parse_date_never_crashes(value):
    rejected_in_chinese(parse_date, value)


@given(st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2100, 1, 1)))
def test_every_written_form_of_a_date_reads_the_same(day):
    iso = day.isoformat()
    for form in (f"{day.year}.{day.month}.{day.day}", f"{day.year}/{day.month:02d}/{day.day:02d}",
                 f"{day.year}年{day.month}月{day.day}日", f"{day:%Y%m%d}",
                 float((day - normalize.EXCEL_EPOCH).days), day):
        assert normalize.date(form) == iso, form


@settings(max_examples=400, deadline=None)
@given(st.one_of(cells, digits_and_marks))
@example("3栋2单元501")
@example("幸福花园3号楼2单元501室")
@example("12-3-501")
def test_addresses_never_crash(value):
    found = normalize.address(value)
    if found is not None:
        assert found.room and found.building
        assert normalize.floor_of(found.room) is None or normalize.floor_of(found.room) >= 0


@given(st.integers(1, 99), st.integers(1, 9), st.integers(1, 33), st.integers(1, 8),
       st.sampled_from(["", "阳光花园", "幸福小区二期"]))
def test_address_forms_agree(building, unit, floor, room, compound):
    r = f"{floor}{room:02d}"
    forms = [f"{compound}{building}栋{unit}单元{r}", f"{compound}{building}号楼{unit}单元{r}室",
             f"{compound}{building}幢{unit}单元{r}"]
    if not compound:
        forms.append(f"{building}-{unit}-{r}")
    keys = {normalize.address(f).key() for f in forms}
    assert keys == {f"{compound}|{building}|{unit}|{r}"}
    assert normalize.floor_of(r) == floor


@settings(max_examples=400, deadline=None)
@given(st.one_of(cells, st.text(alphabet="0123456789xX ＸＸ０１.E+e", max_size=22)))
def test_id_cells_never_crash(value):
    out = rejected_in_chinese(normalize.id_number, value)
    if out is not None:
        rejected_in_chinese(idnumber.parse, out)


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
       st.sampled_from("12"), st.integers(0, 499))
def test_valid_ids_survive_every_spelling(day, gender, seq):
    number = make_id(day.isoformat(), gender, seq=seq)
    spelled = [number, number.lower(), " ".join(number),
               number.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ"))]
    for form in spelled:
        assert idnumber.parse(normalize.id_number(form)).number == number
    if number[-1] != "X":
        try:
            normalize.id_number(float(number))
        except ValueError as exc:
            assert str(exc) == normalize.NUMERIC_ID
        else:
            raise AssertionError("an 18-digit number must be refused")


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=20), st.text(alphabet="0123456789-()+ 转ext", max_size=20)))
def test_phones_never_crash(value):
    out = rejected_in_chinese(phone.check, value)
    if out is not None:
        assert out.strip() == out and out


@settings(max_examples=300, deadline=None)
@given(cells)
def test_text_cells_never_crash(value):
    out = normalize.text(value)
    assert isinstance(out, str) and out == out.strip()


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("王芳 ab1\u3000\xa0\t\n１Ａ'=")), max_size=12))
def test_text_fast_path_agrees_with_full_normalisation(value):
    import unicodedata
    full = unicodedata.normalize("NFKC", value)
    full = "\n".join(" ".join(line.split()) for line in full.splitlines()).strip()
    if full[:2] in ("'=", "'+", "'-", "'@"):
        full = full[1:]
    assert normalize.text(value) == full
