"""Issue 15 (speed): the import's fast paths answer exactly as the slow ones they stand in for
— libphonenumber's validity, the ID number rules, the cycle collector left as it was."""
import datetime as dt
import gc
import random

import phonenumbers
import pytest
import xlsxwriter

from shequ_desktop.core import idnumber, phone
from shequ_desktop.transfer.importing import build_plan, read_table
from shequ_desktop.transfer.importing.bulk import gc_paused
from tests.conftest import make_id


def test_mobile_and_landline_validity_agrees_with_libphonenumber():
    rng = random.Random(15)
    numbers = [f"1{d}{rng.randrange(10**9):09d}" for d in "0123456789" for _ in range(400)]
    numbers += [str(rng.randrange(10 ** (n - 1), 10**n)) for n in range(3, 14)
                for _ in range(1500)]
    for number in numbers:
        expected = phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=86, national_number=int(number)))
        assert phone.valid_cn(number) == expected, number


@pytest.mark.parametrize("text", ["13912345678", "10012345678", "12012345678", "14012345678"])
def test_a_plain_mobile_number_is_checked_as_the_general_path_checks_it(text):
    spaced = f" {text[:3]} {text[3:7]} {text[7:]}"          # takes the general path
    try:
        expected = phone.check(spaced)
    except ValueError as exc:
        with pytest.raises(ValueError, match=str(exc)):
            phone.check(text)
    else:
        assert phone.check(text) == expected


def test_the_fast_id_check_accepts_exactly_what_parse_accepts():
    rng = random.Random(11)
    today = dt.date(2026, 6, 1)
    numbers = []
    for _ in range(4000):
        birth = dt.date(1880, 1, 1) + dt.timedelta(days=rng.randrange(365 * 150))
        body = f"{rng.randrange(110000, 660000)}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        numbers.append(body + idnumber.check_digit(body))            # valid unless the date
        numbers.append(body + rng.choice("0123456789X"))             # mostly a wrong digit
        numbers.append(body[:10] + f"{rng.randrange(100):02d}{rng.randrange(100):02d}"
                       + body[14:] + rng.choice("0123456789X"))      # impossible dates too
    numbers += ["11010519800101123x", "1101051980010112", "11010519800101123 ",
                "１１０１０５１９８００１０１１２３４"]
    for number in numbers:
        try:
            info = idnumber.parse(number, today)
        except ValueError:
            info = None
        fast = idnumber.fast_parse(number, today.isoformat())
        if fast is not None:
            assert info is not None and (info.birth_date, info.gender) == fast, number
            assert info.number == number
        elif info is not None:           # only numbers parse must clean first go the slow way
            assert info.number != number, number


def test_the_check_digit_refuses_a_body_that_is_not_digits():
    with pytest.raises(ValueError):
        idnumber.check_digit("1101051980010112A")


def _sheet(path) -> str:
    book = xlsxwriter.Workbook(str(path))
    ws = book.add_worksheet()
    ws.write_row(0, 0, ["姓名", "身份证号", "与户主关系", "联系电话"])
    ws.write_row(1, 0, ["王一", make_id("1970-01-01"), "户主", "13912345678"])
    ws.write_row(2, 0, ["王二", make_id("1971-01-01", seq=3), "户主", "10012345678"])
    book.close()
    return str(path)


def test_planning_leaves_the_cycle_collector_as_it_found_it(tmp_path, conn):
    table = read_table(_sheet(tmp_path / "a.xlsx"))
    assert gc.isenabled()
    plan = build_plan(conn, table)
    assert gc.isenabled()
    assert plan.rows[0].values["phone"] == "13912345678"
    assert any("不是有效的手机号码" in w for _c, w in plan.rows[1].warnings)
    gc.disable()                          # as while the GUI's background work runs
    try:
        build_plan(conn, read_table(tmp_path / "a.xlsx"))
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_the_cycle_collector_resumes_after_a_failure_and_after_nested_pauses():
    with pytest.raises(RuntimeError):
        with gc_paused():
            with gc_paused():
                assert not gc.isenabled()
            assert not gc.isenabled()     # the outer step still holds it
            raise RuntimeError("boom")
    assert gc.isenabled()
