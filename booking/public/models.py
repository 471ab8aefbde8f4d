"""Manage links that no longer open the appointment, so that an old link can say why."""

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import UTCDateTime, enum_type
from booking.extensions import db


class RetiredReason(enum.StrEnum):
    MOVED = "moved"


class RetiredToken(db.Model):
    """The hash of a manage link replaced by a new one (the secret itself is never stored)."""

    __tablename__ = "retired_token"

    token_hash: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    appointment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[RetiredReason] = mapped_column(enum_type(RetiredReason, "retired_reason"))
    retired_at: Mapped[datetime] = mapped_column(UTCDateTime)


def retire_token(appointment, now: datetime, reason: RetiredReason = RetiredReason.MOVED) -> None:
    """Remember the appointment's current link hash before a new link replaces it."""
    if appointment.manage_token_hash is None:
        return
    db.session.add(
        RetiredToken(
            token_hash=appointment.manage_token_hash,
            appointment_id=appointment.id,
            reason=reason,
            retired_at=now,
        )
    )
    db.session.flush()  # outside the caller's savepoints: a retried slot keeps this row
