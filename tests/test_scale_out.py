"""Two app servers (two gunicorn instances, two workers each) on one PostgreSQL and one Redis.

Runs in CI's PostgreSQL run (tests/pg_run.py sets BOOKING_TEST_DATABASE_URI); skipped on
SQLite, which is one file on one host and no setup for several servers. Redis is expected at
127.0.0.1:6379 (.ci/run starts it); the test uses database 14 and a key prefix of its own.
"""

import threading
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
import redis
import requests
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from booking.appointments.models import Appointment
from booking.extensions import db
from tests.gunicorn_server import production_env, start_gunicorn

PORTS = (5402, 5403)
REDIS_URI = "redis://127.0.0.1:6379/14"
METRICS_TOKEN = "s" * 40


@pytest.fixture
def postgresql(database_uri):
    if make_url(database_uri).get_backend_name() != "postgresql":
        pytest.skip("several app servers need PostgreSQL (run with tests/pg_run.py)")
    return database_uri


@pytest.fixture
def shared_redis():
    client = redis.Redis.from_url(REDIS_URI, socket_connect_timeout=2)
    client.ping()  # no skip: the PostgreSQL run must prove this, so a missing Redis fails
    prefix = f"scale-out-{uuid.uuid4().hex[:8]}"
    yield prefix
    for key in client.scan_iter(match=f"*{prefix}*"):
        client.delete(key)


@pytest.fixture
def two_servers(postgresql, shared_redis, bookable_service, tmp_path):
    servers = []
    try:
        for port in PORTS:
            env = production_env(
                postgresql,
                GUNICORN_WORKERS="2",
                BOOKING_RATELIMIT_STORAGE_URI=REDIS_URI,
                BOOKING_RATELIMIT_KEY_PREFIX=shared_redis,
                BOOKING_PROXY_FIX_HOPS="1",  # as behind nginx: X-Forwarded-For is the client
                BOOKING_METRICS_TOKEN=METRICS_TOKEN,
                BOOKING_SLOT_CACHE_SECONDS="60",
                PROMETHEUS_MULTIPROC_DIR=str(tmp_path / f"metrics-{port}"),
            )
            servers.append(start_gunicorn(env, port, tmp_path / f"gunicorn-{port}.log"))
        yield servers
    finally:
        for server in servers:
            server.stop()


def booking(start: str, n: int) -> dict:
    return {
        "service": "beratung-35a",
        "start": start,
        "name": f"Familie {n}",
        "email": f"familie{n}@example.org",
        "privacy_consent": True,
    }


def test_two_servers_share_rate_limits_and_never_give_a_slot_twice(two_servers, app):
    a, b = two_servers
    today = date.today()
    slots = requests.get(
        f"{a.url}/api/v1/slots",
        params={"service": "beratung-35a", "from": today, "to": today + timedelta(days=59)},
        timeout=30,
    ).json()["slots"]
    assert len(slots) >= 3
    contested = [slot["start"] for slot in slots[:3]]

    # Six families want each of three times at once, half through each server.
    barrier = threading.Barrier(18)

    def book(job: tuple[int, str]) -> tuple[str, int]:
        n, start = job
        server = (a, b)[n % 2]
        barrier.wait(timeout=30)
        answer = requests.post(
            f"{server.url}/api/v1/bookings",
            json=booking(start, n),
            headers={"X-Forwarded-For": f"198.51.100.{n + 1}"},  # one address each
            timeout=60,
        )
        return start, answer.status_code

    jobs = [(n, contested[n % 3]) for n in range(18)]
    with ThreadPoolExecutor(max_workers=18) as pool:
        results = list(pool.map(book, jobs))
    by_start = {start: Counter(code for s, code in results if s == start) for start in contested}
    for start in contested:
        assert by_start[start] == Counter({201: 1, 409: 5}), (start, by_start[start])
    with app.app_context():
        db.session.commit()
        counts = db.session.execute(
            select(Appointment.starts_at, func.count()).group_by(Appointment.starts_at)
        ).all()
    assert len(counts) == 3 and all(count == 1 for _, count in counts)

    # One address, ten bookings a minute (WRITE_LIMIT) across both servers together.
    client = {"X-Forwarded-For": "203.0.113.77"}
    codes = [
        requests.post(
            f"{server.url}/api/v1/bookings", json={}, headers=client, timeout=30
        ).status_code
        for server in (a, b) * 5
    ]
    assert codes == [422] * 10  # five on each server: under the limit
    for server in (a, b):  # the eleventh, on either server, is over it
        answer = requests.post(f"{server.url}/api/v1/bookings", json={}, headers=client, timeout=30)
        assert answer.status_code == 429
    other = {"X-Forwarded-For": "203.0.113.78"}  # another family is not affected
    assert (
        requests.post(f"{a.url}/api/v1/bookings", json={}, headers=other, timeout=30).status_code
        == 422
    )

    # Each server's /metrics sums its two workers (prometheus_client multiprocess mode).
    sent_to_a = sum(1 for n, _ in jobs if n % 2 == 0) + 5 + 1 + 1
    text = requests.get(
        f"{a.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=30
    ).text
    answered = 0.0
    for line in text.splitlines():
        if line.startswith('sprechstunde_http_requests_total{endpoint="api.create_booking"'):
            answered += float(line.rsplit(" ", 1)[1])
    assert answered == sent_to_a
    booked = [
        line
        for line in text.splitlines()
        if line.startswith('sprechstunde_booking_outcomes_total{action="book",outcome="ok"}')
    ]
    assert booked  # at least one of the three went through this server
