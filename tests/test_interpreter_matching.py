"""A caseworker who speaks the family's language gets a pooled booking first."""

import re
from datetime import time

import pytest
from freezegun import freeze_time

from booking.appointments.booking import book_appointment, check_family_details
from booking.auth.models import Role
from booking.extensions import db
from booking.schedule.engine import choose_caseworker, rank_caseworkers
from booking.schedule.models import WeeklyHours
from booking.schedule.services import qualified_caseworkers as service_caseworkers
from tests.test_slot_engine import DB_NOW, TEN, local

LANGUAGES = {1: ["de"], 2: ["de", "ar"], 3: ["de", "tr"], 4: ["de", "ar"]}


def test_a_speaker_of_the_language_comes_first_even_when_busier():
    assert choose_caseworker([1, 2, 3], {1: 0, 2: 5, 3: 0}, LANGUAGES, "ar") == 2
    assert choose_caseworker([1, 2, 3], {1: 4, 2: 0, 3: 5}, LANGUAGES, "tr") == 3


def test_without_a_speaker_the_least_booked_gets_it():
    assert choose_caseworker([1, 2, 3], {1: 2, 2: 1, 3: 3}, LANGUAGES, "uk") == 2
    assert choose_caseworker([1, 2, 3], {1: 2, 2: 1, 3: 3}) == 2
    # German: everyone speaks it, so the load decides as before.
    assert choose_caseworker([1, 2, 3], {1: 2, 2: 1, 3: 3}, LANGUAGES, "de") == 2


def test_among_speakers_the_least_booked_then_the_lowest_id():
    assert rank_caseworkers([4, 1, 2, 3], {2: 1, 4: 0}, LANGUAGES, "ar") == [4, 2, 1, 3]
    assert rank_caseworkers([4, 1, 2, 3], {}, LANGUAGES, "ar") == [2, 4, 1, 3]
    assert rank_caseworkers([3, 1, 2], {}, {}, "ar") == [1, 2, 3]


@pytest.fixture
def pooled(bookable_service, make_staff):
    """A second caseworker at the same service and hours, who speaks Arabic."""
    office = bookable_service.office
    speaker = make_staff(Role.CASEWORKER, offices=[office], name="Layla Haddad")
    speaker.services = [bookable_service]
    speaker.language_codes = ["de", "ar"]
    db.session.add(
        WeeklyHours(
            staff_id=speaker.id,
            office_id=office.id,
            weekday=3,
            start_time=time(9),
            end_time=time(12),
        )
    )
    db.session.commit()
    return bookable_service, speaker


def family(n: int, language: str):
    return check_family_details(f"Familie {n}", f"f{n}@example.org", None, language, True, "")


def test_booking_goes_to_the_speaker_though_busier(app, pooled):
    service, speaker = pooled
    # The speaker already has one appointment that day; the other caseworker none.
    first = book_appointment(service, local(2027, 3, 4, 9), family(1, "ar"), DB_NOW)
    assert first.appointment.staff_id == speaker.id
    second = book_appointment(service, TEN, family(2, "ar"), DB_NOW)
    assert second.appointment.staff_id == speaker.id


def test_other_languages_go_to_the_least_booked(app, pooled):
    service, speaker = pooled
    book_appointment(service, local(2027, 3, 4, 9), family(1, "ar"), DB_NOW)
    other = book_appointment(service, TEN, family(2, "uk"), DB_NOW)
    assert other.appointment.staff_id != speaker.id


@freeze_time("2027-03-01 07:00:00")
def test_desk_shows_which_caseworker_speaks_which_language(client, auth, pooled, make_staff):
    service, speaker = pooled
    service_staff = next(u for u in service_caseworkers(service) if u.id != speaker.id)
    service_staff.language_codes = ["de", "tr"]
    db.session.commit()
    reception = make_staff(Role.RECEPTION, offices=[service.office], name="Birgit Empfang")
    auth.login(reception.email)
    html = client.get("/desk/book/beratung-35a").get_data(as_text=True)
    options = re.search(r'<select[^>]*name="staff".*?</select>', html, re.S).group(0)
    assert f'<option value="{speaker.id}">Layla Haddad (Arabisch, Deutsch)</option>' in options
    assert "Katrin Becker (Deutsch, Türkisch)</option>" in options
    table = re.search(r'<table class="caseworker-languages".*?</table>', html, re.S).group(0)
    assert '<th scope="row">Layla Haddad</th><td>Arabisch, Deutsch</td>' in table
    assert '<th scope="row">Katrin Becker</th><td>Deutsch, Türkisch</td>' in table


def test_staff_views_show_language_and_interpreter_badges(client, auth, pooled):
    service, speaker = pooled
    booking = book_appointment(service, TEN, family(1, "ar"), DB_NOW)
    db.session.commit()
    auth.login(speaker.email)
    html = client.get(f"/appointments/{booking.appointment.id}").get_data(as_text=True)
    assert '<span class="badge badge-language">Arabisch</span>' in html
    assert '<span class="badge badge-interpreter">Dolmetschung nötig</span>' in html
    assert "(Layla Haddad spricht diese Sprache)" in html
    day = client.get("/calendar/me?day=2027-03-04").get_data(as_text=True)
    assert '<span class="badge badge-language">Arabisch</span>' in day
    assert '<span class="badge badge-interpreter">Dolmetschung nötig</span>' in day


def test_the_least_booked_that_day_gets_it_though_a_higher_id(app, pooled):
    """Ranked by the day's appointments before the id: the first caseworker (lowest id) has
    one that day, so the next family, whose language nobody speaks, goes to the other."""
    service, speaker = pooled
    first = book_appointment(service, local(2027, 3, 4, 9), family(1, "uk"), DB_NOW)
    assert first.appointment.staff_id < speaker.id
    other = book_appointment(service, TEN, family(2, "uk"), DB_NOW)
    assert other.appointment.staff_id == speaker.id


def test_the_least_booked_gets_it_when_the_busy_time_comes_from_the_cache(app, pooled, monkeypatch):
    """A day's slots read just before (the one-day slot answer is cached) give the booking its
    busy time without the day's load: the load is then read on its own, and still decides."""
    from booking.schedule import services

    service, speaker = pooled
    first = book_appointment(service, local(2027, 3, 4, 9), family(1, "uk"), DB_NOW)
    db.session.commit()
    assert first.appointment.staff_id < speaker.id
    day = local(2027, 3, 4, 9).date()
    services.find_free_slots(service, day, day, DB_NOW)  # fills the cache for that day
    db.session.commit()
    read_together = []
    real = services._busy_and_day_load
    monkeypatch.setattr(
        services, "_busy_and_day_load", lambda *a: read_together.append(a) or real(*a)
    )
    other = book_appointment(service, TEN, family(2, "uk"), DB_NOW)
    assert read_together == []  # the cached busy time was used
    assert other.appointment.staff_id == speaker.id
