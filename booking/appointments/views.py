from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.appointments.booking import (
    NotASlot,
    move_appointment,
    restore_appointment,
)
from booking.appointments.forms import CancelForm, MoveForm, NoteForm, held_label, parse_week
from booking.appointments.models import Appointment, AppointmentStatus
from booking.appointments.services import (
    add_internal_note,
    can_see_appointment,
    cancel_by_staff,
    mark_attended,
    mark_no_show,
    require_access,
)
from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.core.access import staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, get_or_404
from booking.core.transactions import DatabaseBusy, writes
from booking.db import utcnow
from booking.extensions import db
from booking.public.services import parse_start, slot_week, week_choices
from booking.schedule.agenda import local_today

bp = Blueprint("appointments", __name__, url_prefix="/appointments")


def load(appointment_id: int) -> Appointment:
    appointment = get_or_404(Appointment, appointment_id)
    if not can_see_appointment(current_user, appointment):
        abort(403)
    return appointment


def move_form_for(appointment: Appointment, formdata=None, week_text: str | None = None):
    """Free times of the same service in the week asked for (else the earliest free week), the
    appointment's own time included; no time chosen until staff choose one."""
    form = MoveForm(formdata=formdata)
    form.start.choices = []
    form.shown = None
    if appointment.status == AppointmentStatus.BOOKED:
        now = utcnow()
        service = appointment.service
        asked = parse_week(week_text, local_today(now), service.horizon_days)
        form.shown = slot_week(service, asked, now, exclude_appointment_id=appointment.id)
        form.start.choices = week_choices(form.shown, held_label())
        form.week.data = form.shown.first.isoformat()
    return form


def render_detail(
    appointment: Appointment,
    cancel_form=None,
    note_form=None,
    move_form=None,
    action_error: str | None = None,
):
    return render_template(
        "appointments/detail.html",
        appointment=appointment,
        cancel_form=cancel_form or CancelForm(formdata=None),
        note_form=note_form or NoteForm(formdata=None),
        move_form=move_form or move_form_for(appointment, week_text=request.args.get("week")),
        confirm=ConfirmForm(),
        action_error=action_error,
        now=utcnow(),
    )


def refusal_status(error: BookingError, chosen_time: bool = False) -> int:
    """422 when the time staff chose is no bookable time (closed, outside hours); 409 when
    another booking, an absence or the appointment's own state stands in the way."""
    if isinstance(error, DatabaseBusy):
        return 503
    if chosen_time and isinstance(error, NotASlot):
        return 422
    return 409


@bp.route("/<int:appointment_id>")
@staff_required
@writes
def detail(appointment_id: int):
    appointment = load(appointment_id)
    # Opening a family's record is access to social data: audit it.
    record_event("appointment.viewed", actor=current_user._get_current_object(), obj=appointment)
    return render_detail(appointment)


def run_action(appointment_id: int, action, success: str):
    """A button on the appointment's page: redirect with a message, or show the refusal."""
    appointment = load(appointment_id)
    if ConfirmForm().validate_on_submit():
        try:
            action(appointment, current_user._get_current_object(), utcnow())
        except BookingError as error:
            db.session.rollback()
            appointment = load(appointment_id)
            return render_detail(appointment, action_error=str(error.message)), refusal_status(
                error
            )
        flash(success, "success")
    return redirect(url_for(".detail", appointment_id=appointment_id))


@bp.route("/<int:appointment_id>/attended", methods=["POST"])
@staff_required
def attended(appointment_id: int):
    return run_action(appointment_id, mark_attended, _("Marked as attended."))


@bp.route("/<int:appointment_id>/no-show", methods=["POST"])
@staff_required
def no_show(appointment_id: int):
    return run_action(appointment_id, mark_no_show, _("Marked as no-show."))


@bp.route("/<int:appointment_id>/cancel", methods=["POST"])
@staff_required
def cancel(appointment_id: int):
    appointment = load(appointment_id)
    form = CancelForm()
    if form.validate_on_submit():
        try:
            cancel_by_staff(
                appointment, form.reason.data, current_user._get_current_object(), utcnow()
            )
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("The appointment is cancelled; the time is free again."), "success")
            return redirect(url_for(".detail", appointment_id=appointment_id))
    return render_detail(appointment, cancel_form=form), 422


@bp.route("/<int:appointment_id>/note", methods=["POST"])
@staff_required
def note(appointment_id: int):
    appointment = load(appointment_id)
    form = NoteForm()
    if form.validate_on_submit():
        try:
            add_internal_note(
                appointment, form.note.data, current_user._get_current_object(), utcnow()
            )
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(_("Note added."), "success")
            return redirect(url_for(".detail", appointment_id=appointment_id))
    return render_detail(appointment, note_form=form), 422


def restore(appointment, actor, now):
    require_access(actor, appointment)
    restore_appointment(appointment, actor, now)


@bp.route("/<int:appointment_id>/restore", methods=["POST"])
@staff_required
def restore_cancelled(appointment_id: int):
    return run_action(appointment_id, restore, _("The appointment is booked again."))


@bp.route("/<int:appointment_id>/move", methods=["POST"])
@staff_required
def move(appointment_id: int):
    appointment = load(appointment_id)
    form = move_form_for(appointment, formdata=request.form, week_text=request.form.get("week"))
    status = 422
    if form.validate_on_submit():
        start = parse_start(form.start.data)
        try:
            if start is None:
                raise NotASlot(_l("Please choose a time."), field="start")
            move_appointment(appointment, start, utcnow(), actor=current_user._get_current_object())
        except BookingError as error:
            db.session.rollback()
            status = refusal_status(error, chosen_time=True)
            appointment = load(appointment_id)
            # What is free now, in the same week; the refused time is no longer chosen.
            form = move_form_for(appointment, week_text=form.week.data)
            form.start.errors = [str(error.message)]
            if not form.shown:  # no longer movable: the move form is gone, say it above
                return render_detail(appointment, action_error=str(error.message)), status
        else:
            flash(
                _("Moved. The family gets a message with the new time and a new link."),
                "success",
            )
            return redirect(url_for(".detail", appointment_id=appointment_id))
    return render_detail(appointment, move_form=form), status
