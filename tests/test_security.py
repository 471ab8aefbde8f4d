import re
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.auth.models import Role, StaffUser
from booking.extensions import db
from tests.conftest import PASSWORD


def assert_security_headers(response) -> None:
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert "http" not in csp  # no third-party host
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_headers_on_a_public_page(client):
    response = client.get("/")
    assert response.status_code == 200
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


def test_headers_on_error_pages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert_security_headers(response)
    assert "Seite nicht gefunden" in response.get_data(as_text=True)


def test_500_page_in_own_layout_without_stack_trace(app_factory):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.route("/boom")
    def boom():
        raise RuntimeError("secret internals")

    boom._access_rule = "public"
    response = app.test_client().get("/boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert_security_headers(response)
    assert "Etwas ist schiefgelaufen" in body
    assert "secret internals" not in body
    assert "Traceback" not in body


def test_413_for_oversized_body(app_factory):
    app = app_factory(MAX_CONTENT_LENGTH=100)
    response = app.test_client().post("/login", data={"email": "x" * 500, "password": "y"})
    assert response.status_code == 413
    assert_security_headers(response)


def test_405_in_own_layout(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert_security_headers(response)


def test_staff_pages_are_not_cached(client, auth, make_staff):
    user = make_staff(Role.ADMIN)
    auth.login(user.email)
    for path in ("/admin/", "/admin/staff", "/staff/"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-store", path
        assert_security_headers(response)


def test_session_cookie_flags(app_factory, make_staff):
    app = app_factory(SESSION_COOKIE_SECURE=True)
    with app.app_context():
        email = make_staff().email
    response = app.test_client().post(
        "/login", data={"email": email, "password": "correct horse battery"}
    )
    [cookie] = [
        c
        for c in response.headers.getlist("Set-Cookie")
        if c.startswith(app.config["SESSION_COOKIE_NAME"] + "=")
    ]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" in cookie


def test_pages_load_nothing_from_other_hosts(client):
    html = client.get("/").get_data(as_text=True) + client.get("/login").get_data(as_text=True)
    assert "http://" not in html.replace("http://localhost", "")
    assert "https://" not in html


def test_behind_a_proxy_rate_limits_count_per_client(app_factory):
    app = app_factory(PROXY_FIX_HOPS=1, LOGIN_LIMIT_PER_IP="2 per minute")
    client = app.test_client()

    def attempt(ip: str) -> int:
        return client.post(
            "/login",
            data={"email": f"x{ip}@example.org", "password": "x"},
            headers={"X-Forwarded-For": ip},
        ).status_code

    assert [attempt("203.0.113.1") for _ in range(3)] == [200, 200, 429]
    assert attempt("203.0.113.2") == 200  # another family behind the same proxy


# --- Hosts: every absolute link from PUBLIC_BASE_URL; other hosts refused -------------------

PUBLIC = "https://termine.example.test"
EVIL = "evil.example"
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf; the unit's hours are on Thursday
TEN = "2027-03-04T10:00:00+01:00"
ELEVEN = "2027-03-04T11:00:00+01:00"


def family_details(**values) -> dict:
    return {
        "start": TEN,
        "form_key": "f" * 32,
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "phone": "",
        "language": "de",
        "note": "",
        "privacy_consent": "y",
        "website": "",
        **values,
    }


def all_outbox_text() -> str:
    """The messages as they are sent (the manage link put in at send time)."""
    from booking.notify.models import OutboxMessage
    from booking.notify.sender import with_manage_link

    db.session.commit()
    messages = list(db.session.scalars(select(OutboxMessage)))
    sent = [(m.subject, *with_manage_link(m)) for m in messages]
    return "\n".join(f"{subject}\n{text}\n{html or ''}" for subject, text, html in sent)


def count_outbox() -> int:
    from booking.notify.models import OutboxMessage

    db.session.commit()
    return db.session.scalar(select(func.count()).select_from(OutboxMessage))


@freeze_time(NOW)
def test_forged_host_never_reaches_a_link(app_factory, bookable_service, make_staff):
    # A host list that lets the forged host in (say, a wildcard in front of the app): links
    # still come from PUBLIC_BASE_URL only, in messages and on pages.
    app = app_factory(PUBLIC_BASE_URL=PUBLIC, TRUSTED_HOSTS=["localhost", EVIL])
    evil = {"Host": EVIL}
    reception_email = make_staff(Role.RECEPTION, offices=[bookable_service.office]).email
    caseworker_email = db.session.scalar(
        select(StaffUser.email).where(StaffUser.role == Role.CASEWORKER)
    )
    family = app.test_client()
    # A family books on the web pages and moves and cancels through the API.
    booked = family.post("/book/beratung-35a/details", data=family_details(), headers=evil)
    assert booked.status_code == 303, booked.get_data(as_text=True)
    assert booked.headers["Location"].startswith("/manage/")  # relative: no host to forge
    page = family.get(booked.headers["Location"], headers=evil)
    html = page.get_data(as_text=True)
    assert page.status_code == 200, html
    assert f'href="{PUBLIC}/manage/' in html
    api = family.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": ELEVEN,
            "name": "Familie Haddad",
            "email": "haddad@example.org",
            "privacy_consent": True,
        },
        headers=evil,
    )
    assert api.status_code == 201, api.json
    token = api.json["manage_token"]
    moved = family.post(
        f"/api/v1/bookings/{token}/move", json={"start": "2027-03-11T11:00:00+01:00"}, headers=evil
    )
    assert moved.status_code == 200, moved.json
    cancelled = family.post(f"/api/v1/bookings/{moved.json['manage_token']}/cancel", headers=evil)
    assert cancelled.status_code == 200
    # Reception books a caller at the desk; the caseworker renews the calendar feed.
    desk = app.test_client()
    desk.post("/login", data={"email": reception_email, "password": PASSWORD}, headers=evil)
    booked = desk.post(
        "/desk/book/beratung-35a",
        data={
            "start": "2027-03-04T09:00:00+01:00",
            "channel": "phone",
            "name": "Familie Nowak",
            "email": "nowak@example.org",
            "language": "de",
        },
        headers=evil,
        follow_redirects=True,  # to the booked page
    )
    assert booked.status_code == 200, booked.get_data(as_text=True)
    assert f"{PUBLIC}/manage/" in booked.get_data(as_text=True)
    staff = app.test_client()
    staff.post("/login", data={"email": caseworker_email, "password": PASSWORD}, headers=evil)
    feed = staff.post("/calendar/feed/renew", headers=evil).get_data(as_text=True)
    assert f'value="{PUBLIC}/calendar/feed/' in feed
    with app.app_context():
        text = all_outbox_text()
    assert text.count(f"{PUBLIC}/") >= 5  # confirmations, moved, staff notices
    assert EVIL not in text
    assert EVIL not in html + booked.get_data(as_text=True) + feed


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/"),
        ("GET", "/book"),
        ("POST", "/book/beratung-35a/details"),
        ("GET", "/manage/some-token-value"),
        ("POST", "/manage/some-token-value/cancel"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("GET", "/staff/"),
        ("GET", "/no-such-page"),
    ],
)
@freeze_time(NOW)
def test_requests_for_other_hosts_get_a_400_page(client, bookable_service, method, path):
    response = client.open(path, method=method, data=family_details(), headers={"Host": EVIL})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Ungültige Anfrage" in html
    assert EVIL not in html
    assert_security_headers(response)
    assert "Set-Cookie" not in response.headers  # no session, no lock, no counters
    assert count_outbox() == 0


