"""The queue's pages: reception's list and forms, call next, served and left (PRG, labels,
audit, access across offices), the waiting-room screen (public, no personal data, refreshes
itself) and the waiting status on the office's public page."""

import re
from datetime import timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.audit.models import AuditEvent
from booking.extensions import db
from booking.waiting.models import QueueEntry, QueueState, waiting_number
from booking.waiting.services import call_entry, call_next, check_in_appointment, serve_entry
from tests.test_waiting_queue import NOW, berlin, book, make_queue, walk_in

LONG = timedelta(days=3650)


@pytest.fixture(autouse=True)
def clock():
    with freeze_time(NOW) as frozen:
        yield frozen


@pytest.fixture
def app(app_factory):
    app = app_factory(
        STAFF_IDLE_TIMEOUT=LONG, STAFF_ABSOLUTE_TIMEOUT=LONG, PERMANENT_SESSION_LIFETIME=LONG
    )
    with app.app_context():
        yield app


@pytest.fixture
def queue(make_office, make_service, make_staff):
    return make_queue(make_office, make_service, make_staff)


def login(client, user):
    response = client.post(
        "/login", data={"email": user.email, "password": "correct horse battery"}
    )
    assert response.status_code == 302, response.text
    return user


def url(queue, tail=""):
    return f"/queue/{queue['office'].slug}{tail}"


def audit_actions() -> list[str]:
    db.session.commit()
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_staff_of_the_office_see_the_queue_and_the_view_is_audited(client, queue):
    walk_in(queue, name="Zeynep", note="Dolmetschung Türkisch")
    login(client, queue["reception"])
    page = client.get(url(queue))
    assert page.status_code == 200
    text = page.text
    assert "Warteschlange" in text
    assert waiting_number(queue["office"].id, 1) in text
    assert "Zeynep" in text and "Dolmetschung Türkisch" in text
    assert "ohne Termin" in text  # a label, not the code walk_in
    assert "walk_in" not in text
    assert "queue.viewed" in audit_actions()


def test_staff_of_other_offices_get_403_and_strangers_log_in(client, queue):
    entry = walk_in(queue)
    assert client.get(url(queue)).status_code == 302  # to the login
    login(client, queue["stranger"])
    assert client.get(url(queue)).status_code == 403
    for tail in ("/walk-in", "/appointment", "/call", f"/entries/{entry.id}/left"):
        assert client.post(url(queue, tail), data={"call-place": "Raum 1"}).status_code == 403
    assert client.get("/queue/no-such-office").status_code == 404
    db.session.commit()
    assert db.session.get(QueueEntry, entry.id).state == QueueState.WAITING


def test_caseworkers_and_admins_of_the_office_may_too(client, queue):
    login(client, queue["caseworker"])
    assert client.get(url(queue)).status_code == 200
    client.post("/logout")
    login(client, queue["admin"])
    assert client.get(url(queue)).status_code == 200
    assert client.get("/queue/").status_code == 200  # admins choose among all offices


def test_queue_index_leads_to_the_only_office(client, queue):
    login(client, queue["reception"])
    response = client.get("/queue/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url(queue))


def test_walk_in_check_in_redirects_and_shows_the_number(client, queue):
    login(client, queue["reception"])
    response = client.post(url(queue, "/walk-in"), data={"walkin-name": "Ayşe K."})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url(queue))
    page = client.get(url(queue))
    number = waiting_number(queue["office"].id, 1)
    assert f"Angemeldet: Wartenummer {number}." in page.text
    db.session.commit()
    entry = db.session.scalar(select(QueueEntry))
    assert (entry.name, entry.checked_in_by_id) == ("Ayşe K.", queue["reception"].id)
    assert "queue.checked_in" in audit_actions()


def test_walk_in_outside_the_hours_is_refused_and_keeps_what_was_typed(client, queue, clock):
    login(client, queue["reception"])
    clock.move_to(berlin(2027, 3, 4, 13, 0))
    response = client.post(
        url(queue, "/walk-in"), data={"walkin-name": "Ayşe", "walkin-note": "mit Kind"}
    )
    assert response.status_code == 422
    assert "gerade keine offene Sprechstunde" in response.text
    assert 'value="Ayşe"' in response.text and 'value="mit Kind"' in response.text
    assert db.session.scalar(select(QueueEntry)) is None


def test_too_long_name_gets_a_message_and_focus(client, queue):
    login(client, queue["reception"])
    response = client.post(url(queue, "/walk-in"), data={"walkin-name": "x" * 41})
    assert response.status_code == 422
    assert "Höchstens 40 Zeichen" in response.text
    assert re.search(r'<input[^>]* autofocus [^>]*id="walkin-name"', response.text)
    assert response.text.count("autofocus") == 1


