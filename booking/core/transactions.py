"""Transactions that write after reading must take the write lock first on SQLite."""

import random
import time

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import OperationalError

from booking.core.exceptions import BookingError
from booking.extensions import db

WRITE_LOCK_ATTEMPTS = 3


class DatabaseBusy(BookingError):
    """The write lock could not be had in time (SQLite under heavy load): try again."""


def begin_write(attempts: int = WRITE_LOCK_ATTEMPTS) -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE).

    A deferred SQLite transaction that reads and then writes fails at once with "database
    is locked" when another writer committed in between; taking the lock first makes it
    wait its turn (up to the busy timeout, a few times over). PostgreSQL ignores the option.
    Raises DatabaseBusy, never a raw "database is locked".
    """
    session = db.session()  # the scoped session's current Session
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() needs a session without pending changes")
        session.commit()
    for attempt in range(attempts):
        try:
            session.connection(execution_options={"sqlite_immediate": True})
            return
        except OperationalError as error:
            if "locked" not in str(error.orig).lower() and "busy" not in str(error.orig).lower():
                raise
            session.rollback()
            # SQLite's busy handler is not fair: step back a little, then queue again.
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))  # noqa: S311
    raise DatabaseBusy(_l("Many people are booking right now. Please try again in a moment."))
