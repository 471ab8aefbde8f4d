"""The family's booking flow, without an account and without JavaScript."""

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from freezegun import freeze_time
from icalendar import Calendar
from sqlalchemy import func, select

from booking.appointments.booking import hash_token
from booking.appointments.models import Appointment, AppointmentStatus
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.public.models import RetiredToken

BERLIN = ZoneInfo("Europe/Berlin")
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf
SLOT = datetime(2027, 3, 4, 10, tzinfo=BERLIN).isoformat()  # "2027-03-04T10:00:00+01:00"


OFFICE_PHONE = "+49 211 8921234"


@pytest.fixture
def service(bookable_service):
    bookable_service.office.phone = OFFICE_PHONE
    bookable_service.bring_items = ["Berichte von Schule und Kita", "Impfpass"]
    db.session.commit()
    return bookable_service


def details(**values) -> dict:
    data = {
        "start": SLOT,
        "form_key": values.pop("form_key", "k" * 32),
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "phone": "",
        "language": "tr",
        "interpreter_needed": "y",
        "note": "",
        "privacy_consent": "y",
        "website": "",
    }
    data.update(values)
    return {key: value for key, value in data.items() if value is not None}


def manage_path(html: str) -> str:
    match = re.search(r'href="http://localhost(/manage/[^"?]+)"', html)
    assert match, "no manage link on the page"
    return match.group(1)


def redirect_path(response) -> str:
    """The page a change redirects to (Post/Redirect/Get); such answers carry the token."""
    assert response.status_code == 303, response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    return response.headers["Location"].removeprefix("http://localhost")


def book(client, **values):
    """Book through the form; the page after the redirect (the confirmation)."""
    path = redirect_path(client.post("/book/beratung-35a/details", data=details(**values)))
    return path, client.get(path)


def count_appointments() -> int:
    return db.session.scalar(select(func.count()).select_from(Appointment))


@freeze_time(NOW)
def test_office_list_and_week_of_slots(client, service):
    html = client.get("/book").get_data(as_text=True)
    assert "Beratung und Antragsaufnahme" in html
    page = client.get("/book/beratung-35a").get_data(as_text=True)
    assert "Frühester freier Termin" in page
    assert "Donnerstag, 4. März 2027, 09:00" in page
    assert f'value="{SLOT}"' in page
    assert "<script" not in page


@freeze_time(NOW)
def test_booking_end_to_end(client, service):
    form = client.get(f"/book/beratung-35a/details?start={SLOT}")
    assert form.status_code == 200
    assert "Donnerstag, 4. März 2027, 10:00" in form.get_data(as_text=True)
    path, response = book(client)
    html = response.get_data(as_text=True)
    assert path.endswith("?done=booked")
    assert response.status_code == 200, html
    assert "Ihr Termin ist gebucht" in html
    assert "Willi-Becker-Allee 7" in html
    assert "<li>Berichte von Schule und Kita</li><li>Impfpass</li>" in html
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    appointment = db.session.scalar(select(Appointment))
    assert appointment.reference in html
    assert appointment.email == "yilmaz@example.org" and appointment.language == "tr"
    assert appointment.interpreter_needed is True
    path = manage_path(html)
    token = path.rsplit("/", 1)[1]
    # Only the hash is stored: no column of the appointment holds the secret itself.
    assert appointment.manage_token_hash == hash_token(token)
    row = db.session.execute(select(Appointment.__table__)).one()
    assert not [value for value in row if isinstance(value, str) and token in value]
    ics = client.get(f"{path}/appointment.ics")
    event = next(iter(Calendar.from_ical(ics.get_data()).walk("VEVENT")))
    assert event.decoded("dtstart") == datetime(2027, 3, 4, 9, tzinfo=UTC)


@freeze_time(NOW)
def test_confirmation_survives_reload_and_language_switch(client, service):
    path, first = book(client)
    html = first.get_data(as_text=True)
    link = manage_path(html)
    again = client.get(path).get_data(as_text=True)
    assert "Ihr Termin ist gebucht" in again and manage_path(again) == link
    english = client.get(f"{path}&lang=en")
    text = english.get_data(as_text=True)
    assert english.status_code == 200
    assert "Your appointment is booked" in text and manage_path(text) == link
    assert f"{link}/appointment.ics" in text
    assert english.headers["Cache-Control"] == "no-store"
    # The language links of the page keep the page and its state.
    assert f'href="{link}?done=booked&amp;lang=de"' in text


