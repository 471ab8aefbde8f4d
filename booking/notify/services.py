"""Render messages and put them in the outbox, in the transaction of the change itself."""

import json
import re
from datetime import UTC, datetime, timedelta
from functools import cache

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from booking.appointments.calendar_file import appointment_ics
from booking.appointments.models import Appointment, AppointmentStatus
from booking.appointments.services import appointments_between
from booking.appointments.signals import family_notice, staff_notice
from booking.auth.models import StaffUser
from booking.core.i18n import message_locale
from booking.core.sealed import seal
from booking.core.transactions import write_later
from booking.core.urls import public_url
from booking.core.validation import is_mobile
from booking.extensions import db
from booking.notify.models import (
    MANAGE_LINK_PLACEHOLDER,
    MANAGE_TOKEN_PURPOSE,
    MessageContent,
    MessageNotRenderable,
    OutboxChannel,
    OutboxMessage,
)
from booking.schedule.engine import BERLIN

NO_LINE_BREAKS = re.compile(r"[\r\n]+")


def one_line(text: str) -> str:
    """Header-safe: CR or LF can never start a new header line."""
    return NO_LINE_BREAKS.sub(" ", text or "").strip()


def fit(column, text: str) -> str:
    """Shorten a derived value to its column's length (a long service name in a subject)."""
    length = column.type.length
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


def subject_line(text: str) -> str:
    return fit(OutboxMessage.__table__.c.subject, one_line(text))


def site_url(path: str) -> str:
    return public_url(path)


def can_take_sms(phone: str | None) -> bool:
    """Only mobile numbers get SMS; a landline (given at the desk for a call back) does not."""
    return bool(phone) and is_mobile(phone)


def _family_channel(appointment: Appointment) -> tuple[OutboxChannel, str] | None:
    if appointment.email:
        return OutboxChannel.EMAIL, appointment.email
    if can_take_sms(appointment.phone):
        return OutboxChannel.SMS, appointment.phone
    return None


SUBJECTS = {
    "confirmation": lambda: _("Your appointment is booked"),
    "moved": lambda: _("Your appointment has been moved"),
    "cancelled": lambda: _("Your appointment is cancelled"),
    "reminder": lambda: _("Reminder of your appointment"),
}


def queue_family_message(
    appointment: Appointment,
    kind: str,
    manage_token: str | None = None,
    dedupe_key: str | None = None,
    now: datetime | None = None,
) -> bool:
    """Queue confirmation, moved, cancelled or reminder for the family (never their note);
    False when the family gave no contact to send to. The INSERT goes with the transaction's
    next statement or its commit (write_later).

    Only what is needed to render it later is stored (OutboxMessage.render_now): the sender
    renders it from the appointment as it is then, in the family's language.
    """
    target = _family_channel(appointment)
    if target is None:
        return False
    channel, recipient = target
    if appointment.id is None:
        db.session.flush()
    write_later(
        _message_insert(),
        {
            "kind": kind,
            "channel": channel,
            "recipient": recipient,
            "render_from": json.dumps(
                {
                    "start": appointment.starts_at.timestamp(),
                    "end": appointment.ends_at.timestamp(),
                    "sequence": appointment.sequence,
                    "status": str(appointment.status),
                    "stamp": (now or datetime.now(UTC)).timestamp(),  # the calendar's DTSTAMP
                }
            ),
            "appointment_id": appointment.id,
            "dedupe_key": dedupe_key,
            "sealed_manage_token": (
                seal(manage_token, MANAGE_TOKEN_PURPOSE) if manage_token else None
            ),
        },
    )
    return True


@cache
def _message_insert():
    return OutboxMessage.__table__.insert().inline()


class AppointmentAsQueued:
    """An appointment with the time, sequence and state it had when a message was queued."""

    def __init__(self, appointment: Appointment, state: dict) -> None:
        self._appointment = appointment
        self.starts_at = datetime.fromtimestamp(state["start"], UTC)
        self.ends_at = datetime.fromtimestamp(state["end"], UTC)
        self.sequence = state["sequence"]
        self.status = AppointmentStatus(state["status"])

    def __getattr__(self, name: str):
        return getattr(self._appointment, name)


