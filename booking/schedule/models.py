from datetime import date, time

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from booking.auth.models import StaffUser
from booking.extensions import db
from booking.offices.models import Office

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
RECURRENCE_FIELDS = ("weekday", "start_time", "end_time", "valid_from", "valid_until")


class WeeklyRecurrence:
    """A time range on one weekday, Europe/Berlin wall clock, optionally limited to dates."""

    weekday: Mapped[int]  # 0 = Monday, as date.weekday()
    start_time: Mapped[time]
    end_time: Mapped[time]
    valid_from: Mapped[date | None]
    valid_until: Mapped[date | None]

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (
            sa.CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday_range"),
            sa.CheckConstraint("start_time < end_time", name="start_before_end"),
            sa.CheckConstraint(
                "valid_from IS NULL OR valid_until IS NULL OR valid_from <= valid_until",
                name="valid_range",
            ),
        )

    @property
    def weekday_key(self) -> str:
        return WEEKDAYS[self.weekday]

    @property
    def recurrence_key(self) -> tuple:
        return tuple(getattr(self, name) for name in RECURRENCE_FIELDS)

    def applies_on(self, day: date) -> bool:
        return (
            day.weekday() == self.weekday
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_until is None or day <= self.valid_until)
        )


class WeeklyHours(WeeklyRecurrence, db.Model):
    """One bookable range of a caseworker at an office on a weekday (Europe/Berlin wall clock)."""

    __tablename__ = "weekly_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    staff: Mapped[StaffUser] = relationship()
    office: Mapped[Office] = relationship()


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


class ConsultationHours(WeeklyRecurrence, db.Model):
    """Recurring open consultation hours ("offene Sprechstunde"): families come without booking."""

    __tablename__ = "consultation_hours"

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    office: Mapped[Office] = relationship()
    staff: Mapped[list[StaffUser]] = relationship(
        secondary=consultation_hours_staff, order_by=StaffUser.name
    )
