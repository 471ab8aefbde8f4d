from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from booking.accessibility.services import purge_feedback
from booking.api.models import KEEP_ANSWERS_FOR, IdempotentAnswer
from booking.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from booking.audit.services import purge_audit, record_event
from booking.callbacks.services import purge_closed_requests
from booking.extensions import db
from booking.notify.models import OutboxMessage, OutboxStatus
from booking.privacy.retention import (
    appointment_cutoff,
    audit_cutoff,
    cancelled_cutoff,
    login_cutoff,
    outbox_cutoff,
    queue_cutoff_day,
)
from booking.public.models import RetiredToken
from booking.waiting.services import purge_queue
from booking.waitlist.services import purge_waitlist

ERASED_NAME = "–"


@dataclass
class PurgeReport:
    """Counts per retention rule (never personal data)."""

    appointments: int = 0  # appointment_details
    messages: int = 0  # outbox_messages
    callbacks: int = 0  # callback_requests
    retry_answers: int = 0  # API retry answers (24 hours, not personal data of a rule)
    queue_entries: int = 0  # walk_in_queue
    feedback: int = 0  # accessibility_feedback (reports of barriers)
    cancelled: int = 0  # cancelled_appointments
    audit_entries: int = 0  # audit_entries
    login_records: int = 0  # login_records
    waitlist: int = 0  # waitlist_entries

    def per_rule(self) -> dict[str, int]:
        return {
            "appointment_details": self.appointments,
            "cancelled_appointments": self.cancelled,
            "callback_requests": self.callbacks,
            "walk_in_queue": self.queue_entries,
            "waitlist_entries": self.waitlist,
            "outbox_messages": self.messages,
            "audit_entries": self.audit_entries,
            "login_records": self.login_records,
            "accessibility_feedback": self.feedback,
        }

    @property
    def anything(self) -> bool:
        return any(self.per_rule().values())

    def summary(self) -> str:
        """One line for the CLI and the worker: rule=count (counts only, never personal data)."""
        return "purged " + ", ".join(f"{rule}={count}" for rule, count in self.per_rule().items())


ERASED_APPOINTMENT = dict(
    family_name=ERASED_NAME,
    email=None,
    phone=None,
    email_key=None,
    phone_key=None,
    family_note="",
    internal_note="",
    cancel_reason=None,  # a family's own words, or staff's, why it was cancelled
    manage_token_hash=None,
    idempotency_key=None,
)


def purge_personal_data(now: datetime) -> PurgeReport:
    """Apply every retention rule (config RETENTION) once; running it again changes nothing.

    Appointments and callback requests stay as anonymous records (office, service, times,
    channel, language, interpreter need, outcome: the statistics); names, contact details,
    notes, reasons and links go. Messages, old audit entries and login records are deleted.
    """
    days = current_app.config["RETENTION"]
    report = PurgeReport()
    report.cancelled = db.session.execute(
        update(Appointment)
        .where(
            Appointment.status == AppointmentStatus.CANCELLED,
            Appointment.cancelled_at < cancelled_cutoff(now, days["cancelled_appointments"]),
            Appointment.purged_at.is_(None),
        )
        .values(**ERASED_APPOINTMENT, purged_at=now)
    ).rowcount
    report.appointments = db.session.execute(
        update(Appointment)
        .where(
            Appointment.ends_at < appointment_cutoff(now, days["appointment_details"]),
            Appointment.purged_at.is_(None),
        )
        .values(**ERASED_APPOINTMENT, purged_at=now)
    ).rowcount
    purged_appointments = select(Appointment.id).where(Appointment.purged_at.is_not(None))
    # The edit log's details (a staff cancel reason, notes on moves) go with the appointment.
    db.session.execute(
        update(AppointmentEvent)
        .where(
            AppointmentEvent.appointment_id.in_(purged_appointments),
            AppointmentEvent.detail != "",
        )
        .values(detail="")
    )
    # Old links of erased appointments go with them (then they answer "not found").
    db.session.execute(
        delete(RetiredToken).where(RetiredToken.appointment_id.in_(purged_appointments))
    )
    report.messages = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
            OutboxMessage.created_at < outbox_cutoff(now, days["outbox_messages"]),
        )
    ).rowcount
    report.callbacks = purge_closed_requests(now)
    # Answers kept for API retries (Idempotency-Key) are forgotten after 24 hours.
    report.retry_answers = db.session.execute(
        delete(IdempotentAnswer).where(IdempotentAnswer.created_at <= now - KEEP_ANSWERS_FOR)
    ).rowcount
    report.queue_entries = purge_queue(queue_cutoff_day(now, days["walk_in_queue"]), now)
    report.waitlist = purge_waitlist(now, days["waitlist_entries"])
    report.feedback = purge_feedback(now)
    report.login_records, report.audit_entries = purge_audit(
        login_cutoff(now, days["login_records"]), audit_cutoff(now, days["audit_entries"])
    )
    if report.anything:
        record_event("privacy.purged", detail=report.summary().removeprefix("purged "))
    db.session.flush()
    return report
