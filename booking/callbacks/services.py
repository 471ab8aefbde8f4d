"""Callback requests on the database. Services flush; the request (or the CLI) commits.

Every change writes the request's edit log and an audit entry; neither holds the caller's
personal data (names, numbers and notes stay in the request, where the purge erases them).
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update
from sqlalchemy.orm import selectinload

from booking.appointments.models import Appointment
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.callbacks.due import BERLIN, due_at, search_window
from booking.callbacks.models import (
    OPEN_STATES,
    REACHABLE_CODES,
    AttemptOutcome,
    CallAttempt,
    CallbackApiKey,
    CallbackError,
    CallbackEvent,
    CallbackOutcome,
    CallbackRequest,
    CallbackSource,
    CallbackStatus,
)
from booking.core.exceptions import NotAllowed
from booking.core.scope import may_see_office
from booking.core.validation import is_language_code
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage
from booking.notify.services import message_locale, one_line
from booking.offices.models import Office, Service
from booking.schedule.services import closed_days

MAX_NAME = 120
MAX_NOTE = 500
MAX_REACHABLE_NOTE = 200
MAX_ATTEMPT_NOTE = 500
MAX_INTERNAL_NOTE = 4000
MESSAGE_KIND_UNREACHABLE = "callback_unreachable"
ERASED_NAME = "–"


class InvalidCallbackDetails(CallbackError):
    def __init__(self, errors: dict[str, object]) -> None:
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors


# Phone numbers


def parse_phone(value: str | None, region: str = "DE") -> str | None:
    """The number in E.164 ("+492111234567"), or None when it is no valid phone number."""
    try:
        number = phonenumbers.parse((value or "").strip(), region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national_format(e164: str | None) -> str:
    """How staff dial it: national format for German numbers, international otherwise."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    style = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if phonenumbers.region_code_for_number(number) == "DE"
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, style)


def is_mobile(e164: str | None) -> bool:
    """Can this number take an SMS? (Landlines cannot.)"""
    if not e164:
        return False
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(number) in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    )


# Details of a request


@dataclass(frozen=True)
class CallerDetails:
    name: str
    phone: str
    email: str | None = None
    service: Service | None = None
    language: str = "de"
    interpreter_needed: bool = False
    reachable: tuple[str, ...] = ()
    reachable_note: str = ""
    voicemail_ok: bool = False
    urgent: bool = False
    note: str = ""


