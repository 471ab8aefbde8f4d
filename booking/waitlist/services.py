"""The waiting list on the database: join, leave, offers held for a family, taking them.

process_waitlist() is the one driver of offers: it ends held offers past their time and
entries past their days, then offers each free time to the first suitable entry. It runs
after every change that frees time (booking/waitlist/hooks.py) and in every worker round;
running it twice, or on two workers at once, makes each offer once (one open offer per
caseworker and start, and per entry, is enforced by the database; a hold and a booking of
one caseworker take the caseworker's lock, booking.appointments.booking.lock_caseworker).
"""

import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, select, text, update
from sqlalchemy.exc import IntegrityError

from booking.appointments.booking import (
    Booking,
    FamilyDetails,
    book_appointment,
    check_family_details,
    email_key,
    hash_token,
    lock_caseworker,
    phone_key,
)
from booking.appointments.models import Channel
from booking.audit.services import record_event
from booking.auth.models import StaffUser
from booking.core.exceptions import BookingError
from booking.core.i18n import message_locale
from booking.core.sealed import seal
from booking.core.transactions import begin_write
from booking.core.validation import is_mobile
from booking.extensions import db
from booking.notify.models import (
    MANAGE_LINK_PLACEHOLDER,
    MANAGE_TOKEN_PURPOSE,
    OutboxChannel,
    OutboxMessage,
)
from booking.offices.models import Office, Service
from booking.schedule.agenda import local_today
from booking.schedule.engine import BERLIN
from booking.schedule.models import WeeklyHours
from booking.schedule.services import (
    busy_times,
    closed_days,
    find_free_slots,
    held_for_phone,
    hours_rules,
)
from booking.waitlist.models import (
    AFTERNOON,
    MORNING,
    EntryStatus,
    OfferState,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.waitlist.rules import Waiting, first_match, hold_deadline, working_intervals

ERASED_NAME = "–"


class WaitlistError(BookingError):
    pass


class AlreadyWaiting(WaitlistError):
    """The contact already has a place on this service's list that is still waiting."""

    def __init__(self, entry: WaitlistEntry, field: str) -> None:
        super().__init__(
            _l(
                "This email address or mobile number is already on this waiting list. "
                "Your place stays. To see or leave it, use the link in our message. Or call us."
            ),
            field=field,
        )
        self.entry = entry


# Join and leave


def check_wishes(weekdays: list[int], day_parts: list[int]) -> tuple[int, int]:
    """The chosen weekdays (0 = Monday) and times of day as bit masks, or WaitlistError."""
    days = sum(1 << day for day in set(weekdays) if 0 <= day <= 6)
    parts = sum(part for part in set(day_parts) if part in (MORNING, AFTERNOON))
    if not days:
        raise WaitlistError(_l("Please choose at least one day."), field="weekdays")
    if not parts:
        raise WaitlistError(_l("Please choose a time of day."), field="day_parts")
    return days, parts


def _lock_contact_keys(service: Service, keys: list[str]) -> None:
    """Serialise joins of one contact to one service until the transaction ends: SQLite runs
    one writer at a time anyway (begin_write); PostgreSQL takes an advisory lock per key, in
    a fixed order so that two joins never wait on each other."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    ids = {
        int.from_bytes(
            hashlib.sha256(f"waitlist:{service.id}:{key}".encode()).digest()[:8], "big", signed=True
        )
        for key in keys
    }
    for lock_id in sorted(ids):
        db.session.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": lock_id})


def _refuse_second_place(service: Service, family: FamilyDetails, actor: StaffUser | None) -> None:
    """AlreadyWaiting when an entry of the service still waits for the same email address or
    phone number (compared as bookings compare contacts: no case, no +tag, E.164)."""
    email, phone = email_key(family.email), phone_key(family.phone)
    keys = [f"{kind}:{key}" for kind, key in (("email", email), ("phone", phone)) if key]
    if not keys:
        return  # a caller without contact (staff phone them): nothing to compare
    _lock_contact_keys(service, keys)
    waiting = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.service_id == service.id, WaitlistEntry.status == EntryStatus.WAITING)
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    )
    for entry in waiting:
        same = "email" if email and email_key(entry.email) == email else None
        if same is None and phone and phone_key(entry.phone) == phone:
            same = "phone"
        if same:
            detail = f"already waiting: entry {entry.id}"
            record_event("waitlist.refused", actor=actor, obj=service, detail=detail)
            raise AlreadyWaiting(entry, same)


def join_waitlist(
    service: Service,
    family: FamilyDetails,
    weekdays: int,
    day_parts: int,
    now: datetime,
    channel: Channel = Channel.ONLINE,
    actor: StaffUser | None = None,
    callback_id: int | None = None,
) -> tuple[WaitlistEntry, str]:
    """Put a family on the service's list; returns the entry and the secret of its leave link
    (only its hash is stored). The caller commits. AlreadyWaiting when the family's email
    address or phone number (in any spelling) already waits for this service."""
    begin_write()
    _refuse_second_place(service, family, actor)
    token = secrets.token_urlsafe(24)
    entry = WaitlistEntry(
        service_id=service.id,
        office_id=service.office_id,
        family_name=family.name,
        email=family.email,
        phone=family.phone,
        language=family.language,
        interpreter_needed=family.interpreter_needed,
        weekdays=weekdays,
        day_parts=day_parts,
        channel=channel,
        callback_id=callback_id,
        created_by_id=actor.id if actor else None,
        joined_at=now,
        token_hash=hash_token(token),
    )
    db.session.add(entry)
    db.session.flush()
    record_event("waitlist.joined", actor=actor, obj=service, detail=f"entry {entry.id}")
    queue_waitlist_message(entry, "waitlist_joined", link_path=f"/waitlist/{token}")
    # A suitable time free right now is offered at once, not only at the next worker round.
    process_waitlist(now, {service.id}, lock=False)
    return entry, token


def join_from_form(
    service: Service,
    data: Mapping,
    now: datetime,
    channel: Channel = Channel.ONLINE,
    actor: StaffUser | None = None,
    callback_id: int | None = None,
    require_contact: bool = True,
) -> tuple[WaitlistEntry, str]:
    """Check what a join form gave (name, email, phone, language, interpreter_needed,
    weekdays, day_parts; a filled honeypot `website`) and put the family on the list.

    Raises InvalidFamilyDetails (a message per field) or WaitlistError; the caller commits.
    Staff may leave the contact out (require_contact=False): they phone such a caller.
    """
    begin_write()
    family = check_family_details(
        data.get("name"),
        data.get("email"),
        data.get("phone"),
        data.get("language"),
        bool(data.get("interpreter_needed")),
        "",
        require_contact=require_contact,
    )
    weekdays, day_parts = check_wishes(data.get("weekdays") or [], data.get("day_parts") or [])
    if data.get("website"):
        record_event("waitlist.refused", obj=service, detail="honeypot field filled")
        raise WaitlistError(_l("Your request could not be processed. Please call us."))
    return join_waitlist(
        service,
        family,
        weekdays,
        day_parts,
        now,
        channel=channel,
        actor=actor,
        callback_id=callback_id,
    )


def entry_for_token(token: str) -> WaitlistEntry | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.token_hash == hash_token(token))
    )


def open_offer(entry: WaitlistEntry) -> WaitlistOffer | None:
    return next((o for o in entry.offers if o.state == OfferState.OFFERED), None)


def end_entry(entry: WaitlistEntry, status: EntryStatus, now: datetime) -> None:
    entry.status = status
    entry.ended_at = now
    offer = open_offer(entry)
    if offer is not None:  # the held time goes back (to the next family)
        offer.state = OfferState.WITHDRAWN
        offer.decided_at = now


def leave_waitlist(entry: WaitlistEntry, now: datetime, actor: StaffUser | None = None) -> None:
    begin_write()
    db.session.refresh(entry)
    if entry.status != EntryStatus.WAITING:
        return  # leaving twice changes nothing
    end_entry(entry, EntryStatus.LEFT, now)
    db.session.flush()
    record_event("waitlist.left", actor=actor, obj=entry.service, detail=f"entry {entry.id}")


# Offers


def offer_for_token(token: str) -> WaitlistOffer | None:
    if not token or len(token) > 100:
        return None
    return db.session.scalar(
        select(WaitlistOffer).where(WaitlistOffer.token_hash == hash_token(token))
    )


def office_hold_until(office: Office, service: Service, now: datetime, start: datetime) -> datetime:
    """The end of the hold: WAITLIST_HOLD_HOURS of the office's working hours (the union of its
    caseworkers' weekly hours, closed days left out) from now, never after the time itself."""
    seconds = int(float(current_app.config["WAITLIST_HOLD_HOURS"]) * 3600)
    first = local_today(now)
    last = first + timedelta(days=max(service.horizon_days, 14))
    intervals = working_intervals(
        hours_rules(WeeklyHours.office_id == office.id),
        first,
        last,
        closed_days(office, first, last),
    )
    deadline = hold_deadline(now, seconds, intervals) or now + timedelta(seconds=seconds)
    return min(deadline, start)


def _time_taken(staff_id: int, start: datetime, busy_until: datetime) -> bool:
    """After the caseworker's lock: an appointment, another hold or an absence in this time
    (busy time as busy_times reads it)?"""
    return bool(busy_times([staff_id], start, busy_until))


def hold_time(
    entry: WaitlistEntry, staff_ids: tuple[int, ...], start: datetime, now: datetime
) -> tuple[WaitlistOffer, str] | None:
    """Hold `start` for the entry with the first of these caseworkers still free at it; None
    when someone else (a booking, another hold) got there first."""
    service = entry.service
    busy_until = start + service.busy_span
    hold_until = office_hold_until(entry.office, service, now, start)
    for staff_id in staff_ids:
        lock_caseworker(staff_id)
        if _time_taken(staff_id, start, busy_until):
            continue
        token = secrets.token_urlsafe(24)
        offer = WaitlistOffer(
            entry_id=entry.id,
            service_id=service.id,
            staff_id=staff_id,
            starts_at=start,
            busy_until=busy_until,
            offered_at=now,
            hold_until=hold_until,
            token_hash=hash_token(token),
        )
        try:
            with db.session.begin_nested():
                db.session.add(offer)
                db.session.flush()
        except IntegrityError:
            continue  # held for someone else, or the entry got an offer, meanwhile
        entry.first_offer_at = entry.first_offer_at or now
        db.session.flush()
        return offer, token
    return None


@dataclass
class ProcessReport:
    offers: int = 0
    expired_offers: int = 0
    expired_entries: int = 0
    services: list[int] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.offers or self.expired_offers or self.expired_entries)

    def summary(self) -> str:
        return (
            f"waiting list: {self.offers} offer(s) made, {self.expired_offers} hold(s) ended, "
            f"{self.expired_entries} entr(y/ies) expired"
        )