@freeze_time(NOW)
def test_double_submit_makes_one_appointment_and_the_same_link(client, service):
    first = client.post("/book/beratung-35a/details", data=details())
    second = client.post("/book/beratung-35a/details", data=details())
    assert redirect_path(first) == redirect_path(second)
    assert count_appointments() == 1


@freeze_time(NOW)
def test_taken_slot_goes_back_to_time_choice_keeping_input(client, service, app):
    client.post("/book/beratung-35a/details", data=details())
    other = app.test_client()
    response = other.post(
        "/book/beratung-35a/details",
        data=details(form_key="z" * 32, name="Familie Nowak", email="nowak@example.org"),
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "Diese Zeit wurde gerade vergeben" in html
    assert 'value="Familie Nowak"' in html and 'value="nowak@example.org"' in html
    assert f'value="{SLOT}"' not in html  # the taken time is no longer offered
    # Choosing another time brings the typed details back into the form.
    chosen = other.post(
        "/book/beratung-35a/details",
        data=details(
            form_key="z" * 32,
            name="Familie Nowak",
            email="nowak@example.org",
            start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(),
            choose="1",
        ),
    )
    assert 'value="Familie Nowak"' in chosen.get_data(as_text=True)
    assert count_appointments() == 1


@freeze_time(NOW)
@pytest.mark.parametrize(
    ("values", "message"),
    [
        (
            {"email": "", "phone": ""},
            "Bitte geben Sie eine E-Mail-Adresse oder eine Handynummer an.",
        ),
        ({"privacy_consent": None}, "Bitte stimmen Sie dem Datenschutzhinweis zu."),
        ({"email": "kein-at-zeichen"}, "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        ({"email": "", "phone": "12"}, "Bitte geben Sie eine gültige Telefonnummer ein."),
        ({"note": "x" * 501}, "Bitte schreiben Sie höchstens 500 Zeichen."),
        ({"name": ""}, "Bitte geben Sie einen Namen ein."),
    ],
)
def test_bad_input_is_explained_and_kept(client, service, values, message):
    response = client.post("/book/beratung-35a/details", data=details(**values))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    if values.get("name") != "":
        assert 'value="Familie Yılmaz"' in html
    assert count_appointments() == 0


@freeze_time(NOW)
def test_phone_only_family_is_fine(client, service):
    response = client.post(
        "/book/beratung-35a/details", data=details(email="", phone="0171 2345678")
    )
    assert response.status_code == 303
    assert db.session.scalar(select(Appointment.phone)) == "+49 171 2345678"


@freeze_time(NOW)
def test_not_a_slot_time_is_refused(client, service):
    response = client.post(
        "/book/beratung-35a/details",
        data=details(start=datetime(2027, 3, 4, 10, 10, tzinfo=BERLIN).isoformat()),
    )
    assert response.status_code == 422
    assert "Diese Zeit kann nicht gebucht werden" in response.get_data(as_text=True)


@freeze_time(NOW)
def test_honeypot_refuses_and_logs(client, service):
    response = client.post("/book/beratung-35a/details", data=details(website="http://spam"))
    assert response.status_code == 422
    assert count_appointments() == 0
    refused = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "booking.refused"))
    assert refused.detail == "honeypot field filled"


@freeze_time(NOW)
def test_open_bookings_per_contact_are_limited(client, service):
    for n, hour in enumerate((9, 10)):
        start = datetime(2027, 3, 4, hour, tzinfo=BERLIN).isoformat()
        assert (
            client.post(
                "/book/beratung-35a/details", data=details(start=start, form_key=f"{n}" * 32)
            ).status_code
            == 303
        )
    third = client.post(
        "/book/beratung-35a/details",
        data=details(start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(), form_key="3" * 32),
    )
    assert third.status_code == 422
    assert "schon 2 offene Termine" in third.get_data(as_text=True)
    assert count_appointments() == 2
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "booking.refused")
        )
        == 1
    )


@freeze_time(NOW)
def test_booking_is_rate_limited(app_factory, service):
    app = app_factory()
    client = app.test_client()
    codes = [
        client.post("/book/beratung-35a/details", data=details(name="")).status_code
        for _ in range(11)
    ]
    assert codes[:10] == [422] * 10 and codes[10] == 429


