"""Booking, moving, cancelling and restoring appointments, safely under concurrency.

Every check-then-write runs in a write transaction (SQLite: BEGIN IMMEDIATE), and the
database itself refuses overlapping appointments of one caseworker (exclusion constraint on
PostgreSQL, triggers and a unique index on SQLite); a refusal becomes SlotTaken.
"""

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, or_, select, text
from sqlalchemy.exc import IntegrityError

from booking.appointments.models import (
    MAX_BUSY_SPAN,
    Appointment,
    AppointmentError,
    AppointmentStatus,
    Channel,
    holds_time,
    new_reference,
)
from booking.appointments.services import log_event
from booking.appointments.signals import tell_caseworker, tell_family
from booking.audit.services import record_event
from booking.auth.models import StaffUser
from booking.core.reads import fetch
from booking.core.transactions import DatabaseBusy, adopt_inserted, begin_write, busy_message
from booking.core.validation import is_language_code, normalize_phone
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Service
from booking.ops.metrics import counts_outcome
from booking.public.models import retire_token
from booking.schedule.engine import BERLIN, rank_caseworkers
from booking.schedule.inputs_cache import (
    current_versions,
    note_taken_time,
    remember_versions,
    versions_with,
)
from booking.schedule.services import (
    busy_statement,
    busy_times,
    check_slot,
    day_load,
    held_for_phone,
    time_is_held,
    time_window,
)

MAX_NOTE = 500
MAX_NAME = 120


class SlotTaken(AppointmentError):
    """The time is a real slot of the service, but nobody is free at it any more."""


class NotASlot(AppointmentError):
    """The time is no slot of the service (outside hours, notice or horizon, or closed)."""


class NotReleased(AppointmentError):
    """The time is free but kept for phone and desk bookings (channel quota) for now."""


class TooManyOpenBookings(AppointmentError):
    pass


class TooLate(AppointmentError):
    pass


class InvalidFamilyDetails(AppointmentError):
    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__(next(iter(errors.values())))
        self.errors = errors


@dataclass(frozen=True)
class FamilyDetails:
    name: str
    email: str | None
    phone: str | None
    language: str = "de"
    interpreter_needed: bool = False
    note: str = ""


@dataclass(frozen=True)
class Booking:
    appointment: Appointment
    manage_token: str