def process_waitlist(
    now: datetime, service_ids: set[int] | None = None, lock: bool = True
) -> ProcessReport:
    """End holds past their time and entries past their days, then offer free times.

    Worker-safe and idempotent (see the module's docstring); the caller commits. `lock`:
    take the write lock first (False inside a transaction that already writes).
    """
    report = ProcessReport()
    if lock:
        begin_write()
    expired = db.session.scalars(
        select(WaitlistOffer).where(
            WaitlistOffer.state == OfferState.OFFERED, WaitlistOffer.hold_until <= now
        )
    ).all()
    for offer in expired:
        offer.state = OfferState.EXPIRED
        offer.decided_at = now
        report.expired_offers += 1
    days = int(current_app.config["WAITLIST_ENTRY_DAYS"])
    too_old = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.status == EntryStatus.WAITING,
            WaitlistEntry.joined_at <= now - timedelta(days=days),
        )
    ).all()
    for entry in too_old:
        end_entry(entry, EntryStatus.EXPIRED, now)
        queue_waitlist_message(entry, "waitlist_expired")
        report.expired_entries += 1
    db.session.flush()
    query = select(WaitlistEntry.service_id).where(WaitlistEntry.status == EntryStatus.WAITING)
    if service_ids is not None:
        query = query.where(WaitlistEntry.service_id.in_(sorted(service_ids)))
    for service_id in sorted(set(db.session.scalars(query))):
        service = db.session.get(Service, service_id)
        if service is not None and service.active and service.office.active:
            report.offers += _offer_free_times(service, now)
            report.services.append(service_id)
    if report.anything:
        record_event("waitlist.processed", detail=report.summary())
    db.session.flush()
    return report


