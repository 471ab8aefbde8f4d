from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import StaffUser
from booking.db import UTCDateTime, utcnow
from booking.extensions import db


class AuditEvent(db.Model):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(sa.String(64))
    object_type: Mapped[str | None] = mapped_column(sa.String(32))
    object_id: Mapped[str | None] = mapped_column(sa.String(64))
    detail: Mapped[str] = mapped_column(sa.String(500), default="")

    actor: Mapped[StaffUser | None] = relationship()


class AuditPurgeMarker(db.Model):
    """SQLite only: a row here, inside the purge's transaction, lets its trigger allow DELETE.

    The purge adds the row, deletes old entries and removes the row before it commits, so no
    other transaction ever sees it (PostgreSQL uses `SET LOCAL sprechstunde.purge` instead).
    """

    __tablename__ = "audit_purge_marker"

    id: Mapped[int] = mapped_column(primary_key=True)
