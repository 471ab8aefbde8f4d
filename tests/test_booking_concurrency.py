"""Two families can never hold the same slot: the database decides, on SQLite and PostgreSQL."""

import multiprocessing
import threading
import time as time_module
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from booking import create_app
from booking.appointments.booking import (
    NotASlot,
    SlotTaken,
    TooManyOpenBookings,
    book_appointment,
    check_family_details,
    email_key,
    phone_key,
)
from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role, StaffUser
from booking.extensions import db
from booking.offices.models import Service
from booking.schedule.models import AbsenceKind, WeeklyHours
from booking.schedule.services import add_absence
from tests.conftest import make_test_config

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)
SLOT = datetime(2027, 3, 4, 10, tzinfo=BERLIN)  # Thursday


@pytest.fixture
def one_caseworker(make_office, make_service, make_staff):
    office = make_office(slug="wp-gerricusplatz")
    long = make_service(office, slug="lang", minutes=60, step_minutes=30)
    short = make_service(office, slug="kurz", minutes=30)
    user = make_staff(Role.CASEWORKER, offices=[office])
    user.services = [long, short]
    db.session.add(
        WeeklyHours(
            staff_id=user.id, office_id=office.id, weekday=3, start_time=time(9), end_time=time(12)
        )
    )
    db.session.commit()
    return {"long": long.id, "short": short.id, "staff": user.id}


def family(n: int, email: str | None = None, phone: str | None = None):
    if email is None and phone is None:
        email = f"f{n}@example.org"
    return check_family_details(f"Familie {n}", email, phone, "de", False, "")


def book_in_new_context(app, service_id: int, start: datetime, n: int, contact=None) -> str:
    with app.app_context():
        try:
            service = db.session.get(Service, service_id)
            book_appointment(service, start, family(n, **(contact or {})), NOW)
            db.session.commit()
            return "booked"
        except SlotTaken:
            db.session.rollback()
            return "taken"
        except TooManyOpenBookings:
            db.session.rollback()
            return "limit"
        except Exception as error:  # the test reports anything else as a failure
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def run_threads(app, jobs) -> list[str]:
    results: list[str] = [""] * len(jobs)
    barrier = threading.Barrier(len(jobs))

    def worker(index, service_id, start, contact=None):
        barrier.wait()
        results[index] = book_in_new_context(app, service_id, start, index, contact)

    threads = [threading.Thread(target=worker, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def holding_count() -> int:
    db.session.commit()
    return db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.status != AppointmentStatus.CANCELLED)
    )


def test_threads_booking_the_same_slot_one_wins(app, one_caseworker):
    results = run_threads(app, [(one_caseworker["short"], SLOT)] * 8)
    assert sorted(results) == ["booked"] + ["taken"] * 7, results
    assert holding_count() == 1


def test_threads_booking_overlapping_lengths_one_wins(app, one_caseworker):
    # 09:30-10:30 (long) and 10:00-10:30 (short) overlap for the single caseworker.
    jobs = [(one_caseworker["long"], SLOT - timedelta(minutes=30))] * 4
    jobs += [(one_caseworker["short"], SLOT)] * 4
    results = run_threads(app, jobs)
    assert results.count("booked") == 1, results
    assert results.count("taken") == 7, results
    assert holding_count() == 1


def _process_worker(database_uri, service_id, start_iso, n, barrier, queue, contact=None):
    app = create_app(make_test_config(database_uri))
    with app.app_context():  # connect before the barrier, so the racers start together
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    barrier.wait(timeout=60)
    start = datetime.fromisoformat(start_iso)
    queue.put(book_in_new_context(app, service_id, start, n, contact))


