"""Calendar operations on the database: inputs for the engine, hours, absences, closures."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from functools import cache
from types import MappingProxyType

import sqlalchemy as sa
from babel.dates import format_skeleton, get_day_names
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, or_, select, union_all
from sqlalchemy.orm import selectinload

from booking.appointments.models import HOLDING_STATES, MAX_BUSY_SPAN, Appointment, holds_time
from booking.audit.services import record_event
from booking.auth.models import Role, StaffLanguage, StaffUser
from booking.core.exceptions import BookingError
from booking.core.reads import fetch
from booking.db import AnyOf, IdList
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.public.labels import closed_label, holiday_name
from booking.schedule.engine import (
    BERLIN,
    BookingRules,
    Busy,
    ConsultationOccurrence,
    ConsultationRule,
    HoursRule,
    MergedBusy,
    Slot,
    consultation_occurrences,
    free_slots,
    grid_starts,
    merge_busy,
    phone_held_starts,
    slot_at,
    unreleased,
)
from booking.schedule.holidays import public_holidays, yearly_closed_days
from booking.schedule.inputs_cache import InputsCache, app_cache, current_versions
from booking.schedule.models import (
    Absence,
    AbsenceKind,
    Closure,
    ConsultationHours,
    WeeklyHours,
)


class ScheduleError(BookingError):
    pass


def local_day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """UTC instants of local midnight before `first` and after `last`."""
    start = datetime.combine(first, time(), tzinfo=BERLIN)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=BERLIN)
    return start, end


def closed_days(office: Office, first: date, last: date) -> dict[date, str]:
    """Every day the office is closed, with why: public holidays, yearly and set closures."""
    result: dict[date, str] = {}
    for day in yearly_closed_days(first, last, current_app.config["YEARLY_CLOSED_DAYS"]):
        when = format_skeleton("dM", day, locale=get_locale() or "de")  # "24.12." / "24/12"
        result[day] = str(closed_label(when))
    closures = db.session.scalars(
        select(Closure).where(
            or_(Closure.office_id == office.id, Closure.office_id.is_(None)),
            Closure.first_day <= last,
            Closure.last_day >= first,
        )
    )
    for closure in closures:
        day = max(closure.first_day, first)
        while day <= min(closure.last_day, last):
            result[day] = closure.reason
            day += timedelta(days=1)
    result.update((day, holiday_name(name)) for day, name in public_holidays(first, last).items())
    return result


def qualified_caseworkers(service: Service, staff_id: int | None = None) -> list[StaffUser]:
    query = (
        select(StaffUser)
        .where(
            StaffUser.active.is_(True),
            StaffUser.role == Role.CASEWORKER,
            StaffUser.services.any(Service.id == service.id),
            StaffUser.offices.any(Office.id == service.office_id),
        )
        .order_by(StaffUser.id)
    )
    if staff_id is not None:
        query = query.where(StaffUser.id == staff_id)
    return list(db.session.scalars(query))


def absence_busy(staff_ids: Iterable[int], start: datetime, end: datetime) -> list[Busy]:
    """Absences and blocked time of these staff between two instants."""
    staff_ids = list(staff_ids)
    if not staff_ids:
        return []
    return [
        Busy(row.staff_id, row.starts_at, row.ends_at)
        for row in db.session.execute(
            select(Absence.staff_id, Absence.starts_at, Absence.ends_at).where(
                Absence.staff_id.in_(staff_ids),
                Absence.starts_at < end,
                Absence.ends_at > start,
            )
        )
    ]


# Hot statements are built once, with parameters: building a select costs more Python than
# running it (a booking reads busy time once, the slot pages for every change of a service).
WINDOW = {
    "staff_ids": bindparam("staff_ids", type_=IdList()),
    "start": bindparam("start"),
    "end": bindparam("end"),
    "low": bindparam("low"),  # start - MAX_BUSY_SPAN: bounds the index scan from below
}


@cache
def busy_statement(excluding: bool):
    from booking.waitlist.models import WaitlistOffer, is_open_offer

    appointments = select(
        Appointment.staff_id, Appointment.starts_at, Appointment.busy_until.label("ends_at")
    ).where(
        AnyOf(Appointment.staff_id, WINDOW["staff_ids"]),
        holds_time(Appointment.status),
        Appointment.starts_at < WINDOW["end"],
        # Bounded on both sides, so the (staff_id, starts_at) index reads only the window.
        Appointment.starts_at > WINDOW["low"],
        Appointment.busy_until > WINDOW["start"],
    )
    if excluding:  # an appointment being moved frees its own time
        appointments = appointments.where(Appointment.id != bindparam("exclude"))
    absences = select(Absence.staff_id, Absence.starts_at, Absence.ends_at).where(
        AnyOf(Absence.staff_id, WINDOW["staff_ids"]),
        Absence.starts_at < WINDOW["end"],
        Absence.ends_at > WINDOW["start"],
    )
    return union_all(appointments, _held_statement(is_open_offer, WaitlistOffer), absences)


def _day_load_select(*columns):
    """Per caseworker, their appointments between `day_from` and `day_to` (a local day): a
    pooled booking goes to the least booked. `columns` come between the id and the count."""
    return (
        select(Appointment.staff_id, *columns, func.count())
        .where(
            AnyOf(Appointment.staff_id, WINDOW["staff_ids"]),
            holds_time(Appointment.status),
            Appointment.starts_at >= bindparam("day_from"),
            Appointment.starts_at < bindparam("day_to"),
        )
        .group_by(Appointment.staff_id)
    )


@cache
def _day_load_statement():
    return _day_load_select()


def day_load(staff_ids: Iterable[int], day: date) -> dict[int, int]:
    """Appointments per caseworker on a local day (those without any are left out)."""
    day_from, day_to = local_day_bounds(day, day)
    parameters = {"staff_ids": list(staff_ids), "day_from": day_from, "day_to": day_to}
    return dict(fetch(_day_load_statement(), parameters).all())


@cache
def busy_and_day_load_statement(excluding: bool):
    """busy_statement's rows, and per caseworker a row with their appointments that local day
    (_day_load_select): one round trip where a booking needed two. Busy rows have no count;
    count rows have no times."""
    busy = busy_statement(excluding).subquery()
    no_count = sa.cast(sa.null(), sa.Integer)
    return union_all(
        select(busy.c.staff_id, busy.c.starts_at, busy.c.ends_at, no_count.label("day_count")),
        _day_load_select(sa.null(), sa.null()),
    )


def _held_statement(is_open_offer, WaitlistOffer):  # imported late (waitlist imports us)
    # Times held for a waiting-list family are busy for everyone else until the offer ends.
    return select(WaitlistOffer.staff_id, WaitlistOffer.starts_at, WaitlistOffer.busy_until).where(
        AnyOf(WaitlistOffer.staff_id, WINDOW["staff_ids"]),
        is_open_offer(WaitlistOffer.state),
        WaitlistOffer.starts_at < WINDOW["end"],
        WaitlistOffer.starts_at > WINDOW["low"],
        WaitlistOffer.busy_until > WINDOW["start"],
    )


@cache
def _holds_statement():
    from booking.waitlist.models import WaitlistOffer, is_open_offer

    return _held_statement(is_open_offer, WaitlistOffer)


def time_window(staff_ids: list[int], start: datetime, end: datetime) -> dict:
    return {"staff_ids": staff_ids, "start": start, "end": end, "low": start - MAX_BUSY_SPAN}


def busy_times(
    staff_ids: Iterable[int],
    start: datetime,
    end: datetime,
    exclude_appointment_id: int | None = None,
) -> list[Busy]:
    """Appointments (with their buffer), waiting-list holds and absences of these staff
    between two instants, in one query."""
    staff_ids = list(staff_ids)
    if not staff_ids:
        return []
    parameters = time_window(staff_ids, start, end)
    if exclude_appointment_id is not None:
        parameters["exclude"] = exclude_appointment_id
    rows = fetch(busy_statement(exclude_appointment_id is not None), parameters)
    return [Busy(*row) for row in rows]  # the first select's column types serve every row


def held_offers(staff_ids: Iterable[int], start: datetime, end: datetime) -> list[Busy]:
    """Times held for a waiting-list family (booking/waitlist): busy for everyone else until
    the offer is taken, declined or has expired (the worker ends it)."""
    rows = fetch(_holds_statement(), time_window(list(staff_ids), start, end))
    return [Busy(*row) for row in rows]


def time_is_held(staff_id: int, start: datetime, busy_until: datetime) -> bool:
    """Does an open waiting-list offer hold part of this time of the caseworker? Asked again
    after the caseworker's lock (lock_caseworker), so a hold and a booking never both win."""
    return bool(held_offers([staff_id], start, busy_until))


