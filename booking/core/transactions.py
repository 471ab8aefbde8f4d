"""One unit of work per request: the write lock first, one commit at the end, rollback on error.

Requests that write (POST, PUT, PATCH, DELETE, and GET views marked @writes) take SQLite's
write lock before they read, so a check-then-write never fails with "database is locked"
when another writer committed in between. Services only flush; the request commits once
after the view (also for 4xx answers, so the audit entry of a refusal is kept) and rolls
back when an exception escaped or an error page is shown. A failed commit becomes an error
page (503 when the database is busy or gone), never a success page over lost work.
"""

import random
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from booking.core.exceptions import BookingError
from booking.extensions import db

WRITE_LOCK_ATTEMPTS = 3
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class DatabaseBusy(BookingError):
    """The write lock could not be had in time (SQLite under heavy load): try again."""


def busy_message():
    return _l("Many people are booking right now. Please try again in a moment.")


def writes(view: Callable) -> Callable:
    """Mark a GET view that writes (an audit entry, say): it takes the write lock first."""
    view.writes = True  # type: ignore[attr-defined]
    return view


@event.listens_for(Session, "after_flush")
def _remember_flush(session: Session, flush_context) -> None:
    session.info["flushed"] = True


@event.listens_for(Session, "after_transaction_end")
def _forget_transaction(session: Session, transaction) -> None:
    if transaction.parent is None:  # the outermost transaction ended
        session.info.pop("flushed", None)
        session.info.pop("write_lock", None)


def _is_lock_error(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


def begin_write(attempts: int = WRITE_LOCK_ATTEMPTS) -> None:
    """Make the session's transaction a writer (SQLite: BEGIN IMMEDIATE); idempotent.

    Never commits: a transaction that already wrote without the lock is a programming error
    (RuntimeError); one that only read is rolled back and begun again with the lock.
    PostgreSQL ignores the option (its row locks and constraints do the work).
    Raises DatabaseBusy, never a raw "database is locked".
    """
    session = db.session()  # the scoped session's current Session
    if session.in_transaction():
        if session.info.get("write_lock"):
            return
        if session.new or session.dirty or session.deleted or session.info.get("flushed"):
            raise RuntimeError("begin_write() must come before the transaction's first write")
        session.rollback()  # only reads so far: nothing is lost
    for attempt in range(attempts):
        try:
            session.connection(execution_options={"sqlite_immediate": True})
        except OperationalError as error:
            if not _is_lock_error(error):
                raise
            session.rollback()
            # SQLite's busy handler is not fair: step back a little, then queue again.
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))  # noqa: S311
            continue
        session.info["write_lock"] = True
        return
    raise DatabaseBusy(busy_message())


def rollback_only() -> None:
    """This request's changes must not be committed (an error answer is being shown)."""
    if g:
        g.rollback_only = True


def _view_writes() -> bool:
    if request.method not in SAFE_METHODS:
        return True
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "writes", False))


def _lock_writers() -> None:
    if _view_writes():
        begin_write()


def _commit_request(response: Response) -> Response:
    session = db.session()
    if g.get("rollback_only") or response.status_code >= 500:
        session.rollback()
        return response
    if not (session.in_transaction() or session.new or session.dirty or session.deleted):
        return response
    try:
        session.commit()
    except DBAPIError as error:
        session.rollback()
        from booking.core.errors import database_fault, database_unavailable, log_database_fault

        kind = database_fault(error)  # full or read-only, busy, or the connection dropped
        if kind is None:
            current_app.logger.exception("commit failed; the request's changes were rolled back")
            from booking.core.errors import render_error

            answer, code = render_error(500)
            return current_app.make_response((answer, code))
        log_database_fault(kind, error, "commit failed, rolled back")
        return database_unavailable(kind)
    return response


def init_lock(app: Flask) -> None:
    """Register before the session guard and the access check: the lock comes before any read."""
    app.before_request(_lock_writers)


def init_commit(app: Flask) -> None:
    """Register after the security headers: after_request runs last-registered first, so an
    error page that replaces a failed commit still gets the headers."""
    app.after_request(_commit_request)
