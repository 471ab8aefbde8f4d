"""The .ics file a family adds to their own calendar."""

from datetime import datetime

from icalendar import Calendar, Event

from booking.appointments.models import Appointment, AppointmentStatus


def appointment_uid(appointment: Appointment) -> str:
    return f"appointment-{appointment.id}@sprechstunde"


def appointment_ics(appointment: Appointment, now: datetime, method: str = "PUBLISH") -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Sprechstunde//Appointment//DE")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment_uid(appointment))
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at)
    event.add("dtend", appointment.ends_at)
    event.add("sequence", appointment.sequence)
    event.add("summary", f"{appointment.service.name} – {appointment.office.name}")
    event.add("location", appointment.office.address)
    event.add("description", f"Vorgangsnummer: {appointment.reference}")
    if appointment.status == AppointmentStatus.CANCELLED:
        event.add("status", "CANCELLED")
    else:
        event.add("status", "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical()
