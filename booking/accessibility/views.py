"""Admins read the feedback on barriers and mark it answered; every view is audited."""

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from booking.accessibility import labels
from booking.accessibility.models import AccessibilityFeedback, FeedbackState
from booking.accessibility.services import set_state
from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.core.access import admin_required, me
from booking.core.forms import get_or_404
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db

bp = Blueprint("accessibility_admin", __name__, url_prefix="/admin/feedback")

PAGE_SIZE = 100


@bp.record_once
def _setup(state) -> None:
    labels.register()


@bp.route("/")
@admin_required
@writes
def index():
    state = request.args.get("state", "")
    query = select(AccessibilityFeedback).order_by(AccessibilityFeedback.id.desc()).limit(PAGE_SIZE)
    if state in {s.value for s in FeedbackState}:
        query = query.where(AccessibilityFeedback.state == state)
    counts = dict(
        db.session.execute(
            select(AccessibilityFeedback.state, func.count()).group_by(AccessibilityFeedback.state)
        ).all()
    )
    record_event("accessibility_feedback.listed", actor=me(), detail=state)
    return render_template(
        "accessibility/list.html",
        entries=db.session.scalars(query).all(),
        state=state,
        counts={s.value: counts.get(s, 0) for s in FeedbackState},
    )


@bp.route("/<int:feedback_id>")
@admin_required
@writes
def detail(feedback_id: int):
    entry = get_or_404(AccessibilityFeedback, feedback_id)
    record_event("accessibility_feedback.viewed", actor=me(), obj=entry)
    return render_template("accessibility/detail.html", entry=entry, confirm=ConfirmForm())


@bp.route("/<int:feedback_id>/state", methods=["POST"])
@admin_required
def change_state(feedback_id: int):
    entry = get_or_404(AccessibilityFeedback, feedback_id)
    wanted = request.form.get("state")
    if ConfirmForm().validate_on_submit() and wanted in {s.value for s in FeedbackState}:
        set_state(entry, FeedbackState(wanted), me(), utcnow())
        flash(
            _("Marked as answered.") if wanted == FeedbackState.ANSWERED else _("Marked as new."),
            "success",
        )
    return redirect(url_for(".detail", feedback_id=feedback_id), code=303)
