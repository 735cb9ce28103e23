"""Working days (工作日) by the official Chinese holiday calendar.

chinese_calendar knows the State Council's holidays and the make-up working days (调休, often a
Saturday or Sunday) for the years it has data for. A year it does not cover yet (its arrangement is
published each November) is counted Monday to Friday, and `covered()` / `calendar_note()` say so,
so the user can be warned that the deadline may move once the arrangement is out.
"""
from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=None)
def covered(year: int) -> bool:
    """True when the holiday arrangement of `year` is known."""
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: dt.date) -> bool:
    """A working day: by the official calendar, or Monday–Friday for a year it does not cover."""
    if covered(day.year):
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5


def add_workdays(start: dt.date, n: int) -> dt.date:
    """The n-th working day after `start` (`start` itself is not counted; n >= 1).

    Accepted on Friday 2026-02-13 with 3 working days: Saturday 02-14 (调休), then 02-24 and
    02-25 after the Spring Festival holiday → 2026-02-25.
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    day = start
    while n:
        day += dt.timedelta(days=1)
        if is_workday(day):
            n -= 1
    return day


def uncovered_years(start: dt.date, end: dt.date) -> list[int]:
    """Years between `start` and `end` (inclusive) whose holidays are not known."""
    return [y for y in range(start.year, end.year + 1) if not covered(y)]


def calendar_note(start: dt.date, end: dt.date) -> str | None:
    """A warning when a period counted in working days reaches a year without data, else None."""
    years = uncovered_years(start, end)
    if not years:
        return None
    return f"{'、'.join(str(y) for y in years)}年节假日安排尚未公布，期限按周一至周五计算"
