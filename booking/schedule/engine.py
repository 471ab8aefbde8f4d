"""The slot engine and the consultation-hours calendar. Pure: no Flask, no database.

Times: rules are wall-clock times in Europe/Berlin, expanded per date with zoneinfo; every
instant is handled as integer UTC epoch seconds inside the hot loop and returned as an aware
UTC datetime. Stepping happens in real time from the start of each range, so slots never
repeat or overlap on the daylight-saving days, and a wall-clock time that does not exist
(spring forward) or exists twice (fall back) resolves to one instant (PEP 495, fold=0).
"""

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def recurs_on(weekday: int, valid_from: date | None, valid_until: date | None, day: date) -> bool:
    """Does a weekly rule on `weekday`, valid between the optional dates, fall on `day`?"""
    return (
        day.weekday() == weekday
        and (valid_from is None or valid_from <= day)
        and (valid_until is None or day <= valid_until)
    )


@dataclass(frozen=True)
class BookingRules:
    """What the service says about length, spacing and how early and late one may book."""

    minutes: int
    buffer_minutes: int = 0
    step_minutes: int | None = None
    min_notice_hours: int = 24
    horizon_days: int = 60

    @property
    def step_seconds(self) -> int:
        return (self.step_minutes or self.minutes + self.buffer_minutes) * 60


@dataclass(frozen=True)
class HoursRule:
    """One weekly range of one caseworker (weekday 0 = Monday)."""

    staff_id: int
    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def applies_on(self, day: date) -> bool:
        return recurs_on(self.weekday, self.valid_from, self.valid_until, day)


@dataclass(frozen=True)
class Busy:
    """Time a caseworker cannot take a family: an appointment (with its buffer), an absence,
    blocked time. staff_id None means everybody (e.g. a closure for part of a day)."""

    staff_id: int | None
    start: datetime
    end: datetime


class Slot(NamedTuple):
    """A free start time with the caseworkers free at it.

    Kept as epoch seconds, with datetimes made on access: the engine makes thousands of
    slots and a page shows a few dozen.
    """

    start_ts: int
    end_ts: int
    staff_ids: tuple[int, ...]

    @property
    def start(self) -> datetime:
        return to_utc(self.start_ts)

    @property
    def end(self) -> datetime:
        return to_utc(self.end_ts)


@dataclass
class EngineStats:
    candidates: int = 0
    free: int = 0


def local_instant(day: date, clock: time, tz: ZoneInfo = BERLIN) -> int:
    """Epoch seconds of a wall-clock time on a date (fold=0 for gaps and repeats)."""
    return int(datetime.combine(day, clock, tzinfo=tz).timestamp())


EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def _offset_at_midnight(day: date, tz: ZoneInfo) -> int:
    return int(datetime.combine(day, time(), tzinfo=tz).utcoffset().total_seconds())


def _seconds(clock: time) -> int:
    return clock.hour * 3600 + clock.minute * 60 + clock.second


def to_utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class MergedBusy(dict[int | None, tuple[list[int], list[int]]]):
    """Busy time merged per staff (merge_busy): free_slots takes it as it is, so a caller that
    keeps busy times across requests converts them once. Read-only once built."""


def merge_busy(busy: Iterable[Busy]) -> MergedBusy:
    """Per staff, the busy intervals merged and sorted, as parallel start and end lists."""
    raw: dict[int | None, list[tuple[int, int]]] = {}
    for item in busy:
        # Outward to whole seconds: busy time never shrinks by a fraction of a second.
        start, end = math.floor(item.start.timestamp()), math.ceil(item.end.timestamp())
        if end > start:
            raw.setdefault(item.staff_id, []).append((start, end))
    everyone = raw.pop(None, [])
    merged = MergedBusy()
    for staff_id in set(raw) | {None}:
        intervals = sorted(raw.get(staff_id, []) + everyone)
        starts: list[int] = []
        ends: list[int] = []
        for start, end in intervals:
            if ends and start <= ends[-1]:
                ends[-1] = max(ends[-1], end)
            else:
                starts.append(start)
                ends.append(end)
        merged[staff_id] = (starts, ends)
    return merged