def booking_rules(service: Service) -> BookingRules:
    return BookingRules(
        minutes=service.minutes,
        buffer_minutes=service.buffer_minutes,
        step_minutes=service.step_minutes,
        min_notice_hours=service.min_notice_hours,
        horizon_days=service.horizon_days,
    )


@dataclass(frozen=True)
class SlotInputs:
    """What the engine needs about one service between two dates, loaded once."""

    hours: tuple[HoursRule, ...]
    busy: MergedBusy  # converted for the engine once; read-only: the cache shares it
    closed: Mapping[date, str]  # read-only: the cache shares it


@dataclass(frozen=True)
class StaticInputs:
    """Who can be booked when, and the closed days: what changes rarely."""

    staff_ids: tuple[int, ...]
    hours: tuple[HoursRule, ...]
    closed: Mapping[date, str]  # read-only: the cache shares it
    languages: Mapping[int, frozenset[str]] = field(default_factory=dict)  # who speaks what


@dataclass(frozen=True)
class Cached:
    value: StaticInputs | None  # None is a result too: nobody to book


def slot_inputs(
    service: Service,
    first: date,
    last: date,
    staff_id: int | None = None,
    exclude_appointment_id: int | None = None,
) -> SlotInputs | None:
    """None when nobody can be booked for the service (no caseworker, inactive).

    Served from the per-process cache in two parts (booking/schedule/inputs_cache.py): who
    works when and the closed days while the schedule's version is unchanged, the busy times
    while the service's version is unchanged too (a booking changes only that one). A
    transaction that changed schedule data itself always reads afresh.
    """
    cache = app_cache("slot_inputs_cache")
    versions = current_versions(db.session(), service.id) if cache else None
    static = _static_inputs(service, first, last, staff_id, cache, versions)
    if static is None:
        return None
    busy_key = ("busy", service.id, first, last, staff_id, exclude_appointment_id, versions)
    busy = cache.get(busy_key) if versions else None
    if busy is None:
        start, end = local_day_bounds(first, last)
        busy = merge_busy(busy_times(static.staff_ids, start, end, exclude_appointment_id))
        if versions:
            cache.put(busy_key, busy)
    return SlotInputs(hours=static.hours, busy=busy, closed=static.closed)


