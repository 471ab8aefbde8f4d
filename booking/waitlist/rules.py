"""Waiting-list rules. Pure: no Flask, no database; `now` comes from the caller.

Which entry a freed time suits, in which order entries are served, and how long an offer is
held: a number of working hours of the office, counted only inside its working hours.
"""

import bisect
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from statistics import median
from zoneinfo import ZoneInfo

from booking.schedule.engine import HoursRule, local_instant

BERLIN = ZoneInfo("Europe/Berlin")
MORNING, AFTERNOON = 1, 2
NOON = time(12)


def day_part(start: datetime, tz: ZoneInfo = BERLIN) -> int:
    """MORNING for a time before 12:00 (local), AFTERNOON from 12:00."""
    return MORNING if start.astimezone(tz).time() < NOON else AFTERNOON


def suits(weekdays: int, day_parts: int, start: datetime, tz: ZoneInfo = BERLIN) -> bool:
    """Does a time fall on one of the entry's weekdays (bit 0 = Monday) and times of day?"""
    local = start.astimezone(tz)
    return bool(weekdays & (1 << local.weekday())) and bool(day_parts & day_part(start, tz))


@dataclass(frozen=True)
class Waiting:
    """What the order needs of an entry."""

    entry_id: int
    joined_at: datetime
    weekdays: int
    day_parts: int
    may_take_kept: bool = True  # added by staff: may get a time the channel quota keeps


def first_match(
    entries: Iterable[Waiting],
    start: datetime,
    refused: set[tuple[int, datetime]],
    kept_for_phone: bool = False,
) -> Waiting | None:
    """The entry a freed time goes to: the earliest joined (then lowest id) whose weekdays and
    times of day it suits and who has not declined or let pass this very time before."""
    for entry in sorted(entries, key=lambda e: (e.joined_at, e.entry_id)):
        if (entry.entry_id, start) in refused:
            continue
        if kept_for_phone and not entry.may_take_kept:
            continue
        if suits(entry.weekdays, entry.day_parts, start):
            return entry
    return None


def working_intervals(
    hours: Iterable[HoursRule], first: date, last: date, closed: Iterable[date]
) -> list[tuple[int, int]]:
    """The office's working time between two local dates as merged epoch intervals: the union
    of its caseworkers' weekly hours, without closed days."""
    closed = set(closed)
    hours = list(hours)
    raw = []
    day = first
    while day <= last:
        if day not in closed:
            for rule in hours:
                if rule.applies_on(day):
                    raw.append((local_instant(day, rule.start), local_instant(day, rule.end)))
        day += timedelta(days=1)
    merged: list[tuple[int, int]] = []
    for start, end in sorted(raw):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def hold_deadline(
    offered_at: datetime, working_seconds: int, intervals: Sequence[tuple[int, int]]
) -> datetime | None:
    """The instant `working_seconds` of working time after `offered_at` (time outside the
    intervals does not count: an offer made on Friday evening runs into Monday's hours).
    None when the intervals end first."""
    if offered_at.tzinfo is None:
        raise ValueError("offered_at must be timezone-aware")
    now = offered_at.timestamp()
    left = working_seconds
    index = max(bisect.bisect_right([end for _, end in intervals], now), 0)
    for start, end in intervals[index:]:
        begin = max(start, now)
        if end - begin >= left:
            return datetime.fromtimestamp(begin + left, offered_at.tzinfo)
        left -= end - begin
    return None


def median_days_to_offer(pairs: Iterable[tuple[datetime, datetime]]) -> float | None:
    """Median days from joining to the first offer, over entries that had one."""
    days = [(offered - joined).total_seconds() / 86400 for joined, offered in pairs]
    return median(days) if days else None
