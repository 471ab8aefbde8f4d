"""The waiting list: joining, offers in order with a hold counted in working hours, taking
or declining an offer, expiry after 60 days, the purge, and the staff list."""

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.booking import (
    SlotTaken,
    book_appointment,
    cancel_by_family,
    check_family_details,
)
from booking.appointments.models import Appointment, AppointmentStatus, Channel
from booking.auth.models import Role, StaffUser
from booking.core.sealed import unseal
from booking.extensions import db
from booking.notify.models import MANAGE_TOKEN_PURPOSE, OutboxMessage
from booking.privacy.services import purge_personal_data
from booking.schedule.models import WeeklyHours
from booking.schedule.services import find_free_slots
from booking.waitlist.models import (
    AFTERNOON,
    MORNING,
    EntryStatus,
    OfferState,
    WaitlistEntry,
    WaitlistOffer,
)
from booking.waitlist.services import join_waitlist, process_waitlist

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)  # Monday 08:00 in Berlin
NINE, TEN, ELEVEN = (datetime(2027, 3, 4, h, tzinfo=BERLIN) for h in (9, 10, 11))  # Thursday
THURSDAY = 1 << 3


@pytest.fixture
def full_service(bookable_service, make_staff):
    """The § 35a service booked out on Thursday (9, 10, 11), and a colleague at the office
    who works Monday to Friday 08:00-16:00 (the office's working hours for the hold)."""
    colleague = make_staff(Role.CASEWORKER, offices=[bookable_service.office])
    for day in range(5):
        db.session.add(
            WeeklyHours(
                staff_id=colleague.id,
                office_id=bookable_service.office_id,
                weekday=day,
                start_time=time(8),
                end_time=time(16),
            )
        )
    bookable_service.horizon_days = 4  # Thursday 4 March is the only bookable day
    db.session.commit()
    for n, start in enumerate((NINE, TEN, ELEVEN)):
        book_appointment(bookable_service, start, family(f"booked{n}"), NOW)
    db.session.commit()
    return bookable_service


def family(name: str, language: str = "de", email: str | None = None):
    return check_family_details(name, email or f"{name}@example.org", None, language, False, "")


def join(service, name: str, language="de", weekdays=THURSDAY, parts=MORNING, at=NOW, email=None):
    entry, token = join_waitlist(service, family(name, language, email), weekdays, parts, at)
    db.session.commit()
    return entry, token


def messages(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == kind).order_by(OutboxMessage.id)
        )
    )


def offer_path(message: OutboxMessage) -> str:
    return unseal(message.sealed_manage_token, MANAGE_TOKEN_PURPOSE)


def cancel(start: datetime, at: datetime) -> None:
    appointment = db.session.scalar(select(Appointment).where(Appointment.starts_at == start))
    cancel_by_family(appointment, at)
    db.session.commit()


def open_offers() -> list[WaitlistOffer]:
    db.session.expire_all()
    return list(
        db.session.scalars(select(WaitlistOffer).where(WaitlistOffer.state == OfferState.OFFERED))
    )