def _static_inputs(
    service: Service,
    first: date,
    last: date,
    staff_id: int | None,
    cache: InputsCache | None,
    versions: tuple[int, int] | None,
) -> StaticInputs | None:
    yearly = tuple(current_app.config["YEARLY_CLOSED_DAYS"])
    static_key = ("static", service.id, first, last, staff_id, versions[0] if versions else None)
    static = cache.get((*static_key, yearly)) if versions else None
    if static is None:
        static = Cached(load_static_inputs(service, first, last, staff_id))
        if versions:
            cache.put((*static_key, yearly), static)
    return static.value


def hours_rules(*where) -> list[HoursRule]:
    """Weekly hours as the engine reads them, for the rows matching `where`."""
    rows = db.session.execute(
        select(
            WeeklyHours.staff_id,
            WeeklyHours.weekday,
            WeeklyHours.start_time,
            WeeklyHours.end_time,
            WeeklyHours.valid_from,
            WeeklyHours.valid_until,
        ).where(*where)
    )
    return [HoursRule(*row) for row in rows]


def load_static_inputs(
    service: Service, first: date, last: date, staff_id: int | None = None
) -> StaticInputs | None:
    caseworkers = qualified_caseworkers(service, staff_id)
    # Read afresh, not from the loaded objects: PostgreSQL (READ COMMITTED) may have loaded
    # them before a change that the versions this result is cached under already count.
    active = db.session.execute(
        select(Service.active, Office.active).join(Service.office).where(Service.id == service.id)
    ).first()
    if not caseworkers or active is None or not all(active):
        return None
    ids = tuple(user.id for user in caseworkers)
    hours = hours_rules(WeeklyHours.staff_id.in_(ids), WeeklyHours.office_id == service.office_id)
    languages: dict[int, set[str]] = {}
    for staff, code in db.session.execute(
        select(StaffLanguage.staff_id, StaffLanguage.code).where(StaffLanguage.staff_id.in_(ids))
    ):
        languages.setdefault(staff, set()).add(code)
    return StaticInputs(
        staff_ids=ids,
        hours=tuple(hours),
        # The days only: a reason in the first reader's language must not reach the next one.
        closed=MappingProxyType(dict.fromkeys(closed_days(service.office, first, last), "")),
        languages=MappingProxyType({staff: frozenset(codes) for staff, codes in languages.items()}),
    )


