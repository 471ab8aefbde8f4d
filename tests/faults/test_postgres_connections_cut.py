"""PostgreSQL connections cut under load (pg_terminate_backend on the test database's own
backends only): requests in flight get a clean 503 (the app's JSON or page, Retry-After, no
traceback), the app recovers by itself (the pool drops dead connections; pool_pre_ping checks
the others), and nothing that got a 201 is lost. PostgreSQL runs only (make test-postgres).
"""

import threading
import time

import psycopg
import pytest

from tests.faults.helpers import free_port, http_request, start_gunicorn
from tests.faults.storm import (
    SERVICE,
    Booking,
    book,
    check_nothing_lost_nothing_extra,
    free_starts,
    make_storm_service,
    storm,
)

TERMINATE = """
    SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid()
"""


@pytest.fixture
def pg_uri(database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("PostgreSQL's connections: make test-postgres")
    return database_uri.replace("postgresql+psycopg://", "postgresql://", 1)


@pytest.fixture
def server(pg_uri, app, database_uri, make_office, make_service, make_staff, tmp_path):
    make_storm_service(make_office, make_service, make_staff)
    gunicorn = start_gunicorn(
        database_uri, free_port(), tmp_path, workers=2, app="tests.faults.fault_app:app"
    )
    try:
        yield gunicorn
    finally:
        gunicorn.stop()


def all_answer(server, requests: int = 8) -> bool:
    return all(
        http_request(server.port, "GET", f"/book/{SERVICE}").status == 200 for _ in range(requests)
    )


@pytest.mark.parametrize("fault", ["cut-connection-in-view", "cut-connection-before-commit"])
def test_a_booking_whose_connection_is_cut_gets_a_clean_503_and_the_retry_books_once(server, fault):
    [start] = free_starts(server.port, 1)
    booking = book(server.port, Booking(start), fault=fault)
    first, last = booking.attempts[0], booking.final
    assert first.status == 503
    assert first.body == b'{"error":"unavailable"}\n'
    assert last.status == 201 and not last.replayed  # nothing was stored: booked anew
    check_nothing_lost_nothing_extra([booking])
    assert all_answer(server)  # recovered by itself
    log = server.log_text()
    assert "database fault (connection)" in log
    assert "Traceback" not in log


def test_a_page_whose_connection_is_cut_shows_the_apps_503_page(server):
    answer = http_request(
        server.port,
        "GET",
        f"/book/{SERVICE}",
        headers={"X-Test-Fault": "cut-connection-in-view", "Accept-Language": "de"},
    )
    html = answer.body.decode()
    assert answer.status == 503
    assert answer.headers["Retry-After"] == "30"
    assert "Dienst nicht verfügbar" in html and "Fehlercode" in html  # our page, in German
    assert "Traceback" not in html and "psycopg" not in html
    assert all_answer(server)


def test_connections_cut_again_and_again_under_load_lose_nothing(server, pg_uri):
    starts = free_starts(server.port, 40)
    bookings = [Booking(start) for start in starts]
    cuts = []
    stop = threading.Event()

    def terminator():
        with psycopg.connect(pg_uri, autocommit=True) as connection:
            while not stop.is_set() and len(cuts) < 8:
                time.sleep(0.25)
                cuts.append(connection.execute(TERMINATE).fetchone()[0])

    thread = threading.Thread(target=terminator, daemon=True)
    thread.start()
    try:
        storm(server.port, bookings, clients=4)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert sum(cuts) >= 1, "no connection was cut"

    check_nothing_lost_nothing_extra(bookings)
    answers = [a for b in bookings for a in b.attempts]
    assert {a.status for a in answers} <= {201, 503}  # never a 500, never a dropped answer
    assert all(a.body == b'{"error":"unavailable"}\n' for a in answers if a.status == 503)
    assert all(b.booked for b in bookings)  # each got its 201 (after a retry, if need be)
    # Recovered by itself: a new booking and the pages answer at once.
    [start] = free_starts(server.port, 1)
    assert book(server.port, Booking(start), tries=1).booked
    assert all_answer(server)
    assert "Traceback" not in server.log_text()
