"""Hostile requests: header injection into emails through names and subjects, forged Host
headers, and bodies too large to read."""

import email
import socket
import threading
from email.policy import default
from urllib.parse import urlencode

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.extensions import db
from booking.offices.models import Office, Service
from tests.security.conftest import login

CRLF_NAME = "Familie X\r\nBcc: evil@example.org\r\nX-Injected: yes"
CRLF_SERVICE = "Beratung\r\nBcc: evil@example.org\nX-Injected: yes\rTo: evil@example.org"


class Inbox:
    def __init__(self):
        self.messages: list[tuple[list[str], email.message.EmailMessage]] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            parsed = email.message_from_bytes(envelope.content, policy=default)
            self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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
def app(app_factory, smtp):
    app = app_factory(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port, MAIL_TIMEOUT_SECONDS=5)
    with app.app_context():
        yield app


def test_line_breaks_in_names_and_subjects_never_make_a_header(app, world, smtp, runner):
    db.session.commit()
    for service in db.session.scalars(select(Service)):
        service.name = CRLF_SERVICE
    for office in db.session.scalars(select(Office)):
        office.name = CRLF_SERVICE
    db.session.commit()
    family = app.test_client()
    booked = family.post(
        "/api/v1/bookings",
        json={
            "service": world.service_slug["A"],
            "start": "2027-03-04T11:00:00+01:00",
            "name": CRLF_NAME,
            "email": "family@example.org",
            "note": "Note\r\nBcc: evil@example.org",
            "privacy_consent": True,
        },
    )
    assert booked.status_code in (201, 422), booked.json
    web = family.post(
        f"/book/{world.service_slug['B']}/details",
        data={
            "start": "2027-03-04T10:00:00+01:00",
            "form_key": "f" * 32,
            "name": CRLF_NAME,
            "email": "web@example.org",
            "phone": "",
            "language": "de",
            "note": "",
            "privacy_consent": "y",
            "website": "",
        },
    )
    assert web.status_code in (303, 422)
    # A family cancels (a notice to the caseworker); staff book at the desk.
    family.post(f"/manage/{world.token['A1']}/cancel", data={"reason": CRLF_NAME})
    reception = login(app, "RA", world)
    reception.post(
        f"/desk/book/{world.service_slug['A']}",
        data={
            "start": "2027-03-11T09:00:00+01:00",
            "channel": "phone",
            "name": CRLF_NAME,
            "email": "desk@example.org",
            "language": "de",
            "form_key": "d" * 32,
        },
    )
    family.post(
        "/accessibility",
        data={
            "message": CRLF_NAME,
            "page": "/x\r\nBcc: evil@example.org",
            "name": CRLF_NAME,
            "contact": "a@example.org\r\nBcc: evil@example.org",
            "website": "",
            "form_key": "key-1",
        },
    )
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert len(smtp.messages) >= 4
    allowed = {
        "family@example.org",
        "web@example.org",
        "desk@example.org",
        *(f"familie-{key.lower()}@example.org" for key in ("A1", "A2", "B1")),
        "a2c@example.org",
        *(f"{key.lower()}@example.org" for key in ("A1", "A2", "B1", "admin")),
    }
    for recipients, message in smtp.messages:
        assert set(recipients) <= allowed, recipients
        assert "evil@example.org" not in recipients
        assert message["Bcc"] is None and message["X-Injected"] is None
        assert message.get_all("To") and len(message.get_all("To")) == 1
        assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])


def test_an_email_address_with_a_line_break_is_refused(app, world):
    for address in ("a@example.org\r\nBcc: evil@example.org", "a@example.org\nb@example.org"):
        response = app.test_client().post(
            "/api/v1/bookings",
            json={
                "service": world.service_slug["A"],
                "start": "2027-03-04T11:00:00+01:00",
                "name": "X",
                "email": address,
                "privacy_consent": True,
            },
        )
        assert response.status_code == 422
        assert "email" in response.json["errors"]


# --- The Host header --------------------------------------------------------------------------

FORGED_HOSTS = [
    "evil.example",
    "localhost.evil.example",
    "evil.example:80",
    "localhost@evil.example",
    "localhost:80@evil.example",
    "localhost evil.example",
    "evil.example/localhost",
]


@pytest.mark.parametrize("host", FORGED_HOSTS)
def test_forged_hosts_are_refused_before_anything_happens(client, world, host):
    for method, path in (("GET", "/"), ("GET", f"/manage/{world.token['A1']}"), ("POST", "/login")):
        response = client.open(path, method=method, headers={"Host": host})
        assert response.status_code == 400, f"{host} {path}"
        assert "evil" not in response.get_data(as_text=True)
        assert "Set-Cookie" not in response.headers


def test_forwarded_host_headers_are_ignored_without_a_proxy(app_factory, world):
    app = app_factory(PROXY_FIX_HOPS=0, PUBLIC_BASE_URL="https://termine.example.test")
    client = app.test_client()
    headers = {
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Proto": "https",
        "X-Host": "evil.example",
        "X-Original-URL": "/admin/",
        "X-Rewrite-URL": "/admin/",
        "Forwarded": "host=evil.example;proto=https",
    }
    page = client.get(f"/manage/{world.token['A1']}?done=booked", headers=headers)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "evil.example" not in html
    assert "https://termine.example.test/manage/" in html
    assert client.get("/", headers=headers).status_code == 200  # not /admin/


# --- Oversized bodies -------------------------------------------------------------------------

BIG = "x" * (1024 * 1024 + 10)  # just over the shipped 1 MiB
FORM = "application/x-www-form-urlencoded"


def form_body(**fields: str) -> bytes:
    """The body as bytes: the test client then keeps it in memory (a dict this large would
    go through a temporary file that the refused request leaves open)."""
    return urlencode(fields).encode()


def count_appointments() -> int:
    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(Appointment))


def test_oversized_bodies_get_413_everywhere(app_factory, world):
    app = app_factory()  # the shipped MAX_CONTENT_LENGTH
    client = app.test_client()
    before = count_appointments()
    for path in (
        "/login",
        f"/book/{world.service_slug['A']}/details",
        f"/manage/{world.token['A1']}/cancel",
        f"/offices/{world.slug['A']}/callback",
        "/accessibility",
    ):
        response = client.post(path, data=form_body(name=BIG, note="x"), content_type=FORM)
        assert response.status_code == 413, path
        assert '<main id="main"' in response.get_data(as_text=True)
    for path in (
        "/api/v1/bookings",
        "/api/v1/callbacks",
        f"/api/v1/bookings/{world.token['A1']}/move",
    ):
        response = client.post(
            path, data=('{"name": "' + BIG + '"}').encode(), content_type="application/json"
        )
        assert response.status_code == 413, path
        assert response.mimetype == "application/json" and "error" in response.json
    staff = login(app, "A1", world)
    response = staff.post(
        f"/appointments/{world.appointment['A1']}/note",
        data=form_body(note=BIG),
        content_type=FORM,
    )
    assert response.status_code == 413
    assert count_appointments() == before


def test_a_file_is_refused(app_factory, world):
    app = app_factory()
    client = app.test_client()
    upload = client.post(
        f"/book/{world.service_slug['A']}/details",
        data=(
            b'--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nX\r\n'
            b'--b\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n" + b"x" * 2_000_000 + b"\r\n--b--\r\n"
        ),
        content_type="multipart/form-data; boundary=b",
    )
    assert upload.status_code == 413
