"""Families ask for a callback: no JavaScript, honeypot, rate limit, PRG answer page."""

import re
from datetime import datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.audit.models import AuditEvent
from booking.callbacks.due import BERLIN
from booking.callbacks.models import CallbackRequest, CallbackSource
from booking.extensions import db

NOW = datetime(2027, 3, 25, 10, 30, tzinfo=BERLIN)
URL = "/offices/eingliederungshilfe/callback"


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def office(make_office, make_service):
    office = make_office(
        slug="eingliederungshilfe", name="Eingliederungshilfe", phone="+49 211 8993000"
    )
    make_service(office, slug="beratung-35a", name="Beratung")
    make_service(office, slug="intern", name="Intern", public=False)
    return office


def form(**values):
    data = {
        "name": "Familie Yılmaz",
        "phone": "0176 12345678",
        "topic": "beratung-35a",
        "language": "ar",
        "reachable": ["tue-am"],
        "note": "",
        "email": "",
        "privacy_consent": "y",
        "website": "",
        "form_key": "key-1",
    }
    data.update(values)
    return data


def test_the_form_offers_public_topics_and_needs_no_javascript(client, office):
    html = client.get(URL).get_data(as_text=True)
    assert "<script" not in html
    assert "Beratung" in html and "Intern" not in html
    assert 'class="honeypot"' in html
    assert "0211 8993000" in html
    assert "innerhalb von 2 Arbeitstagen" in html


def test_a_request_answers_with_reference_and_due_time_after_a_redirect(client, office):
    response = client.post(URL, data=form())
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/offices/eingliederungshilfe/callback/requested")
    created = db.session.scalars(select(CallbackRequest)).one()
    assert created.source == CallbackSource.ONLINE
    assert created.phone == "+4917612345678"
    assert created.service.slug == "beratung-35a"
    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert created.reference in html
    assert "Mittwoch, 31. März 2027" in html and "16:00" in html
    # A reload and the language switch show the same answer.
    assert created.reference in client.get(response.headers["Location"]).get_data(as_text=True)
    english = client.get(response.headers["Location"] + "?lang=en").get_data(as_text=True)
    assert created.reference in english and "Wednesday, March 31, 2027" in english


def test_a_second_submit_of_the_same_form_makes_no_second_request(client, office):
    client.post(URL, data=form())
    response = client.post(URL, data=form())
    assert response.status_code == 302
    assert len(db.session.scalars(select(CallbackRequest)).all()) == 1


def test_the_answer_page_shows_nothing_without_a_request_of_this_browser(client, app, office):
    client.post(URL, data=form())
    stranger = app.test_client()
    response = stranger.get(URL + "/requested")
    assert response.status_code == 302 and response.headers["Location"].endswith(URL)


def test_the_honeypot_refuses_and_is_audited(client, office):
    response = client.post(URL, data=form(website="http://spam.example"))
    assert response.status_code == 422
    assert db.session.scalars(select(CallbackRequest)).all() == []
    assert "callback.refused" in db.session.scalars(select(AuditEvent.action)).all()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"phone": "12"}, "Bitte geben Sie eine gültige Telefonnummer ein."),
        ({"phone": ""}, "Bitte die Rückrufnummer eingeben."),
        ({"name": ""}, "Bitte geben Sie einen Namen ein."),
        ({"privacy_consent": ""}, "Bitte stimmen Sie dem Datenschutzhinweis zu."),
        ({"note": "x" * 501}, "Höchstens 500 Zeichen, bitte."),
        ({"topic": "intern"}, "Keine gültige Auswahl."),
        ({"reachable": ["sun-am"]}, "Bitte aus den angegebenen Zeiten wählen."),
        ({"email": "nope"}, "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
    ],
)
def test_bad_input_is_shown_on_the_form_with_what_was_typed(client, office, values, message):
    response = client.post(URL, data=form(**values))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert message in html
    if "name" not in values:
        assert 'value="Familie Yılmaz"' in html
    assert db.session.scalars(select(CallbackRequest)).all() == []


