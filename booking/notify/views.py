from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from wtforms import BooleanField

from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.core.access import admin_required, staff_required
from booking.core.forms import get_or_404
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db
from booking.notify.models import OutboxMessage, OutboxStatus

bp = Blueprint("notify", __name__)

PAGE_SIZE = 100


class NotificationSettingsForm(FlaskForm):
    wants_daily_agenda = BooleanField()


@bp.route("/admin/outbox")
@admin_required
def outbox():
    status = request.args.get("status", "")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(PAGE_SIZE)
    if status in {s.value for s in OutboxStatus}:
        query = query.where(OutboxMessage.status == status)
    counts = dict(
        db.session.execute(
            select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)
        ).all()
    )
    return render_template(
        "notify/outbox.html",
        messages=db.session.scalars(query).all(),
        status=status,
        counts={s.value: counts.get(s, 0) for s in OutboxStatus},
    )


@bp.route("/admin/outbox/<int:message_id>")
@admin_required
@writes
def message(message_id: int):
    message = get_or_404(OutboxMessage, message_id)
    record_event("outbox.viewed", actor=current_user._get_current_object(), obj=message)
    return render_template("notify/message.html", message=message, confirm=ConfirmForm())


@bp.route("/admin/outbox/<int:message_id>/retry", methods=["POST"])
@admin_required
def retry(message_id: int):
    message = get_or_404(OutboxMessage, message_id)
    if ConfirmForm().validate_on_submit() and message.status == OutboxStatus.FAILED:
        message.status = OutboxStatus.PENDING
        message.attempts = 0
        message.next_attempt_at = utcnow()
        record_event("outbox.retry", actor=current_user._get_current_object(), obj=message)
        flash(_("The message will be sent again."), "success")
    return redirect(url_for(".message", message_id=message_id))


@bp.route("/account/notifications", methods=["GET", "POST"])
@staff_required
def settings():
    user = current_user._get_current_object()
    form = NotificationSettingsForm(obj=user)
    if form.validate_on_submit():
        user.wants_daily_agenda = bool(form.wants_daily_agenda.data)
        record_event("staff.settings_changed", actor=user, obj=user)
        flash(_("Saved."), "success")
        return redirect(url_for(".settings"))
    return render_template("notify/settings.html", form=form)
