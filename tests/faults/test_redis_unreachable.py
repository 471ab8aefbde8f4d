"""Redis (the shared rate-limit storage) unreachable: the app keeps serving.

Decision (README, "Faults survived"): logins and bookings stay open, and every worker counts
the same limits in its own memory until Redis is back (rechecked within a minute), with a
warning in the log. A brute force gets at most the limit once per worker, never unlimited.
"""

import logging
import time
import uuid

import pytest
import redis
from freezegun import freeze_time

from booking.auth.models import Role
from tests.faults.helpers import TcpProxy, free_port, service_answers

REDIS = ("127.0.0.1", 6379)
FALLBACK_WARNING = "Rate limit storage unreachable"


def warnings_in(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def failed_login(client, email: str):
    return client.post("/login", data={"email": email, "password": "wrong password 123"})


@freeze_time("2027-03-01 07:00:00")
def test_redis_never_reachable_logins_and_bookings_keep_their_limits_per_worker(
    app_factory, bookable_service, make_staff, caplog
):
    closed = free_port()  # nothing listens there
    app = app_factory(RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{closed}/0")
    caplog.set_level(logging.INFO)
    with app.app_context():
        make_staff(Role.CASEWORKER, email="k.becker@example.org")
        client = app.test_client()
        assert client.get("/api/v1/offices").status_code == 200
        answer = client.post(
            "/api/v1/bookings",
            json={
                "service": "beratung-35a",
                "start": "2027-03-04T09:00:00+01:00",
                "name": "Familie Haddad",
                "email": "haddad@example.org",
                "privacy_consent": True,
            },
        )
        assert answer.status_code == 201, answer.json
        assert any(FALLBACK_WARNING in line for line in warnings_in(caplog))

        # The booking limit (10 a minute per address) still holds, counted in memory.
        statuses = [client.post("/api/v1/bookings", json={}).status_code for _ in range(10)]
        assert statuses == [422] * 9 + [429]

        # Failed logins of one account are still limited (5 a minute); the page answers.
        answers = [failed_login(client, "k.becker@example.org") for _ in range(6)]
        assert [a.status_code for a in answers] == [200] * 5 + [429]
        assert "E-Mail-Adresse oder Passwort ist falsch" in answers[0].get_data(as_text=True)
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


@pytest.mark.skipif(not service_answers(*REDIS), reason="no Redis on 127.0.0.1:6379")
def test_redis_going_away_mid_run_then_coming_back(app_factory, caplog):
    prefix = f"fault-{uuid.uuid4().hex[:8]}"
    port = free_port()
    proxy = TcpProxy(REDIS, port).start()
    app = app_factory(
        RATELIMIT_STORAGE_URI=f"redis://127.0.0.1:{port}/0", RATELIMIT_KEY_PREFIX=prefix
    )
    caplog.set_level(logging.INFO)
    direct = redis.Redis(*REDIS)
    try:
        with app.app_context():
            client = app.test_client()
            assert client.get("/api/v1/offices").status_code == 200
            assert direct.keys(f"*{prefix}*"), "the counter is in Redis while it answers"

            proxy.cut()
            started = time.monotonic()
            for _ in range(5):
                assert client.get("/api/v1/offices").status_code == 200
            assert time.monotonic() - started < 5  # short timeouts: no request hangs
            assert any(FALLBACK_WARNING in line for line in warnings_in(caplog))

            # Back: within a few seconds the counters are in Redis again.
            direct.delete(*direct.keys(f"*{prefix}*"))
            proxy = TcpProxy(REDIS, port).start()
            deadline = time.monotonic() + 20
            while not direct.keys(f"*{prefix}*"):
                assert time.monotonic() < deadline, "the app did not go back to Redis"
                assert client.get("/api/v1/offices").status_code == 200
                time.sleep(0.5)
            assert any("recovered" in r.getMessage() for r in caplog.records)
    finally:
        proxy.cut()
        keys = direct.keys(f"*{prefix}*")
        if keys:
            direct.delete(*keys)
        direct.close()
