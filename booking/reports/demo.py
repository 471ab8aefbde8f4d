"""Invented history for the statistics page: the last three months (up to the week before
last, where the calendar demo begins) of appointments, walk-ins and callback requests at every
demo office. Seeded, so every `setup demo` makes the same figures; a few thousand rows at most.

Written directly (the booking services refuse times in the past), with the same fields the app
sets; families' names and contacts are invented like the rest of the demo.
"""

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from booking.appointments.models import REFERENCE_ALPHABET, Appointment
from booking.auth.models import Role, StaffUser
from booking.callbacks.due import closed_calendar, due_at
from booking.callbacks.models import CallAttempt, CallbackRequest
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.agenda import local_today, week_start
from booking.schedule.engine import BERLIN
from booking.schedule.models import ConsultationHours
from booking.waiting.models import QueueEntry, QueueKind, QueueState

SEED = 35
MONTHS = 3
NAMES = ("Familie Aydın", "Familie Hamdan", "Familie Meyer", "Familie Bondarenko", "Familie Karimi")
# (language, weight): roughly the offices' callers; interpreters for some who speak no German.
LANGUAGES = (("de", 40), ("ar", 14), ("tr", 12), ("uk", 12), ("fa", 7), ("ru", 6), ("en", 5))
CHANNELS = (("online", 55), ("phone", 30), ("desk", 15))
OUTCOMES = (("attended", 78), ("no_show", 8), ("family", 9), ("staff", 5))
HOURS = (9, 10, 11, 14, 15)
CANCELLED = "Abgesagt (Demo)"  # full hours: no two demo appointments of one person overlap


def _pick(rng: random.Random, weighted) -> str:
    values, weights = zip(*weighted, strict=True)
    return rng.choices(values, weights)[0]


def _reference(rng: random.Random) -> str:
    return "H" + "".join(rng.choice(REFERENCE_ALPHABET) for _ in range(7))


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), BERLIN)


