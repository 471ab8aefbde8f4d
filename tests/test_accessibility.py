"""Accessibility statement (BITV 2.0), its feedback form and the admins' list, Leichte Sprache."""

from datetime import datetime, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.accessibility.models import AccessibilityFeedback, FeedbackState
from booking.accessibility.services import ERASED
from booking.audit.models import AuditEvent
from booking.auth.models import Role
from booking.callbacks.due import BERLIN
from booking.extensions import db
from booking.notify.models import OutboxMessage
from booking.privacy.services import purge_personal_data

NOW = datetime(2027, 3, 25, 10, 30, tzinfo=BERLIN)
URL = "/accessibility"


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


def form(**values):
    data = {
        "message": "Die Zeiten lassen sich mit dem Screenreader nicht auswählen.",
        "page": "/book/beratung-35a",
        "name": "Frau Berger",
        "contact": "berger@example.org",
        "website": "",
        "form_key": "key-1",
    }
    data.update(values)
    return data


def feedback_rows() -> list[AccessibilityFeedback]:
    return list(
        db.session.scalars(select(AccessibilityFeedback).order_by(AccessibilityFeedback.id))
    )


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_the_statement_has_status_gaps_dates_contact_and_enforcement_body(app_factory):
    app = app_factory(
        ACCESSIBILITY_CONTACT_EMAIL="barrierefrei@duesseldorf.example",
        ACCESSIBILITY_CONTACT_PHONE="0211 899-0",
        ACCESSIBILITY_STATEMENT_PREPARED="2026-11-25",
        ACCESSIBILITY_STATEMENT_REVIEWED="2027-02-01",
    )
    html = app.test_client().get(URL).get_data(as_text=True)
    assert "<h1>Erklärung zur Barrierefreiheit</h1>" in html
    assert "teilweise barrierefrei" in html
    assert "Gebärdensprache" in html  # a known gap, named honestly
    assert "25. November 2026" in html and "1. Februar 2027" in html
    assert 'href="mailto:barrierefrei@duesseldorf.example"' in html
    assert 'href="tel:0211899-0"' in html
    assert (
        "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen" in html
    )
    assert "Fürstenwall 25" in html
    assert "<script" not in html and 'class="honeypot"' in html


def test_the_statement_without_a_contact_shows_only_the_form(client):
    html = client.get(URL).get_data(as_text=True)
    assert "mailto:barrierefrei" not in html
    assert 'id="feedback-form"' in html


def test_every_public_page_links_the_statement_and_leichte_sprache(client):
    html = client.get("/").get_data(as_text=True)
    assert 'href="/accessibility?page=/"' in html
    assert 'href="/easy-read"' in html and ">Leichte Sprache</a>" in html
    html = client.get("/book").get_data(as_text=True)
    assert 'href="/accessibility?page=/book"' in html
    assert html.count('href="/easy-read"') == 2  # the footer and the office list


def test_the_page_hint_never_carries_a_manage_token(app):
    from booking.public.accessibility import page_hint

    assert page_hint("/manage/abcdefghijklmnop/cancel") == "/manage/…/cancel"
    assert page_hint("/book/beratung-35a") == "/book/beratung-35a"


def test_the_page_is_filled_in_from_the_link(client):
    html = client.get(URL + "?page=/book/beratung-35a").get_data(as_text=True)
    assert 'value="/book/beratung-35a"' in html


def test_feedback_is_kept_sent_to_the_admins_and_answered_after_a_redirect(client, make_staff):
    admin = make_staff(Role.ADMIN, email="admin@example.org")
    make_staff(Role.ADMIN, email="former@example.org", active=False)
    make_staff(Role.CASEWORKER, email="k@example.org")
    response = client.post(URL, data=form())
    assert response.status_code == 303 and response.location.endswith("/accessibility/thanks")
    thanks = client.get(response.location).get_data(as_text=True)
    assert "Danke für Ihre Nachricht" in thanks
    [entry] = feedback_rows()
    assert entry.state == FeedbackState.NEW and entry.name == "Frau Berger"
    assert entry.contact == "berger@example.org" and entry.page == "/book/beratung-35a"
    [message] = db.session.scalars(select(OutboxMessage)).all()
    assert message.recipient == admin.email and message.kind == "accessibility_feedback"
    assert "Screenreader" in message.body_text and "berger@example.org" in message.body_text
    assert f"/admin/feedback/{entry.id}" in message.body_text
    # A second submit of the same form (double click, back button) sends nothing more.
    assert client.post(URL, data=form()).status_code == 303
    assert len(feedback_rows()) == 1


def test_the_configured_contact_gets_the_message_instead_of_the_admins(app_factory, make_staff):
    app = app_factory(ACCESSIBILITY_CONTACT_EMAIL="barrierefrei@duesseldorf.example")
    make_staff(Role.ADMIN, email="admin@example.org")
    assert app.test_client().post(URL, data=form(name="", contact="")).status_code == 303
    assert db.session.scalars(select(OutboxMessage.recipient)).all() == [
        "barrierefrei@duesseldorf.example"
    ]
    [entry] = feedback_rows()
    assert entry.name is None and entry.contact is None


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"message": ""}, "Bitte beschreiben Sie das Problem."),
        ({"message": "x" * 2001}, "Bitte schreiben Sie höchstens 2000 Zeichen."),
        ({"contact": "keine-adresse@"}, "Bitte geben Sie eine gültige E-Mail-Adresse ein."),
        ({"contact": "abc"}, "gültige E-Mail-Adresse oder Telefonnummer"),
    ],
)
def test_bad_input_is_explained_and_kept(client, values, message):
    response = client.post(URL, data=form(**values))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html
    assert 'value="Frau Berger"' in html
    assert feedback_rows() == []