def run_processes(database_uri, jobs) -> list[str]:
    """Each job in its own process (own interpreter, own connection), released together."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    barrier = context.Barrier(len(jobs))
    processes = [
        context.Process(
            target=_process_worker,
            args=(database_uri, service_id, start.isoformat(), n, barrier, queue, *contact),
        )
        for n, (service_id, start, *contact) in enumerate(jobs)
    ]
    for process in processes:
        process.start()
    results = sorted(queue.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    return results


def test_processes_booking_the_same_slot_one_wins(app, one_caseworker, database_uri):
    results = run_processes(database_uri, [(one_caseworker["short"], SLOT)] * 4)
    assert results == ["booked", "taken", "taken", "taken"], results
    assert holding_count() == 1


# One family, six free slots, a limit of two open appointments: however the email is spelt
# (case, "+tag") and however many requests race, two are booked.
SPELLINGS = [
    {"email": "haddad@example.org"},
    {"email": "Haddad@Example.org"},
    {"email": "haddad+termin@example.org"},
    {"email": "HADDAD+2@example.org"},
    {"email": "haddad+x@EXAMPLE.ORG"},
    {"email": "haddad@example.org"},
]
PHONES = [{"phone": p} for p in ("0171 2345678", "+49 171 2345678", "0049171/2345678")] * 2


def contact_race_jobs(one_caseworker, contacts):
    service = one_caseworker["short"]
    starts = [SLOT - timedelta(minutes=60) + timedelta(minutes=30 * n) for n in range(6)]
    return [(service, start, contact) for start, contact in zip(starts, contacts, strict=True)]


def test_contact_keys():
    assert {email_key(c["email"]) for c in SPELLINGS} == {"haddad@example.org"}
    assert {phone_key(c["phone"]) for c in PHONES} == {"+491712345678"}
    assert email_key("a+b+c@x.de") == "a@x.de" and email_key(None) is None


@pytest.mark.parametrize("contacts", [SPELLINGS, PHONES], ids=["email", "phone"])
def test_threads_of_one_contact_get_no_more_than_the_limit(app, one_caseworker, contacts):
    assert db.session.get(Service, one_caseworker["short"]).max_open_bookings_per_contact == 2
    results = run_threads(app, contact_race_jobs(one_caseworker, contacts))
    assert sorted(results) == ["booked"] * 2 + ["limit"] * 4, results
    assert holding_count() == 2


def test_processes_of_one_contact_get_no_more_than_the_limit(app, one_caseworker, database_uri):
    jobs = contact_race_jobs(one_caseworker, SPELLINGS)[:4]  # a process takes seconds to start
    results = run_processes(database_uri, jobs)
    assert results == ["booked"] * 2 + ["limit"] * 2, results
    assert holding_count() == 2


def test_the_database_itself_refuses_overlaps(app, one_caseworker):
    """Even code that skips every check cannot store two overlapping appointments."""

    def row(start: datetime, minutes: int) -> Appointment:
        return Appointment(
            service_id=one_caseworker["short"],
            office_id=db.session.get(Service, one_caseworker["short"]).office_id,
            staff_id=one_caseworker["staff"],
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            busy_until=start + timedelta(minutes=minutes),
            family_name="X",
        )

    db.session.add(row(SLOT, 30))
    db.session.commit()
    for start, minutes in [
        (SLOT, 30),
        (SLOT - timedelta(minutes=15), 30),
        (SLOT + timedelta(minutes=29), 60),
    ]:
        db.session.add(row(start, minutes))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
    # Touching is fine; a cancelled appointment holds nothing.
    db.session.add(row(SLOT + timedelta(minutes=30), 30))
    db.session.commit()
    first = db.session.scalar(select(Appointment).order_by(Appointment.id))
    first.status = AppointmentStatus.CANCELLED
    db.session.commit()
    db.session.add(row(SLOT - timedelta(minutes=15), 30))
    db.session.commit()
    # Restoring the cancelled one would overlap now: refused by the database as well.
    first.status = AppointmentStatus.BOOKED
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_postgres_has_the_exclusion_constraint(app):
    if db.engine.dialect.name != "postgresql":
        triggers = db.session.execute(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        ).scalars()
        assert set(triggers) >= {"appointment_no_overlap_insert", "appointment_no_overlap_update"}
        return
    found = db.session.execute(
        text("SELECT conname FROM pg_constraint WHERE conname = 'ex_appointment_no_overlap'")
    ).scalar()
    assert found == "ex_appointment_no_overlap"


def test_an_absence_and_a_booking_at_the_same_moment_never_both_hold(app, one_caseworker):
    """PostgreSQL: an absence being entered holds the caseworker's lock until it commits, so
    a booking of a time inside it waits and then sees it (taken). Without the lock both
    committed: a booking inside an absence whose list of conflicts had missed it."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time anyway")
    flushed, proceed = threading.Event(), threading.Event()

    def enter_absence() -> None:
        with app.app_context():
            staff = db.session.get(StaffUser, one_caseworker["staff"])
            day = SLOT.date()
            add_absence(staff, AbsenceKind.ILLNESS, day, day, None, None, "", staff)
            flushed.set()
            proceed.wait(10)
            db.session.commit()

    absence = threading.Thread(target=enter_absence)
    absence.start()
    assert flushed.wait(10)
    outcome: list[str] = []
    booking = threading.Thread(
        target=lambda: outcome.append(book_in_new_context(app, one_caseworker["short"], SLOT, 1))
    )
    booking.start()
    waited = False  # the booking waits for the absence's lock: PostgreSQL shows it ungranted
    for _ in range(100):
        with db.engine.connect() as watcher:
            waited = bool(
                watcher.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                    )
                )
            )
        if waited or not booking.is_alive():
            break
        time_module.sleep(0.05)
    proceed.set()
    absence.join(10)
    booking.join(10)
    assert waited
    assert outcome == ["taken"]