def test_api_requests_for_other_hosts_get_a_json_400(client):
    response = client.post("/api/v1/bookings", json={}, headers={"Host": EVIL})
    assert response.status_code == 400
    assert response.json == {"error": "bad_request"}


def test_forwarded_host_is_checked_too(app_factory):
    app = app_factory(PROXY_FIX_HOPS=1)
    client = app.test_client()
    assert client.get("/", headers={"X-Forwarded-Host": EVIL}).status_code == 400
    assert client.get("/", headers={"X-Forwarded-Host": "localhost"}).status_code == 200


def test_known_hosts_are_served(app_factory):
    app = app_factory(PUBLIC_BASE_URL=PUBLIC, TRUSTED_HOSTS=None)
    client = app.test_client()
    for host in ("localhost", "127.0.0.1:5000", "termine.example.test"):
        assert client.get("/", headers={"Host": host}).status_code == 200, host


def test_no_absolute_url_from_the_request_in_the_code():
    # The one place that builds absolute URLs is booking/core/urls.py, from PUBLIC_BASE_URL.
    root = Path(__file__).resolve().parents[1] / "booking"
    pattern = re.compile(r"_external\s*=|host_url|url_root|request\.host\b|request\.url\b")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in root.rglob("*")
        if path.suffix in (".py", ".html", ".txt") and path.name != "urls.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert found == []
