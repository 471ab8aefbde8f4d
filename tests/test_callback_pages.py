"""Staff pages of callback requests: the new-callback form with its duplicate check, the
queue, the request page with every action, access across offices, audit, PRG."""

import re
from datetime import datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.callbacks.due import BERLIN
from booking.callbacks.models import (
    CallbackApiKey,
    CallbackOutcome,
    CallbackRequest,
    CallbackStatus,
)
from booking.callbacks.services import hash_key
from booking.extensions import db
from booking.schedule.models import WeeklyHours

NOW = datetime(2027, 3, 25, 10, 30, tzinfo=BERLIN)
LONG = timedelta(days=3650)


@pytest.fixture(autouse=True)
def clock():
    """Every test runs on a frozen clock that only moves forward (signed cookies)."""
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def app(app_factory):
    """Sessions outlive the days these tests move the clock on."""
    app = app_factory(
        STAFF_IDLE_TIMEOUT=LONG, STAFF_ABSOLUTE_TIMEOUT=LONG, PERMANENT_SESSION_LIFETIME=LONG
    )
    with app.app_context():
        yield app


@pytest.fixture
def staff(make_office, make_service, make_staff):
    office = make_office(slug="eingliederungshilfe", name="Eingliederungshilfe")
    other = make_office(slug="welcome-point", name="Welcome Point")
    service = make_service(office, slug="beratung-35a", name="Beratung")
    return {
        "office": office,
        "other": other,
        "service": service,
        "reception": make_staff(Role.RECEPTION, offices=[office], email="empfang@example.org"),
        "caseworker": make_staff(
            Role.CASEWORKER, offices=[office], email="becker@example.org", name="K. Becker"
        ),
        "stranger": make_staff(Role.CASEWORKER, offices=[other], email="demir@example.org"),
        "other_reception": make_staff(
            Role.RECEPTION, offices=[other], email="empfang2@example.org"
        ),
        "admin": make_staff(Role.ADMIN, email="admin@example.org"),
    }


def form_data(**values):
    data = {
        "name": "Familie Yılmaz",
        "phone": "0211 1234567",
        "topic": "other",
        "language": "tr",
        "reachable": ["mon-am", "wed-pm"],
        "reachable_note": "",
        "email": "",
        "note": "Frage zum Antrag",
    }
    data.update(values)
    return data


def create(client, staff, **values):
    return client.post("/callbacks/office/eingliederungshilfe/new", data=form_data(**values))


def focused_input(html: str) -> str:
    """The tag that carries autofocus."""
    before, after = html.split("autofocus", 1)
    return before.rsplit("<", 1)[1] + after.split(">", 1)[0]


def only_request() -> CallbackRequest:
    return db.session.scalars(select(CallbackRequest)).one()


def test_the_new_form_starts_in_the_name_field(client, auth, staff):
    auth.login("empfang@example.org")
    html = client.get("/callbacks/office/eingliederungshilfe/new").get_data(as_text=True)
    assert html.count("autofocus") == 1
    assert 'id="name"' in focused_input(html)
    assert "Beratung" in html  # the office's services are the topics


def test_reception_logs_a_call_and_is_redirected_to_it(client, auth, staff):
    auth.login("empfang@example.org")
    response = create(client, staff, urgent="y", interpreter_needed="y", voicemail_ok="y")
    assert response.status_code == 302
    request = only_request()
    assert response.headers["Location"].endswith(f"/callbacks/{request.id}")
    assert request.phone == "+492111234567"
    assert request.urgent and request.interpreter_needed and request.voicemail_ok
    assert request.reachable_codes == ["mon-am", "wed-pm"]
    assert request.service_id is None
    assert request.created_by_id == staff["reception"].id
    # Urgent on Thursday before Easter: Tuesday after Easter Monday, 16:00.
    assert request.due_at == datetime(2027, 3, 30, 16, tzinfo=BERLIN)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "0211 1234567" in page and "+492111234567" not in page.replace("tel:+492111234567", "")
    assert "Dienstag, 30. März 2027, 16:00" in page


