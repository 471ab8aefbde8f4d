import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db

MAX_MESSAGE = 2000
MAX_NAME = 120
MAX_CONTACT = 254
MAX_PAGE = 300


class FeedbackState(enum.StrEnum):
    NEW = "new"
    ANSWERED = "answered"


class AccessibilityFeedback(db.Model):
    """A barrier someone reported on the accessibility statement's form (BITV 2.0 feedback)."""

    __tablename__ = "accessibility_feedback"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    message: Mapped[str] = mapped_column(sa.Text)
    name: Mapped[str | None] = mapped_column(sa.String(MAX_NAME))
    contact: Mapped[str | None] = mapped_column(sa.String(MAX_CONTACT))  # email or phone
    page: Mapped[str | None] = mapped_column(sa.String(MAX_PAGE))
    language: Mapped[str] = mapped_column(sa.String(10), default="de")  # of the page they used
    state: Mapped[FeedbackState] = mapped_column(
        enum_type(FeedbackState, "feedback_state"), default=FeedbackState.NEW
    )
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    answered_by = relationship("StaffUser")
