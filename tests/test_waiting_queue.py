"""Walk-in queue: waiting numbers per office and Berlin day (database-enforced, concurrent),
check-in by reference, the call-next order, every transition and the illegal ones, the race
of two desks pressing "call next" at once, on SQLite and PostgreSQL."""

import threading
from datetime import UTC, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from booking.appointments.booking import book_appointment, check_family_details
from booking.auth.models import Role, StaffUser
from booking.core.exceptions import NotAllowed
from booking.core.transactions import begin_write
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.engine import BERLIN
from booking.schedule.models import Closure, ConsultationHours, WeeklyHours
from booking.waiting.models import (
    QueueCounter,
    QueueEntry,
    QueueError,
    QueueKind,
    QueueState,
    office_letter,
    waiting_number,
)
from booking.waiting.services import (
    _versioned,
    call_entry,
    call_next,
    call_order,
    check_in_appointment,
    check_in_walk_in,
    day_queue,
    leave_entry,
    place_of,
    serve_entry,
)

# Thursday, 4 March 2027, during the open consultation hours 09:00-12:00 (Berlin).
NOW = datetime(2027, 3, 4, 10, 0, tzinfo=BERLIN)


def berlin(*args) -> datetime:
    return datetime(*args, tzinfo=BERLIN)


def add_hours(office: Office, weekday: int, start: time, end: time, staff) -> None:
    row = ConsultationHours(
        office_id=office.id, weekday=weekday, start_time=start, end_time=end, staff=list(staff)
    )
    db.session.add(row)
    db.session.commit()


@pytest.fixture
def queue(make_office, make_service, make_staff):
    return make_queue(make_office, make_service, make_staff)


def make_queue(make_office, make_service, make_staff) -> dict:
    """Two offices with open hours on Thursdays 09-12; two caseworkers on duty at the first."""
    office = make_office(name="Welcome Point Ratinger Straße")
    other = make_office(name="Welcome Point Leopoldstraße")
    service = make_service(office, minutes=30)
    caseworker = make_staff(Role.CASEWORKER, offices=[office], name="A. Demir")
    colleague = make_staff(Role.CASEWORKER, offices=[office], name="R. Haddad")
    reception = make_staff(Role.RECEPTION, offices=[office])
    stranger = make_staff(Role.RECEPTION, offices=[other])
    admin = make_staff(Role.ADMIN)
    for user in (caseworker, colleague):
        user.services = [service]
        db.session.add(
            WeeklyHours(
                staff_id=user.id,
                office_id=office.id,
                weekday=3,
                start_time=time(8),
                end_time=time(16),
            )
        )
    add_hours(office, 3, time(9), time(12), [caseworker, colleague])
    add_hours(other, 3, time(9), time(12), [make_staff(Role.CASEWORKER, offices=[other])])
    return {
        "office": office,
        "other": other,
        "service": service,
        "caseworker": caseworker,
        "colleague": colleague,
        "reception": reception,
        "stranger": stranger,
        "admin": admin,
    }


def walk_in(queue, now=NOW, name="", note="", office=None, actor=None) -> QueueEntry:
    entry = check_in_walk_in(
        office or queue["office"], name, note, actor or queue["reception"], now
    )
    db.session.commit()
    return entry


def book(queue, start: datetime, staff: StaffUser | None = None, name="Familie Nowak"):
    email = f"family{start:%d%H%M}{staff and staff.id}@example.org"
    family = check_family_details(name, email, None, "de", False, "")
    booking = book_appointment(
        queue["service"], start, family, start - timedelta(days=3), staff_id=staff and staff.id
    )
    db.session.commit()
    return booking.appointment


# Numbering


def test_numbers_run_per_office_and_show_the_office_letter(queue):
    first, second = walk_in(queue), walk_in(queue)
    elsewhere = walk_in(queue, office=queue["other"], actor=queue["admin"])
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    letter = office_letter(queue["office"].id)
    assert first.display_number == f"{letter}-001"
    assert second.display_number == f"{letter}-002"
    assert office_letter(queue["other"].id) != letter
    assert first.day == NOW.date()


def test_letters_skip_i_and_o_and_stay_with_the_office():
    letters = [office_letter(office_id) for office_id in range(1, 25)]
    assert "I" not in letters and "O" not in letters
    assert len(set(letters)) == 24
    assert waiting_number(1, 17) == "A-017"
    assert waiting_number(25, 3) == "A-003"