def test_a_topic_of_the_office_is_stored(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff, topic=str(staff["service"].id))
    assert only_request().service_id == staff["service"].id


def test_a_bad_number_keeps_the_input_and_focuses_the_field(client, auth, staff):
    auth.login("empfang@example.org")
    response = create(client, staff, phone="12")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Familie Yılmaz" in html  # kept
    assert "gültige Telefonnummer" in html
    assert html.count("autofocus") == 1
    assert 'id="phone"' in focused_input(html)
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_a_foreign_topic_is_refused(client, auth, staff, make_service):
    foreign = make_service(staff["other"])
    auth.login("empfang@example.org")
    response = create(client, staff, topic=str(foreign.id))
    assert response.status_code == 422  # not one of the choices
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_the_duplicate_check_shows_the_open_request_first(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    first = only_request()
    response = create(client, staff, phone="+49 211 1234567", note="ruft wieder an", urgent="y")
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert first.reference in html
    assert html.index(first.reference) < html.index('name="name"')
    assert f"/callbacks/{first.id}/add" in html
    assert 'name="add-note"' in html and 'value="ruft wieder an"' in html
    assert html.count("autofocus") == 1
    assert html.split("autofocus", 1)[1].startswith(">Diesen Anruf dort ergänzen")
    assert db.session.scalars(select(CallbackRequest)).all() == [first]  # no duplicate
    assert "callback.duplicate_shown" in db.session.scalars(select(AuditEvent.action)).all()


def test_adding_to_the_open_request_instead_of_a_duplicate(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    first = only_request()
    response = client.post(
        f"/callbacks/{first.id}/add", data={"add-note": "ruft wieder an", "add-urgent": "1"}
    )
    assert response.status_code == 302
    db.session.refresh(first)
    assert "ruft wieder an" in first.internal_note
    assert first.urgent
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 1


def test_a_double_click_on_add_this_call_adds_it_once(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    first = only_request()
    shown = create(client, staff, note="zweiter Anruf").get_data(as_text=True)
    key = re.search(r'name="add-form_key" type="hidden" value="([^"]+)"', shown).group(1)
    data = {"add-note": "zweiter Anruf", "add-urgent": "", "add-form_key": key}
    assert client.post(f"/callbacks/{first.id}/add", data=data).status_code == 302
    again = client.post(f"/callbacks/{first.id}/add", data=data, follow_redirects=True)
    assert "schon hinzugefügt" in again.get_data(as_text=True)
    db.session.refresh(first)
    assert first.internal_note.count("zweiter Anruf") == 1
    # The next repeated call (a new notice, a new key) is added again.
    shown = create(client, staff, note="dritter Anruf").get_data(as_text=True)
    key = re.search(r'name="add-form_key" type="hidden" value="([^"]+)"', shown).group(1)
    data = {"add-note": "dritter Anruf", "add-urgent": "", "add-form_key": key}
    client.post(f"/callbacks/{first.id}/add", data=data)
    db.session.refresh(first)
    assert "dritter Anruf" in first.internal_note


def test_a_new_request_anyway_after_the_duplicate_check(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    shown = create(client, staff, note="etwas anderes")
    assert shown.status_code == 409
    assert 'name="duplicate_ok" type="hidden" value="+492111234567"' in shown.get_data(as_text=True)
    response = create(client, staff, duplicate_ok="+492111234567", note="etwas anderes")
    assert response.status_code == 302
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 2


def test_a_changed_number_after_the_duplicate_check_is_checked_again(client, auth, staff):
    """ "Save anyway" was meant for the number whose open request reception saw, no other."""
    auth.login("empfang@example.org")
    create(client, staff, phone="0211 1234567")
    create(client, staff, phone="0211 7654321", duplicate_ok="+492111234567")
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 2
    response = create(client, staff, phone="0211 7654321", duplicate_ok="+492111234567")
    assert response.status_code == 409
    assert "0211 7654321" in response.get_data(as_text=True)
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 2


def test_the_same_number_at_another_office_is_no_duplicate(client, auth, staff, make_staff):
    auth.login("admin@example.org")
    create(client, staff)
    response = client.post("/callbacks/office/welcome-point/new", data=form_data())
    assert response.status_code == 302
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 2


def test_the_queue_is_sorted_marks_overdue_and_filters(client, auth, staff, clock):
    auth.login("empfang@example.org")
    create(client, staff, phone="0211 1111111", name="Erste Familie")
    create(client, staff, phone="0211 2222222", name="Dringende Familie", urgent="y")
    clock.move_to(datetime(2027, 3, 31, 9, tzinfo=BERLIN))
    html = client.get("/callbacks/office/eingliederungshilfe").get_data(as_text=True)
    assert html.index("Dringende Familie") < html.index("Erste Familie")
    assert html.count("badge-overdue") == 1  # the urgent one was due Tuesday 16:00
    urgent = db.session.scalars(
        select(CallbackRequest).where(CallbackRequest.urgent.is_(True))
    ).one()
    urgent.assign(staff["caseworker"], NOW)
    db.session.commit()
    html = client.get(
        f"/callbacks/office/eingliederungshilfe?assignee={staff['caseworker'].id}"
    ).get_data(as_text=True)
    assert "Dringende Familie" in html and "Erste Familie" not in html
    html = client.get("/callbacks/office/eingliederungshilfe?status=new").get_data(as_text=True)
    assert "Erste Familie" in html and "Dringende Familie" not in html
    html = client.get("/callbacks/office/eingliederungshilfe?status=closed").get_data(as_text=True)
    assert "Erste Familie" not in html
    # Nonsense filters fall back to the defaults instead of an error.
    response = client.get("/callbacks/office/eingliederungshilfe?status=x&assignee=99999999999")
    assert response.status_code == 200
    assert "callback.queue_viewed" in db.session.scalars(select(AuditEvent.action)).all()


def test_the_request_page_is_audited(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    assert client.get(f"/callbacks/{request.id}").status_code == 200
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "callback.viewed")
    ).all()
    assert [(e.object_type, e.object_id) for e in events] == [("callback_request", str(request.id))]


def test_assign_attempts_and_close_through_the_pages(client, auth, staff, clock):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    url = f"/callbacks/{request.id}"
    response = client.post(f"{url}/assign", data={"assign-staff": staff["caseworker"].id})
    assert response.status_code == 302 and response.headers["Location"].endswith(url)
    auth.logout()
    auth.login("becker@example.org")
    for day, hour in ((30, 9), (30, 11), (31, 9)):
        clock.move_to(datetime(2027, 3, day, hour, tzinfo=BERLIN))
        response = client.post(
            f"{url}/attempt", data={"attempt-outcome": "no_answer", "attempt-note": ""}
        )
        assert response.status_code == 302
    response = client.post(f"{url}/note", data={"note-note": "Mailbox voll"})
    assert response.status_code == 302
    clock.move_to(datetime(2027, 3, 31, 10, tzinfo=BERLIN))
    response = client.post(f"{url}/close", data={"close-outcome": "unreachable"})
    assert response.status_code == 302
    db.session.refresh(request)
    assert request.status == CallbackStatus.CLOSED
    assert request.outcome.value == "unreachable"
    assert len(request.attempts) == 3
    page = client.get(url).get_data(as_text=True)
    assert "nicht erreichbar" in page  # a label, not the code
    assert "unreachable" not in page
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"callback.assigned", "callback.attempt", "callback.closed"} <= actions


def test_a_refused_close_shows_the_message_on_the_form(client, auth, staff):
    auth.login("becker@example.org")
    client.post("/callbacks/office/eingliederungshilfe/new", data=form_data())
    request = only_request()
    client.post(f"/callbacks/{request.id}/claim")
    response = client.post(f"/callbacks/{request.id}/close", data={"close-outcome": "unreachable"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "zwei verschiedenen Tagen" in html
    db.session.refresh(request)
    assert request.status == CallbackStatus.ASSIGNED
    response = client.post(f"/callbacks/{request.id}/close", data={"close-outcome": "nonsense"})
    assert response.status_code == 422


def test_a_caseworker_claims_from_the_page(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    auth.logout()
    auth.login("becker@example.org")
    assert "Ich rufe zurück" in client.get(f"/callbacks/{request.id}").get_data(as_text=True)
    response = client.post(f"/callbacks/{request.id}/claim")
    assert response.status_code == 302
    db.session.refresh(request)
    assert request.assigned_to_id == staff["caseworker"].id
    # Claiming again: a message, no error page.
    response = client.post(f"/callbacks/{request.id}/claim", follow_redirects=True)
    assert response.status_code == 200
    assert "schon Ihre" in response.get_data(as_text=True)


def bookable(staff):
    """The caseworker offers the service on Fridays 09-12 (the day after NOW)."""
    staff["caseworker"].services = [staff["service"]]
    db.session.add(
        WeeklyHours(
            staff_id=staff["caseworker"].id,
            office_id=staff["office"].id,
            weekday=4,
            start_time=time(9),
            end_time=time(12),
        )
    )
    db.session.commit()


def desk_link(html: str) -> str:
    match = re.search(r'href="(/desk/[^"]*callback=[^"]*)"', html)
    assert match, "no desk link"
    return match.group(1).replace("&amp;", "&")


def first_time(html: str) -> str:
    select_html = re.search(r'<select[^>]*name="start".*?</select>', html, re.S).group(0)
    return re.findall(r'<option[^>]*value="([^"]+)"', select_html)[1]


def test_the_desk_link_carries_only_the_request_id(client, auth, staff):
    """No caller data in addresses (logs, history, referrers): the desk loads it itself."""
    auth.login("empfang@example.org")
    create(
        client,
        staff,
        topic=str(staff["service"].id),
        interpreter_needed="y",
        email="yilmaz@example.org",
    )
    request = only_request()
    link = desk_link(client.get(f"/callbacks/{request.id}").get_data(as_text=True))
    assert link == f"/desk/book/beratung-35a?callback={request.id}"
    desk = client.get(link).get_data(as_text=True)
    assert 'value="Familie Yılmaz"' in desk and 'value="0211 1234567"' in desk
    assert 'value="yilmaz@example.org"' in desk
    assert '<option selected value="tr">' in desk
    interpreter = re.search(r'<input[^>]*name="interpreter_needed"[^>]*>', desk).group(0)
    assert "checked" in interpreter
    assert f'name="callback" type="hidden" value="{request.id}"' in desk
    assert request.reference in desk


def test_other_topic_links_to_the_desk_start_with_the_id(client, auth, staff):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    link = desk_link(client.get(f"/callbacks/{request.id}").get_data(as_text=True))
    assert link == f"/desk/?callback={request.id}"
    page = client.get(link).get_data(as_text=True)
    assert f"/desk/book/beratung-35a?callback={request.id}" in page


@pytest.mark.parametrize("who", ["stranger", "other_reception"])
def test_the_desk_refuses_a_request_of_another_office(client, auth, staff, make_service, who):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    auth.logout()
    auth.login(staff[who].email)
    make_service(staff["other"], slug="wp-beratung")
    assert client.get(f"/desk/?callback={request.id}").status_code == 403
    assert client.get(f"/desk/book/wp-beratung?callback={request.id}").status_code == 403
    response = client.post("/desk/book/wp-beratung", data={"callback": str(request.id)})
    assert response.status_code == 403
    assert "Yılmaz" not in response.get_data(as_text=True)


def test_the_desk_refuses_a_service_of_another_office_and_bad_ids(
    client, auth, staff, make_service
):
    make_service(staff["other"], slug="wp-beratung")
    auth.login("admin@example.org")
    create(client, staff)
    request = only_request()
    assert client.get(f"/desk/book/wp-beratung?callback={request.id}").status_code == 404
    assert client.get("/desk/book/beratung-35a?callback=99999").status_code == 404
    assert client.get("/desk/book/beratung-35a?callback=abc").status_code == 404


@pytest.mark.parametrize("who", ["empfang@example.org", "becker@example.org"])
def test_booking_at_the_desk_closes_the_request_linked_to_the_appointment(client, auth, staff, who):
    bookable(staff)
    auth.login("empfang@example.org")
    create(client, staff, topic=str(staff["service"].id))
    request = only_request()
    auth.logout()
    auth.login(who)
    link = desk_link(client.get(f"/callbacks/{request.id}").get_data(as_text=True))
    page = client.get(link).get_data(as_text=True)
    data = {
        "callback": str(request.id),
        "start": first_time(page),
        "channel": "phone",
        "name": "Familie Yılmaz",
        "phone": "0211 1234567",
        "language": "tr",
        "form_key": re.search(r'name="form_key" type="hidden" value="([^"]+)"', page).group(1),
    }
    response = client.post("/desk/book/beratung-35a", data=data)
    assert response.status_code == 302
    appointment = db.session.scalar(select(Appointment))
    db.session.refresh(request)
    assert request.status == CallbackStatus.CLOSED
    assert request.outcome == CallbackOutcome.APPOINTMENT_BOOKED
    assert request.appointment_id == appointment.id
    assert request.assigned_to_id == staff["caseworker"].id
    assert [e.action for e in request.events][-1] == "closed"
    booked = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'href="/callbacks/{request.id}"' in booked and request.reference in booked
    detail = client.get(f"/callbacks/{request.id}").get_data(as_text=True)
    assert f'href="/appointments/{appointment.id}"' in detail and appointment.reference in detail
    # The same form sent again (a double click): one appointment, the request stays closed.
    again = client.post("/desk/book/beratung-35a", data=data)
    assert again.status_code == 302
    assert db.session.scalar(select(func.count()).select_from(Appointment)) == 1


def test_a_request_closed_meanwhile_books_but_is_not_linked(client, auth, staff):
    bookable(staff)
    auth.login("empfang@example.org")
    create(client, staff, topic=str(staff["service"].id))
    request = only_request()
    page = client.get(f"/desk/book/beratung-35a?callback={request.id}").get_data(as_text=True)
    client.post(f"/callbacks/{request.id}/close", data={"close-outcome": "withdrawn"})
    response = client.post(
        "/desk/book/beratung-35a",
        data={
            "callback": str(request.id),
            "start": first_time(page),
            "channel": "phone",
            "name": "Familie Yılmaz",
            "language": "tr",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "nicht mit ihr verknüpft" in response.get_data(as_text=True)
    db.session.refresh(request)
    assert request.outcome == CallbackOutcome.WITHDRAWN and request.appointment_id is None
    # A closed request prefills nothing and says so.
    page = client.get(f"/desk/book/beratung-35a?callback={request.id}").get_data(as_text=True)
    assert "Yılmaz" not in page and "ist abgeschlossen" in page


@pytest.mark.parametrize("who", ["stranger", "other_reception"])
def test_staff_of_other_offices_get_403_everywhere(client, auth, staff, who):
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    auth.logout()
    auth.login(staff[who].email)
    assert client.get(f"/callbacks/{request.id}").status_code == 403
    assert client.get("/callbacks/office/eingliederungshilfe").status_code == 403
    assert client.get("/callbacks/office/eingliederungshilfe/new").status_code == 403
    for action, data in (
        ("assign", {"assign-staff": staff["caseworker"].id}),
        ("claim", {}),
        ("attempt", {"attempt-outcome": "no_answer"}),
        ("close", {"close-outcome": "withdrawn"}),
        ("note", {"note-note": "x"}),
        ("add", {"add-note": "x"}),
    ):
        assert client.post(f"/callbacks/{request.id}/{action}", data=data).status_code == 403
    db.session.refresh(request)
    assert request.status == CallbackStatus.NEW and request.internal_note == ""


def test_unknown_ids_and_offices_are_404(client, auth, staff):
    auth.login("admin@example.org")
    assert client.get("/callbacks/999999").status_code == 404
    assert client.get("/callbacks/99999999999999999999999").status_code == 404
    assert client.get("/callbacks/office/nowhere").status_code == 404
    assert client.post("/callbacks/999999/close", data={}).status_code == 404


def test_the_index_lists_counts_and_what_a_caseworker_owes(client, auth, staff, clock):
    auth.login("empfang@example.org")
    create(client, staff)
    # Reception with one office goes straight to its queue.
    response = client.get("/callbacks/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/callbacks/office/eingliederungshilfe")
    request = only_request()
    request.assign(staff["caseworker"], NOW)
    db.session.commit()
    auth.logout()
    auth.login("becker@example.org")
    clock.move_to(datetime(2027, 3, 31, 9, tzinfo=BERLIN))
    html = client.get("/callbacks/").get_data(as_text=True)
    assert "Familie Yılmaz" in html  # due today
    assert "1 offen" in html


def test_api_keys_are_made_shown_once_and_revoked_by_admins(client, auth, staff):
    office = staff["office"]
    auth.login("empfang@example.org")
    assert client.get(f"/callbacks/keys/{office.id}").status_code == 403
    auth.logout()
    auth.login("admin@example.org")
    response = client.post(f"/callbacks/keys/{office.id}", data={"key-label": "Telefonanlage"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    key = db.session.scalars(select(CallbackApiKey)).one()
    html = response.get_data(as_text=True)
    secret = html.split('<code class="manage-link">')[1].split("</code>")[0]
    assert hash_key(secret) == key.key_hash and secret not in key.key_hash
    assert secret not in client.get(f"/callbacks/keys/{office.id}").get_data(as_text=True)
    response = client.post(f"/callbacks/keys/{office.id}/{key.id}/revoke")
    assert response.status_code == 302
    db.session.refresh(key)
    assert key.revoked_at is not None
    assert client.post(f"/callbacks/keys/{staff['other'].id}/{key.id}/revoke").status_code == 404
    response = client.post(f"/callbacks/keys/{office.id}", data={"key-label": ""})
    assert response.status_code == 422


OFFICE_FORM = {
    "name": "Welcome Point Gerricusplatz",
    "slug": "welcome-point-gerricusplatz",
    "kind": "welcome_point",
    "district": "7",
    "address": "Gerricusplatz, Düsseldorf",
    "operator": "Gerresheimer Netz gegen Armut",
    "phone": "0211 1234567",
    "public_notes": "",
}


def test_admins_set_the_callback_rules_of_an_office(client, auth, staff):
    from booking.offices.models import Office

    auth.login("admin@example.org")
    html = client.get("/admin/offices/new").get_data(as_text=True)
    assert 'name="callback_due_days"' in html and 'value="16:00"' in html
    data = {
        **OFFICE_FORM,
        "callback_due_days": "3",
        "callback_due_time": "12:30",
        "callback_max_attempts": "4",
    }
    assert client.post("/admin/offices/new", data=data).status_code == 302
    office = db.session.scalar(select(Office).where(Office.slug == OFFICE_FORM["slug"]))
    assert (office.callback_due_days, office.callback_max_attempts) == (3, 4)
    assert office.callback_due_time.strftime("%H:%M") == "12:30"
    # Without the fields (an older form): the defaults.
    data = {**OFFICE_FORM, "slug": "zweite"}
    assert client.post("/admin/offices/new", data=data).status_code == 302
    second = db.session.scalar(select(Office).where(Office.slug == "zweite"))
    assert (second.callback_due_days, second.callback_max_attempts) == (2, 3)
    assert second.callback_due_time.strftime("%H:%M") == "16:00"
    bad = {**data, "slug": "dritte", "callback_due_days": "0", "callback_due_time": "25:00"}
    response = client.post("/admin/offices/new", data=bad)
    assert response.status_code in (200, 422)
    assert db.session.scalar(select(Office).where(Office.slug == "dritte")) is None


def test_the_caseworkers_day_lists_the_callbacks_they_owe(client, auth, staff, clock):
    auth.login("empfang@example.org")
    create(client, staff, name="Fällige Familie", phone="0211 1111111")
    clock.move_to(datetime(2027, 4, 6, 9, tzinfo=BERLIN))
    create(client, staff, name="Spätere Familie", phone="0211 2222222")
    for request in db.session.scalars(select(CallbackRequest)):
        request.assign(staff["caseworker"], NOW)
    db.session.commit()
    auth.logout()
    auth.login("becker@example.org")
    html = client.get("/calendar/me").get_data(as_text=True)
    owed = html.split('id="callbacks-owed-title"')[1].split("</section>")[0]
    assert "Fällige Familie" in owed and "überfällig" in owed
    assert "Spätere Familie" not in owed  # due on Thursday
    # Someone else's calendar does not show them.
    auth.logout()
    auth.login("admin@example.org")
    other = client.get(f"/calendar/staff/{staff['caseworker'].id}").get_data(as_text=True)
    assert "Fällige Familie" not in other


def test_the_start_page_and_the_office_calendar_count_open_and_overdue(client, auth, staff, clock):
    auth.login("empfang@example.org")
    create(client, staff, phone="0211 1111111")
    create(client, staff, phone="0211 2222222", urgent="y")
    clock.move_to(datetime(2027, 3, 30, 17, tzinfo=BERLIN))  # the urgent one is overdue
    html = client.get("/staff/").get_data(as_text=True)
    assert "2 offen" in html and "1 überfällig" in html
    html = client.get("/calendar/office/eingliederungshilfe").get_data(as_text=True)
    summary = html.split('class="callback-summary"')[1].split("</p>")[0]
    assert "2 offen" in summary and "1 überfällig" in summary


def test_switching_the_language_keeps_what_reception_typed(client, auth, staff):
    auth.login("empfang@example.org")
    url = "/callbacks/office/eingliederungshilfe/new"
    assert f'form="callback-form" formaction="{url}?lang=en"' in client.get(url).get_data(
        as_text=True
    )
    response = client.post(
        f"{url}?lang=en", data=form_data(phone="") | {"urgent": "y", "switch_language": "en"}
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Caller&#39;s name" in html or "Caller's name" in html
    assert 'value="Familie Yılmaz"' in html and "Please enter the number" not in html
    assert re.search(
        r'<input[^>]*checked[^>]*name="urgent"|<input[^>]*name="urgent"[^>]*checked', html
    )
    assert db.session.scalar(select(func.count()).select_from(CallbackRequest)) == 0


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("attempt", {"attempt-outcome": "reached"}),
        ("attempt", {}),
        ("close", {"close-outcome": "resolved"}),
        ("assign", {"assign-staff": "0"}),
    ],
)
def test_a_form_from_before_the_request_was_closed_says_so(client, auth, staff, action, data):
    """Another tab closed it: the old form's section is gone, so the message is a flash."""
    auth.login("empfang@example.org")
    create(client, staff)
    request = only_request()
    client.post(f"/callbacks/{request.id}/close", data={"close-outcome": "withdrawn"})
    response = client.post(f"/callbacks/{request.id}/{action}", data=data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Diese Rückrufbitte ist abgeschlossen." in page
    db.session.refresh(request)
    assert request.outcome == CallbackOutcome.WITHDRAWN and not request.attempts