@dataclass(frozen=True)
class SlotCheck:
    """One slot time of a service as a booking sees it (check_slot)."""

    free: tuple[int, ...]  # caseworkers whose hours hold the slot, without busy time in it
    inputs: StaticInputs
    versions: tuple[int, int] | None  # (schedule, service) as read; None: not cacheable
    # Appointments per caseworker that local day, read with the busy time; None when the busy
    # time came from the cache (the caller reads the load itself then).
    day_load: Mapping[int, int] | None = None


def check_slot(
    service: Service,
    start: datetime,
    now: datetime,
    staff_id: int | None = None,
    exclude_appointment_id: int | None = None,
    ignore_notice: bool = False,
) -> SlotCheck | None:
    """None when `start` is no slot time of the service on its day (outside hours, on a
    closed day, inside the notice or beyond the horizon, off the grid); else who of the
    caseworkers working then is free.

    The engine decides as for a whole day, but reads busy time only around `start` (unless
    the day's busy times are cached): under many bookings each one changes the service's
    version, and reloading the whole day for every booking would be most of its cost.
    ignore_notice: staff may book inside the minimum notice and beyond the horizon.
    """
    day = start.astimezone(BERLIN).date()
    cache = app_cache("slot_inputs_cache")
    versions = current_versions(db.session(), service.id) if cache else None
    static = _static_inputs(service, day, day, staff_id, cache, versions)
    if static is None:
        return None
    rules = _rules_for(service, day, now, ignore_notice)
    start_ts = int(start.timestamp())
    busy_key = ("busy", service.id, day, day, staff_id, exclude_appointment_id, versions)
    busy = cache.get(busy_key) if versions else None
    day_load = None
    if busy is None:
        busy, day_load = _busy_and_day_load(
            static.staff_ids, start, start + service.busy_span, day, exclude_appointment_id
        )
    free = slot_at(rules, start_ts, static.hours, busy, static.closed, now)
    if free is None:
        return None
    return SlotCheck(free=free, inputs=static, versions=versions, day_load=day_load)


def _busy_and_day_load(
    staff_ids: tuple[int, ...],
    start: datetime,
    end: datetime,
    day: date,
    exclude_appointment_id: int | None,
) -> tuple[list[Busy], dict[int, int]]:
    if not staff_ids:
        return [], {}
    day_from, day_to = local_day_bounds(day, day)
    parameters = time_window(list(staff_ids), start, end) | {"day_from": day_from, "day_to": day_to}
    if exclude_appointment_id is not None:
        parameters["exclude"] = exclude_appointment_id
    busy, load = [], {}
    for staff_id, busy_from, busy_to, count in fetch(
        busy_and_day_load_statement(exclude_appointment_id is not None), parameters
    ):
        if count is None:
            busy.append(Busy(staff_id, busy_from, busy_to))
        else:
            load[staff_id] = count
    return busy, load


def _rules_for(service: Service, day: date, now: datetime, ignore_notice: bool) -> BookingRules:
    rules = booking_rules(service)
    if ignore_notice:
        days_ahead = (day - now.astimezone(BERLIN).date()).days + 1
        rules = replace(rules, min_notice_hours=0, horizon_days=max(rules.horizon_days, days_ahead))
    return rules


def held_for_phone(
    service: Service,
    first: date,
    last: date,
    now: datetime,
    inputs: SlotInputs | StaticInputs | None = None,
) -> frozenset[int]:
    """Slot times (epoch seconds) between two local dates that the channel quota still keeps
    from online booking at `now`; counted on the pooled grid of all the service's caseworkers."""
    if not service.phone_quota_percent:
        return frozenset()
    if inputs is None:  # who works when is enough: the quota counts the grid, not bookings
        cache = app_cache("slot_inputs_cache")
        versions = current_versions(db.session(), service.id) if cache else None
        inputs = _static_inputs(service, first, last, None, cache, versions)
    if inputs is None:
        return frozenset()
    grid = grid_starts(booking_rules(service), first, last, inputs.hours, inputs.closed)
    held = phone_held_starts(grid, service.phone_quota_percent)
    return unreleased(held, now, service.release_hours_before)


