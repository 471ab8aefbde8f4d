"""Transactions that write after reading must take the write lock first on SQLite."""

from booking.extensions import db


def begin_write() -> None:
    """Start the session's transaction as a writer (SQLite: BEGIN IMMEDIATE).

    A deferred SQLite transaction that reads and then writes fails at once with "database
    is locked" when another writer committed in between; taking the lock first makes it
    wait its turn (up to the busy timeout). PostgreSQL ignores the option.
    """
    session = db.session()  # the scoped session's current Session
    if session.in_transaction():
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("begin_write() needs a session without pending changes")
        session.commit()
    session.connection(execution_options={"sqlite_immediate": True})
