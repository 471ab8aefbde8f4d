"""Day and week agendas for staff: appointments, absences, hours and open consultation hours."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import select

from booking.appointments.models import Appointment, AppointmentEvent, AppointmentStatus
from booking.appointments.services import appointments_between
from booking.auth.models import StaffUser
from booking.core.converters import parse_date
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.engine import BERLIN, SCHEDULED
from booking.schedule.models import Absence, WeeklyHours
from booking.schedule.services import closed_days, consultation_calendar, local_day_bounds


@dataclass
class AgendaEntry:
    kind: str  # appointment | absence | consultation | hours
    start: datetime  # local (Europe/Berlin)
    end: datetime
    appointment: Appointment | None = None
    absence: Absence | None = None
    label: str = ""
    moved: bool = False  # an appointment that was moved to this time

    @property
    def cancelled(self) -> bool:
        return (
            self.appointment is not None and self.appointment.status == AppointmentStatus.CANCELLED
        )

    @property
    def sort_key(self) -> tuple:
        return (self.start, {"hours": 0, "consultation": 1, "absence": 2}.get(self.kind, 3))


@dataclass
class AgendaDay:
    day: date
    closed: str | None = None
    columns: dict[int, list[AgendaEntry]] = field(default_factory=dict)

    def appointments(self, staff_id: int | None = None, cancelled: bool = False) -> int:
        """How many appointments (not cancelled, or only cancelled) one or all columns hold."""
        ids = self.columns if staff_id is None else [staff_id]
        return sum(
            1
            for each in ids
            for entry in self.columns[each]
            if entry.kind == "appointment" and entry.cancelled == cancelled
        )


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def agenda_range(day: date, view: str) -> tuple[date, date]:
    if view == "week":
        first = week_start(day)
        return first, first + timedelta(days=6)
    return day, day


def closures_by_office(offices: list[Office], first: date, last: date) -> dict[int, dict]:
    return {office.id: closed_days(office, first, last) for office in offices}


def closed_label(closures: dict[int, dict], offices: list[Office], day: date) -> str | None:
    """Why the day is closed; with the office's name when the people work at several."""
    reasons = [
        (office, closures[office.id][day]) for office in offices if day in closures[office.id]
    ]
    if not reasons:
        return None
    if len(reasons) == len(offices) and len({reason for _office, reason in reasons}) == 1:
        return reasons[0][1]
    return "; ".join(f"{reason} ({office.name})" for office, reason in reasons)


def build_agenda(
    staff: list[StaffUser], first: date, last: date, office: Office | None = None
) -> list[AgendaDay]:
    """One AgendaDay per date, each with a column of entries per staff member."""
    ids = [user.id for user in staff]
    start, end = local_day_bounds(first, last)
    days = {}
    day = first
    offices = [office] if office is not None else _offices_of(staff)
    closures = closures_by_office(offices, first, last)
    while day <= last:
        days[day] = AgendaDay(
            day, closed_label(closures, offices, day), {staff_id: [] for staff_id in ids}
        )
        day += timedelta(days=1)

    def add(entry: AgendaEntry, staff_id: int) -> None:
        # Entries spanning several days (absences) show on each of them.
        day = max(entry.start.date(), first)
        while day <= min((entry.end - timedelta(seconds=1)).date(), last):
            if staff_id in days[day].columns:
                days[day].columns[staff_id].append(entry)
            day += timedelta(days=1)

    appointments = appointments_between(start, end, staff_ids=ids, office=office)
    moved = set(
        db.session.scalars(
            select(AppointmentEvent.appointment_id).where(
                AppointmentEvent.action == "moved",
                AppointmentEvent.appointment_id.in_([a.id for a in appointments]),
            )
        )
    )
    for appointment in appointments:
        add(
            AgendaEntry(
                "appointment",
                appointment.starts_at.astimezone(BERLIN),
                appointment.ends_at.astimezone(BERLIN),
                appointment=appointment,
                moved=appointment.id in moved,
            ),
            appointment.staff_id,
        )
    absences = db.session.scalars(
        select(Absence).where(
            Absence.staff_id.in_(ids), Absence.starts_at < end, Absence.ends_at > start
        )
    )
    for absence in absences:
        add(
            AgendaEntry(
                "absence",
                absence.starts_at.astimezone(BERLIN),
                absence.ends_at.astimezone(BERLIN),
                absence=absence,
            ),
            absence.staff_id,
        )
    hours_query = select(WeeklyHours).where(WeeklyHours.staff_id.in_(ids))
    if office is not None:
        hours_query = hours_query.where(WeeklyHours.office_id == office.id)
    hours = db.session.scalars(hours_query).all()
    for agenda_day in days.values():
        for row in hours:
            if row.applies_on(agenda_day.day) and agenda_day.day not in closures.get(
                row.office_id, {}
            ):
                add(
                    AgendaEntry(
                        "hours",
                        datetime.combine(agenda_day.day, row.start_time, tzinfo=BERLIN),
                        datetime.combine(agenda_day.day, row.end_time, tzinfo=BERLIN),
                        label=row.office.name,
                    ),
                    row.staff_id,
                )
    for each in offices:
        for occurrence in consultation_calendar(each, first, last):
            if occurrence.status != SCHEDULED:
                continue
            for staff_id in occurrence.staff_ids:
                if staff_id in ids:
                    add(
                        AgendaEntry(
                            "consultation",
                            occurrence.start.astimezone(BERLIN),
                            occurrence.end.astimezone(BERLIN),
                            label=each.name,
                        ),
                        staff_id,
                    )
    for agenda_day in days.values():
        for entries in agenda_day.columns.values():
            entries.sort(key=lambda entry: entry.sort_key)
    return list(days.values())


def _offices_of(staff: list[StaffUser]) -> list[Office]:
    seen: dict[int, Office] = {}
    for user in staff:
        for office in user.offices:
            seen.setdefault(office.id, office)
    return list(seen.values())


def parse_day(text: str | None, today: date) -> date:
    return parse_date(text) or today


def local_today(now: datetime) -> date:
    return now.astimezone(BERLIN).date()
