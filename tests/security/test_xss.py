"""Stored XSS: markup typed into every free-text field, by families, callers, staff and admins,
comes out escaped on every page (in German and in right-to-left Arabic, whose isolates wrap
names in <bdi>), in every email, in the calendar files and in the CSV downloads."""

import re
from datetime import date

import pytest
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.routing import Rule

from booking.accessibility.models import AccessibilityFeedback
from booking.auth.models import StaffUser
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.notify.sender import with_manage_link
from booking.offices.models import Office, Service
from booking.schedule.models import Closure
from tests.security.conftest import World, login

# Escaped, these are harmless text; unescaped, each is a tag or an attribute of its own.
PROBE = "<xss-probe>\"onmouseover=x1'onfocus=x2"
SHORT = '<xss-probe>"onmouseover=x1'  # for fields of at most 40 characters
MARKERS = ("<xss-probe", '"onmouseover=x1', "'onfocus=x2")
FORMULA = '=HYPERLINK("http://evil.example";"x")'


def inject(app, world: World) -> dict:
    """Type the probe into every free-text field, as the people who fill them in do."""
    family = app.test_client()
    booked = family.post(
        f"/book/{world.service_slug['A']}/details",
        data={
            "start": "2027-03-04T11:00:00+01:00",
            "form_key": "f" * 32,
            "name": f"Familie {PROBE}",
            "email": "probe@example.org",
            "phone": "",
            "language": "de",
            "note": f"Notiz {PROBE}",
            "privacy_consent": "y",
            "website": "",
        },
    )
    assert booked.status_code == 303, booked.get_data(as_text=True)
    token = re.search(r"/manage/([^/?]+)", booked.headers["Location"]).group(1)
    api = family.post(
        "/api/v1/bookings",
        json={
            "service": world.service_slug["B"],
            "start": "2027-03-04T10:00:00+01:00",
            "name": f"API {PROBE}",
            "email": "api-probe@example.org",
            "note": PROBE,
            "privacy_consent": True,
        },
    )
    assert api.status_code == 201, api.json
    cancelled = family.post(f"/manage/{world.token['A2']}/cancel", data={"reason": PROBE})
    assert cancelled.status_code == 303
    caller = family.post(
        f"/offices/{world.slug['A']}/callback",
        data={
            "name": f"Anrufer {PROBE}",
            "phone": "0176 12345678",
            "topic": world.service_slug["A"],
            "language": "ar",
            "reachable": ["tue-am"],
            "reachable_note": PROBE,
            "note": PROBE,
            "email": "",
            "privacy_consent": "y",
            "website": "",
            "form_key": "key-1",
        },
    )
    assert caller.status_code == 302, caller.get_data(as_text=True)
    feedback = family.post(
        "/accessibility",
        data={
            "message": f"Barriere {PROBE}",
            "page": f"/book{PROBE}",
            "name": PROBE,
            "contact": "probe@example.org",
            "website": "",
            "form_key": "key-1",
        },
    )
    assert feedback.status_code in (302, 303), feedback.get_data(as_text=True)
    caseworker = login(app, "A1", world)
    appointment = f"/appointments/{world.appointment['A1']}"
    assert caseworker.post(f"{appointment}/note", data={"note": PROBE}).status_code == 302
    absence = caseworker.post(
        "/calendar/absences",
        data={"kind": "blocked", "first_day": "2027-03-03", "note": PROBE[:40]},
    )
    assert absence.status_code == 302, absence.get_data(as_text=True)
    callback = f"/callbacks/{world.callback['A']}"
    assert caseworker.post(f"{callback}/claim").status_code == 302
    assert caseworker.post(f"{callback}/note", data={"note-note": PROBE}).status_code == 302
    attempt = caseworker.post(
        f"{callback}/attempt", data={"attempt-outcome": "no_answer", "attempt-note": PROBE}
    )
    assert attempt.status_code == 302, attempt.get_data(as_text=True)
    reception = login(app, "RA", world)
    desk = reception.post(
        f"/desk/book/{world.service_slug['A']}",
        data={
            "start": "2027-03-11T09:00:00+01:00",
            "channel": "phone",
            "name": f"Desk {PROBE}",
            "email": "desk-probe@example.org",
            "language": "de",
            "note": PROBE,
            "form_key": "d" * 32,
        },
    )
    assert desk.status_code == 302, desk.get_data(as_text=True)
    cancel = reception.post(
        f"/appointments/{world.appointment['A1']}/cancel", data={"reason": PROBE}
    )
    assert cancel.status_code == 302
    queue = f"/queue/{world.slug['A']}"
    walk_in = reception.post(f"{queue}/walk-in", data={"walkin-name": SHORT, "walkin-note": PROBE})
    assert walk_in.status_code in (302, 303), walk_in.get_data(as_text=True)
    called = reception.post(f"{queue}/call", data={"call-place": PROBE})
    assert called.status_code in (302, 303), called.get_data(as_text=True)
    # What admins type into their forms (names, addresses, texts), set in one go.
    db.session.commit()
    office = db.session.get(Office, world.office["A"])
    office.name = f"Stelle {SHORT}"
    office.address = PROBE
    office.public_notes = PROBE
    service = db.session.scalar(select(Service).where(Service.slug == world.service_slug["A"]))
    service.name = f"Beratung {SHORT}"
    service.description = PROBE
    db.session.get(StaffUser, world.staff["A1"]).name = f"K {SHORT}"
    db.session.add(
        Closure(
            office_id=office.id, first_day=date(2027, 3, 5), last_day=date(2027, 3, 5), reason=PROBE
        )
    )
    db.session.commit()
    return {"token": token}


