"""Invented waiting lists: families waiting at the § 35a unit and at the Welcome Point
Ratinger Straße, and a time freed by a cancellation held for the first suitable family.

At the § 35a unit Tuesday afternoon is one time a week (12:00), and the demo books it out for
the service's whole horizon; two families wait for it, and one of those bookings is then
cancelled by its family: the cancellation offers the time to the family that joined first and
holds it for them (booking/waitlist/hooks.py), the other keeps waiting. The rest wish for days
and times of day on which the office has no hours, so they wait whenever the demo is loaded.
Everything goes through the services, as in the app (messages and audit entries included),
and every time is counted from `now`: the families that wait for Tuesday afternoons joined
within the service's minimum notice, so no Tuesday could have been offered to them before.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from booking.appointments.booking import cancel_by_family, check_family_details
from booking.appointments.models import Appointment, Channel
from booking.auth.models import Role, StaffUser
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.schedule.agenda import local_today
from booking.schedule.services import find_free_slots
from booking.setup.demo_appointments import _book
from booking.waitlist.models import AFTERNOON, MORNING, OfferState, WaitlistEntry, WaitlistOffer
from booking.waitlist.rules import suits
from booking.waitlist.services import join_waitlist

MON, TUE, WED, THU, FRI = (1 << day for day in range(5))
BOTH = MORNING | AFTERNOON
BOOKED_OUT = ("beratung-35a", TUE, AFTERNOON)  # service, weekdays, times of day
FIRST_BOOKING = 300  # the booked-out times go to invented families demo300@…, demo301@…


@dataclass(frozen=True)
class DemoPlace:
    service: str
    name: str
    email: str | None
    phone: str | None
    language: str
    interpreter: bool
    channel: Channel  # online: joined themselves; phone or desk: put on the list by staff
    weekdays: int
    day_parts: int
    joined: timedelta  # before now


# In the order they joined; the first of each service's list waits longest.
DEMO_PLACES = (
    DemoPlace(
        "beratung-35a", "Familie Amiri", None, "0211 5554477", "fa", True, Channel.PHONE,
        MON | WED | FRI, AFTERNOON, timedelta(days=11),
    ),
    DemoPlace(
        "beratung-35a", "Familie Lindner", "lindner.demo@example.org", None, "de", False,
        Channel.ONLINE, FRI, AFTERNOON, timedelta(days=6),
    ),
    DemoPlace(
        "beratung-35a", "Familie Schulz", "schulz.demo@example.org", None, "de", False,
        Channel.ONLINE, TUE, AFTERNOON, timedelta(hours=20),
    ),
    DemoPlace(
        "beratung-35a", "Familie Bakr", None, "0152 55504411", "ar", True, Channel.DESK,
        TUE | FRI, AFTERNOON, timedelta(hours=3),
    ),
    DemoPlace(
        "welcome-point-ratinger-strasse-beratung", "Familie Bondar", "bondar.demo@example.org",
        None, "uk", False, Channel.ONLINE, FRI, BOTH, timedelta(days=9),
    ),
    DemoPlace(
        "welcome-point-ratinger-strasse-beratung", "Familie Nasser", None, "0176 55507711", "ar",
        True, Channel.PHONE, TUE | THU, MORNING, timedelta(days=4),
    ),
    DemoPlace(
        "welcome-point-ratinger-strasse-beratung", "Familie Morozova", "morozova.demo@example.org",
        None, "ru", False, Channel.DESK, TUE | THU | FRI, MORNING, timedelta(days=1),
    ),
)  # fmt: skip


def _staff_of(office: Office) -> StaffUser | None:
    """Who puts a caller on the list: the office's reception, else one of its caseworkers."""
    team = list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.offices.any(Office.id == office.id), StaffUser.active.is_(True))
            .order_by(StaffUser.id)
        )
    )
    return next((u for u in team if u.role == Role.RECEPTION), None) or next(
        (u for u in team if u.role == Role.CASEWORKER), None
    )


def _book_out(service: Service, weekdays: int, day_parts: int, since: datetime, now: datetime):
    """Book every free time of these days and times of day, as it was free at `since` and as
    it is now (the horizon has moved on since); the bookings in the order of their times."""
    made: list[Appointment] = []
    for at in (since, now):
        first = local_today(at)
        free = find_free_slots(service, first, first + timedelta(days=service.horizon_days), at)
        wished = [slot for slot in free if suits(weekdays, day_parts, slot.start)]
        made += _book(service, wished, at, FIRST_BOOKING + len(made))
    return sorted(made, key=lambda appointment: appointment.starts_at)


def create_demo_waitlist(now: datetime | None = None) -> int:
    """Once, when no family waits anywhere: the places above, one of them holding an offer.
    Returns the number of places made."""
    if db.session.scalar(select(func.count()).select_from(WaitlistEntry)):
        return 0
    now = now or utcnow()
    services = {
        service.slug: service
        for service in db.session.scalars(
            select(Service).where(Service.slug.in_({place.service for place in DEMO_PLACES}))
        )
    }
    slug, weekdays, day_parts = BOOKED_OUT
    booked_out = []
    if slug in services:
        waiting_for_it = [
            place.joined
            for place in DEMO_PLACES
            if place.service == slug and place.weekdays & weekdays and place.day_parts & day_parts
        ]
        since = now - max(waiting_for_it, default=timedelta())
        booked_out = _book_out(services[slug], weekdays, day_parts, since, now)
    made = 0
    for place in DEMO_PLACES:
        service = services.get(place.service)
        if service is None:
            continue
        family = check_family_details(
            place.name,
            place.email,
            place.phone,
            place.language,
            place.interpreter,
            "",
            require_contact=False,
        )
        actor = None if place.channel == Channel.ONLINE else _staff_of(service.office)
        join_waitlist(
            service,
            family,
            place.weekdays,
            place.day_parts,
            now - place.joined,
            channel=place.channel,
            actor=actor,
        )
        db.session.commit()
        made += 1
    if booked_out:
        # A family cancels a Tuesday a few weeks ahead: its transaction offers the time to the
        # family waiting for it longest, and holds it for them.
        cancel_by_family(booked_out[len(booked_out) // 2], now)
        db.session.commit()
    return made


def held_offers() -> int:
    """Times held for a family now (offers still open)."""
    return db.session.scalar(
        select(func.count())
        .select_from(WaitlistOffer)
        .where(WaitlistOffer.state == OfferState.OFFERED)
    )
