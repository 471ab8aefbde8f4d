"""A caseworker who speaks the family's language gets a pooled booking first."""

from datetime import time

import pytest

from booking.appointments.booking import book_appointment, check_family_details
from booking.auth.models import Role
from booking.extensions import db
from booking.schedule.engine import choose_caseworker, rank_caseworkers
from booking.schedule.models import WeeklyHours
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
