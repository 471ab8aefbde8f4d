"""Reception and caseworkers book for callers and walk-ins through the same engine."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.models import Appointment, AppointmentStatus, Channel
from booking.auth.models import Role
from booking.extensions import db

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"
TEN = datetime(2027, 3, 4, 10, tzinfo=BERLIN).isoformat()


@pytest.fixture
def reception(make_staff, bookable_service):
    return make_staff(Role.RECEPTION, offices=[bookable_service.office], name="Birgit Empfang")


@freeze_time(NOW)
def test_reception_books_a_caller(client, auth, reception, bookable_service):
    auth.login(reception.email)
    page = client.get("/desk/book/beratung-35a").get_data(as_text=True)
    assert f'value="{TEN}"' in page
    response = client.post(
        "/desk/book/beratung-35a",
        data={
            "start": TEN,
            "channel": "phone",
            "name": "Familie Petrović",
            "phone": "0211 123456",
            "language": "de",
        },
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    appointment = db.session.scalar(select(Appointment))
    assert appointment.channel == Channel.PHONE
    assert appointment.created_by_id == reception.id
    assert appointment.reference in html and "/manage/" in html
    assert [e.action for e in appointment.events] == ["booked"]


@freeze_time(NOW)
def test_walk_in_without_contact_is_allowed_for_staff(client, auth, reception):
    auth.login(reception.email)
    response = client.post(
        "/desk/book/beratung-35a",
        data={"start": TEN, "channel": "desk", "name": "Familie Ahmadi", "language": "fa"},
    )
    assert response.status_code == 200
    assert db.session.scalar(select(Appointment.channel)) == Channel.DESK


@freeze_time(NOW)
def test_taken_time_keeps_the_typed_details(client, auth, reception, app):
    auth.login(reception.email)
    client.post(
        "/desk/book/beratung-35a",
        data={"start": TEN, "channel": "phone", "name": "A", "language": "de"},
    )
    response = client.post(
        "/desk/book/beratung-35a",
        data={"start": TEN, "channel": "phone", "name": "Familie Nowak", "language": "pl"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code in (409, 422)
    assert 'value="Familie Nowak"' in html
    assert db.session.query(Appointment).count() == 1


@freeze_time(NOW)
def test_desk_is_limited_to_own_offices(client, auth, make_staff, make_office, make_service):
    other = make_service(make_office(slug="elsewhere"), slug="fremd")
    user = make_staff(Role.RECEPTION, offices=[make_office(slug="mine")])
    auth.login(user.email)
    assert client.get(f"/desk/book/{other.slug}").status_code == 403
    assert "fremd" not in client.get("/desk/").get_data(as_text=True)


@freeze_time(NOW)
def test_restore_a_cancelled_appointment(client, auth, reception):
    auth.login(reception.email)
    client.post(
        "/desk/book/beratung-35a",
        data={"start": TEN, "channel": "phone", "name": "A", "language": "de"},
    )
    appointment = db.session.scalar(select(Appointment))
    client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "Anrufer sagt ab"})
    client.post(f"/appointments/{appointment.id}/restore")
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.BOOKED
    # Once someone else holds the time, restoring is refused.
    client.post(f"/appointments/{appointment.id}/cancel", data={"reason": "wieder abgesagt"})
    client.post(
        "/desk/book/beratung-35a",
        data={"start": TEN, "channel": "phone", "name": "B", "language": "de"},
    )
    page = client.post(f"/appointments/{appointment.id}/restore", follow_redirects=True)
    assert "inzwischen anderweitig gebucht" in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED


@freeze_time(NOW)
def test_staff_move_an_appointment_and_the_family_hears_of_it(client, auth, reception):
    from booking.notify.models import OutboxMessage

    auth.login(reception.email)
    client.post(
        "/desk/book/beratung-35a",
        data={
            "start": TEN,
            "channel": "phone",
            "name": "A",
            "email": "a@example.org",
            "language": "de",
        },
    )
    appointment = db.session.scalar(select(Appointment))
    old_hash = appointment.manage_token_hash
    eleven = datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat()
    page = client.get(f"/appointments/{appointment.id}").get_data(as_text=True)
    assert f'value="{eleven}"' in page
    response = client.post(f"/appointments/{appointment.id}/move", data={"start": eleven})
    assert response.status_code == 302
    db.session.expire_all()
    moved = db.session.get(Appointment, appointment.id)
    assert moved.starts_at == datetime(2027, 3, 4, 11, tzinfo=BERLIN)
    assert moved.manage_token_hash != old_hash and moved.sequence == 1
    kinds = [m.kind for m in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]
    assert kinds == ["confirmation", "moved"]  # no staff notice when staff moved it
    bad = client.post(
        f"/appointments/{appointment.id}/move", data={"start": "2027-03-06T10:00:00+01:00"}
    )
    assert bad.status_code == 422
