import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.appointments.models import Channel, new_reference
from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office, Service

MORNING, AFTERNOON = 1, 2  # day_parts bits: a time before 12:00, or from 12:00
ALL_WEEKDAYS = 0b0011111  # Monday to Friday (bit 0 = Monday)


class EntryStatus(enum.StrEnum):
    WAITING = "waiting"
    BOOKED = "booked"  # took an offer
    LEFT = "left"  # left the list (their link, or staff)
    EXPIRED = "expired"  # nothing came within the entry's time


class OfferState(enum.StrEnum):
    OFFERED = "offered"  # the time is held for the entry until hold_until
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"  # the entry ended while the offer was open


def is_open_offer(state: sa.ColumnElement) -> sa.ColumnElement[bool]:
    """`state = 'offered'` written out, as in the partial indexes below: a bound parameter
    keeps the planners from using them (as appointments.models.holds_time)."""
    return state == sa.literal_column(f"'{OfferState.OFFERED.value}'")


class WaitlistEntry(db.Model):
    """A family waiting for a time of one service that suits them."""

    __tablename__ = "waitlist_entry"
    __table_args__ = (
        sa.CheckConstraint("weekdays BETWEEN 1 AND 127", name="weekdays_range"),
        sa.CheckConstraint("day_parts BETWEEN 1 AND 3", name="day_parts_range"),
        sa.Index("ix_waitlist_entry_service_status", "service_id", "status", "joined_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(sa.String(16), unique=True, default=new_reference)
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"))
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    family_name: Mapped[str] = mapped_column(sa.String(120))
    email: Mapped[str | None] = mapped_column(sa.String(254))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    language: Mapped[str] = mapped_column(sa.String(8), default="de")
    interpreter_needed: Mapped[bool] = mapped_column(default=False)
    weekdays: Mapped[int] = mapped_column(default=ALL_WEEKDAYS)  # bit 0 = Monday
    day_parts: Mapped[int] = mapped_column(default=MORNING | AFTERNOON)
    channel: Mapped[Channel] = mapped_column(
        enum_type(Channel, "waitlist_channel"), default=Channel.ONLINE
    )
    callback_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("callback_request.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    status: Mapped[EntryStatus] = mapped_column(
        enum_type(EntryStatus, "waitlist_status"), default=EntryStatus.WAITING
    )
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    first_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # sha256 of the secret in the family's leave link; the secret itself is never stored.
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL")
    )
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    office: Mapped[Office] = relationship()
    offers: Mapped[list["WaitlistOffer"]] = relationship(
        back_populates="entry", order_by="WaitlistOffer.offered_at", cascade="all, delete-orphan"
    )


class WaitlistOffer(db.Model):
    """A freed time offered to one entry and held for it: busy time for everyone else."""

    __tablename__ = "waitlist_offer"
    __table_args__ = (
        sa.CheckConstraint("starts_at < busy_until", name="start_before_end"),
        sa.Index("ix_waitlist_offer_staff_time", "staff_id", "starts_at"),
        # One open offer per caseworker and start, and per entry, on every engine.
        sa.Index(
            "uq_waitlist_offer_staff_start_open",
            "staff_id",
            "starts_at",
            unique=True,
            sqlite_where=sa.text("state = 'offered'"),
            postgresql_where=sa.text("state = 'offered'"),
        ),
        sa.Index(
            "uq_waitlist_offer_entry_open",
            "entry_id",
            unique=True,
            sqlite_where=sa.text("state = 'offered'"),
            postgresql_where=sa.text("state = 'offered'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        sa.ForeignKey("waitlist_entry.id", ondelete="CASCADE"), index=True
    )
    service_id: Mapped[int] = mapped_column(sa.ForeignKey("service.id"))
    staff_id: Mapped[int] = mapped_column(sa.ForeignKey("staff_user.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    busy_until: Mapped[datetime] = mapped_column(UTCDateTime)
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    hold_until: Mapped[datetime] = mapped_column(UTCDateTime)
    state: Mapped[OfferState] = mapped_column(
        enum_type(OfferState, "waitlist_offer_state"), default=OfferState.OFFERED
    )
    token_hash: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL")
    )

    entry: Mapped[WaitlistEntry] = relationship(back_populates="offers")
    service: Mapped[Service] = relationship()