def slug_for(rule: Rule, world: World) -> str:
    office = ("/offices", "/queue", "/callbacks/office", "/calendar/office", "/staff/offices")
    if rule.rule.startswith(office) or rule.rule.startswith("/reports/office"):
        return world.slug["A"]
    return world.service_slug["A"]


def get_paths(app, world: World, token: str) -> list[str]:
    """Every page with real records in it (and every message and barrier report)."""
    db.session.commit()
    many = {
        "message_id": list(db.session.scalars(select(OutboxMessage.id))),
        "feedback_id": list(db.session.scalars(select(AccessibilityFeedback.id))),
        "appointment_id": list(world.appointment.values()),
        "request_id": list(world.callback.values()),
    }
    paths = []
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint in ("static", "schedule.feed_ics"):
            continue
        if rule.endpoint.startswith("reports.operator"):
            continue  # operators' reports: issue 12 works on them
        values = {
            "slug": slug_for(rule, world),
            "token": token,
            "staff_id": world.staff["A1"],
            "office_id": world.office["A"],
            "service_id": 1,
        }
        choices = [
            {name: value} for name in rule.arguments if name in many for value in many[name]
        ] or [{}]
        for choice in choices:
            arguments = {name: values.get(name, 1) for name in rule.arguments} | choice
            path = rule.build(arguments)[1]
            if path.endswith(".csv"):
                continue
            paths.append(path)
            if rule.rule.startswith(("/calendar", "/staff")):
                paths.append(f"{path}?view=week&day=2027-03-04&cancelled=1")
    return sorted(set(paths))


def assert_escaped(text: str, where: str) -> None:
    for marker in MARKERS:
        assert marker not in text, f"unescaped {marker!r} in {where}"


@pytest.fixture
def injected(app, world):
    return inject(app, world)


def test_every_page_escapes_what_people_typed(app, world, injected):
    clients = {
        "family": app.test_client(),
        **{who: login(app, who, world) for who in ("admin", "A1", "RA", "privacy")},
    }
    paths = get_paths(app, world, injected["token"])
    seen = 0
    for who, client in clients.items():
        for language in ("de", "ar"):
            for path in paths:
                separator = "&" if "?" in path else "?"
                response = client.get(f"{path}{separator}lang={language}")
                body = response.get_data(as_text=True)
                assert response.status_code < 500, path
                if response.mimetype != "text/html":  # JSON, calendar files: not pages
                    assert response.headers["X-Content-Type-Options"] == "nosniff"
                    continue
                assert_escaped(body, f"{who} {language} {path}")
                seen += body.count("&lt;xss-probe&gt;")
    assert seen > 100  # the probes are on the pages, escaped


