from booking.audit.models import AuditEvent
from booking.auth.models import StaffUser
from booking.extensions import db


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
