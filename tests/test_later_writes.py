"""Writes whose result nobody reads (write_later: a booking's edit-log entry, its outbox message,
the slot versions' bump) are sent before the transaction's next statement or at its commit, on
PostgreSQL together in one round trip; a rollback forgets them, and one that fails fails the
commit: never a success answer over lost work."""

import contextlib
import os
from datetime import UTC, datetime

import pytest
from freezegun import freeze_time
from sqlalchemy import func, select

from booking.appointments.booking import FamilyDetails, book_appointment
from booking.core.access import public
from booking.core.transactions import write_later
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, OfficeKind


def office_row(slug: str) -> dict:
    return {
        "slug": slug,
        "name": slug,
        "kind": OfficeKind.UNIT,
        "address": "Straße 1",
        "operator": "Stadt",
    }


def later_office(slug: str) -> None:
    write_later(Office.__table__.insert().inline(), office_row(slug))


def offices(slug: str) -> int:
    return db.session.scalar(select(func.count()).select_from(Office).where(Office.slug == slug))


def test_the_transactions_next_statement_sees_a_later_write(app):
    later_office("gesehen")
    assert offices("gesehen") == 1


def test_later_writes_are_sent_at_the_commit(app):
    later_office("eins")
    later_office("zwei")
    db.session.commit()
    assert (offices("eins"), offices("zwei")) == (1, 1)


def test_a_rollback_forgets_later_writes(app):
    later_office("vergessen")
    db.session.rollback()
    db.session.commit()  # a new transaction, committed: nothing of the old one is sent
    assert offices("vergessen") == 0


@pytest.fixture
def failing_app(app_factory):
    app = app_factory()

    @app.post("/_probe/later-fails")
    def later_fails():
        later_office("doppelt")
        later_office("doppelt")  # the slug is unique: the commit fails
        return "ok"

    public(app.view_functions["later_fails"])
    app.config["PROPAGATE_EXCEPTIONS"] = False
    with app.app_context():
        yield app


def test_a_later_write_that_fails_fails_the_request_and_nothing_is_kept(failing_app):
    response = failing_app.test_client().post("/_probe/later-fails")
    assert response.status_code == 500
    assert response.get_data() != b"ok"
    db.session.rollback()
    assert offices("doppelt") == 0


@freeze_time(datetime(2027, 3, 1, 7, tzinfo=UTC))  # a Monday
def test_a_bookings_last_writes_reach_postgresql_in_one_round_trip(app, bookable_service, tmp_path):
    """The edit-log entry, the confirmation, the versions' bump and the COMMIT: one Sync."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("pipeline mode is PostgreSQL's")
    family = FamilyDetails("Familie Aydın", "aydin@example.org", None, "tr")
    pgconn = db.session.connection().connection.driver_connection.pgconn
    trace = tmp_path / "protocol.txt"
    with trace.open("w") as out:
        pgconn.trace(out.fileno())
        try:
            book_appointment(
                bookable_service, datetime(2027, 3, 4, 8, tzinfo=UTC), family, utcnow()
            )
            db.session.commit()
        finally:
            pgconn.untrace()
            out.flush()
            os.fsync(out.fileno())
    sent = [line.split("\t") for line in trace.read_text().splitlines() if "\tF\t" in line]
    messages = [(fields[3].split(" ")[0], fields[-1]) for fields in sent if len(fields) > 3]
    first = next(
        n for n, (_, text) in enumerate(messages) if "INSERT INTO appointment_event" in text
    )
    sync = next(n for n, (kind, _) in enumerate(messages) if n > first and kind == "Sync")
    texts = " ".join(text for _, text in messages[first:sync])
    for statement in ("INSERT INTO outbox_message", "UPDATE service", "COMMIT"):
        assert statement in texts, messages[first:]
    assert not [text for _, text in messages[sync:] if "COMMIT" in text]  # no second COMMIT


def test_a_later_write_whose_error_someone_caught_still_fails_the_commit(app):
    """The writes go with whatever statement comes next, whose caller may catch an
    IntegrityError and go on: the commit must not succeed without them."""
    from sqlalchemy.exc import IntegrityError

    later_office("zuerst")
    later_office("doppelt")
    later_office("doppelt")  # the slug is unique
    # As a handler that catches its own statement's IntegrityError and goes on would:
    with contextlib.suppress(IntegrityError):
        db.session.execute(select(func.count()).select_from(Office))  # sends them first
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert (offices("zuerst"), offices("doppelt")) == (0, 0)


def test_a_rollback_after_a_lost_connection_works(app):
    """A connection lost mid-transaction (a database restart) is invalidated: its rollback must
    still go through (the request then answers 503), not fail in a listener of ours."""
    later_office("verloren")
    db.session.connection().invalidate()
    db.session.rollback()
    assert offices("verloren") == 0


def test_any_of_keeps_the_table_it_filters():
    """AnyOf alone in a WHERE: the select still reads FROM the column's table."""
    import sqlalchemy as sa
    from sqlalchemy.dialects import postgresql, sqlite

    from booking.appointments.models import Appointment
    from booking.db import AnyOf, IdList

    ids = sa.bindparam("ids", type_=IdList())
    statement = sa.select(func.count()).where(AnyOf(Appointment.staff_id, ids))
    for dialect in (sqlite.dialect(), postgresql.dialect()):
        assert "FROM appointment" in str(statement.compile(dialect=dialect))


