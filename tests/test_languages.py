"""Seven languages for families, German and English for staff; right-to-left for ar and fa."""

import re

import pytest
from freezegun import freeze_time

from booking.auth.models import Role

FAMILY = ("de", "en", "ar", "tr", "uk", "ru", "fa")
OWN_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "tr": "Türkçe",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی",
}
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf


def html_tag(html: str) -> str:
    match = re.search(r"<html[^>]*>", html)
    assert match, "no <html> element"
    return match.group(0)


@pytest.mark.parametrize("lang", FAMILY)
def test_every_family_language_on_request(client, lang):
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    rtl = ' dir="rtl"' if lang in ("ar", "fa") else ""
    assert html_tag(html) == f'<html lang="{lang}"{rtl}>'


def test_choice_is_remembered_and_beats_the_browser(client):
    client.get("/?lang=tr")
    html = client.get("/book", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="tr">'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar-SY,ar;q=0.9,en;q=0.5", '<html lang="ar" dir="rtl">'),
        ("uk", '<html lang="uk">'),
        ("fa-IR", '<html lang="fa" dir="rtl">'),
        ("fr, it;q=0.5", '<html lang="de">'),
    ],
)
def test_browser_language_decides_then_german(client, header, expected):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert html_tag(html) == expected


def language_switch(html: str) -> str:
    match = re.search(r'<nav aria-label="[^"]+" class="language-switch">(.*?)</nav>', html, re.S)
    assert match, "no language switch"
    return match.group(1)


@freeze_time(NOW)
def test_switch_lists_every_language_in_its_own_script(client, bookable_service):
    for path in ("/", "/book", "/book/beratung-35a?week=2027-03-08", "/privacy", "/nowhere"):
        nav = language_switch(client.get(f"{path}").get_data(as_text=True))
        assert "<script" not in nav and "<button" not in nav
        # The current language is marked, not linked; every other one is a link.
        assert f'<span aria-current="true" lang="de">{OWN_NAMES["de"]}</span>' in nav
        for code, name in OWN_NAMES.items():
            if code == "de":
                continue
            query = path.partition("?")[2]
            args = "&amp;".join(sorted([f"lang={code}", *([query] if query else [])]))
            href = f"{path.partition('?')[0]}?{args}"
            assert f'<a href="{href}" lang="{code}" hreflang="{code}">{name}</a>' in nav, path
    arabic = language_switch(client.get("/?lang=ar").get_data(as_text=True))
    assert '<span aria-current="true" lang="ar">العربية</span>' in arabic
    assert '<a href="/?lang=de" lang="de" hreflang="de">Deutsch</a>' in arabic


def test_form_pages_have_the_links_and_buttons_that_keep_the_typed_data(client, bookable_service):
    with freeze_time(NOW):
        html = client.get("/book/beratung-35a/details?start=2027-03-04T10:00:00%2B01:00").get_data(
            as_text=True
        )
    nav = language_switch(html)
    assert 'hreflang="ar"' in nav and "<button" not in nav
    buttons = re.findall(
        r'<button type="submit" form="details-form"[^>]*name="switch_language"', html
    )
    assert len(buttons) == len(FAMILY) - 1


def staff_login(client, auth, make_staff, make_office):
    office = make_office()
    user = make_staff(Role.CASEWORKER, offices=[office])
    assert auth.login(user.email).status_code == 302
    return user


