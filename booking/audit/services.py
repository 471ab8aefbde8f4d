"""The audit log: append-only (database triggers refuse UPDATE and DELETE outside the purge)."""

from datetime import datetime

from sqlalchemy import delete, insert, text

from booking.audit.models import AuditEvent, AuditPurgeMarker
from booking.auth.models import StaffUser
from booking.extensions import db

# The transaction-local setting the PostgreSQL trigger looks for (migration 0016).
PURGE_SETTING = "sprechstunde.purge"


def record_event(
    action: str,
    actor: StaffUser | None = None,
    obj: object | None = None,
    detail: str = "",
) -> AuditEvent:
    """Add an audit event to the current transaction (never personal data of families in detail)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        object_type=getattr(obj, "__tablename__", None),
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        detail=detail[:500],
    )
    db.session.add(event)
    return event


def purge_audit(login_cutoff: datetime, audit_cutoff: datetime) -> tuple[int, int]:
    """Delete login records before `login_cutoff` and every entry before `audit_cutoff`.

    The only code that may delete audit entries: it unlocks the triggers for its own
    transaction only. Returns (login records, other entries) deleted.
    """
    from booking.privacy.retention import LOGIN_ACTIONS

    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(text(f"SET LOCAL {PURGE_SETTING} = 'on'"))
    else:
        db.session.execute(insert(AuditPurgeMarker).values(id=1))
    logins = db.session.execute(
        delete(AuditEvent).where(AuditEvent.action.in_(LOGIN_ACTIONS), AuditEvent.at < login_cutoff)
    ).rowcount
    entries = db.session.execute(delete(AuditEvent).where(AuditEvent.at < audit_cutoff)).rowcount
    if dialect == "postgresql":
        db.session.execute(text(f"SET LOCAL {PURGE_SETTING} = 'off'"))
    else:
        db.session.execute(delete(AuditPurgeMarker))
    return logins, entries
