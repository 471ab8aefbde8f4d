"""Ids and references typed into forms reach only records of the staff member's own office."""

from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.callbacks.models import CallbackRequest
from booking.extensions import db
from booking.waiting.models import QueueEntry
from tests.security.conftest import appointment, login, snapshot


def test_a_callback_is_not_closed_with_an_appointment_of_another_office(app, world):
    foreign = appointment(world.appointment["B1"])
    client = login(app, "A1", world)
    assert client.post(f"/callbacks/{world.callback['A']}/claim").status_code == 302
    before = snapshot()
    response = client.post(
        f"/callbacks/{world.callback['A']}/close",
        data={
            "close-outcome": "appointment_booked",
            "close-appointment_reference": foreign.reference,
        },
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dieser Termin gehört zu einer anderen Stelle." in html
    assert world.family_name["B1"] not in html
    assert snapshot() == before
    db.session.commit()
    assert db.session.get(CallbackRequest, world.callback["A"]).appointment_id is None


def test_the_own_offices_appointment_closes_the_callback(app, world):
    own = appointment(world.appointment["A2"])
    client = login(app, "A1", world)
    assert client.post(f"/callbacks/{world.callback['A']}/claim").status_code == 302
    response = client.post(
        f"/callbacks/{world.callback['A']}/close",
        data={"close-outcome": "appointment_booked", "close-appointment_reference": own.reference},
    )
    assert response.status_code == 302
    db.session.commit()
    assert db.session.get(CallbackRequest, world.callback["A"]).appointment_id == own.id


def test_a_callback_is_not_assigned_to_a_caseworker_of_another_office(app, world):
    client = login(app, "RA", world)
    before = snapshot()
    response = client.post(
        f"/callbacks/{world.callback['A']}/assign", data={"assign-staff": world.staff["B1"]}
    )
    assert response.status_code == 422
    assert snapshot() == before


def test_the_desk_books_no_caseworker_of_another_office(app, world):
    client = login(app, "RA", world)
    response = client.post(
        f"/desk/book/{world.service_slug['A']}",
        data={
            "staff": str(world.staff["B1"]),
            "start": "2027-03-04T11:00:00+01:00",
            "channel": "phone",
            "name": "Familie Neu",
            "language": "de",
            "form_key": "k" * 32,
        },
    )
    assert response.status_code in (302, 303, 422)
    db.session.commit()
    newest = db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))
    assert newest.staff_id != world.staff["B1"]


def test_the_queue_checks_in_no_appointment_of_another_office(app, world, clock):
    clock.move_to("2027-03-04 08:30:00")  # Thursday 09:30 in Düsseldorf: B1's family is due
    foreign = appointment(world.appointment["B1"])
    client = login(app, "RA", world)
    response = client.post(
        f"/queue/{world.slug['A']}/appointment", data={"appt-reference": foreign.reference}
    )
    assert response.status_code == 422
    assert world.family_name["B1"] not in response.get_data(as_text=True)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 2
