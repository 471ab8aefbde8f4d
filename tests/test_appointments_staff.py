"""Staff move and restore appointments on the appointment's page."""

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.schedule.models import Closure

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"  # a Monday; the service has slots on Thursdays 9, 10 and 11
TEN = datetime(2027, 3, 4, 10, tzinfo=BERLIN).isoformat()
ELEVEN = datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat()
NEXT_WEEK_TEN = datetime(2027, 3, 11, 10, tzinfo=BERLIN).isoformat()
DESK = "/desk/book/beratung-35a"


@pytest.fixture
def reception(make_staff, bookable_service):
    return make_staff(Role.RECEPTION, offices=[bookable_service.office], name="Birgit Empfang")


def book(client, start=TEN, name="A", **values) -> Appointment:
    data = {"start": start, "channel": "phone", "name": name, "language": "de"} | values
    assert client.post(DESK, data=data).status_code == 302
    return db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))


def move_times(html: str) -> str:
    match = re.search(r'<select[^>]*name="start".*?</select>', html, re.S)
    assert match, "no move form"
    return match.group(0)


@freeze_time(NOW)
def test_staff_move_redirects_with_a_message_and_the_family_hears_of_it(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client, email="a@example.org")
    old_hash = appointment.manage_token_hash
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    times = move_times(page)
    assert f'value="{ELEVEN}"' in times
    assert "selected" not in times  # nothing chosen until staff choose
    assert re.search(r'<select[^>]*required[^>]*>\s*<option value="">', times)
    response = client.post(f"/appointments/{appointment.id}/move", data={"start": ELEVEN})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{appointment.id}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Verlegt" in page
    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert moved.starts_at == datetime(2027, 3, 4, 11, tzinfo=BERLIN)
    assert moved.manage_token_hash != old_hash and moved.sequence == 1
    kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["confirmation", "moved"]  # no staff notice when staff moved it


@freeze_time(NOW)
def test_move_without_a_time_says_so(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client)
    response = client.post(f"/appointments/{appointment.id}/move", data={"start": ""})
    assert response.status_code == 422
    assert "Bitte wählen Sie eine Zeit." in response.get_data(as_text=True)


@freeze_time(NOW)
def test_move_offers_the_week_asked_for_and_keeps_it_after_a_refusal(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client)
    page = client.get(f"/appointments/{appointment.id}?week=2027-03-08").get_data(as_text=True)
    assert f'value="{NEXT_WEEK_TEN}"' in move_times(page)
    assert f'value="{ELEVEN}"' not in move_times(page)
    assert f"/appointments/{appointment.id}?week=2027-03-01#move" in page  # back a week
    # Someone else takes next week's ten o'clock meanwhile.
    book(client, start=NEXT_WEEK_TEN, name="B")
    response = client.post(
        f"/appointments/{appointment.id}/move",
        data={"start": NEXT_WEEK_TEN, "week": "2027-03-08"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "gerade vergeben" in html
    times = move_times(html)
    assert "2027-03-11T11:00:00+01:00" in times  # still next week
    assert NEXT_WEEK_TEN not in times and "selected" not in times
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).starts_at == datetime.fromisoformat(TEN)


@freeze_time(NOW)
def test_move_to_no_slot_time_is_refused_on_the_page(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client)
    response = client.post(
        f"/appointments/{appointment.id}/move", data={"start": "2027-03-06T10:00:00+01:00"}
    )
    assert response.status_code == 422
    assert "kann nicht gebucht werden" in response.get_data(as_text=True)


@freeze_time(NOW)
def test_move_into_a_closure_is_refused_on_the_page(client, auth, reception, bookable_service):
    auth.login(reception.email)
    appointment = book(client)
    db.session.add(
        Closure(
            office_id=bookable_service.office_id,
            first_day=date(2027, 3, 11),
            last_day=date(2027, 3, 11),
            reason="Betriebsausflug",
        )
    )
    db.session.commit()
    response = client.post(f"/appointments/{appointment.id}/move", data={"start": NEXT_WEEK_TEN})
    assert response.status_code == 422
    assert "kann nicht gebucht werden" in response.get_data(as_text=True)


@freeze_time(NOW)
def test_restore_redirects_with_a_message(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client)
    client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Anrufer sagt ab"})
    response = client.post(f"/appointments/{appointment.id}/restore")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/appointments/{appointment.id}"
    assert "wieder gebucht" in client.get(response.headers["Location"]).get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED


@freeze_time(NOW)
def test_restore_of_a_taken_time_is_refused_on_the_page_with_409(client, auth, reception):
    auth.login(reception.email)
    appointment = book(client)
    client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Anrufer sagt ab"})
    book(client, name="B")
    response = client.post(f"/appointments/{appointment.id}/restore")
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "inzwischen anderweitig gebucht" in html
    assert 'role="alert" tabindex="-1" autofocus' in html  # the focus goes to the message
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED


@freeze_time(NOW)
def test_a_refused_action_on_a_changed_appointment_is_shown(client, auth, reception):
    """A second tab still showing the move form after the appointment was cancelled."""
    auth.login(reception.email)
    appointment = book(client)
    client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Anrufer sagt ab"})
    response = client.post(f"/appointments/{appointment.id}/move", data={"start": ELEVEN})
    assert response.status_code == 409
    assert "nicht mehr gebucht" in response.get_data(as_text=True)


def test_odd_weeks_get_a_page(client, auth, reception):
    with freeze_time(NOW):
        auth.login(reception.email)
        appointment = book(client)
        for week in ("9999-12-31", "0001-01-01", "x", "2027-02-30"):
            page = client.get(f"/appointments/{appointment.id}", query_string={"week": week})
            assert page.status_code == 200
        response = client.post(
            f"/appointments/{appointment.id}/move", data={"start": ELEVEN, "week": "9999-12-31"}
        )
        assert response.status_code == 302
