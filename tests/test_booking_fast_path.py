"""The booking path made fast for issue 11 still decides exactly as before.

- check_slot reads busy time only around the asked time, yet answers like the engine over the
  whole day, for every instant (on the grid or not), fresh and from the cache.
- A transaction that only books runs no waiting-list round; one that frees time does.
- Family messages are rendered when sent, from the appointment as it was when queued.
- SQLite writers queue on a file lock: a second writer gets its turn as soon as the first
  commits, and gives up with DatabaseBusy when the queue does not move.
"""

import fcntl
import os
import random
import threading
import time as clock
from datetime import UTC, datetime, time, timedelta

import pytest
from freezegun import freeze_time
from sqlalchemy import select

from booking.appointments.booking import FamilyDetails, book_appointment, cancel_by_family
from booking.appointments.models import Appointment, AppointmentStatus
from booking.auth.models import Role
from booking.core.transactions import DatabaseBusy, begin_write
from booking.db import utcnow
from booking.extensions import db
from booking.notify.models import OutboxMessage, OutboxStatus
from booking.notify.sender import send_pending
from booking.schedule.engine import BERLIN, free_slots
from booking.schedule.models import Absence, AbsenceKind, WeeklyHours
from booking.schedule.services import (
    booking_rules,
    check_slot,
    find_free_slots,
    load_static_inputs,
    qualified_caseworkers,
)

NOW = datetime(2027, 3, 1, 7, tzinfo=UTC)  # a Monday, 08:00 in Düsseldorf
FAMILY = FamilyDetails("Familie Aydın", "aydin@example.org", None, "tr")


@pytest.fixture
def pooled_service(make_office, make_service, make_staff):
    """Three caseworkers with different hours; 30 minutes plus a 10-minute buffer, on a
    15-minute grid, so that buffers and odd starts matter."""
    office = make_office()
    service = make_service(office, minutes=30, buffer_minutes=10, step_minutes=15)
    hours = [(time(8), time(12)), (time(9, 30), time(16)), (time(13), time(17, 30))]
    for start, end in hours:
        user = make_staff(Role.CASEWORKER, offices=[office])
        user.services = [service]
        for weekday in range(5):
            db.session.add(
                WeeklyHours(
                    staff_id=user.id,
                    office_id=office.id,
                    weekday=weekday,
                    start_time=start,
                    end_time=end,
                )
            )
    db.session.commit()
    return service


def seed_busy_time(service, rng: random.Random) -> None:
    """Appointments at odd minutes (their buffers reach into the next slot), absences of an
    hour or a day, on the week of 1 March 2027."""
    staff_ids = [user.id for user in qualified_caseworkers(service)]
    for _ in range(40):
        day = datetime(2027, 3, 1 + rng.randrange(5), tzinfo=BERLIN)
        start = day.replace(hour=8) + timedelta(minutes=5 * rng.randrange(110))
        length = rng.choice((20, 30, 45))
        db.session.add(
            Appointment(
                service_id=service.id,
                office_id=service.office_id,
                staff_id=rng.choice(staff_ids),
                starts_at=start.astimezone(UTC),
                ends_at=(start + timedelta(minutes=length)).astimezone(UTC),
                busy_until=(start + timedelta(minutes=length + 10)).astimezone(UTC),
                status=rng.choice((AppointmentStatus.BOOKED, AppointmentStatus.CANCELLED)),
                family_name="Familie Test",
            )
        )
        try:
            db.session.commit()
        except Exception:  # an overlap the database refuses: fine, the next one
            db.session.rollback()
    for _ in range(4):
        day = datetime(2027, 3, 1 + rng.randrange(5), tzinfo=BERLIN)
        start = day.replace(hour=9) + timedelta(minutes=5 * rng.randrange(60))
        db.session.add(
            Absence(
                staff_id=rng.choice(staff_ids),
                kind=AbsenceKind.BLOCKED,
                starts_at=start.astimezone(UTC),
                ends_at=(start + timedelta(minutes=rng.choice((35, 60, 600)))).astimezone(UTC),
                all_day=False,
            )
        )
    db.session.commit()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_check_slot_answers_like_the_engine_over_the_whole_day(app, pooled_service, seed):
    seed_busy_time(pooled_service, random.Random(seed))  # noqa: S311 (test data)
    service = pooled_service
    checked = 0
    for offset in range(5):
        day = NOW.astimezone(BERLIN).date() + timedelta(days=offset)
        static = load_static_inputs(service, day, day)
        grid = {
            slot.start_ts
            for slot in free_slots(booking_rules(service), day, day, static.hours, [], (), NOW)
        }
        instants = [
            datetime.combine(day, time(7), BERLIN) + timedelta(minutes=5 * n) for n in range(140)
        ]
        fresh = {at: check_slot(service, at, NOW) for at in instants}  # nothing cached yet
        free = {s.start_ts: s.staff_ids for s in find_free_slots(service, day, day, NOW)}
        cached = {at: check_slot(service, at, NOW) for at in instants}  # the day's busy cached
        for at in instants:
            ts = int(at.timestamp())
            for answer in (fresh[at], cached[at]):
                if ts not in grid:
                    assert answer is None, at
                else:
                    assert answer is not None, at
                    assert answer.free == free.get(ts, ()), at
                    checked += 1
    assert checked > 100


