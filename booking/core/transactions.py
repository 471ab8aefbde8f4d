"""One unit of work per request: the write lock first, one commit at the end, rollback on error.

Requests that write (POST, PUT, PATCH, DELETE, and GET views marked @writes) take SQLite's
write lock before they read, so a check-then-write never fails with "database is locked"
when another writer committed in between. Services only flush; the request commits once
after the view (also for 4xx answers, so the audit entry of a refusal is kept) and rolls
back when an exception escaped or an error page is shown. A failed commit becomes an error
page (503 when the database is busy or gone), never a success page over lost work.
"""

import contextlib
import fcntl
import os
import random
import time
from collections.abc import Callable

from flask import Flask, Response, current_app, g, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.pool import Pool

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
        _leave_writer_queue(session)


ADOPTED = "core_inserted_objects"  # session.info: (object, transaction) of Core-inserted rows


def note_core_write(session: Session) -> None:
    """A row was written with Core, past the unit of work: begin_write's check ("before the
    transaction's first write") counts it, as it counts a flush."""
    session.info["flushed"] = True


LATER = "writes_later"  # Connection.info: Core writes whose results nobody reads, not sent yet
LATER_FAILED = "writes_later_failed"  # Connection.info: (error, savepoint depth) of a late write
SAVEPOINTS = "open_savepoints"  # Connection.info: names of the savepoints open, outermost first


def write_later(statement, parameters: dict) -> None:
    """Queue a Core INSERT or UPDATE whose result nobody reads (an edit-log entry, an outbox
    message, the slot versions' bump; one statement each, past the unit of work): it is sent
    before the transaction's next statement (not before `exec_driver_sql`) or at its commit,
    and several such writes in one go: on PostgreSQL in one round trip (psycopg's pipeline
    mode), where each cost one. A rollback of the transaction forgets them; a savepoint's
    rollback undoes them as any write made inside it. INSERTs must be `.inline()`: a
    RETURNING would have to be waited for."""
    session = db.session()
    queue_write(session.connection(), statement, parameters)
    note_core_write(session)


def queue_write(connection, statement, parameters: dict | None = None) -> None:
    """write_later on a connection (at commit, where the session is closing)."""
    connection.info.setdefault(LATER, []).append((statement, parameters))


def send_later_writes(connection, commit: bool = False) -> None:
    """Send the queued writes; with `commit`, on PostgreSQL the COMMIT goes in the same round
    trip (the driver's own commit then finds no transaction and does nothing): the service
    rows the versions' bump locks are held for the server's commit alone, not until the
    worker is scheduled again to send COMMIT (every booking of a service bumps its row).

    A write that fails fails the commit too, even when whoever ran the statement that sent
    it caught the error and went on: never a commit without it, unless the savepoint it
    was made in is rolled back (then it is undone as everything else in there)."""
    later = connection.info.pop(LATER, None)
    if not later:
        return
    try:
        if connection.dialect.name != "postgresql":
            for statement, parameters in later:
                connection.execute(statement, parameters)
        else:
            _send_in_a_pipeline(connection, later, commit)
    except DBAPIError as error:
        if not commit and not connection.invalidated:  # a lost connection fails all anyway
            connection.info[LATER_FAILED] = (error, len(_savepoints(connection)))
        raise


def _savepoints(connection) -> list[str]:
    return connection.info.setdefault(SAVEPOINTS, [])


def _send_in_a_pipeline(connection, later: list, commit: bool) -> None:
    import psycopg

    try:
        with connection.connection.driver_connection.pipeline():
            for statement, parameters in later:
                connection.execute(statement, parameters)
            if commit:
                connection.exec_driver_sql("COMMIT")
    except psycopg.Error as error:  # raised when the pipeline syncs, past SQLAlchemy's wrapping
        dbapi_connection = connection.connection.dbapi_connection
        lost = connection.dialect.is_disconnect(error, dbapi_connection, None)
        wrapped = DBAPIError.instance(
            None,
            None,
            error,
            psycopg.Error,
            connection_invalidated=lost,
            dialect=connection.dialect,
        )
        if lost:
            connection.invalidate(wrapped)
        raise wrapped from error


@event.listens_for(Engine, "before_execute")
def _send_later_writes_first(connection, *_args) -> None:
    if not connection.invalidated and connection.info.get(LATER):
        send_later_writes(connection)  # every statement sees the writes queued before it


@event.listens_for(Engine, "commit")
def _send_later_writes_at_commit(connection) -> None:
    if connection.invalidated:
        return
    try:
        failed = connection.info.pop(LATER_FAILED, None)
        if failed is not None:
            raise failed[0]
        send_later_writes(connection, commit=True)
    except BaseException:
        # The commit fails here, before the driver's: end the driver's transaction too (a
        # rollback after a failed commit reaches no driver, and SQLite's write lock would stay).
        if not connection.invalidated:
            _forget(connection.info)
            with contextlib.suppress(Exception):
                connection.connection.dbapi_connection.rollback()
        raise