@freeze_time(NOW)
def test_manage_cancel_asks_once_more_then_frees_the_slot(client, service):
    _, confirmation = book(client)
    path = manage_path(confirmation.get_data(as_text=True))
    page = client.get(path)
    assert page.status_code == 200 and f'href="{path}/cancel"' in page.get_data(as_text=True)
    assert page.headers["Referrer-Policy"] == "no-referrer"
    question = client.get(f"{path}/cancel")
    assert "Ja, absagen" in question.get_data(as_text=True)
    assert question.headers["Cache-Control"] == "no-store"
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED  # GET reads
    done = redirect_path(client.post(f"{path}/cancel", data={"reason": "Mein Kind ist krank"}))
    assert done == f"{path}?done=cancelled"
    appointment = db.session.scalar(select(Appointment))
    assert appointment.status == AppointmentStatus.CANCELLED
    assert appointment.cancel_reason == "Abgesagt durch die Familie: Mein Kind ist krank"
    assert f'value="{SLOT}"' in client.get("/book/beratung-35a").get_data(as_text=True)
    # The page after cancelling: reload and language switch show the same, with a way on.
    for url, words in ((done, "Ihr Termin ist abgesagt"), (f"{done}&lang=en", "is cancelled")):
        response = client.get(url)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and words in html, url
        assert 'href="/book/beratung-35a"' in html  # book again
        assert 'href="tel:+492118921234"' in html
        assert response.headers["Cache-Control"] == "no-store"
    # A second submit of the question lands on the same page and changes nothing.
    assert redirect_path(client.post(f"{path}/cancel", data={"reason": "x"})) == done
    assert db.session.scalar(select(Appointment.cancel_reason)).endswith("krank")
    # The move page of a second tab leads to the cancelled appointment, not "call us".
    assert redirect_path(client.get(f"{path}/move")) == path
    assert redirect_path(client.post(f"{path}/move", data={"start": SLOT})) == path
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.CANCELLED


@freeze_time(NOW)
def test_cancel_reason_over_the_limit_is_refused_and_kept(client, service):
    _, confirmation = book(client)
    path = manage_path(confirmation.get_data(as_text=True))
    response = client.post(f"{path}/cancel", data={"reason": "lang " * 41})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Höchstens 200 Zeichen" in html and "lang lang" in html
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED


@freeze_time(NOW)
def test_cancel_question_switches_language_keeping_the_reason(client, service):
    _, confirmation = book(client)
    path = manage_path(confirmation.get_data(as_text=True))
    html = client.get(f"{path}/cancel").get_data(as_text=True)
    assert f'form="cancel-form" formaction="{path}/cancel?lang=en"' in html
    switched = client.post(
        f"{path}/cancel?lang=en", data={"reason": "Umzug", "switch_language": "en"}
    )
    text = switched.get_data(as_text=True)
    assert switched.status_code == 200 and "Yes, cancel" in text and "Umzug</textarea>" in text
    assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED


@freeze_time(NOW)
def test_manage_move_issues_a_new_link_and_the_old_one_says_so(client, service):
    _, confirmation = book(client)
    old_path = manage_path(confirmation.get_data(as_text=True))
    move_page = client.get(f"{old_path}/move").get_data(as_text=True)
    eleven = datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat()
    assert f'value="{eleven}"' in move_page
    done = redirect_path(client.post(f"{old_path}/move", data={"start": eleven}))
    assert done.endswith("?done=moved")
    for url, words in ((done, "Ihr Termin wurde verlegt"), (f"{done}&lang=en", "been moved")):
        response = client.get(url)  # a reload shows the same page (it gave 404 before)
        html = response.get_data(as_text=True)
        assert response.status_code == 200 and words in html, url
        assert "11:00" in html
        new_path = manage_path(html)
        assert new_path != old_path and done.startswith(new_path)
    old = client.get(f"{old_path}?lang=de")
    old_html = old.get_data(as_text=True)
    assert old.status_code == 410
    assert "verlegt" in old_html and "neuen Link" in old_html
    assert 'href="tel:+492118921234"' in old_html
    assert old.headers["Cache-Control"] == "no-store"
    assert client.get(f"{old_path}/move").status_code == 410
    assert client.get(new_path).status_code == 200
    appointment = db.session.scalar(select(Appointment))
    assert appointment.starts_at == datetime(2027, 3, 4, 11, tzinfo=BERLIN)
    assert appointment.sequence == 1
    retired = db.session.scalar(select(RetiredToken))
    assert retired.token_hash == hash_token(old_path.rsplit("/", 1)[1])


