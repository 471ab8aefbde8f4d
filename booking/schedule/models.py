from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.auth.models import StaffUser
from booking.extensions import db
from booking.offices.models import Office

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class WeeklyHours(db.Model):
    """One bookable range of a caseworker at an office on a weekday (Europe/Berlin wall clock)."""

    __tablename__ = "weekly_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("start_time < end_time", name="start_before_end"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until",
            name="valid_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]  # 0 = Monday, as date.weekday()
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]

    staff: Mapped[StaffUser] = relationship()
    office: Mapped[Office] = relationship()

    @property
    def weekday_key(self) -> str:
        return WEEKDAYS[self.weekday]


consultation_hours_staff = sa.Table(
    "consultation_hours_staff",
    db.metadata,
    sa.Column(
        "consultation_hours_id",
        sa.ForeignKey("consultation_hours.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("staff_id", sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True),
)


class ConsultationHours(db.Model):
    """Recurring open consultation hours ("offene Sprechstunde"): families come without booking."""

    __tablename__ = "consultation_hours"
    __table_args__ = (
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
        sa.CheckConstraint("start_time < end_time", name="start_before_end"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until",
            name="valid_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    weekday: Mapped[int]
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]

    office: Mapped[Office] = relationship()
    staff: Mapped[list[StaffUser]] = relationship(
        secondary=consultation_hours_staff, order_by=StaffUser.name
    )

    @property
    def weekday_key(self) -> str:
        return WEEKDAYS[self.weekday]