@freeze_time(NOW)
def test_a_booking_runs_no_waiting_list_round_a_cancellation_does(
    app, bookable_service, monkeypatch
):
    from booking.waitlist import services as waitlist

    rounds = []
    monkeypatch.setattr(waitlist, "process_waitlist", lambda *a, **k: rounds.append(a))
    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    booking = book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.commit()
    assert rounds == []
    cancel_by_family(booking.appointment, utcnow())
    db.session.commit()
    assert len(rounds) == 1


@freeze_time(NOW)
def test_a_family_message_is_rendered_when_sent_as_it_was_when_queued(app, bookable_service):
    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    booking = book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.commit()
    message = db.session.scalar(select(OutboxMessage))
    assert message.render_from is not None
    assert message.stored_body_text == ""  # nothing rendered in the booking's transaction
    # Moved before the confirmation left: the confirmation still tells the first time.
    booking.appointment.starts_at = start + timedelta(hours=1)
    booking.appointment.ends_at = start + timedelta(hours=1, minutes=45)
    booking.appointment.busy_until = start + timedelta(hours=2)
    db.session.commit()
    assert send_pending(utcnow()).sent == 1
    db.session.expire_all()
    message = db.session.get(OutboxMessage, message.id)
    assert message.render_from is None
    assert "10:00" in message.stored_body_text and "11:00" not in message.stored_body_text
    assert "Randevunuz" in message.stored_subject  # the family's language (tr)
    assert "[manage-link]" in message.stored_body_text  # the link goes in on sending only


@freeze_time(NOW)
def test_a_message_whose_appointment_is_gone_fails_visibly(app, bookable_service):
    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    booking = book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.commit()
    db.session.delete(booking.appointment)
    db.session.commit()
    shown = db.session.scalar(select(OutboxMessage))
    assert "appointment erased" in shown.body_text  # the viewer says so instead of failing
    report = send_pending(utcnow())
    assert report.failed == 1 and "appointment is gone" in report.errors[0]
    message = db.session.scalar(select(OutboxMessage))
    assert message.status == OutboxStatus.FAILED


