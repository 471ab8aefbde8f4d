from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import delete, select, update

from booking.accessibility.services import purge_feedback
from booking.api.models import KEEP_ANSWERS_FOR, IdempotentAnswer
from booking.appointments.models import Appointment
from booking.audit.services import record_event
from booking.callbacks.services import purge_closed_requests
from booking.extensions import db
from booking.notify.models import OutboxMessage, OutboxStatus
from booking.privacy.retention import appointment_cutoff, outbox_cutoff, queue_cutoff_day
from booking.public.models import RetiredToken
from booking.waiting.services import purge_queue

ERASED_NAME = "–"


@dataclass
class PurgeReport:
    appointments: int
    messages: int
    callbacks: int = 0
    retry_answers: int = 0
    queue_entries: int = 0
    feedback: int = 0  # reports of barriers (accessibility statement)

    @property
    def anything(self) -> bool:
        return bool(
            self.appointments
            or self.messages
            or self.callbacks
            or self.queue_entries
            or self.feedback
        )

    def summary(self) -> str:
        """One line for the CLI and the worker (counts only, never personal data)."""
        return (
            f"erased {self.appointments} appointment(s), deleted {self.messages} message(s), "
            f"erased {self.callbacks} callback request(s), "
            f"erased {self.queue_entries} queue entry(ies), "
            f"erased {self.feedback} accessibility feedback(s)"
        )


def purge_personal_data(now: datetime) -> PurgeReport:
    """Erase what identifies a family once the retention period has passed.

    The appointment itself stays (time, service, status: the office's statistics); the name,
    contact details, notes, cancel reason and manage links (also old ones) go. Delivered or
    failed messages are deleted. Running it twice changes nothing more.
    """
    config = current_app.config
    erased = db.session.execute(
        update(Appointment)
        .where(
            Appointment.ends_at
            < appointment_cutoff(now, config["RETENTION_DAYS_AFTER_APPOINTMENT"]),
            Appointment.purged_at.is_(None),
        )
        .values(
            family_name=ERASED_NAME,
            email=None,
            phone=None,
            email_key=None,
            phone_key=None,
            family_note="",
            internal_note="",
            cancel_reason=None,  # a family's own words, why they cancelled
            manage_token_hash=None,
            idempotency_key=None,
            purged_at=now,
        )
    ).rowcount
    # Old links of erased appointments go with them (then they answer "not found").
    db.session.execute(
        delete(RetiredToken).where(
            RetiredToken.appointment_id.in_(
                select(Appointment.id).where(Appointment.purged_at.is_not(None))
            )
        )
    )
    deleted = db.session.execute(
        delete(OutboxMessage).where(
            OutboxMessage.status.in_([OutboxStatus.SENT, OutboxStatus.FAILED]),
            OutboxMessage.created_at < outbox_cutoff(now, config["OUTBOX_RETENTION_DAYS"]),
        )
    ).rowcount
    callbacks = purge_closed_requests(now)
    # Answers kept for API retries (Idempotency-Key) are forgotten after 24 hours.
    forgotten = db.session.execute(
        delete(IdempotentAnswer).where(IdempotentAnswer.created_at <= now - KEEP_ANSWERS_FOR)
    ).rowcount
    queue_entries = purge_queue(queue_cutoff_day(now), now)  # at the end of each day
    feedback = purge_feedback(now)
    report = PurgeReport(erased, deleted, callbacks, forgotten, queue_entries, feedback)
    if report.anything:
        record_event(
            "privacy.purged",
            detail=f"appointments {erased}, messages {deleted}, callback requests {callbacks}, "
            f"queue entries {queue_entries}, accessibility feedback {feedback}",
        )
    db.session.flush()
    return report
