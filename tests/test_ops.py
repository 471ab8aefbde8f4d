"""/readyz, /metrics, request ids and JSON log lines (in-process; tests/test_deployment.py runs
the real gunicorn)."""

import io
import json
import logging
import re
from datetime import timedelta

import pytest
import redis
from flask.logging import default_handler
from freezegun import freeze_time

from booking import ConfigurationError
from booking.callbacks.models import CallbackRequest
from booking.db import utcnow
from booking.extensions import db
from booking.notify.models import OutboxMessage, OutboxStatus
from booking.ops.logs import configure_logging

TOKEN = "m" * 40
NOW = "2027-03-01 07:00:00"
SLOT = "2027-03-04T10:00:00+01:00"
REDIS_URI = "redis://127.0.0.1:6379/13"


def redis_running() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URI, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


# --- /readyz ---------------------------------------------------------------------------------


def test_readyz_ready_with_a_current_schema(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json == {
        "status": "ready",
        "database": "up",
        "migrations": "current",
        "redis": "not configured",
    }


def test_readyz_503_when_the_database_is_unreachable(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/missing/dir/db.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["status"] == "unavailable"
    assert response.json["reason"] == "database unreachable"


def test_readyz_503_while_migrations_are_pending(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path}/empty.sqlite3")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["migrations"] == "pending"
    assert response.json["reason"].startswith("migrations pending: the database is at migration")
    assert "none (empty database)" in response.json["reason"]


def test_readyz_503_when_the_configured_redis_is_unreachable(app_factory):
    app = app_factory(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["reason"] == "redis unreachable"
    assert response.json["redis"] == "down"


@pytest.mark.skipif(not redis_running(), reason="no Redis on 127.0.0.1:6379")
def test_readyz_checks_the_configured_redis(app_factory):
    app = app_factory(RATELIMIT_STORAGE_URI=REDIS_URI)
    response = app.test_client().get("/readyz")
    assert response.status_code == 200
    assert response.json["redis"] == "up"


# --- /metrics --------------------------------------------------------------------------------


def scrape(client) -> str:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return response.get_data(as_text=True)


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample (0 when absent)."""
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(name):
            continue
        metric, _, value = line.rpartition(" ")
        found_name, _, label_text = metric.partition("{")
        found = dict(re.findall(r'(\w+)="([^"]*)"', label_text))
        if found_name == name and all(found.get(k) == v for k, v in labels.items()):
            return float(value)
    return 0.0


def test_metrics_are_a_404_without_a_configured_token(client):
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", headers={"Authorization": "Bearer x"}).status_code == 404


@pytest.mark.parametrize(
    "header", [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_metrics_are_a_401_without_the_token(app_factory, header):
    client = app_factory(METRICS_TOKEN=TOKEN).test_client()
    response = client.get("/metrics", headers={"Authorization": header} if header else {})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert "sprechstunde_" not in response.get_data(as_text=True)


def test_a_short_metrics_token_stops_the_app(app_factory):
    with pytest.raises(ConfigurationError, match="METRICS_TOKEN"):
        app_factory(METRICS_TOKEN="short")


def test_requests_are_counted_by_endpoint_name_and_status(app_factory, make_office):
    app = app_factory(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    with app.app_context():
        make_office(slug="welcome-point-secret-slug")
    before = scrape(client)
    assert client.get("/offices/welcome-point-secret-slug").status_code == 200
    assert client.get("/offices/no-such-office").status_code == 404
    assert client.get("/no/such/page/erika@example.org").status_code == 404
    after = scrape(client)

    def delta(**labels):
        name = "sprechstunde_http_requests_total"
        return sample(after, name, **labels) - sample(before, name, **labels)

    assert delta(endpoint="core.office", method="GET", status="200") == 1
    assert delta(endpoint="core.office", method="GET", status="404") == 1
    assert delta(endpoint="unmatched", method="GET", status="404") == 1
    assert "secret-slug" not in after and "erika" not in after and "/no/such" not in after
    assert sample(after, "sprechstunde_http_request_duration_seconds_count", endpoint="core.office")


@freeze_time(NOW)
def test_booking_outcomes_are_counted(app_factory, bookable_service):
    app = app_factory(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    before = scrape(client)
    body = {
        "service": "beratung-35a",
        "start": SLOT,
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "privacy_consent": True,
    }
    created = client.post("/api/v1/bookings", json=body)
    assert created.status_code == 201
    taken = client.post("/api/v1/bookings", json={**body, "email": "other@example.org"})
    assert taken.status_code == 409
    token = created.json["manage_token"]
    moved = client.post(
        f"/api/v1/bookings/{token}/move", json={"start": "2027-03-04T11:00:00+01:00"}
    )
    assert moved.status_code == 200
    assert client.post(f"/api/v1/bookings/{moved.json['manage_token']}/cancel").status_code == 200
    after = scrape(client)

    def delta(action, outcome):
        name = "sprechstunde_booking_outcomes_total"
        return sample(after, name, action=action, outcome=outcome) - sample(
            before, name, action=action, outcome=outcome
        )

    assert delta("book", "ok") == 1
    assert delta("book", "slot_taken") == 1
    assert delta("move", "ok") == 1
    assert delta("cancel", "ok") == 1


def test_outbox_backlog_failures_and_overdue_callbacks(app_factory, make_office):
    app = app_factory(METRICS_TOKEN=TOKEN)
    client = app.test_client()
    with app.app_context():
        office = make_office()
        now = utcnow()
        for status, attempts in [
            (OutboxStatus.PENDING, 0),
            (OutboxStatus.PENDING, 2),
            (OutboxStatus.FAILED, 8),
            (OutboxStatus.SENT, 1),
        ]:
            db.session.add(
                OutboxMessage(
                    kind="confirmation",
                    channel="email",
                    recipient="family@example.org",
                    body_text="…",
                    status=status,
                    attempts=attempts,
                    created_at=now - timedelta(minutes=30),
                )
            )
        for due in (now - timedelta(hours=1), now - timedelta(days=2), now + timedelta(days=1)):
            db.session.add(
                CallbackRequest(
                    office_id=office.id, caller_name="X", phone="+4921112345", due_at=due
                )
            )
        db.session.commit()
    text = scrape(client)
    assert sample(text, "sprechstunde_outbox_messages", status="pending") == 2
    assert sample(text, "sprechstunde_outbox_messages", status="failed") == 1
    assert sample(text, "sprechstunde_outbox_messages", status="sent") == 1
    assert sample(text, "sprechstunde_outbox_retrying_messages") == 1
    assert 1700 < sample(text, "sprechstunde_outbox_oldest_pending_seconds") < 1900
    assert sample(text, "sprechstunde_callbacks_overdue") == 2
    assert "+4921112345" not in text and "family@example.org" not in text


# --- request ids -----------------------------------------------------------------------------


def test_every_answer_carries_a_request_id(client):
    first = client.get("/healthz").headers["X-Request-ID"]
    second = client.get("/healthz").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", first) and first != second


def test_a_well_formed_incoming_request_id_is_kept(client):
    rid = "nginx-7f3a9c1e-4b2d-11ef-9a1b"
    assert client.get("/healthz", headers={"X-Request-ID": rid}).headers["X-Request-ID"] == rid


@pytest.mark.parametrize(
    "incoming",
    [
        "short",
        "a" * 65,
        "erika@example.org",
        "<script>alert(1)</script>",
        "id with spaces",
        "-x" * 8,
    ],
)
def test_a_malformed_incoming_request_id_is_replaced(client, incoming):
    answered = client.get("/healthz", headers={"X-Request-ID": incoming}).headers["X-Request-ID"]
    assert answered != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", answered)


def test_error_pages_show_the_request_id(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("boom")

    boom._access_rule = "public"
    client = app.test_client()
    for path, status in (("/no-such-page", 404), ("/boom", 500)):
        response = client.get(path, headers={"X-Request-ID": f"support-case-{status}-abc"})
        assert response.status_code == status
        assert f"support-case-{status}-abc" in response.get_data(as_text=True)
        assert response.headers["X-Request-ID"] == f"support-case-{status}-abc"
    response = client.get("/no-such-page?lang=en")
    assert response.headers["X-Request-ID"] in response.get_data(as_text=True)
    assert "Request ID" in response.get_data(as_text=True)


def test_json_log_lines_carry_the_request_id(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False, LOG_FORMAT="json")

    @app.route("/manage/<token>/boom")
    def boom(token):
        app.logger.warning("looking at %s for erika@example.org", token)
        raise RuntimeError(f"cannot handle {token}")

    boom._access_rule = "public"
    stream = io.StringIO()
    root = logging.getLogger()
    root_level = root.level
    configure_logging(app, stream=stream)
    try:
        response = app.test_client().get(
            "/manage/abcdefghijklmnopqrstuvwxyz/boom", headers={"X-Request-ID": "trace-0123456789"}
        )
        logging.getLogger("booking.test").info("outside a request")
    finally:
        for handler in [h for h in root.handlers if getattr(h, "stream", None) is stream]:
            root.removeHandler(handler)
        root.setLevel(root_level)
        app.logger.addHandler(default_handler)
    assert response.status_code == 500
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    in_request = [line for line in lines if line["request_id"] == "trace-0123456789"]
    assert {line["level"] for line in in_request} >= {"WARNING", "ERROR"}
    assert any("RuntimeError" in line.get("exception", "") for line in in_request)
    assert lines[-1]["request_id"] == "-" and lines[-1]["message"] == "outside a request"
    assert all({"time", "level", "logger", "request_id", "message"} <= set(line) for line in lines)
    text = stream.getvalue()
    assert "abcdefghijklmnopqrstuvwxyz" not in text and "erika@example.org" not in text


def test_an_unknown_log_format_stops_the_app(app_factory):
    with pytest.raises(ConfigurationError, match="LOG_FORMAT"):
        app_factory(LOG_FORMAT="xml")


def test_log_record_factories_are_installed_once_however_many_apps(app_factory):
    for _ in range(3):
        app_factory()
    factory = logging.getLogRecordFactory()
    depth = 0
    while getattr(factory, "__closure__", None):
        cells = [c.cell_contents for c in factory.__closure__ if callable(c.cell_contents)]
        if not cells:
            break
        factory, depth = cells[0], depth + 1
    assert depth <= 2  # the redaction and the request id, each once


def test_a_failed_commit_is_counted_and_answered_as_the_503_it_is(app_factory):
    from sqlalchemy.exc import OperationalError

    app = app_factory(METRICS_TOKEN=TOKEN)

    @app.post("/_probe/commit-fails")
    def probe_commit_fails():
        db.session.execute(db.text("SELECT 1"))

        def lost_connection():
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

        db.session().commit = lost_connection  # this request's session only
        return "ok"

    probe_commit_fails._access_rule = "public"
    client = app.test_client()
    before = scrape(client)
    response = client.post("/_probe/commit-fails", headers={"X-Request-ID": "commit-lost-0001"})
    assert response.status_code == 503
    assert response.headers["X-Request-ID"] == "commit-lost-0001"
    assert "commit-lost-0001" in response.get_data(as_text=True)
    after = scrape(client)
    labels = {"endpoint": "probe_commit_fails", "method": "POST"}
    name = "sprechstunde_http_requests_total"
    assert (
        sample(after, name, status="503", **labels) - sample(before, name, status="503", **labels)
        == 1
    )
    assert sample(after, name, status="200", **labels) == sample(
        before, name, status="200", **labels
    )
