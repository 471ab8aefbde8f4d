"""Reception and caseworkers book for callers and walk-ins through the same engine."""

import re
from datetime import datetime, time
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.models import Appointment, Channel
from booking.auth.models import Role
from booking.extensions import db
from booking.schedule.models import WeeklyHours
from tests.conftest import PASSWORD

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"  # a Monday; the service has slots on Thursdays 9, 10 and 11
TEN = datetime(2027, 3, 4, 10, tzinfo=BERLIN).isoformat()
NEXT_WEEK_TEN = datetime(2027, 3, 11, 10, tzinfo=BERLIN).isoformat()
DESK = "/desk/book/beratung-35a"


@pytest.fixture
def reception(make_staff, bookable_service):
    return make_staff(Role.RECEPTION, offices=[bookable_service.office], name="Birgit Empfang")


def caller(**values) -> dict:
    return {"start": TEN, "channel": "phone", "name": "Familie Petrović", "language": "de"} | values


def appointment_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


def select_html(html: str, name: str) -> str:
    match = re.search(rf'<select[^>]*name="{name}".*?</select>', html, re.S)
    assert match, f"no select {name}"
    return match.group(0)


def form_key(html: str) -> str:
    match = re.search(r'name="form_key" type="hidden" value="([^"]+)"', html)
    assert match, "no form key"
    return match.group(1)


@freeze_time(NOW)
def test_reception_books_a_caller_and_a_reload_shows_the_same_booking(
    client, auth, reception, bookable_service
):
    auth.login(reception.email)
    page = client.get(DESK).get_data(as_text=True)
    assert f'value="{TEN}"' in page
    response = client.post(DESK, data=caller(phone="0211 123456", form_key=form_key(page)))
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    assert response.headers["Location"] == f"/desk/booked/{appointment.id}"
    assert appointment.channel == Channel.PHONE
    assert appointment.created_by_id == reception.id
    assert [e.action for e in appointment.events] == ["booked"]
    first = client.get(response.headers["Location"])
    html = first.get_data(as_text=True)
    assert first.status_code == 200
    assert appointment.reference in html and "Familie Petrović" in html
    manage_link = re.search(r"http://[^<]*/manage/[^<]+", html).group(0)
    again = client.get(response.headers["Location"]).get_data(as_text=True)
    assert appointment.reference in again and manage_link in again
    assert appointment_count() == 1


@freeze_time(NOW)
def test_walk_in_without_contact_is_allowed_and_reception_is_told_to_pass_it_on(
    client, auth, reception
):
    auth.login(reception.email)
    response = client.post(DESK, data=caller(channel="desk", name="Familie Ahmadi", language="fa"))
    assert response.status_code == 302
    assert db.session.scalar(select(Appointment.channel)) == Channel.DESK
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "bekommt keine Nachricht" in html


@freeze_time(NOW)
def test_taken_time_keeps_the_typed_details(client, auth, reception, app):
    auth.login(reception.email)
    client.post(DESK, data=caller(name="A"))
    response = client.post(DESK, data=caller(name="Familie Nowak", language="pl"))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'value="Familie Nowak"' in html
    assert "gerade vergeben" in html
    assert f'value="{TEN}"' not in select_html(html, "start")  # no longer offered
    assert appointment_count() == 1


