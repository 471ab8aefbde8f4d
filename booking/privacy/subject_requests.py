"""Data-subject requests (GDPR Art. 15 and 17, within SGB X § 84): find, export and erase every
record of one person. Erasure blanks what the retention purge blanks, so the statistics
(booking/reports/facts.py) read the same facts afterwards."""

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select, update

from booking.accessibility.models import AccessibilityFeedback
from booking.accessibility.services import ERASED as ERASED_MESSAGE
from booking.appointments.models import Appointment, AppointmentStatus
from booking.audit.services import record_event
from booking.auth.models import StaffUser
from booking.callbacks.models import CallAttempt, CallbackRequest, CallbackStatus
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage
from booking.privacy.subject import Subject
from booking.public.models import RetiredToken
from booking.waiting.models import QueueEntry
from booking.waitlist.models import EntryStatus, WaitlistEntry
from booking.waitlist.services import blank_entries, end_entry

ERASED_NAME = "–"
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass
class SubjectRecords:
    appointments: list[Appointment] = field(default_factory=list)
    callbacks: list[CallbackRequest] = field(default_factory=list)
    queue_entries: list[QueueEntry] = field(default_factory=list)
    messages: list[OutboxMessage] = field(default_factory=list)
    feedback: list[AccessibilityFeedback] = field(default_factory=list)
    waitlist_entries: list[WaitlistEntry] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(len(records) for records in self.kinds().values())

    def kinds(self) -> dict[str, list]:
        return {
            "appointments": self.appointments,
            "callbacks": self.callbacks,
            "queue_entries": self.queue_entries,
            "messages": self.messages,
            "feedback": self.feedback,
            "waitlist_entries": self.waitlist_entries,
        }

    def ids(self) -> str:
        """For the audit detail: record ids by kind, never the person's data."""
        return "; ".join(
            f"{kind} {','.join(str(r.id) for r in records)}"
            for kind, records in self.kinds().items()
            if records
        )[:400]

    def upcoming(self, now: datetime) -> list[Appointment]:
        return [
            a for a in self.appointments if a.status == AppointmentStatus.BOOKED and a.ends_at > now
        ]

    def open_callbacks(self) -> list[CallbackRequest]:
        return [c for c in self.callbacks if c.status != CallbackStatus.CLOSED]


def _by_email_domain(column, subject: Subject):
    """Rows whose address ends in the person's domain (compared exactly afterwards)."""
    return func.lower(column).like(f"%@{subject.domain}")


def find_records(subject: Subject) -> SubjectRecords:
    """Every record that still holds this person's email address or phone number."""
    key_column = Appointment.email_key if subject.kind == "email" else Appointment.phone_key
    appointments = list(
        db.session.scalars(
            select(Appointment).where(key_column == subject.key).order_by(Appointment.starts_at)
        )
    )
    if subject.kind == "email":
        candidates = select(CallbackRequest).where(_by_email_domain(CallbackRequest.email, subject))
    else:
        candidates = select(CallbackRequest).where(CallbackRequest.phone == subject.key)
    callbacks = [
        c
        for c in db.session.scalars(candidates.order_by(CallbackRequest.received_at))
        if subject.matches(c.email if subject.kind == "email" else c.phone)
    ]
    appointment_ids = [a.id for a in appointments]
    queue_entries = (
        list(
            db.session.scalars(
                select(QueueEntry)
                .where(QueueEntry.appointment_id.in_(appointment_ids))
                .order_by(QueueEntry.checked_in_at)
            )
        )
        if appointment_ids
        else []
    )
    channel = OutboxChannel.EMAIL if subject.kind == "email" else OutboxChannel.SMS
    message_query = select(OutboxMessage).where(OutboxMessage.channel == channel)
    if subject.kind == "email":
        message_query = message_query.where(_by_email_domain(OutboxMessage.recipient, subject))
    messages = [
        m
        for m in db.session.scalars(message_query.order_by(OutboxMessage.created_at))
        if subject.matches(m.recipient)
    ]
    feedback = [
        f
        for f in db.session.scalars(
            select(AccessibilityFeedback)
            .where(AccessibilityFeedback.contact.is_not(None))
            .order_by(AccessibilityFeedback.created_at)
        )
        if subject.matches(f.contact)
    ]
    if subject.kind == "email":
        places = select(WaitlistEntry).where(_by_email_domain(WaitlistEntry.email, subject))
    else:
        places = select(WaitlistEntry).where(WaitlistEntry.phone.is_not(None))
    waitlist_entries = [
        w
        for w in db.session.scalars(places.order_by(WaitlistEntry.joined_at))
        if subject.matches(w.email if subject.kind == "email" else w.phone)
    ]
    return SubjectRecords(
        appointments, callbacks, queue_entries, messages, feedback, waitlist_entries
    )


