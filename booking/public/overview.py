"""Free days of a service a month at a glance, and the earliest free times across offices.

Both rest on the slot engine: one computation over the service's horizon, never one per day.
"""

import calendar
import enum
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select

from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service
from booking.public.labels import CANCEL_REASON_LABELS
from booking.schedule.agenda import local_today, week_start
from booking.schedule.engine import BERLIN, Slot, free_slots
from booking.schedule.holidays import public_holidays
from booking.schedule.services import (
    booking_rules,
    closed_days,
    find_free_slots,
    held_for_phone,
    slot_inputs,
)

EARLIEST_SHOWN = 3  # free times per service on the "earliest anywhere" page


class DayState(enum.StrEnum):
    FREE = "free"
    NONE = "none"  # bookable range, but no free time (fully booked or no hours)
    CLOSED = "closed"  # public holiday, yearly closed day or office closure
    OUTSIDE = "outside"  # before today or beyond the horizon


@dataclass(frozen=True)
class DayMark:
    day: date
    state: DayState
    free: int = 0
    reason: str = ""

    @property
    def week(self) -> date:
        return week_start(self.day)


@dataclass(frozen=True)
class MonthOverview:
    month: date  # the first of the month
    weeks: list[list[DayMark | None]]  # Monday to Sunday; None pads the first and last week
    earliest: Slot | None
    previous: date | None
    next: date | None

    @property
    def free_days(self) -> int:
        return sum(1 for week in self.weeks for d in week if d and d.state == DayState.FREE)


def month_grid(
    month: date,
    slots: list[Slot],
    closed: dict[date, str],
    first_bookable: date,
    last_bookable: date,
) -> list[list[DayMark | None]]:
    """The month's days in weeks, each marked by the free slots found on it (Berlin days)."""
    counts = Counter(slot.start.astimezone(BERLIN).date() for slot in slots)
    weeks: list[list[DayMark | None]] = []
    for week in calendar.Calendar(firstweekday=0).monthdatescalendar(month.year, month.month):
        row: list[DayMark | None] = []
        for day in week:
            if day.month != month.month:
                row.append(None)
            elif counts[day]:
                row.append(DayMark(day, DayState.FREE, counts[day]))
            elif day < first_bookable or day > last_bookable:
                row.append(DayMark(day, DayState.OUTSIDE))
            elif day in closed:
                row.append(DayMark(day, DayState.CLOSED, reason=closed[day]))
            else:
                row.append(DayMark(day, DayState.NONE))
        weeks.append(row)
    return weeks


def first_of_month(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def parse_month(text: str | None) -> date | None:
    """ "2027-03" -> 1 March 2027; anything else -> None."""
    if not text or len(text) != 7 or text[4] != "-":
        return None
    year, month = text[:4], text[5:]
    if not (year.isascii() and year.isdigit() and month.isascii() and month.isdigit()):
        return None
    if not 1 <= int(month) <= 12 or int(year) < 1:
        return None
    return date(int(year), int(month), 1)


def free_days_month(service: Service, asked: date | None, now: datetime) -> MonthOverview:
    """The month of `asked` (default: the earliest free time's), clipped to the horizon."""
    today = local_today(now)
    horizon_end = today + timedelta(days=service.horizon_days)
    inputs = slot_inputs(service, today, horizon_end)
    slots: list[Slot] = []
    if inputs is not None:
        slots = free_slots(
            booking_rules(service),
            today,
            horizon_end,
            inputs.hours,
            inputs.busy,
            inputs.closed,
            now,
        )
        held = held_for_phone(service, today, horizon_end, now, inputs)
        slots = [slot for slot in slots if slot.start_ts not in held]
    earliest = slots[0] if slots else None
    if asked is None:
        asked = earliest.start.astimezone(BERLIN).date() if earliest else today
    month = min(max(first_of_month(asked), first_of_month(today)), first_of_month(horizon_end))
    # The cached inputs keep closed days without reasons; the month's reasons in the reader's
    # language come from the calendar itself.
    month_end = add_months(month, 1) - timedelta(days=1)
    closed = closed_days(service.office, month, month_end)
    # "public holiday: New Year's Day", both in the reader's language.
    for day in public_holidays(month, month_end).keys() & closed.keys():
        closed[day] = f"{CANCEL_REASON_LABELS['holiday']}: {closed[day]}"
    return MonthOverview(
        month=month,
        weeks=month_grid(month, slots, closed, today, horizon_end),
        earliest=earliest,
        previous=add_months(month, -1) if month > first_of_month(today) else None,
        next=add_months(month, 1) if month < first_of_month(horizon_end) else None,
    )


@dataclass(frozen=True)
class EarliestTimes:
    service: Service
    slots: list[Slot]


def earliest_across(kind: OfficeKind, now: datetime) -> list[EarliestTimes]:
    """Every public service of the active offices of a kind with its first free times; the
    soonest first, services without a free time last (by office name)."""
    services = db.session.scalars(
        select(Service)
        .join(Service.office)
        .where(
            Office.kind == kind,
            Office.active.is_(True),
            Service.public.is_(True),
            Service.active.is_(True),
        )
        .order_by(Office.name, Service.name)
    ).all()
    today = local_today(now)
    found = [
        EarliestTimes(
            service,
            find_free_slots(
                service, today, today + timedelta(days=service.horizon_days), now, online=True
            )[:EARLIEST_SHOWN],
        )
        for service in services
    ]
    return sorted(found, key=lambda e: (not e.slots, e.slots[0].start_ts if e.slots else 0))
