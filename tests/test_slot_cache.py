"""Cached slot inputs: served while nothing changed, never after a change in any process."""

from datetime import UTC, date, datetime, time

import pytest
from freezegun import freeze_time
from sqlalchemy import select, update

from booking.appointments.booking import book_appointment, check_family_details
from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import StaffUser
from booking.extensions import db
from booking.offices.models import Service
from booking.schedule.inputs_cache import InputsCache
from booking.schedule.models import Absence, AbsenceKind, Closure, ScheduleVersion, WeeklyHours
from booking.schedule.services import find_free_slots
from tests.conftest import PASSWORD

NOW = datetime(2027, 3, 1, 8, tzinfo=UTC)  # a Monday; the service's day is Thursday
THURSDAY = date(2027, 3, 4)


def starts(service) -> list[datetime]:
    return [s.start for s in find_free_slots(service, THURSDAY, THURSDAY, NOW)]


def cache(app) -> InputsCache:
    return app.extensions["slot_inputs_cache"]


@pytest.fixture
def family():
    return check_family_details("Familie Yilmaz", "yilmaz@example.org", None, "de", False, "")


def fresh(service_id: int) -> Service:
    db.session.commit()  # a new transaction, as a new request has
    return db.session.get(Service, service_id)


def test_unchanged_inputs_come_from_the_cache(app, bookable_service):
    first = starts(bookable_service)
    assert len(first) == 3
    hits = cache(app).hits
    assert starts(fresh(bookable_service.id)) == first
    assert cache(app).hits == hits + 2  # who works when, and the busy times


def test_a_booking_hides_its_time_at_once(app, bookable_service, family):
    first = starts(bookable_service)
    book_appointment(bookable_service, first[0], family, NOW)
    # In the booking's own transaction: read afresh, never from the cache.
    assert first[0] not in starts(bookable_service)
    db.session.commit()
    assert starts(fresh(bookable_service.id)) == first[1:]


def test_a_rolled_back_booking_changes_nothing(app, bookable_service, family):
    first = starts(bookable_service)
    version = db.session.get(Service, bookable_service.id).slots_version
    book_appointment(bookable_service, first[0], family, NOW)
    db.session.rollback()
    service = fresh(bookable_service.id)
    db.session.refresh(service)
    assert service.slots_version == version
    assert starts(service) == first


@pytest.mark.parametrize(
    "change", ["absence", "closure", "hours", "inactive", "unassigned", "bulk_cancel"]
)
def test_every_kind_of_change_reaches_the_next_request(app, bookable_service, family, change):
    first = starts(bookable_service)
    staff = db.session.scalar(select(StaffUser))
    if change == "absence":
        db.session.add(
            Absence(
                staff_id=staff.id,
                kind=AbsenceKind.TRAINING,
                starts_at=datetime(2027, 3, 4, 7, tzinfo=UTC),
                ends_at=datetime(2027, 3, 4, 9, tzinfo=UTC),
            )
        )
        expected = first[1:] if len(first) > 1 else []
    elif change == "closure":
        db.session.add(Closure(first_day=THURSDAY, last_day=THURSDAY, reason="Betriebsausflug"))
        expected = []
    elif change == "hours":
        hours = db.session.scalar(select(WeeklyHours))
        hours.end_time = time(11)
        expected = first[:2]
    elif change == "inactive":
        staff.active = False
        expected = []
    elif change == "unassigned":  # a change of the caseworker's services (a collection)
        staff.services = []
        expected = []
    else:  # a bulk statement, as a purge or a script might run
        book_appointment(bookable_service, first[0], family, NOW)
        db.session.commit()
        assert starts(fresh(bookable_service.id)) == first[1:]
        db.session.execute(update(Appointment).values(status=AppointmentStatus.CANCELLED))
        expected = first
    db.session.commit()
    assert starts(fresh(bookable_service.id)) == expected


def test_a_change_in_another_worker_is_seen(app_factory, bookable_service, family):
    """Two apps on one database stand for two workers, each with its own cache."""
    other = app_factory()
    first = starts(bookable_service)
    with other.app_context():
        service = db.session.get(Service, bookable_service.id)
        assert [s.start for s in find_free_slots(service, THURSDAY, THURSDAY, NOW)] == first
        book_appointment(service, first[1], family, NOW)
        db.session.commit()
    assert starts(fresh(bookable_service.id)) == [first[0], first[2]]


