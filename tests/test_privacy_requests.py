"""Data-subject requests: find, export and erase every record of one person (GDPR Art. 15, 17)."""

import json
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from booking.accessibility.models import AccessibilityFeedback
from booking.appointments.booking import email_key, phone_key
from booking.appointments.models import Appointment
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.callbacks.models import CallAttempt, CallbackRequest
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.privacy.subject import NotAContact, parse_subject
from booking.reports.facts import appointment_facts, callback_facts, queue_facts
from booking.reports.stats import Period, compute
from booking.waiting.models import QueueEntry

EMAIL = "Fatma.Yilmaz+termin@Example.org"
PHONE_NATIONAL = "0171 2345678"
PHONE_E164 = "+491712345678"
OCTOBER = Period(date(2026, 10, 1), date(2026, 10, 31))
NOW = datetime(2026, 11, 3, 10, tzinfo=UTC)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 10, day, hour, tzinfo=UTC)


@pytest.fixture
def person(make_office, make_service, make_staff):
    """One family in every kind of record, and another family that must stay untouched."""
    office = make_office(slug="wp-a", name="Welcome Point A")
    service = make_service(office)
    caseworker = make_staff(Role.CASEWORKER, offices=[office])
    staff = {
        "admin": make_staff(Role.ADMIN),
        "caseworker": caseworker,
        "reception": make_staff(Role.RECEPTION, offices=[office]),
        "privacy": make_staff(Role.PRIVACY),
        "operator_admin": make_staff(Role.OPERATOR_ADMIN, offices=[office]),
    }

    def appointment(day, name, email=None, phone=None, **values):
        starts = at(day)
        a = Appointment(
            service_id=service.id,
            office_id=office.id,
            staff_id=caseworker.id,
            starts_at=starts,
            ends_at=starts + timedelta(minutes=30),
            busy_until=starts + timedelta(minutes=30),
            family_name=name,
            email=email,
            phone=phone,
            email_key=email_key(email),
            phone_key=phone_key(phone),
            family_note="Sohn, 7 Jahre",
            language="tr",
            interpreter_needed=True,
            created_at=starts - timedelta(days=4),
            **values,
        )
        db.session.add(a)
        return a

    by_email = appointment(5, "Fatma Yilmaz", email="fatma.yilmaz@example.org", status="attended")
    by_phone = appointment(
        6, "F. Yilmaz", phone="+49 171 2345678", status="cancelled", cancel_reason="krank"
    )
    by_phone.cancelled_at, by_phone.cancelled_by_family = at(2), True
    other = appointment(7, "Familie Anders", email="anders@example.org", status="no_show")
    db.session.flush()
    db.session.add(
        QueueEntry(
            office_id=office.id,
            day=date(2026, 10, 5),
            number=1,
            kind="appointment",
            state="served",
            name="Fatma",
            note="kommt mit Sohn",
            appointment_id=by_email.id,
            checked_in_at=at(5, 9),
            called_at=at(5, 9) + timedelta(minutes=8),
            finished_at=at(5, 10),
        )
    )
    callback = CallbackRequest(
        office_id=office.id,
        status="closed",
        outcome="resolved",
        caller_name="Frau Yilmaz",
        phone=PHONE_E164,
        language="tr",
        received_at=at(8, 9),
        due_at=at(10, 14),
        closed_at=at(8, 12),
        note="Wohnung",
    )
    callback.attempts.append(CallAttempt(at=at(8, 11), outcome="reached", note="erreicht"))
    db.session.add(callback)
    db.session.add(
        CallbackRequest(
            office_id=office.id,
            caller_name="Y. by mail",
            email="FATMA.YILMAZ@example.org",
            received_at=at(9, 9),
            due_at=at(12, 14),
        )
    )
    for recipient, status in (
        ("fatma.yilmaz+x@example.org", "pending"),
        ("Fatma.Yilmaz@example.org", "sent"),
        ("anders@example.org", "pending"),
    ):
        db.session.add(
            OutboxMessage(
                kind="confirmation",
                channel="email",
                recipient=recipient,
                subject="Termin",
                body_text="Ihr Termin",
                status=status,
            )
        )
    db.session.add(
        OutboxMessage(kind="reminder", channel="sms", recipient=PHONE_E164, body_text="Erinnerung")
    )
    db.session.add(
        AccessibilityFeedback(message="Knopf zu klein", name="F. Y.", contact=PHONE_NATIONAL)
    )
    db.session.add(AccessibilityFeedback(message="Kontrast", contact="anders@example.org"))
    db.session.commit()
    return {"office": office, "staff": staff, "other": other}