def test_numbering_starts_again_at_midnight_berlin_not_utc(queue):
    office = queue["office"]
    # Hours across midnight: Wednesday 22:00-23:59 and Thursday 00:00-02:00 (Berlin).
    add_hours(office, 2, time(22), time(23, 59), [queue["caseworker"]])
    add_hours(office, 3, time(0), time(2), [queue["caseworker"]])
    before = walk_in(queue, now=berlin(2027, 3, 3, 23, 58))
    late = walk_in(queue, now=berlin(2027, 3, 3, 23, 58, 59))
    after = walk_in(queue, now=berlin(2027, 3, 4, 0, 1))
    # Both sides of Berlin's midnight fall on the same UTC day (3 March).
    assert before.checked_in_at.astimezone(UTC).date() == after.checked_in_at.astimezone(UTC).date()
    assert (before.number, late.number, after.number) == (1, 2, 1)
    assert (before.day, after.day) == (NOW.date() - timedelta(days=1), NOW.date())


def test_numbering_follows_the_berlin_day_in_summer_time(queue):
    office = queue["office"]
    add_hours(office, 0, time(22), time(23, 59), [queue["caseworker"]])
    add_hours(office, 1, time(0), time(2), [queue["caseworker"]])
    monday = walk_in(queue, now=datetime(2027, 7, 5, 21, 58, tzinfo=UTC))  # 23:58 CEST
    tuesday = walk_in(queue, now=datetime(2027, 7, 5, 22, 1, tzinfo=UTC))  # 00:01 CEST
    assert (monday.day.isoformat(), tuesday.day.isoformat()) == ("2027-07-05", "2027-07-06")
    assert (monday.number, tuesday.number) == (1, 1)


