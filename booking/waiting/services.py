"""The walk-in queue on the database. Services flush; the request (or the CLI) commits.

Numbers come from an atomic upsert of a per-office, per-day counter and are unique per office
and day by a constraint. Transitions are versioned updates inside a savepoint: when two staff
call at once, the second finds the row changed, and "call next" moves on to the next person.
Audit entries name the waiting number only, never the name or note.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import median

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from booking.appointments.models import Appointment, AppointmentStatus
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.core.exceptions import NotAllowed
from booking.core.transactions import begin_write
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.schedule.engine import BERLIN, SCHEDULED, ConsultationOccurrence
from booking.schedule.services import consultation_calendar
from booking.waiting.estimate import Visit, estimated_wait
from booking.waiting.models import (
    MAX_NAME,
    MAX_NOTE,
    QueueCounter,
    QueueDesk,
    QueueEntry,
    QueueError,
    QueueKind,
    QueueState,
    checked_place,
    waiting_number,
)

# Reception may check walk-ins in this long before the hours begin (people queue early).
CHECK_IN_OPENS_EARLY = timedelta(minutes=30)
# A checked-in appointment counts as due from this long before its start.
DUE_WINDOW = timedelta(minutes=10)
DEFAULT_SERVICE_DURATION = timedelta(minutes=30)
DISPLAY_CALLED = 8


def berlin_day(now: datetime) -> date:
    return now.astimezone(BERLIN).date()


def require_office(actor: StaffUser, office: Office) -> None:
    if not actor.can_access_office(office):
        raise NotAllowed(_l("You do not work at this office."))


def open_hours(office: Office, now: datetime) -> ConsultationOccurrence | None:
    """Today's open consultation hours going on now (check-in opens a little before)."""
    today = berlin_day(now)
    for occurrence in consultation_calendar(office, today, today):
        if occurrence.status != SCHEDULED:
            continue
        if occurrence.start - CHECK_IN_OPENS_EARLY <= now < occurrence.end:
            return occurrence
    return None


def next_number(office: Office, day: date) -> int:
    """The next waiting number of the office on that day: one atomic statement per engine."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(QueueCounter).values(office_id=office.id, day=day, last_number=1)
    statement = statement.on_conflict_do_update(
        index_elements=[QueueCounter.office_id, QueueCounter.day],
        set_={"last_number": QueueCounter.last_number + 1},
    ).returning(QueueCounter.last_number)
    return db.session.execute(statement).scalar_one()


def _clean(value: str | None, limit: int, field: str) -> str:
    value = " ".join((value or "").split())
    if len(value) > limit:
        raise QueueError(_l("At most %(max)d characters, please.", max=limit), field=field)
    return value


def _add_entry(office: Office, kind: QueueKind, actor: StaffUser, now: datetime, **values):
    day = berlin_day(now)
    entry = QueueEntry(
        office_id=office.id,
        office=office,
        day=day,
        number=next_number(office, day),
        kind=kind,
        state=QueueState.WAITING,
        checked_in_at=now,
        checked_in_by_id=actor.id,
        **values,
    )
    db.session.add(entry)
    db.session.flush()
    record_event("queue.checked_in", actor=actor, obj=entry, detail=entry.display_number)
    return entry


def check_in_walk_in(
    office: Office, name: str | None, note: str | None, actor: StaffUser, now: datetime
) -> QueueEntry:
    """A walk-in during the open consultation hours gets the next waiting number."""
    begin_write()
    require_office(actor, office)
    name = _clean(name, MAX_NAME, "name")
    note = _clean(note, MAX_NOTE, "note")
    if open_hours(office, now) is None:
        raise QueueError(_l("There are no open consultation hours at this office now."))
    return _add_entry(office, QueueKind.WALK_IN, actor, now, name=name, note=note)


def normalise_reference(value: str | None) -> str:
    return "".join(ch for ch in (value or "").upper() if ch.isalnum())


def check_in_appointment(
    office: Office, reference: str | None, actor: StaffUser, now: datetime
) -> QueueEntry:
    """A family with an appointment today at this office is checked in by its reference."""
    begin_write()
    require_office(actor, office)
    reference = normalise_reference(reference)
    if not reference:
        raise QueueError(_l("Please enter the appointment's reference."), field="reference")
    appointment = db.session.scalar(
        select(Appointment).where(
            Appointment.reference == reference[:16], Appointment.office_id == office.id
        )
    )
    if appointment is None or berlin_day(appointment.starts_at) != berlin_day(now):
        raise QueueError(
            _l("No appointment with this reference at this office today."), field="reference"
        )
    if appointment.status != AppointmentStatus.BOOKED:
        raise QueueError(_l("This appointment is not booked any more."), field="reference")
    earlier = db.session.scalar(
        select(QueueEntry).where(QueueEntry.appointment_id == appointment.id)
    )
    if earlier is not None:
        raise QueueError(
            _l("Already checked in as %(number)s.", number=earlier.display_number),
            field="reference",
        )
    return _add_entry(
        office,
        QueueKind.APPOINTMENT,
        actor,
        now,
        appointment_id=appointment.id,
        appointment=appointment,
        name=appointment.family_name[:MAX_NAME],
    )


def day_queue(office: Office, day: date) -> list[QueueEntry]:
    """Every entry of the office's day in check-in order."""
    return list(
        db.session.scalars(
            select(QueueEntry)
            .where(QueueEntry.office_id == office.id, QueueEntry.day == day)
            .options(
                selectinload(QueueEntry.appointment).selectinload(Appointment.staff),
                selectinload(QueueEntry.called_by),
            )
            .order_by(QueueEntry.checked_in_at, QueueEntry.number)
        )
    )


