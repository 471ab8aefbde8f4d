"""A booking storm through the public API against a real gunicorn, and what it leaves."""

import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from datetime import time as clock_time

from sqlalchemy import select

from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role
from booking.extensions import db
from booking.schedule.models import WeeklyHours
from tests.faults.helpers import http_request

SERVICE = "fault-storm"
RETRY_STATUSES = {502, 503, 504}


def make_storm_service(make_office, make_service, make_staff):
    """One office, a 15-minute service, one caseworker on weekdays 08-18: many free times."""
    office = make_office(slug="fault-office", name="Fault Office")
    service = make_service(office, slug=SERVICE, name="Beratung", minutes=15)
    user = make_staff(Role.CASEWORKER, offices=[office], name="Storm Caseworker")
    user.services = [service]
    for weekday in range(5):
        db.session.add(
            WeeklyHours(
                staff_id=user.id,
                office_id=office.id,
                weekday=weekday,
                start_time=clock_time(8),
                end_time=clock_time(18),
            )
        )
    db.session.commit()
    return service


def free_starts(port: int, count: int) -> list[str]:
    first = date.today() + timedelta(days=2)
    answer = http_request(
        port,
        "GET",
        f"/api/v1/slots?service={SERVICE}&from={first}&to={first + timedelta(days=40)}",
    )
    assert answer.status == 200, answer.body
    starts = [slot["start"] for slot in answer.json()["slots"]]
    assert len(starts) >= count, f"only {len(starts)} free times"
    return starts[:count]


@dataclass
class Attempt:
    status: int | None  # None: the connection broke (no answer)
    body: bytes = b""
    replayed: bool = False
    at: float = 0.0


@dataclass
class Booking:
    """One family's booking: one Idempotency-Key, every try with it, what came back."""

    start: str
    key: str = field(default_factory=lambda: f"storm-{uuid.uuid4().hex}")
    attempts: list[Attempt] = field(default_factory=list)

    @property
    def body(self) -> dict:
        return {
            "service": SERVICE,
            "start": self.start,
            "name": self.key,  # the row names its key: the database can be checked against it
            "email": f"{self.key}@example.org",
            "privacy_consent": True,
        }

    @property
    def final(self) -> Attempt | None:
        return self.attempts[-1] if self.attempts else None

    @property
    def booked(self) -> bool:
        return self.final is not None and self.final.status == 201

    @property
    def retried(self) -> bool:
        return len(self.attempts) > 1


def book(port: int, booking: Booking, fault: str | None = None, tries: int = 6) -> Booking:
    """POST the booking; a broken connection or a 502/503/504 is retried with the same key."""
    for n in range(tries):
        headers = {"Idempotency-Key": booking.key}
        if fault and n == 0:
            headers["X-Test-Fault"] = fault
        try:
            answer = http_request(port, "POST", "/api/v1/bookings", booking.body, headers)
        except OSError:  # http.client's RemoteDisconnected is an OSError too
            booking.attempts.append(Attempt(None, at=time.monotonic()))
            time.sleep(0.2)
            continue
        booking.attempts.append(
            Attempt(
                answer.status,
                answer.body,
                answer.headers.get("Idempotent-Replayed") == "true",
                time.monotonic(),
            )
        )
        if answer.status not in RETRY_STATUSES:
            break
        time.sleep(0.3)
    return booking


def storm(port: int, bookings: list[Booking], clients: int) -> None:
    """`clients` threads book the list between them, as fast as the server answers."""
    queue = list(bookings)
    lock = threading.Lock()

    def client() -> None:
        while True:
            with lock:
                if not queue:
                    return
                booking = queue.pop(0)
            book(port, booking)

    # Daemons: a client stuck on a dead server must not keep the test run alive.
    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)


def stored_appointments() -> dict[str, list[Appointment]]:
    """Booked appointments of the storm service by family name (= Idempotency-Key)."""
    db.session.commit()  # a fresh snapshot
    rows = db.session.scalars(
        select(Appointment).where(Appointment.status != AppointmentStatus.CANCELLED)
    ).all()
    by_key: dict[str, list[Appointment]] = {}
    for row in rows:
        by_key.setdefault(row.family_name, []).append(row)
    return by_key


def check_nothing_lost_nothing_extra(bookings: list[Booking]) -> None:
    """Each 201 is in the database once (with the reference it answered); nothing is there
    without a 201, unless its client retried with the same key."""
    stored = stored_appointments()
    for booking in bookings:
        rows = stored.get(booking.key, [])
        if booking.booked:
            assert len(rows) == 1, f"{booking.key}: {len(rows)} rows for a 201"
            assert rows[0].reference.encode() in booking.final.body
            for attempt in booking.attempts:  # every 201 of the key named the same booking
                if attempt.status == 201:
                    assert rows[0].reference.encode() in attempt.body
        else:
            assert len(rows) <= 1
            if rows:
                assert booking.retried, f"{booking.key}: stored without a 201 and no retry"
    unknown = set(stored) - {b.key for b in bookings}
    assert not {k for k in unknown if k.startswith("storm-")}
