"""Working-day deadlines against the official 2026 arrangement (国办发明电〔2025〕7号), as
chinese_calendar holds it:

- 春节: 2月15日（周日）至23日（周一）放假调休，共9天；2月14日（周六）、2月28日（周六）上班.
- 中秋: 9月25日（周五）至27日（周日）放假.
- 国庆: 10月1日（周四）至7日（周三）放假调休，共7天；9月20日（周日）、10月10日（周六）上班.
"""
import datetime as dt
import itertools

import chinese_calendar
import pytest

from shequ_desktop.core.workdays import (add_workdays, calendar_note, covered, is_workday,
                                    uncovered_years)

D = dt.date
FIRST_UNKNOWN = next(y for y in itertools.count(2026) if not covered(y))


def test_the_2026_arrangement_is_the_one_we_test_against():
    assert all(not chinese_calendar.is_workday(D(2026, 2, d)) for d in range(15, 24))
    assert chinese_calendar.is_workday(D(2026, 2, 14)) and D(2026, 2, 14).weekday() == 5
    assert chinese_calendar.is_workday(D(2026, 2, 28)) and D(2026, 2, 28).weekday() == 5
    assert all(not chinese_calendar.is_workday(D(2026, 10, d)) for d in range(1, 8))
    assert chinese_calendar.is_workday(D(2026, 9, 20)) and D(2026, 9, 20).weekday() == 6
    assert chinese_calendar.is_workday(D(2026, 10, 10)) and D(2026, 10, 10).weekday() == 5


@pytest.mark.parametrize("start, n, deadline", [
    # Spring Festival 2026: Friday 02-13 → Saturday 02-14 (调休) counts, then after the holiday.
    (D(2026, 2, 13), 1, D(2026, 2, 14)),
    (D(2026, 2, 13), 3, D(2026, 2, 25)),
    (D(2026, 2, 13), 5, D(2026, 2, 27)),
    (D(2026, 2, 13), 6, D(2026, 2, 28)),      # the second 调休 Saturday
    (D(2026, 2, 14), 3, D(2026, 2, 26)),      # accepted on the 调休 Saturday itself
    (D(2026, 2, 16), 1, D(2026, 2, 24)),      # accepted during the holiday
    # National Day 2026: Wednesday 09-30 → 10-08, 10-09, Saturday 10-10 (调休).
    (D(2026, 9, 30), 3, D(2026, 10, 10)),
    (D(2026, 9, 30), 4, D(2026, 10, 12)),
    (D(2026, 9, 18), 1, D(2026, 9, 20)),      # Sunday 09-20 is a working day
    (D(2026, 9, 24), 1, D(2026, 9, 28)),      # over 中秋 (09-25..27)
    # A normal week: Monday + 5 → next Monday; Friday + 1 → Monday; Saturday + 1 → Monday.
    (D(2025, 3, 3), 5, D(2025, 3, 10)),
    (D(2025, 3, 7), 1, D(2025, 3, 10)),
    (D(2025, 3, 8), 1, D(2025, 3, 10)),
])
def test_add_workdays(start, n, deadline):
    assert add_workdays(start, n) == deadline
    assert calendar_note(start, deadline) is None


def test_n_must_be_positive():
    with pytest.raises(ValueError):
        add_workdays(D(2026, 3, 2), 0)


def test_a_year_without_data_counts_monday_to_friday():
    year = FIRST_UNKNOWN
    assert covered(year - 1) and not covered(year)
    friday = next(D(year, 3, d) for d in range(1, 8) if D(year, 3, d).weekday() == 4)
    assert add_workdays(friday, 1) == friday + dt.timedelta(days=3)
    assert add_workdays(friday, 5) == friday + dt.timedelta(days=7)
    assert is_workday(D(year, 1, 1)) == (D(year, 1, 1).weekday() < 5)
    assert uncovered_years(friday, friday) == [year]
    assert calendar_note(friday, friday) == f"{year}年节假日安排尚未公布，期限按周一至周五计算"


def test_a_period_running_into_a_year_without_data_is_flagged():
    last_known = D(FIRST_UNKNOWN - 1, 12, 31)
    deadline = add_workdays(last_known, 3)
    assert deadline.year == FIRST_UNKNOWN
    assert uncovered_years(last_known, deadline) == [FIRST_UNKNOWN]
    assert calendar_note(last_known - dt.timedelta(days=10), last_known) is None