def test_a_cancelled_time_goes_to_the_first_suitable_family_and_is_held(full_service, client):
    first, _ = join(full_service, "afternoons", parts=AFTERNOON)  # joined first, does not suit
    second, _ = join(full_service, "haddad", "ar", at=NOW + timedelta(minutes=1))
    third, _ = join(full_service, "third", at=NOW + timedelta(minutes=2))
    with freeze_time(NOW):
        cancel(TEN, NOW)  # the cancellation itself makes the offer, in its transaction
    [offer] = open_offers()
    assert (offer.entry_id, offer.starts_at) == (second.id, TEN)
    # Two working hours from Monday 08:00 (the colleague's hours count for the office).
    assert offer.hold_until == datetime(2027, 3, 1, 10, tzinfo=BERLIN)
    # In the family's language (Arabic), with the link only as a placeholder.
    [message] = messages("waitlist_offer")
    assert message.recipient == "haddad@example.org"
    assert "[manage-link]" in message.body_text and "/waitlist/offer/" in offer_path(message)
    assert "وقت" in message.body_text  # Arabic text
    # Hidden from everyone else: online, at the desk, and a booking of it is refused.
    with freeze_time(NOW):
        online = client.get("/api/v1/slots?service=beratung-35a&from=2027-03-04&to=2027-03-04")
        assert online.json["slots"] == []
        assert find_free_slots(full_service, TEN.date(), TEN.date(), NOW) == []
        with pytest.raises(SlotTaken):
            book_appointment(full_service, TEN, family("desk"), NOW, channel=Channel.DESK)
        db.session.rollback()
    # Running again (a worker round) changes nothing: idempotent.
    with freeze_time(NOW + timedelta(minutes=5)):
        process_waitlist(NOW + timedelta(minutes=5))
        db.session.commit()
    assert len(open_offers()) == 1 and len(messages("waitlist_offer")) == 1
    # The hold ends after two working hours: the worker offers the time to the next family.
    later = datetime(2027, 3, 1, 10, tzinfo=BERLIN)
    with freeze_time(later):
        process_waitlist(later)
        db.session.commit()
    [nxt] = open_offers()
    assert nxt.entry_id == third.id and nxt.starts_at == TEN
    assert nxt.hold_until == datetime(2027, 3, 1, 12, tzinfo=BERLIN)
    db.session.refresh(offer)
    assert offer.state == OfferState.EXPIRED
    # The second family stays on the list but does not get the time it let pass again.
    with freeze_time(datetime(2027, 3, 1, 12, tzinfo=BERLIN)):
        process_waitlist(datetime(2027, 3, 1, 12, tzinfo=BERLIN))
        db.session.commit()
    assert [o.entry_id for o in open_offers()] == []  # nobody left to take it: free again
    db.session.refresh(second)
    assert second.status == EntryStatus.WAITING
    assert db.session.get(WaitlistEntry, first.id).first_offer_at is None


def test_taking_the_offer_books_it_with_a_manage_link(full_service, client):
    entry, _ = join(full_service, "petrovic", "uk")
    with freeze_time(NOW):
        cancel(TEN, NOW)
        path = offer_path(messages("waitlist_offer")[0])
        page = client.get(path)
        assert page.status_code == 200 and "no-store" in page.headers["Cache-Control"]
        response = client.post(path, data={"action": "accept"})
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/manage/")
    db.session.expire_all()
    booked = db.session.scalar(
        select(Appointment).where(
            Appointment.starts_at == TEN, Appointment.status == AppointmentStatus.BOOKED
        )
    )
    assert booked.family_name == "petrovic" and booked.language == "uk"
    assert db.session.get(WaitlistEntry, entry.id).status == EntryStatus.BOOKED
    assert not open_offers()
    confirmation = messages("confirmation")[-1]
    assert confirmation.appointment_id == booked.id
    with freeze_time(NOW):
        again = client.post(path, data={"action": "accept"})
    assert again.status_code == 409  # taken once only


def test_declining_moves_on_to_the_next(full_service, client):
    join(full_service, "first")
    second, _ = join(full_service, "second", at=NOW + timedelta(minutes=1))
    with freeze_time(NOW):
        cancel(TEN, NOW)
        path = offer_path(messages("waitlist_offer")[0])
        assert client.post(path, data={"action": "decline"}).status_code == 303
    [offer] = open_offers()
    assert offer.entry_id == second.id


def test_join_page_confirmation_and_leave_link(bookable_service, client):
    with freeze_time(NOW):
        page = client.get("/book/beratung-35a/waitlist")
        assert page.status_code == 200
        response = client.post(
            "/book/beratung-35a/waitlist",
            data={
                "name": "Familie Yılmaz",
                "email": "yilmaz@example.org",
                "language": "tr",
                "weekdays": ["1", "3"],
                "day_parts": ["1"],
                "privacy_consent": "y",
            },
        )
    assert response.status_code == 303
    location = response.headers["Location"]
    assert re.fullmatch(r"/waitlist/[\w-]+\?done=joined", location)
    entry = db.session.scalar(select(WaitlistEntry))
    assert (entry.weekdays, entry.day_parts, entry.language) == (0b1010, MORNING, "tr")
    assert entry.token_hash and entry.token_hash not in location  # only the hash is stored
    [message] = messages("waitlist_joined")
    assert offer_path(message) == location.split("?")[0]
    assert "bekleme listesi" in message.body_text.lower()  # Turkish
    token_page = client.get(location)
    assert token_page.status_code == 200
    left = client.post(location.split("?")[0] + "/leave")
    assert left.status_code == 303
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == EntryStatus.LEFT
    # A form without days or consent keeps what was typed and says why.
    with freeze_time(NOW):
        refused = client.post(
            "/book/beratung-35a/waitlist",
            data={"name": "Familie X", "email": "x@example.org", "language": "de"},
        )
    assert refused.status_code == 422
    assert 'value="Familie X"' in refused.get_data(as_text=True)