def test_entries_expire(app, bookable_service):
    starts(bookable_service)
    misses = cache(app).misses
    key = next(iter(cache(app).entries))
    stamp, value = cache(app).entries[key]
    cache(app).entries[key] = (stamp - 61, value)
    starts(fresh(bookable_service.id))
    assert cache(app).misses == misses + 1


def test_off_when_configured(app_factory, bookable_service):
    other = app_factory(SLOT_CACHE_SECONDS=0)
    with other.app_context():
        service = db.session.get(Service, bookable_service.id)
        assert len(find_free_slots(service, THURSDAY, THURSDAY, NOW)) == 3
        assert "slot_inputs_cache" not in other.extensions


def test_a_staff_login_changes_no_version_and_runs_no_waiting_list_round(
    app, auth, bookable_service, monkeypatch
):
    """Logging in writes last_login_at: no slot depends on it, so every worker's cache stays
    and no waiting-list round runs (it did both for every login)."""
    from booking.waitlist import services as waitlist

    rounds = []
    monkeypatch.setattr(waitlist, "process_waitlist", lambda *a, **k: rounds.append(a))
    staff = db.session.scalar(select(StaffUser))
    before = db.session.scalar(select(ScheduleVersion.version))
    response = auth.login(staff.email)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.scalar(select(StaffUser.last_login_at).where(StaffUser.id == staff.id))
    assert db.session.scalar(select(ScheduleVersion.version)) == before
    assert rounds == []


def test_the_versions_rise_in_the_database(app, bookable_service, family):
    before = db.session.scalar(select(ScheduleVersion.version))
    db.session.add(Closure(first_day=THURSDAY, last_day=THURSDAY, reason="Fortbildung"))
    db.session.commit()
    assert db.session.scalar(select(ScheduleVersion.version)) == before + 1


# The rendered slot page and the slots API


SLOT_PAGE = "/book/beratung-35a?week=2027-03-01"
SLOTS_API = "/api/v1/slots?service=beratung-35a&from=2027-03-04&to=2027-03-04"


@freeze_time(NOW)
def test_a_booking_elsewhere_leaves_no_stale_page_or_answer(app_factory, bookable_service, family):
    ours, other = app_factory(), app_factory()
    client = ours.test_client()
    page = client.get(SLOT_PAGE).get_data(as_text=True)
    api = client.get(SLOTS_API).get_json()
    assert len(api["slots"]) == 3 and "10:00" in page
    assert client.get(SLOTS_API).get_json() == api  # the same answer again, from the cache
    assert ours.extensions["page_cache"].hits >= 1
    with other.app_context():  # another worker books 10:00 (09:00 UTC)
        service = db.session.get(Service, bookable_service.id)
        book_appointment(service, datetime(2027, 3, 4, 9, tzinfo=UTC), family, NOW)
        db.session.commit()
    assert len(client.get(SLOTS_API).get_json()["slots"]) == 2
    assert "10:00" not in client.get(SLOT_PAGE).get_data(as_text=True)


@freeze_time(NOW)
def test_each_language_and_staff_get_their_own_page(app, bookable_service, make_staff):
    client = app.test_client()
    german = client.get(SLOT_PAGE).get_data(as_text=True)
    arabic = client.get(SLOT_PAGE + "&lang=ar").get_data(as_text=True)
    assert '<html lang="de">' in german and '<html lang="ar" dir="rtl">' in arabic
    staff = make_staff(name="Tarik Demir")
    staff_client = app.test_client()
    log_in(staff_client, staff.email)
    seen = staff_client.get(SLOT_PAGE + "&lang=de").get_data(as_text=True)
    assert "Tarik Demir" in seen  # the staff bar, not the anonymous page from the cache
    assert "Tarik Demir" not in app.test_client().get(SLOT_PAGE).get_data(as_text=True)


def log_in(client, email):
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302


@freeze_time(NOW)
def test_a_browser_that_has_the_page_gets_304(app, bookable_service, family):
    client = app.test_client()
    for path in (SLOT_PAGE, SLOTS_API):
        first = client.get(path)
        assert first.headers["Cache-Control"] == "private, no-cache" and first.headers["ETag"]
        again = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304 and again.data == b""
    db.session.add(Closure(first_day=THURSDAY, last_day=THURSDAY, reason="Betriebsausflug"))
    db.session.commit()
    changed = client.get(SLOTS_API, headers={"If-None-Match": first.headers["ETag"]})
    assert changed.status_code == 200 and changed.get_json()["slots"] == []