def test_not_a_slot_time_is_not_taken(app, one_caseworker):
    service = db.session.get(Service, one_caseworker["short"])
    with pytest.raises(NotASlot):
        book_appointment(service, SLOT + timedelta(minutes=10), family(1), NOW)
    db.session.rollback()
    with pytest.raises(NotASlot):  # Saturday: no hours
        book_appointment(service, SLOT + timedelta(days=2), family(1), NOW)
    db.session.rollback()


def test_a_busy_database_says_try_again_not_locked(app, one_caseworker, monkeypatch):
    """When the write lock cannot be had, the family reads "try again", never a raw error."""
    from sqlalchemy.orm import Session

    from booking.appointments import booking as booking_module
    from booking.core.transactions import DatabaseBusy

    taking_lock = []
    real_connection, real_begin_write = Session.connection, booking_module.begin_write

    def locked(self, *args, **kwargs):
        if taking_lock:  # reads before the lock (SQLite's first check) go on as usual
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        return real_connection(self, *args, **kwargs)

    def begin_write(*args, **kwargs):
        taking_lock.append(True)
        real_begin_write(*args, **kwargs)

    monkeypatch.setattr(Session, "connection", locked)
    monkeypatch.setattr(booking_module, "begin_write", begin_write)
    monkeypatch.setattr("booking.core.transactions.time.sleep", lambda seconds: None)
    service = db.session.get(Service, one_caseworker["short"])
    with pytest.raises(DatabaseBusy):
        book_appointment(service, SLOT, family(1), NOW)


def test_api_answers_503_when_the_database_is_busy(client, bookable_service, monkeypatch):
    from booking.core.transactions import DatabaseBusy

    def busy(*args, **kwargs):
        raise DatabaseBusy("busy")

    monkeypatch.setattr("booking.api.views.book_appointment", busy)
    response = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": "2027-03-04T10:00:00+01:00",
            "name": "X",
            "email": "x@example.org",
            "privacy_consent": True,
        },
    )
    assert response.status_code == 503
    assert response.json == {"error": "busy"}
