"""Role escalation and mass assignment: staff cannot give themselves another role, office or
someone else's records, and extra fields in forms and JSON bodies change nothing they should
not (status, caseworker, office, reference, times, channel, who made it)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from booking.appointments.models import Appointment, AppointmentStatus, Channel
from booking.auth.models import Role, StaffUser
from booking.callbacks.models import CallbackRequest
from booking.extensions import db
from booking.schedule.models import Absence, WeeklyHours
from tests.security.conftest import World, login, snapshot

EXTRA_APPOINTMENT_FIELDS = {
    "id": 9999,
    "status": "attended",
    "staff_id": None,  # filled in per test
    "staff": None,
    "office_id": None,
    "office": None,
    "reference": "AAAAAAAA",
    "manage_token": "chosen-by-the-attacker-0123456789",
    "manage_token_hash": "0" * 64,
    "ends_at": "2027-03-04T23:00:00+01:00",
    "busy_until": "2027-03-04T23:00:00+01:00",
    "channel": "desk",
    "created_by_id": 1,
    "cancelled_at": "2027-03-01T00:00:00Z",
    "idempotency_key": "k" * 32,
    "sequence": 7,
    "erased": True,
}


def extras(world: World) -> dict:
    values = dict(EXTRA_APPOINTMENT_FIELDS)
    values.update(
        staff_id=world.staff["B1"],
        staff=world.staff["B1"],
        office_id=world.office["B"],
        office=world.slug["B"],
    )
    return values


def newest_appointment() -> Appointment:
    db.session.commit()
    return db.session.scalar(select(Appointment).order_by(Appointment.id.desc()))


def assert_plain_booking(appointment: Appointment, world: World, channel: Channel) -> None:
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.office_id == world.office["A"]
    assert appointment.staff_id in (world.staff["A1"], world.staff["A2"])
    assert appointment.reference != "AAAAAAAA"
    assert appointment.manage_token_hash != "0" * 64
    assert appointment.ends_at - appointment.starts_at == timedelta(minutes=45)
    assert appointment.channel == channel
    assert appointment.cancelled_at is None and appointment.sequence == 0


def test_extra_json_fields_in_an_api_booking_change_nothing(app, world):
    body = {
        **{key: value for key, value in extras(world).items() if value is not None},
        "service": world.service_slug["A"],
        "start": "2027-03-04T11:00:00+01:00",
        "name": "Familie Extra",
        "email": "extra@example.org",
        "privacy_consent": True,
    }
    response = app.test_client().post("/api/v1/bookings", json=body)
    assert response.status_code == 201, response.json  # unknown fields are ignored
    if response.status_code == 201:
        assert response.json["manage_token"] != body["manage_token"]
        assert response.json["status"] == "booked"
        appointment = newest_appointment()
        assert appointment.family_name == "Familie Extra"
        assert_plain_booking(appointment, world, Channel.ONLINE)
        assert appointment.created_by_id is None


def test_extra_form_fields_in_a_web_booking_change_nothing(app, world):
    response = app.test_client().post(
        f"/book/{world.service_slug['A']}/details",
        data={
            **{key: str(value) for key, value in extras(world).items() if value is not None},
            "start": "2027-03-04T11:00:00+01:00",
            "form_key": "f" * 32,
            "name": "Familie Formular",
            "email": "form@example.org",
            "phone": "",
            "language": "de",
            "note": "",
            "privacy_consent": "y",
            "website": "",
        },
    )
    assert response.status_code == 303
    appointment = newest_appointment()
    assert appointment.family_name == "Familie Formular"
    assert_plain_booking(appointment, world, Channel.ONLINE)


def test_extra_fields_at_the_desk_change_nothing(app, world):
    reception = login(app, "RA", world)
    response = reception.post(
        f"/desk/book/{world.service_slug['A']}",
        data={
            **{key: str(value) for key, value in extras(world).items() if value is not None},
            "staff": "",
            "start": "2027-03-04T11:00:00+01:00",
            "channel": "online",  # not a desk channel
            "name": "Familie Desk",
            "language": "de",
            "form_key": "d" * 32,
        },
    )
    db.session.commit()
    appointment = newest_appointment()
    if appointment.family_name == "Familie Desk":
        assert_plain_booking(appointment, world, appointment.channel)
        assert appointment.channel in (Channel.PHONE, Channel.DESK)
        assert appointment.created_by_id == world.staff["RA"]
    else:
        assert response.status_code == 422


def test_extra_json_fields_in_the_callback_api_change_nothing(app, world, runner):
    result = runner.invoke(args=["callbacks", "new-key", world.slug["A"]])
    key = result.output.strip().splitlines()[-1]
    body = {
        "office": world.slug["A"],
        "name": "Anrufer Extra",
        "phone": "0211 8991234",
        "status": "closed",
        "assigned_to_id": world.staff["B1"],
        "office_id": world.office["B"],
        "due_at": "2030-01-01T00:00:00Z",
        "received_at": "2020-01-01T00:00:00Z",
        "source": "reception",
        "id": 9999,
    }
    response = app.test_client().post(
        "/api/v1/callbacks", json=body, headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 201, response.json
    if response.status_code == 201:
        assert response.json["status"] == "new"
        db.session.commit()
        created = db.session.scalar(select(CallbackRequest).order_by(CallbackRequest.id.desc()))
        assert created.office_id == world.office["A"] and created.id != 9999
        assert created.assigned_to_id is None
        assert created.due_at.year == 2027 and created.received_at.year == 2027
    # A key of office A cannot file a request at office B.
    other = app.test_client().post(
        "/api/v1/callbacks",
        json={"office": world.slug["B"], "name": "X", "phone": "0211 8991234"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert other.status_code == 403


def test_a_caseworker_cannot_file_hours_or_absences_for_others(app, world):
    caseworker = login(app, "A1", world)
    hours = caseworker.post(
        "/calendar/hours",
        data={
            "staff_id": world.staff["A2"],
            "office_id": world.office["B"],
            "weekdays": ["1"],
            "start": "09:00",
            "end": "10:00",
        },
    )
    assert hours.status_code in (200, 302, 422)
    absence = caseworker.post(
        "/calendar/absences",
        data={
            "staff_id": world.staff["A2"],
            "kind": "vacation",
            "first_day": "2027-05-03",
            "note": "x",
        },
    )
    assert absence.status_code == 302
    db.session.commit()
    for row in db.session.scalars(select(WeeklyHours)):
        if row.staff_id == world.staff["A1"]:
            assert row.office_id == world.office["A"]
    assert {row.staff_id for row in db.session.scalars(select(Absence))} == {
        world.staff[key] for key in ("A1", "A2", "B1")
    }
    newest = db.session.scalar(select(Absence).order_by(Absence.id.desc()))
    assert newest.staff_id == world.staff["A1"]


@pytest.mark.parametrize("who", ["A1", "RA", "privacy"])
def test_own_account_pages_take_no_role_office_or_activation(app, world, who):
    client = login(app, who, world)
    escalation = {
        "role": "admin",
        "active": "y",
        "email": "admin@example.org",
        "offices": [str(world.office["B"])],
        "office_ids": [str(world.office["B"])],
        "staff_id": world.staff["admin"],
        "id": world.staff["admin"],
        "wants_daily_agenda": "y",
    }
    for path in ("/account/notifications", "/account/password"):
        client.post(path, data=escalation)
    db.session.commit()
    me = db.session.get(StaffUser, world.staff[who])
    assert me.role != Role.ADMIN
    assert me.email == world.email[who]
    assert world.office["B"] not in {office.id for office in me.offices}
    assert db.session.get(StaffUser, world.staff["admin"]).email == world.email["admin"]
    assert client.get("/admin/").status_code == 403


@pytest.mark.parametrize("who", ["A1", "RA", "privacy"])
def test_admin_actions_are_refused_to_other_roles(app, world, who):
    client = login(app, who, world)
    before = snapshot()
    own = world.staff[who]
    attempts = [
        (f"/admin/staff/{own}/edit", {"role": "admin", "name": "x", "email": world.email[who]}),
        ("/admin/staff/new", {"role": "admin", "name": "x", "email": "new-admin@example.org"}),
        (f"/admin/staff/{world.staff['admin']}/password", {"new_password": "p" * 14}),
        (f"/admin/staff/{world.staff['admin']}/deactivate", {}),
        (f"/admin/offices/{world.office['B']}/deactivate", {}),
        (f"/callbacks/keys/{world.office['A']}", {"key-label": "mine"}),
        ("/admin/privacy/erase/confirm", {"contact": "familie-a1@example.org"}),
        (f"/calendar/hours/staff/{world.staff['A2']}", {}),
    ]
    for path, data in attempts:
        response = client.post(path, data=data)
        assert response.status_code == 403, f"{who}: {path}"
    assert snapshot() == before
    db.session.commit()
    assert db.session.get(StaffUser, own).role != Role.ADMIN


def test_a_demoted_admin_loses_admin_pages_at_once(app, world, make_staff):
    other = make_staff(Role.ADMIN, email="second-admin@example.org")
    world.email["admin2"] = other.email
    demoted = login(app, "admin2", world)
    assert demoted.get("/admin/").status_code == 200
    db.session.commit()
    user = db.session.get(StaffUser, other.id)
    user.role = Role.CASEWORKER  # as the staff form saves it
    db.session.commit()
    assert demoted.get("/admin/").status_code == 403
    assert demoted.get("/admin/staff").status_code == 403