def test_a_phone_number_is_a_way_to_answer(client):
    assert client.post(URL, data=form(contact="0211 123456")).status_code == 303
    assert feedback_rows()[0].contact == "0211 123456"


def test_the_honeypot_refuses_and_is_audited(client):
    response = client.post(URL, data=form(website="https://spam.example"))
    assert response.status_code == 422
    assert feedback_rows() == []
    assert "accessibility_feedback.refused" in audit_actions()


def test_the_language_switch_shows_the_form_again_and_sends_nothing(client):
    response = client.post(URL + "?lang=en", data=form(switch_language="en"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Accessibility statement" in html
    assert "Screenreader" in html  # what was typed stays
    assert feedback_rows() == []


def test_posting_is_rate_limited_like_booking(client):
    statuses = [client.post(URL, data=form(message="")).status_code for _ in range(11)]
    assert statuses[:10] == [422] * 10 and statuses[10] == 429


def test_admins_list_read_and_answer_feedback_and_every_view_is_audited(client, auth, make_staff):
    admin = make_staff(Role.ADMIN, email="admin@example.org")
    client.post(URL, data=form())
    [entry] = feedback_rows()
    auth.login(admin.email)
    listing = client.get("/admin/feedback/").get_data(as_text=True)
    assert f'href="/admin/feedback/{entry.id}"' in listing and "/book/beratung-35a" in listing
    assert "Screenreader" not in listing  # the message only on its own, audited page
    detail = client.get(f"/admin/feedback/{entry.id}").get_data(as_text=True)
    assert "Screenreader" in detail and "berger@example.org" in detail
    response = client.post(f"/admin/feedback/{entry.id}/state", data={"state": "answered"})
    assert response.status_code == 303
    db.session.refresh(entry)
    assert entry.state == FeedbackState.ANSWERED and entry.answered_by_id == admin.id
    assert "neu (0)" in client.get("/admin/feedback/").get_data(as_text=True)
    actions = audit_actions()
    for action in ("listed", "viewed", "answered"):
        assert f"accessibility_feedback.{action}" in actions


def test_only_admins_see_feedback(client, auth, make_staff):
    client.post(URL, data=form())
    [entry] = feedback_rows()
    worker = make_staff(Role.CASEWORKER)
    assert client.get("/admin/feedback/").status_code in (302, 303)
    auth.login(worker.email)
    assert client.get("/admin/feedback/").status_code == 403
    assert client.get(f"/admin/feedback/{entry.id}").status_code == 403
    assert (
        client.post(f"/admin/feedback/{entry.id}/state", data={"state": "answered"}).status_code
        == 403
    )


def test_the_purge_erases_feedback_after_the_retention(app, clock):
    from booking.accessibility.services import Feedback, submit_feedback

    old = submit_feedback(Feedback("alt", "Name", "a@example.org", "/"), NOW - timedelta(days=181))
    new = submit_feedback(Feedback("neu", "Name", "b@example.org", "/"), NOW - timedelta(days=179))
    db.session.commit()
    report = purge_personal_data(NOW)
    db.session.commit()
    assert report.feedback == 1
    db.session.refresh(old)
    db.session.refresh(new)
    assert (old.message, old.name, old.contact, old.page) == (ERASED, None, None, None)
    assert old.purged_at is not None and old.created_at is not None
    assert (new.message, new.contact) == ("neu", "b@example.org")
    assert purge_personal_data(NOW).feedback == 0  # twice changes nothing more


def test_the_retention_is_configurable(app_factory):
    app = app_factory(ACCESSIBILITY_FEEDBACK_RETENTION_DAYS=30)
    from booking.accessibility.services import Feedback, submit_feedback

    with app.app_context():
        submit_feedback(Feedback("alt"), NOW - timedelta(days=31))
        db.session.commit()
        assert purge_personal_data(NOW).feedback == 1
        db.session.commit()
        html = app.test_client().get(URL).get_data(as_text=True)
        assert "30 Tage" in html


def test_leichte_sprache_in_german_and_easy_to_read_english(client):
    html = client.get("/easy-read").get_data(as_text=True)
    assert 'class="easy-read-label">Leichte Sprache<' in html
    assert "Termin-Buchung" in html
    assert "Drücken Sie auf den Knopf: Diesen Termin buchen" in html  # the button's real name
    assert "<script" not in html
    english = client.get("/easy-read?lang=en").get_data(as_text=True)
    assert 'class="easy-read-label">Easy to read<' in english
    assert "Press the button: Book this appointment" in english


def test_feedback_count_stays_anonymous_after_purge(app):
    from booking.accessibility.services import Feedback, submit_feedback

    submit_feedback(Feedback("alt", "Name"), NOW - timedelta(days=400))
    purge_personal_data(NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(AccessibilityFeedback)) == 1


def test_the_statement_tells_the_truth_about_the_waiting_screen(client, monkeypatch):
    from booking.waiting import DISPLAY_REFRESH_SECONDS

    html = client.get(URL).get_data(as_text=True)
    assert (
        f"alle {DISPLAY_REFRESH_SECONDS} Sekunden neu. Ein Link auf der Anzeige hält das an" in html
    )
    assert "keinen Knopf" not in html
    gaps = html.split('id="gaps"')[1].split("</ul>")[0]
    assert "Wartebereich" not in gaps  # the screen can be stopped: no longer a gap
    monkeypatch.setattr("booking.public.accessibility.DISPLAY_REFRESH_SECONDS", 15)
    assert "alle 15 Sekunden" in client.get(URL).get_data(as_text=True)