def _when(value: datetime | None) -> str | None:
    return value.astimezone(BERLIN).isoformat() if value else None


def records_as_json(records: SubjectRecords, now: datetime) -> dict:
    """Art. 15 copy: the person's data and what we know about each record (no internal ids of
    staff, no manage links)."""
    return {
        "generated_at": _when(now),
        "timezone": "Europe/Berlin",
        "appointments": [
            {
                "reference": a.reference,
                "office": a.office.name,
                "service": a.service.name,
                "start": _when(a.starts_at),
                "end": _when(a.ends_at),
                "status": a.status.value,
                "channel": a.channel.value,
                "name": a.family_name,
                "email": a.email,
                "phone": a.phone,
                "language": a.language,
                "interpreter_needed": a.interpreter_needed,
                "note": a.family_note,
                "internal_note": a.internal_note,
                "cancel_reason": a.cancel_reason,
                "cancelled_at": _when(a.cancelled_at),
                "booked_at": _when(a.created_at),
            }
            for a in records.appointments
        ],
        "callbacks": [
            {
                "reference": c.reference,
                "office": c.office.name,
                "status": c.status.value,
                "outcome": c.outcome.value if c.outcome else None,
                "name": c.caller_name,
                "phone": c.phone,
                "email": c.email,
                "language": c.language,
                "interpreter_needed": c.interpreter_needed,
                "reachable": c.reachable,
                "reachable_note": c.reachable_note,
                "note": c.note,
                "internal_note": c.internal_note,
                "received_at": _when(c.received_at),
                "due_at": _when(c.due_at),
                "closed_at": _when(c.closed_at),
                "attempts": [
                    {"at": _when(t.at), "outcome": t.outcome.value, "note": t.note}
                    for t in c.attempts
                ],
            }
            for c in records.callbacks
        ],
        "queue_entries": [
            {
                "office": q.office.name,
                "day": q.day.isoformat(),
                "number": q.number,
                "state": q.state.value,
                "name": q.name,
                "note": q.note,
                "checked_in_at": _when(q.checked_in_at),
                "called_at": _when(q.called_at),
                "finished_at": _when(q.finished_at),
            }
            for q in records.queue_entries
        ],
        "messages": [
            {
                "created_at": _when(m.created_at),
                "kind": m.kind,
                "channel": m.channel.value,
                "recipient": m.recipient,
                "subject": m.subject,
                "text": m.body_text,
                "status": m.status.value,
                "sent_at": _when(m.sent_at),
            }
            for m in records.messages
        ],
        "accessibility_feedback": [
            {
                "received_at": _when(f.created_at),
                "name": f.name,
                "contact": f.contact,
                "page": f.page,
                "message": f.message,
                "state": f.state.value,
            }
            for f in records.feedback
        ],
        "waitlist_entries": [
            {
                "reference": w.reference,
                "office": w.office.name,
                "service": w.service.name,
                "status": w.status.value,
                "channel": w.channel.value,
                "name": w.family_name,
                "email": w.email,
                "phone": w.phone,
                "language": w.language,
                "interpreter_needed": w.interpreter_needed,
                "weekdays": [day for day in range(7) if w.weekdays & (1 << day)],
                "day_parts": w.day_parts,
                "joined_at": _when(w.joined_at),
                "first_offer_at": _when(w.first_offer_at),
                "ended_at": _when(w.ended_at),
                "offers": [
                    {
                        "start": _when(o.starts_at),
                        "offered_at": _when(o.offered_at),
                        "hold_until": _when(o.hold_until),
                        "state": o.state.value,
                    }
                    for o in w.offers
                ],
            }
            for w in records.waitlist_entries
        ],
    }