def test_the_database_refuses_a_second_entry_with_the_same_number(queue):
    entry = walk_in(queue)
    db.session.add(
        QueueEntry(
            office_id=entry.office_id,
            day=entry.day,
            number=entry.number,
            kind=QueueKind.WALK_IN,
            checked_in_at=NOW,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def check_in_in_new_context(app, office_id: int, actor_id: int, n: int) -> str:
    with app.app_context():
        try:
            office = db.session.get(Office, office_id)
            actor = db.session.get(StaffUser, actor_id)
            entry = check_in_walk_in(office, f"Gast {n}", "", actor, NOW)
            db.session.commit()
            return str(entry.number)
        except Exception as error:  # the test reports anything else as a failure
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def run_threads(target, count: int) -> list[str]:
    results = [""] * count
    barrier = threading.Barrier(count)

    def worker(index):
        barrier.wait()
        results[index] = target(index)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_concurrent_check_ins_get_distinct_numbers(app, queue):
    office_id, actor_id = queue["office"].id, queue["reception"].id
    results = run_threads(lambda index: check_in_in_new_context(app, office_id, actor_id, index), 8)
    assert sorted(results, key=lambda value: (len(value), value)) == [
        str(n) for n in range(1, 9)
    ], results
    db.session.commit()
    counter = db.session.get(QueueCounter, (office_id, NOW.date()))
    assert counter.last_number == 8


# Check-in rules


def test_walk_ins_only_during_the_open_hours(queue):
    walk_in(queue, now=berlin(2027, 3, 4, 8, 30))  # check-in opens 30 minutes early
    for now in (berlin(2027, 3, 4, 8, 29), berlin(2027, 3, 4, 12, 0), berlin(2027, 3, 5, 10)):
        with pytest.raises(QueueError, match="keine offene Sprechstunde"):
            check_in_walk_in(queue["office"], "", "", queue["reception"], now)
        db.session.rollback()


def test_no_walk_ins_when_the_hours_are_cancelled(queue):
    db.session.add(
        Closure(
            office_id=queue["office"].id, first_day=NOW.date(), last_day=NOW.date(), reason="Umzug"
        )
    )
    db.session.commit()
    with pytest.raises(QueueError):
        check_in_walk_in(queue["office"], "", "", queue["reception"], NOW)
    db.session.rollback()


def test_walk_in_name_and_note_are_optional_and_short(queue):
    entry = walk_in(queue, name="  Ayşe   K. ", note="braucht Dolmetscherin (Arabisch)")
    assert (entry.name, entry.note) == ("Ayşe K.", "braucht Dolmetscherin (Arabisch)")
    with pytest.raises(QueueError) as refused:
        check_in_walk_in(queue["office"], "x" * 41, "", queue["reception"], NOW)
    assert refused.value.field == "name"
    db.session.rollback()
    with pytest.raises(QueueError) as refused:
        check_in_walk_in(queue["office"], "", "x" * 201, queue["reception"], NOW)
    assert refused.value.field == "note"
    db.session.rollback()


def test_staff_of_other_offices_cannot_check_in_or_call(queue):
    with pytest.raises(NotAllowed):
        check_in_walk_in(queue["office"], "", "", queue["stranger"], NOW)
    db.session.rollback()
    entry = walk_in(queue)
    for action in (
        lambda: call_next(queue["office"], queue["stranger"], "Raum 1", NOW),
        lambda: call_entry(entry, queue["stranger"], "Raum 1", NOW),
        lambda: leave_entry(entry, queue["stranger"], NOW),
    ):
        with pytest.raises(NotAllowed):
            action()
        db.session.rollback()
    assert db.session.get(QueueEntry, entry.id).state == QueueState.WAITING


def test_appointments_are_checked_in_by_reference(queue):
    appointment = book(queue, berlin(2027, 3, 4, 10, 30))
    spaced = " " + appointment.reference[:4].lower() + "-" + appointment.reference[4:] + " "
    entry = check_in_appointment(queue["office"], spaced, queue["reception"], NOW)
    db.session.commit()
    assert entry.kind == QueueKind.APPOINTMENT
    assert entry.appointment_id == appointment.id
    assert entry.number == 1  # appointments and walk-ins share the day's numbers
    assert walk_in(queue).number == 2
    with pytest.raises(QueueError, match=entry.display_number):
        check_in_appointment(queue["office"], appointment.reference, queue["reception"], NOW)
    db.session.rollback()


def test_appointment_check_in_refusals(queue):
    tomorrow = book(queue, berlin(2027, 3, 11, 10, 0))
    today = book(queue, berlin(2027, 3, 4, 11, 0))
    for reference in ("", "NOSUCHREF", tomorrow.reference):
        with pytest.raises(QueueError) as refused:
            check_in_appointment(queue["office"], reference, queue["reception"], NOW)
        assert refused.value.field == "reference"
        db.session.rollback()
    with pytest.raises(QueueError):  # another office's desk
        check_in_appointment(queue["other"], today.reference, queue["admin"], NOW)
    db.session.rollback()
    today.cancel("krank", NOW)
    db.session.commit()
    with pytest.raises(QueueError, match="nicht mehr gebucht"):
        check_in_appointment(queue["office"], today.reference, queue["reception"], NOW)
    db.session.rollback()


# Call next: order and transitions


def test_call_next_takes_due_appointments_first_then_walk_ins_in_order(queue):
    caseworker, colleague = queue["caseworker"], queue["colleague"]
    first = walk_in(queue, now=berlin(2027, 3, 4, 9, 0))
    second = walk_in(queue, now=berlin(2027, 3, 4, 9, 5))
    later = book(queue, berlin(2027, 3, 4, 11, 0), staff=caseworker)  # not due at 10:00
    due = book(queue, berlin(2027, 3, 4, 10, 0), staff=caseworker)
    theirs = book(queue, berlin(2027, 3, 4, 10, 0), staff=colleague)
    entries = {}
    for appointment in (later, due, theirs):
        entries[appointment.id] = check_in_appointment(
            queue["office"], appointment.reference, queue["reception"], berlin(2027, 3, 4, 9, 30)
        )
    db.session.commit()
    order = call_order(day_queue(queue["office"], NOW.date()), caseworker, NOW)
    assert order == [entries[due.id], first, second]
    # Reception calls on anyone's behalf: every due appointment, by start and check-in.
    order = call_order(day_queue(queue["office"], NOW.date()), queue["reception"], NOW)
    assert order == [entries[due.id], entries[theirs.id], first, second]
    # An appointment is due from 10 minutes before its start.
    ten_to_eleven = berlin(2027, 3, 4, 10, 50)
    order = call_order(day_queue(queue["office"], NOW.date()), caseworker, ten_to_eleven)
    assert order[:2] == [entries[due.id], entries[later.id]]
    order = call_order(
        day_queue(queue["office"], NOW.date()), caseworker, ten_to_eleven - timedelta(seconds=1)
    )
    assert entries[later.id] not in order

    called = call_next(queue["office"], caseworker, "Raum 2.14", NOW)
    db.session.commit()
    assert called == entries[due.id]
    assert (called.state, called.place, called.called_by_id) == (
        QueueState.CALLED,
        "Raum 2.14",
        caseworker.id,
    )
    assert call_next(queue["office"], caseworker, "Raum 2.14", NOW) == first
    assert call_next(queue["office"], caseworker, "Raum 2.14", NOW) == second
    db.session.commit()
    # Only the colleague's and the not-yet-due appointment are left.
    with pytest.raises(QueueError, match="Niemand wartet"):
        call_next(queue["office"], caseworker, "Raum 2.14", NOW)
    db.session.rollback()
    # Its time has come (10 minutes before the start).
    assert call_next(queue["office"], caseworker, "Raum 2.14", ten_to_eleven) == entries[later.id]
    assert call_next(queue["office"], colleague, "Raum 3", NOW) == entries[theirs.id]
    db.session.commit()


def test_call_next_only_calls_today_and_this_office(queue):
    walk_in(queue, office=queue["other"], actor=queue["admin"])
    with pytest.raises(QueueError):
        call_next(queue["office"], queue["admin"], "Raum 1", NOW)
    db.session.rollback()


def test_the_place_is_required_and_kept_per_staff_member(queue):
    walk_in(queue)
    with pytest.raises(QueueError) as refused:
        call_next(queue["office"], queue["caseworker"], "  ", NOW)
    assert refused.value.field == "place"
    db.session.rollback()
    assert db.session.scalar(select(QueueEntry.state)) == QueueState.WAITING
    call_next(queue["office"], queue["caseworker"], " Raum  2.14 ", NOW)
    db.session.commit()
    assert place_of(queue["caseworker"], queue["office"]) == "Raum 2.14"
    assert place_of(queue["colleague"], queue["office"]) == ""


def test_every_transition_and_the_illegal_ones(queue):
    staff = queue["caseworker"]
    served, gone, no_show = walk_in(queue), walk_in(queue), walk_in(queue)
    # waiting → served is not allowed (call first)
    with pytest.raises(QueueError, match="Nur aufgerufene"):
        serve_entry(served, staff, NOW)
    db.session.rollback()
    # waiting → called → served
    call_entry(served, staff, "Raum 1", NOW)
    serve_entry(served, staff, NOW + timedelta(minutes=20))
    db.session.commit()
    assert (served.state, served.finished_at, served.finished_by_id) == (
        QueueState.SERVED,
        NOW + timedelta(minutes=20),
        staff.id,
    )
    # waiting → left (went away before being called)
    leave_entry(gone, queue["reception"], NOW)
    # waiting → called → left (did not come when called)
    call_entry(no_show, staff, "Raum 1", NOW)
    leave_entry(no_show, staff, NOW + timedelta(minutes=5))
    db.session.commit()
    assert (gone.state, no_show.state) == (QueueState.LEFT, QueueState.LEFT)
    # Nothing leaves a finished state; nobody is called twice.
    for action, message in (
        (lambda: call_entry(served, staff, "Raum 1", NOW), "wartet nicht mehr"),
        (lambda: call_entry(gone, staff, "Raum 1", NOW), "wartet nicht mehr"),
        (lambda: serve_entry(served, staff, NOW), "Nur aufgerufene"),
        (lambda: serve_entry(gone, staff, NOW), "Nur aufgerufene"),
        (lambda: leave_entry(served, staff, NOW), "nicht mehr in der Warteschlange"),
        (lambda: leave_entry(no_show, staff, NOW), "nicht mehr in der Warteschlange"),
    ):
        with pytest.raises(QueueError, match=message):
            action()
        db.session.rollback()
    called = walk_in(queue)
    call_entry(called, staff, "Raum 1", NOW)
    db.session.commit()
    with pytest.raises(QueueError, match="wartet nicht mehr"):
        call_entry(called, queue["colleague"], "Raum 2", NOW)
    db.session.rollback()


def test_a_change_based_on_an_outdated_read_is_refused(app, queue):
    """The versioned update: another desk called the person after this session read the row."""
    entry = walk_in(queue)
    entry_id = entry.id
    with app.app_context():  # the other desk, in a session of its own
        call_entry(db.session.get(QueueEntry, entry_id), queue["colleague"], "Raum 3", NOW)
        db.session.commit()
    begin_write()
    stale = db.session.get(QueueEntry, entry_id)
    # As if read before the other desk's change: the copy still says "waiting".
    set_committed_value(stale, "version", stale.version - 1)
    set_committed_value(stale, "state", QueueState.WAITING)
    with pytest.raises(QueueError, match="gerade geändert"):
        _versioned(stale, lambda: stale.call(queue["caseworker"], "Raum 2.14", NOW))
    db.session.rollback()
    fresh = db.session.get(QueueEntry, entry_id)
    assert (fresh.state, fresh.place) == (QueueState.CALLED, "Raum 3")


def call_next_in_new_context(app, office_id: int, actor_id: int, place: str) -> str:
    with app.app_context():
        try:
            office = db.session.get(Office, office_id)
            actor = db.session.get(StaffUser, actor_id)
            entry = call_next(office, actor, place, NOW)
            db.session.commit()
            return f"called {entry.number}"
        except QueueError:
            db.session.rollback()
            return "nobody"
        except Exception as error:  # the test reports anything else as a failure
            db.session.rollback()
            return f"error: {type(error).__name__}: {error}"


def test_desks_pressing_call_next_at_once_never_call_the_same_person(app, queue, make_staff):
    office = queue["office"]
    for _ in range(4):
        walk_in(queue)
    desks = [make_staff(Role.CASEWORKER, offices=[office]).id for _ in range(6)]
    office_id = office.id
    results = run_threads(
        lambda index: call_next_in_new_context(app, office_id, desks[index], f"Raum {index}"), 6
    )
    called = sorted(result for result in results if result.startswith("called"))
    assert called == ["called 1", "called 2", "called 3", "called 4"], results
    assert results.count("nobody") == 2, results
    db.session.commit()
    rows = db.session.execute(select(QueueEntry.called_by_id, QueueEntry.state)).all()
    assert {state for _, state in rows} == {QueueState.CALLED}
    assert len({staff_id for staff_id, _ in rows}) == 4
    assert db.session.scalar(select(func.count()).select_from(QueueEntry)) == 4


# Privacy: the end of the day


def test_the_daily_purge_erases_names_notes_and_links_but_keeps_the_statistics(runner, queue):
    office = queue["office"]
    add_hours(office, 2, time(9), time(12), [queue["caseworker"]])  # Wednesdays too
    yesterday = NOW - timedelta(days=1)
    last_week = NOW - timedelta(days=7)
    appointment = book(queue, berlin(2027, 2, 25, 10, 0), name="Familie Kowalczyk")
    came = check_in_appointment(office, appointment.reference, queue["reception"], last_week)
    db.session.commit()
    served = walk_in(queue, now=yesterday, name="Zeynep", note="Dolmetschung Türkisch")
    call_entry(served, queue["caseworker"], "Raum 1", yesterday + timedelta(minutes=5))
    serve_entry(served, queue["caseworker"], yesterday + timedelta(minutes=25))
    today = walk_in(queue, name="Heute", note="bleibt bis heute Abend")
    ids = (served.id, came.id, today.id)
    with freeze_time(berlin(2027, 3, 4, 0, 5)):  # just after midnight, Berlin
        result = runner.invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "walk_in_queue=2," in result.output
    db.session.expire_all()
    old, old_appointment, kept = (db.session.get(QueueEntry, entry_id) for entry_id in ids)
    for entry in (old, old_appointment):
        assert (entry.name, entry.note, entry.appointment_id) == ("", "", None)
        assert entry.checked_in_by_id is None and entry.called_by_id is None
        assert entry.purged_at is not None
    # What stays is not personal: office, day, number, kind, times and outcome.
    assert (old.office_id, old.day, old.number, old.state) == (
        office.id,
        yesterday.date(),
        1,
        QueueState.SERVED,
    )
    assert old.waited(NOW) == timedelta(minutes=5)
    assert old_appointment.kind == QueueKind.APPOINTMENT
    assert (kept.name, kept.note, kept.purged_at) == ("Heute", "bleibt bis heute Abend", None)
    assert old_appointment.day == last_week.date()
    counters = db.session.scalars(select(QueueCounter.day)).all()
    assert counters == [NOW.date()]
    with freeze_time(berlin(2027, 3, 4, 0, 10)):
        again = runner.invoke(args=["privacy", "purge"])
    assert "walk_in_queue=0," in again.output


def test_the_worker_purges_yesterdays_queue_and_says_so(runner, queue):
    add_hours(queue["office"], 2, time(9), time(12), [queue["caseworker"]])  # Wednesdays too
    entry = walk_in(queue, now=NOW - timedelta(days=1), name="Zeynep", note="privat")
    db.session.commit()
    with freeze_time(berlin(2027, 3, 4, 0, 5)):
        result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert "walk_in_queue=1," in result.output
    db.session.expire_all()
    assert db.session.get(QueueEntry, entry.id).name == ""
