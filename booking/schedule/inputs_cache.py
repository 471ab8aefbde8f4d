"""Slot inputs cached per process, keyed by versions that every schedule change bumps.

Every worker and every server reads the versions from the database, so they agree: a change
committed anywhere makes every cached entry of the services it touches unreachable.
- An appointment written through the ORM bumps its service's `slots_version`, and that of every
  service its caseworker (before and after) is assigned to: busy time is the caseworker's.
- Anything else the slot engine reads (hours, absences, closures, staff, offices, services) bumps
  the global `schedule_version`, as does any bulk statement on those tables.
Both bumps run at the end of the writing transaction, so a rollback leaves them as they were.
Entries also expire after SLOT_CACHE_SECONDS, for changes made outside the app (a restore).
"""

import threading
import time as clock
from collections import OrderedDict
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from booking.core.transactions import queue_write
from booking.db import AnyOf, IdList

# Tables the slot engine's inputs come from. Appointments are counted per service.
GLOBAL_TABLES = frozenset(
    {
        "absence",
        "closure",
        "weekly_hours",
        "office",
        "service",
        "staff_user",
        "staff_office",
        "staff_service",
        "staff_language",
    }
)
APPOINTMENT_TABLE = "appointment"
# Tables of busy time per caseworker and service (appointments, waiting-list holds).
SERVICE_TABLES = frozenset({APPOINTMENT_TABLE, "waitlist_offer"})
TAKING_TABLES = frozenset({"absence", "closure"})  # a new row of these never frees time
CHANGED = "schedule_changed"  # session.info key: this transaction changed schedule data
READ_WITH = "schedule_versions_read_with"  # session.info key: (service id, versions) just read
PENDING = "schedule_versions_pending"  # session.info key: what to bump at commit
MAX_ENTRIES = 512

schedule_version = sa.table("schedule_version", sa.column("id"), sa.column("version"))
service_table = sa.table("service", sa.column("id"), sa.column("slots_version"))
staff_service = sa.table("staff_service", sa.column("staff_id"), sa.column("service_id"))