def test_staff_pages_speak_german_or_english_only(client, auth, make_staff, make_office):
    staff_login(client, auth, make_staff, make_office)
    html = client.get("/calendar/me?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    assert "Kalender" in html
    nav = language_switch(html)
    assert 'hreflang="en"' in nav and "hreflang" in nav
    assert not any(f'lang="{code}"' in nav for code in ("ar", "tr", "uk", "ru", "fa"))
    # ar is remembered for the public pages; here the browser's staff language decides.
    html = client.get("/calendar/me", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    html = client.get("/calendar/me", headers={"Accept-Language": "ar, en;q=0.5"}).get_data(
        as_text=True
    )
    assert html_tag(html) == '<html lang="en">'


def test_staff_keep_english_when_a_family_language_is_chosen(client, auth, make_staff, make_office):
    staff_login(client, auth, make_staff, make_office)
    assert html_tag(client.get("/calendar/me?lang=en").get_data(as_text=True)) == (
        '<html lang="en">'
    )
    # A look at the public pages in Arabic (remembered for them) ...
    assert 'dir="rtl"' in html_tag(client.get("/?lang=ar").get_data(as_text=True))
    assert 'dir="rtl"' in html_tag(client.get("/book").get_data(as_text=True))
    # ... leaves the staff pages in English.
    assert html_tag(client.get("/calendar/me?lang=fa").get_data(as_text=True)) == (
        '<html lang="en">'
    )


def test_staff_login_page_is_a_staff_page(client):
    html = client.get("/login?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    html = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    assert language_switch(html).count("hreflang") == 1  # English only


# --- Messages in the family's language -------------------------------------------------------

SLOT = "2027-03-04T10:00:00+01:00"  # Thursday 10:00-10:45 in Düsseldorf
LRI, PDI = "\u2066", "\u2069"


def api_book(client, **values) -> dict:
    body = {
        "service": "beratung-35a",
        "start": SLOT,
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "language": "tr",
        "privacy_consent": True,
    } | values
    response = client.post("/api/v1/bookings", json={k: v for k, v in body.items() if v})
    assert response.status_code == 201, response.json
    return response.json


def messages(kind: str | None = None) -> list:
    from sqlalchemy import select

    from booking.extensions import db
    from booking.notify.models import OutboxMessage

    db.session.commit()
    query = select(OutboxMessage).order_by(OutboxMessage.id)
    if kind:
        query = query.where(OutboxMessage.kind == kind)
    return list(db.session.scalars(query))


def translated(lang: str, msgid: str) -> str:
    """The catalog's text for msgid in lang; the test fails if the catalog lacks it."""
    from flask_babel import force_locale, gettext

    with force_locale(lang):
        text = gettext(msgid)
    assert text != msgid, f"no {lang} translation of {msgid!r}"
    return text


def ics_text(message) -> str:
    from icalendar import Calendar

    event = next(iter(Calendar.from_ical(message.ics).walk("VEVENT")))
    return f"{event['summary']}\n{event['description']}"


def test_turkish_booking_gets_turkish_email_sms_and_calendar_file(app, client, bookable_service):
    with freeze_time(NOW):
        token = api_book(client)["manage_token"]
        api_book(client, start="2027-03-04T11:00:00+01:00", email=None, phone="0171 2345678")
    email, sms = messages("confirmation")
    assert translated("tr", "your appointment is booked.") in email.body_text
    # CLDR's Turkish date, joined to the time as Turkish does (no comma)
    assert "4 Mart 2027 Perşembe 10:00–10:45" in email.body_text
    assert translated("tr", "When") in email.body_html
    assert '<html lang="tr" dir="ltr">' in email.body_html
    assert email.subject.startswith(translated("tr", "Your appointment is booked"))
    assert f"{translated('tr', 'Reference number')}: " in ics_text(email)
    assert sms.channel == "sms"
    assert sms.body_text.startswith(translated("tr", "Appointment booked"))
    assert "4 Mart 2027 Perşembe 11:00" in sms.body_text
    with freeze_time(NOW):
        client.post(f"/api/v1/bookings/{token}/move", json={"start": "2027-03-04T09:00:00+01:00"})
    [moved] = messages("moved")
    assert translated("tr", "your appointment has been moved to a new time.") in moved.body_text
    assert f"{translated('tr', 'Reference number')}: " in ics_text(moved)


def test_reminders_from_the_worker_speak_the_familys_language(runner, client, bookable_service):
    with freeze_time(NOW):
        api_book(client, language="uk")
    with freeze_time("2027-03-03 10:00:00"):  # no request: the CLI queues the reminder
        assert "queued 1" in runner.invoke(args=["reminders", "queue"]).output
    [reminder] = messages("reminder")
    assert translated("uk", "we remind you of your appointment.") in reminder.body_text
    assert "четвер, 4 березня 2027\u202fр." in reminder.body_text
    assert f"{translated('uk', 'Reference number')}: " in ics_text(reminder)


def test_arabic_messages_keep_times_and_numbers_left_to_right(client, bookable_service):
    bookable_service.office.phone = "+49 211 8921234"
    from booking.extensions import db

    db.session.commit()
    with freeze_time(NOW):
        data = api_book(client, language="ar", name="Familie Haddad")
        client.post(f"/api/v1/bookings/{data['manage_token']}/cancel")
    confirmation, cancelled = messages("confirmation")[0], messages("cancelled")[0]
    assert translated("ar", "your appointment is booked.") in confirmation.body_text
    assert f"{LRI}10:00–10:45{PDI}" in confirmation.body_text
    assert f"{LRI}{data['reference']}{PDI}" in confirmation.body_text
    assert '<html lang="ar" dir="rtl">' in confirmation.body_html
    assert '<bdi dir="ltr">10:00–10:45</bdi>' in confirmation.body_html
    assert '<th align="right">' in confirmation.body_html
    assert f"{LRI}+49 211 8921234{PDI}" in cancelled.body_text
    # Arabic commas between the isolated German name and address, and after the greeting.
    fsi, pdi = "\u2068", "\u2069"
    where = f"{fsi}Eingliederungshilfe{pdi}\u060c {fsi}Willi-Becker-Allee 7"
    assert where in confirmation.body_text
    assert f"{fsi}Familie Haddad{pdi}\u060c\n" in confirmation.body_text
    assert "<bdi>Familie Haddad</bdi>\u060c</p>" in confirmation.body_html


def test_german_messages_have_no_direction_marks(client, bookable_service):
    with freeze_time(NOW):
        api_book(client, language="de")
    [message] = messages("confirmation")
    assert "Donnerstag, 4. März 2027, 10:00–10:45" in message.body_text
    assert "Eingliederungshilfe, Willi-Becker-Allee 7" in message.body_text
    assert LRI not in message.body_text and "<bdi" not in message.body_html
    assert "Vorgangsnummer: " in ics_text(message)


def test_message_is_german_when_the_languages_catalog_is_missing(
    client, bookable_service, monkeypatch
):
    import booking.core.i18n as i18n

    monkeypatch.setattr(i18n, "_translated_catalogs", lambda directory: frozenset({"de"}))
    with freeze_time(NOW):
        api_book(client, language="tr")
    [message] = messages("confirmation")
    # All German, the date too: never half Turkish.
    assert "Ihr Termin ist gebucht." in message.body_text
    assert "Donnerstag, 4. März 2027" in message.body_text
    assert "Vorgangsnummer: " in ics_text(message)


@freeze_time(NOW)
def test_arabic_pages_keep_times_references_and_phones_left_to_right(client, bookable_service):
    bookable_service.office.phone = "+49 211 8921234"
    from booking.extensions import db

    db.session.commit()
    data = api_book(client, language="ar")
    html = client.get(f"/manage/{data['manage_token']}?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="ar" dir="rtl">'
    assert "الخميس، 4 مارس 2027، " in html  # Arabic comma between date and time
    assert '<bdi dir="ltr">10:00–10:45</bdi>' in html
    assert f'<bdi dir="ltr">{data["reference"]}</bdi>' in html
    office = client.get("/offices/eingliederungshilfe?lang=ar").get_data(as_text=True)
    assert '<bdi dir="ltr">+49 211 8921234</bdi>' in office
    german = client.get(f"/manage/{data['manage_token']}?lang=de").get_data(as_text=True)
    assert "Donnerstag, 4. März 2027, 10:00–10:45" in german and "<bdi" not in german


# --- The API speaks the Accept-Language's language, without memory ---------------------------


def in_language(lang: str, msgid: str) -> str:
    from flask_babel import force_locale, gettext

    with force_locale(lang):
        return gettext(msgid)


@pytest.mark.parametrize("lang", FAMILY)
def test_api_field_messages_in_the_accept_language(client, bookable_service, lang):
    response = client.post(
        "/api/v1/bookings",
        json={"service": "beratung-35a", "start": SLOT, "email": "kein-at"},
        headers={"Accept-Language": f"{lang};q=0.9"},
    )
    assert response.status_code == 422
    errors = response.json["errors"]
    assert errors["name"] == in_language(lang, "Please enter a name.")
    assert errors["email"] == in_language(lang, "Please enter a valid email address.")
    assert errors["privacy_consent"] == in_language(lang, "Please agree to the privacy notice.")
    if lang != "en":
        assert errors["name"] != "Please enter a name."  # really translated


def test_api_has_no_language_memory(client, bookable_service):
    client.get("/?lang=ar")  # a page's choice does not change the API's answers
    response = client.post("/api/v1/bookings", json={}, headers={"Accept-Language": "en"})
    assert response.json["errors"]["name"] == "Please enter a name."
    assert "Set-Cookie" not in client.post("/api/v1/bookings?lang=tr", json={}).headers
    german = client.post("/api/v1/bookings", json={}).json["errors"]["name"]
    assert german == in_language("de", "Please enter a name.") != "Please enter a name."


def test_answers_vary_on_the_browser_language(client):
    """A shared cache must not give one family's language to the next."""
    for path in ("/", "/api/v1/offices", "/nowhere"):
        assert "Accept-Language" in client.get(path).headers.get("Vary", ""), path
    with client.get("/static/css/app.css") as stylesheet:
        assert "Accept-Language" not in stylesheet.headers.get("Vary", "")


@freeze_time(NOW)
def test_german_office_names_are_isolated_in_right_to_left_sentences(client, bookable_service):
    html = client.get(
        "/book/beratung-35a/details?start=2027-03-04T10:00:00%2B01:00&lang=fa"
    ).get_data(as_text=True)
    assert "<bdi>Eingliederungshilfe</bdi>" in html
    assert "<bdi>Beratung und Antragsaufnahme</bdi>" in html
    assert "<bdi>Eingliederungshilfe</bdi>\u060c <bdi>Willi-Becker-Allee 7" in html  # not ", "
    german = client.get(
        "/book/beratung-35a/details?start=2027-03-04T10:00:00%2B01:00&lang=de"
    ).get_data(as_text=True)
    assert "<bdi>" not in german and "Donnerstag, 4. März 2027, 10:00" in german
    assert "Eingliederungshilfe, Willi-Becker-Allee 7" in german


def test_an_office_name_keeps_its_gloss_together(app):
    from flask import render_template_string

    with app.test_request_context("/?lang=ar"):
        from flask_babel import force_locale

        with force_locale("ar"):
            html = render_template_string(
                "{{ 'Welcome Point Leopoldstraße (نقطة الترحيب)'|glossed }}|{{ 'Ohne'|glossed }}"
                "|{{ 'Ohne'|glossed(alone=true) }}"
            )
    assert html == (
        '<bdi>Welcome Point Leopoldstraße</bdi> <span class="gloss">(نقطة الترحيب)</span>'
        "|<bdi>Ohne</bdi>|Ohne"  # a heading without a gloss: the plain name, as before
    )
    with app.test_request_context("/"):
        assert render_template_string("{{ 'A <b> (x)'|glossed }}") == (
            'A &lt;b&gt; <span class="gloss">(x)</span>'
        )