def check_family_details(
    name: str | None,
    email: str | None,
    phone: str | None,
    language: str | None,
    interpreter_needed: bool,
    note: str | None,
    require_contact: bool = True,
) -> FamilyDetails:
    """Normalised details, or InvalidFamilyDetails with a message per field.

    Staff booking for a walk-in may leave the contact out (require_contact=False).
    """
    errors: dict[str, object] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("Please enter a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _l("The name may have at most %(n)d characters.", n=MAX_NAME)
    email = (email or "").strip() or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _l("Please enter a valid email address.")
    phone = (phone or "").strip() or None
    if phone:
        normalized = normalize_phone(phone)
        if normalized is None:
            errors["phone"] = _l("Please enter a valid phone number.")
        phone = normalized
    no_contact = not email and not phone and "email" not in errors and "phone" not in errors
    if require_contact and no_contact:
        errors["contact"] = _l("Please give an email address or a mobile number.")
    language = (language or "de").strip().lower()
    if not is_language_code(language):
        errors["language"] = _l("Please choose a language.")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _l("The note may have at most %(n)d characters.", n=MAX_NOTE)
    if errors:
        raise InvalidFamilyDetails(errors)
    return FamilyDetails(name, email, phone, language, bool(interpreter_needed), note)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_for_key(idempotency_key: str) -> str:
    """The manage token of a form booking, derived from its one-time form key, so that a
    repeated submit can show the same confirmation again. Only its hash is stored."""
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, b"manage:" + idempotency_key.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _not_a_slot() -> NotASlot:
    return NotASlot(
        _l("This time cannot be booked. Please choose one of the offered times."), field="start"
    )


def _local_day(start: datetime):
    return start.astimezone(BERLIN).date()


def _candidates(
    service: Service,
    start: datetime,
    now: datetime,
    staff_id: int | None,
    exclude_id: int | None = None,
    by_staff: bool = False,
    language: str | None = None,
    online: bool = False,
    seen: dict | None = None,
) -> list[int]:
    """Caseworkers free at `start`: speakers of the family's `language` first, then the
    least booked that day (engine.rank_caseworkers).

    The engine decides, for every booking, move and restore alike: NotASlot when `start` is
    no slot time of the service (outside hours, on a closed day or holiday, inside the notice
    or beyond the horizon, or not exactly on the grid); SlotTaken when it is one but nobody
    is free then (appointments, absences, blocked time). Staff (`by_staff`) may pass over
    notice and horizon, never over busy time.
    """
    start = start.astimezone(UTC)
    if start.second or start.microsecond:  # a fraction past a slot is no slot
        raise _not_a_slot()
    if start <= now:
        raise _not_a_slot()
    check = check_slot(
        service, start, now, staff_id, exclude_appointment_id=exclude_id, ignore_notice=by_staff
    )
    if check is None:
        raise _not_a_slot()
    if seen is not None:
        seen["versions"] = check.versions
    if not check.free:
        raise SlotTaken(
            _l("This time has just been taken. Please choose another time."), field="start"
        )
    day = _local_day(start)
    if online and service.phone_quota_percent:
        pooled = check.inputs if staff_id is None else None  # the quota counts the whole pool
        if int(start.timestamp()) in held_for_phone(service, day, day, now, pooled):
            raise NotReleased(
                _l(
                    "This time is kept for bookings by phone or at the desk. Please choose "
                    "another time or call us."
                ),
                field="start",
            )
    if len(check.free) == 1:
        return list(check.free)
    load = check.day_load
    if load is None:  # the busy time came from the cache: the day's load was not read with it
        load = day_load(check.free, day)
    return rank_caseworkers(check.free, load, check.inputs.languages, language)


def _repeated_form(
    idempotency_key: str, service: Service, family: FamilyDetails
) -> tuple[Booking | None, str | None]:
    """The booking made by the same form sent before (shown again), and the key to use: a key
    that belongs to someone else's booking is ignored."""
    existing = db.session.scalar(
        select(Appointment).where(Appointment.idempotency_key == idempotency_key)
    )
    if existing is None:
        return None, idempotency_key
    same_family = existing.service_id == service.id and (existing.email, existing.phone) == (
        family.email,
        family.phone,
    )
    if same_family:  # the same form sent twice: show the first booking again
        return Booking(existing, token_for_key(idempotency_key)), idempotency_key
    return None, None


def _may_check_before_locking() -> bool:
    """SQLite, and no write lock yet: the view let the booking take it (locks_late)."""
    session = db.session()
    return not session.info.get("write_lock") and session.get_bind().dialect.name == "sqlite"


def _schedule_unchanged(service: Service, before: tuple[int, int] | None) -> bool:
    """Under the write lock: has nothing but bookings changed since the first check? Hours,
    absences, closures, staff, offices and services raise the schedule's version."""
    now_versions = current_versions(db.session(), service.id)
    return before is not None and now_versions is not None and now_versions[0] == before[0]


def email_key(email: str | None) -> str | None:
    """One key per mailbox: case-insensitive and without a "+tag" (a+x@b.de is a@b.de)."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0] or local}@{domain}"


def phone_key(phone: str | None) -> str | None:
    """E.164 (+4917112345678), whatever the spelling the number was given in."""
    if not phone:
        return None
    try:
        number = phonenumbers.parse(phone, "DE")
    except phonenumbers.NumberParseException:
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _advisory_lock_id(key: str) -> int:
    """A stable signed 64-bit number for a key (PostgreSQL advisory locks take a bigint)."""
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)


def _lock_contacts(keys: list[str]) -> None:
    """Serialise bookings of one contact until the transaction ends.

    SQLite already runs one writer at a time (BEGIN IMMEDIATE); PostgreSQL takes an advisory
    transaction lock per key, in ascending order so that two requests never wait on each other
    (one statement: PostgreSQL evaluates a plain select list left to right; not documented,
    but should it ever differ, its deadlock detection fails one of the two rather than let
    both wait).
    """
    if db.session.get_bind().dialect.name != "postgresql" or not keys:
        return
    lock_ids = sorted({_advisory_lock_id(f"contact:{key}") for key in keys})
    parameters = {f"lock{n}": lock_id for n, lock_id in enumerate(lock_ids)}
    fetch(_advisory_locks_statement(len(lock_ids)), parameters)


@cache
def _advisory_locks_statement(count: int):
    return text("SELECT " + ", ".join(f"pg_advisory_xact_lock(:lock{n})" for n in range(count)))


def lock_caseworker(staff_id: int) -> None:
    """Serialise whoever takes a caseworker's time (a booking, a move, a waiting-list hold)
    until the transaction ends: appointments and holds live in two tables, so the database's
    overlap constraint alone cannot keep a hold and a booking apart. SQLite runs one writer at
    a time anyway; PostgreSQL takes an advisory transaction lock per caseworker."""
    if db.session.get_bind().dialect.name == "postgresql":
        fetch(_advisory_locks_statement(1), {"lock0": _advisory_lock_id(f"staff:{staff_id}")})


def _still_free_for_move(
    staff_id: int, start: datetime, busy_until: datetime, moving_id: int
) -> bool:
    """After the caseworker's lock: nothing took this time meanwhile, as busy_times reads busy
    time (another appointment, a waiting-list hold, an absence entered since the check; the
    overlap constraint alone knows appointments only).

    SQLite: the slot check ran under the write lock already, so nothing can have changed since."""
    if db.session.get_bind().dialect.name != "postgresql":
        return True
    lock_caseworker(staff_id)
    return not busy_times([staff_id], start, busy_until, exclude_appointment_id=moving_id)


@cache
def _open_bookings_statement(kinds: tuple[str, ...]):
    """Open bookings of one service by email key, phone key or either (partial indexes)."""
    columns = {"email": Appointment.email_key, "phone": Appointment.phone_key}
    return (
        select(func.count())
        .select_from(Appointment)
        .where(
            # "+ 0": no index on the service, so the planner takes the contact's partial index
            # (SQLite, without statistics, read every appointment of the service instead).
            Appointment.service_id + 0 == bindparam("service_id"),
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > bindparam("now"),
            or_(*(columns[kind] == bindparam(kind) for kind in kinds)),
        )
    )


@cache
def _open_bookings_and_versions_statement(kinds: tuple[str, ...]):
    """The service's two versions and its open bookings by the contact, in one statement
    (versions_with: they serve the booking's next current_versions)."""
    return versions_with(_open_bookings_statement(kinds).scalar_subquery())


def _check_open_bookings(service: Service, row: dict, now: datetime) -> None:
    """Refuse a family with too many open bookings of the service, by the new row's contact
    keys (email without +tag, phone in E.164)."""
    keys = {"email": row["email_key"], "phone": row["phone_key"]}
    _lock_contacts([f"{kind}:{key}" for kind, key in keys.items() if key])
    kinds = tuple(kind for kind, key in keys.items() if key)
    if not kinds:
        return
    parameters = {"service_id": service.id, "now": now} | {kind: keys[kind] for kind in kinds}
    found = fetch(_open_bookings_and_versions_statement(kinds), parameters).first()
    if found is None:  # no versions row (a database not made by the migrations): count alone
        open_count = fetch(_open_bookings_statement(kinds), parameters).scalar_one()
    else:
        remember_versions(db.session(), service.id, found)
        open_count = found[2]
    if open_count >= service.max_open_bookings_per_contact:
        raise TooManyOpenBookings(
            _l(
                "There are already %(n)d open appointments for this email address or phone "
                "number. Please cancel one first or call us.",
                n=open_count,
            ),
            field="contact",
        )


def record_refusal(service: Service, reason: str) -> None:
    """Log a refused booking for admins (audit log), without the family's details."""
    current_app.logger.info("booking refused for service %s: %s", service.slug, reason)
    record_event("booking.refused", obj=service, detail=reason)


@cache
def _insert_if_free_statement():
    """The appointment's INSERT, unless its caseworker is busy then: an appointment, a
    waiting-list hold or an absence, exactly as busy_times reads them. In Core: the ORM's unit
    of work cost more than the statement."""
    table = Appointment.__table__
    columns = [column for column in table.c if column.key != "id"]
    values = select(*(bindparam(column.key, type_=column.type) for column in columns))
    return (
        insert(table)
        .from_select(columns, values.where(~busy_statement(excluding=False).exists()))
        .returning(table.c.id)
    )


def _insert_first_free(values: dict, candidates: list[int]) -> Appointment:
    """Give the appointment to the first candidate who is still free when it is inserted.

    The check and the insert are one statement, after the caseworker's lock (PostgreSQL: a
    statement of its own, so the insert sees whatever committed before the lock was had) or
    under SQLite's write lock: no savepoint, no second read. The database's overlap
    constraint stays the last word against writers that take no lock; the family is then
    asked to try again (DatabaseBusy, never a double booking) and the request rolls back
    (PostgreSQL has ended the transaction).
    """
    for staff_id in candidates:
        lock_caseworker(staff_id)  # PostgreSQL; SQLite's write lock is held already
        inserted_at = utcnow()  # not when the row was built: that may be before the lock
        row = values | {"staff_id": staff_id, "created_at": inserted_at, "updated_at": inserted_at}
        window = time_window([staff_id], row["starts_at"], row["busy_until"])
        try:
            row["id"] = fetch(_insert_if_free_statement(), row | window).scalar()
        except IntegrityError as error:
            raise DatabaseBusy(busy_message()) from error
        if row["id"] is None:
            continue  # busy meanwhile: an appointment, a hold or an absence
        note_taken_time(db.session(), row["service_id"], staff_id)
        return _loaded(row)
    raise SlotTaken(_l("This time has just been taken. Please choose another time."), field="start")


def _loaded(row: dict) -> Appointment:
    """The inserted row as a persistent object, every column loaded, without reading it back."""
    appointment = Appointment(**row)
    adopt_inserted(db.session(), appointment)
    return appointment


def _new_row(
    service: Service,
    start: datetime,
    family: FamilyDetails,
    channel: Channel,
    actor: StaffUser | None,
    idempotency_key: str | None,
) -> tuple[str, dict]:
    """The manage token and every column of the new appointment but its caseworker and
    timestamps (_insert_first_free adds them), so that the object needs no reading back after
    the insert (_loaded)."""
    token = token_for_key(idempotency_key) if idempotency_key else secrets.token_urlsafe(24)
    return token, {
        "reference": new_reference(),
        "service_id": service.id,
        "office_id": service.office_id,
        "starts_at": start,
        "ends_at": start + timedelta(minutes=service.minutes),
        "busy_until": start + service.busy_span,
        "status": AppointmentStatus.BOOKED,
        "channel": channel,
        "family_name": family.name,
        "email": family.email,
        "phone": family.phone,
        "email_key": email_key(family.email),
        "phone_key": phone_key(family.phone),
        "language": family.language,
        "interpreter_needed": family.interpreter_needed,
        "family_note": family.note,
        "internal_note": "",
        "cancel_reason": None,
        "cancelled_at": None,
        "cancelled_by_family": None,
        "sequence": 0,
        "manage_token_hash": hash_token(token),
        "idempotency_key": idempotency_key,
        "created_by_id": actor.id if actor else None,
        "purged_at": None,
    }


@counts_outcome("book")
def book_appointment(
    service: Service,
    start: datetime,
    family: FamilyDetails,
    now: datetime,
    channel: Channel = Channel.ONLINE,
    staff_id: int | None = None,
    actor: StaffUser | None = None,
    idempotency_key: str | None = None,
    from_offer: bool = False,
) -> Booking:
    """Book `start` for a family; the caller commits. Raises an AppointmentError subclass.

    from_offer: a waiting-list family takes the time held for them (booking/waitlist), which
    the channel quota and the minimum notice no longer keep from them.
    """
    if start.tzinfo is None:
        raise NotASlot(_l("The time needs a time zone."), field="start")
    start = start.astimezone(UTC)  # instants are UTC everywhere inside
    online = channel == Channel.ONLINE and actor is None
    first_check, seen = None, {}
    if _may_check_before_locking():
        # SQLite runs one writer at a time: check while another booking writes, then take
        # the lock for the final check and the insert only. A refusal needs no lock at all.
        if idempotency_key:
            repeated, _ = _repeated_form(idempotency_key, service, family)
            if repeated is not None:  # the same form again, found by reading alone
                return repeated
        first_check = _candidates(
            service, start, now, staff_id, language=family.language, online=online, seen=seen
        )
    # Built before the lock: SQLite's one writer holds it as briefly as can be.
    token, values = _new_row(service, start, family, channel, actor, idempotency_key)
    begin_write(keep_loaded=True)  # what was read so far stays loaded
    if idempotency_key:
        repeated, idempotency_key = _repeated_form(idempotency_key, service, family)
        if repeated is not None:
            return repeated
    if actor is None:
        _check_open_bookings(service, values, now)
    if first_check is not None and _schedule_unchanged(service, seen.get("versions")):
        candidates = first_check  # who is still free decides the insert (_insert_first_free)
    else:  # checked under the lock only, or hours, closures, staff changed meanwhile
        candidates = _candidates(
            service, start, now, staff_id, language=family.language, online=online
        )
    if idempotency_key != values["idempotency_key"]:  # the key was someone else's
        token, values = _new_row(service, start, family, channel, actor, idempotency_key)
    appointment = _insert_first_free(values, candidates)
    log_event(appointment, "booked", actor, channel.value)
    db.session.flush()
    tell_family(appointment, "confirmation", now, manage_token=token)
    return Booking(appointment, token)


def appointment_for_token(token: str, now: datetime) -> Appointment | None:
    """The appointment of a manage link; None when unknown or after the appointment."""
    if not token or len(token) > 100:
        return None
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == hash_token(token))
    )
    if appointment is None or appointment.ends_at <= now:
        return None
    return appointment


