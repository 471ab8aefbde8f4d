"""A hold for a waiting-list family and a public booking of the same time, at the same
moment: exactly one wins, on SQLite and on PostgreSQL (threads and processes). One contact
joining one list several times at once gets one place."""

import multiprocessing
import threading

import pytest
from sqlalchemy import func, select, text

from booking import create_app
from booking.appointments.booking import check_family_details
from booking.appointments.models import Appointment, AppointmentStatus
from booking.core.transactions import begin_write
from booking.extensions import db
from booking.offices.models import Service
from booking.waitlist.models import (
    AFTERNOON,
    EntryStatus,
    OfferState,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.waitlist.services import AlreadyWaiting, hold_time, join_waitlist
from tests.conftest import make_test_config
from tests.test_booking_concurrency import NOW, SLOT, book_in_new_context, one_caseworker

assert one_caseworker  # the fixture: one caseworker, Thursday 09-12, a 30-minute service


def hold_in_new_context(app, entry_id: int, staff_id: int) -> str:
    with app.app_context():
        try:
            begin_write()
            entry = db.session.get(WaitlistEntry, entry_id)
            held = hold_time(entry, (staff_id,), SLOT, NOW)
            db.session.commit()
            return "held" if held else "taken"
        except Exception as error:  # reported as a failure by the test
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


@pytest.fixture
def waiting(app, one_caseworker):
    """One family waiting for afternoons only: no time of the day suits them, so the offer
    processing after the booking's commit never holds anything by itself."""
    service = db.session.get(Service, one_caseworker["short"])
    family = check_family_details("Familie W", "w@example.org", None, "de", False, "")
    entry, _ = join_waitlist(service, family, 0b1111111, AFTERNOON, NOW)
    db.session.commit()
    return {**one_caseworker, "entry": entry.id}


def winners() -> tuple[int, int]:
    db.session.commit()
    booked = db.session.scalar(
        select(func.count())
        .select_from(Appointment)
        .where(Appointment.status == AppointmentStatus.BOOKED)
    )
    held = db.session.scalar(
        select(func.count())
        .select_from(WaitlistOffer)
        .where(WaitlistOffer.state == OfferState.OFFERED)
    )
    return booked, held


def test_threads_hold_and_booking_of_the_same_time_one_wins(app, waiting):
    for _round in range(5):
        results = ["", ""]
        barrier = threading.Barrier(2)

        def hold(results=results, barrier=barrier):
            barrier.wait()
            results[0] = hold_in_new_context(app, waiting["entry"], waiting["staff"])

        def book(results=results, barrier=barrier):
            barrier.wait()
            results[1] = book_in_new_context(app, waiting["short"], SLOT, 1)

        threads = [threading.Thread(target=hold), threading.Thread(target=book)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) in (["held", "taken"], ["booked", "taken"]), results
        assert sum(winners()) == 1, results
        # Reset for the next round: the time is free again.
        db.session.execute(text("DELETE FROM waitlist_offer"))
        db.session.execute(
            text("UPDATE appointment SET status = 'cancelled', cancelled_at = starts_at")
        )
        db.session.commit()


def _race_process(database_uri, kind, ids, barrier, queue):
    app = create_app(make_test_config(database_uri))
    with app.app_context():
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    barrier.wait(timeout=60)
    if kind == "hold":
        queue.put(hold_in_new_context(app, ids["entry"], ids["staff"]))
    else:
        queue.put(book_in_new_context(app, ids["short"], SLOT, 2))


def test_processes_hold_and_booking_of_the_same_time_one_wins(app, waiting, database_uri):
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    barrier = context.Barrier(2)
    ids = {key: waiting[key] for key in ("entry", "staff", "short")}
    processes = [
        context.Process(target=_race_process, args=(database_uri, kind, ids, barrier, queue))
        for kind in ("hold", "book")
    ]
    for process in processes:
        process.start()
    results = sorted(queue.get(timeout=120) for _ in processes)
    for process in processes:
        process.join(timeout=60)
    assert results in (["held", "taken"], ["booked", "taken"]), results
    assert sum(winners()) == 1


def join_in_new_context(app, service_id: int, contact: dict) -> str:
    with app.app_context():
        try:
            service = db.session.get(Service, service_id)
            family = check_family_details(
                "Familie J", contact.get("email"), contact.get("phone"), "de", False, ""
            )
            join_waitlist(service, family, 0b1111111, AFTERNOON, NOW)
            db.session.commit()
            return "joined"
        except AlreadyWaiting:
            db.session.commit()  # as a request does: the refusal's audit entry stays
            return "refused"
        except Exception as error:  # reported as a failure by the test
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


@pytest.mark.parametrize(
    "contacts",
    [
        [
            {"email": e}
            for e in ("Haddad@example.org", "haddad+1@example.org", "haddad@EXAMPLE.org")
        ],
        [{"phone": p} for p in ("0171 2345678", "+49 171 2345678", "0049171/2345678")],
    ],
    ids=["email", "phone"],
)
def test_threads_of_one_contact_joining_at_once_get_one_place(app, one_caseworker, contacts):
    service_id = one_caseworker["short"]
    for _round in range(3):
        jobs = contacts * 2
        results = [""] * len(jobs)
        barrier = threading.Barrier(len(jobs))

        def work(index, contact, results=results, barrier=barrier):
            barrier.wait()
            results[index] = join_in_new_context(app, service_id, contact)

        threads = [threading.Thread(target=work, args=job) for job in enumerate(jobs)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert sorted(results) == ["joined"] + ["refused"] * (len(jobs) - 1), results
        db.session.commit()
        waiting = db.session.scalar(
            select(func.count())
            .select_from(WaitlistEntry)
            .where(WaitlistEntry.status == EntryStatus.WAITING)
        )
        assert waiting == 1
        db.session.execute(text("UPDATE waitlist_entry SET status = 'left'"))
        db.session.commit()
