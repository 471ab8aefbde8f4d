import enum
from datetime import date, datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from booking.auth.models import StaffUser
from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.engine import BERLIN, recurs_on

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
        return recurs_on(self.weekday, self.valid_from, self.valid_until, day)


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


class AbsenceKind(enum.StrEnum):
    VACATION = "vacation"
    ILLNESS = "illness"
    TRAINING = "training"
    BLOCKED = "blocked"  # internal meeting or other blocked time


class Absence(db.Model):
    """Time a caseworker is away or blocked, as UTC instants."""

    __tablename__ = "absence"
    __table_args__ = (sa.CheckConstraint("starts_at < ends_at", name="start_before_end"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[AbsenceKind] = mapped_column(enum_type(AbsenceKind, "absence_kind"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    all_day: Mapped[bool] = mapped_column(default=True)
    # Internal and short; never health details (illness is recorded as a kind only).
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    staff: Mapped[StaffUser] = relationship(foreign_keys=[staff_id])

    @property
    def last_local_day(self) -> date:
        """The last day it touches, in Europe/Berlin (ends_at is exclusive)."""
        return (self.ends_at - timedelta(seconds=1)).astimezone(BERLIN).date()


class Closure(db.Model):
    """Days an office (or every office, office_id NULL) is closed."""

    __tablename__ = "closure"
    __table_args__ = (sa.CheckConstraint("first_day <= last_day", name="day_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), index=True
    )
    first_day: Mapped[date] = mapped_column(index=True)
    last_day: Mapped[date] = mapped_column(index=True)
    reason: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    office: Mapped[Office | None] = relationship()


class ScheduleVersion(db.Model):
    """One row whose number rises with every change to hours, absences, closures, staff,
    offices or services: cached slot inputs of an older number are not used."""

    __tablename__ = "schedule_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(sa.BigInteger, default=0)