def _bookable_window(rules: BookingRules, now: datetime, tz: ZoneInfo) -> tuple[int, int]:
    """Epoch seconds of the earliest and the latest bookable start at `now`: minimum notice,
    and the horizon in calendar days (the same wall-clock time N days later)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    earliest = int(now.timestamp()) + rules.min_notice_hours * 3600
    latest = int((now.astimezone(tz) + timedelta(days=rules.horizon_days)).timestamp())
    return earliest, latest


def _first_and_last_start(
    day: date,
    day_base: int | None,
    start_clock: time,
    end_clock: time,
    occupy: int,
    step: int,
    earliest: int,
    latest: int,
    tz: ZoneInfo,
) -> tuple[int, int]:
    """The first and last start of a range's grid on a day (first > last: none). `day_base`:
    epoch seconds of the day's wall-clock midnight on a day without an offset change, where
    wall clock -> epoch is integer arithmetic; None lets zoneinfo decide (the two DST days)."""
    if day_base is not None:
        start = day_base + _seconds(start_clock)
        end = day_base + _seconds(end_clock)
    else:
        start = local_instant(day, start_clock, tz)
        end = local_instant(day, end_clock, tz)
    end = min(end - occupy, latest)
    if start < earliest:  # jump along the grid to the first slot after the notice
        start += -(-(earliest - start) // step) * step
    return start, end


def _day_base(day: date, midnight_offset: int, next_offset: int) -> int | None:
    """Epoch seconds of the day's wall-clock midnight, None on a day whose offset changes."""
    if midnight_offset != next_offset:
        return None
    return (day.toordinal() - EPOCH_ORDINAL) * 86400 - midnight_offset


def free_slots(
    rules: BookingRules,
    first_day: date,
    last_day: date,
    hours: Iterable[HoursRule],
    busy: Iterable[Busy] | MergedBusy,
    closed_days: Iterable[date],
    now: datetime,
    tz: ZoneInfo = BERLIN,
    stats: EngineStats | None = None,
) -> list[Slot]:
    """Free slots of one service pooled over its caseworkers, in time order.

    A slot is free for a caseworker when it starts on their grid (range start + n * step),
    ends with its buffer inside the range, lies outside every busy interval of theirs, and
    respects minimum notice and horizon measured from `now`.
    """
    earliest, latest = _bookable_window(rules, now, tz)
    step = rules.step_seconds
    length = rules.minutes * 60
    occupy = length + rules.buffer_minutes * 60

    first_day = max(first_day, to_utc(earliest).astimezone(tz).date())
    last_day = min(last_day, to_utc(latest).astimezone(tz).date())
    closed = set(closed_days)
    # Caseworkers who share a range share its grid: group the rules by range once.
    by_weekday: dict[int, dict[tuple, list[int]]] = {}
    for rule in hours:
        ranges = by_weekday.setdefault(rule.weekday, {})
        key = (rule.start, rule.end, rule.valid_from, rule.valid_until)
        ranges.setdefault(key, []).append(rule.staff_id)
    busy_by_staff = busy if isinstance(busy, MergedBusy) else merge_busy(busy)
    nobody_busy = busy_by_staff[None]

    pool: dict[int, list[int]] = {}
    candidates = 0
    day = first_day
    one_day = timedelta(days=1)
    midnight_offset = _offset_at_midnight(day, tz)
    while day <= last_day:
        next_offset = _offset_at_midnight(day + one_day, tz)
        ranges = by_weekday.get(day.weekday())
        if ranges and day not in closed:
            day_base = _day_base(day, midnight_offset, next_offset)
            for (start_clock, end_clock, valid_from, valid_until), staff_ids in ranges.items():
                if (valid_from and day < valid_from) or (valid_until and day > valid_until):
                    continue
                start, end = _first_and_last_start(
                    day, day_base, start_clock, end_clock, occupy, step, earliest, latest, tz
                )
                if start > end:
                    continue
                positions = range(start, end + 1, step)
                lists = [pool.setdefault(position, []) for position in positions]
                candidates += len(positions) * len(staff_ids)
                for staff_id in staff_ids:
                    starts, ends = busy_by_staff.get(staff_id, nobody_busy)
                    index = bisect.bisect_right(ends, start)
                    count = len(starts)
                    if index == count or starts[index] >= end + occupy:
                        for free_list in lists:  # nothing busy in this range
                            free_list.append(staff_id)
                        continue
                    for slot, free_list in zip(positions, lists, strict=True):
                        while index < count and ends[index] <= slot:
                            index += 1
                        if index == count or starts[index] >= slot + occupy:
                            free_list.append(staff_id)
        day += one_day
        midnight_offset = next_offset

    pool = {slot: staff_ids for slot, staff_ids in pool.items() if staff_ids}
    if stats is not None:
        stats.candidates += candidates
        stats.free += len(pool)
    return [
        Slot(slot, slot + length, tuple(ids) if len(ids) == 1 else tuple(sorted(set(ids))))
        for slot, ids in sorted(pool.items())
    ]


