"""Admins and the data protection officer (role privacy) search the audit log; nobody else."""

from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.audit.models import AuditEvent
from booking.audit.services import record_event
from booking.auth.models import Role
from booking.extensions import db


@pytest.fixture
def entries(make_staff, make_office):
    office = make_office()
    becker = make_staff(Role.CASEWORKER, name="Katrin Becker")
    demir = make_staff(Role.RECEPTION, name="Aylin Demir")
    with freeze_time("2027-03-01 10:00:00"):
        record_event("office.viewed", actor=becker, obj=office)
    with freeze_time("2027-03-10 10:00:00"):
        record_event("auth.login", actor=demir, obj=demir)
    with freeze_time("2027-03-20 10:00:00"):
        record_event("office.viewed", actor=demir, obj=office)
    db.session.commit()
    return {"office": office, "becker": becker, "demir": demir}


def rows(html: str) -> int:
    return html.count("<tr>") - 1  # less the header


def test_the_privacy_role_searches_by_person_record_action_and_period(
    client, auth, make_staff, entries
):
    officer = make_staff(Role.PRIVACY, name="Dana Datenschutz")
    auth.login(officer.email)
    office = entries["office"]
    by_person = client.get(f"/admin/audit?actor={entries['becker'].id}")
    assert by_person.status_code == 200 and rows(by_person.get_data(as_text=True)) == 1
    by_record = client.get(f"/admin/audit?object_type=office&object_id={office.id}")
    assert rows(by_record.get_data(as_text=True)) == 2
    by_action = client.get("/admin/audit?action=auth.login").get_data(as_text=True)
    assert rows(by_action) == 2  # Demir's and the officer's own login
    in_period = client.get("/admin/audit?first=2027-03-05&last=2027-03-20&action=office.viewed")
    assert rows(in_period.get_data(as_text=True)) == 1
    searches = db.session.scalars(
        select(AuditEvent.detail).where(AuditEvent.action == "audit.searched")
    ).all()
    assert "actor" in searches and "action first last" in searches  # filter names, no values


@pytest.mark.parametrize(
    "query",
    [
        "first=2027-03-20&last=2027-03-01",
        "first=not-a-day",
        "actor=999999",
        "action=made.up",
        "object_id=42",  # a number without the kind of record
        "object_type=office&object_id=%3Cscript%3E",
    ],
)
def test_bad_searches_get_a_message_and_keep_what_was_typed(client, auth, make_staff, query):
    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    response = client.get(f"/admin/audit?{query}")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="error-summary"' in html
    assert "<script>" not in html


def test_results_are_paginated(client, auth, make_staff, app):
    admin = make_staff(Role.ADMIN)
    for _ in range(105):
        record_event("office.viewed", actor=admin)
    db.session.commit()
    auth.login(admin.email)
    first = client.get("/admin/audit?action=office.viewed").get_data(as_text=True)
    assert rows(first) == 100 and "page=2" in first
    second = client.get("/admin/audit?action=office.viewed&page=2").get_data(as_text=True)
    assert rows(second) == 5 and "page=1" in second


@pytest.mark.parametrize("role", [Role.CASEWORKER, Role.RECEPTION])
def test_other_staff_cannot_open_the_audit_log(client, auth, make_staff, role):
    auth.login(make_staff(role).email)
    assert client.get("/admin/audit").status_code == 403


def test_the_privacy_role_changes_nothing_and_lands_on_the_audit_log(
    client, auth, make_staff, make_office
):
    officer = make_staff(Role.PRIVACY)
    login = auth.login(officer.email)
    assert login.headers["Location"].endswith("/admin/audit")
    for url in ("/admin/", "/admin/staff", "/admin/offices/new", "/desk/", "/callbacks/"):
        assert client.get(url).status_code == 403, url
    assert client.post("/admin/offices/new", data={}).status_code == 403
    assert client.get("/account/password").status_code == 200
    assert client.post("/logout").status_code == 302


def test_the_setup_file_and_the_staff_form_know_the_role(client, auth, make_staff):
    from booking.setup.loader import ROLES

    assert "privacy" in ROLES
    auth.login(make_staff(Role.ADMIN).email)
    html = client.get("/admin/staff/new").get_data(as_text=True)
    assert 'value="privacy"' in html


def test_audit_dates_are_berlin_days(client, auth, make_staff):
    admin = make_staff(Role.ADMIN)
    with freeze_time(datetime(2027, 3, 27, 23, 30, tzinfo=UTC)):  # 28 March 00:30 in Berlin
        record_event("office.viewed", actor=admin)
    db.session.commit()
    auth.login(admin.email)
    day = "/admin/audit?action=office.viewed&first=2027-03-28&last=2027-03-28"
    assert rows(client.get(day).get_data(as_text=True)) == 1


def test_staff_changes_calendars_and_settings_are_audited_without_personal_data(
    client, auth, bookable_service
):
    from booking.appointments.models import Appointment
    from booking.auth.models import StaffUser

    with freeze_time("2027-03-01 07:00:00"):
        booked = client.post(
            "/api/v1/bookings",
            json={
                "service": "beratung-35a",
                "start": "2027-03-04T10:00:00+01:00",
                "name": "Familie Alt",
                "email": "alt@example.org",
                "privacy_consent": True,
            },
        )
        assert booked.status_code == 201
        appointment = db.session.scalar(select(Appointment))
        caseworker = db.session.get(StaffUser, appointment.staff_id)
        auth.login(caseworker.email)
        assert client.get("/calendar/me").status_code == 200
        response = client.post(
            f"/appointments/{appointment.id}/cancel", data={"reason": "Mutter krank"}
        )
        assert response.status_code in (302, 303)
        client.post("/account/notifications", data={"wants_daily_agenda": "y"})
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.actor_id == caseworker.id))
    found = {(event.action, event.object_type, event.object_id): event.detail for event in events}
    assert found[("appointment.cancelled", "appointment", str(appointment.id))] == ""
    assert found[("calendar.viewed", "staff_user", str(caseworker.id))] == "day 2027-03-01"
    assert ("staff.settings_changed", "staff_user", str(caseworker.id)) in found
    assert not any("Mutter" in detail or "Alt" in detail for detail in found.values())
