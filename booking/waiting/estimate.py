"""The estimated wait shown on an office's page. Pure: no Flask, no database; `now` is given.

Time per person is the median of today's served visits, each from being called to being
served (the time a person takes at a desk); before anyone was served today it is the
service's duration. The wait of someone arriving now is the people waiting ahead of them
times that, shared among the desks (staff on duty).
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
ROUND_TO = timedelta(minutes=5)


@dataclass(frozen=True)
class Visit:
    checked_in_at: datetime
    called_at: datetime | None = None
    served_at: datetime | None = None


def time_per_person(visits: Iterable[Visit], now: datetime) -> timedelta | None:
    """Median time at the desk of the visits served so far on now's Berlin day, or None."""
    today = now.astimezone(BERLIN).date()
    durations = [
        visit.served_at - visit.called_at
        for visit in visits
        if visit.called_at is not None
        and visit.served_at is not None
        and visit.served_at <= now
        and visit.called_at.astimezone(BERLIN).date() == today
    ]
    return median(durations) if durations else None


def round_up(value: timedelta, step: timedelta = ROUND_TO) -> timedelta:
    return step * math.ceil(value / step) if value > timedelta(0) else timedelta(0)


def estimated_wait(
    visits: Iterable[Visit],
    now: datetime,
    waiting: int,
    desks: int,
    service_duration: timedelta,
) -> timedelta:
    """How long someone checking in now will wait, rounded up to 5 minutes (0: nobody ahead)."""
    if waiting <= 0:
        return timedelta(0)
    per_person = time_per_person(visits, now) or service_duration
    return round_up(per_person * waiting / max(desks, 1))