@event.listens_for(Engine, "savepoint")
def _send_later_writes_before_a_savepoint(connection, name) -> None:
    if connection.invalidated:
        return
    send_later_writes(connection)  # they belong to the level around the savepoint
    if name is None:  # SQLAlchemy names it after this event: sa_savepoint_<its counter + 1>
        seq = getattr(connection, "_Connection__savepoint_seq", None)
        name = f"sa_savepoint_{seq + 1}" if seq is not None else None
    _savepoints(connection).append(name)


@event.listens_for(Engine, "release_savepoint")
def _send_later_writes_before_release(connection, name, _context) -> None:
    if connection.invalidated:
        return
    send_later_writes(connection)  # made inside: a failure rolls the savepoint back
    depth = _leave_savepoint(connection, name)
    failed = connection.info.get(LATER_FAILED)
    if failed is not None and failed[1] > depth:  # the savepoint's work now is its parent's
        connection.info[LATER_FAILED] = (failed[0], depth)


@event.listens_for(Engine, "rollback_savepoint")
def _forget_later_writes_of_a_savepoint(connection, name, _context) -> None:
    if connection.invalidated:
        return
    connection.info.pop(LATER, None)  # queued inside it (the SAVEPOINT sent those before)
    depth = _leave_savepoint(connection, name)
    failed = connection.info.get(LATER_FAILED)
    if failed is not None and failed[1] > depth:  # it failed inside: undone with the rest
        connection.info.pop(LATER_FAILED)


def _leave_savepoint(connection, name: str) -> int:
    """Forget the savepoint `name` and those inside it; the depth around it."""
    stack = _savepoints(connection)
    depth = stack.index(name) if name in stack else max(len(stack) - 1, 0)  # else the innermost
    del stack[depth:]
    return depth


@event.listens_for(Engine, "rollback")
def _forget_later_writes(connection) -> None:
    if not connection.invalidated:  # its info is out of reach then; the pool's checkin clears it
        _forget(connection.info)


def _forget(info: dict) -> None:
    for key in (LATER, LATER_FAILED, SAVEPOINTS):
        info.pop(key, None)


@event.listens_for(Pool, "checkin")
def _forget_later_writes_of_a_returned_connection(_dbapi_connection, record) -> None:
    if record is not None:
        _forget(record.info)


def adopt_inserted(session: Session, instance) -> None:
    """Make the object of a row just inserted with Core persistent, as if read from the
    database, without reading it back (every column must be set). A rollback of its
    transaction forgets it again, as it would forget a new object: the session must not keep
    an object of a row that is gone (its id may be given out again)."""
    make_transient_to_detached(instance)
    session.add(instance)
    note_core_write(session)
    transaction = session.get_nested_transaction() or session.get_transaction()
    current = [
        (obj, t) for obj, t in session.info.get(ADOPTED, ()) if _root(t) is _root(transaction)
    ]
    session.info[ADOPTED] = [*current, (instance, transaction)]


def _root(transaction):
    while transaction.parent is not None:
        transaction = transaction.parent
    return transaction


@event.listens_for(Session, "after_soft_rollback")
def _forget_adopted(session: Session, previous_transaction) -> None:
    adopted = session.info.get(ADOPTED)
    if not adopted:
        return
    kept = []
    for instance, transaction in adopted:
        inside, t = False, transaction
        while t is not None and not inside:
            inside, t = t is previous_transaction, t.parent
        if not inside:
            kept.append((instance, transaction))
        elif instance in session:
            session.expunge(instance)
    session.info[ADOPTED] = kept


WRITER_QUEUE = "sqlite_writer_queue"  # session.info key: the open lock file while writing


def _busy_timeout() -> float:
    """Seconds a writer waits in the queue: SQLite's own busy timeout."""
    return current_app.config.get("SQLITE_BUSY_TIMEOUT_MS", 10000) / 1000


def _writer_queue_path(session: Session) -> str | None:
    """The lock file beside a SQLite database file; None for other engines and in memory."""
    url = session.get_bind().url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if url.database.startswith("file:"):
        return None  # a URI (shared memory, read-only modes): SQLite's own lock only
    return f"{url.database}-writers.lock"


