"""A few invented appointments so the demo calendars are not empty."""

from datetime import timedelta

from sqlalchemy import func, select

from booking.appointments.booking import SlotTaken, book_appointment, check_family_details
from booking.appointments.models import Appointment, Channel
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Service
from booking.schedule.agenda import local_today
from booking.schedule.services import find_free_slots

DEMO_FAMILIES = [
    ("Familie Yılmaz", "tr", True, Channel.ONLINE),
    ("Familie Haddad", "ar", True, Channel.PHONE),
    ("Familie Schneider", "de", False, Channel.ONLINE),
    ("Familie Kovalenko", "uk", True, Channel.DESK),
    ("Familie Nowak", "pl", False, Channel.PHONE),
    ("Familie Rahimi", "fa", True, Channel.ONLINE),
    ("Familie Becker", "de", False, Channel.ONLINE),
    ("Familie Popescu", "ro", False, Channel.PHONE),
]
DEMO_SERVICES = ("beratung-35a", "welcome-point-ratinger-strasse-beratung")


def create_demo_appointments(per_service: int = 8) -> int:
    """Book invented families into every third free slot of the next two weeks."""
    if db.session.scalar(select(func.count()).select_from(Appointment)):
        return 0
    now = utcnow()
    today = local_today(now)
    made = 0
    for slug in DEMO_SERVICES:
        service = db.session.scalar(select(Service).where(Service.slug == slug))
        if service is None:
            continue
        slots = find_free_slots(service, today, today + timedelta(days=14), now)[::3]
        for index, slot in enumerate(slots[:per_service]):
            name, language, interpreter, channel = DEMO_FAMILIES[index % len(DEMO_FAMILIES)]
            family = check_family_details(
                name, f"demo{made}@example.org", None, language, interpreter, ""
            )
            try:
                book_appointment(service, slot.start, family, now, channel=channel)
            except SlotTaken:
                db.session.rollback()
                continue
            db.session.commit()
            made += 1
    return made