def test_bookings_of_one_service_do_not_wait_for_each_other(app, bookable_service, family):
    """The service's version rises at COMMIT: an open booking transaction holds no lock on the
    service row that a second booking of the same service would queue behind (PostgreSQL)."""
    from sqlalchemy import text
    from sqlalchemy.orm import Session as PlainSession

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time anyway")
    first, second = starts(bookable_service)[:2]
    staff_id = db.session.scalar(select(StaffUser.id))
    rows = []
    for start in (first, second):
        rows.append(
            dict(
                service_id=bookable_service.id,
                office_id=bookable_service.office_id,
                staff_id=staff_id,
                starts_at=start,
                ends_at=start + (second - first) / 2,
                busy_until=start + (second - first) / 2,
                status=AppointmentStatus.BOOKED,
                family_name="Familie Test",
            )
        )
    with PlainSession(db.engine) as one, PlainSession(db.engine) as two:
        one.add(Appointment(**rows[0]))
        one.flush()  # open, uncommitted: the bump has not run
        two.execute(text("SET LOCAL lock_timeout = '2s'"))
        two.add(Appointment(**rows[1]))
        two.flush()
        two.commit()  # would time out if `one` held the service row
        one.commit()
    version = db.session.scalar(
        select(Service.slots_version).where(Service.id == bookable_service.id)
    )
    assert version >= 2


def test_a_savepoint_rolled_back_keeps_the_bump_of_the_transaction(app, bookable_service, family):
    before = db.session.scalar(
        select(Service.slots_version).where(Service.id == bookable_service.id)
    )
    first = starts(bookable_service)[0]
    book_appointment(bookable_service, first, family, NOW)
    try:
        with db.session.begin_nested():
            db.session.execute(update(Appointment).values(family_note="x"))
            raise RuntimeError("undo the savepoint")
    except RuntimeError:
        pass
    db.session.commit()
    after = db.session.scalar(
        select(Service.slots_version).where(Service.id == bookable_service.id)
    )
    assert after == before + 1
    assert first not in starts(fresh(bookable_service.id))


# A transaction's own, uncommitted view must never be kept: its versions may be reused


def test_a_released_savepoint_keeps_the_booking_transaction_uncached(app, bookable_service, family):
    """book_appointment inserts inside begin_nested(); releasing that savepoint is no commit."""
    first = starts(bookable_service)
    book_appointment(bookable_service, first[0], family, NOW)
    assert starts(bookable_service) == first[1:]  # this transaction's own view
    db.session.rollback()  # the booking never happens
    assert starts(fresh(bookable_service.id)) == first


def test_unflushed_changes_are_never_cached(app, bookable_service, family):
    first = starts(bookable_service)
    db.session.add(Closure(first_day=THURSDAY, last_day=THURSDAY, reason="Betriebsausflug"))
    assert starts(bookable_service) == []  # this transaction's own view, not the cached one
    db.session.rollback()
    assert starts(fresh(bookable_service.id)) == first
    hours = db.session.scalar(select(WeeklyHours))
    hours.end_time = time(11)  # another change, committed, takes the same global version
    db.session.commit()
    assert starts(fresh(bookable_service.id)) == first[:2]


def test_a_service_switched_off_meanwhile_is_not_kept_bookable(app_factory, bookable_service):
    """PostgreSQL (READ COMMITTED): the service was read before another worker's change
    committed, the versions after it; the cache must not keep the old row's 'active'."""
    other = app_factory()
    assert starts(bookable_service)
    db.session.commit()
    service = db.session.get(Service, bookable_service.id)  # this request reads the service
    assert service.active
    with other.app_context():
        db.session.get(Service, bookable_service.id).active = False
        db.session.commit()
    starts(service)  # the versions read now are the new ones
    db.session.rollback()
    assert starts(fresh(bookable_service.id)) == []


@freeze_time(NOW)
def test_one_visitors_query_never_reaches_the_next(app, bookable_service):
    client = app.test_client()
    assert "newsletter-4711" in client.get(SLOT_PAGE + "&ref=newsletter-4711").get_data(True)
    assert "newsletter-4711" not in client.get(SLOT_PAGE).get_data(as_text=True)


def test_a_booking_in_another_service_of_the_caseworker_is_seen(
    app, bookable_service, make_service, family
):
    """The busy times are the caseworker's, whatever service booked them."""
    staff = db.session.scalar(select(StaffUser))
    other = make_service(bookable_service.office, minutes=45, buffer_minutes=15)
    staff.services = [bookable_service, other]
    db.session.commit()
    first = starts(fresh(bookable_service.id))
    book_appointment(other, first[0], family, NOW)
    db.session.commit()
    assert starts(fresh(bookable_service.id)) == first[1:]
