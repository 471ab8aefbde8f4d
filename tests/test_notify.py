"""Messages: written with the change, sent once, retried while the server is down."""

import email
import http.server
import json
import socket
import threading
from datetime import UTC, datetime, time, timedelta
from email.policy import default
from zoneinfo import ZoneInfo

import pytest
from aiosmtpd.controller import Controller
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import func, select

from booking.auth.models import Role, StaffUser
from booking.db import utcnow
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage, OutboxStatus
from booking.notify.sender import send_pending
from booking.notify.services import queue_reminders
from booking.offices.models import Service
from booking.schedule.models import WeeklyHours

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"
SLOT = "2027-03-04T10:00:00+01:00"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler that keeps what it receives, and can refuse recipients."""

    def __init__(self):
        self.messages: list[email.message.Message] = []
        self.refuse: set[str] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(email.message_from_bytes(envelope.content, policy=default))
        return "250 Message accepted"


@pytest.fixture
def smtp():
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    inbox.port = port
    yield inbox
    controller.stop()


@pytest.fixture
def mail_app(app_factory, smtp, bookable_service):
    # Depends on bookable_service so that this app's context is the innermost one.
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT_SECONDS=5)
    with app.app_context():
        yield app


def book(client, **values) -> dict:
    body = {
        "service": "beratung-35a",
        "start": SLOT,
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "language": "de",
        "note": "Kind hat ADHS-Diagnose",
        "privacy_consent": True,
    }
    body.update(values)
    response = client.post(
        "/api/v1/bookings", json={k: v for k, v in body.items() if v is not None}
    )
    assert response.status_code == 201, response.json
    return response.json


def outbox() -> list[OutboxMessage]:
    db.session.commit()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def event_of(message: OutboxMessage):
    calendar = Calendar.from_ical(message.ics)
    return calendar, next(iter(calendar.walk("VEVENT")))


@freeze_time(NOW)
def test_booking_queues_a_confirmation_in_the_same_transaction(client, bookable_service):
    data = book(client)
    [message] = outbox()
    assert message.kind == "confirmation" and message.channel == OutboxChannel.EMAIL
    assert message.recipient == "haddad@example.org"
    assert message.status == OutboxStatus.PENDING
    assert "Donnerstag, 4. März 2027, 10:00–10:45" in message.body_text
    assert data["reference"] in message.body_text
    assert data["manage_token"] not in message.body_text  # sealed until sent, see below
    assert "[manage-link]" in message.body_text
    assert "ADHS" not in message.body_text + (message.body_html or "") + message.ics
    calendar, event = event_of(message)
    assert str(calendar["method"]) == "REQUEST"
    assert event.decoded("dtstart") == datetime(2027, 3, 4, 9, tzinfo=UTC)
    assert event["sequence"] == 0
    assert str(event["uid"]).startswith("appointment-")


@freeze_time(NOW)
def test_a_failed_booking_queues_nothing(client, bookable_service):
    book(client)
    client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": SLOT,
            "name": "X",
            "email": "x@example.org",
            "privacy_consent": True,
        },
    )
    assert len(outbox()) == 1


@freeze_time(NOW)
def test_move_and_cancel_keep_the_uid_and_raise_the_sequence(client, bookable_service):
    token = book(client)["manage_token"]
    moved = client.post(
        f"/api/v1/bookings/{token}/move", json={"start": "2027-03-04T11:00:00+01:00"}
    )
    client.post(f"/api/v1/bookings/{moved.json['manage_token']}/cancel")
    messages = [
        m
        for m in outbox()
        if m.channel == OutboxChannel.EMAIL and m.recipient == "haddad@example.org"
    ]
    assert [m.kind for m in messages] == ["confirmation", "moved", "cancelled"]
    events = [event_of(m) for m in messages]
    assert [str(c["method"]) for c, _ in events] == ["REQUEST", "REQUEST", "CANCEL"]
    assert len({str(e["uid"]) for _, e in events}) == 1
    assert [e["sequence"] for _, e in events] == [0, 1, 2]
    assert events[1][1].decoded("dtstart") == datetime(2027, 3, 4, 10, tzinfo=UTC)
    assert str(events[2][1]["status"]) == "CANCELLED"
    # The caseworker is told about the family's move and cancellation.
    staff = [m.kind for m in outbox() if m.kind.startswith("staff_")]
    assert staff == ["staff_moved", "staff_cancelled"]


@freeze_time(NOW)
def test_times_are_right_after_the_change_to_summer_time(client, bookable_service):
    book(client, start="2027-04-01T10:00:00+02:00")
    [message] = outbox()
    assert "Donnerstag, 1. April 2027, 10:00–10:45" in message.body_text
    _, event = event_of(message)
    assert event.decoded("dtstart") == datetime(2027, 4, 1, 8, tzinfo=UTC)


@freeze_time(NOW)
def test_phone_only_family_gets_an_sms(client, bookable_service):
    book(client, email=None, phone="0171 2345678")
    [message] = outbox()
    assert message.channel == OutboxChannel.SMS
    assert message.recipient == "+49 171 2345678"
    assert message.ics is None and len(message.body_text) < 320
    report = send_pending(utcnow())
    assert report.sent == 1
    assert outbox()[0].transport == "viewer"


def test_reminders_24_hours_before_across_the_daylight_saving_change(client, bookable_service):
    # Sunday 28 March 2027, 10:00 CEST is 08:00 UTC. 24 real hours earlier is Saturday 08:00
    # UTC = 09:00 CET, not 10:00 local: the clocks went forward in between.
    caseworker = db.session.scalar(select(StaffUser))
    db.session.add(
        WeeklyHours(
            staff_id=caseworker.id,
            office_id=bookable_service.office_id,
            weekday=6,
            start_time=time(9),
            end_time=time(12),
        )
    )
    db.session.commit()
    with freeze_time("2027-03-22 08:00:00"):
        book(client, start="2027-03-28T10:00:00+02:00")
    with freeze_time("2027-03-27 07:59:00"):
        assert queue_reminders(utcnow()) == 0
    with freeze_time("2027-03-27 08:00:00"):
        assert queue_reminders(utcnow()) == 1
        assert queue_reminders(utcnow()) == 0  # idempotent
    reminders = [m for m in outbox() if m.kind == "reminder"]
    assert len(reminders) == 1
    assert "Sonntag, 28. März 2027, 10:00–10:45" in reminders[0].body_text
    _, event = event_of(reminders[0])
    assert event.decoded("dtstart") == datetime(2027, 3, 28, 8, tzinfo=UTC)


def test_reminders_queue_command_is_idempotent(runner, client, bookable_service):
    with freeze_time(NOW):
        book(client)
    with freeze_time("2027-03-03 10:00:00"):
        assert "queued 1" in runner.invoke(args=["reminders", "queue"]).output
        assert "queued 0" in runner.invoke(args=["reminders", "queue"]).output
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.kind == "reminder")
        )
        == 1
    )


@freeze_time(NOW)
def test_send_over_smtp_once(mail_app, smtp, bookable_service):
    client = mail_app.test_client()
    book(client)
    report = send_pending(utcnow())
    assert report.sent == 1
    assert send_pending(utcnow()).sent == 0
    [received] = smtp.messages
    assert received["To"] == "haddad@example.org"
    assert "Ihr Termin ist gebucht" in received["Subject"]
    parts = {part.get_content_type(): part for part in received.walk()}
    assert {"text/plain", "text/html", "text/calendar"} <= set(parts)
    assert parts["text/calendar"].get_param("method") == "REQUEST"
    calendar = Calendar.from_ical(parts["text/calendar"].get_payload(decode=True))
    assert next(iter(calendar.walk("VEVENT"))).decoded("dtstart") == datetime(
        2027, 3, 4, 9, tzinfo=UTC
    )
    assert outbox()[0].status == OutboxStatus.SENT


@freeze_time(NOW)
def test_two_senders_at_once_send_each_message_once(mail_app, smtp, bookable_service):
    client = mail_app.test_client()
    for hour, address in ((9, "a@example.org"), (10, "b@example.org"), (11, "c@example.org")):
        book(client, start=f"2027-03-04T{hour:02d}:00:00+01:00", email=address)
    db.session.commit()
    barrier = threading.Barrier(2)

    def sender():
        with mail_app.app_context():
            barrier.wait()
            send_pending(utcnow())

    threads = [threading.Thread(target=sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(m["To"] for m in smtp.messages) == [
        "a@example.org",
        "b@example.org",
        "c@example.org",
    ]
    assert {m.status for m in outbox()} == {OutboxStatus.SENT}


def test_server_down_keeps_the_message_and_retries_with_backoff(app_factory, bookable_service):
    port = free_port()  # nothing listens here yet
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_TIMEOUT_SECONDS=2)
    with app.app_context():
        with freeze_time(NOW):
            book(app.test_client())
            report = send_pending(utcnow())
            assert (report.sent, report.retried) == (0, 1)
            [message] = outbox()
            assert message.status == OutboxStatus.PENDING and message.attempts == 1
            assert message.next_attempt_at == utcnow() + timedelta(minutes=1)
            assert send_pending(utcnow()).retried == 0  # not due yet
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            with freeze_time("2027-03-01 07:01:00"):
                assert send_pending(utcnow()).sent == 1
        finally:
            controller.stop()
        assert len(inbox.messages) == 1
        assert outbox()[0].attempts == 2


@freeze_time(NOW)
def test_permanent_failure_is_visible_to_admins(mail_app, smtp, bookable_service, make_staff):
    smtp.refuse.add("haddad@example.org")
    client = mail_app.test_client()
    token = book(client)["manage_token"]
    report = send_pending(utcnow())
    assert report.failed == 1
    [message] = outbox()
    assert message.status == OutboxStatus.FAILED and "550" in message.last_error
    admin = make_staff(Role.ADMIN)
    client.post("/login", data={"email": admin.email, "password": "correct horse battery"})
    html = client.get("/admin/outbox?status=failed").get_data(as_text=True)
    assert "haddad@example.org" in html and "550" in html
    assert client.post(f"/admin/outbox/{message.id}/retry").status_code == 302
    assert outbox()[0].status == OutboxStatus.PENDING
    # Sent again after the retry, the confirmation still carries the family's link.
    smtp.refuse.clear()
    assert send_pending(utcnow()).sent == 1
    [received] = smtp.messages
    assert f"/manage/{token}" in received.get_body(("plain",)).get_content()
    assert outbox()[0].sealed_manage_token is None


@freeze_time(NOW)
def test_line_breaks_in_names_cannot_inject_headers(mail_app, smtp, bookable_service):
    service = db.session.get(Service, bookable_service.id)  # in mail_app's own session
    service.name = "Beratung\r\nBcc: evil@example.org"
    service.office.name = "Stelle\nX-Evil: 1"
    db.session.commit()
    client = mail_app.test_client()
    book(client, name="Familie\r\nBcc: evil@example.org")
    send_pending(utcnow())
    [received] = smtp.messages
    assert received["Bcc"] is None and received["X-Evil"] is None
    assert "\n" not in received["Subject"] and "\r" not in received["Subject"]
    assert all(m["To"] != "evil@example.org" for m in smtp.messages)


@freeze_time(NOW)
def test_http_sms_gateway(app_factory, bookable_service):
    received = []

    class Gateway(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers["Content-Length"])
            received.append((self.headers["Authorization"], json.loads(self.rfile.read(length))))
            self.send_response(202)
            self.end_headers()

        def log_message(self, *args):
            return None

    server = http.server.HTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        app = app_factory(
            SMS_PROVIDER="http",
            SMS_GATEWAY_URL=f"http://127.0.0.1:{server.server_port}/send",
            SMS_GATEWAY_TOKEN="gateway-secret",
        )
        with app.app_context():
            book(app.test_client(), email=None, phone="0171 2345678")
            assert send_pending(utcnow()).sent == 1
    finally:
        server.shutdown()
        server.server_close()
    [(auth, body)] = received
    assert auth == "Bearer gateway-secret"
    assert body["to"] == "+49 171 2345678" and "04.03." not in body["text"]
    assert "4. März 2027" in body["text"]


def test_worker_once_queues_and_sends(runner, client, bookable_service):
    with freeze_time(NOW):
        book(client)
    with freeze_time("2027-03-03 10:00:00"):
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    statuses = {(m.kind, m.status) for m in outbox()}
    assert statuses == {("confirmation", OutboxStatus.SENT), ("reminder", OutboxStatus.SENT)}


def test_daily_agenda_for_staff_who_opted_in(runner, client, auth, bookable_service):
    caseworker = db.session.scalar(select(StaffUser))
    with freeze_time(NOW):
        book(client)
        auth.login(caseworker.email)
        client.post("/account/notifications", data={"wants_daily_agenda": "y"})
    with freeze_time("2027-03-04 05:00:00"):
        assert "queued 1" in runner.invoke(args=["agenda", "queue"]).output
        assert "queued 0" in runner.invoke(args=["agenda", "queue"]).output
    [agenda] = [m for m in outbox() if m.kind == "staff_agenda"]
    assert agenda.recipient == caseworker.email
    assert "10:00–10:45" in agenda.body_text
    assert "Haddad" not in agenda.body_text


@freeze_time(NOW)
def test_message_in_the_familys_language(client, bookable_service):
    book(client, language="en")
    [message] = outbox()
    assert "your appointment is booked." in message.body_text
    assert "Thursday, March 4, 2027, 10:00–10:45" in message.body_text
    assert message.subject.startswith("Your appointment is booked")


@freeze_time(NOW)
def test_other_languages_fall_back_to_german(client, bookable_service):
    book(client, language="pl")  # a family language without a catalog of ours
    [message] = outbox()
    assert "Ihr Termin ist gebucht." in message.body_text


@freeze_time(NOW)
def test_a_200_character_service_name_fits_every_message_column(client, bookable_service):
    """The admin form allows 200 characters; the subject adds words in front of the name."""
    bookable_service.name = "Beratung " + "x" * 191
    db.session.commit()
    assert len(bookable_service.name) == 200
    data = book(client)  # 201 on PostgreSQL too, where a too-long value is an error
    client.post(f"/api/v1/bookings/{data['manage_token']}/cancel")
    messages = outbox()
    assert [m.kind for m in messages] == ["confirmation", "cancelled", "staff_cancelled"]
    for message in messages:
        for column in OutboxMessage.__table__.columns:
            value = getattr(message, column.key)
            length = getattr(column.type, "length", None)
            if isinstance(value, str) and length:
                assert len(value) <= length, (column.key, len(value))
    assert messages[0].subject.endswith("…")
    assert "x" * 150 in messages[0].subject


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("phone", "sms"),
    [
        ("0211 8991234", False),  # Düsseldorf landline, kept for calling back
        ("0800 1234567", False),  # freephone
        ("0171 2345678", True),
        ("+43 664 1234567", True),  # Austrian mobile
    ],
)
def test_sms_only_to_mobile_numbers(app, bookable_service, make_staff, phone, sms):
    from booking.appointments.booking import book_appointment, check_family_details
    from booking.appointments.models import Channel

    desk = make_staff(Role.RECEPTION, offices=[bookable_service.office])
    family = check_family_details("Familie Nowak", None, phone, "pl", False, "", False)
    start = datetime(2027, 3, 4, 10, tzinfo=BERLIN)
    book_appointment(bookable_service, start, family, utcnow(), Channel.PHONE, actor=desk)
    messages = outbox()
    assert [(m.channel, m.recipient) for m in messages] == (
        [(OutboxChannel.SMS, family.phone)] if sms else []
    )


def every_stored_text() -> str:
    """Every value of every row of every table, as text."""
    db.session.commit()
    values = []
    for table in db.metadata.sorted_tables:
        for row in db.session.execute(table.select()):
            values.extend(str(value) for value in row)
    return "\n".join(values)


@freeze_time(NOW)
def test_no_valid_manage_token_is_readable_in_the_database_or_by_staff(
    mail_app, smtp, bookable_service, make_staff
):
    client = mail_app.test_client()
    booked = book(client)
    moved = client.post(
        f"/api/v1/bookings/{booked['manage_token']}/move",
        json={"start": "2027-03-04T11:00:00+01:00"},
    ).json
    token = moved["manage_token"]
    phone = book(client, email=None, phone="0171 2345678", start=SLOT)["manage_token"]
    stored = every_stored_text()
    assert token not in stored and phone not in stored
    admin = make_staff(Role.ADMIN)
    staff = mail_app.test_client()
    staff.post("/login", data={"email": admin.email, "password": "correct horse battery"})
    pages = [staff.get("/admin/outbox")] + [
        staff.get(f"/admin/outbox/{message.id}") for message in outbox()
    ]
    assert all(page.status_code == 200 for page in pages)
    for page in pages:
        assert token not in page.get_data(as_text=True)
        assert phone not in page.get_data(as_text=True)
    assert "[manage-link]" in pages[-1].get_data(as_text=True)
    # The messages sent carry the links, built from the public address.
    report = send_pending(utcnow())
    assert report.sent == 4 and not report.errors
    link = f"{mail_app.config['PUBLIC_BASE_URL']}/manage/{token}"
    [moved_mail] = [
        m for m in smtp.messages if m["To"] == "haddad@example.org" and "verlegt" in m["Subject"]
    ]
    parts = {
        part.get_content_type(): part.get_content()
        for part in moved_mail.walk()
        if not part.is_multipart()
    }
    assert link in parts["text/plain"] and f'href="{link}"' in parts["text/html"]
    assert "[manage-link]" not in parts["text/plain"] + parts["text/html"]
    # Sent: the sealed tokens are wiped too.
    assert all(m.sealed_manage_token is None for m in outbox())


@freeze_time(NOW)
def test_the_sms_sent_carries_the_manage_link(app_factory, bookable_service, monkeypatch):
    from booking.notify.transport import ViewerSmsProvider

    sent = []
    monkeypatch.setattr(ViewerSmsProvider, "send", lambda self, to, text: sent.append(text))
    token = book(app_factory().test_client(), email=None, phone="0171 2345678")["manage_token"]
    [message] = outbox()
    assert token not in message.body_text and message.sealed_manage_token
    assert send_pending(utcnow()).sent == 1
    [text] = sent
    assert f"/manage/{token}" in text
    assert outbox()[0].sealed_manage_token is None


@freeze_time(NOW)
def test_a_message_waiting_for_a_retry_keeps_its_sealed_token(app_factory, bookable_service):
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT_SECONDS=1)
    with app.app_context():
        book(app.test_client())
        report = send_pending(utcnow())
        assert report.retried == 1
        [message] = outbox()
        assert message.status == OutboxStatus.PENDING and message.sealed_manage_token


@freeze_time(NOW)
def test_the_viewer_shows_an_arabic_message_right_to_left(
    client, auth, make_staff, bookable_service
):
    book(client, language="ar")
    [message] = outbox()
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    html = client.get(f"/admin/outbox/{message.id}").get_data(as_text=True)
    assert '<html lang="de"' in html  # the staff page stays German
    assert f'<pre class="notes" dir="auto">{message.body_text[:20]}' in html
