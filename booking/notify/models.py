import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db

# Stands for the manage link in a stored message; the sender puts the real link in its place.
MANAGE_LINK_PLACEHOLDER = "[manage-link]"
MANAGE_TOKEN_PURPOSE = "outbox-manage-token"  # noqa: S105 (an HKDF label, no secret)


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(db.Model):
    """One message, rendered when the change that causes it is committed."""

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[OutboxChannel] = mapped_column(enum_type(OutboxChannel, "outbox_channel"))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(200), default="")
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[str | None] = mapped_column(sa.Text)
    ics: Mapped[str | None] = mapped_column(sa.Text)
    ics_method: Mapped[str | None] = mapped_column(sa.String(10))
    # The family's manage token, encrypted (booking.core.sealed), until the message is sent:
    # the bodies hold MANAGE_LINK_PLACEHOLDER and the link is put in only when sending.
    sealed_manage_token: Mapped[str | None] = mapped_column(sa.String(255))
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    # Makes "queue this once" safe to run twice (reminders, daily agendas).
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transport: Mapped[str | None] = mapped_column(sa.String(20))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