def test_manage_closes_at_the_minimum_notice_and_dies_after(client, service):
    with freeze_time(NOW):
        path = manage_path(book(client)[1].get_data(as_text=True))
    with freeze_time("2027-03-03 09:30:00"):  # 23.5 h before: inside the 24 h notice
        page = client.get(path).get_data(as_text=True)
        assert "kann online nicht mehr geändert werden" in page
        assert 'href="tel:+492118921234"' in page
        refused = client.post(f"{path}/cancel")
        assert refused.status_code == 409 and "tel:+492118921234" in refused.get_data(as_text=True)
        assert db.session.scalar(select(Appointment.status)) == AppointmentStatus.BOOKED
    with freeze_time("2027-03-04 10:00:00"):  # after the appointment
        over = client.get(path)
        assert over.status_code == 410
        assert "Dieser Termin ist vorbei" in over.get_data(as_text=True)


def test_unknown_token_is_404_with_a_hint(client):
    response = client.get("/manage/not-a-token")
    assert response.status_code == 404
    assert "rufen Sie die Stelle an" in response.get_data(as_text=True)
    assert response.headers["Referrer-Policy"] == "no-referrer"


def test_public_pages_are_small_and_self_contained(client, service):
    with client.get("/static/css/app.css") as css_response:
        css = css_response.get_data()
    with freeze_time(NOW):
        for path in (
            "/",
            "/book",
            "/book/beratung-35a",
            f"/book/beratung-35a/details?start={SLOT}",
            "/privacy",
        ):
            response = client.get(path)
            body = response.get_data()
            assert response.status_code == 200, path
            assert len(body) + len(css) < 60 * 1024, path
            assert b"https://" not in body and b"<script" not in body, path


def test_admins_see_refused_bookings(client, auth, make_staff, service):
    with freeze_time(NOW):
        client.post("/book/beratung-35a/details", data=details(website="spam"))
        admin = make_staff(Role.ADMIN)
        auth.login(admin.email)
        html = client.get("/admin/audit?action=booking.refused").get_data(as_text=True)
    assert "booking.refused" in html and "honeypot field filled" in html
    entries = html.split("<tbody>")[1]  # the search form lists every action code
    assert "honeypot field filled" in entries and "angemeldet" not in entries


@freeze_time(NOW)
def test_a_reused_form_key_never_reveals_another_familys_booking(client, service, app):
    first = client.post("/book/beratung-35a/details", data=details())
    other = app.test_client().post(
        "/book/beratung-35a/details",
        data=details(
            email="someone-else@example.org",
            start=datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat(),
        ),
    )
    assert redirect_path(first) != redirect_path(other)
    assert count_appointments() == 2


