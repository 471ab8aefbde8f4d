import enum
import secrets
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import StaffUser
from booking.core.exceptions import BookingError
from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office, Service

# No 0/O, 1/I/L: references are read out on the phone.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_reference() -> str:
    return "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))


class AppointmentError(BookingError):
    pass


class AppointmentStatus(enum.StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    ATTENDED = "attended"
    NO_SHOW = "no_show"


class Channel(enum.StrEnum):
    ONLINE = "online"
    PHONE = "phone"
    DESK = "desk"


# Appointments in these states hold their time; a cancelled one frees it.
HOLDING_STATES = (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW)


def holds_time(status: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """`status IN ('booked', 'attended', 'no_show')` with the states written out, as in the
    partial index below: bound parameters (`IN (?, ?, ?)`) keep the planners from using it."""
    return status.in_([sa.literal_column(f"'{state.value}'") for state in HOLDING_STATES])


# The longest an appointment can hold a caseworker (480 minutes plus a 240-minute buffer, the
# limits of the setup file and the admin form): lets time-window queries bound `starts_at` from
# below too, so years of history are not read to find one week's appointments.
MAX_BUSY_SPAN = timedelta(hours=12)


class Appointment(db.Model):
    __tablename__ = "appointment"
    __table_args__ = (
        sa.CheckConstraint("starts_at < ends_at", name="start_before_end"),
        sa.CheckConstraint("ends_at <= busy_until", name="buffer_after_end"),
        sa.Index("ix_appointment_staff_time", "staff_id", "starts_at"),
        # Partial: erased appointments (NULL keys) are most rows; counted in, they make the
        # planners read a service's whole history for the per-contact limit (migration 0013).
        *(
            sa.Index(
                f"ix_appointment_{key}",
                key,
                sqlite_where=sa.text(f"{key} IS NOT NULL"),
                postgresql_where=sa.text(f"{key} IS NOT NULL"),
            )
            for key in ("email_key", "phone_key")
        ),
        # One holding appointment per caseworker and start, on every engine. Overlaps of
        # any length are refused by the database too: an exclusion constraint on
        # PostgreSQL and triggers on SQLite (migration 0003).
        sa.Index(
            "uq_appointment_staff_start_holding",
            "staff_id",
            "starts_at",
            unique=True,
            sqlite_where=sa.text("status IN ('booked', 'attended', 'no_show')"),
            postgresql_where=sa.text("status IN ('booked', 'attended', 'no_show')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_reference)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"), index=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # End plus the service's buffer: the caseworker's time this appointment holds.
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[AppointmentStatus] = mapped_column(
        enum_type(AppointmentStatus, "appointment_status"),
        default=AppointmentStatus.BOOKED,
    )
    channel: Mapped[Channel] = mapped_column(
        enum_type(Channel, "appointment_channel"),
        default=Channel.ONLINE,
    )
    family_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    # The contact as compared for the open-bookings limit: the email in lower case without a
    # "+tag", the phone in E.164. Erased with the contact details.
    email_key: Mapped[str | None] = mapped_column(sa.String(254))
    phone_key: Mapped[str | None] = mapped_column(sa.String(16))
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    family_note: Mapped[str] = mapped_column(sa.String(500), default="")
    internal_note: Mapped[str] = mapped_column(sa.Text, default="")
    cancel_reason: Mapped[str | None] = mapped_column(sa.String(300))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Who cancelled (the family or staff): a non-personal fact the statistics keep after purges.
    cancelled_by_family: Mapped[bool | None]
    sequence: Mapped[int] = mapped_column(default=0)  # rises with every change (iCalendar)
    # sha256 of the family's manage-link secret; the secret itself is never stored.
    manage_token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    # From the booking form: a double-clicked submit finds the first booking again.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    # Set when the family's personal data was erased after the retention period.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    office: Mapped[Office] = relationship()
    staff: Mapped[StaffUser] = relationship(foreign_keys=[staff_id])
    events: Mapped[list["AppointmentEvent"]] = relationship(
        back_populates="appointment",
        order_by="AppointmentEvent.at",
        cascade="all, delete-orphan",
    )

    def _require(self, allowed: tuple[AppointmentStatus, ...], message) -> None:
        if self.status not in allowed:
            raise AppointmentError(message)

    def mark_attended(self, now: datetime) -> None:
        self._require(
            (AppointmentStatus.BOOKED, AppointmentStatus.NO_SHOW),
            _l("Only a booked appointment can be marked as attended."),
        )
        if now < self.starts_at:
            raise AppointmentError(_l("The appointment has not started yet."))
        self.status = AppointmentStatus.ATTENDED

    def mark_no_show(self, now: datetime) -> None:
        self._require(
            (AppointmentStatus.BOOKED, AppointmentStatus.ATTENDED),
            _l("Only a booked appointment can be marked as a no-show."),
        )
        if now < self.starts_at:
            raise AppointmentError(_l("The appointment has not started yet."))
        self.status = AppointmentStatus.NO_SHOW

    def cancel(self, reason: str, now: datetime, by_family: bool = False) -> None:
        self._require(
            (AppointmentStatus.BOOKED,), _l("Only a booked appointment can be cancelled.")
        )
        self.status = AppointmentStatus.CANCELLED
        self.cancel_reason = reason
        self.cancelled_at = now
        self.cancelled_by_family = by_family
        self.sequence += 1


class AppointmentEvent(db.Model):
    """Edit log of an appointment: who changed what, when."""

    __tablename__ = "appointment_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(40))
    detail: Mapped[str] = mapped_column(sa.String(300), default="")

    appointment: Mapped[Appointment] = relationship(back_populates="events")
    actor: Mapped[StaffUser | None] = relationship()