def login(client, auth, user):
    assert auth.login(user.email).status_code == 302
    assert client.get("/admin/privacy/?lang=en").status_code == 200


def search(client, contact):
    return client.post("/admin/privacy/search", data={"contact": contact})


def test_parse_subject_normalises_and_refuses_odd_input():
    assert parse_subject(EMAIL).key == "fatma.yilmaz@example.org"
    assert parse_subject(PHONE_NATIONAL).key == PHONE_E164
    assert parse_subject("+49 (171) 234 56 78").key == PHONE_E164
    for odd in ("", "   ", "a\x00b@example.org", "😀", "x" * 5000, "12", "a@b", "nobody@"):
        with pytest.raises(NotAContact):
            parse_subject(odd)


def test_search_finds_every_kind_by_email_in_any_spelling(client, auth, person):
    login(client, auth, person["staff"]["admin"])
    html = search(client, EMAIL).get_data(as_text=True)
    assert "Fatma Yilmaz" in html and "Y. by mail" in html and "Fatma" in html
    assert "Familie Anders" not in html and "F. Yilmaz" not in html
    assert "Appointments (1)" in html and "Callback requests (1)" in html
    assert "Waiting queue (1)" in html and "Messages (2)" in html
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "privacy.subject_searched")
    ).one()
    assert "yilmaz" not in event.detail.lower() and "example.org" not in event.detail
    assert event.detail.startswith("subject ") and "appointments " in event.detail


def test_search_finds_by_phone_national_or_international(client, auth, person):
    login(client, auth, person["staff"]["admin"])
    for spelling in (PHONE_NATIONAL, PHONE_E164, "+49 171 2345678"):
        html = search(client, spelling).get_data(as_text=True)
        assert "F. Yilmaz" in html and "Frau Yilmaz" in html and "F. Y." in html
        assert "Appointments (1)" in html and "Callback requests (1)" in html
        assert "Messages (1)" in html and "Feedback on accessibility (1)" in html
        assert "Fatma Yilmaz" not in html


@pytest.mark.parametrize(
    "contact", ["", "\x00", "😀😀", "x" * 100_000, "nicht-da", "0000", "a@@b", "<b>@x"]
)
def test_odd_input_gets_a_message_never_a_500(client, auth, person, contact):
    login(client, auth, person["staff"]["admin"])
    for url in ("/admin/privacy/search", "/admin/privacy/export", "/admin/privacy/erase"):
        response = client.post(url, data={"contact": contact})
        assert response.status_code in (400, 413), url
        if response.status_code == 400:
            html = response.get_data(as_text=True)
            assert (
                "valid email address or phone number" in html
                or "This field is required." in html
                or "cannot be longer than 254 characters" in html
                or "could not be understood" in html  # NUL: refused before any view
            )


def test_export_is_a_json_download_of_everything(client, auth, person):
    login(client, auth, person["staff"]["admin"])
    response = client.post("/admin/privacy/export", data={"contact": PHONE_NATIONAL})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="auskunft-')
    assert "no-store" in response.headers["Cache-Control"]
    document = json.loads(response.get_data(as_text=True))
    (appointment,) = document["appointments"]
    assert appointment["name"] == "F. Yilmaz" and appointment["cancel_reason"] == "krank"
    assert appointment["start"] == "2026-10-06T12:00:00+02:00"
    (callback,) = document["callbacks"]
    assert callback["phone"] == PHONE_E164 and callback["attempts"][0]["note"] == "erreicht"
    assert [m["recipient"] for m in document["messages"]] == [PHONE_E164]
    assert document["accessibility_feedback"][0]["message"] == "Knopf zu klein"
    assert "manage_token_hash" not in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "privacy.subject_exported")
        )
        == 1
    )