def test_appointment_check_in_by_reference(client, queue):
    appointment = book(queue, berlin(2027, 3, 4, 10, 30))
    reference = appointment.reference
    login(client, queue["reception"])
    response = client.post(url(queue, "/appointment"), data={"appt-reference": "XXXXXXXX"})
    assert response.status_code == 422
    assert "keinen Termin mit dieser Vorgangsnummer" in response.text
    assert 'value="XXXXXXXX"' in response.text
    response = client.post(url(queue, "/appointment"), data={"appt-reference": reference.lower()})
    assert response.status_code == 303
    page = client.get(url(queue))
    assert "Termin um 10:30 angemeldet" in page.text
    assert "Termin 10:30" in page.text


def test_call_next_needs_a_place_then_calls_and_remembers_it(client, queue):
    first, second = walk_in(queue, name="Erste"), walk_in(queue, name="Zweite")
    login(client, queue["caseworker"])
    response = client.post(url(queue, "/call"), data={"call-place": ""})
    assert response.status_code == 422
    assert "wohin die Person kommen soll" in response.text
    response = client.post(url(queue, "/call"), data={"call-place": "Raum 2.14"})
    assert response.status_code == 303
    page = client.get(url(queue))
    assert f"{first.display_number} ist aufgerufen: Raum 2.14." in page.text
    assert 'value="Raum 2.14"' in page.text  # kept for the next call
    # A row's button calls that one, out of order.
    third = walk_in(queue)
    response = client.post(url(queue, "/call"), data={"call-place": "Raum 2.14", "entry": third.id})
    assert response.status_code == 303
    db.session.commit()
    states = {e.id: e.state for e in db.session.scalars(select(QueueEntry))}
    assert states == {
        first.id: QueueState.CALLED,
        second.id: QueueState.WAITING,
        third.id: QueueState.CALLED,
    }
    assert audit_actions().count("queue.called") == 2


def test_call_refusals_are_shown_after_a_redirect(client, queue):
    entry = walk_in(queue)
    call_entry(entry, queue["colleague"], "Raum 3", NOW)
    db.session.commit()
    login(client, queue["caseworker"])
    response = client.post(url(queue, "/call"), data={"call-place": "Raum 1", "entry": entry.id})
    assert response.status_code == 303
    assert "wartet nicht mehr" in client.get(url(queue)).text
    response = client.post(url(queue, "/call"), data={"call-place": "Raum 1"})
    assert response.status_code == 303
    assert "Niemand wartet gerade auf Sie." in client.get(url(queue)).text


def test_entries_of_another_office_or_bad_ids_are_not_found(client, queue):
    elsewhere = walk_in(queue, office=queue["other"], actor=queue["admin"])
    login(client, queue["reception"])
    for entry in (elsewhere.id, "abc", "9" * 30, 10**6):
        response = client.post(url(queue, "/call"), data={"call-place": "Raum 1", "entry": entry})
        assert response.status_code == 404, entry
    assert client.post(url(queue, f"/entries/{elsewhere.id}/left")).status_code == 404
    assert client.post(url(queue, "/entries/999999/served")).status_code == 404


def test_served_and_left_buttons(client, queue):
    called, waiting = walk_in(queue), walk_in(queue)
    call_entry(called, queue["caseworker"], "Raum 1", NOW)
    db.session.commit()
    login(client, queue["caseworker"])
    assert client.post(url(queue, f"/entries/{waiting.id}/served")).status_code == 303
    assert "Nur aufgerufene Personen" in client.get(url(queue)).text
    assert client.post(url(queue, f"/entries/{called.id}/served")).status_code == 303
    assert client.post(url(queue, f"/entries/{waiting.id}/left")).status_code == 303
    page = client.get(url(queue)).text
    assert f"{waiting.display_number}: hat die Warteschlange verlassen." in page
    assert "Heute erledigt" in page and "bedient" in page and "gegangen" in page
    db.session.commit()
    assert db.session.get(QueueEntry, called.id).state == QueueState.SERVED
    assert db.session.get(QueueEntry, waiting.id).state == QueueState.LEFT
    assert {"queue.served", "queue.left"} <= set(audit_actions())


# The waiting-room screen