def test_every_message_escapes_what_people_typed(app, world, injected):
    db.session.commit()
    messages = list(db.session.scalars(select(OutboxMessage)))
    assert len(messages) >= 5
    html_parts = 0
    for message in messages:
        _text, html = with_manage_link(message)
        # A subject is plain text (a header): no line break may start another header.
        assert "\r" not in message.subject and "\n" not in message.subject
        if html:
            html_parts += 1
            assert_escaped(html, f"HTML of {message.kind}")
    assert html_parts >= 2
    admin = login(app, "admin", world)
    for message in messages:
        assert_escaped(admin.get(f"/admin/outbox/{message.id}").get_data(as_text=True), "viewer")


def test_privacy_export_and_search_escape_what_people_typed(app, world, injected):
    admin = login(app, "admin", world)
    found = admin.post("/admin/privacy/search", data={"contact": "probe@example.org"})
    assert found.status_code == 200
    assert_escaped(found.get_data(as_text=True), "privacy search")
    export = admin.post("/admin/privacy/export", data={"contact": "probe@example.org"})
    assert export.status_code == 200
    assert export.mimetype == "application/json"  # never read as a page
    assert export.headers["X-Content-Type-Options"] == "nosniff"


def test_calendar_files_keep_typed_text_inside_its_property(app, world, clock):
    """CR/LF, commas, semicolons and backslashes in a name or note stay text (RFC 5545)."""
    nasty = "X\r\nATTENDEE:mailto:evil@example.org\r\nBEGIN:VALARM\\;,"
    db.session.commit()
    office = db.session.get(Office, world.office["A"])
    office.name = nasty
    office.address = nasty
    service = db.session.scalar(select(Service).where(Service.slug == world.service_slug["A"]))
    service.name = nasty
    db.session.commit()
    family = app.test_client()
    ics = family.get(f"/manage/{world.token['A1']}/appointment.ics")
    assert ics.status_code == 200
    caseworker = login(app, "A1", world)
    feed_page = caseworker.post("/calendar/feed/renew").get_data(as_text=True)
    feed_path = re.search(r"(/calendar/feed/[^\"<]+\.ics)", feed_page).group(1)
    feed = family.get(feed_path)
    assert feed.status_code == 200
    for body in (ics.get_data(as_text=True), feed.get_data(as_text=True)):
        lines = body.split("\r\n")
        assert not any(line.startswith(("ATTENDEE", "BEGIN:VALARM")) for line in lines), body
        calendar = Calendar.from_ical(body)
        events = list(calendar.walk("VEVENT"))
        assert events
        texts = ""
        for event in events:
            assert "ATTENDEE" not in event
            assert not list(event.walk("VALARM"))
            texts += "".join(str(event.get(name, "")) for name in ("SUMMARY", "LOCATION"))
        assert "ATTENDEE:mailto" in texts  # the typed text is there, as text


def test_csv_downloads_defuse_formulas_typed_into_names(app, world, clock):
    db.session.commit()
    for office_id in world.office.values():
        db.session.get(Office, office_id).name = FORMULA
    for service in db.session.scalars(select(Service)):
        service.name = f"+{FORMULA}"
    db.session.commit()
    clock.move_to("2027-04-02 10:00:00")  # March is the last full month: the world's bookings
    admin = login(app, "admin", world)
    cells = []
    for table in ("services", "offices", "channels", "summary", "months"):
        for path in (f"/reports/city.csv?table={table}", f"/reports/office/{world.slug['A']}.csv"):
            response = admin.get(f"{path}&table={table}" if "?" not in path else path)
            if response.status_code == 404:
                continue
            assert response.status_code == 200, path
            text = response.get_data(as_text=True).lstrip("\ufeff")
            cells.extend(cell for line in text.splitlines() for cell in line.split(";"))
    named = [cell.strip('"') for cell in cells if "HYPERLINK" in cell]
    assert named, "the names are in the CSV"
    for cell in named:
        assert cell[0] not in "=+-@\t\r", cell


def test_typed_markup_in_the_waiting_room_screen_stays_text(app, world, injected):
    screen = app.test_client().get(f"/offices/{world.slug['A']}/display")
    body = screen.get_data(as_text=True)
    assert_escaped(body, "display")
    assert "&lt;xss-probe&gt;" in body  # the place called to, escaped
