"""The .ics file a family adds to their own calendar."""

from datetime import UTC, datetime
from email.utils import parseaddr

from flask_babel import gettext as _
from icalendar import Calendar, Event

from booking.appointments.models import Appointment, AppointmentStatus


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@sprechstunde"


def appointment_ics(
    appointment: Appointment,
    now: datetime,
    method: str = "PUBLISH",
    organizer: str | None = None,
) -> bytes:
    """One event; REQUEST for new or moved, CANCEL for cancelled (same UID, rising SEQUENCE).

    Its text is in the locale being spoken: the page's, or the family's under force_locale."""
    calendar = Calendar()
    calendar.add("prodid", "-//Sprechstunde//Appointment//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", now)
    # Always UTC ("Z"): a TZID without its VTIMEZONE is read as floating time by some clients.
    event.add("dtstart", appointment.starts_at.astimezone(UTC))
    event.add("dtend", appointment.ends_at.astimezone(UTC))
    event.add("sequence", appointment.sequence)
    event.add(
        "summary", f"{appointment.service.local('name')} – {appointment.office.local('name')}"
    )
    event.add("location", appointment.office.local("address"))
    event.add("description", f"{_('Reference number')}: {appointment.reference}")
    if appointment.status == AppointmentStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    if organizer:  # RFC 5546: REQUEST and CANCEL name the organizer and the attendee
        address = parseaddr(organizer)[1]
        event.add("organizer", f"mailto:{address}", parameters={"CN": "Sprechstunde"})
        if appointment.email:
            event.add("attendee", f"mailto:{appointment.email}", parameters={"RSVP": "FALSE"})
    calendar.add_component(event)
    return calendar.to_ical()
