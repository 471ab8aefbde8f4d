"""Labels of the feedback codes for staff pages, added to the shared `label` filter's tables."""

from flask_babel import lazy_gettext as _l

FEEDBACK_STATE_LABELS = {"new": _l("new"), "answered": _l("answered")}
AUDIT_LABELS = {
    "accessibility_feedback.received": _l("barrier reported"),
    "accessibility_feedback.refused": _l("barrier report refused"),
    "accessibility_feedback.listed": _l("feedback on accessibility listed"),
    "accessibility_feedback.viewed": _l("feedback on accessibility viewed"),
    "accessibility_feedback.answered": _l("feedback on accessibility marked answered"),
    "accessibility_feedback.new": _l("feedback on accessibility marked new"),
}


def register() -> None:
    """Put the feedback codes into the shared label tables (idempotent)."""
    from booking import templating
    from booking.accessibility.services import MESSAGE_KIND

    templating.LABELS["feedback_state"] = FEEDBACK_STATE_LABELS
    templating.LABELS["audit_action"].update(AUDIT_LABELS)
    templating.LABELS["object_type"]["accessibility_feedback"] = _l("feedback on accessibility")
    templating.LABELS["outbox_kind"][MESSAGE_KIND] = _l("barrier reported")
