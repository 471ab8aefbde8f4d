"""Callback requests, their call attempts, edit log and the API keys of telephone systems."""

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.appointments.models import Appointment, new_reference
from booking.auth.models import Role, StaffUser
from booking.callbacks.due import BERLIN
from booking.core.exceptions import BookingError
from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office, Service


class CallbackError(BookingError):
    """A refused change of a callback request (an illegal transition, a bad value)."""


class CallbackStatus(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class CallbackOutcome(enum.StrEnum):
    RESOLVED = "resolved"
    APPOINTMENT_BOOKED = "appointment_booked"
    UNREACHABLE = "unreachable"
    WITHDRAWN = "withdrawn"


class AttemptOutcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"


class CallbackSource(enum.StrEnum):
    RECEPTION = "reception"
    ONLINE = "online"
    API = "api"


OPEN_STATES = (CallbackStatus.NEW, CallbackStatus.ASSIGNED)
FAILED_ATTEMPTS = (AttemptOutcome.NO_ANSWER, AttemptOutcome.VOICEMAIL, AttemptOutcome.WRONG_NUMBER)
# "Unreachable" needs failed attempts on at least this many different Berlin days.
UNREACHABLE_MIN_DAYS = 2

# When a caller can be reached: weekday × half day, stored as codes like "mon-am".
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri")
HALF_DAYS = ("am", "pm")
REACHABLE_CODES = tuple(f"{day}-{half}" for day in WEEKDAY_CODES for half in HALF_DAYS)


class CallbackRequest(db.Model):
    __tablename__ = "callback_request"
    __table_args__ = (
        sa.Index("ix_callback_request_queue", "office_id", "status", "due_at"),
        sa.CheckConstraint(
            "(status = 'closed') = (outcome IS NOT NULL)", name="outcome_when_closed"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_reference)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    # The topic: one of the office's services, or None for "other".
    service_id: Mapped[int | None] = mapped_column(sa.ForeignKey("service.id", ondelete="SET NULL"))
    source: Mapped[CallbackSource] = mapped_column(
        enum_type(CallbackSource, "callback_source"), default=CallbackSource.RECEPTION
    )
    status: Mapped[CallbackStatus] = mapped_column(
        enum_type(CallbackStatus, "callback_status"), default=CallbackStatus.NEW
    )
    outcome: Mapped[CallbackOutcome | None] = mapped_column(
        enum_type(CallbackOutcome, "callback_outcome")
    )
    urgent: Mapped[bool] = mapped_column(default=False)
    caller_name: Mapped[str] = mapped_column(sa.String(120))
    # E.164 ("+4921112345"); None once erased by the privacy purge.
    phone: Mapped[str | None] = mapped_column(sa.String(20), index=True)
    email: Mapped[str | None] = mapped_column(sa.String(254))
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    reachable: Mapped[str] = mapped_column(sa.String(60), default="")  # codes, comma-separated
    reachable_note: Mapped[str] = mapped_column(sa.String(200), default="")
    voicemail_ok: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    # Staff notes, stamped; also where "add to it" puts a repeated call.
    internal_note: Mapped[str] = mapped_column(sa.Text, default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    closed_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    api_key_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("callback_api_key.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when the caller's personal data was erased after the retention period.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()
    service: Mapped[Service | None] = relationship()
    assigned_to: Mapped[StaffUser | None] = relationship(foreign_keys=[assigned_to_id])
    closed_by: Mapped[StaffUser | None] = relationship(foreign_keys=[closed_by_id])
    appointment: Mapped[Appointment | None] = relationship()
    attempts: Mapped[list["CallAttempt"]] = relationship(
        back_populates="request", order_by="CallAttempt.at", cascade="all, delete-orphan"
    )
    events: Mapped[list["CallbackEvent"]] = relationship(
        back_populates="request", order_by="CallbackEvent.at", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    def is_overdue(self, now: datetime) -> bool:
        return self.is_open and self.due_at < now

    @property
    def reachable_codes(self) -> list[str]:
        return [code for code in (self.reachable or "").split(",") if code in REACHABLE_CODES]

    def failed_attempt_days(self) -> set:
        """The Berlin days with a failed attempt."""
        return {
            attempt.at.astimezone(BERLIN).date()
            for attempt in self.attempts
            if attempt.outcome in FAILED_ATTEMPTS
        }

    def failed_attempts(self) -> int:
        return sum(1 for attempt in self.attempts if attempt.outcome in FAILED_ATTEMPTS)

    def may_be_unreachable(self) -> bool:
        return (
            self.failed_attempts() >= self.office.callback_max_attempts
            and len(self.failed_attempt_days()) >= UNREACHABLE_MIN_DAYS
        )

    # Transitions: new → assigned (assign, claim) → closed (close). Each refuses what
    # the state does not allow with a message staff can read.

    def _require_open(self) -> None:
        if not self.is_open:
            raise CallbackError(_l("This callback request is closed."))

    def assign(self, staff: StaffUser, now: datetime) -> None:
        """Reception (or an admin) gives the request to a caseworker of the office."""
        self._require_open()
        if staff.role != Role.CASEWORKER or not staff.active:
            raise CallbackError(_l("Please choose an active caseworker."), field="staff")
        if not any(office.id == self.office_id for office in staff.offices):
            raise CallbackError(_l("This caseworker does not work at this office."), field="staff")
        if self.status == CallbackStatus.ASSIGNED and self.assigned_to_id == staff.id:
            raise CallbackError(_l("The request is already assigned to %(name)s.", name=staff.name))
        self.status = CallbackStatus.ASSIGNED
        self.assigned_to = staff
        self.assigned_to_id = staff.id
        self.assigned_at = now

    def claim(self, staff: StaffUser, now: datetime) -> None:
        """A caseworker takes a new request; one assigned to someone else stays theirs."""
        self._require_open()
        if self.status == CallbackStatus.ASSIGNED:
            if self.assigned_to_id == staff.id:
                raise CallbackError(_l("This request is already yours."))
            raise CallbackError(
                _l("This request is already assigned. Reception can assign it to you.")
            )
        self.assign(staff, now)

    def close(
        self,
        outcome: CallbackOutcome,
        actor: StaffUser | None,
        now: datetime,
        appointment: Appointment | None = None,
    ) -> None:
        self._require_open()
        outcome = CallbackOutcome(outcome)
        if outcome != CallbackOutcome.WITHDRAWN and self.status != CallbackStatus.ASSIGNED:
            raise CallbackError(
                _l("Assign the request first; only a withdrawn request closes unassigned."),
                field="outcome",
            )
        if outcome == CallbackOutcome.UNREACHABLE and not self.may_be_unreachable():
            raise CallbackError(
                _l(
                    "Unreachable needs %(count)d failed attempts on at least two different days.",
                    count=self.office.callback_max_attempts,
                ),
                field="outcome",
            )
        if outcome == CallbackOutcome.APPOINTMENT_BOOKED:
            if appointment is None:
                raise CallbackError(
                    _l("Please give the reference of the booked appointment."),
                    field="appointment_reference",
                )
            if appointment.office_id != self.office_id:
                raise CallbackError(
                    _l("That appointment belongs to another office."),
                    field="appointment_reference",
                )
            self.appointment = appointment
        self.status = CallbackStatus.CLOSED
        self.outcome = outcome
        self.closed_at = now
        self.closed_by = actor


class CallAttempt(db.Model):
    """One try to call the caller back."""

    __tablename__ = "call_attempt"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("callback_request.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    outcome: Mapped[AttemptOutcome] = mapped_column(enum_type(AttemptOutcome, "attempt_outcome"))
    note: Mapped[str] = mapped_column(sa.String(500), default="")

    request: Mapped[CallbackRequest] = relationship(back_populates="attempts")
    staff: Mapped[StaffUser | None] = relationship()


class CallbackEvent(db.Model):
    """Edit log of a callback request: who changed what, when (never the caller's data)."""

    __tablename__ = "callback_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(
        sa.ForeignKey("callback_request.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")

    request: Mapped[CallbackRequest] = relationship(back_populates="events")
    actor: Mapped[StaffUser | None] = relationship()


class CallbackApiKey(db.Model):
    """A telephone system's key for POST /api/v1/callbacks; only its SHA-256 is stored."""

    __tablename__ = "callback_api_key"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(sa.String(100))
    # The first characters of the key, so admins can tell keys apart.
    prefix: Mapped[str] = mapped_column(sa.String(12))
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    office: Mapped[Office] = relationship()
    created_by: Mapped[StaffUser | None] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None