def can_change_online(appointment: Appointment, now: datetime) -> bool:
    notice = timedelta(hours=appointment.service.min_notice_hours)
    return appointment.status == AppointmentStatus.BOOKED and now < appointment.starts_at - notice


def _require_changeable(appointment: Appointment, now: datetime, actor: StaffUser | None):
    if appointment.status != AppointmentStatus.BOOKED:
        raise AppointmentError(_l("This appointment is no longer booked."))
    if actor is None and not can_change_online(appointment, now):
        raise TooLate(
            _l("This appointment can no longer be changed online. Please call us."), field="start"
        )


@counts_outcome("cancel")
def cancel_by_family(appointment: Appointment, now: datetime) -> None:
    if appointment.status == AppointmentStatus.CANCELLED:
        return  # cancelling twice changes nothing
    _require_changeable(appointment, now, None)
    appointment.cancel("Abgesagt durch die Familie", now, by_family=True)
    log_event(appointment, "cancelled_by_family", None)
    db.session.flush()
    tell_family(appointment, "cancelled", now)
    tell_caseworker(appointment, "staff_cancelled")


@counts_outcome("move")
def move_appointment(
    appointment: Appointment, start: datetime, now: datetime, actor: StaffUser | None = None
) -> Booking:
    """Move to another free slot of the same service; a new manage token replaces the old."""
    start = start.astimezone(UTC)
    begin_write()
    db.session.refresh(appointment)
    _require_changeable(appointment, now, actor)
    service = appointment.service
    candidates = _candidates(
        service,
        start,
        now,
        None,
        exclude_id=appointment.id,
        by_staff=actor is not None,
        language=appointment.language,
        online=actor is None,
    )
    if appointment.staff_id in candidates:  # keep the caseworker when they are free
        candidates.remove(appointment.staff_id)
        candidates.insert(0, appointment.staff_id)
    old = (appointment.starts_at, appointment.staff_id)
    retire_token(appointment, now)  # the old link then says "moved" instead of "not found"
    token = secrets.token_urlsafe(24)
    for staff_id in candidates:
        if not _still_free_for_move(staff_id, start, start + service.busy_span, appointment.id):
            continue
        try:
            with db.session.begin_nested():
                appointment.staff_id = staff_id
                appointment.starts_at = start
                appointment.ends_at = start + timedelta(minutes=service.minutes)
                appointment.busy_until = start + service.busy_span
                appointment.sequence += 1
                appointment.manage_token_hash = hash_token(token)
                db.session.flush()
        except IntegrityError:
            db.session.refresh(appointment)
            continue
        log_event(appointment, "moved", actor, f"from {old[0]:%Y-%m-%d %H:%M} UTC")
        db.session.flush()
        tell_family(appointment, "moved", now, manage_token=token)
        if actor is None:
            tell_caseworker(appointment, "staff_moved")
        return Booking(appointment, token)
    raise SlotTaken(_l("This time has just been taken. Please choose another time."), field="start")