def figures(office):
    ids = [office.id]
    return compute(
        OCTOBER,
        NOW,
        appointment_facts(ids, OCTOBER),
        queue_facts(ids, OCTOBER),
        callback_facts(ids, OCTOBER),
    )


def test_erasure_asks_first_then_blanks_keeps_statistics_and_audits(client, auth, person):
    before = figures(person["office"])
    assert before.held == 2 and before.cancelled == 1 and before.walk_ins == 0
    login(client, auth, person["staff"]["admin"])
    confirm = client.post("/admin/privacy/erase/confirm", data={"contact": EMAIL})
    assert confirm.status_code == 200
    html = confirm.get_data(as_text=True)
    assert "Fatma Yilmaz" in html and 'name="reason"' in html
    assert 'type="hidden" value="Fatma.Yilmaz+termin@Example.org"' in html
    # Without a reason or the confirmation nothing happens.
    refused = client.post("/admin/privacy/erase", data={"contact": EMAIL, "reason": ""})
    assert refused.status_code == 400 and "Please choose a reason." in refused.get_data(
        as_text=True
    )
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 4

    done = client.post(
        "/admin/privacy/erase",
        data={"contact": EMAIL, "reason": "art17_request", "confirmed": "y"},
    )
    assert done.status_code == 303 and done.location.endswith("/admin/privacy/")
    page = client.get(done.location).get_data(as_text=True)
    assert "Erased: 1 appointment(s), 1 callback request(s), 1 waiting-queue entry(ies)" in page
    db.session.expire_all()
    erased = db.session.scalars(select(Appointment).where(Appointment.starts_at == at(5))).one()
    assert (erased.family_name, erased.email, erased.email_key, erased.family_note) == (
        "–",
        None,
        None,
        "",
    )
    assert erased.purged_at is not None and erased.language == "tr" and erased.interpreter_needed
    mail_request = db.session.scalars(
        select(CallbackRequest).where(CallbackRequest.caller_name == "–")
    ).one()
    assert mail_request.email is None
    queue_entry = db.session.scalars(select(QueueEntry)).one()
    assert (queue_entry.name, queue_entry.note, queue_entry.state) == ("", "", "served")
    recipients = sorted(db.session.scalars(select(OutboxMessage.recipient)))
    assert recipients == [PHONE_E164, "anders@example.org"]  # both of hers gone, pending too
    # The other family and the records found by phone stay as they were.
    assert db.session.get(Appointment, person["other"].id).family_name == "Familie Anders"
    assert (
        db.session.scalars(
            select(Appointment.family_name).where(Appointment.starts_at == at(6))
        ).one()
        == "F. Yilmaz"
    )
    assert figures(person["office"]) == before
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "privacy.subject_erased")
    ).one()
    assert event.actor_id == person["staff"]["admin"].id
    assert "reason art17_request" in event.detail and f"appointments {erased.id}" in event.detail
    assert "yilmaz" not in event.detail.lower()
    # Nothing left to find.
    assert "0 record(s) found" in search(client, EMAIL).get_data(as_text=True)


def test_erasure_by_phone_blanks_callbacks_attempts_and_feedback(client, auth, person):
    before = figures(person["office"])
    login(client, auth, person["staff"]["admin"])
    response = client.post(
        "/admin/privacy/erase",
        data={"contact": PHONE_NATIONAL, "reason": "consent_withdrawn", "confirmed": "y"},
    )
    assert response.status_code == 303
    db.session.expire_all()
    callback = db.session.scalars(
        select(CallbackRequest).where(CallbackRequest.outcome == "resolved")
    ).one()
    assert (callback.caller_name, callback.phone, callback.note) == ("–", None, "")
    assert callback.attempts[0].note == "" and callback.attempts[0].outcome == "reached"
    feedback = db.session.scalars(
        select(AccessibilityFeedback).where(AccessibilityFeedback.purged_at.is_not(None))
    ).one()
    assert (feedback.contact, feedback.name) == (None, None)
    cancelled = db.session.scalars(select(Appointment).where(Appointment.starts_at == at(6))).one()
    assert cancelled.cancel_reason is None and cancelled.cancelled_by_family is True
    assert (
        db.session.scalar(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.channel == "sms")
        )
        == 0
    )
    assert figures(person["office"]) == before