def _offer_free_times(service: Service, now: datetime) -> int:
    """Offer each free time of the service, earliest first, to the first suitable entry that
    holds no offer yet."""
    entries = db.session.scalars(
        select(WaitlistEntry).where(
            WaitlistEntry.service_id == service.id, WaitlistEntry.status == EntryStatus.WAITING
        )
    ).all()
    waiting = {e.id: e for e in entries if open_offer(e) is None}
    if not waiting:
        return 0
    # A time declined or let pass is not offered to the same family again.
    refused = {
        (row.entry_id, row.starts_at)
        for row in db.session.execute(
            select(WaitlistOffer.entry_id, WaitlistOffer.starts_at).where(
                WaitlistOffer.entry_id.in_(list(waiting)),
                WaitlistOffer.state != OfferState.OFFERED,
            )
        )
    }
    today = local_today(now)
    last = today + timedelta(days=service.horizon_days)
    slots = find_free_slots(service, today, last, now)
    kept = held_for_phone(service, today, last, now)
    made = 0
    for slot in slots:
        if not waiting:
            break
        candidates = [
            Waiting(e.id, e.joined_at, e.weekdays, e.day_parts, e.channel != Channel.ONLINE)
            for e in waiting.values()
        ]
        match = first_match(candidates, slot.start, refused, slot.start_ts in kept)
        if match is None:
            continue
        entry = waiting[match.entry_id]
        held = hold_time(entry, slot.staff_ids, slot.start, now)
        if held is None:
            continue
        offer, token = held
        del waiting[entry.id]
        queue_waitlist_message(
            entry, "waitlist_offer", link_path=f"/waitlist/offer/{token}", offer=offer
        )
        record_event("waitlist.offered", obj=service, detail=f"entry {entry.id}")
        made += 1
    return made


