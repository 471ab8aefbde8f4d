"""Smoke test on the real demo data: every GET route of the URL map, with real ids, and every
same-site link found on those pages (a bounded crawl), as each role and anonymously.

No answer may be a 5xx; pages a role may not open answer 403, 404 or a redirect.
"""

import re
from collections import deque
from datetime import timedelta
from html import unescape
from itertools import islice
from urllib.parse import urldefrag, urlsplit

import pytest
from sqlalchemy import select

from booking.accessibility.services import Feedback, submit_feedback
from booking.appointments.booking import book_appointment, check_family_details
from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role, StaffUser
from booking.callbacks.models import CallbackRequest
from booking.db import utcnow
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.offices.models import Office, Service
from booking.schedule.agenda import local_today
from booking.schedule.feed import renew_feed_token
from booking.schedule.services import find_free_slots
from booking.setup.cli import DEMO_FILE
from booking.setup.loader import read_setup_file

MAX_PAGES = 250  # per role: every route first, then links breadth-first
HREF = re.compile(r'href="([^"]*)"')
SKIPPED_PREFIXES = ("/static/",)


def demo_logins() -> dict[str, str]:
    """One demo login (email with a password) per role, from the demo file itself."""
    logins = {}
    for staff in read_setup_file(DEMO_FILE).staff:
        if staff.password:
            logins.setdefault(staff.role, (staff.email, staff.password))
    return logins


@pytest.fixture
def demo(app_factory):
    app = app_factory(RATELIMIT_ENABLED=False)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["setup", "demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        yield app, real_arguments()


def real_arguments() -> dict[str, list]:
    """Values for every URL rule argument, taken from the demo data."""
    now = utcnow()
    service = db.session.scalar(select(Service).where(Service.slug == "beratung-35a"))
    today = local_today(now)
    slot = find_free_slots(service, today, today + timedelta(days=30), now)[-1]
    family = check_family_details("Familie Rauch", "smoke@example.org", None, "de", False, "")
    manage_token = book_appointment(service, slot.start, family, now).manage_token
    becker = db.session.scalar(select(StaffUser).where(StaffUser.email == "k.becker@example.org"))
    feed_token = renew_feed_token(becker)
    feedback = submit_feedback(Feedback("Kontrast zu schwach", contact="0211 123456"), now)
    db.session.commit()
    appointments = [
        db.session.scalar(select(Appointment.id).where(Appointment.status == status))
        for status in AppointmentStatus
    ]
    office_slugs = list(db.session.scalars(select(Office.slug).order_by(Office.id).limit(2)))
    return {
        "appointment_id": [a for a in appointments if a is not None],
        "staff_id": list(db.session.scalars(select(StaffUser.id).order_by(StaffUser.id))),
        "office_id": list(db.session.scalars(select(Office.id).order_by(Office.id).limit(2))),
        "service_id": list(db.session.scalars(select(Service.id).order_by(Service.id).limit(2))),
        "message_id": list(
            db.session.scalars(select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2))
        ),
        "feedback_id": [feedback.id],
        "request_id": list(
            db.session.scalars(select(CallbackRequest.id).order_by(CallbackRequest.id).limit(3))
        ),
        "slug": [*office_slugs, service.slug],
        "token": [manage_token, feed_token, "no-such-token"],
    }


def get_urls(app, arguments: dict[str, list]) -> list[str]:
    """Every GET rule with each of a few real values for its arguments."""
    urls = []
    adapter = app.url_map.bind("localhost")
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        unknown = set(rule.arguments) - set(arguments)
        assert not unknown, f"{rule.rule}: add real values for {unknown} to the smoke test"
        combinations = [{}]
        for name in sorted(rule.arguments):
            combinations = [
                {**combo, name: value} for combo in combinations for value in arguments[name]
            ]
        for values in islice(combinations, 12):
            urls.append(adapter.build(rule.endpoint, values))
    return urls


def same_site_links(html: str) -> list[str]:
    links = []
    for raw in HREF.findall(html):
        href = urldefrag(unescape(raw)).url
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not href.startswith("/"):
            continue  # other sites, mailto:, tel:, fragments
        if href.startswith(SKIPPED_PREFIXES):
            continue
        links.append(href)
    return links


def crawl(client, start: list[str]) -> dict[str, int]:
    """Request every start URL and follow same-site links; the status of each URL seen."""
    seen: dict[str, int] = {}
    queue = deque(start)
    while queue and len(seen) < MAX_PAGES:
        url = queue.popleft()
        if url in seen:
            continue
        response = client.get(url)
        seen[url] = response.status_code
        if response.status_code in (301, 302, 303, 307, 308):
            target = urlsplit(response.headers["Location"])
            if not target.netloc or target.netloc == "localhost":
                queue.append(target.path + (f"?{target.query}" if target.query else ""))
        elif response.mimetype == "text/html":
            queue.extend(same_site_links(response.get_data(as_text=True)))
    return seen


def server_errors(seen: dict[str, int]) -> dict[str, int]:
    return {url: status for url, status in seen.items() if status >= 500}


