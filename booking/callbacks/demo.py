"""Invented callback requests for the demo: new, assigned, overdue and closed ones."""

from datetime import timedelta

from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.auth.models import Role, StaffUser
from booking.callbacks.models import CallbackRequest, CallbackSource
from booking.callbacks.services import (
    check_caller_details,
    close_request,
    create_request,
    record_attempt,
)
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office

OFFICE = "eingliederungshilfe"
# name, phone, language, interpreter, urgent, note, received (hours ago), state
DEMO_CALLERS = [
    ("Familie Okafor", "0211 5559012", "en", False, False, "Frage zum Antrag", 2, "new"),
    ("Familie Haddad", "0176 55501234", "ar", True, True, "Schule droht mit Ausschluss", 1, "new"),
    ("Familie Kaya", "0211 5553456", "tr", True, False, "", 7 * 24, "overdue"),
    ("Familie Lewandowski", "0152 55507788", "pl", False, False, "Rückfrage", 26, "assigned"),
    ("Familie Schubert", "0211 5557766", "de", False, False, "", 6 * 24, "tried"),
    ("Familie Demir", "0211 5551122", "tr", False, False, "Unterlagen", 5 * 24, "resolved"),
    ("Familie Ivanova", "0157 55503344", "uk", True, False, "", 8 * 24, "unreachable"),
    ("Familie Rahimi", "0211 5558899", "fa", True, False, "Termin gewünscht", 6 * 24, "booked"),
]


def create_demo_callbacks() -> int:
    """Once, when there are none: requests in every state for the § 35a unit."""
    if db.session.scalar(select(func.count()).select_from(CallbackRequest)):
        return 0
    office = db.session.scalar(select(Office).where(Office.slug == OFFICE))
    if office is None:
        return 0
    team = list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.offices.any(Office.id == office.id), StaffUser.active.is_(True))
            .order_by(StaffUser.name)
        )
    )
    reception = next((u for u in team if u.role == Role.RECEPTION), None)
    caseworkers = [u for u in team if u.role == Role.CASEWORKER]
    if reception is None or not caseworkers:
        return 0
    service = next((s for s in office.services if s.active), None)
    now = utcnow()
    made = 0
    for index, (name, phone, language, interpreter, urgent, note, hours, state) in enumerate(
        DEMO_CALLERS
    ):
        received = now - timedelta(hours=hours)
        details = check_caller_details(
            office,
            name,
            phone,
            service=service if index % 2 else None,
            language=language,
            interpreter_needed=interpreter,
            reachable=["mon-am", "wed-pm"] if index % 3 else ["tue-pm"],
            voicemail_ok=index % 2 == 0,
            urgent=urgent,
            note=note,
        )
        source = CallbackSource.ONLINE if index == 0 else CallbackSource.RECEPTION
        request = create_request(
            office,
            details,
            received,
            source=source,
            actor=None if source == CallbackSource.ONLINE else reception,
        )
        worker = caseworkers[index % len(caseworkers)]
        if state != "new" and state != "overdue":
            request.assign(worker, received + timedelta(minutes=30))
        if state in ("tried", "unreachable"):
            for offset in (hours - 20, hours - 22, hours - 46):
                if offset > 0:
                    record_attempt(request, "no_answer", "", worker, now - timedelta(hours=offset))
        if state == "unreachable":
            close_request(request, "unreachable", worker, now - timedelta(hours=hours - 50))
        elif state == "resolved":
            record_attempt(request, "reached", "", worker, received + timedelta(hours=3))
            close_request(request, "resolved", worker, received + timedelta(hours=3))
        elif state == "booked":
            appointment = db.session.scalar(
                select(Appointment).where(Appointment.office_id == office.id).limit(1)
            )
            record_attempt(request, "reached", "", worker, received + timedelta(hours=2))
            if appointment is not None:
                close_request(
                    request, "appointment_booked", worker, received + timedelta(hours=2),
                    appointment.reference,
                )  # fmt: skip
            else:
                close_request(request, "resolved", worker, received + timedelta(hours=2))
        made += 1
    db.session.commit()
    return made