def test_entries_expire_after_60_days_with_a_message_and_are_purged(bookable_service):
    entry, _ = join(bookable_service, "old", "ru", parts=AFTERNOON)
    with freeze_time(NOW + timedelta(days=59)):
        process_waitlist(NOW + timedelta(days=59))
        db.session.commit()
    assert db.session.get(WaitlistEntry, entry.id).status == EntryStatus.WAITING
    day60 = NOW + timedelta(days=60)
    with freeze_time(day60):
        process_waitlist(day60)
        db.session.commit()
    db.session.expire_all()
    assert db.session.get(WaitlistEntry, entry.id).status == EntryStatus.EXPIRED
    [message] = messages("waitlist_expired")
    assert "60" in message.body_text and "листе ожидания" in message.body_text
    with freeze_time(day60 + timedelta(days=29)):
        purge_personal_data(day60 + timedelta(days=29))
        db.session.commit()
    assert db.session.get(WaitlistEntry, entry.id).email == "old@example.org"
    with freeze_time(day60 + timedelta(days=31)):
        report = purge_personal_data(day60 + timedelta(days=31))
        db.session.commit()
    assert report.per_rule()["waitlist_entries"] == 1
    db.session.expire_all()
    purged = db.session.get(WaitlistEntry, entry.id)
    assert (purged.family_name, purged.email, purged.token_hash) == ("–", None, None)


def test_staff_list_and_adding_a_caller(full_service, client, auth, make_staff):
    reception = make_staff(Role.RECEPTION, offices=[full_service.office])
    join(full_service, "online-family", at=NOW - timedelta(days=3))
    with freeze_time(NOW):
        auth.login(reception.email)
        form = client.get("/waitlist/service/beratung-35a/add")
        assert form.status_code == 200
        response = client.post(
            "/waitlist/service/beratung-35a/add",
            data={
                "channel": "phone",
                "name": "Anrufer Kaya",
                "phone": "0211 123456",
                "language": "tr",
                "weekdays": ["3"],
                "day_parts": ["1", "2"],
            },
        )
        assert response.status_code == 302
        cancel(TEN, NOW)  # the online family joined first: it gets the offer
        page = client.get("/waitlist/service/beratung-35a").get_data(as_text=True)
    added = db.session.scalar(
        select(WaitlistEntry).where(WaitlistEntry.family_name == "Anrufer Kaya")
    )
    assert added.channel == Channel.PHONE and added.created_by_id == reception.id
    assert "Anrufer Kaya" in page and "online-family" in page
    assert "3,0" in page or "3.0" in page  # median days from joining to the first offer
    assert "10:00" in page  # who holds which offer


def test_the_list_gives_the_time_to_an_offer_in_hours_under_a_day(
    full_service, client, auth, make_staff
):
    """An offer on the day of joining is "5 hours", not "0.0 days"."""
    reception = make_staff(Role.RECEPTION, offices=[full_service.office])
    join(full_service, "since-this-morning", at=NOW - timedelta(hours=5))
    with freeze_time(NOW):
        cancel(TEN, NOW)
        auth.login(reception.email)
        page = client.get("/waitlist/service/beratung-35a").get_data(as_text=True)
    assert "5 Stunden" in page and "0,0 Tage" not in page


@pytest.mark.parametrize(
    ("days", "german", "english"),
    [
        (None, None, None),
        (25 / 86400 * 60, "weniger als eine Stunde", "less than an hour"),
        (1 / 24, "1 Stunde", "1 hour"),
        (23.9 / 24, "23 Stunden", "23 hours"),
        (1, "1,0 Tage", "1.0 days"),
        (2.5, "2,5 Tage", "2.5 days"),
    ],
)
def test_time_to_an_offer_reads_as_hours_or_days(app, days, german, english):
    from booking.waitlist.views import time_to_offer

    for locale, expected in (("de", german), ("en", english)):
        with app.test_request_context(headers={"Accept-Language": locale}), force_locale(locale):
            assert time_to_offer(days) == expected