def test_unknown_or_inactive_offices_are_404(client, office):
    assert client.get("/offices/nowhere/callback").status_code == 404
    office.active = False
    db.session.commit()
    assert client.get(URL).status_code == 404
    assert client.post(URL, data=form()).status_code == 404


def test_posting_is_rate_limited_like_booking(client, office):
    statuses = [client.post(URL, data=form(phone="12")).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10
    assert statuses[10] == 429


def test_the_office_page_and_a_week_without_free_times_link_to_the_form(client, office):
    html = client.get("/offices/eingliederungshilfe").get_data(as_text=True)
    assert 'href="/offices/eingliederungshilfe/callback"' in html
    # The service has no hours at all: no time is free.
    html = client.get("/book/beratung-35a").get_data(as_text=True)
    assert "/offices/eingliederungshilfe/callback?topic=beratung-35a" in html
    form_page = client.get(URL + "?topic=beratung-35a").get_data(as_text=True)
    assert '<option selected value="beratung-35a">' in form_page


def test_the_privacy_notice_covers_callback_requests(client):
    html = client.get("/privacy").get_data(as_text=True)
    assert "Für eine Rückrufbitte speichern wir" in html
    assert html.count("30 Tage nach Abschluss der Anfrage") == 1  # the retention table


def test_switching_the_language_keeps_what_was_typed(client, office):
    html = client.get(URL).get_data(as_text=True)
    assert f'form="callback-form" formaction="{URL}?lang=en"' in html
    response = client.post(
        f"{URL}?lang=en",
        data=form(name="Familie Nowak", phone="", privacy_consent="") | {"switch_language": "en"},
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'lang="en"' in html and "Your name" in html
    assert 'value="Familie Nowak"' in html
    assert "Please enter the number to call back." not in html  # nothing was sent yet
    assert db.session.scalar(select(func.count()).select_from(CallbackRequest)) == 0


def test_the_language_starts_as_the_page_language(client, office):
    # A Ukrainian reader who leaves the field alone is called back in Ukrainian.
    html = client.get(f"{URL}?lang=uk").get_data(as_text=True)
    assert re.search(r'<option selected value="uk">', html)
    assert not re.search(r'<option selected value="de">', html)


def test_the_reach_grid_names_each_row_by_its_weekday(client, office, monkeypatch):
    """Row headings come from the weekday itself, not cut from "Monday morning" (a half-day of
    two words, as in several languages, cut the heading to "Monday early")."""
    from booking.callbacks import labels

    monkeypatch.setitem(labels.HALF_DAY_LABELS, "am", "early morning")
    html = client.get(URL + "?lang=en").get_data(as_text=True)
    headings = re.findall(r'<th scope="row">([^<]*)</th>', html)
    assert headings == ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def test_the_topic_error_names_the_option_as_the_form_shows_it(client, office, make_office):
    from flask_babel import force_locale

    from booking.callbacks.services import InvalidCallbackDetails, check_caller_details
    from booking.offices.models import Service

    html = client.get(URL).get_data(as_text=True)
    assert 'value="other">Etwas anderes</option>' in html
    assert "Sonstiges" not in html
    elsewhere = make_office(slug="elsewhere", name="Anderswo")
    foreign = Service(office_id=elsewhere.id, slug="fremd", name="Fremd", minutes=30)
    with client.application.test_request_context(), force_locale("de"):
        with pytest.raises(InvalidCallbackDetails) as refused:
            check_caller_details(office, "A", "0176 12345678", service=foreign)
        topic = str(refused.value.errors["topic"])
    assert topic == "Bitte wählen Sie ein Angebot dieser Stelle oder „Etwas anderes“."


def test_the_form_addresses_the_family_throughout(client, office):
    html = client.get(URL).get_data(as_text=True)
    assert "Wann können wir Sie erreichen?" in html
    assert "Wir dürfen eine Nachricht auf Ihrer Mailbox hinterlassen" in html
    assert "meiner Mailbox" not in html
    assert "Sie dürfen meine Angaben für diesen Rückruf speichern." in html