class OfferGone(WaitlistError):
    """The offer was taken, declined, or its time has passed."""


def _require_open(offer: WaitlistOffer, now: datetime) -> None:
    if offer.state != OfferState.OFFERED or offer.hold_until <= now:
        raise OfferGone(
            _l("This offer is no longer open. You are still on the waiting list."), field="offer"
        )


def accept_offer(offer: WaitlistOffer, now: datetime, actor: StaffUser | None = None) -> Booking:
    """The family takes the held time (or staff book it for them, e.g. after a call): a
    normal booking with a manage link. The caller commits; on an AppointmentError the
    caller rolls back and the offer stays open."""
    begin_write()
    lock_caseworker(offer.staff_id)
    db.session.refresh(offer)
    _require_open(offer, now)
    entry = offer.entry
    offer.state = OfferState.ACCEPTED  # first: the hold must not stand in its own way
    offer.decided_at = now
    db.session.flush()
    family = FamilyDetails(
        entry.family_name,
        entry.email,
        entry.phone,
        entry.language,
        entry.interpreter_needed,
        "",
    )
    booking = book_appointment(
        offer.service,
        offer.starts_at,
        family,
        now,
        channel=entry.channel,
        staff_id=offer.staff_id,
        actor=actor,
        from_offer=True,
    )
    offer.appointment_id = booking.appointment.id
    entry.status = EntryStatus.BOOKED
    entry.ended_at = now
    entry.appointment_id = booking.appointment.id
    db.session.flush()
    record_event("waitlist.accepted", actor=actor, obj=offer.service, detail=f"entry {entry.id}")
    return booking


def decline_offer(offer: WaitlistOffer, now: datetime, actor: StaffUser | None = None) -> None:
    """The family does not want this time: it goes to the next suitable family."""
    begin_write()
    db.session.refresh(offer)
    if offer.state == OfferState.DECLINED:
        return
    _require_open(offer, now)
    offer.state = OfferState.DECLINED
    offer.decided_at = now
    db.session.flush()
    record_event(
        "waitlist.declined", actor=actor, obj=offer.service, detail=f"entry {offer.entry_id}"
    )


# Messages