def is_due(entry: QueueEntry, now: datetime) -> bool:
    appointment = entry.appointment
    return appointment is not None and appointment.starts_at - DUE_WINDOW <= now


def call_order(entries: list[QueueEntry], caller: StaffUser, now: datetime) -> list[QueueEntry]:
    """Whom "call next" tries, in order: the appointments due now (a caseworker's own only),
    by start; then walk-ins in check-in order. Appointments not yet due wait for their time."""
    waiting = [entry for entry in entries if entry.state == QueueState.WAITING]
    due = [
        entry
        for entry in waiting
        if entry.kind == QueueKind.APPOINTMENT
        and is_due(entry, now)
        and (caller.role != Role.CASEWORKER or entry.appointment.staff_id == caller.id)
    ]
    due.sort(key=lambda entry: (entry.appointment.starts_at, entry.checked_in_at, entry.number))
    walk_ins = [entry for entry in waiting if entry.kind == QueueKind.WALK_IN]
    walk_ins.sort(key=lambda entry: (entry.checked_in_at, entry.number))
    return due + walk_ins


def _versioned(entry: QueueEntry, change) -> None:
    """Apply a transition in a savepoint; a concurrent change of the row refuses it."""
    try:
        with db.session.begin_nested():
            change()
    except StaleDataError as error:
        raise QueueError(
            _l("Someone else changed %(number)s just now.", number=entry.display_number)
        ) from error


def remember_place(actor: StaffUser, office: Office, place: str) -> None:
    desk = db.session.get(QueueDesk, (actor.id, office.id))
    if desk is None:
        db.session.add(QueueDesk(staff_id=actor.id, office_id=office.id, place=place))
    elif desk.place != place:
        desk.place = place


def place_of(actor: StaffUser, office: Office) -> str:
    desk = db.session.get(QueueDesk, (actor.id, office.id))
    return desk.place if desk is not None else ""


def call_entry(entry: QueueEntry, actor: StaffUser, place: str, now: datetime) -> QueueEntry:
    """Call this person to `place` (also one whose appointment is not due yet)."""
    begin_write()
    require_office(actor, entry.office)
    _versioned(entry, lambda: entry.call(actor, place, now))
    remember_place(actor, entry.office, entry.place)
    record_event(
        "queue.called", actor=actor, obj=entry, detail=f"{entry.display_number} → {entry.place}"
    )
    db.session.flush()
    return entry


