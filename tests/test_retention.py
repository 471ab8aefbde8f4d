"""Every retention rule (config RETENTION) with the clock frozen; the audit log is append-only."""

from datetime import UTC, date, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from booking.appointments.models import Appointment, AppointmentEvent
from booking.appointments.services import cancel_by_staff
from booking.audit.models import AuditEvent, AuditPurgeMarker
from booking.audit.services import purge_audit, record_event
from booking.auth.models import StaffUser
from booking.config import ConfigurationError
from booking.extensions import db
from booking.privacy.retention import RULE_KEYS, RetentionError, queue_cutoff_day, resolve
from booking.privacy.services import purge_personal_data

NOW = "2027-03-01 07:00:00"


def now() -> datetime:
    return datetime.now(UTC)


def book(client, start: str, name: str = "Familie Alt") -> Appointment:
    response = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": start,
            "name": name,
            "email": "alt@example.org",
            "note": "private",
            "privacy_consent": True,
        },
    )
    assert response.status_code == 201, response.json
    return db.session.scalar(
        select(Appointment).where(Appointment.reference == response.json["reference"])
    )


def count_audit(*where) -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEvent).where(*where))


# --- the table -----------------------------------------------------------------------------


def test_defaults_cover_every_rule():
    table = resolve(None, {})
    assert tuple(table) == RULE_KEYS
    assert table["appointment_details"] == 180
    assert table["audit_entries"] == 365  # 12 months
    assert table["walk_in_queue"] == 0  # the end of the day


def test_old_single_settings_are_aliases_and_the_table_wins():
    assert resolve({}, {"RETENTION_DAYS_AFTER_APPOINTMENT": 90})["appointment_details"] == 90
    table = resolve({"appointment_details": 60}, {"RETENTION_DAYS_AFTER_APPOINTMENT": 90})
    assert table["appointment_details"] == 60


@pytest.mark.parametrize(
    "table",
    [{"appointment": 30}, {"audit_entries": -1}, {"audit_entries": "x"}, {"audit_entries": True}],
)
def test_bad_tables_are_refused(table):
    with pytest.raises(RetentionError):
        resolve(table, {})


def test_environment_variable_sets_rules_and_the_aliases_follow(app_factory, monkeypatch):
    monkeypatch.setenv("BOOKING_RETENTION", '{"appointment_details": 90, "login_records": 7}')
    app = app_factory()
    assert app.config["RETENTION"]["appointment_details"] == 90
    assert app.config["RETENTION"]["login_records"] == 7
    assert app.config["RETENTION"]["outbox_messages"] == 30
    assert app.config["RETENTION_DAYS_AFTER_APPOINTMENT"] == 90  # the alias shows the rule


def test_an_old_setting_still_works(app_factory):
    app = app_factory(OUTBOX_RETENTION_DAYS=10)
    assert app.config["RETENTION"]["outbox_messages"] == 10


def test_an_unknown_rule_stops_the_app(app_factory, monkeypatch):
    monkeypatch.setenv("BOOKING_RETENTION", '{"appointments": 90}')
    with pytest.raises(ConfigurationError, match="unknown rule"):
        app_factory()


