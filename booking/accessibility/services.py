"""Feedback on barriers: kept for admins, sent to the accessibility contact, purged later."""

from dataclasses import dataclass
from datetime import datetime

from flask import current_app, render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select, update

from booking.accessibility.models import AccessibilityFeedback, FeedbackState
from booking.accessibility.retention import feedback_cutoff
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.core.urls import public_url
from booking.extensions import db
from booking.notify.models import OutboxChannel, OutboxMessage

MESSAGE_KIND = "accessibility_feedback"
ERASED = "–"


@dataclass(frozen=True)
class Feedback:
    message: str
    name: str | None = None
    contact: str | None = None
    page: str | None = None
    language: str = "de"


def blank_to_none(text: str | None) -> str | None:
    text = (text or "").strip()
    return text or None


def feedback_recipients() -> list[tuple[str, int | None]]:
    """The configured accessibility contact, else every active admin (address, staff id)."""
    contact = (current_app.config.get("ACCESSIBILITY_CONTACT_EMAIL") or "").strip()
    if contact:
        return [(contact, None)]
    admins = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.role == Role.ADMIN, StaffUser.active.is_(True))
        .order_by(StaffUser.id)
    )
    return [(admin.email, admin.id) for admin in admins]


def submit_feedback(feedback: Feedback, now: datetime) -> AccessibilityFeedback:
    """Keep the feedback for the admins' list and tell the contact (or the admins) by email."""
    entry = AccessibilityFeedback(
        created_at=now,
        message=feedback.message.strip(),
        name=blank_to_none(feedback.name),
        contact=blank_to_none(feedback.contact),
        page=blank_to_none(feedback.page),
        language=feedback.language,
        state=FeedbackState.NEW,
    )
    db.session.add(entry)
    db.session.flush()
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):  # staff read German
        subject = _("Barrier reported on the website (no. %(id)s)", id=entry.id)
        text = render_template(
            "notify/accessibility_feedback.txt",
            feedback=entry,
            admin_url=public_url(f"/admin/feedback/{entry.id}"),
        )
    for recipient, staff_id in feedback_recipients():
        db.session.add(
            OutboxMessage(
                kind=MESSAGE_KIND,
                channel=OutboxChannel.EMAIL,
                recipient=recipient,
                subject=subject[:200],
                body_text=text,
                staff_id=staff_id,
                created_at=now,
                next_attempt_at=now,
            )
        )
    record_event("accessibility_feedback.received", obj=entry)
    db.session.flush()
    return entry


def set_state(entry: AccessibilityFeedback, state: FeedbackState, actor, now: datetime) -> None:
    entry.state = state
    entry.answered_at = now if state == FeedbackState.ANSWERED else None
    entry.answered_by_id = actor.id if state == FeedbackState.ANSWERED else None
    record_event(f"accessibility_feedback.{state.value}", actor=actor, obj=entry)
    db.session.flush()


def purge_feedback(now: datetime) -> int:
    """Erase what someone typed (message, name, contact, page) once the retention has passed;
    the date, language and state stay (anonymous). Running it twice changes nothing more."""
    days = current_app.config["ACCESSIBILITY_FEEDBACK_RETENTION_DAYS"]
    return db.session.execute(
        update(AccessibilityFeedback)
        .where(
            AccessibilityFeedback.created_at < feedback_cutoff(now, days),
            AccessibilityFeedback.purged_at.is_(None),
        )
        .values(message=ERASED, name=None, contact=None, page=None, purged_at=now)
    ).rowcount
