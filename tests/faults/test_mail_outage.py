"""The mail server down for an hour, then back: every queued message goes out exactly once.

The clock is frozen and moved a minute at a time (freezegun); the sender runs once a minute
as cron runs it. Down means nothing listens on the port; back means a real SMTP server
(aiosmtpd) on it.
"""

import contextlib
import socket
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from booking.db import utcnow
from booking.extensions import db
from booking.notify import sender
from booking.notify.models import OutboxMessage, OutboxStatus
from booking.notify.sender import send_pending
from tests.faults.helpers import free_port
from tests.test_notify import Inbox

NOW = datetime(2027, 3, 1, 7, 0, tzinfo=UTC)  # Monday, 08:00 in Düsseldorf
# The unit's slots: Thursdays 09:00, 10:00 and 11:00, Berlin time.
SLOTS = [f"2027-03-{day:02d}T{hour:02d}:00:00+01:00" for day in (4, 11) for hour in (9, 10, 11)]


def book_families(client, count: int) -> list[str]:
    addresses = []
    for n, start in enumerate(SLOTS[:count]):
        address = f"family{n}@example.org"
        answer = client.post(
            "/api/v1/bookings",
            json={
                "service": "beratung-35a",
                "start": start,
                "name": f"Familie {n}",
                "email": address,
                "privacy_consent": True,
            },
        )
        assert answer.status_code == 201, answer.json
        addresses.append(address)
    return addresses


def outbox() -> list[OutboxMessage]:
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


@contextlib.contextmanager
def smtp_server(port: int):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


def run_sender_every_minute(first: int, last: int) -> None:
    for minute in range(first, last + 1):
        with freeze_time(NOW + timedelta(minutes=minute)):
            send_pending(utcnow())


@pytest.fixture
def mail_app(app_factory, bookable_service):
    port = free_port()
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    app.mail_port = port
    with app.app_context():
        yield app


def test_down_for_an_hour_then_back_every_message_once(mail_app):
    with freeze_time(NOW):
        addresses = book_families(mail_app.test_client(), 5)
    run_sender_every_minute(0, 59)  # nothing listens: every try is refused
    waiting = outbox()
    assert {m.status for m in waiting} == {OutboxStatus.PENDING}
    assert all(m.attempts >= 1 and "Connection refused" in m.last_error for m in waiting)
    assert max(m.attempts for m in waiting) <= 5  # backoff: 1, 5, 15, 60 minutes …
    with smtp_server(mail_app.mail_port) as inbox:
        run_sender_every_minute(60, 180)
    assert Counter(m["To"] for m in inbox.messages) == Counter(addresses)  # once each
    assert len({m["Message-ID"] for m in inbox.messages}) == len(addresses)
    sent = outbox()
    assert {m.status for m in sent} == {OutboxStatus.SENT}
    # Back at minute 60: the last one out within the longest wait of the backoff (60 min).
    assert max(m.sent_at for m in sent) <= NOW + timedelta(minutes=60 + 61)


def test_an_unanswering_server_costs_one_timeout_per_pass_not_one_per_message(
    mail_app,
):
    with freeze_time(NOW):
        book_families(mail_app.test_client(), 4)
    # Accepts connections (the kernel does) but never greets: each try waits for the timeout.
    silent = socket.socket()
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    silent.bind(("127.0.0.1", mail_app.mail_port))
    silent.listen(16)
    try:
        with freeze_time(NOW):
            report = send_pending(utcnow())
    finally:
        silent.close()
    assert (report.sent, report.retried) == (0, 1)
    assert [m.attempts for m in outbox()] == [1, 0, 0, 0]  # the others keep their turn
    with smtp_server(mail_app.mail_port) as inbox, freeze_time(NOW + timedelta(minutes=1)):
        assert send_pending(utcnow()).sent == 4
    assert len(inbox.messages) == 4


@pytest.fixture
def record_fails_once(monkeypatch):
    """The database fails once just after the SMTP server accepted a message: on PostgreSQL
    the sender's connection is really terminated; on SQLite the driver's error is raised."""
    real = sender.record_outcome
    calls = []

    def failing(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            if db.session.get_bind().dialect.name == "postgresql":
                pid = db.session.scalar(text("SELECT pg_backend_pid()"))
                db.session.commit()
                with db.engine.connect() as other:
                    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                    other.commit()
            else:
                raise OperationalError("UPDATE outbox_message", {}, Exception("disk I/O error"))
        return real(*args, **kwargs)

    monkeypatch.setattr(sender, "record_outcome", failing)
    monkeypatch.setattr(sender.time, "sleep", lambda seconds: None)
    return calls


def test_sent_but_not_recorded_at_first_is_not_sent_again(mail_app, record_fails_once):
    with freeze_time(NOW):
        [address] = book_families(mail_app.test_client(), 1)
    with smtp_server(mail_app.mail_port) as inbox:
        run_sender_every_minute(0, 30)  # past the 15 minutes after which a claim goes stale
    assert [m["To"] for m in inbox.messages] == [address]
    [message] = outbox()
    assert message.status == OutboxStatus.SENT and message.attempts == 1
    assert len(record_fails_once) >= 2


def test_a_sender_that_dies_after_sending_repeats_the_same_message_id(mail_app, monkeypatch):
    with freeze_time(NOW):
        [address] = book_families(mail_app.test_client(), 1)
    real = sender.record_outcome

    def die(*args, **kwargs):
        raise SystemExit("the sender was killed")

    with smtp_server(mail_app.mail_port) as inbox:
        monkeypatch.setattr(sender, "record_outcome", die)
        with freeze_time(NOW), pytest.raises(SystemExit):
            send_pending(utcnow())
        db.session.rollback()
        monkeypatch.setattr(sender, "record_outcome", real)
        run_sender_every_minute(1, 14)  # the claim holds: nobody sends it again yet
        assert len(inbox.messages) == 1
        run_sender_every_minute(15, 20)  # the claim went stale: sent again, same Message-ID
    first, again = inbox.messages
    assert first["To"] == again["To"] == address
    assert first["Message-ID"] == again["Message-ID"]
    assert outbox()[0].status == OutboxStatus.SENT