def sqlite_only(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("the writer queue is SQLite's")


def queue_is_taken(app) -> bool:
    """Try the writers' file lock from outside, as another worker process would."""
    path = f"{db.engine.url.database}-writers.lock"
    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(handle)
    return False


def test_a_second_sqlite_writer_gets_its_turn_when_the_first_commits(app):
    sqlite_only(app)
    held, released, times = threading.Event(), threading.Event(), {}

    def first():
        with app.app_context():
            begin_write()
            held.set()
            released.wait(5)
            times["first_done"] = clock.monotonic()
            db.session.commit()

    thread = threading.Thread(target=first)
    thread.start()
    held.wait(5)
    assert queue_is_taken(app)  # the writer holds the queue while its transaction runs
    threading.Timer(0.3, released.set).start()
    begin_write()  # waits in the queue, then BEGIN IMMEDIATE finds SQLite's lock free
    assert clock.monotonic() >= times["first_done"]
    db.session.commit()
    thread.join()
    assert not queue_is_taken(app)  # a commit leaves the queue
    begin_write()
    db.session.rollback()
    assert not queue_is_taken(app)  # and so does a rollback


def test_a_stuck_sqlite_writer_queue_ends_in_database_busy(app_factory):
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        sqlite_only(app)
        held, release = threading.Event(), threading.Event()

        def holder():
            with app.app_context():
                begin_write()
                held.set()
                release.wait(5)
                db.session.rollback()

        thread = threading.Thread(target=holder)
        thread.start()
        held.wait(5)
        try:
            with pytest.raises(DatabaseBusy):
                begin_write(attempts=1)
        finally:
            release.set()
            thread.join()
        begin_write()  # the queue moves again once the holder is gone
        db.session.rollback()


def after_the_first_check(monkeypatch, meanwhile) -> list[int]:
    """Run `meanwhile()` (another worker's change) right after the booking's first check;
    the list gets the caseworkers that check ranked."""
    from booking.appointments import booking as booking_module

    first_check, ranked = booking_module._candidates, []

    def then(*args, **kwargs):
        ranked.extend(first_check(*args, **kwargs))
        meanwhile()
        return list(ranked)

    monkeypatch.setattr(booking_module, "_candidates", then)
    return ranked


@freeze_time(NOW)
def test_the_api_checks_before_it_queues_for_the_sqlite_write_lock(
    app, client, bookable_service, monkeypatch
):
    sqlite_only(app)
    from booking.appointments import booking as booking_module

    seen = []
    first_check = booking_module._candidates

    def watched(*args, **kwargs):
        seen.append(("queue taken", queue_is_taken(app)))
        return first_check(*args, **kwargs)

    monkeypatch.setattr(booking_module, "_candidates", watched)
    response = client.post(
        "/api/v1/bookings",
        json={
            "service": "beratung-35a",
            "start": "2027-03-04T10:00:00+01:00",
            "name": "Familie Aydın",
            "email": "aydin@example.org",
            "privacy_consent": True,
        },
    )
    assert response.status_code == 201, response.json
    assert seen == [("queue taken", False)]  # only the final check runs under the lock


def absence_from_another_worker(staff_id: int, start: datetime) -> None:
    """An absence over `start` committed on another connection, as another worker would."""
    with db.engine.begin() as other:
        other.execute(
            Absence.__table__.insert().values(
                staff_id=staff_id,
                kind=AbsenceKind.ILLNESS,
                starts_at=start - timedelta(hours=1),
                ends_at=start + timedelta(hours=3),
                all_day=False,
                note="",
            )
        )


@freeze_time(NOW)
def test_an_absence_entered_between_the_first_check_and_the_lock_wins(
    app, bookable_service, monkeypatch
):
    """The first check ran outside the write lock (SQLite) or before the caseworker's lock
    (PostgreSQL); the insert, under it, sees the absence a caseworker entered meanwhile (from
    another connection, as another worker would). PostgreSQL booked over it before."""
    from booking.appointments.booking import SlotTaken

    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    staff_id = qualified_caseworkers(bookable_service)[0].id
    after_the_first_check(monkeypatch, lambda: absence_from_another_worker(staff_id, start))
    with pytest.raises(SlotTaken):
        book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.rollback()
    assert db.session.scalar(select(Appointment)) is None


@freeze_time(NOW)
def test_a_move_into_an_absence_entered_after_its_check_is_refused(
    app, bookable_service, monkeypatch
):
    """The move checks, then takes the caseworker's lock (PostgreSQL) and moves: an absence
    committed in between must stop it, as it stops a booking. It moved the appointment into the
    absence before, and the absence's list of appointments to move had not named it."""
    from booking.appointments.booking import SlotTaken, move_appointment

    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite: the move holds the write lock from its check to its commit")
    booking = book_appointment(bookable_service, datetime(2027, 3, 4, 9, tzinfo=UTC), FAMILY, NOW)
    db.session.commit()
    target = datetime(2027, 3, 11, 10, tzinfo=UTC)
    staff_id = booking.appointment.staff_id
    after_the_first_check(monkeypatch, lambda: absence_from_another_worker(staff_id, target))
    with pytest.raises(SlotTaken):
        move_appointment(booking.appointment, target, utcnow())
    db.session.rollback()
    moved = db.session.get(Appointment, booking.appointment.id)
    assert moved.starts_at == datetime(2027, 3, 4, 9, tzinfo=UTC)


@freeze_time(NOW)
def test_a_waiting_list_hold_is_not_made_inside_an_absence(app, bookable_service):
    """After the caseworker's lock a hold reads busy time as a booking does: an absence counts."""
    from booking.waitlist.models import AFTERNOON, MORNING
    from booking.waitlist.services import hold_time, join_waitlist

    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    staff_id = qualified_caseworkers(bookable_service)[0].id
    # Wishing for Mondays (the service has Thursdays only): no time is offered on joining.
    entry, _token = join_waitlist(bookable_service, FAMILY, 1 << 0, MORNING | AFTERNOON, NOW)
    db.session.commit()
    assert not entry.offers
    absence_from_another_worker(staff_id, start)
    begin_write()  # as process_waitlist does (SQLite: the write lock)
    assert hold_time(entry, (staff_id,), start, NOW) is None
    assert hold_time(entry, (staff_id,), start + timedelta(days=7), NOW) is not None


@freeze_time(NOW)
def test_an_absence_runs_no_waiting_list_round_deleting_it_does(app, bookable_service, monkeypatch):
    """A new absence only takes time: no round (it would lock other caseworkers while this one's
    absence holds its lock, PostgreSQL). Deleting it gives time back: a round."""
    from booking.schedule.services import add_absence, delete_absence
    from booking.waitlist import services as waitlist

    rounds = []
    monkeypatch.setattr(waitlist, "process_waitlist", lambda *a, **k: rounds.append(a))
    staff = qualified_caseworkers(bookable_service)[0]
    day = datetime(2027, 3, 4).date()
    absence = add_absence(staff, AbsenceKind.VACATION, day, day, None, None, "", staff)
    db.session.commit()
    assert rounds == []
    delete_absence(absence, staff)
    db.session.commit()
    assert len(rounds) == 1


def hold_the_writer_queue(app, seconds: float) -> tuple[threading.Thread, threading.Event]:
    """Another writer holds SQLite's lock for `seconds`; the event tells when it let go (no
    clock: freezegun stops the monotonic clock)."""
    held, released = threading.Event(), threading.Event()

    def holder():
        with app.app_context():
            begin_write()
            held.set()
            clock.sleep(seconds)
            db.session.rollback()
            released.set()

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(5)
    return thread, released


@freeze_time(NOW)
def test_a_taken_time_is_refused_without_queueing_for_the_write_lock(app, client, bookable_service):
    sqlite_only(app)
    body = {
        "service": "beratung-35a",
        "start": "2027-03-04T10:00:00+01:00",
        "name": "Familie Aydın",
        "email": "aydin@example.org",
        "privacy_consent": True,
    }
    assert client.post("/api/v1/bookings", json=body).status_code == 201
    thread, released = hold_the_writer_queue(app, 3)
    taken = client.post("/api/v1/bookings", json=body | {"email": "nowak@example.org"})
    answered_while_held = not released.is_set()
    thread.join()
    assert taken.status_code == 409 and taken.json == {"error": "slot_taken"}
    assert answered_while_held  # from the first check, not after the other writer let go


def test_a_writer_queue_that_moves_late_costs_attempts_not_an_error(app_factory):
    """The sender's record of a sent message must not give up after one queue timeout."""
    app = app_factory(SQLITE_BUSY_TIMEOUT_MS=300)
    with app.app_context():
        sqlite_only(app)
        thread, _ = hold_the_writer_queue(app, 0.8)
        begin_write(attempts=10)  # waits out the holder over several attempts
        db.session.rollback()
        thread.join()


@freeze_time(NOW)
def test_a_closure_entered_between_the_first_check_and_the_lock_wins(
    app, bookable_service, monkeypatch
):
    """Only busy time is read again under the lock, unless the schedule changed meanwhile:
    a closure (or new hours, or a caseworker taken off the service) is then checked too."""
    sqlite_only(app)
    from sqlalchemy.orm import Session

    from booking.appointments.booking import NotASlot
    from booking.schedule.models import Closure

    start = datetime(2027, 3, 4, 9, tzinfo=UTC)

    def closed():
        with Session(db.engine) as admin:  # another worker's admin, through the ORM
            admin.add(
                Closure(
                    office_id=bookable_service.office_id,
                    first_day=start.date(),
                    last_day=start.date(),
                    reason="Streik",
                )
            )
            admin.commit()

    after_the_first_check(monkeypatch, closed)
    with pytest.raises(NotASlot):
        book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.rollback()
    assert db.session.scalar(select(Appointment)) is None


@freeze_time(NOW)
def test_a_message_that_cannot_be_rendered_fails_and_the_others_go_out(
    app, bookable_service, monkeypatch
):
    from booking.notify import services as notify_services

    for hour in (9, 10):
        book_appointment(
            bookable_service,
            datetime(2027, 3, 4, hour, tzinfo=UTC),
            FamilyDetails(f"Familie {hour}", f"f{hour}@example.org", None),
            utcnow(),
        )
        db.session.commit()
    first_id = min(db.session.scalars(select(OutboxMessage.id)))
    render = notify_services.render_family_message

    def broken_for_the_first(message):
        if message.id == first_id:
            raise KeyError("a template bug")
        return render(message)

    monkeypatch.setattr(notify_services, "render_family_message", broken_for_the_first)
    shown = db.session.get(OutboxMessage, first_id)
    assert "cannot be rendered" in shown.body_text  # the viewer shows it, no 500
    db.session.rollback()
    report = send_pending(utcnow())
    assert (report.sent, report.failed) == (1, 1)
    db.session.expire_all()
    assert db.session.get(OutboxMessage, first_id).status == OutboxStatus.FAILED


@freeze_time(NOW)
def test_the_per_contact_limit_reads_the_contacts_index_not_the_services_bookings(
    app, bookable_service
):
    """SQLite has no statistics to choose by: given the service's index it read every open
    appointment of the service, under the write lock, for every booking (0.6 ms at 2,000)."""
    sqlite_only(app)
    from sqlalchemy import event

    statements = []

    def seen(_connection, _cursor, statement, parameters, *_args):
        if "count(*)" in statement and "email_key" in statement:
            statements.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", seen)
    try:
        book_appointment(bookable_service, datetime(2027, 3, 4, 8, tzinfo=UTC), FAMILY, utcnow())
    finally:
        event.remove(db.engine, "before_cursor_execute", seen)
    ((statement, parameters),) = statements
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    details = " ".join(row[3] for row in plan)
    assert "ix_appointment_email_key" in details, details
    assert "ix_appointment_service_id" not in details, details


@freeze_time(NOW)
def test_a_booked_appointment_is_loaded_as_stored_and_bumps_its_services_version(
    app, bookable_service
):
    """The appointment is inserted with Core and made persistent without reading it back:
    every column is loaded and equals the stored row; the cached slots learn of it."""
    import sqlalchemy as sa

    from booking.schedule.inputs_cache import current_versions

    before = current_versions(db.session(), bookable_service.id)
    booking = book_appointment(
        bookable_service, datetime(2027, 3, 4, 8, tzinfo=UTC), FAMILY, utcnow()
    )
    appointment = booking.appointment
    state = sa.inspect(appointment)
    assert state.persistent and not db.session.is_modified(appointment)
    columns = [attr.key for attr in state.mapper.column_attrs]
    assert not set(columns) & state.unloaded
    in_memory = {key: getattr(appointment, key) for key in columns}
    db.session.commit()
    stored = db.session.execute(
        sa.select(Appointment.__table__).where(Appointment.id == appointment.id)
    ).one()
    names = {key: state.mapper.column_attrs[key].columns[0].name for key in columns}
    assert in_memory == {key: stored._mapping[names[key]] for key in columns}
    assert type(in_memory["status"]) is AppointmentStatus  # a StrEnum equals its string too
    assert appointment.events[0].action == "booked"
    after = current_versions(db.session(), bookable_service.id)
    assert after[1] == before[1] + 1  # the service's version rose at commit


@freeze_time(NOW)
def test_a_caseworker_taken_after_the_ranking_passes_the_booking_to_the_next(
    app, pooled_service, monkeypatch
):
    """Check and insert are one statement per candidate: when the first-ranked caseworker's
    time is booked by another worker after the ranking, the next free caseworker gets it."""
    start = datetime(2027, 3, 3, 10, tzinfo=BERLIN)  # two of the three caseworkers work then

    def first_ranked_taken():
        with db.engine.begin() as other:
            other.execute(
                Appointment.__table__.insert().values(
                    reference="TAKEN234",
                    service_id=pooled_service.id,
                    office_id=pooled_service.office_id,
                    staff_id=ranked[0],
                    starts_at=start,
                    ends_at=start + timedelta(minutes=30),
                    busy_until=start + timedelta(minutes=40),
                    family_name="Familie Nowak",
                )
            )

    ranked = after_the_first_check(monkeypatch, first_ranked_taken)
    booking = book_appointment(pooled_service, start, FAMILY, utcnow())
    db.session.commit()
    assert len(ranked) == 2
    assert booking.appointment.staff_id == ranked[1]
    rows = db.session.execute(
        select(Appointment.staff_id).where(Appointment.starts_at == start)
    ).all()
    assert sorted(staff for (staff,) in rows) == sorted(ranked)


@freeze_time(NOW)
def test_a_rolled_back_booking_is_forgotten_and_the_time_can_be_booked_again(app, bookable_service):
    """The Core-inserted appointment was adopted by the session without an ORM insert; a
    rollback must forget it as it forgets a new object (SQLite gives the id out again)."""
    import sqlalchemy as sa

    start = datetime(2027, 3, 4, 8, tzinfo=UTC)
    first = book_appointment(bookable_service, start, FAMILY, utcnow()).appointment
    db.session.rollback()
    assert sa.inspect(first).transient or sa.inspect(first).detached
    again = book_appointment(bookable_service, start, FAMILY, utcnow()).appointment
    db.session.commit()
    assert db.session.scalars(select(Appointment.id)).all() == [again.id]


@freeze_time(NOW)
def test_a_writer_outside_the_caseworkers_lock_meets_the_constraint_try_again_not_twice(
    app, bookable_service, monkeypatch
):
    """The insert's own check is blinded here (as a writer that takes no lock would be): the
    database's overlap constraint refuses, and the family hears "try again"."""
    from booking.appointments import booking as booking_module
    from booking.core.transactions import DatabaseBusy

    start = datetime(2027, 3, 4, 8, tzinfo=UTC)
    book_appointment(bookable_service, start, FAMILY, utcnow())
    db.session.commit()
    real_window = booking_module.time_window
    monkeypatch.setattr(  # nobody's busy time is read
        booking_module, "time_window", lambda ids, a, b: real_window([-1], a, b)
    )
    monkeypatch.setattr(  # the first check says free
        booking_module,
        "_candidates",
        lambda *args, **kwargs: [qualified_caseworkers(bookable_service)[0].id],
    )
    other = FamilyDetails("Familie Nowak", "nowak@example.org", None, "pl")
    with pytest.raises(DatabaseBusy):
        book_appointment(bookable_service, start + timedelta(minutes=30), other, utcnow())
    db.session.rollback()
    assert len(db.session.scalars(select(Appointment)).all()) == 1


def statements_of(run) -> list[tuple[str, object]]:
    """The SQL statements (and their parameters) that `run()` sends to the database."""
    from sqlalchemy import event

    seen = []

    def record(_connection, _cursor, statement, parameters, *_args):
        seen.append((" ".join(statement.split()), parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        run()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


@freeze_time(NOW)
def test_busy_time_is_read_through_the_partial_index_of_holding_appointments(app, pooled_service):
    """The states are written out as in the index's WHERE: bound as parameters
    (status IN (?, ?, ?)), SQLite took the plain (staff_id, starts_at) index instead, and the
    booking's busy-time statement cost 3.5× (213 against 61 µs, measured for issue 11)."""
    sqlite_only(app)
    start = datetime(2027, 3, 4, 9, tzinfo=UTC)
    seen = statements_of(lambda: check_slot(pooled_service, start, utcnow()))
    ((statement, parameters),) = [(s, p) for s, p in seen if "day_count" in s]
    plan = db.session.connection().exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
    reads = [row[3] for row in plan if "appointment" in row[3]]
    assert len(reads) == 2, reads  # the busy time and the day's load
    assert all("USING INDEX uq_appointment_staff_start_holding" in read for read in reads), reads


@freeze_time(NOW)
def test_busy_time_of_any_number_of_caseworkers_is_one_prepared_statement(app, pooled_service):
    """The caseworkers' ids are one parameter (an array, or JSON on SQLite), not an IN list
    rendered anew for every execution; and each list still finds exactly its own busy time."""
    from booking.schedule.services import busy_times

    staff_ids = [user.id for user in qualified_caseworkers(pooled_service)]
    start = datetime(2027, 3, 4, 8, tzinfo=UTC)
    for n, staff_id in enumerate(staff_ids):
        db.session.add(
            Absence(
                staff_id=staff_id,
                kind=AbsenceKind.BLOCKED,
                starts_at=start + timedelta(hours=n),
                ends_at=start + timedelta(hours=n, minutes=30),
            )
        )
    db.session.flush()
    end = start + timedelta(hours=8)
    answers = {}
    seen = statements_of(
        lambda: answers.update(
            {size: busy_times(staff_ids[:size], start, end) for size in (1, len(staff_ids))}
        )
    )
    assert len({statement for statement, _ in seen}) == 1, seen
    assert [busy.staff_id for busy in answers[1]] == staff_ids[:1]
    assert sorted(busy.staff_id for busy in answers[len(staff_ids)]) == sorted(staff_ids)


@freeze_time(NOW)
def test_a_booking_reads_the_versions_under_the_lock_with_the_per_contact_count(
    app, bookable_service
):
    """One statement for both (one round trip less on PostgreSQL); what it read serves the
    booking's next version check only, and a later check reads afresh."""
    from booking.schedule.inputs_cache import current_versions

    start = datetime(2027, 3, 4, 8, tzinfo=UTC)
    seen = statements_of(lambda: book_appointment(bookable_service, start, FAMILY, utcnow()))
    counts = [s for s, _ in seen if "count(*)" in s and "email_key" in s]
    assert len(counts) == 1 and "schedule_version" in counts[0], counts
    after_count = [s for s, _ in seen[[s for s, _ in seen].index(counts[0]) + 1 :]]
    assert not [s for s in after_count if "FROM schedule_version" in s], after_count
    service_id = bookable_service.id
    db.session.commit()
    again = statements_of(lambda: current_versions(db.session(), service_id))
    assert [s for s, _ in again if "FROM schedule_version" in s], again


@freeze_time(NOW)
def test_versions_read_with_the_count_are_not_used_after_a_change_or_for_another_service(
    app, bookable_service, make_service
):
    from booking.schedule.inputs_cache import current_versions, remember_versions

    other = make_service(bookable_service.office, slug="andere")
    fresh = current_versions(db.session(), bookable_service.id)
    remember_versions(db.session(), bookable_service.id, (-1, -1))
    assert current_versions(db.session(), other.id) != (-1, -1)  # another service: read
    assert current_versions(db.session(), bookable_service.id) == fresh  # used up already
    remember_versions(db.session(), bookable_service.id, (-1, -1))
    db.session.rollback()  # the transaction is over: so are its reads
    assert current_versions(db.session(), bookable_service.id) == fresh


@freeze_time(NOW)
def test_a_family_with_email_and_phone_takes_both_contact_locks_in_one_statement(
    app, bookable_service
):
    """PostgreSQL: one round trip for both advisory locks, in ascending order (two bookings of
    the same contacts never wait on each other); then the caseworker's lock."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    family = FamilyDetails("Familie Aydın", "aydin@example.org", "+49 171 2345678", "tr")
    start = datetime(2027, 3, 4, 8, tzinfo=UTC)
    seen = statements_of(lambda: book_appointment(bookable_service, start, family, utcnow()))
    locks = [(s, p) for s, p in seen if "pg_advisory_xact_lock" in s]
    assert [s.count("pg_advisory_xact_lock") for s, _ in locks] == [2, 1], locks
    contact_ids = [locks[0][1][f"lock{n}"] for n in range(2)]
    assert contact_ids == sorted(contact_ids)