def test_a_deleted_absence_and_new_hours_free_time_for_the_list(bookable_service, make_staff):
    from datetime import date

    from booking.schedule.models import AbsenceKind
    from booking.schedule.services import add_absence, add_weekly_hours, delete_absence

    bookable_service.horizon_days = 4
    admin = make_staff(Role.ADMIN)
    caseworker = db.session.scalar(select(StaffUser).where(StaffUser.role == Role.CASEWORKER))
    with freeze_time(NOW):
        absence = add_absence(
            caseworker,
            AbsenceKind.VACATION,
            date(2027, 3, 4),
            date(2027, 3, 4),
            None,
            None,
            "",
            admin,
        )
        db.session.commit()
        entry, _ = join(bookable_service, "waiting", parts=MORNING | AFTERNOON)
        assert not open_offers()
        delete_absence(absence, admin)  # the absence ends: Thursday's times are free again
        db.session.commit()
    [offer] = open_offers()
    assert offer.entry_id == entry.id and offer.starts_at == NINE
    # New hours on Friday afternoon reach the next family at once, too.
    other, _ = join(bookable_service, "friday", weekdays=1 << 4, parts=AFTERNOON)
    bookable_service.horizon_days = 5
    with freeze_time(NOW):
        add_weekly_hours(
            caseworker, bookable_service.office, [4], time(13), time(14), None, None, admin
        )
        db.session.commit()
    assert {o.entry_id for o in open_offers()} == {entry.id, other.id}


def test_reception_books_a_held_time_for_a_caller_without_email(
    full_service, client, auth, make_staff
):
    reception = make_staff(Role.RECEPTION, offices=[full_service.office])
    landline = check_family_details("Kaya", None, "0211 123456", "tr", False, "")
    entry, _ = join_waitlist(full_service, landline, THURSDAY, MORNING, NOW, Channel.PHONE)
    db.session.commit()
    with freeze_time(NOW):
        cancel(TEN, NOW)
        assert messages("waitlist_offer") == []  # a landline gets no message: staff call
        [offer] = open_offers()
        auth.login(reception.email)
        page = client.get("/waitlist/service/beratung-35a").get_data(as_text=True)
        assert f"/waitlist/offer/{offer.id}/book" in page
        response = client.post(f"/waitlist/offer/{offer.id}/book")
    assert response.status_code == 302
    db.session.expire_all()
    appointment = db.session.get(WaitlistEntry, entry.id).appointment_id
    booked = db.session.get(Appointment, appointment)
    assert booked.starts_at == TEN and booked.channel == Channel.PHONE
    assert booked.created_by_id == reception.id


def test_booking_and_waiting_list_forms_share_the_family_contact_fields(app):
    from booking.public.forms import FamilyContactFields, FamilyDetailsForm
    from booking.waitlist.forms import WaitlistForm

    contact = ["name", "email", "phone", "language", "interpreter_needed"]
    for form in (FamilyDetailsForm, WaitlistForm):
        assert issubclass(form, FamilyContactFields)
        for name in contact:  # inherited, not repeated
            assert getattr(form, name) is getattr(FamilyContactFields, name), name
    # The order stays: templates that loop over a form (the time page) render it so.
    with app.test_request_context(method="POST"):
        booking = [f.name for f in FamilyDetailsForm(meta={"csrf": False})]
        waiting = [f.name for f in WaitlistForm(meta={"csrf": False})]
    assert booking == [
        "start", "form_key", *contact, "note", "privacy_consent", "website",
    ]  # fmt: skip
    assert waiting == [*contact, "weekdays", "day_parts", "privacy_consent", "website"]


