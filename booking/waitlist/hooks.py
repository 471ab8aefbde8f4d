"""Offers follow every change that can free time, in the transaction of the change itself.

A transaction that changed appointments, holds or anything else the slot engine reads
(booking/schedule/inputs_cache.py notes it for the version bump) runs process_waitlist() for
the services touched just before it commits, unless it only added appointments or holds (they
take time, never give it): a cancellation, a move, new or longer hours or
a deleted absence reach the first suitable family at once, not only at the next worker round.
Inside a savepoint: when it fails, the change itself still commits and the worker catches up.
"""

from flask import current_app, has_app_context
from sqlalchemy import event, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from booking.db import utcnow
from booking.schedule.inputs_cache import PENDING, staff_service

RUNNING = "waitlist_processing"


@event.listens_for(Session, "before_commit", insert=True)  # before the versions are bumped
def _offer_after_change(session: Session) -> None:
    if not has_app_context() or session.in_nested_transaction() or session.info.get(RUNNING):
        return
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.get(PENDING)
    if not pending or not pending["frees"]:
        return  # nothing changed, or only new bookings and holds: they free no time
    from booking.waitlist.services import process_waitlist

    services: set[int] | None = None
    if not pending["everything"]:
        services = set(pending["services"])
        if pending["staff"]:
            services |= set(
                session.scalars(
                    select(staff_service.c.service_id).where(
                        staff_service.c.staff_id.in_(sorted(pending["staff"]))
                    )
                )
            )
    session.info[RUNNING] = True
    try:
        with session.begin_nested():
            process_waitlist(utcnow(), services, lock=False)
    except Exception as error:  # the change itself must not fail for its follow-up
        connection_lost = isinstance(error, DBAPIError) and error.connection_invalidated
        if connection_lost or not session.is_active:
            raise  # the transaction is gone: the change cannot commit either (503, not 500)
        current_app.logger.exception("waiting list not processed; the worker will retry")
    finally:
        session.info.pop(RUNNING, None)
