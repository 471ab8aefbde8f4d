"""Week pages of free slots, shared by the family flow, the manage link and the desk."""

import enum
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache

from flask_babel import format_date
from sqlalchemy import bindparam, select
from sqlalchemy.orm import contains_eager

from booking.appointments.booking import cancel_by_family, hash_token
from booking.appointments.models import Appointment
from booking.core.converters import parse_instant
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.public.models import RetiredToken
from booking.schedule.agenda import local_today, week_start
from booking.schedule.engine import BERLIN, Slot
from booking.schedule.services import find_free_slots, held_for_phone


@dataclass
class SlotWeek:
    first: date
    last: date
    days: list[tuple[date, list[Slot]]]
    earliest: Slot | None
    previous: date | None
    next: date | None
    # Shown times the channel quota keeps for phone and desk (staff pages mark them).
    held: frozenset[int] = frozenset()

    @property
    def empty(self) -> bool:
        return not any(slots for _, slots in self.days)


def slot_week(
    service: Service,
    asked: date | None,
    now: datetime,
    staff_id: int | None = None,
    exclude_appointment_id: int | None = None,
    online: bool = False,
) -> SlotWeek:
    """Free slots of the week containing `asked` (default: the earliest free slot's week).

    `online` (families' pages): without the times the channel quota keeps for phone and desk;
    otherwise (staff) with them, named in `held`.

    Computes the shown week and, for the earliest free time, at most the current week and then
    the rest of the horizon: a week page never costs the whole horizon while times are free soon.
    """
    today = local_today(now)
    horizon_end = today + timedelta(days=service.horizon_days)
    this_week = week_start(today)

    def free(first: date, last: date) -> list[Slot]:
        if first > min(last, horizon_end):
            return []
        return find_free_slots(
            service, first, min(last, horizon_end), now, staff_id, exclude_appointment_id, online
        )

    soon = free(today, this_week + timedelta(days=6))
    later: list[Slot] | None = None
    if soon:
        earliest = soon[0]
    else:
        later = free(this_week + timedelta(days=7), horizon_end)
        earliest = later[0] if later else None
    if asked is None:
        asked = earliest.start.astimezone(BERLIN).date() if earliest else today
    first = max(week_start(asked), this_week)
    last = first + timedelta(days=6)
    if first == this_week:
        shown = soon
    elif later is not None:
        shown = [s for s in later if first <= s.start.astimezone(BERLIN).date() <= last]
    else:
        shown = free(first, last)
    by_day: dict[date, list[Slot]] = {first + timedelta(days=n): [] for n in range(7)}
    for slot in shown:
        day = slot.start.astimezone(BERLIN).date()
        if day in by_day:
            by_day[day].append(slot)
    return SlotWeek(
        first=first,
        last=last,
        days=[(day, slots) for day, slots in by_day.items() if day >= today],
        earliest=earliest,
        previous=first - timedelta(days=7) if first > this_week else None,
        next=first + timedelta(days=7) if first + timedelta(days=7) <= horizon_end else None,
        held=frozenset() if online else held_for_phone(service, first, last, now),
    )


def public_service(slug: str) -> Service | None:
    """The service if families may book it, with its office loaded by the same query."""
    return db.session.scalar(_public_service_statement(), {"slug": slug})


@cache
def _public_service_statement():
    return (
        select(Service)
        .join(Service.office)
        .options(contains_eager(Service.office))
        .where(
            Service.slug == bindparam("slug"),
            Service.public.is_(True),
            Service.active.is_(True),
            Office.active.is_(True),
        )
    )


def parse_start(text: str | None) -> datetime | None:
    """An ISO 8601 instant with offset (in the app's calendar range), or None."""
    return parse_instant(text)


def offices_with_public_services() -> list[Office]:
    offices = db.session.scalars(
        select(Office).where(Office.active.is_(True)).order_by(Office.district, Office.name)
    ).all()
    return [o for o in offices if any(s.public and s.active for s in o.services)]


def week_choices(week, held_label: str = "") -> dict:
    """Free times as option groups per day, for one select a receptionist can type into;
    times the channel quota keeps for phone and desk carry `held_label`."""
    groups = {}
    for day, slots in week.days:
        if slots:
            # The day stands in each option too: a closed select shows only the option.
            short = format_date(day, format="EEE dd.MM.")
            groups[format_date(day, format="full")] = [
                (
                    slot.start.astimezone(BERLIN).isoformat(),
                    f"{short} {slot.start.astimezone(BERLIN):%H:%M}"
                    + (f" – {held_label}" if held_label and slot.start_ts in week.held else ""),
                )
                for slot in slots
            ]
    return groups


class LinkState(enum.StrEnum):
    CURRENT = "current"
    MOVED = "moved"  # replaced by a new link when the appointment was moved
    OVER = "over"  # the appointment has ended
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class ManageLink:
    state: LinkState
    appointment: Appointment | None = None


def find_manage_link(token: str, now: datetime) -> ManageLink:
    """What a manage link leads to: its appointment, or why it no longer does."""
    if not token or len(token) > 100:
        return ManageLink(LinkState.UNKNOWN)
    token_hash = hash_token(token)
    appointment = db.session.scalar(
        select(Appointment).where(Appointment.manage_token_hash == token_hash)
    )
    if appointment is not None:
        state = LinkState.OVER if appointment.ends_at <= now else LinkState.CURRENT
        return ManageLink(state, appointment)
    retired = db.session.get(RetiredToken, token_hash)
    if retired is None:
        return ManageLink(LinkState.UNKNOWN)
    appointment = db.session.get(Appointment, retired.appointment_id)
    state = LinkState.OVER if appointment.ends_at <= now else LinkState.MOVED
    return ManageLink(state, appointment)


MAX_CANCEL_REASON = 200


def cancel_with_reason(appointment: Appointment, reason: str, now: datetime) -> None:
    """The family cancels; their optional reason is kept with the appointment for the office."""
    cancel_by_family(appointment, now)
    reason = " ".join((reason or "").split())
    if reason:
        # The form refuses longer reasons with a message; the column holds prefix and reason.
        appointment.cancel_reason = f"{appointment.cancel_reason}: {reason[:MAX_CANCEL_REASON]}"
        db.session.flush()