def _join_writer_queue(session: Session, timeout: float) -> None:
    """SQLite: wait for the write lock in a queue of our own (a file lock) before BEGIN
    IMMEDIATE. SQLite's busy handler sleeps 1, 2, 5, 10 … ms between tries, so a writer
    waiting behind another of 3 ms got its turn only after 8 ms; the file lock is polled every
    quarter of a millisecond. SQLite's own lock still decides: this only orders our writers.
    Raises DatabaseBusy after `timeout` seconds."""
    path = _writer_queue_path(session)
    if path is None or WRITER_QUEUE in session.info:
        return
    try:
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        return  # a read-only folder, say: SQLite's lock alone, as before
    deadline = time.monotonic() + timeout
    pause = 0.0001
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                os.close(handle)
                raise DatabaseBusy(busy_message()) from None
            time.sleep(pause)
            # A waiter wakes at most 0.25 ms after the lock is free: handing the lock on
            # late was a tenth of a booking under load (1 ms); waking costs ~10 µs of CPU.
            pause = min(pause * 2, 0.00025)
        except OSError:  # no file locks on this file system (some network mounts)
            os.close(handle)
            return
    session.info[WRITER_QUEUE] = handle


def _leave_writer_queue(session: Session) -> None:
    handle = session.info.pop(WRITER_QUEUE, None)
    if handle is not None:
        os.close(handle)  # closing the file releases its lock


def _is_lock_error(error: OperationalError) -> bool:
    text = str(error.orig).lower()
    return "locked" in text or "busy" in text


def begin_write(attempts: int = WRITE_LOCK_ATTEMPTS, keep_loaded: bool = False) -> None:
    """Make the session's transaction a writer (SQLite: BEGIN IMMEDIATE); idempotent.

    Never commits: a transaction that already wrote without the lock is a programming error
    (RuntimeError); one that only read is rolled back and begun again with the lock.
    PostgreSQL ignores the option (its row locks and constraints do the work).
    Raises DatabaseBusy, never a raw "database is locked".

    keep_loaded: SQLite ends the read transaction and begins the writing one on the same
    connection, so the objects read so far stay loaded (a rollback would expire them all and
    every one would be read again); the caller checks again under the lock what must be true.
    """
    session = db.session()  # the scoped session's current Session
    if session.in_transaction():
        if session.info.get("write_lock"):
            return
        if session.new or session.dirty or session.deleted or session.info.get("flushed"):
            raise RuntimeError("begin_write() must come before the transaction's first write")
        if keep_loaded and _keep_reader_as_writer(session):
            return
        session.rollback()  # only reads so far: nothing is lost
    timeout = _busy_timeout()
    for attempt in range(attempts):
        try:
            _join_writer_queue(session, timeout)
        except DatabaseBusy:
            continue  # the queue did not move within the timeout: one attempt spent
        try:
            session.connection(execution_options={"sqlite_immediate": True})
        except OperationalError as error:
            _leave_writer_queue(session)
            if not _is_lock_error(error):
                raise
            session.rollback()
            # SQLite's busy handler is not fair: step back a little, then queue again.
            time.sleep(random.uniform(0.05, 0.25) * (attempt + 1))  # noqa: S311
            continue
        except BaseException:
            _leave_writer_queue(session)
            raise
        session.info["write_lock"] = True
        return
    raise DatabaseBusy(busy_message())


def _keep_reader_as_writer(session: Session) -> bool:
    """Go on writing in a transaction that has only read. PostgreSQL: nothing to do (READ
    COMMITTED reads each statement's latest commits; rows and locks do the rest). SQLite:
    COMMIT the reads and BEGIN IMMEDIATE on the same connection; SQLAlchemy's transaction stays
    open around both (the driver runs in autocommit mode and our `begin` hook emits BEGIN
    itself, booking/db.py). False when this cannot be done here (a savepoint, or SQLite still
    busy): then the caller rolls back and queues as usual. Only for transactions that have
    read: a Core UPDATE or DELETE run before would be committed by the COMMIT here."""
    if session.in_nested_transaction():
        return False
    try:
        connection = session.connection()
    except OperationalError as error:
        if _is_lock_error(error):
            return False  # the usual way: roll back, queue and try again
        raise
    if connection.dialect.name != "sqlite":
        session.info["write_lock"] = True
        return True
    timeout = _busy_timeout()
    try:
        _join_writer_queue(session, timeout)
    except DatabaseBusy:
        return False  # the usual way decides, with its attempts
    try:
        connection.exec_driver_sql("COMMIT")  # only reads: nothing to keep
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except OperationalError as error:
        _leave_writer_queue(session)
        if not _is_lock_error(error):
            raise
        return False
    except BaseException:
        _leave_writer_queue(session)
        raise
    session.info["write_lock"] = True
    return True


def locks_late(view: Callable) -> Callable:
    """Mark a writing view that takes the write lock itself, after its reads: on SQLite its
    checks then run beside another request's write, and only the final check and the insert
    wait their turn (book_appointment)."""
    view.locks_late = True  # type: ignore[attr-defined]
    return view


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
    if _view_writes() and not _view_locks_late():
        begin_write()


def _view_locks_late() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "locks_late", False))


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
