"""Queue entries of an office's day, their numbering counter and each staff member's place."""

import enum
from datetime import date, datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.appointments.models import Appointment
from booking.auth.models import StaffUser
from booking.core.exceptions import BookingError
from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.models import Office

# Waiting numbers start with a letter per office, derived from its id (stable while the office
# exists): no I and O, which read like 1 and 0 on a screen across the room.
QUEUE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"
MAX_NAME = 40
MAX_NOTE = 200
MAX_PLACE = 60


def office_letter(office_id: int) -> str:
    return QUEUE_LETTERS[(office_id - 1) % len(QUEUE_LETTERS)]


def waiting_number(office_id: int, number: int) -> str:
    """What is called out and shown: "A-017"."""
    return f"{office_letter(office_id)}-{number:03d}"


class QueueError(BookingError):
    """A refused check-in or transition, with a message staff can read."""


def checked_place(place: str | None) -> str:
    """Where the called person should go ("Raum 2.14"): required, short."""
    place = " ".join((place or "").split())
    if not place:
        raise QueueError(_l("Please say where the person should go."), field="place")
    if len(place) > MAX_PLACE:
        raise QueueError(_l("At most %(max)d characters, please.", max=MAX_PLACE), field="place")
    return place


class QueueState(enum.StrEnum):
    WAITING = "waiting"
    CALLED = "called"
    SERVED = "served"
    LEFT = "left"


class QueueKind(enum.StrEnum):
    WALK_IN = "walk_in"
    APPOINTMENT = "appointment"


FINISHED_STATES = (QueueState.SERVED, QueueState.LEFT)


class QueueEntry(db.Model):
    """One person (or family) in an office's queue on one Berlin day."""

    __tablename__ = "queue_entry"
    __table_args__ = (
        # The waiting number is unique per office and day, whatever the application does.
        sa.UniqueConstraint("office_id", "day", "number", name="uq_queue_entry_office_day_number"),
        sa.Index("ix_queue_entry_office_day_state", "office_id", "day", "state"),
        sa.CheckConstraint("number > 0", name="number_positive"),
        sa.CheckConstraint(
            "(state IN ('served', 'left')) = (finished_at IS NOT NULL)", name="finished_when_done"
        ),
        sa.CheckConstraint(
            "state NOT IN ('called', 'served') OR called_at IS NOT NULL", name="called_at_set"
        ),
        sa.CheckConstraint(
            "(kind = 'appointment') OR appointment_id IS NULL", name="appointment_only_for_kind"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id", ondelete="CASCADE"))
    day: Mapped[date]  # the Berlin day of the check-in
    number: Mapped[int]
    kind: Mapped[QueueKind] = mapped_column(enum_type(QueueKind, "queue_kind"))
    state: Mapped[QueueState] = mapped_column(
        enum_type(QueueState, "queue_state"), default=QueueState.WAITING
    )
    # Minimal data: a first name or initials, optional; the number is what is shown.
    name: Mapped[str] = mapped_column(sa.String(MAX_NAME), default="")
    note: Mapped[str] = mapped_column(sa.String(MAX_NOTE), default="")
    # An appointment is checked in once (NULLs do not collide on either engine).
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), unique=True
    )
    checked_in_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    called_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    place: Mapped[str] = mapped_column(sa.String(MAX_PLACE), default="")  # "Raum 2.14"
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    # Set when the name, note and links were erased at the end of the day.
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Every transition is an UPDATE … WHERE version = <read>: of two staff acting on the same
    # entry at once, the second changes no row and is refused (StaleDataError).
    version: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))

    __mapper_args__ = {"version_id_col": version}

    office: Mapped[Office] = relationship()
    appointment: Mapped[Appointment | None] = relationship()
    checked_in_by: Mapped[StaffUser | None] = relationship(foreign_keys=[checked_in_by_id])
    called_by: Mapped[StaffUser | None] = relationship(foreign_keys=[called_by_id])
    finished_by: Mapped[StaffUser | None] = relationship(foreign_keys=[finished_by_id])

    @property
    def display_number(self) -> str:
        return waiting_number(self.office_id, self.number)

    def waited(self, now: datetime):
        """Time from check-in until called (or until now while waiting)."""
        end = self.called_at or (self.finished_at if self.state == QueueState.LEFT else None)
        return (end or now) - self.checked_in_at

    # Transitions: waiting → called → served; waiting or called → left. Each refuses what the
    # state does not allow with a message staff can read.

    def call(self, staff: StaffUser, place: str, now: datetime) -> None:
        if self.state != QueueState.WAITING:
            raise QueueError(_l("%(number)s is not waiting any more.", number=self.display_number))
        place = checked_place(place)
        self.state = QueueState.CALLED
        self.called_at = now
        self.called_by_id = staff.id
        self.place = place

    def serve(self, staff: StaffUser, now: datetime) -> None:
        if self.state != QueueState.CALLED:
            raise QueueError(
                _l(
                    "Only a called person can be marked as served (%(number)s).",
                    number=self.display_number,
                )
            )
        self.state = QueueState.SERVED
        self.finished_at = now
        self.finished_by_id = staff.id

    def leave(self, staff: StaffUser | None, now: datetime) -> None:
        if self.state in FINISHED_STATES:
            raise QueueError(
                _l("%(number)s is no longer in the queue.", number=self.display_number)
            )
        self.state = QueueState.LEFT
        self.finished_at = now
        self.finished_by_id = staff.id if staff is not None else None


class QueueCounter(db.Model):
    """The last waiting number given out per office and Berlin day (an atomic upsert)."""

    __tablename__ = "queue_counter"

    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    last_number: Mapped[int]


class QueueDesk(db.Model):
    """Where a staff member calls people to at an office ("Raum 2.14"), kept for next time."""

    __tablename__ = "queue_desk"

    staff_id: Mapped[int] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="CASCADE"), primary_key=True
    )
    office_id: Mapped[int] = mapped_column(
        sa.ForeignKey("office.id", ondelete="CASCADE"), primary_key=True
    )
    place: Mapped[str] = mapped_column(sa.String(MAX_PLACE))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