def create_demo_history(now: datetime | None = None) -> int:
    """Once: when no appointment lies before the calendar demo's first week."""
    now = now or utcnow()
    today = local_today(now)
    stop = week_start(today) - timedelta(days=7)  # the calendar demo starts here
    first = (stop.replace(day=1) - timedelta(days=1)).replace(day=1)
    for _ in range(MONTHS - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    if db.session.scalar(
        select(func.count()).select_from(Appointment).where(Appointment.starts_at < _at(stop, 0))
    ):
        return 0
    rng = random.Random(SEED)  # noqa: S311 - invented demo data, repeatable on purpose
    closed = closed_calendar(first, stop + timedelta(days=14))
    days = [
        first + timedelta(days=n)
        for n in range((stop - first).days)
        if (first + timedelta(days=n)).weekday() < 5 and first + timedelta(days=n) not in closed
    ]
    made = 0
    taken: dict[int, list[tuple[datetime, datetime]]] = {}  # a caseworker of two offices
    for office in db.session.scalars(select(Office).order_by(Office.id)):
        team = list(
            db.session.scalars(
                select(StaffUser)
                .where(StaffUser.offices.any(Office.id == office.id), StaffUser.active.is_(True))
                .order_by(StaffUser.id)
            )
        )
        caseworkers = [user for user in team if user.role == Role.CASEWORKER]
        services = [service for service in office.services if service.active]
        if not caseworkers or not services:
            continue
        hours = list(
            db.session.scalars(
                select(ConsultationHours).where(ConsultationHours.office_id == office.id)
            )
        )
        for day in days:
            made += _appointments(rng, office, caseworkers, services, day, now, taken)
            made += _walk_ins(rng, office, [h for h in hours if h.weekday == day.weekday()], day)
            made += _callbacks(rng, office, caseworkers, services, day, closed)
    db.session.commit()
    return made


def _appointments(rng, office, caseworkers, services, day, now, taken) -> int:
    made = 0
    for staff in caseworkers:
        for hour in HOURS:
            if rng.random() > 0.2:
                continue
            service = rng.choice(services)
            starts = _at(day, hour)
            busy_until = starts + service.busy_span
            mine = taken.setdefault(staff.id, [])
            if any(begin < busy_until and starts < end for begin, end in mine):
                continue
            mine.append((starts, busy_until))
            channel = _pick(rng, CHANNELS)
            lead = {"online": 21, "phone": 12, "desk": 5}[channel]
            created = starts - timedelta(days=rng.uniform(0.5, lead), hours=rng.randint(0, 8))
            language = _pick(rng, LANGUAGES)
            outcome = _pick(rng, OUTCOMES)
            cancelled = outcome in ("family", "staff")
            appointment = Appointment(
                reference=_reference(rng),
                service_id=service.id,
                office_id=office.id,
                staff_id=staff.id,
                starts_at=starts,
                ends_at=starts + timedelta(minutes=service.minutes),
                busy_until=busy_until,
                status="cancelled" if cancelled else outcome,
                channel=channel,
                family_name=rng.choice(NAMES),
                email=f"verlauf{rng.randint(1, 9999)}@example.org",
                language=language,
                interpreter_needed=language != "de" and rng.random() < 0.4,
                cancelled_at=created + (starts - created) / 2 if cancelled else None,
                cancelled_by_family=(outcome == "family") if cancelled else None,
                cancel_reason=CANCELLED if cancelled else None,
                created_at=created,
                updated_at=now,
            )
            db.session.add(appointment)
            made += 1
    return made


def _walk_ins(rng, office, hours, day) -> int:
    made = 0
    number = 0
    for slot in hours:
        if (slot.valid_from and day < slot.valid_from) or (
            slot.valid_until and day > slot.valid_until
        ):
            continue
        opens = _at(day, slot.start_time.hour, slot.start_time.minute)
        for _ in range(rng.randint(2, 9)):
            number += 1
            checked_in = opens + timedelta(minutes=rng.randint(0, 90))
            waited = timedelta(minutes=int(rng.gammavariate(2.0, 9.0)))
            left = rng.random() < 0.12
            db.session.add(
                QueueEntry(
                    office_id=office.id,
                    day=day,
                    number=number,
                    kind=QueueKind.WALK_IN,
                    state=QueueState.LEFT if left else QueueState.SERVED,
                    checked_in_at=checked_in,
                    called_at=None if left else checked_in + waited,
                    place="" if left else "Beratung",
                    finished_at=checked_in + waited + timedelta(minutes=rng.randint(10, 40)),
                )
            )
            made += 1
    return made


def _callbacks(rng, office, caseworkers, services, day, closed) -> int:
    made = 0
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        received = _at(day, rng.randint(8, 15), rng.randint(0, 59))
        due = due_at(received, closed, office.callback_due_days, office.callback_due_time)
        worker = rng.choice(caseworkers)
        language = _pick(rng, LANGUAGES)
        roll = rng.random()
        outcome = (
            "unreachable"
            if roll < 0.1
            else "withdrawn"
            if roll < 0.15
            else "appointment_booked"
            if roll < 0.4
            else "resolved"
        )
        first = received + timedelta(hours=rng.choice((1, 2, 3, 5, 20, 26, 50)))
        request = CallbackRequest(
            reference=_reference(rng),
            office_id=office.id,
            service_id=rng.choice(services).id if rng.random() < 0.7 else None,
            status="closed",
            outcome=outcome,
            caller_name=rng.choice(NAMES),
            phone=f"+49211555{rng.randint(1000, 9999)}",
            language=language,
            interpreter_needed=language != "de" and rng.random() < 0.4,
            received_at=received,
            due_at=due,
            assigned_to_id=worker.id,
            assigned_at=received + timedelta(minutes=30),
            closed_by_id=worker.id,
        )
        attempts = (
            [(first, "no_answer"), (first + timedelta(hours=3), "voicemail"),
             (first + timedelta(days=1), "no_answer")]
            if outcome == "unreachable"
            else [] if outcome == "withdrawn" else [(first, "reached")]
        )  # fmt: skip
        for at, result in attempts:
            request.attempts.append(CallAttempt(at=at, staff_id=worker.id, outcome=result))
        request.closed_at = attempts[-1][0] if attempts else received + timedelta(hours=4)
        db.session.add(request)
        made += 1
    return made