def erase_records(
    records: SubjectRecords, subject: Subject, actor: StaffUser, reason: str, now: datetime
) -> dict[str, int]:
    """Art. 17: blank the person's data as the retention purge does (the non-personal facts
    stay for the statistics) and delete every message to them, pending ones included."""
    appointment_ids = [a.id for a in records.appointments]
    callback_ids = [c.id for c in records.callbacks]
    queue_ids = [q.id for q in records.queue_entries]
    message_ids = [m.id for m in records.messages]
    if appointment_ids:
        # Messages about these appointments go too, whatever address they were sent to.
        message_ids += db.session.scalars(
            select(OutboxMessage.id).where(OutboxMessage.appointment_id.in_(appointment_ids))
        ).all()
    feedback_ids = [f.id for f in records.feedback]
    waitlist_ids = [w.id for w in records.waitlist_entries]
    audit_detail = f"subject {subject.fingerprint}; {records.ids()}"
    if appointment_ids:
        db.session.execute(
            update(Appointment)
            .where(Appointment.id.in_(appointment_ids))
            .values(
                family_name=ERASED_NAME,
                email=None,
                phone=None,
                email_key=None,
                phone_key=None,
                family_note="",
                internal_note="",
                cancel_reason=None,
                manage_token_hash=None,
                idempotency_key=None,
                purged_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            delete(RetiredToken).where(RetiredToken.appointment_id.in_(appointment_ids))
        )
    if callback_ids:
        db.session.execute(
            update(CallbackRequest)
            .where(CallbackRequest.id.in_(callback_ids))
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
            .execution_options(synchronize_session=False)
        )
        db.session.execute(
            update(CallAttempt)
            .where(CallAttempt.request_id.in_(callback_ids))
            .values(note="")
            .execution_options(synchronize_session=False)
        )
    if queue_ids:
        db.session.execute(
            update(QueueEntry)
            .where(QueueEntry.id.in_(queue_ids))
            .values(name="", note="", purged_at=now, version=QueueEntry.version + 1)
            .execution_options(synchronize_session=False)
        )
    deleted_messages = 0
    if message_ids:
        deleted_messages = db.session.execute(
            delete(OutboxMessage)
            .where(OutboxMessage.id.in_(set(message_ids)))
            .execution_options(synchronize_session=False)
        ).rowcount
    if feedback_ids:
        db.session.execute(
            update(AccessibilityFeedback)
            .where(AccessibilityFeedback.id.in_(feedback_ids))
            .values(message=ERASED_MESSAGE, name=None, contact=None, page=None, purged_at=now)
            .execution_options(synchronize_session=False)
        )
    if waitlist_ids:
        # A place still waiting ends (its held time goes to the next family), then is blanked.
        for entry in records.waitlist_entries:
            if entry.status == EntryStatus.WAITING:
                end_entry(entry, EntryStatus.LEFT, now)
        db.session.flush()
        blank_entries(WaitlistEntry.id.in_(waitlist_ids), now)
    counts = {
        "appointments": len(appointment_ids),
        "callbacks": len(callback_ids),
        "queue_entries": len(queue_ids),
        "messages": deleted_messages,
        "feedback": len(feedback_ids),
        "waitlist_entries": len(waitlist_ids),
    }
    record_event(
        "privacy.subject_erased",
        actor=actor,
        detail=f"reason {reason}; {audit_detail}"[:500],
    )
    db.session.flush()
    db.session.expire_all()
    return counts
