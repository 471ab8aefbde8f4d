"""Personal data of families is erased on schedule; what remains is anonymous."""

from datetime import UTC, datetime

from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.models import Appointment
from booking.audit.models import AuditEvent
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.notify.sender import send_pending
from booking.privacy.retention import appointment_cutoff
from booking.privacy.services import purge_personal_data

NOW = "2027-03-01 07:00:00"


def book(client, start: str, name: str) -> None:
    response = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": start,
            "name": name,
            "email": f"{name.split()[-1].lower()}@example.org",
            "note": "private",
            "privacy_consent": True,
        },
    )
    assert response.status_code == 201, response.json


def test_cutoff_is_pure():
    now = datetime(2027, 9, 1, tzinfo=UTC)
    assert appointment_cutoff(now, 180) == datetime(2027, 3, 5, tzinfo=UTC)


def test_purge_erases_old_appointments_and_messages_only(client, runner, bookable_service):
    with freeze_time(NOW):
        book(client, "2027-03-04T10:00:00+01:00", "Familie Alt")
        send_pending(datetime.now(UTC))
    with freeze_time("2027-04-01 07:00:00"):
        book(client, "2027-04-08T10:00:00+02:00", "Familie Neu")
    with freeze_time("2027-09-01 12:00:00"):  # 181 days after the first appointment
        result = runner.invoke(args=["privacy", "purge"])
        assert "appointment_details=1, cancelled_appointments=0" in result.output
        assert "outbox_messages=1," in result.output
        assert purge_personal_data(datetime.now(UTC)).appointments == 0  # nothing more to do
    db.session.commit()
    old, new = db.session.scalars(select(Appointment).order_by(Appointment.starts_at)).all()
    assert (old.family_name, old.email, old.family_note, old.manage_token_hash) == (
        "–",
        None,
        "",
        None,
    )
    assert (old.email_key, old.phone_key) == (None, None)
    assert old.purged_at is not None and old.reference  # the anonymous record stays
    assert new.family_name == "Familie Neu" and new.email == "neu@example.org"
    assert new.email_key == "neu@example.org"
    remaining = db.session.scalars(select(OutboxMessage.recipient)).all()
    assert remaining == ["neu@example.org"]  # the old, sent one is gone; the pending one stays
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "privacy.purged")
        )
        == 1
    )


def test_privacy_notice_states_the_periods(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert html.count("180 Tage nach dem Termin") == 1


def test_privacy_notice_states_each_period_once_from_the_configuration(app_factory):
    app = app_factory(
        RETENTION={"appointment_details": 200, "callback_requests": 45, "outbox_messages": 14}
    )
    html = app.test_client().get("/privacy?lang=en").get_data(as_text=True)
    assert html.count("200 days after the appointment") == 1
    assert html.count("45 days after the request was closed") == 1
    assert html.count("14 days after they were written") == 1
    for stale in (
        "180 days after the appointment",
        "30 days after the request",
        "30 days after they",
    ):
        assert stale not in html  # no second sentence with the old or default period


def test_answers_kept_for_api_retries_are_forgotten_after_24_hours(client, bookable_service):
    from booking.api.models import IdempotentAnswer

    booking = {
        "service": "beratung-35a",
        "start": "2027-03-04T10:00:00+01:00",
        "name": "Familie Haddad",
        "email": "haddad@example.org",
        "privacy_consent": True,
    }
    with freeze_time(NOW):
        headers = {"Idempotency-Key": "retry-me"}
        assert client.post("/api/v1/bookings", json=booking, headers=headers).status_code == 201
    with freeze_time("2027-03-02 06:59:00"):
        assert purge_personal_data(datetime.now(UTC)).retry_answers == 0
    with freeze_time("2027-03-02 07:00:00"):
        assert purge_personal_data(datetime.now(UTC)).retry_answers == 1
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(IdempotentAnswer)) == 0