def _target(entry: WaitlistEntry) -> tuple[OutboxChannel, str] | None:
    if entry.email:
        return OutboxChannel.EMAIL, entry.email
    if entry.phone and is_mobile(entry.phone):
        return OutboxChannel.SMS, entry.phone
    return None


SUBJECTS = {
    "waitlist_joined": lambda: _("You are on the waiting list"),
    "waitlist_offer": lambda: _("A time for you from the waiting list"),
    "waitlist_expired": lambda: _("Your place on the waiting list has ended"),
}


def queue_waitlist_message(
    entry: WaitlistEntry,
    kind: str,
    link_path: str | None = None,
    offer: WaitlistOffer | None = None,
) -> OutboxMessage | None:
    """A message to the family in their language; a link only as a placeholder (the sealed
    path is put in when the message leaves, as for manage links)."""
    target = _target(entry)
    if target is None:
        return None
    channel, recipient = target
    context = {
        "entry": entry,
        "kind": kind,
        "link": MANAGE_LINK_PLACEHOLDER if link_path else None,
        "offer": offer,
        "local_start": offer.starts_at.astimezone(BERLIN) if offer else None,
        "local_until": offer.hold_until.astimezone(BERLIN) if offer else None,
        "days": int(current_app.config["WAITLIST_ENTRY_DAYS"]),
    }
    with force_locale(message_locale(entry.language)):
        subject = f"{SUBJECTS[kind]()} – {entry.service.local('name')}"
        text = render_template(
            "notify/family_waitlist.txt", sms=channel == OutboxChannel.SMS, **context
        )
    message = OutboxMessage(
        kind=kind,
        channel=channel,
        recipient=recipient,
        subject=subject[:200],
        body_text=text,
        sealed_manage_token=seal(link_path, MANAGE_TOKEN_PURPOSE) if link_path else None,
    )
    db.session.add(message)
    return message


# Staff


@dataclass
class ServiceList:
    service: Service
    waiting: list[WaitlistEntry]
    offers: list[WaitlistOffer]
    median_days: float | None


def service_list(service: Service) -> ServiceList:
    from booking.waitlist.rules import median_days_to_offer

    entries = db.session.scalars(
        select(WaitlistEntry)
        .where(WaitlistEntry.service_id == service.id, WaitlistEntry.status == EntryStatus.WAITING)
        .order_by(WaitlistEntry.joined_at, WaitlistEntry.id)
    ).all()
    offers = db.session.scalars(
        select(WaitlistOffer)
        .where(WaitlistOffer.service_id == service.id, WaitlistOffer.state == OfferState.OFFERED)
        .order_by(WaitlistOffer.starts_at)
    ).all()
    pairs = db.session.execute(
        select(WaitlistEntry.joined_at, WaitlistEntry.first_offer_at).where(
            WaitlistEntry.service_id == service.id, WaitlistEntry.first_offer_at.is_not(None)
        )
    ).all()
    return ServiceList(service, list(entries), list(offers), median_days_to_offer(pairs))


# Privacy


def blank_entries(condition: ColumnElement[bool], now: datetime) -> int:
    """Blank the family's name, contact details and links of the entries matching `condition`
    (the retention purge, a data-subject's erasure): what stays (service, dates, channel,
    language) is anonymous, and their offers' links die too. Returns the entries blanked."""
    chosen = select(WaitlistEntry.id).where(condition).scalar_subquery()
    # Offers first: the condition may stop matching once the entries are blanked.
    db.session.execute(
        update(WaitlistOffer)
        .where(WaitlistOffer.entry_id.in_(chosen), WaitlistOffer.token_hash.is_not(None))
        .values(token_hash=None)
        .execution_options(synchronize_session=False)
    )
    return db.session.execute(
        update(WaitlistEntry)
        .where(condition)
        .values(family_name=ERASED_NAME, email=None, phone=None, token_hash=None, purged_at=now)
    ).rowcount


def purge_waitlist(now: datetime, days: int) -> int:
    """Entries that ended (left, booked, expired) more than `days` ago are blanked."""
    return blank_entries(
        and_(
            WaitlistEntry.status != EntryStatus.WAITING,
            WaitlistEntry.ended_at < now - timedelta(days=days),
            WaitlistEntry.purged_at.is_(None),
        ),
        now,
    )
