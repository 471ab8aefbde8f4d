"""The non-personal facts the statistics read, loaded per office and period.

Only columns the privacy purge keeps are read (office, service, times, channel, language,
interpreter need, outcome): a purge never changes a figure. A later retention rule that
deletes rows writes its facts elsewhere and only this module changes.
"""

from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.callbacks.models import CallAttempt, CallbackRequest
from booking.extensions import db
from booking.reports.stats import AppointmentFact, CallbackFact, Period, QueueFact
from booking.waiting.models import QueueEntry


def appointment_facts(office_ids: list[int], period: Period) -> list[AppointmentFact]:
    start, end = period.bounds()
    rows = db.session.execute(
        select(
            Appointment.office_id,
            Appointment.service_id,
            Appointment.starts_at,
            Appointment.created_at,
            Appointment.channel,
            Appointment.status,
            Appointment.cancelled_by_family,
            Appointment.language,
            Appointment.interpreter_needed,
        )
        .where(
            Appointment.office_id.in_(office_ids),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.id)
    )
    return [
        AppointmentFact(
            office_id=row.office_id,
            service_id=row.service_id,
            starts_at=row.starts_at,
            created_at=row.created_at,
            channel=str(row.channel),
            status=str(row.status),
            cancelled_by_family=row.cancelled_by_family,
            language=row.language,
            interpreter=bool(row.interpreter_needed),
        )
        for row in rows
    ]


def queue_facts(office_ids: list[int], period: Period) -> list[QueueFact]:
    rows = db.session.execute(
        select(
            QueueEntry.office_id,
            QueueEntry.day,
            QueueEntry.kind,
            QueueEntry.state,
            QueueEntry.checked_in_at,
            QueueEntry.called_at,
        )
        .where(
            QueueEntry.office_id.in_(office_ids),
            QueueEntry.day >= period.first,
            QueueEntry.day <= period.last,
        )
        .order_by(QueueEntry.id)
    )
    return [
        QueueFact(
            office_id=row.office_id,
            day=row.day,
            kind=str(row.kind),
            state=str(row.state),
            checked_in_at=row.checked_in_at,
            called_at=row.called_at,
        )
        for row in rows
    ]


def callback_facts(office_ids: list[int], period: Period) -> list[CallbackFact]:
    start, end = period.bounds()
    first_attempt = (
        select(CallAttempt.request_id, func.min(CallAttempt.at).label("first_at"))
        .group_by(CallAttempt.request_id)
        .subquery()
    )
    rows = db.session.execute(
        select(
            CallbackRequest.office_id,
            CallbackRequest.received_at,
            CallbackRequest.due_at,
            first_attempt.c.first_at,
            CallbackRequest.closed_at,
            CallbackRequest.outcome,
            CallbackRequest.language,
            CallbackRequest.interpreter_needed,
        )
        .outerjoin(first_attempt, first_attempt.c.request_id == CallbackRequest.id)
        .where(
            CallbackRequest.office_id.in_(office_ids),
            CallbackRequest.received_at >= start,
            CallbackRequest.received_at < end,
        )
        .order_by(CallbackRequest.id)
    )
    return [
        CallbackFact(
            office_id=row.office_id,
            received_at=row.received_at,
            due_at=row.due_at,
            first_attempt_at=row.first_at,
            closed_at=row.closed_at,
            outcome=str(row.outcome) if row.outcome is not None else None,
            language=row.language,
            interpreter=bool(row.interpreter_needed),
        )
        for row in rows
    ]
