import datetime as dt

import pytest

from shequ_desktop.core import idnumber, phone
from shequ_desktop.core.errors import ValidationError
from shequ_desktop.core.validation import clean_record, parse_date
from tests.conftest import make_id


def test_valid_id_gives_birth_date_and_gender():
    info = idnumber.parse(make_id("1985-07-15", "2"))
    assert (info.birth_date, info.gender, info.upgraded) == ("1985-07-15", "2", False)


def test_lowercase_x_and_full_width_digits_are_normalised():
    number = "11010519491231002X"  # GB 11643's own example; check digit X
    assert idnumber.parse(number.lower()).number == number
    full_width = "".join(chr(ord(c) + 0xFEE0) for c in number[:17]) + "ｘ"
    assert idnumber.parse(full_width).number == number


def test_our_check_digit_agrees_with_the_standard_library():
    from stdnum.cn import ric
    for number in ("11010519491231002X", make_id("1985-07-15", "2"), make_id("2001-09-01")):
        assert ric.is_valid(number) and idnumber.parse(number).number == number


def test_wrong_check_digit_is_refused_with_the_right_digit():
    good = make_id("1980-01-02", "1")
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(ValueError, match=f"校验位错误.*{good[17]}"):
        idnumber.parse(wrong)


def test_impossible_birth_date_is_refused():
    body = "11010519990230123"  # 30 February
    with pytest.raises(ValueError, match="出生日期“19990230”不是有效日期"):
        idnumber.parse(body + "0")


def test_future_birth_date_is_refused():
    future = (dt.date.today() + dt.timedelta(days=40)).isoformat()
    with pytest.raises(ValueError, match="不合理"):
        idnumber.parse(make_id(future))


def test_15_digit_legacy_number_is_converted():
    info = idnumber.parse("110105491231002")
    assert info.number == "11010519491231002X"
    assert info.upgraded and info.birth_date == "1949-12-31" and info.gender == "2"


def test_number_mangled_by_a_spreadsheet_is_reported_not_guessed():
    with pytest.raises(ValueError, match="末位已丢失"):
        idnumber.parse("1.10105194912310E+17")
    with pytest.raises(ValueError, match="应为18位"):
        idnumber.parse("1101051949123")


def test_resident_record_derives_birth_date_and_gender():
    out = clean_record("residents", {"name": " 王 芳 ", "id_number": make_id("1990-02-03", "2")})
    assert out["birth_date"] == "1990-02-03" and out["gender"] == "2"
    assert out["name"] == "王芳"


def test_typed_birth_date_and_gender_must_agree_with_the_id():
    with pytest.raises(ValidationError) as err:
        clean_record("residents", {"name": "王芳", "id_number": make_id("1990-02-03", "2"),
                                   "birth_date": "1990-03-02", "gender": "男"})
    fields = err.value.by_field()
    assert "1990-02-03" in fields["birth_date"] and "女" in fields["gender"]
    assert "出生日期：与身份证号不一致" in str(err.value)


def test_every_wrong_field_is_reported_at_once_in_chinese():
    with pytest.raises(ValidationError) as err:
        clean_record("residents", {"name": "", "ethnicity": "火星族", "phone": "12345",
                                   "birth_date": "1990-13-01"})
    fields = err.value.by_field()
    assert fields["name"] == "不能为空"
    assert "不在民族代码表中" in fields["ethnicity"]
    assert "birth_date" in fields and "phone" in fields


def test_code_fields_take_labels_aliases_and_codes():
    out = clean_record("residents", {"name": "李", "ethnicity": "回", "gender": "女性",
                                     "education": "本科", "marital_status": "20"})
    assert (out["ethnicity"], out["gender"], out["education"], out["marital_status"]) == \
        ("03", "2", "20", "20")


@pytest.mark.parametrize("text", ["1950.3.2", "1950/03/02", "1950年3月2日", "19500302",
                                  "1950-03-02"])
def test_date_formats(text):
    assert parse_date(text) == "1950-03-02"


def test_future_dates_are_refused_for_past_events():
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    with pytest.raises(ValidationError, match="晚于今天"):
        clean_record("residents", {"name": "李", "birth_date": tomorrow})


def test_other_id_types_are_not_checked_as_resident_ids():
    out = clean_record("residents", {"name": "John", "id_type": "护照", "id_number": "E1234567",
                                     "birth_date": "1980-01-01"})
    assert out["id_type"] == "02" and out["id_number"] == "E1234567"
    assert out["birth_date"] == "1980-01-01"


@pytest.mark.parametrize("text,stored", [
    ("13912345678", "13912345678"),
    ("139 1234 5678", "13912345678"),
    ("010-88886666", "010-88886666"),
    ("0755-12345678", "0755-12345678"),
    ("010-88886666-801", "010-88886666-801"),
    ("88886666", "88886666"),
])
def test_valid_phones(text, stored):
    assert phone.check(text) == stored


@pytest.mark.parametrize("text", ["12345678901", "1391234567", "abc", "0571-88888",
                                  "11024005993"])   # phonenumbers.parse raised its own error
def test_invalid_phones(text):
    with pytest.raises(ValueError):
        phone.check(text)


def test_notes_keep_their_line_breaks_but_names_do_not():
    out = clean_record("residents", {"name": "王\n芳", "notes": " 第一行 \n\n 第二行  有空格 "})
    assert out["name"] == "王芳"                 # a space between Chinese characters is typing
    assert out["notes"] == "第一行\n\n第二行 有空格"