def slot_at(
    rules: BookingRules,
    start_ts: int,
    hours: Iterable[HoursRule],
    busy: Iterable[Busy] | MergedBusy,
    closed_days: Iterable[date],
    now: datetime,
    tz: ZoneInfo = BERLIN,
) -> tuple[int, ...] | None:
    """One start time as free_slots would see it, without building the whole day (a booking
    asks about one time): None when it is no slot time at all (off every grid, a closed day,
    inside the notice or beyond the horizon), else the caseworkers free at it (empty: taken).
    The same arithmetic as free_slots; tests compare the two."""
    earliest, latest = _bookable_window(rules, now, tz)
    step = rules.step_seconds
    occupy = (rules.minutes + rules.buffer_minutes) * 60
    day = to_utc(start_ts).astimezone(tz).date()
    outside = (
        day < to_utc(earliest).astimezone(tz).date() or day > to_utc(latest).astimezone(tz).date()
    )
    if outside or day in set(closed_days):
        return None
    day_base = _day_base(
        day, _offset_at_midnight(day, tz), _offset_at_midnight(day + timedelta(days=1), tz)
    )
    weekday = day.weekday()
    on_grid: set[int] = set()
    for rule in hours:
        if rule.weekday != weekday:
            continue
        if (rule.valid_from and day < rule.valid_from) or (
            rule.valid_until and day > rule.valid_until
        ):
            continue
        start, end = _first_and_last_start(
            day, day_base, rule.start, rule.end, occupy, step, earliest, latest, tz
        )
        if start <= start_ts <= end and (start_ts - start) % step == 0:
            on_grid.add(rule.staff_id)
    if not on_grid:
        return None
    busy_by_staff = busy if isinstance(busy, MergedBusy) else merge_busy(busy)
    nobody_busy = busy_by_staff[None]
    free = []
    for staff_id in sorted(on_grid):
        starts, ends = busy_by_staff.get(staff_id, nobody_busy)
        index = bisect.bisect_right(ends, start_ts)
        if index == len(starts) or starts[index] >= start_ts + occupy:
            free.append(staff_id)
    return tuple(free)


def grid_starts(
    rules: BookingRules,
    first_day: date,
    last_day: date,
    hours: Iterable[HoursRule],
    closed_days: Iterable[date],
    tz: ZoneInfo = BERLIN,
) -> list[int]:
    """Every slot time of the days as if nobody were booked and without notice or horizon:
    what the channel quota is counted on, so it never moves with bookings or the clock."""
    start = datetime.combine(first_day, time(), tzinfo=tz)
    whole = replace(rules, min_notice_hours=0, horizon_days=(last_day - first_day).days + 1)
    return [
        slot.start_ts
        for slot in free_slots(whole, first_day, last_day, hours, [], closed_days, start, tz)
    ]


