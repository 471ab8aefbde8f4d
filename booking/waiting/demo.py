"""An invented consultation-hours queue for today, so `make run` shows the queue pages."""

from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role, StaffUser
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.engine import BERLIN
from booking.schedule.models import ConsultationHours
from booking.waiting.models import QueueEntry, QueueKind, QueueState
from booking.waiting.services import berlin_day, next_number, remember_place

OFFICE = "eingliederungshilfe"
PLACES = ("Raum 2.14", "Raum 2.16")
# first name or initials, note, minutes since check-in, then (called, finished) minutes ago
DEMO_VISITS = [
    ("S. H.", "", 100, 90, 70, QueueState.SERVED),
    ("Jana", "", 85, 68, 50, QueueState.SERVED),
    ("M. K.", "", 75, None, 40, QueueState.LEFT),
    ("Olena", "Dolmetschung Ukrainisch", 45, 10, None, QueueState.CALLED),
    ("A. Y.", "", 40, 5, None, QueueState.CALLED),
    ("Ahmad", "Dolmetschung Arabisch", 30, None, None, QueueState.WAITING),
    ("", "", 20, None, None, QueueState.WAITING),
    ("Petra", "mit Kinderwagen", 5, None, None, QueueState.WAITING),
]


def _today_hours(office: Office, staff: list[StaffUser], now: datetime) -> None:
    """Open consultation hours today around now (one day only), unless some cover now."""
    local = now.astimezone(BERLIN)
    start = max(local - timedelta(hours=2), local.replace(hour=0, minute=0, second=0)).time()
    end = min(local + timedelta(hours=3), local.replace(hour=23, minute=59, second=0)).time()
    start, end = time(start.hour), time(end.hour, end.minute if end.hour == 23 else 0)
    for row in db.session.scalars(
        select(ConsultationHours).where(ConsultationHours.office_id == office.id)
    ):
        if not row.applies_on(local.date()):
            continue
        if row.start_time <= local.time() < row.end_time:
            return  # the real hours are on now
        # Next to today's real hours, never overlapping them.
        if row.end_time <= local.time():
            start = max(start, row.end_time)
        else:
            end = min(end, row.start_time)
    db.session.add(
        ConsultationHours(
            office_id=office.id,
            weekday=local.weekday(),
            start_time=start,
            end_time=end,
            valid_from=local.date(),
            valid_until=local.date(),
            staff=staff,
        )
    )


def create_demo_queue(now: datetime | None = None) -> int:
    """Once a day: served, left, called and waiting people at the § 35a unit's desk."""
    now = now or utcnow()
    office = db.session.scalar(select(Office).where(Office.slug == OFFICE))
    if office is None:
        return 0
    today = berlin_day(now)
    if db.session.scalar(
        select(func.count()).select_from(QueueEntry).where(QueueEntry.day == today)
    ):
        return 0
    team = list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.offices.any(Office.id == office.id), StaffUser.active.is_(True))
            .order_by(StaffUser.name)
        )
    )
    caseworkers = [user for user in team if user.role == Role.CASEWORKER][:2]
    reception = next((user for user in team if user.role == Role.RECEPTION), None)
    if len(caseworkers) < 2 or reception is None:
        return 0
    _today_hours(office, caseworkers, now)
    start_of_day = datetime.combine(today, time(), tzinfo=BERLIN)

    def ago(minutes: int | None) -> datetime | None:
        return None if minutes is None else max(now - timedelta(minutes=minutes), start_of_day)

    made = 0
    for index, (name, note, arrived, called, finished, state) in enumerate(DEMO_VISITS):
        staff = caseworkers[index % 2]
        db.session.add(
            QueueEntry(
                office_id=office.id,
                day=today,
                number=next_number(office, today),
                kind=QueueKind.WALK_IN,
                state=state,
                name=name,
                note=note,
                checked_in_at=ago(arrived),
                checked_in_by_id=reception.id,
                called_at=ago(called),
                called_by_id=staff.id if called is not None else None,
                place=PLACES[index % 2] if called is not None else "",
                finished_at=ago(finished),
                finished_by_id=staff.id if finished is not None else None,
            )
        )
        made += 1
    for index, staff in enumerate(caseworkers):
        remember_place(staff, office, PLACES[index])
    # A family with an appointment today waits too, when there is one.
    appointment = db.session.scalar(
        select(Appointment)
        .where(
            Appointment.office_id == office.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= now,
            Appointment.starts_at < start_of_day + timedelta(days=1),
        )
        .order_by(Appointment.starts_at)
    )
    if appointment is not None:
        db.session.add(
            QueueEntry(
                office_id=office.id,
                day=today,
                number=next_number(office, today),
                kind=QueueKind.APPOINTMENT,
                appointment_id=appointment.id,
                name=appointment.family_name[:40],
                checked_in_at=ago(3),
                checked_in_by_id=reception.id,
            )
        )
        made += 1
    db.session.commit()
    return made