def test_display_shows_called_numbers_and_places_and_no_personal_data(client, queue):
    names = ["Zeynep", "Mehmet Y.", "Ольга"]
    notes = ["Dolmetschung Türkisch", "Rollstuhl", "Wohnungssuche"]
    entries = [walk_in(queue, name=n, note=note) for n, note in zip(names, notes, strict=True)]
    appointment = book(queue, berlin(2027, 3, 4, 10, 0), name="Familie Kowalczyk")
    check_in_appointment(queue["office"], appointment.reference, queue["reception"], NOW)
    db.session.commit()
    for place in ("Raum 2.14", "Raum 3"):
        call_next(queue["office"], queue["reception"], place, NOW)
        db.session.commit()
    call_entry(entries[2], queue["caseworker"], "Schalter 1", NOW + timedelta(minutes=1))
    db.session.commit()
    response = client.get(f"/offices/{queue['office'].slug}/display")  # no login
    assert response.status_code == 200
    text = response.text
    assert '<meta http-equiv="refresh" content="10">' in text
    assert "<script" not in text
    assert "Jetzt aufgerufen" in text
    assert entries[2].display_number in text and "Schalter 1" in text  # the latest call
    assert "Raum 2.14" in text and "Raum 3" in text
    for secret in (*names, *notes, "Kowalczyk", appointment.reference, queue["caseworker"].name):
        assert secret not in text, secret
    assert "1 Person wartet." in text


def test_display_of_an_unknown_or_inactive_office_is_not_found(client, queue):
    assert client.get("/offices/no-such-office/display").status_code == 404
    queue["other"].active = False
    db.session.commit()
    assert client.get(f"/offices/{queue['other'].slug}/display").status_code == 404


def test_display_outside_the_hours_says_so(client, queue, clock):
    clock.move_to(berlin(2027, 3, 4, 13, 0))
    text = client.get(f"/offices/{queue['office'].slug}/display").text
    assert "Gerade keine offene Sprechstunde." in text


# The office's public page


def test_office_page_shows_waiting_count_and_estimate_during_the_hours(client, queue, clock):
    served = walk_in(queue, now=NOW - timedelta(minutes=50))
    call_entry(served, queue["caseworker"], "Raum 1", NOW - timedelta(minutes=40))
    serve_entry(served, queue["caseworker"], NOW - timedelta(minutes=20))
    for _ in range(3):
        walk_in(queue, name="Geheim")
    db.session.commit()
    text = client.get(f"/offices/{queue['office'].slug}").text
    assert "Jetzt geöffnet, bis 12:00" in text
    assert "3 Personen warten." in text
    # 20 minutes per person, 3 waiting, 2 caseworkers on duty: 30 minutes.
    assert "Geschätzte Wartezeit: etwa 30 Minuten." in text
    assert "Geheim" not in text
    clock.move_to(berlin(2027, 3, 4, 12, 0))
    text = client.get(f"/offices/{queue['office'].slug}").text
    assert "Jetzt geöffnet" not in text and "warten" not in text


def test_the_desk_and_the_staff_start_page_link_to_the_queue(client, queue):
    login(client, queue["reception"])
    assert f'href="{url(queue)}"' in client.get("/staff/").text
    assert 'href="/queue/"' in client.get("/desk/").text
    assert client.get("/queue/", follow_redirects=True).status_code == 200


@pytest.mark.parametrize("who", ["reception", "caseworker"])
def test_the_staff_navigation_leads_to_the_waiting_queue(client, queue, who):
    login(client, queue[who])
    html = client.get("/callbacks/", follow_redirects=True).get_data(as_text=True)
    nav = html.split('aria-label="Navigation für Mitarbeitende"')[1].split("</nav>")[0]
    assert '<a href="/queue/">Warteschlange</a>' in nav
    assert client.get("/queue/", follow_redirects=True).status_code == 200


def test_every_page_showing_the_queue_is_audited_also_after_a_refused_action(client, queue):
    """The list shows first names and notes: the page answering a refused call (422) shows it
    too and is audited like the list itself, with the office's id and no name or note."""
    walk_in(queue, name="Zeynep", note="Dolmetschung Türkisch")
    login(client, queue["caseworker"])
    refused = client.post(url(queue, "/call"), data={"call-place": ""})
    assert refused.status_code == 422 and "Zeynep" in refused.text
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "queue.viewed")).all()
    assert [(e.actor_id, e.object_id) for e in events] == [
        (queue["caseworker"].id, str(queue["office"].id))
    ]
    assert "Zeynep" not in (events[0].detail or "") and "Türkisch" not in (events[0].detail or "")
    client.get(url(queue))
    assert audit_actions().count("queue.viewed") == 2