def test_one_service_function_checks_and_joins_what_a_form_gave(bookable_service, make_staff):
    from booking.appointments.booking import InvalidFamilyDetails
    from booking.audit.models import AuditEvent
    from booking.waitlist.services import WaitlistError, join_from_form

    given = {
        "name": " Familie Nowak ",
        "email": "Nowak@Example.org",
        "phone": "",
        "language": "pl",
        "interpreter_needed": True,
        "weekdays": [0, 3],
        "day_parts": [AFTERNOON],
    }
    with pytest.raises(InvalidFamilyDetails) as refused:
        join_from_form(bookable_service, {**given, "email": "", "phone": "x"}, NOW)
    assert set(refused.value.errors) == {"phone"}
    with pytest.raises(WaitlistError) as no_days:
        join_from_form(bookable_service, {**given, "weekdays": []}, NOW)
    assert no_days.value.field == "weekdays"
    with pytest.raises(WaitlistError) as bot:  # the honeypot: above the form, and audited
        join_from_form(bookable_service, {**given, "website": "http://spam"}, NOW)
    assert bot.value.field is None
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "waitlist.refused"))
    assert db.session.scalar(select(WaitlistEntry)) is None
    entry, token = join_from_form(bookable_service, given, NOW)
    assert (entry.family_name, entry.email, entry.language) == (
        "Familie Nowak",
        "nowak@example.org",
        "pl",
    )
    assert (entry.weekdays, entry.day_parts, entry.interpreter_needed) == (0b1001, AFTERNOON, True)
    assert entry.channel == Channel.ONLINE and token
    # Staff may put a caller without email or mobile on the list (they phone them).
    reception = make_staff(Role.RECEPTION, offices=[bookable_service.office])
    with pytest.raises(InvalidFamilyDetails):
        join_from_form(bookable_service, {**given, "email": None}, NOW)
    staff_entry, _ = join_from_form(
        bookable_service,
        {**given, "name": "Anrufer", "email": None},
        NOW,
        channel=Channel.PHONE,
        actor=reception,
        require_contact=False,
    )
    assert staff_entry.created_by_id == reception.id and staff_entry.channel == Channel.PHONE


def test_the_join_form_honeypot_refuses_and_keeps_what_was_typed(bookable_service, client):
    with freeze_time(NOW):
        response = client.post(
            "/book/beratung-35a/waitlist",
            data={
                "name": "Bot",
                "email": "bot@example.org",
                "language": "de",
                "weekdays": ["3"],
                "day_parts": ["1"],
                "privacy_consent": "y",
                "website": "http://spam.example",
            },
        )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Ihre Anfrage konnte nicht bearbeitet werden" in html and 'value="Bot"' in html
    assert db.session.scalar(select(WaitlistEntry)) is None


def test_one_contact_gets_one_waiting_place_per_service(bookable_service, make_service):
    from booking.audit.models import AuditEvent
    from booking.waitlist.services import AlreadyWaiting, leave_waitlist

    first, _ = join(bookable_service, "haddad", email="Haddad@Example.org")
    with pytest.raises(AlreadyWaiting) as again:  # another spelling of the same mailbox
        join(bookable_service, "haddad2", email="haddad+waitlist@example.org")
    db.session.commit()  # as a request does after a refusal: its audit entry stays
    assert again.value.field == "email" and again.value.entry.id == first.id
    phone_family = check_family_details("Kaya", None, "0171 2345678", "tr", False, "")
    by_phone_entry, _ = join_waitlist(
        bookable_service, phone_family, THURSDAY, MORNING, NOW, Channel.PHONE
    )
    db.session.commit()
    other_spelling = check_family_details(
        "Kaya", "kaya@example.org", "+49 171 234 56 78", "tr", False, ""
    )
    with pytest.raises(AlreadyWaiting) as by_phone:
        join_waitlist(bookable_service, other_spelling, THURSDAY, MORNING, NOW)
    assert by_phone.value.field == "phone"
    db.session.commit()
    refusals = db.session.scalars(
        select(AuditEvent.detail)
        .where(AuditEvent.action == "waitlist.refused")
        .order_by(AuditEvent.id)
    ).all()  # which place stood in the way, never who
    assert refusals == [
        f"already waiting: entry {first.id}",
        f"already waiting: entry {by_phone_entry.id}",
    ]
    # Another service of the office is another list; a place that ended is no place.
    other_service = make_service(bookable_service.office, slug="andere")
    join(other_service, "haddad", email="haddad@example.org")
    leave_waitlist(first, NOW)
    db.session.commit()
    join(bookable_service, "haddad", email="haddad@example.org")
    # Callers without email or phone (staff phone them) are never compared.
    for name in ("Ohne Kontakt", "Ohne Kontakt"):
        nobody = check_family_details(name, None, None, "de", False, "", require_contact=False)
        join_waitlist(bookable_service, nobody, THURSDAY, MORNING, NOW, Channel.DESK)
    db.session.commit()
    assert (
        db.session.scalar(
            select(db.func.count()).where(WaitlistEntry.status == EntryStatus.WAITING)
        )
        == 5
    )