@freeze_time(NOW)
def test_form_with_errors_switches_language_keeping_what_was_typed(client, service):
    refused = client.post(
        "/book/beratung-35a/details", data=details(email="kein-at-zeichen", note="Bitte früh")
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    # The language switch of a form page is a button of that form, not a link that loses it.
    assert (
        '<button type="submit" form="details-form" formaction="/book/beratung-35a/details?lang=en"'
        in html
    )
    switched = client.post(
        "/book/beratung-35a/details?lang=en",
        data=details(
            email="kein-at-zeichen", note="Bitte früh", switch_language="en", had_errors="1"
        ),
    )
    text = switched.get_data(as_text=True)
    assert switched.status_code == 200, text
    assert '<html lang="en">' in text and "Your details" in text
    assert "Please enter a valid email address." in text  # the error, now in English
    assert 'value="Familie Yılmaz"' in text and 'value="kein-at-zeichen"' in text
    assert "Bitte früh</textarea>" in text
    assert '<option lang="tr" selected value="tr">Türkçe</option>' in text
    assert count_appointments() == 0


@freeze_time(NOW)
def test_fresh_form_switches_language_without_errors_or_booking(client, service):
    switched = client.post(
        "/book/beratung-35a/details?lang=en",
        data=details(name="", privacy_consent=None, switch_language="en"),
    )
    text = switched.get_data(as_text=True)
    assert switched.status_code == 200
    assert "Your details" in text and "Please check your entries" not in text
    assert 'value="yilmaz@example.org"' in text
    assert count_appointments() == 0


@freeze_time(NOW)
def test_enter_in_a_field_books_rather_than_switching_language(client, service):
    html = client.get(f"/book/beratung-35a/details?start={SLOT}").get_data(as_text=True)
    # Implicit submission presses the form's first submit button in document order.
    buttons = re.findall(r'<button type="submit" form="details-form"([^>]*)>', html)
    assert buttons and "switch_language" not in buttons[0]
    assert html.index('form="details-form"') < html.index('name="switch_language"')


@freeze_time(NOW)
def test_taken_time_page_switches_language_keeping_the_details(client, service, app):
    client.post("/book/beratung-35a/details", data=details())
    other = app.test_client()
    taken = other.post(
        "/book/beratung-35a/details",
        data=details(form_key="z" * 32, name="Familie Nowak", email="nowak@example.org"),
    )
    assert 'form="choose-form"' in taken.get_data(as_text=True)
    switched = other.post(
        "/book/beratung-35a/details?lang=en",
        data=details(
            form_key="z" * 32,
            name="Familie Nowak",
            email="nowak@example.org",
            start=None,
            choose="1",
            switch_language="en",
        ),
    )
    text = switched.get_data(as_text=True)
    assert switched.status_code == 200
    assert "Continue with this time" in text and 'value="Familie Nowak"' in text
    assert count_appointments() == 1


@freeze_time(NOW)
def test_language_links_keep_the_page_and_its_query(client, service):
    html = client.get("/book/beratung-35a?week=2027-03-08").get_data(as_text=True)
    assert 'href="/book/beratung-35a?lang=en&amp;week=2027-03-08"' in html
    english = client.get("/book/beratung-35a?lang=en&week=2027-03-08").get_data(as_text=True)
    assert "Choose a time" in english and "March 8" in english


@freeze_time(NOW)
def test_family_languages_are_named_in_their_own_script(client, service):
    html = client.get(f"/book/beratung-35a/details?start={SLOT}&lang=en").get_data(as_text=True)
    for code, name in (
        ("de", "Deutsch"),
        ("ar", "العربية"),
        ("tr", "Türkçe"),
        ("uk", "Українська"),
        ("ru", "Русский"),
        ("fa", "فارسی"),
    ):
        assert f'<option lang="{code}"' in html and f">{name}</option>" in html, code


@freeze_time(NOW)
@pytest.mark.parametrize("landline", ["0211 8921234", "+49 211 8921234"])
def test_a_landline_in_the_mobile_field_is_explained(client, service, landline):
    response = client.post("/book/beratung-35a/details", data=details(email="", phone=landline))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Das ist keine Handynummer" in html
    assert "E-Mail-Adresse oder eine Handynummer" in html
    assert f'value="{landline}"' in html
    assert count_appointments() == 0


@freeze_time(NOW)
def test_a_foreign_mobile_number_is_accepted(client, service):
    response = client.post(
        "/book/beratung-35a/details", data=details(email="", phone="+90 532 123 4567")
    )
    assert response.status_code == 303


@freeze_time(NOW)
def test_a_long_note_is_refused_with_its_limit_never_cut(client, service):
    page = client.get(f"/book/beratung-35a/details?start={SLOT}").get_data(as_text=True)
    textarea = re.search(r"<textarea[^>]*>", page).group(0)
    assert "maxlength" not in textarea  # a browser would cut a pasted note silently
    assert "Höchstens 500 Zeichen." in page  # the hint says the limit
    long_note = "a" * 499 + "ende"
    response = client.post("/book/beratung-35a/details", data=details(note=long_note))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Ihr Hinweis ist zu lang. Bitte schreiben Sie höchstens 500 Zeichen." in html
    assert f"{long_note}</textarea>" in html  # kept whole, to shorten
    # A line break from the browser (CR LF) counts as one character.
    assert (
        client.post("/book/beratung-35a/details", data=details(note="a\r\n" * 200)).status_code
        == 303
    )


@freeze_time(NOW)
def test_please_bring_is_shown_on_every_step_and_in_the_message(client, service):
    items = "<li>Berichte von Schule und Kita</li><li>Impfpass</li>"
    assert items in client.get("/book/beratung-35a").get_data(as_text=True)
    details_page = client.get(f"/book/beratung-35a/details?start={SLOT}")
    assert items in details_page.get_data(as_text=True)
    _, confirmation = book(client)
    assert items in confirmation.get_data(as_text=True)
    manage = client.get(manage_path(confirmation.get_data(as_text=True)))
    assert items in manage.get_data(as_text=True)
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "confirmation"))
    assert "- Berichte von Schule und Kita\n- Impfpass" in message.body_text
    assert "<li>Impfpass</li>" in message.body_html
    assert "Telefon: +49 211 8921234" in message.body_text