@pytest.mark.parametrize("role", [*Role, None], ids=[*(r.value for r in Role), "anonymous"])
def test_every_page_and_link_answers_without_server_error(demo, role):
    app, arguments = demo
    client = app.test_client()
    if role is not None:
        email, password = demo_logins()[role]
        login = client.post("/login", data={"email": email, "password": password})
        assert login.status_code == 302, f"demo login for {role} failed"
    seen = crawl(client, get_urls(app, arguments))
    assert server_errors(seen) == {}
    assert len(seen) > 40  # the crawl really went through the app
    if role not in (Role.ADMIN, Role.OPERATOR_ADMIN):
        # Pages for admins only: refused or sent to login, never a 5xx and never shown.
        for url in ("/admin/", "/admin/staff", "/admin/outbox"):
            assert seen.get(url, client.get(url).status_code) in (302, 403, 404), url
    if role == Role.OPERATOR_ADMIN:
        # Its operator's offices and staff; no family's record, nothing of the whole city.
        assert seen.get("/admin/staff", client.get("/admin/staff").status_code) == 200
        for url in ("/admin/outbox", "/admin/privacy/", "/calendar/me", "/desk/", "/queue/"):
            assert client.get(url).status_code == 403, url
    audit_status = seen.get("/admin/audit", client.get("/admin/audit").status_code)
    assert (audit_status == 200) == (role in (Role.ADMIN, Role.PRIVACY))
    if role == Role.PRIVACY:
        # The data protection officer reads; every page that shows or changes records is shut.
        for url in ("/calendar/me", "/desk/", "/callbacks/", "/queue/", "/reports/", "/staff/"):
            assert client.get(url).status_code == 403, url
    if role == Role.CASEWORKER:
        other = next(i for i in arguments["staff_id"] if i != demo_user_id(role))
        assert client.get(f"/calendar/staff/{other}").status_code in (403, 404)


def demo_user_id(role: Role) -> int:
    email, _password = demo_logins()[role]
    return db.session.scalar(select(StaffUser.id).where(StaffUser.email == email))


def test_demo_calendars_hold_every_kind_of_entry(demo):
    """The crawl above only proves something if the demo has absences and the rest in view."""
    app, _arguments = demo
    client = app.test_client()
    email, password = demo_logins()[Role.RECEPTION]
    client.post("/login", data={"email": email, "password": password})
    html = ""
    for weeks in (-1, 0, 1, 2):
        day = local_today(utcnow()) + timedelta(days=7 * weeks)
        path = f"/calendar/office/eingliederungshilfe?view=week&cancelled=1&day={day}"
        response = client.get(path)
        assert response.status_code == 200
        html += response.get_data(as_text=True)
    for text in ("Krankheit", "Geblockte Zeit", "Urlaub", "Fortbildung", "Betriebsausflug"):
        assert text in html, text
    for badge in ("badge-cancelled", "badge-moved", "badge-no_show", "badge-attended"):
        assert badge in html, badge


def test_demo_statistics_show_real_looking_figures(demo):
    """The demo's history fills the default period (the last full month) of every figure."""
    from booking.reports.facts import appointment_facts, callback_facts, queue_facts
    from booking.reports.stats import compute, last_full_month

    app, _arguments = demo
    now = utcnow()
    period = last_full_month(now)
    ids = list(db.session.scalars(select(Office.id)))
    figures = compute(
        period,
        now,
        appointment_facts(ids, period),
        queue_facts(ids, period),
        callback_facts(ids, period),
    )
    assert figures.held >= 100 and figures.cancelled >= 10
    assert all(figures.by_channel[key] >= 5 for key in ("online", "phone", "desk", "walk_in"))
    assert figures.outcomes["no_show"] >= 5 and figures.outcomes["cancelled_by_family"] >= 5
    assert len(figures.languages) >= 5
    assert figures.waits["walk_in"].median is not None
    assert figures.first_attempt_hours.median is not None
    assert figures.callbacks["unreachable"] >= 1 and figures.in_time_share is not None
    client = app.test_client()
    email, password = demo_logins()[Role.ADMIN]
    client.post("/login", data={"email": email, "password": password})
    html = client.get("/reports/city").get_data(as_text=True)
    assert html.count('role="img"') >= 6 and "Nothing in this period" not in html
    answer = client.get("/reports/office/eingliederungshilfe.csv?table=summary")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"


def test_demo_waiting_lists_show_their_families_to_those_who_may_see_them(demo):
    """The crawl opens the waiting lists on records: families waiting at two services and a
    time held at the § 35a unit, shown to the staff of the office and to admins only."""
    from booking.setup.demo_waitlist import DEMO_PLACES

    app, _arguments = demo
    unit, point = "beratung-35a", "welcome-point-ratinger-strasse-beratung"
    names = {slug: [p.name for p in DEMO_PLACES if p.service == slug] for slug in (unit, point)}
    logins = dict(demo_logins())  # by role: admin, caseworker (k.becker), reception, …
    logins["caseworker of the Welcome Point"] = ("a.demir@example.org", logins["admin"][1])
    # Who sees which list; the other list answers 403 (or the login page, anonymously).
    sees = {
        "admin": (unit, point),
        "caseworker": (unit,),  # k.becker, of the § 35a unit
        "reception": (unit,),
        "caseworker of the Welcome Point": (point,),
    }
    for who in [*logins, "anonymous"]:
        client = app.test_client()
        if who != "anonymous":
            email, password = logins[who]
            login = client.post("/login", data={"email": email, "password": password})
            assert login.status_code == 302, who
        for slug in (unit, point):
            response = client.get(f"/waitlist/service/{slug}")
            if slug not in sees.get(who, ()):
                assert response.status_code in ((302,) if who == "anonymous" else (403,)), who
                continue
            assert response.status_code == 200, (who, slug)
            html = response.get_data(as_text=True)
            assert all(name in html for name in names[slug]), (who, slug)
            held = "Zurzeit ist kein Termin reserviert." not in html
            assert held == (slug == unit), (who, slug)  # the time held for Familie Schulz
        overview = client.get("/waitlist/")
        if who in sees:
            html = overview.get_data(as_text=True)
            assert all(f"/waitlist/service/{slug}" in html for slug in sees[who]), who
        else:
            assert overview.status_code in (302, 403), who
