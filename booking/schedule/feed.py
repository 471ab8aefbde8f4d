"""Private iCalendar feed of a caseworker: times, service and reference, never the family."""

import hashlib
import secrets
from datetime import UTC, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select

from booking.appointments.models import Appointment, holds_time
from booking.audit.services import record_event
from booking.auth.models import StaffUser
from booking.extensions import db
from booking.schedule.engine import SCHEDULED
from booking.schedule.services import consultation_calendar

FEED_PAST_DAYS = 30
FEED_FUTURE_DAYS = 180


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def renew_feed_token(user: StaffUser) -> str:
    """A new secret feed URL token; the old URL stops working. Only the hash is stored."""
    token = secrets.token_urlsafe(32)
    user.calendar_token_hash = hash_token(token)
    db.session.flush()
    record_event("calendar_feed.renewed", actor=user, obj=user)
    return token


def revoke_feed_token(user: StaffUser) -> None:
    user.calendar_token_hash = None
    db.session.flush()
    record_event("calendar_feed.revoked", actor=user, obj=user)


def staff_for_feed_token(token: str) -> StaffUser | None:
    if not token or len(token) > 100:
        return None
    user = db.session.scalar(
        select(StaffUser).where(StaffUser.calendar_token_hash == hash_token(token))
    )
    return user if user is not None and user.active else None


def build_feed(user: StaffUser, now: datetime, site_name: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Sprechstunde//Calendar feed//DE")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", f"{site_name}: {user.name}")
    calendar.add("x-wr-timezone", "Europe/Berlin")
    start, end = now - timedelta(days=FEED_PAST_DAYS), now + timedelta(days=FEED_FUTURE_DAYS)
    appointments = db.session.scalars(
        select(Appointment)
        .where(
            Appointment.staff_id == user.id,
            holds_time(Appointment.status),
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at)
    )
    for appointment in appointments:
        event = Event()
        event.add("uid", f"appointment-{appointment.id}@sprechstunde")
        event.add("dtstamp", now)
        event.add("dtstart", appointment.starts_at.astimezone(UTC))
        event.add("dtend", appointment.ends_at.astimezone(UTC))
        event.add("sequence", appointment.sequence)
        event.add("summary", f"{appointment.service.name} [{appointment.reference}]")
        event.add("location", appointment.office.address)
        event.add("class", "PRIVATE")
        calendar.add_component(event)
    for office in user.offices:
        occurrences = consultation_calendar(office, start.date(), end.date())
        for occurrence in occurrences:
            if occurrence.status != SCHEDULED or user.id not in occurrence.staff_ids:
                continue
            event = Event()
            stamp = occurrence.start.strftime("%Y%m%dT%H%M%SZ")
            event.add("uid", f"consultation-{occurrence.rule_id}-{stamp}@sprechstunde")
            event.add("dtstamp", now)
            event.add("dtstart", occurrence.start.astimezone(UTC))
            event.add("dtend", occurrence.end.astimezone(UTC))
            event.add("summary", f"Offene Sprechstunde: {office.name}")
            event.add("location", office.address)
            calendar.add_component(event)
    return calendar.to_ical()