def render_family_message(message: OutboxMessage) -> MessageContent:
    """Subject, bodies and calendar file of a queued family message, from its appointment."""
    stored = db.session.get(Appointment, message.appointment_id or 0)
    if stored is None:
        raise MessageNotRenderable(f"outbox message #{message.id}: its appointment is gone")
    state = json.loads(message.render_from)
    appointment = AppointmentAsQueued(stored, state)
    # Only a placeholder for the link: the sender puts the real link in when it leaves, so no
    # valid manage link is ever readable in the database or by staff.
    manage_url = MANAGE_LINK_PLACEHOLDER if message.sealed_manage_token else None
    context = {
        "appointment": appointment,
        "kind": message.kind,
        "manage_url": manage_url,
        "local_start": appointment.starts_at.astimezone(BERLIN),
        "local_end": appointment.ends_at.astimezone(BERLIN),
    }
    # One language for the whole message, its calendar file included.
    with force_locale(message_locale(appointment.language)):
        subject = subject_line(f"{SUBJECTS[message.kind]()} – {appointment.service.local('name')}")
        if message.channel == OutboxChannel.SMS:
            return MessageContent(
                subject, render_template("notify/family.sms.txt", **context), None, None, None
            )
        text = render_template("notify/family.txt", **context)
        html = render_template("notify/family.html", **context)
        # The kind decides, not today's state: a confirmation sent after a quick cancellation
        # stays an invitation, and the cancellation that follows it cancels it.
        method = "CANCEL" if message.kind == "cancelled" else "REQUEST"
        ics = appointment_ics(
            appointment,
            datetime.fromtimestamp(state["stamp"], UTC),
            method=method,
            organizer=current_app.config["MAIL_DEFAULT_SENDER"],
        ).decode()
    return MessageContent(subject, text, html, ics, method)


def queue_staff_notice(appointment: Appointment, kind: str) -> OutboxMessage | None:
    """Tell the caseworker that a family cancelled or moved (no family contact details)."""
    staff = appointment.staff
    if staff is None or not staff.active:
        return None
    context = {
        "appointment": appointment,
        "kind": kind,
        "local_start": appointment.starts_at.astimezone(BERLIN),
        "calendar_url": site_url(f"/appointments/{appointment.id}"),
    }
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = subject_line(
            _("A family cancelled: %(ref)s", ref=appointment.reference)
            if kind == "staff_cancelled"
            else _("A family moved their appointment: %(ref)s", ref=appointment.reference)
        )
        text = render_template("notify/staff_notice.txt", **context)
    message = OutboxMessage(
        kind=kind,
        channel=OutboxChannel.EMAIL,
        recipient=staff.email,
        subject=subject,
        body_text=text,
        appointment_id=appointment.id,
        staff_id=staff.id,
    )
    db.session.add(message)
    return message


@family_notice.connect
def _on_family_notice(appointment: Appointment, kind: str, manage_token=None, now=None) -> None:
    queue_family_message(appointment, kind, manage_token=manage_token, now=now)


@staff_notice.connect
def _on_staff_notice(appointment: Appointment, kind: str) -> None:
    queue_staff_notice(appointment, kind)


def queue_reminders(now: datetime) -> int:
    """Queue a reminder for every booked appointment starting within the reminder window.

    Idempotent: the dedupe key names the appointment and its start, so running it twice
    queues each reminder once, and a moved appointment gets a reminder for its new time.
    """
    hours = current_app.config["REMINDER_HOURS_BEFORE"]
    due = db.session.scalars(
        select(Appointment).where(
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > now,
            Appointment.starts_at <= now + timedelta(hours=hours),
        )
    ).all()
    if not due:
        return 0
    keys = {f"reminder:{a.id}:{int(a.starts_at.timestamp())}": a for a in due}
    existing = set(
        db.session.scalars(
            select(OutboxMessage.dedupe_key).where(OutboxMessage.dedupe_key.in_(list(keys)))
        )
    )
    queued = 0
    for key, appointment in keys.items():
        if key in existing:
            continue
        if queue_family_message(appointment, "reminder", dedupe_key=key, now=now):
            queued += 1
    db.session.flush()
    return queued


def queue_daily_agendas(now: datetime) -> int:
    """Each opted-in caseworker's appointments of the local day, once per day."""
    day = now.astimezone(BERLIN).date()
    start = datetime.combine(day, datetime.min.time(), tzinfo=BERLIN)
    queued = 0
    staff = db.session.scalars(
        select(StaffUser).where(StaffUser.active.is_(True), StaffUser.wants_daily_agenda.is_(True))
    )
    for user in staff:
        key = f"agenda:{user.id}:{day.isoformat()}"
        if db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
            continue
        appointments = [
            a
            for a in appointments_between(start, start + timedelta(days=1), staff_ids=[user.id])
            if a.status == AppointmentStatus.BOOKED
        ]
        with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
            subject = subject_line(_("Your appointments on %(day)s", day=day.strftime("%d.%m.%Y")))
            text = render_template(
                "notify/staff_agenda.txt", user=user, day=day, appointments=appointments, tz=BERLIN
            )
        db.session.add(
            OutboxMessage(
                kind="staff_agenda",
                channel=OutboxChannel.EMAIL,
                recipient=user.email,
                subject=subject,
                body_text=text,
                staff_id=user.id,
                dedupe_key=key,
            )
        )
        queued += 1
    db.session.flush()
    return queued
