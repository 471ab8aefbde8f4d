"""The waiting list's pure rules: who a freed time goes to, and how long it is held."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from booking.schedule.engine import HoursRule
from booking.waitlist.rules import (
    AFTERNOON,
    MORNING,
    Waiting,
    first_match,
    hold_deadline,
    median_days_to_offer,
    suits,
    working_intervals,
)

BERLIN = ZoneInfo("Europe/Berlin")
TUESDAY_MORNING = datetime(2027, 3, 2, 10, tzinfo=BERLIN)
TUE, THU = 1 << 1, 1 << 3


def test_weekdays_and_times_of_day():
    assert suits(TUE | THU, MORNING, TUESDAY_MORNING)
    assert not suits(TUE | THU, AFTERNOON, TUESDAY_MORNING)
    assert not suits(THU, MORNING, TUESDAY_MORNING)
    assert suits(TUE, AFTERNOON, datetime(2027, 3, 2, 12, tzinfo=BERLIN))  # 12:00 is afternoon


def test_the_earliest_suitable_entry_gets_the_time_and_not_twice_after_declining():
    joined = datetime(2027, 1, 1, tzinfo=UTC)
    first = Waiting(1, joined, THU, MORNING)  # joined first but Thursdays only
    second = Waiting(2, joined + timedelta(hours=1), TUE, MORNING | AFTERNOON)
    third = Waiting(3, joined + timedelta(hours=2), TUE, MORNING, may_take_kept=False)
    entries = [third, second, first]
    assert first_match(entries, TUESDAY_MORNING, set()) == second
    assert first_match(entries, TUESDAY_MORNING, {(2, TUESDAY_MORNING)}) == third
    refused = {(2, TUESDAY_MORNING)}
    assert first_match(entries, TUESDAY_MORNING, refused, kept_for_phone=True) is None
    same_time = Waiting(0, joined + timedelta(hours=1), TUE, MORNING)  # a tie: lower id first
    assert first_match([second, same_time], TUESDAY_MORNING, set()) == same_time


def intervals():
    # Monday to Friday 08:00-16:00 of one caseworker; Friday 5 March 2027 closed.
    hours = [HoursRule(1, day, time(8), time(16)) for day in range(5)]
    return working_intervals(hours, date(2027, 3, 1), date(2027, 3, 12), [date(2027, 3, 5)])


def test_two_working_hours_count_only_inside_working_time():
    at = datetime(2027, 3, 1, 9, tzinfo=BERLIN)  # Monday inside the hours
    assert hold_deadline(at, 7200, intervals()) == datetime(2027, 3, 1, 11, tzinfo=BERLIN)
    late = datetime(2027, 3, 1, 15, 30, tzinfo=BERLIN)  # half an hour today, 1.5 h tomorrow
    assert hold_deadline(late, 7200, intervals()) == datetime(2027, 3, 2, 9, 30, tzinfo=BERLIN)
    thursday_evening = datetime(2027, 3, 4, 20, tzinfo=BERLIN)  # Friday closed: Monday
    assert hold_deadline(thursday_evening, 7200, intervals()) == datetime(
        2027, 3, 8, 10, tzinfo=BERLIN
    )
    assert hold_deadline(at, 7200, []) is None
    with pytest.raises(ValueError):
        hold_deadline(datetime(2027, 3, 1, 9), 7200, intervals())


def test_working_hours_of_several_caseworkers_are_joined():
    hours = [HoursRule(1, 0, time(8), time(12)), HoursRule(2, 0, time(11), time(14))]
    [(start, end)] = working_intervals(hours, date(2027, 3, 1), date(2027, 3, 1), [])
    assert end - start == 6 * 3600


def test_median_days_to_offer():
    joined = datetime(2027, 1, 1, tzinfo=UTC)
    pairs = [(joined, joined + timedelta(days=d)) for d in (1, 3, 10)]
    assert median_days_to_offer(pairs) == 3
    assert median_days_to_offer([]) is None
