"""Labels of the queue's codes for staff pages, added to the shared `label` filter's tables."""

from flask_babel import lazy_gettext as _l

QUEUE_STATE_LABELS = {
    "waiting": _l("waiting"),
    "called": _l("called"),
    "served": _l("served"),
    "left": _l("left"),
}
QUEUE_KIND_LABELS = {"walk_in": _l("walk-in"), "appointment": _l("appointment")}
AUDIT_LABELS = {
    "queue.viewed": _l("waiting queue viewed"),
    "queue.checked_in": _l("checked in to the waiting queue"),
    "queue.called": _l("called from the waiting queue"),
    "queue.served": _l("served from the waiting queue"),
    "queue.left": _l("left the waiting queue"),
}
OBJECT_LABELS = {"queue_entry": _l("waiting queue entry")}


def register() -> None:
    """Put the queue codes into the shared label tables (idempotent)."""
    from booking import templating

    templating.LABELS["queue_state"] = QUEUE_STATE_LABELS
    templating.LABELS["queue_kind"] = QUEUE_KIND_LABELS
    templating.LABELS["audit_action"].update(AUDIT_LABELS)
    templating.LABELS["object_type"].update(OBJECT_LABELS)
