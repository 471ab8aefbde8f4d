"""A gunicorn worker killed with SIGKILL in the middle of a booking storm.

Every booking that got a 201 is in the database once; none is there without a 201 unless
its client retried with the same Idempotency-Key (and then the retry answered it); the other
workers keep answering and the master replaces the dead one. Runs on the suite's engine
(SQLite file or PostgreSQL) with three sync workers of our gunicorn.conf.py.
"""

import os
import signal
import threading
import time

import pytest

from tests.faults.helpers import free_port, http_request, start_gunicorn
from tests.faults.storm import (
    Booking,
    book,
    check_nothing_lost_nothing_extra,
    free_starts,
    make_storm_service,
    storm,
)

WORKERS = 3


@pytest.fixture
def server(app, database_uri, make_office, make_service, make_staff, tmp_path):
    make_storm_service(make_office, make_service, make_staff)
    gunicorn = start_gunicorn(
        database_uri, free_port(), tmp_path, workers=WORKERS, app="tests.faults.fault_app:app"
    )
    try:
        yield gunicorn
    finally:
        gunicorn.stop()
        assert gunicorn.process.poll() is not None


def wait_for_workers(server, count: int, timeout: float = 30) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        pids = server.worker_pids()
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"only {server.worker_pids()} workers after {timeout} s")


def test_killed_before_and_after_the_commit_the_retry_books_once(server):
    before, after = free_starts(server.port, 2)
    first = book(server.port, Booking(before), fault="kill-before-commit")
    # Killed before the commit: no answer, nothing stored; the retry books it.
    assert first.attempts[0].status is None
    assert first.booked and not first.final.replayed
    second = book(server.port, Booking(after), fault="kill-after-commit")
    # Killed after the commit: no answer, but stored; the retry gets the same 201 again.
    assert second.attempts[0].status is None
    assert second.booked and second.final.replayed
    check_nothing_lost_nothing_extra([first, second])
    wait_for_workers(server, WORKERS)
    assert "Traceback" not in server.log_text()


def test_a_worker_killed_in_a_storm_loses_nothing_and_the_others_keep_answering(server):
    starts = free_starts(server.port, 60)
    # Two families want each of the first ten times: one gets it, the other a 409.
    bookings = [Booking(start) for start in starts] + [Booking(start) for start in starts[:10]]
    victims = []
    done = threading.Event()

    def killer():
        while sum(b.booked for b in bookings) < 15:
            if done.is_set():
                return
            time.sleep(0.02)
        victim = server.worker_pids()[0]
        os.kill(victim, signal.SIGKILL)
        victims.append((victim, time.monotonic()))

    thread = threading.Thread(target=killer, daemon=True)
    thread.start()
    started = time.monotonic()
    storm(server.port, bookings, clients=6)
    done.set()
    thread.join(timeout=30)
    assert victims, "the worker was never killed"
    victim, killed_at = victims[0]
    assert time.monotonic() - started < 90

    check_nothing_lost_nothing_extra(bookings)
    statuses = {a.status for b in bookings for a in b.attempts}
    assert statuses <= {201, 409, 503, None}, statuses  # never a 500
    assert sum(b.booked for b in bookings) == 60  # every time once, whatever was killed
    assert sum(b.final.status == 409 for b in bookings) == 10
    # The other workers kept answering: bookings answered after the kill.
    assert sum(1 for b in bookings for a in b.attempts if a.at > killed_at and a.status) >= 10
    pids = wait_for_workers(server, WORKERS)
    assert victim not in pids  # the master started a new worker
    assert http_request(server.port, "GET", "/healthz").status == 200
    assert "Traceback" not in server.log_text()