def _overlapping_appointment(appointment: Appointment) -> bool:
    """Does another appointment hold part of this one's time with the same caseworker?"""
    return bool(
        db.session.scalar(
            select(Appointment.id).where(
                Appointment.id != appointment.id,
                Appointment.staff_id == appointment.staff_id,
                holds_time(Appointment.status),
                Appointment.starts_at < appointment.busy_until,
                Appointment.starts_at > appointment.starts_at - MAX_BUSY_SPAN,
                Appointment.busy_until > appointment.starts_at,
            )
        )
    )


def restore_appointment(appointment: Appointment, actor: StaffUser, now: datetime) -> None:
    """Staff undo a cancellation, if the time is still free for the same caseworker.

    Checked like a new booking by staff: the caseworker must still work then and be free
    (no absence, blocked time or other appointment), and the office open.
    """
    begin_write()
    lock_caseworker(appointment.staff_id)  # bookings check, then insert, under this lock
    db.session.refresh(appointment)  # after the lock: a restore at the same moment is seen
    if appointment.status != AppointmentStatus.CANCELLED:
        raise AppointmentError(_l("Only a cancelled appointment can be restored."))
    if appointment.starts_at <= now:
        raise AppointmentError(_l("The appointment is in the past."))
    try:
        _candidates(
            appointment.service,
            appointment.starts_at,
            now,
            appointment.staff_id,
            exclude_id=appointment.id,
            by_staff=True,
        )
    except NotASlot as error:
        raise NotASlot(
            _l(
                "The time can no longer be booked: the office is closed or the caseworker no "
                "longer works then."
            )
        ) from error
    except SlotTaken as error:
        if _overlapping_appointment(appointment):
            raise SlotTaken(_l("The time has been booked by someone else meanwhile.")) from error
        if time_is_held(appointment.staff_id, appointment.starts_at, appointment.busy_until):
            raise SlotTaken(
                _l("The time is held for a family from the waiting list meanwhile.")
            ) from error
        raise SlotTaken(
            _l("The caseworker is absent or has blocked this time meanwhile.")
        ) from error
    try:
        with db.session.begin_nested():
            appointment.status = AppointmentStatus.BOOKED
            appointment.cancel_reason = None
            appointment.cancelled_at = None
            appointment.cancelled_by_family = None
            appointment.sequence += 1
            db.session.flush()
    except IntegrityError as error:
        db.session.refresh(appointment)
        raise SlotTaken(_l("The time has been booked by someone else meanwhile.")) from error
    log_event(appointment, "restored", actor)
    db.session.flush()
    tell_family(appointment, "confirmation", now)
