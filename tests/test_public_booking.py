"""The family's booking flow, without an account and without JavaScript."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import func, select

from booking.appointments.models import Appointment, AppointmentStatus
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf
SLOT = datetime(2027, 3, 4, 10, tzinfo=BERLIN).isoformat()  # "2027-03-04T10:00:00+01:00"


@pytest.fixture
def service(bookable_service):
    return bookable_service


def details(**values) -> dict:
    data = {
        "start": SLOT,
        "form_key": values.pop("form_key", "k" * 32),
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "phone": "",
        "language": "tr",
        "interpreter_needed": "y",
        "note": "",
        "privacy_consent": "y",
        "website": "",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def manage_path(html: str) -> str:
    match = re.search(r'href="http://localhost(/manage/[^"]+)"', html)
    assert match, "no manage link on the page"
    return match.group(1)


def count_appointments() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


@freeze_time(NOW)
def test_office_list_and_week_of_slots(client, service):
    html = client.get("/book").get_data(as_text=True)
    assert "Beratung und Antragsaufnahme" in html
    page = client.get("/book/beratung-35a").get_data(as_text=True)
    assert "Frühester freier Termin" in page
    assert "Donnerstag, 4. März 2027, 09:00" in page
    assert f'value="{SLOT}"' in page
    assert "<script" not in page


@freeze_time(NOW)
def test_booking_end_to_end(client, service):
    form = client.get(f"/book/beratung-35a/details?start={SLOT}")
    assert form.status_code == 200
    assert "Donnerstag, 4. März 2027, 10:00" in form.get_data(as_text=True)
    response = client.post("/book/beratung-35a/details", data=details())
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert "Ihr Termin ist gebucht" in html
    assert "Willi-Becker-Allee 7" in html and "Berichte von Schule und Kita" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    appointment = db.session.scalar(select(Appointment))
    assert appointment.reference in html
    assert appointment.email == "yilmaz@example.org" and appointment.language == "tr"
    assert appointment.interpreter_needed is True
    path = manage_path(html)
    token = path.rsplit("/", 1)[1]
    assert token not in (appointment.manage_token_hash or "")  # only the hash is stored
    ics = client.get(f"{path}/appointment.ics")
    event = next(iter(Calendar.from_ical(ics.get_data()).walk("VEVENT")))
    assert event.decoded("dtstart") == datetime(2027, 3, 4, 9, tzinfo=UTC)


@freeze_time(NOW)
def test_double_submit_makes_one_appointment_and_the_same_link(client, service):
    first = client.post("/book/beratung-35a/details", data=details())
    second = client.post("/book/beratung-35a/details", data=details())
    assert second.status_code == 200
    assert count_appointments() == 1
    assert manage_path(first.get_data(as_text=True)) == manage_path(second.get_data(as_text=True))


@freeze_time(NOW)
def test_taken_slot_goes_back_to_time_choice_keeping_input(client, service, app):
    client.post("/book/beratung-35a/details", data=details())
    other = app.test_client()
    response = other.post(
        "/book/beratung-35a/details",
        data=details(form_key="z" * 32, name="Familie Nowak", email="nowak@example.org"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Diese Zeit wurde gerade vergeben" in html
    assert 'value="Familie Nowak"' in html and 'value="nowak@example.org"' in html
    assert f'value="{SLOT}"' not in html  # the taken time is no longer offered
    # Choosing another time brings the typed details back into the form.
    chosen = other.post(
        "/book/beratung-35a/details",
        data=details(
            form_key="z" * 32,
            name="Familie Nowak",
            email="nowak@example.org",
            start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(),
            choose="1",
        ),
    )
    assert 'value="Familie Nowak"' in chosen.get_data(as_text=True)
    assert count_appointments() == 1


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"email": "", "phone": ""},
            "Bitte geben Sie eine E-Mail-Adresse oder eine Handynummer an.",
        ),
        ({"privacy_consent": None}, "Bitte stimmen Sie dem Datenschutzhinweis zu."),
        ({"email": "kein-at-zeichen"}, "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        ({"email": "", "phone": "12"}, "Bitte geben Sie eine gültige Telefonnummer ein."),
        ({"note": "x" * 501}, "Höchstens 500 Zeichen"),
        ({"name": ""}, "Bitte geben Sie einen Namen ein."),
    ],
)
def test_bad_input_is_explained_and_kept(client, service, values, message):
    response = client.post("/book/beratung-35a/details", data=details(**values))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if values.get("name") != "":
        assert 'value="Familie Yılmaz"' in html
    assert count_appointments() == 0


@freeze_time(NOW)
def test_phone_only_family_is_fine(client, service):
    response = client.post(
        "/book/beratung-35a/details", data=details(email="", phone="0171 2345678")
    )
    assert response.status_code == 200
    assert db.session.scalar(select(Appointment.phone)) == "+49 171 2345678"


@freeze_time(NOW)
def test_not_a_slot_time_is_refused(client, service):
    response = client.post(
        "/book/beratung-35a/details",
        data=details(start=datetime(2027, 3, 4, 10, 10, tzinfo=BERLIN).isoformat()),
    )
    assert response.status_code == 422
    assert "Diese Zeit kann nicht gebucht werden" in response.get_data(as_text=True)


@freeze_time(NOW)
def test_honeypot_refuses_and_logs(client, service):
    response = client.post("/book/beratung-35a/details", data=details(website="http://spam"))
    assert response.status_code == 422
    assert count_appointments() == 0
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.refused"))
    assert refused.detail == "honeypot field filled"


@freeze_time(NOW)
def test_open_bookings_per_contact_are_limited(client, service):
    for n, hour in enumerate((9, 10)):
        start = datetime(2027, 3, 4, hour, tzinfo=BERLIN).isoformat()
        assert (
            client.post(
                "/book/beratung-35a/details", data=details(start=start, form_key=f"{n}" * 32)
            ).status_code
            == 200
        )
    third = client.post(
        "/book/beratung-35a/details",
        data=details(start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(), form_key="3" * 32),
    )
    assert third.status_code == 422
    assert "schon 2 offene Termine" in third.get_data(as_text=True)
    assert count_appointments() == 2
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "booking.refused")
        )
        == 1
    )


@freeze_time(NOW)
def test_booking_is_rate_limited(app_factory, service):
    app = app_factory()
    client = app.test_client()
    codes = [
        client.post("/book/beratung-35a/details", data=details(name="")).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [422] * 10 and codes[10] == 429


@freeze_time(NOW)
def test_manage_cancel_frees_the_slot(client, service):
    html = client.post("/book/beratung-35a/details", data=details()).get_data(as_text=True)
    path = manage_path(html)
    page = client.get(path)
    assert page.status_code == 200 and "Termin absagen" in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert (
        db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED
    )  # GET only reads
    cancelled = client.post(f"{path}/cancel").get_data(as_text=True)
    assert "Ihr Termin ist abgesagt" in cancelled
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.CANCELLED
    assert f'value="{SLOT}"' in client.get("/book/beratung-35a").get_data(as_text=True)


@freeze_time(NOW)
def test_manage_move_issues_a_new_link(client, service):
    html = client.post("/book/beratung-35a/details", data=details()).get_data(as_text=True)
    old_path = manage_path(html)
    move_page = client.get(f"{old_path}/move").get_data(as_text=True)
    eleven = datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat()
    assert f'value="{eleven}"' in move_page
    moved = client.post(f"{old_path}/move", data={"start": eleven})
    new_html = moved.get_data(as_text=True)
    assert moved.status_code == 200 and "Ihr Termin wurde verlegt" in new_html
    new_path = manage_path(new_html)
    assert new_path != old_path
    assert client.get(old_path).status_code == 404
    assert client.get(new_path).status_code == 200
    appointment = db.session.scalar(select(Appointment))
    assert appointment.starts_at == datetime(2027, 3, 4, 11, tzinfo=BERLIN)
    assert appointment.sequence == 1


def test_manage_closes_at_the_minimum_notice_and_dies_after(client, service):
    with freeze_time(NOW):
        path = manage_path(
            client.post("/book/beratung-35a/details", data=details()).get_data(as_text=True)
        )
    with freeze_time("2027-03-03 09:30:00"):  # 23.5 h before: inside the 24 h notice
        page = client.get(path).get_data(as_text=True)
        assert "kann online nicht mehr geändert werden" in page
        client.post(f"{path}/cancel")
        assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED
    with freeze_time("2027-03-04 10:00:00"):  # after the appointment
        assert client.get(path).status_code == 404


def test_unknown_token_is_404(client):
    assert client.get("/manage/not-a-token").status_code == 404


def test_public_pages_are_small_and_self_contained(client, service):
    with client.get("/static/css/app.css") as css_response:
        css = css_response.get_data()
    with freeze_time(NOW):
        for path in (
            "/",
            "/book",
            "/book/beratung-35a",
            f"/book/beratung-35a/details?start={SLOT}",
            "/privacy",
        ):
            response = client.get(path)
            body = response.get_data()
            assert response.status_code == 200, path
            assert len(body) + len(css) < 60 * 1024, path
            assert b"https://" not in body and b"<script" not in body, path


def test_admins_see_refused_bookings(client, auth, make_staff, service):
    with freeze_time(NOW):
        client.post("/book/beratung-35a/details", data=details(website="spam"))
        admin = make_staff(Role.ADMIN)
        auth.login(admin.email)
        html = client.get("/admin/audit?action=booking.refused").get_data(as_text=True)
    assert "booking.refused" in html and "honeypot field filled" in html
    assert "auth.login" not in html


@freeze_time(NOW)
def test_a_reused_form_key_never_reveals_another_familys_booking(client, service, app):
    first = client.post("/book/beratung-35a/details", data=details())
    other = app.test_client().post(
        "/book/beratung-35a/details",
        data=details(
            email="someone-else@example.org",
            start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(),
        ),
    )
    assert other.status_code == 200
    assert manage_path(first.get_data(as_text=True)) != manage_path(other.get_data(as_text=True))
    assert count_appointments() == 2
