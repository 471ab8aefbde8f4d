"""Due times of callback requests: examples and properties of the pure module."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.callbacks.due import (
    BERLIN,
    NoWorkingDay,
    closed_calendar,
    due_at,
    due_day,
    is_working_day,
    working_days_for,
)

YEARLY = ["12-24", "12-31"]


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def calendar(first=date(2026, 1, 1), last=date(2029, 12, 31), closures=(), yearly=YEARLY):
    return closed_calendar(first, last, closures, yearly)


def test_the_issue_example_easter_2027_with_the_clock_change():
    # Thursday 25 March 2027; Good Friday 26 and Easter Monday 29 March are NRW holidays,
    # the clocks go forward on Sunday 28 March.
    due = due_at(berlin(2027, 3, 25, 10, 30), calendar())
    assert due.astimezone(BERLIN) == berlin(2027, 3, 31, 16, 0)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=2)
    assert due == datetime(2027, 3, 31, 14, 0, tzinfo=UTC)


def test_a_plain_week():
    # Monday → Wednesday 16:00.
    assert due_at(berlin(2027, 3, 1, 9, 0), calendar()) == berlin(2027, 3, 3, 16, 0)


def test_the_time_of_day_of_the_call_does_not_matter():
    early = due_at(berlin(2027, 3, 1, 0, 0), calendar())
    late = due_at(berlin(2027, 3, 1, 23, 59, 59), calendar())
    assert early == late == berlin(2027, 3, 3, 16, 0)


def test_the_day_of_the_call_is_the_berlin_day_not_the_utc_day():
    # 23:30 UTC on Monday is already Tuesday in Berlin.
    due = due_at(datetime(2027, 3, 1, 23, 30, tzinfo=UTC), calendar())
    assert due == berlin(2027, 3, 4, 16, 0)


def test_weekends_do_not_count():
    # Thursday → Monday; Friday → Tuesday; Saturday and Sunday → Tuesday.
    assert due_at(berlin(2027, 3, 4, 11), calendar()) == berlin(2027, 3, 8, 16)
    assert due_at(berlin(2027, 3, 5, 11), calendar()) == berlin(2027, 3, 9, 16)
    assert due_at(berlin(2027, 3, 6, 11), calendar()) == berlin(2027, 3, 9, 16)
    assert due_at(berlin(2027, 3, 7, 11), calendar()) == berlin(2027, 3, 9, 16)


def test_urgent_requests_are_due_the_next_working_day():
    assert due_at(berlin(2027, 3, 1, 9), calendar(), urgent=True) == berlin(2027, 3, 2, 16)
    # Before Easter: Thursday → Tuesday after Easter Monday.
    assert due_at(berlin(2027, 3, 25, 9), calendar(), urgent=True) == berlin(2027, 3, 30, 16)


def test_urgent_never_later_than_the_offices_rule():
    assert working_days_for(3, urgent=True) == 1
    assert working_days_for(1, urgent=True) == 1
    assert working_days_for(5, urgent=False) == 5
    with pytest.raises(ValueError):
        working_days_for(0, urgent=False)


def test_nrw_holidays_count_as_closed():
    # Corpus Christi (Fronleichnam), a holiday in NRW but not everywhere: Thursday 27 May 2027.
    assert not is_working_day(date(2027, 5, 27), calendar())
    # Wednesday 26 May → Monday 31 May (Thursday a holiday, Friday 28 the first working day).
    assert due_at(berlin(2027, 5, 26, 9), calendar()) == berlin(2027, 5, 31, 16)
    # German Unity Day 2028 is a Tuesday.
    assert due_at(berlin(2028, 10, 2, 9), calendar(), urgent=True) == berlin(2028, 10, 4, 16)


def test_the_offices_closures_count_as_closed():
    closures = [(date(2027, 3, 2), date(2027, 3, 4))]
    assert due_at(berlin(2027, 3, 1, 9), calendar(closures=closures)) == berlin(2027, 3, 8, 16)


def test_yearly_closed_days_count_as_closed():
    # Wednesday 23 Dec 2026: 24 (yearly), 25, 26 (holidays), weekend, 28, 29 → Tuesday 29.
    assert due_at(berlin(2026, 12, 23, 9), calendar()) == berlin(2026, 12, 29, 16)
    without = calendar(yearly=[])
    assert due_at(berlin(2026, 12, 23, 9), without) == berlin(2026, 12, 28, 16)


def test_the_offices_due_days_and_due_time():
    due = due_at(berlin(2027, 3, 1, 9), calendar(), due_days=5, due_time=time(12, 30))
    assert due == berlin(2027, 3, 8, 12, 30)


def test_the_autumn_clock_change():
    # Friday 29 Oct 2027; clocks go back on Sunday 31 Oct; 1 Nov (All Saints) is a holiday.
    due = due_at(berlin(2027, 10, 29, 15), calendar())
    assert due == berlin(2027, 11, 3, 16)
    assert due.astimezone(BERLIN).utcoffset() == timedelta(hours=1)


def test_an_office_closed_for_good_is_an_error_not_a_loop():
    everything = {date(2027, 1, 1) + timedelta(days=n) for n in range(800)}
    with pytest.raises(NoWorkingDay):
        due_at(berlin(2027, 1, 1, 9), everything)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        due_at(datetime(2027, 3, 1, 9), calendar())


# Properties

CLOSED = calendar(first=date(2026, 1, 1), last=date(2030, 12, 31))
calls = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
due_days = st.integers(min_value=1, max_value=10)
due_times = st.times().map(lambda t: t.replace(second=0, microsecond=0))


def working_days_between(first: date, last: date) -> int:
    """Working days after `first` up to and including `last`."""
    count, day = 0, first
    while day < last:
        day += timedelta(days=1)
        count += is_working_day(day, CLOSED)
    return count


@settings(max_examples=300)
@given(calls, due_days, due_times, st.booleans())
def test_due_is_a_working_day_at_the_due_time_strictly_after_the_call(
    called_at, days, clock, urgent
):
    due = due_at(called_at, CLOSED, due_days=days, due_time=clock, urgent=urgent)
    local = due.astimezone(BERLIN)
    assert is_working_day(local.date(), CLOSED)
    # The wall clock shows the due time (no gaps: clocks change on Sundays at night).
    assert local.time() == clock
    assert due > called_at
    assert local.date() > called_at.astimezone(BERLIN).date()


@settings(max_examples=300)
@given(calls, due_days, st.booleans())
def test_exactly_n_working_days_from_the_call_day_to_the_due_day(called_at, days, urgent):
    due = due_at(called_at, CLOSED, due_days=days, urgent=urgent)
    n = working_days_for(days, urgent)
    call_day = called_at.astimezone(BERLIN).date()
    assert working_days_between(call_day, due.astimezone(BERLIN).date()) == n


@settings(max_examples=300)
@given(calls, st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=30)), due_days)
def test_due_is_monotone_in_the_call_time(called_at, later_by, days):
    earlier = due_at(called_at, CLOSED, due_days=days)
    later = due_at(called_at + later_by, CLOSED, due_days=days)
    assert earlier <= later


@given(st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31)), due_days)
def test_due_day_skips_only_closed_days(call_day, days):
    day = due_day(call_day, days, CLOSED)
    assert working_days_between(call_day, day - timedelta(days=1)) == days - 1
