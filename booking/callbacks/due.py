"""When a callback is due: the office's due time on the Nth working day after the call.

Pure: no Flask, no database; the caller passes the call instant and the closed days.
Working days are Monday to Friday without the days in `closed` (NRW public holidays, the
office's closures and the yearly closed days: see `closed_calendar`). The day of the call
never counts, whatever time the call came in. The due time is a Europe/Berlin wall-clock
time, so it stays 16:00 across a daylight-saving change (fold=0 for a time that does not
exist or exists twice, as in the slot engine).
"""

from collections.abc import Container, Iterable
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.schedule.holidays import public_holidays, yearly_closed_days

BERLIN = ZoneInfo("Europe/Berlin")
DEFAULT_DUE_DAYS = 2
DEFAULT_DUE_TIME = time(16, 0)
URGENT_DUE_DAYS = 1
# Enough for the longest sensible closure; beyond it the calendar is taken as wrong.
SEARCH_DAYS = 400


class NoWorkingDay(ValueError):
    """No working day within SEARCH_DAYS after the call (every day closed)."""


def is_working_day(day: date, closed: Container[date]) -> bool:
    return day.weekday() < 5 and day not in closed


def working_days_for(due_days: int, urgent: bool) -> int:
    """N: the office's due days, or one for an urgent request (never more than the office's)."""
    if due_days < 1:
        raise ValueError("due_days must be at least 1")
    return min(URGENT_DUE_DAYS, due_days) if urgent else due_days


def due_day(call_day: date, working_days: int, closed: Container[date]) -> date:
    """The `working_days`-th working day after `call_day` (which itself never counts)."""
    if working_days < 1:
        raise ValueError("working_days must be at least 1")
    day = call_day
    found = 0
    for _ in range(SEARCH_DAYS):
        day += timedelta(days=1)
        if is_working_day(day, closed):
            found += 1
            if found == working_days:
                return day
    raise NoWorkingDay(f"no {working_days} working days within {SEARCH_DAYS} days of {call_day}")


def search_window(called_at: datetime, tz: ZoneInfo = BERLIN) -> tuple[date, date]:
    """The local days whose closures `due_at` may look at, for fetching them up front."""
    call_day = called_at.astimezone(tz).date()
    return call_day, call_day + timedelta(days=SEARCH_DAYS)


def due_at(
    called_at: datetime,
    closed: Container[date],
    due_days: int = DEFAULT_DUE_DAYS,
    due_time: time = DEFAULT_DUE_TIME,
    urgent: bool = False,
    tz: ZoneInfo = BERLIN,
) -> datetime:
    """The due instant (aware, UTC) of a request received at `called_at` (aware)."""
    if called_at.tzinfo is None:
        raise ValueError("called_at must be an aware datetime")
    call_day = called_at.astimezone(tz).date()
    day = due_day(call_day, working_days_for(due_days, urgent), closed)
    return datetime.combine(day, due_time, tzinfo=tz).astimezone(UTC)


def closed_calendar(
    first: date,
    last: date,
    closures: Iterable[tuple[date, date]] = (),
    yearly: Iterable[str] = (),
) -> frozenset[date]:
    """Closed days between first and last (inclusive): NRW public holidays, the yearly
    closed days ("MM-DD") and closures given as (first_day, last_day) ranges."""
    days = set(public_holidays(first, last))
    days.update(yearly_closed_days(first, last, yearly))
    for start, end in closures:
        day = max(start, first)
        while day <= min(end, last):
            days.add(day)
            day += timedelta(days=1)
    return frozenset(days)