def phone_held_starts(starts: Iterable[int], percent: int, tz: ZoneInfo = BERLIN) -> frozenset[int]:
    """The slot times kept for phone and desk bookings: `percent` of each day's slot times
    (rounded half up), spread over the day (the middle time of each of k equal parts).

    Depends on the day's grid only (grid_starts), so the same times stay held however many
    are booked, and a day of 10 times at 20 % holds its 3rd and 8th, not the last two.
    """
    if percent <= 0:
        return frozenset()
    by_day: dict[date, list[int]] = {}
    for start in sorted(set(starts)):
        by_day.setdefault(to_utc(start).astimezone(tz).date(), []).append(start)
    held: set[int] = set()
    for day_starts in by_day.values():
        n = len(day_starts)
        k = min(n, (n * percent * 2 + 100) // 200)
        held.update(day_starts[(2 * i + 1) * n // (2 * k)] for i in range(k))
    return frozenset(held)


def release_ts(start_ts: int, release_hours_before: int) -> int:
    """When a held slot time opens to online booking: real hours before it (UTC arithmetic,
    so a night with a daylight-saving change counts as the 23 or 25 hours it really has)."""
    return start_ts - release_hours_before * 3600


def unreleased(held: Iterable[int], now: datetime, release_hours_before: int) -> frozenset[int]:
    """The held slot times that online booking may not have yet at `now`."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    now_ts = now.timestamp()
    return frozenset(s for s in held if now_ts < release_ts(s, release_hours_before))


def rank_caseworkers(
    candidates: Iterable[int],
    load: Mapping[int, int],
    languages: Mapping[int, Iterable[str]] | None = None,
    language: str | None = None,
) -> list[int]:
    """Who gets a pooled booking, best first: a speaker of the family's `language` (so no
    interpreter is needed), then the least booked that day, then the lowest id (stable)."""
    languages = languages or {}

    def speaks(staff_id: int) -> bool:
        return bool(language) and language in set(languages.get(staff_id, ()))

    return sorted(
        set(candidates),
        key=lambda staff_id: (not speaks(staff_id), load.get(staff_id, 0), staff_id),
    )


def choose_caseworker(
    candidates: Iterable[int],
    load: Mapping[int, int],
    languages: Mapping[int, Iterable[str]] | None = None,
    language: str | None = None,
) -> int:
    """The first of rank_caseworkers: a speaker of the language, else the least booked."""
    return rank_caseworkers(candidates, load, languages, language)[0]


@dataclass(frozen=True)
class ConsultationRule:
    """Recurring open consultation hours of an office, with the staff on duty."""

    weekday: int
    start: time
    end: time
    staff_ids: tuple[int, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None
    rule_id: int | None = None

    def applies_on(self, day: date) -> bool:
        return recurs_on(self.weekday, self.valid_from, self.valid_until, day)


SCHEDULED = "scheduled"
CANCELLED = "cancelled"
REASON_HOLIDAY = "holiday"
REASON_CLOSURE = "closure"
REASON_NOBODY = "nobody_on_duty"


@dataclass(frozen=True)
class ConsultationOccurrence:
    start: datetime
    end: datetime
    status: str
    reason: str | None = None
    detail: str | None = None  # the holiday's or closure's name
    staff_ids: tuple[int, ...] = field(default=())
    rule_id: int | None = None


def consultation_occurrences(
    rules: Iterable[ConsultationRule],
    first_day: date,
    last_day: date,
    holidays: Mapping[date, str],
    closures: Mapping[date, str],
    busy: Iterable[Busy],
    tz: ZoneInfo = BERLIN,
) -> list[ConsultationOccurrence]:
    """Every occurrence in the date range, cancelled ones with their reason, in time order.

    An occurrence is cancelled on a public holiday, on a closure day, or when none of the
    staff on duty is free for the whole of it.
    """
    busy_by_staff = busy if isinstance(busy, MergedBusy) else merge_busy(busy)
    nobody_busy = busy_by_staff[None]
    rules = list(rules)
    result = []
    day = first_day
    while day <= last_day:
        for rule in rules:
            if not rule.applies_on(day):
                continue
            start, end = local_instant(day, rule.start, tz), local_instant(day, rule.end, tz)
            occurrence = dict(start=to_utc(start), end=to_utc(end), rule_id=rule.rule_id)
            if day in holidays:
                status, reason, detail = CANCELLED, REASON_HOLIDAY, holidays[day]
                on_duty: tuple[int, ...] = ()
            elif day in closures:
                status, reason, detail = CANCELLED, REASON_CLOSURE, closures[day]
                on_duty = ()
            else:
                on_duty = tuple(
                    staff_id
                    for staff_id in rule.staff_ids
                    if _is_free(busy_by_staff.get(staff_id, nobody_busy), start, end)
                )
                status, reason, detail = (
                    (SCHEDULED, None, None)
                    if on_duty
                    else (
                        CANCELLED,
                        REASON_NOBODY,
                        None,
                    )
                )
            result.append(
                ConsultationOccurrence(
                    status=status, reason=reason, detail=detail, staff_ids=on_duty, **occurrence
                )
            )
        day += timedelta(days=1)
    result.sort(key=lambda occurrence: occurrence.start)
    return result


def _is_free(intervals: tuple[list[int], list[int]], start: int, end: int) -> bool:
    starts, ends = intervals
    index = bisect.bisect_right(ends, start)
    return index == len(starts) or starts[index] >= end