@pytest.mark.parametrize(
    ("role", "search_status", "erase_status"),
    [
        (None, 302, 302),
        ("caseworker", 403, 403),
        ("reception", 403, 403),
        ("operator_admin", 403, 403),
        ("privacy", 200, 403),  # the data protection officer looks and exports, never erases
        ("admin", 200, 303),
    ],
)
def test_access(client, auth, person, role, search_status, erase_status):
    if role:
        assert auth.login(person["staff"][role].email).status_code == 302
    index = client.get("/admin/privacy/")
    assert index.status_code == search_status
    if role is None:
        assert "/login" in index.location
    assert search(client, EMAIL).status_code == search_status
    assert client.post("/admin/privacy/export", data={"contact": EMAIL}).status_code == (
        search_status
    )
    confirm = client.post("/admin/privacy/erase/confirm", data={"contact": EMAIL})
    assert confirm.status_code == (200 if role == "admin" else erase_status)
    erase = client.post(
        "/admin/privacy/erase",
        data={"contact": EMAIL, "reason": "other", "confirmed": "y"},
    )
    assert erase.status_code == erase_status
    db.session.expire_all()
    names = set(db.session.scalars(select(Appointment.family_name)))
    assert ("Fatma Yilmaz" in names) is (role != "admin")


# --- the privacy notice ----------------------------------------------------------------


def test_notice_names_controller_dpo_legal_basis_retention_and_operators(app_factory, make_office):
    app = app_factory(
        PRIVACY_CONTROLLER=["Stadt Beispiel", "Jugendamt"],
        PRIVACY_DPO_CONTACT="Datenschutz Beispiel\ndsb@beispiel.example",
        CALLBACK_RETENTION_DAYS_AFTER_CLOSING=45,
        ACCESSIBILITY_FEEDBACK_RETENTION_DAYS=91,
    )
    with app.app_context():
        make_office(name="Welcome Point Nord", operator="Caritas Düsseldorf")
        make_office(name="Geschlossen", operator="Alter Träger", active=False)
        client = app.test_client()
        html = client.get("/privacy?lang=de").get_data(as_text=True)
        assert "<address>Stadt Beispiel<br>Jugendamt</address>" in html
        assert '<a href="mailto:dsb@beispiel.example">dsb@beispiel.example</a>' in html
        assert "Art. 6 Abs. 1 lit. e DSGVO" in html and "Art. 9 Abs. 2 lit. h DSGVO" in html
        assert "§§ 67 ff. SGB X" in html and "§ 84 SGB X" in html
        assert "180 Tage nach dem Termin" in html and "45 Tage nach Abschluss" in html
        assert "91 Tage nach Eingang" in html
        assert (
            "<td><bdi>Welcome Point Nord</bdi></td><td><bdi>Caritas Düsseldorf</bdi></td>" in html
        )
        assert "Alter Träger" not in html  # inactive offices are not named
        assert "Mitarbeitende anderer Träger sehen Ihre Daten nicht" in html
        arabic = client.get("/privacy?lang=ar").get_data(as_text=True)
        assert "الأساس القانوني" in arabic and "Caritas Düsseldorf" in arabic


def test_notice_defaults_name_the_city(client):
    html = client.get("/privacy?lang=de").get_data(as_text=True)
    assert "Landeshauptstadt Düsseldorf" in html and "Datenschutzbeauftragte" in html


