"""Labels of the callback codes for staff pages, added to the shared `label` filter's tables."""

from flask_babel import lazy_gettext as _l

from booking.callbacks.forms import attempt_outcome_choices, close_outcome_choices
from booking.callbacks.services import MESSAGE_KIND_UNREACHABLE

CALLBACK_STATUS_LABELS = {"new": _l("new"), "assigned": _l("assigned"), "closed": _l("closed")}
CALLBACK_SOURCE_LABELS = {
    "reception": _l("phone call to reception"),
    "online": _l("online form"),
    "api": _l("telephone system"),
}
CALLBACK_EVENT_LABELS = {
    "created": _l("request taken"),
    "called_again": _l("caller rang again"),
    "assigned": _l("assigned"),
    "claimed": _l("claimed"),
    "attempt": _l("call attempt"),
    "note_added": _l("note added"),
    "closed": _l("closed"),
    "message_queued": _l("message to the caller queued"),
}
AUDIT_LABELS = {
    "callback.created": _l("callback request taken"),
    "callback.called_again": _l("callback request: caller rang again"),
    "callback.assigned": _l("callback request assigned"),
    "callback.claimed": _l("callback request claimed"),
    "callback.attempt": _l("callback attempt recorded"),
    "callback.note_added": _l("callback request: note added"),
    "callback.closed": _l("callback request closed"),
    "callback.message_queued": _l("callback request: message to the caller queued"),
    "callback.viewed": _l("callback request viewed"),
    "callback.duplicate_shown": _l("open callback request shown for a repeated call"),
    "callback.refused": _l("callback request refused (online form)"),
    "callback.queue_viewed": _l("callback queue viewed"),
    "callback.api_key_created": _l("telephone system key created"),
    "callback.api_key_revoked": _l("telephone system key revoked"),
}
OBJECT_LABELS = {
    "callback_request": _l("callback request"),
    "callback_api_key": _l("telephone system key"),
}
WEEKDAY_SHORT = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
}
HALF_DAY_LABELS = {"am": _l("morning"), "pm": _l("afternoon")}


def weekday_label(day: str) -> str:
    """A row of the reach-time grid ("mon" -> "Montag"): never cut from the two-word label,
    whose half-day may be several words in a language."""
    return str(WEEKDAY_SHORT[day])


def reachable_label(code: str) -> str:
    day, half = code.split("-")
    return f"{WEEKDAY_SHORT[day]} {HALF_DAY_LABELS[half]}"


def register() -> None:
    """Put the callback codes into the shared label tables (idempotent)."""
    from booking import templating

    templating.LABELS["callback_status"] = CALLBACK_STATUS_LABELS
    templating.LABELS["callback_source"] = CALLBACK_SOURCE_LABELS
    templating.LABELS["callback_event"] = CALLBACK_EVENT_LABELS
    templating.LABELS["callback_outcome"] = dict(close_outcome_choices())
    templating.LABELS["attempt_outcome"] = dict(attempt_outcome_choices())
    templating.LABELS["audit_action"].update(AUDIT_LABELS)
    templating.LABELS["object_type"].update(OBJECT_LABELS)
    templating.LABELS["outbox_kind"][MESSAGE_KIND_UNREACHABLE] = _l(
        "callback: could not reach the caller"
    )