def check_caller_details(
    office: Office,
    name: str | None,
    phone: str | None,
    email: str | None = None,
    service: Service | None = None,
    language: str | None = "de",
    interpreter_needed: bool = False,
    reachable: list[str] | tuple[str, ...] = (),
    reachable_note: str | None = "",
    voicemail_ok: bool = False,
    urgent: bool = False,
    note: str | None = "",
) -> CallerDetails:
    """Normalised details, or InvalidCallbackDetails with a message per field."""
    errors: dict[str, object] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _l("Please enter a name.")
    elif len(name) > MAX_NAME:
        errors["name"] = _l("The name may have at most %(n)d characters.", n=MAX_NAME)
    normalized = parse_phone(phone)
    if not (phone or "").strip():
        errors["phone"] = _l("Please enter the number to call back.")
    elif normalized is None:
        errors["phone"] = _l("Please enter a valid phone number.")
    email = (email or "").strip() or None
    if email:
        try:
            email = validate_email(email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            errors["email"] = _l("Please enter a valid email address.")
    if service is not None and service.office_id != office.id:
        errors["topic"] = _l("Please choose one of this office's services or “Something else”.")
    language = (language or "de").strip().lower()
    if not is_language_code(language):
        errors["language"] = _l("Please choose a language.")
    unknown = [code for code in reachable if code not in REACHABLE_CODES]
    if unknown:
        errors["reachable"] = _l("Please choose from the listed times.")
    reachable_note = (reachable_note or "").strip()
    if len(reachable_note) > MAX_REACHABLE_NOTE:
        errors["reachable_note"] = _l(
            "This may have at most %(n)d characters.", n=MAX_REACHABLE_NOTE
        )
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        errors["note"] = _l("The note may have at most %(n)d characters.", n=MAX_NOTE)
    if errors:
        raise InvalidCallbackDetails(errors)
    return CallerDetails(
        name=name,
        phone=normalized,
        email=email,
        service=service,
        language=language,
        interpreter_needed=bool(interpreter_needed),
        reachable=tuple(code for code in REACHABLE_CODES if code in reachable),
        reachable_note=reachable_note,
        voicemail_ok=bool(voicemail_ok),
        urgent=bool(urgent),
        note=note,
    )


# Access


def can_see_request(user: StaffUser, request: CallbackRequest) -> bool:
    """Admins every request; reception and caseworkers those of their own offices."""
    return may_see_office(user, request.office_id)


def require_access(user: StaffUser, request: CallbackRequest) -> None:
    if not can_see_request(user, request):
        raise NotAllowed(_l("You may not change this callback request."))


def log_event(
    request: CallbackRequest, action: str, actor: StaffUser | None, detail: str = ""
) -> CallbackEvent:
    event = CallbackEvent(
        request=request, action=action, actor_id=actor.id if actor else None, detail=detail[:300]
    )
    db.session.add(event)
    record_event(f"callback.{action}", actor=actor, obj=request, detail=detail[:200])
    return event


# Due time


def compute_due(office: Office, received_at: datetime, urgent: bool) -> datetime:
    first, last = search_window(received_at)
    return due_at(
        received_at,
        closed_days(office, first, last),
        due_days=office.callback_due_days,
        due_time=office.callback_due_time,
        urgent=urgent,
    )


# Creating and adding to requests


def open_requests_for_phone(office: Office, phone: str | None) -> list[CallbackRequest]:
    """Open requests with this number at this office, oldest first (the duplicate check)."""
    if not phone:
        return []
    return list(
        db.session.scalars(
            select(CallbackRequest)
            .where(
                CallbackRequest.office_id == office.id,
                CallbackRequest.phone == phone,
                CallbackRequest.status.in_(OPEN_STATES),
            )
            .order_by(CallbackRequest.received_at)
        )
    )


def create_request(
    office: Office,
    details: CallerDetails,
    now: datetime,
    source: CallbackSource = CallbackSource.RECEPTION,
    actor: StaffUser | None = None,
    api_key: CallbackApiKey | None = None,
) -> CallbackRequest:
    if not office.active:
        raise CallbackError(_l("This office takes no callback requests."), field="office")
    request = CallbackRequest(
        office=office,
        service=details.service,
        source=source,
        status=CallbackStatus.NEW,
        urgent=details.urgent,
        caller_name=details.name,
        phone=details.phone,
        email=details.email,
        language=details.language,
        interpreter_needed=details.interpreter_needed,
        reachable=",".join(details.reachable),
        reachable_note=details.reachable_note,
        voicemail_ok=details.voicemail_ok,
        note=details.note,
        received_at=now,
        due_at=compute_due(office, now, details.urgent),
        created_by_id=actor.id if actor else None,
        api_key_id=api_key.id if api_key else None,
    )
    db.session.add(request)
    db.session.flush()
    db.session.add(
        CallbackEvent(
            request=request,
            action="created",
            actor_id=actor.id if actor else None,
            detail=source.value,
        )
    )
    key = f", key {api_key.prefix}" if api_key else ""
    record_event("callback.created", actor=actor, obj=request, detail=source.value + key)
    db.session.flush()
    return request


def _append_internal_note(request: CallbackRequest, text: str, actor: StaffUser, now: datetime):
    stamp = f"[{now.astimezone(BERLIN):%d.%m.%Y %H:%M}, {actor.name}] "
    combined = (request.internal_note + "\n" if request.internal_note else "") + stamp + text
    if len(combined) > MAX_INTERNAL_NOTE:
        raise CallbackError(
            _l("The notes of this request are full (%(n)d characters).", n=MAX_INTERNAL_NOTE),
            field="note",
        )
    request.internal_note = combined


def add_to_request(
    request: CallbackRequest, note: str, urgent: bool, actor: StaffUser, now: datetime
) -> None:
    """The caller rang again: note it on the open request instead of making a duplicate.

    An urgent repeat makes the request urgent and brings its due time forward, never back.
    """
    require_access(actor, request)
    if not request.is_open:
        raise CallbackError(_l("This callback request is closed."))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise CallbackError(
            _l("The note may have at most %(n)d characters.", n=MAX_NOTE), field="note"
        )
    _append_internal_note(request, _("Called again.") + (f" {note}" if note else ""), actor, now)
    if urgent and not request.urgent:
        request.urgent = True
        request.due_at = min(request.due_at, compute_due(request.office, now, True))
    log_event(request, "called_again", actor, "urgent" if urgent else "")
    db.session.flush()


def add_note(request: CallbackRequest, text: str, actor: StaffUser, now: datetime) -> None:
    require_access(actor, request)
    text = (text or "").strip()
    if not text:
        raise CallbackError(_l("The note is empty."), field="note")
    if len(text) > MAX_NOTE:
        raise CallbackError(
            _l("The note may have at most %(n)d characters.", n=MAX_NOTE), field="note"
        )
    _append_internal_note(request, text, actor, now)
    log_event(request, "note_added", actor)
    db.session.flush()


# Transitions


def assign_request(
    request: CallbackRequest, staff_id: int | None, actor: StaffUser, now: datetime
) -> None:
    require_access(actor, request)
    if actor.role not in (Role.RECEPTION, Role.ADMIN):
        raise NotAllowed(_l("Reception assigns requests; caseworkers claim them."))
    staff = db.session.get(StaffUser, staff_id) if staff_id else None
    if staff is None:
        raise CallbackError(_l("Please choose an active caseworker."), field="staff")
    request.assign(staff, now)
    log_event(request, "assigned", actor, staff.name)
    db.session.flush()


def claim_request(request: CallbackRequest, actor: StaffUser, now: datetime) -> None:
    require_access(actor, request)
    if actor.role != Role.CASEWORKER:
        raise NotAllowed(_l("Only caseworkers claim requests."))
    request.claim(actor, now)
    log_event(request, "claimed", actor)
    db.session.flush()


def record_attempt(
    request: CallbackRequest,
    outcome: str,
    note: str,
    actor: StaffUser,
    now: datetime,
) -> CallAttempt:
    """Note a call to the caller. A caseworker who calls a new request takes it."""
    require_access(actor, request)
    if not request.is_open:
        raise CallbackError(_l("This callback request is closed."))
    try:
        outcome = AttemptOutcome(outcome)
    except ValueError:
        raise CallbackError(_l("Please choose how the call went."), field="outcome") from None
    note = (note or "").strip()
    if len(note) > MAX_ATTEMPT_NOTE:
        raise CallbackError(
            _l("The note may have at most %(n)d characters.", n=MAX_ATTEMPT_NOTE), field="note"
        )
    if request.status == CallbackStatus.NEW and actor.role == Role.CASEWORKER:
        request.claim(actor, now)
        log_event(request, "claimed", actor)
    attempt = CallAttempt(request=request, at=now, staff_id=actor.id, outcome=outcome, note=note)
    db.session.add(attempt)
    log_event(request, "attempt", actor, outcome.value)
    db.session.flush()
    return attempt


def appointment_by_reference(reference: str | None) -> Appointment | None:
    reference = (reference or "").strip().upper()
    if not reference:
        return None
    return db.session.scalar(select(Appointment).where(Appointment.reference == reference))


def close_request(
    request: CallbackRequest,
    outcome: str,
    actor: StaffUser,
    now: datetime,
    appointment_reference: str | None = None,
) -> None:
    require_access(actor, request)
    try:
        outcome = CallbackOutcome(outcome)
    except ValueError:
        raise CallbackError(_l("Please choose an outcome."), field="outcome") from None
    appointment = None
    if outcome == CallbackOutcome.APPOINTMENT_BOOKED and appointment_reference:
        appointment = appointment_by_reference(appointment_reference)
        if appointment is None:
            raise CallbackError(
                _l("No appointment has this reference."), field="appointment_reference"
            )
    request.close(outcome, actor, now, appointment=appointment)
    log_event(
        request,
        "closed",
        actor,
        outcome.value + (f" {appointment.reference}" if appointment else ""),
    )
    if outcome == CallbackOutcome.UNREACHABLE and queue_unreachable_message(request):
        log_event(request, "message_queued", None, MESSAGE_KIND_UNREACHABLE)
    db.session.flush()


def close_with_booking(
    request: CallbackRequest, appointment: Appointment, actor: StaffUser, now: datetime
) -> None:
    """The desk booked `appointment` from this request: close it as "appointment booked",
    linked to it, in the booking's transaction. A new request first goes to whoever owns it:
    the caseworker booking it, else the appointment's caseworker."""
    require_access(actor, request)
    if request.status == CallbackStatus.NEW:
        if actor.role == Role.CASEWORKER:
            request.claim(actor, now)
            log_event(request, "claimed", actor)
        else:
            request.assign(appointment.staff, now)
            log_event(request, "assigned", actor, appointment.staff.name)
    request.close(CallbackOutcome.APPOINTMENT_BOOKED, actor, now, appointment=appointment)
    log_event(
        request,
        "closed",
        actor,
        f"{CallbackOutcome.APPOINTMENT_BOOKED.value} {appointment.reference}",
    )
    db.session.flush()


def request_for_appointment(appointment: Appointment) -> CallbackRequest | None:
    """The callback request closed by booking this appointment, if any."""
    return db.session.scalar(
        select(CallbackRequest).where(CallbackRequest.appointment_id == appointment.id).limit(1)
    )


# The message to a caller we could not reach


def queue_unreachable_message(request: CallbackRequest) -> OutboxMessage | None:
    """Ask the caller to call us: by email, else by SMS to a mobile number, else nothing."""
    if request.email:
        channel, recipient = OutboxChannel.EMAIL, request.email
    elif is_mobile(request.phone):
        channel, recipient = OutboxChannel.SMS, request.phone
    else:
        return None
    context = {
        "request": request,
        "office": request.office,
        "office_phone": national_format(parse_phone(request.office.phone)) or request.office.phone,
    }
    with force_locale(message_locale(request.language)):
        subject = one_line(_("We could not reach you") + f" – {request.office.local('name')}")
        if channel == OutboxChannel.SMS:
            text = render_template("callbacks/message_unreachable.sms.txt", **context)
            html = None
        else:
            text = render_template("callbacks/message_unreachable.txt", **context)
            html = render_template("callbacks/message_unreachable.html", **context)
    message = OutboxMessage(
        kind=MESSAGE_KIND_UNREACHABLE,
        channel=channel,
        recipient=recipient,
        subject=subject[:200],
        body_text=text,
        body_html=html,
    )
    db.session.add(message)
    return message


# Lists


def queue_for_office(
    office: Office,
    status: str = "open",
    assignee: str | int | None = None,
    limit: int = 300,
) -> list[CallbackRequest]:
    """The office's requests by due time; `status` open|new|assigned|closed|all,
    `assignee` a staff id, "none" (unassigned) or None (anyone)."""
    query = (
        select(CallbackRequest)
        .where(CallbackRequest.office_id == office.id)
        .options(
            selectinload(CallbackRequest.assigned_to),
            selectinload(CallbackRequest.service),
            selectinload(CallbackRequest.attempts),
        )
    )
    if status == "open":
        query = query.where(CallbackRequest.status.in_(OPEN_STATES))
    elif status in (s.value for s in CallbackStatus):
        query = query.where(CallbackRequest.status == status)
    if assignee == "none":
        query = query.where(CallbackRequest.assigned_to_id.is_(None))
    elif isinstance(assignee, int):
        query = query.where(CallbackRequest.assigned_to_id == assignee)
    if status == "closed":
        query = query.order_by(CallbackRequest.closed_at.desc())
    else:
        query = query.order_by(CallbackRequest.due_at, CallbackRequest.id)
    return list(db.session.scalars(query.limit(limit)))


def end_of_local_day(now: datetime) -> datetime:
    day = now.astimezone(BERLIN).date() + timedelta(days=1)
    return datetime.combine(day, datetime.min.time(), tzinfo=BERLIN)


def owed_by(user: StaffUser, now: datetime) -> list[CallbackRequest]:
    """Open requests assigned to the user that are due today or overdue, by due time."""
    return list(
        db.session.scalars(
            select(CallbackRequest)
            .where(
                CallbackRequest.assigned_to_id == user.id,
                CallbackRequest.status.in_(OPEN_STATES),
                CallbackRequest.due_at < end_of_local_day(now),
            )
            .order_by(CallbackRequest.due_at)
        )
    )


@dataclass(frozen=True)
class QueueCounts:
    open: int
    overdue: int


def counts_for_offices(office_ids: list[int], now: datetime) -> dict[int, QueueCounts]:
    """Open and overdue requests per office."""
    if not office_ids:
        return {}
    rows = db.session.execute(
        select(
            CallbackRequest.office_id,
            func.count(),
            func.count().filter(CallbackRequest.due_at < now),
        )
        .where(
            CallbackRequest.office_id.in_(office_ids),
            CallbackRequest.status.in_(OPEN_STATES),
        )
        .group_by(CallbackRequest.office_id)
    )
    found = {office_id: QueueCounts(total, late) for office_id, total, late in rows}
    return {office_id: found.get(office_id, QueueCounts(0, 0)) for office_id in office_ids}


# API keys


def hash_key(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_key(
    office: Office, label: str, actor: StaffUser | None
) -> tuple[CallbackApiKey, str]:
    """A new key for the office; the secret is returned once and only its hash is kept."""
    label = (label or "").strip()
    if not label:
        raise CallbackError(_l("Please name the key (e.g. the phone system)."), field="label")
    if len(label) > 100:
        raise CallbackError(_l("At most 100 characters, please."), field="label")
    secret = "cb_" + secrets.token_urlsafe(32)
    key = CallbackApiKey(
        office=office,
        label=label,
        prefix=secret[:10],
        key_hash=hash_key(secret),
        created_by_id=actor.id if actor else None,
    )
    db.session.add(key)
    db.session.flush()
    record_event(
        "callback.api_key_created", actor=actor, obj=key, detail=f"{office.slug} {key.prefix}"
    )
    return key, secret


def revoke_api_key(key: CallbackApiKey, actor: StaffUser | None, now: datetime) -> None:
    if key.revoked_at is not None:
        raise CallbackError(_l("This key is already revoked."))
    key.revoked_at = now
    db.session.flush()
    record_event(
        "callback.api_key_revoked", actor=actor, obj=key, detail=f"{key.office.slug} {key.prefix}"
    )


def key_for_secret(secret: str) -> CallbackApiKey | None:
    """The active key with this secret, or None (unknown or revoked)."""
    if not secret:
        return None
    key = db.session.scalar(
        select(CallbackApiKey).where(CallbackApiKey.key_hash == hash_key(secret))
    )
    if key is None or key.revoked_at is not None:
        return None
    return key


# Privacy


def purge_closed_requests(now: datetime) -> int:
    """Erase the caller's personal data a configured time after the request was closed."""
    cutoff = now - timedelta(days=current_app.config["CALLBACK_RETENTION_DAYS_AFTER_CLOSING"])
    ids = list(
        db.session.scalars(
            select(CallbackRequest.id).where(
                CallbackRequest.status == CallbackStatus.CLOSED,
                CallbackRequest.closed_at < cutoff,
                CallbackRequest.purged_at.is_(None),
            )
        )
    )
    if not ids:
        return 0
    db.session.execute(
        update(CallbackRequest)
        .where(CallbackRequest.id.in_(ids))
        .values(
            caller_name=ERASED_NAME,
            phone=None,
            email=None,
            note="",
            internal_note="",
            reachable="",
            reachable_note="",
            purged_at=now,
        )
    )
    db.session.execute(update(CallAttempt).where(CallAttempt.request_id.in_(ids)).values(note=""))
    db.session.flush()
    return len(ids)