@freeze_time(datetime(2027, 3, 1, 7, tzinfo=UTC))
def test_a_booking_without_a_versions_row_still_counts_the_contacts_bookings(app, bookable_service):
    """The versions are read with the per-contact count; a database without the versions row
    (not made by the migrations) books all the same."""
    from sqlalchemy import text

    db.session.execute(text("DELETE FROM schedule_version"))
    family = FamilyDetails("Familie Aydın", "aydin@example.org", None, "tr")
    booking = book_appointment(
        bookable_service, datetime(2027, 3, 4, 8, tzinfo=UTC), family, utcnow()
    )
    assert booking.appointment.id is not None


def test_a_late_write_that_fails_inside_a_rolled_back_savepoint_is_undone_with_it(app):
    """As a waiting-list round after a booking does (waitlist/hooks.py): what went wrong in
    the savepoint is rolled back with it, and the booking around it still commits."""
    from sqlalchemy.exc import IntegrityError

    later_office("draussen")
    with contextlib.suppress(IntegrityError), db.session.begin_nested():
        later_office("doppelt")
        later_office("doppelt")  # the slug is unique
        db.session.execute(select(func.count()).select_from(Office))  # sends them: fails
    db.session.commit()
    assert (offices("draussen"), offices("doppelt")) == (1, 0)


def test_a_late_write_that_failed_in_a_released_savepoint_still_fails_the_commit(app):
    from sqlalchemy.exc import DBAPIError, IntegrityError

    later_office("draussen")
    with pytest.raises(DBAPIError):  # PostgreSQL refuses the RELEASE already, SQLite the commit
        with db.session.begin_nested():
            later_office("doppelt")
            later_office("doppelt")
            with contextlib.suppress(IntegrityError):
                db.session.execute(select(func.count()).select_from(Office))
        db.session.commit()
    db.session.rollback()
    assert (offices("draussen"), offices("doppelt")) == (0, 0)


def test_a_commit_failed_by_a_late_write_leaves_no_transaction_open_in_the_driver(app):
    """A rollback after a failed commit reaches no driver: SQLite would keep its write lock on
    a connection closed without one."""
    from sqlalchemy.exc import IntegrityError

    from booking.core.transactions import queue_write

    insert = Office.__table__.insert().inline()
    with db.engine.connect() as connection:
        connection.execute(select(func.count()).select_from(Office))  # the transaction begins
        queue_write(connection, insert, office_row("doppelt"))
        queue_write(connection, insert, office_row("doppelt"))
        with pytest.raises(IntegrityError):
            connection.commit()
        driver = connection.connection.dbapi_connection
        if connection.dialect.name == "sqlite":
            assert not driver.in_transaction
        else:
            from psycopg.pq import TransactionStatus

            assert driver.info.transaction_status == TransactionStatus.IDLE


def test_savepoints_are_followed_by_sqlalchemys_own_names_two_deep(app):
    """The depth of a failed late write is known by the savepoint names SQLAlchemy gives
    (named after the savepoint event): an inner failure rolled back, the outer kept."""
    from sqlalchemy.exc import IntegrityError

    from booking.core.transactions import SAVEPOINTS

    with db.session.begin_nested():
        connection = db.session.connection()
        outer = connection.get_nested_transaction()._savepoint
        later_office("aussen")
        with contextlib.suppress(IntegrityError), db.session.begin_nested():
            db.session.execute(select(1))  # the session makes its savepoints when used
            inner = connection.get_nested_transaction()._savepoint
            assert connection.info[SAVEPOINTS] == [outer, inner] and outer != inner
            later_office("doppelt")
            later_office("doppelt")
            db.session.execute(select(func.count()).select_from(Office))
        assert connection.info[SAVEPOINTS] == [outer]
    db.session.commit()
    assert (offices("aussen"), offices("doppelt")) == (1, 0)
