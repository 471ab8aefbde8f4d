"""Window queries bound `starts_at` on both sides: nothing that overlaps the window is missed."""

from datetime import UTC, datetime, timedelta

from wtforms.validators import NumberRange

from booking.admin.forms import ServiceForm
from booking.appointments.models import MAX_BUSY_SPAN, Appointment, AppointmentStatus
from booking.extensions import db
from booking.schedule.services import busy_times


def limit(field) -> int:
    return next(v.max for v in field.kwargs["validators"] if isinstance(v, NumberRange))


def test_the_longest_service_fits_the_bound():
    longest = limit(ServiceForm.minutes) + limit(ServiceForm.buffer_minutes)
    assert timedelta(minutes=longest) <= MAX_BUSY_SPAN


def test_a_longest_appointment_begun_long_before_the_window_is_busy(app, bookable_service):
    from booking.auth.models import StaffUser

    staff = db.session.query(StaffUser).one()
    start = datetime(2027, 3, 4, 7, tzinfo=UTC)
    db.session.add(
        Appointment(
            service_id=bookable_service.id,
            office_id=bookable_service.office_id,
            staff_id=staff.id,
            starts_at=start,
            ends_at=start + timedelta(hours=8),
            busy_until=start + MAX_BUSY_SPAN,
            status=AppointmentStatus.BOOKED,
            family_name="Familie Long",
        )
    )
    db.session.commit()
    late = start + MAX_BUSY_SPAN - timedelta(minutes=1)
    busy = busy_times([staff.id], late, late + timedelta(hours=1))
    assert [(b.start, b.end) for b in busy] == [(start, start + MAX_BUSY_SPAN)]
    assert busy_times([staff.id], start + MAX_BUSY_SPAN, start + MAX_BUSY_SPAN * 2) == []