def find_free_slots(
    service: Service,
    first: date,
    last: date,
    now: datetime,
    staff_id: int | None = None,
    exclude_appointment_id: int | None = None,
    online: bool = False,
) -> list[Slot]:
    """Free slots of a service (pooled, or of one caseworker) between two local dates;
    `online`: without the times the channel quota keeps for phone and desk."""
    inputs = slot_inputs(service, first, last, staff_id, exclude_appointment_id)
    if inputs is None:
        return []
    slots = free_slots(
        booking_rules(service), first, last, inputs.hours, inputs.busy, inputs.closed, now
    )
    if online and service.phone_quota_percent:
        pooled = inputs if staff_id is None else None  # the quota counts the whole pool
        held = held_for_phone(service, first, last, now, pooled)
        slots = [slot for slot in slots if slot.start_ts not in held]
    return slots


def consultation_calendar(office: Office, first: date, last: date) -> list[ConsultationOccurrence]:
    """Open consultation hours of an office with cancelled dates and their reasons."""
    rows = db.session.scalars(
        select(ConsultationHours)
        .where(ConsultationHours.office_id == office.id)
        .options(selectinload(ConsultationHours.staff))
    ).all()
    rules = [
        ConsultationRule(
            row.weekday,
            row.start_time,
            row.end_time,
            tuple(user.id for user in row.staff if user.active),
            row.valid_from,
            row.valid_until,
            row.id,
        )
        for row in rows
    ]
    staff_ids = {staff_id for rule in rules for staff_id in rule.staff_ids}
    start, end = local_day_bounds(first, last)
    holidays = {day: holiday_name(name) for day, name in public_holidays(first, last).items()}
    closures = {
        day: why for day, why in closed_days(office, first, last).items() if day not in holidays
    }
    # Absences of the staff on duty cancel an occurrence; their appointments do not.
    absences = absence_busy(staff_ids, start, end)
    return consultation_occurrences(rules, first, last, holidays, closures, absences)


# Weekly hours


def weekday_name(weekday: int) -> str:
    """The weekday's name in the reader's language (0 = Monday), from Babel's CLDR data."""
    return get_day_names("wide", locale=get_locale())[weekday]


def _checked_recurrence(weekdays, start, end, valid_from, valid_until) -> list[int]:
    """The sorted weekdays of a recurring range, or ScheduleError naming the bad field."""
    if start >= end:
        raise ScheduleError(_l("The start must be before the end."), field="end")
    if valid_from and valid_until and valid_from > valid_until:
        raise ScheduleError(
            _l("'Valid from' must not be after 'valid until'."), field="valid_until"
        )
    weekdays = sorted(set(weekdays))
    if not weekdays:
        raise ScheduleError(_l("Please choose at least one day."), field="weekdays")
    return weekdays


def _overlaps(a_from, a_until, b_from, b_until) -> bool:
    """Do two optional validity ranges share a day?"""
    return (a_from is None or b_until is None or a_from <= b_until) and (
        b_from is None or a_until is None or b_from <= a_until
    )


