"""Invented families, absences and closures so that the demo calendars show every kind of entry.

Last week holds attended and no-show appointments; this week and the next two hold booked,
cancelled (by staff and by the family) and moved ones, besides vacation, illness, training,
blocked time and office closures. Everything goes through the same services as the app.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from booking.appointments.booking import (
    SlotTaken,
    book_appointment,
    cancel_by_family,
    check_family_details,
    move_appointment,
)
from booking.appointments.models import Appointment, Channel
from booking.appointments.services import cancel_by_staff, mark_attended, mark_no_show
from booking.auth.models import Role, StaffUser
from booking.core.exceptions import BookingError
from booking.core.transactions import DatabaseBusy
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.schedule.agenda import local_today, week_start
from booking.schedule.engine import BERLIN
from booking.schedule.models import Absence, AbsenceKind
from booking.schedule.services import add_absence, add_closure, find_free_slots

DEMO_FAMILIES = [
    ("Familie Yılmaz", "tr", True, Channel.ONLINE),
    ("Familie Haddad", "ar", True, Channel.PHONE),
    ("Familie Schneider", "de", False, Channel.ONLINE),
    ("Familie Kovalenko", "uk", True, Channel.DESK),
    ("Familie Nowak", "pl", False, Channel.PHONE),
    ("Familie Rahimi", "fa", True, Channel.ONLINE),
    ("Familie Weber", "de", False, Channel.ONLINE),
    ("Familie Popescu", "ro", False, Channel.PHONE),
    ("Familie Osei", "en", False, Channel.ONLINE),
    ("Familie Petrović", "sr", True, Channel.DESK),
    ("Familie Al-Masri", "ar", False, Channel.ONLINE),
    ("Familie Krüger", "de", False, Channel.PHONE),
]
DEMO_SERVICES = ("beratung-35a", "welcome-point-ratinger-strasse-beratung")


@dataclass(frozen=True)
class DemoAbsence:
    staff: str
    kind: AbsenceKind
    week: int  # 0 = this week, 1 = next week
    weekday: int  # 0 = Monday
    days: int = 1
    start: time | None = None
    end: time | None = None
    note: str = ""


# Absences fall on the person's working days, so the calendars show what they take away.
DEMO_ABSENCES = (
    DemoAbsence("m.ozturk@example.org", AbsenceKind.ILLNESS, 0, 1),
    DemoAbsence(
        "k.becker@example.org",
        AbsenceKind.BLOCKED,
        0,
        2,
        start=time(10),
        end=time(11),
        note="Teambesprechung",
    ),
    DemoAbsence("k.becker@example.org", AbsenceKind.VACATION, 1, 2, days=3),
    DemoAbsence(
        "m.ozturk@example.org",
        AbsenceKind.TRAINING,
        1,
        1,
        note="Fortbildung: Beratung mit Sprachmittlung",
    ),
    DemoAbsence(
        "a.demir@example.org",
        AbsenceKind.BLOCKED,
        1,
        2,
        start=time(12),
        end=time(13),
        note="Netzwerktreffen im Stadtteil",
    ),
    DemoAbsence("a.demir@example.org", AbsenceKind.TRAINING, 0, 0, note="Erste-Hilfe-Kurs"),
)
# (office slug, week, weekday, reason): closures shown on the office's and the staff calendars.
DEMO_CLOSURES = (
    ("eingliederungshilfe", 1, 3, "Betriebsausflug"),
    ("welcome-point-ratinger-strasse", 1, 0, "Teamtag"),
)


def _family(index: int):
    name, language, interpreter, channel = DEMO_FAMILIES[index % len(DEMO_FAMILIES)]
    details = check_family_details(
        name, f"demo{index}@example.org", None, language, interpreter, ""
    )
    return details, channel


def _spread(slots: list, per_day: int = 2) -> list:
    """A few slots of each day, spread over the day: the first and one later on."""
    by_day: dict[date, list] = {}
    for slot in slots:
        by_day.setdefault(slot.start.astimezone(BERLIN).date(), []).append(slot)
    chosen = []
    for day_slots in by_day.values():
        step = max(len(day_slots) // per_day, 1)
        chosen.extend(day_slots[::step][:per_day])
    return chosen


def _add_absences_and_closures(monday: date, admin: StaffUser | None) -> None:
    for item in DEMO_ABSENCES:
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == item.staff))
        if user is None:
            continue
        first = monday + timedelta(days=7 * item.week + item.weekday)
        add_absence(
            user,
            item.kind,
            first,
            first + timedelta(days=item.days - 1),
            item.start,
            item.end,
            item.note,
            actor=user,
        )
    for slug, week, weekday, reason in DEMO_CLOSURES:
        office = db.session.scalar(select(Office).where(Office.slug == slug))
        if office is not None and admin is not None:
            day = monday + timedelta(days=7 * week + weekday)
            add_closure(office, day, day, reason, actor=admin)


def _book(service: Service, slots: list, booked_at: datetime, index: int) -> list[Appointment]:
    made = []
    for slot in slots:
        family, channel = _family(index + len(made))
        try:
            booking = book_appointment(service, slot.start, family, booked_at, channel=channel)
        except (SlotTaken, DatabaseBusy):
            # Taken meanwhile, or another writer held the database too long ("please try
            # again"): the demo leaves that time free and books the next one.
            db.session.rollback()
            continue
        db.session.commit()
        made.append(booking.appointment)
    return made


def _change(appointments: list[Appointment], service: Service, now: datetime) -> None:
    """Attended and no-show in the past; cancelled and moved ones ahead (one commit each, as
    each would be a request of its own)."""
    past = [a for a in appointments if a.starts_at < now]
    ahead = [a for a in appointments if a.starts_at > now + timedelta(days=2)]
    for index, appointment in enumerate(past):
        if index % 4 == 1:
            mark_no_show(appointment, appointment.staff, now)
        else:
            mark_attended(appointment, appointment.staff, now)
    db.session.commit()
    if len(ahead) < 3:
        return
    cancel_by_staff(ahead[0], "Fachkraft erkrankt, neuer Termin folgt", ahead[0].staff, now)
    db.session.commit()
    cancel_by_family(ahead[1], now)
    db.session.commit()
    moving = ahead[2]
    today = local_today(now)
    free = find_free_slots(service, today + timedelta(days=3), today + timedelta(days=14), now)
    later = [slot for slot in free if slot.start > moving.starts_at]
    if later:
        try:
            move_appointment(moving, later[len(later) // 2].start, now, actor=moving.staff)
        except BookingError:
            db.session.rollback()
            return
        db.session.commit()


def _book_staff_only(now: datetime, index: int) -> None:
    """A caseworker books a help-plan meeting (a staff-only service) for a family by phone."""
    service = db.session.scalar(select(Service).where(Service.slug == "hilfeplangespraech-35a"))
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "k.becker@example.org"))
    if service is None or user is None:
        return
    today = local_today(now)
    slots = find_free_slots(service, today + timedelta(days=1), today + timedelta(days=14), now)
    for slot in slots:
        if user.id in slot.staff_ids:
            family, _channel = _family(index)
            channel = Channel.PHONE
            try:
                book_appointment(
                    service, slot.start, family, now, channel=channel, staff_id=user.id, actor=user
                )
            except (SlotTaken, DatabaseBusy):  # as in _book: that time stays free
                db.session.rollback()
                continue
            db.session.commit()
            return


def create_demo_appointments(now: datetime | None = None) -> int:
    """Fill last week, this week and the next two with invented entries (once)."""
    if db.session.scalar(select(func.count()).select_from(Appointment)) or db.session.scalar(
        select(func.count()).select_from(Absence)
    ):
        return 0
    now = now or utcnow()
    today = local_today(now)
    monday = week_start(today)
    last_monday = monday - timedelta(days=7)
    # The past was booked a while ago: notice periods counted from then.
    booked_at = datetime.combine(last_monday - timedelta(days=3), time(8), tzinfo=BERLIN)
    admin = db.session.scalar(
        select(StaffUser).where(StaffUser.role == Role.ADMIN).order_by(StaffUser.id)
    )
    _add_absences_and_closures(monday, admin)
    db.session.commit()
    made = 0
    for slug in DEMO_SERVICES:
        service = db.session.scalar(select(Service).where(Service.slug == slug))
        if service is None:
            continue
        earlier = find_free_slots(service, last_monday, today, booked_at)
        earlier = [slot for slot in earlier if slot.start < now]
        ahead = find_free_slots(service, today, today + timedelta(days=14), now)
        appointments = _book(service, _spread(earlier), booked_at, made)
        appointments += _book(service, _spread(ahead), now, made + len(appointments))
        made += len(appointments)
        _change(appointments, service, now)
    _book_staff_only(now, made)
    return db.session.scalar(select(func.count()).select_from(Appointment))