@freeze_time(NOW)
def test_paging_a_week_keeps_what_was_typed_and_books_nothing(client, auth, reception):
    auth.login(reception.email)
    typed = caller(
        name="Familie Nowak", phone="0211 123456", email="nowak@example.org", note="Rückruf"
    )
    html = client.get(DESK).get_data(as_text=True)
    assert 'name="week" value="2027-03-08"' in html  # "later week" is a button of the form
    response = client.post(DESK, data=typed | {"week": "2027-03-08"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert appointment_count() == 0
    assert 'value="Familie Nowak"' in html and 'value="0211 123456"' in html
    assert 'value="nowak@example.org"' in html and "Rückruf</textarea>" in html
    assert f'value="{NEXT_WEEK_TEN}"' in select_html(html, "start")
    assert 'name="shown_week" type="hidden" value="2027-03-08"' in html
    assert 'name="week" value="2027-03-01"' in html  # and back again
    assert "error-summary" not in html
    # The focus stays on the week buttons, so that paging on is one more Enter.
    later = re.search(r'<button[^>]*name="week" value="2027-03-15"[^>]*>', html).group(0)
    assert "autofocus" in later and html.count("autofocus") == 1
    # Booking from the shown week books the time chosen there.
    booked = client.post(DESK, data=typed | {"start": NEXT_WEEK_TEN, "shown_week": "2027-03-08"})
    assert booked.status_code == 302
    assert db.session.scalar(select(Appointment.starts_at)) == datetime.fromisoformat(NEXT_WEEK_TEN)


@freeze_time(NOW)
def test_choosing_a_caseworker_keeps_what_was_typed(
    client, auth, reception, bookable_service, make_staff
):
    other = make_staff(Role.CASEWORKER, offices=[bookable_service.office], name="Mehmet Öztürk")
    other.services = [bookable_service]
    db.session.add(
        WeeklyHours(
            staff_id=other.id,
            office_id=bookable_service.office_id,
            weekday=0,  # Mondays only
            start_time=time(14),
            end_time=time(16),
        )
    )
    db.session.commit()
    auth.login(reception.email)
    response = client.post(
        DESK,
        data=caller(name="Familie Nowak", note="Rückruf")
        | {"staff": str(other.id), "action": "show", "shown_week": "2027-03-08"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert appointment_count() == 0
    assert 'value="Familie Nowak"' in html and "Rückruf</textarea>" in html
    assert f'<option selected value="{other.id}">' in select_html(html, "staff")
    times = select_html(html, "start")
    assert "2027-03-08T14:00:00+01:00" in times  # Mr Öztürk's Monday, the week kept
    assert "T10:00" not in times  # not Ms Becker's Thursday
    assert "Mehmet Öztürk" in html
    assert re.search(r'<select[^>]*autofocus[^>]*name="start"', times)  # on to the times


@freeze_time(NOW)
def test_no_time_is_preselected_and_booking_without_one_keeps_the_rest(client, auth, reception):
    auth.login(reception.email)
    times = select_html(client.get(DESK).get_data(as_text=True), "start")
    assert "selected" not in times
    assert re.search(r'<select[^>]*required[^>]*>\s*<option value="">', times)
    response = client.post(DESK, data=caller(start="", name="Familie Nowak"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Zeit." in html
    assert 'value="Familie Nowak"' in html
    assert appointment_count() == 0


@freeze_time(NOW)
def test_enter_in_a_text_field_books_and_does_not_page(client, auth, reception):
    """Implicit submission presses the form's first submit button in tree order."""
    auth.login(reception.email)
    html = client.get(DESK).get_data(as_text=True)
    start = html.index('<form method="post" action="/desk/')
    end = html.index("</form>", start)
    buttons = [
        match.group(0)
        for match in re.finditer(r"<button[^>]*>", html)
        if start < match.start() < end or 'form="desk-form"' in match.group(0)
    ]
    assert 'id="desk-form"' in html[start:end]
    assert 'name="week"' in " ".join(buttons)  # paging buttons belong to the form ...
    first = buttons[0]  # ... but the default button books
    assert "name=" not in first or 'value="book"' in first, first
    response = client.post(DESK, data=caller())  # what a browser sends for that button
    assert response.status_code == 302


@freeze_time(NOW)
def test_switching_the_language_keeps_what_was_typed(client, auth, reception):
    auth.login(reception.email)
    html = client.get(DESK).get_data(as_text=True)
    assert 'form="desk-form" formaction="/desk/book/beratung-35a?lang=en"' in html
    response = client.post(
        f"{DESK}?lang=en", data=caller(name="Familie Nowak") | {"switch_language": "en"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="en"' in html and "Name of the family" in html
    assert 'value="Familie Nowak"' in html and f'<option selected value="{TEN}">' in html
    assert appointment_count() == 0


@freeze_time(NOW)
def test_a_double_submit_books_once_and_shows_the_first_booking(client, auth, reception):
    auth.login(reception.email)
    key = form_key(client.get(DESK).get_data(as_text=True))
    first = client.post(DESK, data=caller(form_key=key))
    second = client.post(DESK, data=caller(form_key=key))
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert appointment_count() == 1
    html = client.get(second.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Appointment.reference)) in html


@freeze_time(NOW)
def test_a_form_sent_again_for_another_family_books_again(client, auth, reception):
    """The browser's Back button brings the same form key back with other details."""
    auth.login(reception.email)
    key = form_key(client.get(DESK).get_data(as_text=True))
    first = client.post(DESK, data=caller(form_key=key, name="A", start=TEN))
    second = client.post(
        DESK, data=caller(form_key=key, name="B", start=datetime(2027, 3, 4, 11, tzinfo=BERLIN))
    )
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] != second.headers["Location"]
    names = db.session.scalars(select(Appointment.family_name).order_by(Appointment.id)).all()
    assert names == ["A", "B"]
    assert "/manage/" in client.get(second.headers["Location"]).get_data(as_text=True)


@freeze_time(NOW)
def test_booked_page_of_another_login_leads_to_the_appointment(client, auth, reception, app):
    auth.login(reception.email)
    location = client.post(DESK, data=caller()).headers["Location"]
    other = app.test_client()
    other.post("/login", data={"email": reception.email, "password": PASSWORD})
    response = other.get(location)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/appointments/")
    assert "/manage/" not in other.get(location, follow_redirects=True).get_data(as_text=True)


@freeze_time(NOW)
def test_desk_keeps_a_landline_for_calling_back(client, auth, reception):
    auth.login(reception.email)
    html = client.get(DESK).get_data(as_text=True)
    assert "nur an Handynummern" in html  # the hint next to the phone field
    response = client.post(DESK, data=caller(phone="0211 8992000"))
    assert response.status_code == 302
    assert db.session.scalar(select(Appointment.phone)) == "+49 211 8992000"
    booked = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "bekommt keine Nachricht" in booked  # no email, no mobile: tell them yourself
    client.post(DESK, data=caller(phone="0151 23456789", start=NEXT_WEEK_TEN))
    mobile = db.session.scalar(select(Appointment).where(Appointment.phone.like("+49 151%")))
    assert "bekommt keine Nachricht" not in client.get(f"/desk/booked/{mobile.id}").get_data(
        as_text=True
    )


@freeze_time(NOW)
def test_desk_is_limited_to_own_offices(client, auth, make_staff, make_office, make_service):
    other = make_service(make_office(slug="elsewhere"), slug="fremd")
    user = make_staff(Role.RECEPTION, offices=[make_office(slug="mine")])
    auth.login(user.email)
    assert client.get(f"/desk/book/{other.slug}").status_code == 403
    assert client.post(f"/desk/book/{other.slug}", data={"week": "2027-03-08"}).status_code == 403
    assert "fremd" not in client.get("/desk/").get_data(as_text=True)


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("values", "status"),
    [
        ({"week": "9999-12-31"}, 200),
        ({"week": "0001-01-01"}, 200),
        ({"week": "kein Datum"}, 200),
        ({"shown_week": "9999-12-31", "start": ""}, 422),
        ({"staff": "99999999999999999999", "action": "show"}, 200),
        ({"form_key": "x" * 5000}, 302),
        ({"start": "0001-01-01T00:00:00+00:00"}, 422),
        ({"start": "kein Datum"}, 422),
    ],
)
def test_odd_input_gets_an_answer_not_a_500(client, auth, reception, values, status):
    auth.login(reception.email)
    assert client.post(DESK, data=caller() | values).status_code == status
    response = client.get(DESK, query_string={"week": values.get("week", "x"), "staff": "x"})
    assert response.status_code == 200


@freeze_time(NOW)
def test_the_booked_page_is_audited_with_ids_only_and_checked_against_the_offices(
    client, auth, reception
):
    from booking.audit.models import AuditEvent

    auth.login(reception.email)
    location = client.post(DESK, data=caller(phone="0211 123456")).headers["Location"]
    appointment = db.session.scalar(select(Appointment))
    for _ in range(2):  # every showing, a reload too
        assert client.get(location).status_code == 200
    viewed = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "appointment.viewed")
    ).all()
    assert [(e.actor_id, e.object_id, e.detail) for e in viewed] == [
        (reception.id, str(appointment.id), "desk")
    ] * 2
    for event in viewed:
        assert "Petrović" not in repr(vars(event)) and "123456" not in repr(vars(event))
    # Moved to another office meanwhile: the page no longer shows the family.
    reception.offices = []
    db.session.commit()
    response = client.get(location, follow_redirects=True)
    assert response.status_code == 403 and "Petrović" not in response.get_data(as_text=True)