@pytest.mark.parametrize(
    "lang, message",
    [
        ("de", "Diese E-Mail-Adresse oder Handynummer steht schon auf dieser Warteliste."),
        ("ar", "موجود بالفعل في قائمة الانتظار هذه"),
    ],
)
def test_joining_twice_online_is_refused_on_the_form(bookable_service, client, lang, message):
    data = {
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "language": "tr",
        "weekdays": ["3"],
        "day_parts": ["1"],
        "privacy_consent": "y",
    }
    with freeze_time(NOW):
        assert client.post("/book/beratung-35a/waitlist", data=data).status_code == 303
        again = client.post(
            f"/book/beratung-35a/waitlist?lang={lang}",
            data={**data, "name": "Yılmaz again", "email": "YILMAZ@example.org"},
        )
    assert again.status_code == 422
    html = again.get_data(as_text=True)
    assert message in html
    assert 'value="Yılmaz again"' in html and 'value="YILMAZ@example.org"' in html
    assert 'id="email-error"' in html  # next to the field that matched
    assert db.session.scalar(select(db.func.count()).select_from(WaitlistEntry)) == 1


def test_staff_are_told_who_already_waits_with_that_contact(full_service, client, auth, make_staff):
    reception = make_staff(Role.RECEPTION, offices=[full_service.office])
    join(full_service, "Familie Kaya", email="kaya@example.org", at=NOW - timedelta(days=3))
    with freeze_time(NOW):
        auth.login(reception.email)
        response = client.post(
            "/waitlist/service/beratung-35a/add",
            data={
                "channel": "phone",
                "name": "Herr Kaya",
                "email": "Kaya@example.org",
                "phone": "0211 123456",
                "language": "tr",
                "weekdays": ["3"],
                "day_parts": ["1"],
            },
        )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Familie Kaya steht mit dieser E-Mail-Adresse oder Telefonnummer schon" in html
    assert "26.02.2027" in html  # since when
    assert 'value="Herr Kaya"' in html
    assert db.session.scalar(select(db.func.count()).select_from(WaitlistEntry)) == 1


def test_the_purge_and_an_erasure_blank_places_with_one_helper(
    full_service, make_staff, monkeypatch
):
    from booking.privacy import subject_requests
    from booking.privacy.subject import parse_subject
    from booking.waitlist import services
    from booking.waitlist.services import decline_offer, leave_waitlist

    blanked = []

    def spy(condition, now):
        count = real(condition, now)
        blanked.append(count)
        return count

    real = services.blank_entries
    monkeypatch.setattr(services, "blank_entries", spy)
    monkeypatch.setattr(subject_requests, "blank_entries", spy)
    # A place that had an offer and ended: the purge blanks it and its offer's link.
    old, _ = join(full_service, "old")
    with freeze_time(NOW):
        cancel(TEN, NOW)
        [offer] = open_offers()
        decline_offer(offer, NOW)
        leave_waitlist(old, NOW)
        db.session.commit()
    later = NOW + timedelta(days=31)
    with freeze_time(later):
        assert purge_personal_data(later).per_rule()["waitlist_entries"] == 1
        db.session.commit()
    # A place still waiting, erased on request: the same helper blanks it.
    waiting, _ = join(full_service, "erased", email="erased@example.org")
    subject = parse_subject("Erased@example.org")
    records = subject_requests.find_records(subject)
    admin = make_staff(Role.ADMIN)
    subject_requests.erase_records(records, subject, admin, "art17_request", later)
    db.session.commit()
    assert blanked == [1, 1]
    db.session.expire_all()
    for entry_id in (old.id, waiting.id):
        entry = db.session.get(WaitlistEntry, entry_id)
        assert (entry.family_name, entry.email, entry.phone, entry.token_hash) == (
            "–",
            None,
            None,
            None,
        )
        assert entry.purged_at is not None
        assert all(o.token_hash is None for o in entry.offers)
    assert db.session.get(WaitlistOffer, offer.id).state == OfferState.DECLINED