class InputsCache:
    """A small LRU of computed slot inputs with an age limit; safe across threads."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.entries: OrderedDict[tuple, tuple[float, Any]] = OrderedDict()
        self.lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: tuple) -> Any | None:
        with self.lock:
            found = self.entries.get(key)
            if found is None or clock.monotonic() - found[0] > self.seconds:
                self.misses += 1
                return None
            self.entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(self, key: tuple, value: Any) -> None:
        with self.lock:
            self.entries[key] = (clock.monotonic(), value)
            self.entries.move_to_end(key)
            while len(self.entries) > MAX_ENTRIES:
                self.entries.popitem(last=False)


def app_cache(name: str) -> InputsCache | None:
    """The app's cache called `name` (one per app: tests build many), None when
    SLOT_CACHE_SECONDS is 0."""
    seconds = current_app.config.get("SLOT_CACHE_SECONDS", 0)
    if not seconds:
        return None
    cache = current_app.extensions.get(name)
    if cache is None:
        cache = current_app.extensions[name] = InputsCache(seconds)
    return cache


def current_versions(session: Session, service_id: int) -> tuple[int, int] | None:
    """(global, service) versions as committed or as this transaction sees them; None when
    this transaction changed schedule data itself (its own view must not be cached)."""
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()  # a Core select does not autoflush: pending changes count as changes
    read_with = session.info.pop(READ_WITH, None)
    if session.info.get(CHANGED):
        return None
    if read_with is not None and read_with[0] == service_id:
        return read_with[1]
    # On the connection: the ORM's execution context would cost more than the read itself.
    row = session.connection().execute(_versions_statement(), {"service_id": service_id}).first()
    return (row[0], row[1]) if row else None


def versions_with(*columns) -> sa.Select:
    """The two versions of the service `service_id` and then `columns` (scalar subqueries),
    in one row: a booking reads them with its per-contact count, one statement less
    (remember_versions hands them to the next current_versions)."""
    return _versions_statement().add_columns(*columns)


def remember_versions(session: Session, service_id: int, row) -> None:
    """The versions of a versions_with row, for this transaction's next current_versions of
    the service (once: a later one reads again)."""
    session.info[READ_WITH] = (service_id, (row[0], row[1]))


# Built once: these run on every slot read and every booking.
@cache
def _versions_statement():
    return (
        sa.select(schedule_version.c.version, service_table.c.slots_version)
        .select_from(schedule_version)
        .join(service_table, sa.true())
        .where(schedule_version.c.id == 1, service_table.c.id == sa.bindparam("service_id"))
    )


@cache
def _bump_statements():
    everything = (
        sa.update(schedule_version)
        .where(schedule_version.c.id == 1)
        .values(version=schedule_version.c.version + 1)
    )
    of_staff = sa.select(staff_service.c.service_id).where(
        AnyOf(staff_service.c.staff_id, sa.bindparam("staff_ids", type_=IdList()))
    )
    services = (
        sa.update(service_table)
        .where(
            sa.or_(
                AnyOf(service_table.c.id, sa.bindparam("service_ids", type_=IdList())),
                service_table.c.id.in_(of_staff),
            )
        )
        .values(slots_version=service_table.c.slots_version + 1)
    )
    return everything, services


def _bump(connection, service_ids: set[int], everything: bool, staff_ids=frozenset()) -> None:
    # Queued: sent with the booking's other last writes, then COMMIT (write_later).
    bump_everything, bump_services = _bump_statements()
    if everything:
        queue_write(connection, bump_everything)
    if service_ids or staff_ids:
        queue_write(
            connection,
            bump_services,
            {"service_ids": sorted(service_ids), "staff_ids": sorted(staff_ids)},
        )


# Columns no slot, hour or cached page depends on: a staff login (last_login_at) must not
# empty every worker's cache and run a waiting-list round.
NOT_SCHEDULE = {
    "staff_user": frozenset(
        {
            "last_login_at",
            "updated_at",
            "session_token",
            "password_hash",
            "calendar_token_hash",
            "wants_daily_agenda",
        }
    )
}


def _changes_schedule(session: Session, instance, table: str) -> bool:
    if not session.is_modified(instance):
        return False
    ignored = NOT_SCHEDULE.get(table)
    if not ignored:
        return True
    changed = {attr.key for attr in sa.inspect(instance).attrs if attr.history.has_changes()}
    return not changed <= ignored


def _table_of(instance) -> str | None:
    table = getattr(type(instance), "__table__", None)
    return getattr(table, "name", None)


def _pending(session: Session) -> dict:
    return session.info.setdefault(
        PENDING, {"services": set(), "staff": set(), "everything": False, "frees": False}
    )


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    service_ids: set[int] = set()
    staff_ids: set[int] = set()
    everything = False
    frees = False  # may this change give time back (for the waiting list)? A new row only takes
    for instance in (*session.new, *session.dirty, *session.deleted):
        table = _table_of(instance)
        if table in SERVICE_TABLES:
            if instance in session.dirty and not session.is_modified(instance):
                continue
            frees = frees or instance not in session.new
            if instance.service_id is not None:
                service_ids.add(instance.service_id)
            history = sa.inspect(instance).attrs.staff_id.history
            staff_ids.update(i for i in (*history.sum(), instance.staff_id) if i is not None)
        elif table in GLOBAL_TABLES:
            if instance in session.dirty and not _changes_schedule(session, instance, table):
                continue
            everything = True
            # A new absence or closure only takes time: no waiting-list round for it (which
            # would lock other caseworkers while this one's absence holds its lock).
            frees = frees or not (table in TAKING_TABLES and instance in session.new)
    if service_ids or staff_ids or everything:
        session.info[CHANGED] = True
        pending = _pending(session)
        pending["services"] |= service_ids
        pending["staff"] |= staff_ids
        pending["everything"] = pending["everything"] or everything
        pending["frees"] = pending["frees"] or frees


def note_taken_time(session: Session, service_id: int, staff_id: int) -> None:
    """An appointment was inserted with Core (a booking): the versions rise at commit as for
    one flushed by the ORM (_after_flush). A new row takes time, never frees it."""
    session.info[CHANGED] = True
    pending = _pending(session)
    pending["services"].add(service_id)
    pending["staff"].add(staff_id)


@event.listens_for(Session, "do_orm_execute")
def _bulk_statement(state) -> None:
    if not (state.is_insert or state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    name = getattr(table, "name", None)
    if name in SERVICE_TABLES or name in GLOBAL_TABLES:
        state.session.info[CHANGED] = True
        pending = _pending(state.session)
        pending["everything"] = pending["frees"] = True


@event.listens_for(Session, "before_commit")
def _bump_at_commit(session: Session) -> None:
    """The versions rise last, just before COMMIT: on PostgreSQL the service row stays locked
    only for the commit itself, so bookings of one service do not queue behind each other."""
    if session.in_nested_transaction():
        return  # a savepoint: the bump waits for the real commit
    if session.new or session.dirty or session.deleted:
        session.flush()  # changes not flushed yet count too (commit would flush them after us)
    pending = session.info.pop(PENDING, None)
    if pending is None:
        return
    _bump(session.connection(), pending["services"], pending["everything"], pending["staff"])


@event.listens_for(Session, "after_transaction_end")
def _transaction_over(session: Session, transaction) -> None:
    if transaction.parent is None:  # the real transaction, not a savepoint
        session.info.pop(CHANGED, None)
        session.info.pop(READ_WITH, None)
        session.info.pop(PENDING, None)