def test_the_data_protection_officer_finds_and_exports_read_only_and_is_audited(
    client, auth, person
):
    officer = person["staff"]["privacy"]
    login(client, auth, officer)
    menu = client.get("/admin/audit?lang=en").get_data(as_text=True)
    assert 'href="/admin/privacy/"' in menu  # in the staff menu beside the audit log
    html = search(client, EMAIL).get_data(as_text=True)
    assert "Fatma Yilmaz" in html and "Appointments (1)" in html
    assert "/admin/privacy/erase/confirm" not in html  # no erase button
    export = client.post("/admin/privacy/export", data={"contact": EMAIL})
    assert export.status_code == 200 and export.headers["Cache-Control"] == "no-store"
    assert "Fatma Yilmaz" in export.get_data(as_text=True)
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.like("privacy.subject_%"))
    ).all()
    assert [(e.action, e.actor_id) for e in events] == [
        ("privacy.subject_searched", officer.id),
        ("privacy.subject_exported", officer.id),
    ]
    for event in events:
        assert "yilmaz" not in event.detail.lower() and "example.org" not in event.detail
    assert client.post("/admin/privacy/erase/confirm", data={"contact": EMAIL}).status_code == 403


def test_waiting_list_places_are_found_exported_and_erased(client, auth, person):
    from booking.waitlist.models import EntryStatus, OfferState, WaitlistEntry, WaitlistOffer

    office = person["office"]
    service_id = person["other"].service_id
    caseworker_id = person["other"].staff_id

    def place(name, email=None, phone=None, status=EntryStatus.WAITING):
        entry = WaitlistEntry(
            service_id=service_id,
            office_id=office.id,
            family_name=name,
            email=email,
            phone=phone,
            language="ar",
            status=status,
            joined_at=at(1),
            token_hash=f"{name}-hash".ljust(64, "0")[:64],
        )
        db.session.add(entry)
        return entry

    waiting = place("Fatma Y.", email="fatma.yilmaz@example.org")
    ended = place("F. Y.", phone=PHONE_NATIONAL, status=EntryStatus.LEFT)
    ended.ended_at = at(3)
    stranger = place("Familie Anders", email="anders@example.org")
    db.session.flush()
    soon = datetime.now(UTC).replace(microsecond=0)  # the commit ends offers past their hold
    offer = WaitlistOffer(
        entry_id=waiting.id,
        service_id=service_id,
        staff_id=caseworker_id,
        starts_at=soon + timedelta(days=10),
        busy_until=soon + timedelta(days=10, minutes=30),
        offered_at=soon,
        hold_until=soon + timedelta(hours=2),
        token_hash="o" * 64,
    )
    db.session.add(offer)
    db.session.commit()

    login(client, auth, person["staff"]["admin"])
    page = search(client, EMAIL).get_data(as_text=True)
    assert "Waiting list (1)" in page and "Fatma Y." in page and "Familie Anders" not in page
    exported = json.loads(
        client.post("/admin/privacy/export", data={"contact": PHONE_NATIONAL}).get_data(
            as_text=True
        )
    )
    (entry,) = exported["waitlist_entries"]
    assert (entry["name"], entry["status"], entry["language"]) == ("F. Y.", "left", "ar")

    done = client.post(
        "/admin/privacy/erase",
        data={"contact": EMAIL, "reason": "art17_request", "confirmed": "y"},
    )
    assert done.status_code == 303
    assert "Waiting-list places erased: 1." in client.get(done.location).get_data(as_text=True)
    db.session.expire_all()
    erased = db.session.get(WaitlistEntry, waiting.id)
    assert (erased.family_name, erased.email, erased.token_hash) == ("–", None, None)
    # A place still waiting ends, and the time held for it goes back.
    assert erased.status == EntryStatus.LEFT and erased.purged_at is not None
    held = db.session.get(WaitlistOffer, offer.id)
    assert held.state == OfferState.WITHDRAWN and held.token_hash is None
    assert db.session.get(WaitlistEntry, stranger.id).email == "anders@example.org"
    assert db.session.get(WaitlistEntry, ended.id).family_name == "F. Y."
    assert "Waiting list (0)" in search(client, EMAIL).get_data(as_text=True)