def add_weekly_hours(
    staff: StaffUser,
    office: Office,
    weekdays: Iterable[int],
    start: time,
    end: time,
    valid_from: date | None,
    valid_until: date | None,
    actor: StaffUser,
) -> list[WeeklyHours]:
    weekdays = _checked_recurrence(weekdays, start, end, valid_from, valid_until)
    if staff.role != Role.CASEWORKER:
        raise ScheduleError(_l("Weekly hours are for caseworkers only."))
    if not any(o.id == office.id for o in staff.offices):
        raise ScheduleError(_l("This person does not work at this office."), field="office_id")
    existing = db.session.scalars(
        select(WeeklyHours).where(
            WeeklyHours.staff_id == staff.id, WeeklyHours.weekday.in_(weekdays)
        )
    )
    for row in existing:
        clash = row.start_time < end and start < row.end_time
        if clash and _overlaps(valid_from, valid_until, row.valid_from, row.valid_until):
            raise ScheduleError(
                _l(
                    "This overlaps existing hours on %(day)s, %(start)s–%(end)s.",
                    day=weekday_name(row.weekday),
                    start=row.start_time.strftime("%H:%M"),
                    end=row.end_time.strftime("%H:%M"),
                )
            )
    rows = [
        WeeklyHours(
            staff_id=staff.id,
            office_id=office.id,
            weekday=weekday,
            start_time=start,
            end_time=end,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        for weekday in weekdays
    ]
    db.session.add_all(rows)
    db.session.flush()
    record_event("hours.added", actor=actor, obj=staff, detail=f"{len(rows)} range(s)")
    return rows


def delete_weekly_hours(row: WeeklyHours, actor: StaffUser) -> None:
    record_event("hours.deleted", actor=actor, obj=row.staff)
    db.session.delete(row)
    db.session.flush()


# Absences


def add_absence(
    staff: StaffUser,
    kind: AbsenceKind,
    first_day: date,
    last_day: date,
    start: time | None,
    end: time | None,
    note: str,
    actor: StaffUser,
) -> Absence:
    """Whole days (no times) or a span from first_day start to last_day end, local time."""
    if last_day < first_day:
        raise ScheduleError(_l("The last day must not be before the first day."), field="last_day")
    if (start is None) != (end is None):
        raise ScheduleError(_l("Give both times, or none for whole days."), field="end_time")
    if start is None:
        starts_at, ends_at = local_day_bounds(first_day, last_day)
        all_day = True
    else:
        starts_at = datetime.combine(first_day, start, tzinfo=BERLIN)
        ends_at = datetime.combine(last_day, end, tzinfo=BERLIN)
        all_day = False
        if ends_at <= starts_at:
            raise ScheduleError(_l("The end must be after the start."), field="end_time")
    # PostgreSQL: a booking checks and inserts under the caseworker's lock; holding it until
    # this commits, the booking either sees the absence or shows up in its conflict list.
    from booking.appointments.booking import lock_caseworker  # imports this module

    lock_caseworker(staff.id)
    absence = Absence(
        staff_id=staff.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        all_day=all_day,
        note=note.strip(),
        created_by_id=actor.id,
    )
    db.session.add(absence)
    db.session.flush()
    record_event("absence.added", actor=actor, obj=staff, detail=kind.value)
    return absence


def delete_absence(absence: Absence, actor: StaffUser) -> None:
    record_event("absence.deleted", actor=actor, obj=absence.staff, detail=absence.kind.value)
    db.session.delete(absence)
    db.session.flush()


def conflicting_appointments(absence: Absence) -> list[Appointment]:
    """Booked appointments inside a new absence: staff must move or cancel them."""
    return list(
        db.session.scalars(
            select(Appointment)
            .where(
                Appointment.staff_id == absence.staff_id,
                Appointment.status.in_(HOLDING_STATES[:1]),
                Appointment.starts_at < absence.ends_at,
                Appointment.busy_until > absence.starts_at,
            )
            .order_by(Appointment.starts_at)
        )
    )


# Closures


def add_closure(
    office: Office | None, first_day: date, last_day: date, reason: str, actor: StaffUser
) -> Closure:
    if last_day < first_day:
        raise ScheduleError(_l("The last day must not be before the first day."), field="last_day")
    closure = Closure(
        office_id=office.id if office else None,
        first_day=first_day,
        last_day=last_day,
        reason=reason.strip(),
    )
    db.session.add(closure)
    db.session.flush()
    record_event("closure.added", actor=actor, obj=closure, detail=reason[:200])
    return closure


def delete_closure(closure: Closure, actor: StaffUser) -> None:
    record_event("closure.deleted", actor=actor, obj=closure, detail=closure.reason[:200])
    db.session.delete(closure)
    db.session.flush()


# Open consultation hours


def add_consultation_hours(
    office: Office,
    weekdays: Iterable[int],
    start: time,
    end: time,
    staff: list[StaffUser],
    valid_from: date | None,
    valid_until: date | None,
    actor: StaffUser,
) -> list[ConsultationHours]:
    weekdays = _checked_recurrence(weekdays, start, end, valid_from, valid_until)
    if any(all(o.id != office.id for o in user.offices) for user in staff):
        raise ScheduleError(_l("This person does not work at this office."), field="staff_ids")
    rows = []
    for weekday in weekdays:
        row = ConsultationHours(
            office_id=office.id,
            weekday=weekday,
            start_time=start,
            end_time=end,
            valid_from=valid_from,
            valid_until=valid_until,
        )
        row.staff = list(staff)
        rows.append(row)
    db.session.add_all(rows)
    db.session.flush()
    record_event("consultation_hours.added", actor=actor, obj=office, detail=f"{len(rows)}")
    return rows


def delete_consultation_hours(row: ConsultationHours, actor: StaffUser) -> None:
    record_event("consultation_hours.deleted", actor=actor, obj=row.office)
    db.session.delete(row)
    db.session.flush()