def call_next(office: Office, actor: StaffUser, place: str, now: datetime) -> QueueEntry:
    """Call the next person; of two staff pressing at once, each gets a different one."""
    begin_write()
    require_office(actor, office)
    checked_place(place)  # before touching anyone, so the message points at the field
    for entry in call_order(day_queue(office, berlin_day(now)), actor, now):
        try:
            _versioned(entry, lambda entry=entry: entry.call(actor, place, now))
        except QueueError:
            continue  # another desk called this one a moment ago: try the next
        remember_place(actor, office, entry.place)
        record_event(
            "queue.called", actor=actor, obj=entry, detail=f"{entry.display_number} → {entry.place}"
        )
        db.session.flush()
        return entry
    raise QueueError(_l("Nobody is waiting for you right now."))


def serve_entry(entry: QueueEntry, actor: StaffUser, now: datetime) -> None:
    begin_write()
    require_office(actor, entry.office)
    _versioned(entry, lambda: entry.serve(actor, now))
    record_event("queue.served", actor=actor, obj=entry, detail=entry.display_number)
    db.session.flush()


def leave_entry(entry: QueueEntry, actor: StaffUser, now: datetime) -> None:
    begin_write()
    require_office(actor, entry.office)
    _versioned(entry, lambda: entry.leave(actor, now))
    record_event("queue.left", actor=actor, obj=entry, detail=entry.display_number)
    db.session.flush()


# What families and the waiting room see: numbers and counts, never names.


@dataclass(frozen=True)
class QueueStatus:
    waiting: int
    estimate: timedelta
    until: datetime


def service_duration(office: Office) -> timedelta:
    """The office's typical service length: the median of its active services."""
    minutes = db.session.scalars(
        select(Service.minutes).where(Service.office_id == office.id, Service.active.is_(True))
    ).all()
    return timedelta(minutes=median(minutes)) if minutes else DEFAULT_SERVICE_DURATION


def public_status(office: Office, now: datetime) -> QueueStatus | None:
    """How many are waiting and the estimated wait, during the open consultation hours only."""
    hours = open_hours(office, now)
    if hours is None:
        return None
    entries = day_queue(office, berlin_day(now))
    waiting = sum(1 for entry in entries if entry.state == QueueState.WAITING)
    visits = [
        Visit(entry.checked_in_at, entry.called_at, entry.finished_at)
        for entry in entries
        if entry.state == QueueState.SERVED
    ]
    estimate = estimated_wait(visits, now, waiting, len(hours.staff_ids), service_duration(office))
    return QueueStatus(waiting=waiting, estimate=estimate, until=hours.end)


@dataclass(frozen=True)
class CalledNumber:
    number: str
    place: str
    called_at: datetime


def called_numbers(office: Office, now: datetime) -> list[CalledNumber]:
    """The numbers being called now, latest first: number and place only."""
    rows = db.session.execute(
        select(QueueEntry.office_id, QueueEntry.number, QueueEntry.place, QueueEntry.called_at)
        .where(
            QueueEntry.office_id == office.id,
            QueueEntry.day == berlin_day(now),
            QueueEntry.state == QueueState.CALLED,
        )
        .order_by(QueueEntry.called_at.desc())
        .limit(DISPLAY_CALLED)
    ).all()
    return [CalledNumber(waiting_number(row[0], row[1]), row[2], row[3]) for row in rows]


def waiting_count(office: Office, now: datetime) -> int:
    return db.session.scalar(
        select(func.count())
        .select_from(QueueEntry)
        .where(
            QueueEntry.office_id == office.id,
            QueueEntry.day == berlin_day(now),
            QueueEntry.state == QueueState.WAITING,
        )
    )


def purge_queue(cutoff_day: date, now: datetime) -> int:
    """Erase names, notes and links of entries before `cutoff_day`; keep office, day, number,
    times and outcome (non-personal statistics). Old numbering counters go."""
    erased = db.session.execute(
        update(QueueEntry)
        .where(QueueEntry.day < cutoff_day, QueueEntry.purged_at.is_(None))
        .values(
            name="",
            note="",
            appointment_id=None,
            checked_in_by_id=None,
            called_by_id=None,
            finished_by_id=None,
            purged_at=now,
            version=QueueEntry.version + 1,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.execute(delete(QueueCounter).where(QueueCounter.day < cutoff_day))
    return erased
