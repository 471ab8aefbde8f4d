"""Staff actions on appointments. Each writes the edit log; services flush, views commit."""

from datetime import datetime
from functools import cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.appointments.models import (
    MAX_BUSY_SPAN,
    Appointment,
    AppointmentError,
    AppointmentEvent,
)
from booking.appointments.signals import tell_family
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.core.exceptions import NotAllowed
from booking.core.scope import may_see_office
from booking.core.transactions import write_later
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office

MAX_INTERNAL_NOTE = 2000


def can_see_appointment(user: StaffUser, appointment: Appointment) -> bool:
    """Admins all; reception their offices; caseworkers their own appointments only (at an
    office they still work for)."""
    if not may_see_office(user, appointment.office_id):
        return False
    if user.role == Role.CASEWORKER:
        return appointment.staff_id == user.id
    return True


def require_access(user: StaffUser, appointment: Appointment) -> None:
    if not can_see_appointment(user, appointment):
        raise NotAllowed(_l("You may not change this appointment."))


def log_event(appointment: Appointment, action: str, actor: StaffUser | None, detail: str = ""):
    entry = {"action": action, "actor_id": actor.id if actor else None, "detail": detail[:300]}
    if appointment.id is not None and "events" in sa.inspect(appointment).unloaded:
        # Nobody holds the edit log in memory: one INSERT, no unit of work (a booking's path),
        # sent with the transaction's next statement or commit.
        write_later(_event_insert(), entry | {"appointment_id": appointment.id, "at": utcnow()})
    else:
        db.session.add(AppointmentEvent(appointment=appointment, **entry))
    if actor is not None:
        # The audit log too (append-only, ids and the action only: never the reason or a note).
        if appointment.id is None:
            db.session.flush()
        record_event(f"appointment.{action}", actor=actor, obj=appointment)


@cache
def _event_insert():
    return AppointmentEvent.__table__.insert().inline()


def mark_attended(appointment: Appointment, actor: StaffUser, now: datetime) -> None:
    require_access(actor, appointment)
    appointment.mark_attended(now)
    log_event(appointment, "attended", actor)
    db.session.flush()


def mark_no_show(appointment: Appointment, actor: StaffUser, now: datetime) -> None:
    require_access(actor, appointment)
    appointment.mark_no_show(now)
    log_event(appointment, "no_show", actor)
    db.session.flush()


def cancel_by_staff(appointment: Appointment, reason: str, actor: StaffUser, now: datetime):
    require_access(actor, appointment)
    reason = (reason or "").strip()
    if not reason:
        raise AppointmentError(_l("Please give a reason for the cancellation."), field="reason")
    appointment.cancel(reason, now)
    log_event(appointment, "cancelled", actor, reason)
    db.session.flush()
    tell_family(appointment, "cancelled", now)


def add_internal_note(appointment: Appointment, text: str, actor: StaffUser, now: datetime):
    require_access(actor, appointment)
    text = (text or "").strip()
    if not text:
        raise AppointmentError(_l("The note is empty."), field="note")
    stamp = f"[{now:%Y-%m-%d %H:%M} UTC, {actor.name}] "
    combined = (
        (appointment.internal_note + "\n" if appointment.internal_note else "") + stamp + text
    )
    if len(combined) > MAX_INTERNAL_NOTE:
        raise AppointmentError(_l("The internal notes are full (2000 characters)."), field="note")
    appointment.internal_note = combined
    log_event(appointment, "note_added", actor)
    db.session.flush()


def appointments_between(
    start: datetime,
    end: datetime,
    staff_ids: list[int] | None = None,
    office: Office | None = None,
) -> list[Appointment]:
    query = (
        select(Appointment)
        .where(
            Appointment.starts_at < end,
            Appointment.starts_at > start - MAX_BUSY_SPAN,  # the index reads only the window
            Appointment.ends_at > start,
        )
        .options(selectinload(Appointment.service), selectinload(Appointment.staff))
        .order_by(Appointment.starts_at, Appointment.staff_id)
    )
    if staff_ids is not None:
        query = query.where(Appointment.staff_id.in_(staff_ids))
    if office is not None:
        query = query.where(Appointment.office_id == office.id)
    return list(db.session.scalars(query))
