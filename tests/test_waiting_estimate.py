"""The estimated wait (pure, no Flask): today's median time at the desk, else the service's
duration; times the people waiting, shared among the desks; rounded up to 5 minutes."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from booking.waiting.estimate import Visit, estimated_wait, round_up, time_per_person

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 4, 11, 0, tzinfo=BERLIN)
HALF_HOUR = timedelta(minutes=30)


def visit(called_minutes_ago: int, took: int, now=NOW) -> Visit:
    called = now - timedelta(minutes=called_minutes_ago)
    return Visit(called - timedelta(minutes=15), called, called + timedelta(minutes=took))


def test_nobody_waiting_means_no_wait():
    assert estimated_wait([visit(60, 20)], NOW, 0, 1, HALF_HOUR) == timedelta(0)


def test_before_anyone_was_served_the_service_duration_counts():
    assert time_per_person([], NOW) is None
    assert estimated_wait([], NOW, 3, 1, HALF_HOUR) == timedelta(minutes=90)
    assert estimated_wait([], NOW, 3, 2, HALF_HOUR) == timedelta(minutes=45)


def test_the_median_of_todays_served_visits_counts():
    visits = [visit(120, 10), visit(90, 40), visit(60, 12)]
    assert time_per_person(visits, NOW) == timedelta(minutes=12)
    assert estimated_wait(visits, NOW, 4, 1, HALF_HOUR) == timedelta(minutes=50)  # 48 → 50


def test_an_outlier_does_not_move_the_median_much():
    visits = [visit(200, 15), visit(150, 15), visit(100, 180)]
    assert time_per_person(visits, NOW) == timedelta(minutes=15)


def test_yesterdays_and_unfinished_visits_do_not_count():
    yesterday = visit(24 * 60, 5)
    still_at_the_desk = Visit(NOW - timedelta(minutes=30), NOW - timedelta(minutes=10), None)
    served_later = visit(5, 20)  # served after now (a clock that is behind): ignored
    assert time_per_person([yesterday, still_at_the_desk, served_later], NOW) is None
    assert estimated_wait([yesterday], NOW, 1, 1, HALF_HOUR) == HALF_HOUR


def test_today_is_the_berlin_day():
    # 00:30 Berlin: a visit at 23:50 Berlin the day before belongs to yesterday (same UTC day).
    just_after_midnight = datetime(2027, 3, 5, 0, 30, tzinfo=BERLIN)
    late = Visit(
        datetime(2027, 3, 4, 23, 40, tzinfo=BERLIN),
        datetime(2027, 3, 4, 23, 50, tzinfo=BERLIN),
        datetime(2027, 3, 4, 23, 55, tzinfo=BERLIN),
    )
    assert time_per_person([late], just_after_midnight) is None


def test_no_desk_on_duty_counts_as_one():
    assert estimated_wait([], NOW, 2, 0, HALF_HOUR) == timedelta(hours=1)


def test_rounding_up_to_five_minutes():
    assert round_up(timedelta(minutes=1)) == timedelta(minutes=5)
    assert round_up(timedelta(minutes=5)) == timedelta(minutes=5)
    assert round_up(timedelta(minutes=5, seconds=1)) == timedelta(minutes=10)
    assert round_up(timedelta(0)) == timedelta(0)


@given(
    st.lists(st.integers(min_value=1, max_value=120), max_size=20),
    st.integers(min_value=0, max_value=50),
    st.integers(min_value=0, max_value=6),
)
def test_the_estimate_grows_with_the_queue_and_shrinks_with_desks(durations, waiting, desks):
    visits = [visit(300 - index, took) for index, took in enumerate(durations)]
    estimate = estimated_wait(visits, NOW, waiting, desks, HALF_HOUR)
    assert estimate >= timedelta(0)
    assert estimate % timedelta(minutes=5) == timedelta(0)
    assert estimated_wait(visits, NOW, waiting + 1, desks, HALF_HOUR) >= estimate
    assert estimated_wait(visits, NOW, waiting, desks + 1, HALF_HOUR) <= estimate