def test_the_privacy_page_and_readme_show_the_table(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert 'id="retention"' in html
    assert html.count("<tr>") >= len(RULE_KEYS)  # a header row and one row per rule shown
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    for key in RULE_KEYS:
        assert f"`{key}`" in readme


# --- each rule -----------------------------------------------------------------------------


def test_walk_in_queue_day_ends_at_berlin_midnight_on_daylight_saving_days():
    # 28 March 2027: clocks go forward, the Berlin day has 23 hours.
    assert queue_cutoff_day(datetime(2027, 3, 27, 22, 59, tzinfo=UTC)) == date(2027, 3, 27)
    assert queue_cutoff_day(datetime(2027, 3, 27, 23, 0, tzinfo=UTC)) == date(2027, 3, 28)
    assert queue_cutoff_day(datetime(2027, 3, 28, 21, 59, tzinfo=UTC)) == date(2027, 3, 28)
    assert queue_cutoff_day(datetime(2027, 3, 28, 22, 0, tzinfo=UTC)) == date(2027, 3, 29)
    # 31 October 2027: clocks go back, 25 hours; midnight is 23:00 UTC again.
    assert queue_cutoff_day(datetime(2027, 10, 30, 21, 59, tzinfo=UTC)) == date(2027, 10, 30)
    assert queue_cutoff_day(datetime(2027, 10, 30, 22, 0, tzinfo=UTC)) == date(2027, 10, 31)
    assert queue_cutoff_day(datetime(2027, 10, 31, 22, 59, tzinfo=UTC)) == date(2027, 10, 31)
    assert queue_cutoff_day(datetime(2027, 10, 31, 23, 0, tzinfo=UTC)) == date(2027, 11, 1)
    assert queue_cutoff_day(datetime(2027, 10, 31, 23, 0, tzinfo=UTC), 2) == date(2027, 10, 30)


def test_appointment_details_go_after_the_appointment_across_a_clock_change(
    client, bookable_service
):
    with freeze_time(NOW):
        appointment = book(client, "2027-03-04T10:00:00+01:00")  # ends 09:45 UTC
        db.session.commit()
    # 180 days later the clocks show summer time; the period is counted in real time.
    with freeze_time("2027-08-31 09:44:59"):
        assert purge_personal_data(now()).appointments == 0
    with freeze_time("2027-08-31 09:45:01"):
        assert purge_personal_data(now()).appointments == 1
        assert purge_personal_data(now()).appointments == 0  # idempotent
    db.session.commit()
    db.session.refresh(appointment)
    assert (appointment.family_name, appointment.email, appointment.family_note) == ("–", None, "")


def test_cancelled_appointments_go_after_cancelling_with_the_staff_reason_in_the_log(
    client, bookable_service
):
    with freeze_time(NOW):
        appointment = book(client, "2027-04-08T10:00:00+02:00")
        user = db.session.get(StaffUser, appointment.staff_id)
        cancel_by_staff(appointment, "Mutter krank, ruft wieder an", user, now())
        db.session.commit()
    with freeze_time("2027-03-31 06:59:59"):  # 30 days after cancelling, less a second
        assert purge_personal_data(now()).cancelled == 0
    with freeze_time("2027-03-31 07:00:01"):
        report = purge_personal_data(now())
        assert (report.cancelled, report.appointments) == (1, 0)
    db.session.commit()
    db.session.refresh(appointment)
    assert appointment.cancel_reason is None and appointment.family_name == "–"
    details = db.session.scalars(
        select(AppointmentEvent.detail).where(AppointmentEvent.appointment_id == appointment.id)
    ).all()
    assert "cancelled" in db.session.scalars(select(AppointmentEvent.action)).all()
    assert all(detail == "" for detail in details)  # the staff's reason is gone from the log


def test_audit_entries_go_after_twelve_months_and_login_records_earlier(app):
    with freeze_time("2026-01-10 12:00:00"):
        record_event("appointment.viewed")
        record_event("auth.login")
        db.session.commit()
    with freeze_time("2026-04-10 11:59:00"):  # 90 days less a minute
        assert purge_personal_data(now()).login_records == 0
    with freeze_time("2026-04-10 12:01:00"):
        report = purge_personal_data(now())
        assert (report.login_records, report.audit_entries) == (1, 0)
    db.session.commit()
    assert count_audit(AuditEvent.action == "appointment.viewed") == 1
    with freeze_time("2027-01-10 12:01:00"):  # 365 days
        assert purge_personal_data(now()).audit_entries == 1  # the view
    db.session.commit()
    assert count_audit(AuditEvent.action == "appointment.viewed") == 0
    assert count_audit(AuditEvent.action == "privacy.purged") == 2  # younger than 12 months


def test_outbox_messages_rule_reads_the_table(app_factory):
    app = app_factory(RETENTION={"outbox_messages": 5})
    assert app.config["OUTBOX_RETENTION_DAYS"] == 5


# --- append-only ---------------------------------------------------------------------------


def test_audit_entries_cannot_be_changed_or_deleted(app):
    record_event("appointment.viewed", detail="id only")
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(update(AuditEvent).values(detail="edited"))
    db.session.rollback()
    with pytest.raises(DBAPIError, match="append-only"):
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()
    assert count_audit(AuditEvent.detail == "id only") == 1


def test_only_the_purge_unlocks_deletes_and_only_for_its_transaction(app):
    with freeze_time("2025-01-01 00:00:00"):
        record_event("appointment.viewed")
        db.session.commit()
    with freeze_time("2026-06-01 00:00:00"):
        assert purge_audit(now(), now()) == (0, 1)
        db.session.commit()
    record_event("appointment.viewed")
    db.session.commit()
    with pytest.raises(DBAPIError, match="append-only"):  # the unlock did not outlive it
        db.session.execute(text("DELETE FROM audit_event"))
    db.session.rollback()
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL sprechstunde.purge = 'on'"))
    else:
        db.session.execute(insert(AuditPurgeMarker).values(id=1))
    with pytest.raises(DBAPIError, match="append-only"):  # even the purge never updates
        db.session.execute(update(AuditEvent).values(detail="edited"))
    db.session.rollback()