@freeze_time(NOW)
def test_no_free_times_page_gives_the_office_phone(client, service):
    service.horizon_days = 1  # nothing bookable within the notice
    db.session.commit()
    html = client.get("/book/beratung-35a").get_data(as_text=True)
    assert "rufen Sie uns an" in html
    assert '<a href="tel:+492118921234">+49 211 8921234</a>' in html


@freeze_time(NOW)
def test_cancelled_message_gives_the_office_phone(client, service):
    _, confirmation = book(client, language="de")
    path = manage_path(confirmation.get_data(as_text=True))
    client.post(f"{path}/cancel")
    message = db.session.scalar(select(OutboxMessage).where(OutboxMessage.kind == "cancelled"))
    assert "rufen Sie uns an" in message.body_text
    assert "+49 211 8921234" in message.body_text and "tel:+492118921234" in message.body_html


def test_old_links_are_purged_with_the_appointment(client, service):
    from booking.privacy.services import purge_personal_data

    with freeze_time(NOW):
        _, confirmation = book(client)
        old_path = manage_path(confirmation.get_data(as_text=True))
        eleven = datetime(2027, 3, 4, 11, tzinfo=BERLIN).isoformat()
        moved = redirect_path(client.post(f"{old_path}/move", data={"start": eleven}))
        new_path = moved.split("?")[0]
        client.post(f"{new_path}/cancel", data={"reason": "Umzug nach Köln"})
    assert db.session.scalar(select(func.count()).select_from(RetiredToken)) == 1
    with freeze_time("2028-03-01 07:00:00"):
        purge_personal_data(datetime.now(UTC))
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(RetiredToken)) == 0
        assert db.session.scalar(select(Appointment.cancel_reason)) is None
        assert client.get(old_path).status_code == 404


@freeze_time(NOW)
def test_admins_edit_please_bring_as_a_list(client, auth, make_staff, service):
    auth.login(make_staff(Role.ADMIN).email)
    form = client.get(f"/admin/services/{service.id}/edit").get_data(as_text=True)
    assert "Berichte von Schule und Kita\nImpfpass</textarea>" in form
    data = {
        "office_id": service.office_id,
        "name": service.name,
        "slug": service.slug,
        "description": "Beratung",
        "please_bring": "Reisepass\r\n\r\n  Zeugnisse  \r\n",
        "minutes": "45",
        "buffer_minutes": "15",
        "min_notice_hours": "24",
        "horizon_days": "60",
        "max_open_bookings_per_contact": "2",
        "public": "y",
    }
    assert client.post(f"/admin/services/{service.id}/edit", data=data).status_code == 302
    db.session.expire_all()
    assert service.bring_items == ["Reisepass", "Zeugnisse"]
    too_long = client.post(
        f"/admin/services/{service.id}/edit", data=dict(data, please_bring="x" * 201)
    )
    assert "höchstens 200 Zeichen" in too_long.get_data(as_text=True)


@freeze_time(NOW)
def test_language_for_the_appointment_starts_as_the_page_language(client, service):
    # An Arabic reader who leaves the field alone must get Arabic messages, not German ones.
    html = client.get(f"/book/beratung-35a/details?start={SLOT}&lang=ar").get_data(as_text=True)
    assert '<option lang="ar" selected value="ar">' in html
    assert '<option lang="de" value="de">' in html
    html = client.get(f"/book/beratung-35a/details?start={SLOT}&lang=tr").get_data(as_text=True)
    assert '<option lang="tr" selected value="tr">' in html
