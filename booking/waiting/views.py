"""The reception's queue page, "call next", and the public waiting-room screen.

Views never commit (the request does); every POST ends in a redirect to the queue page unless
it shows a form again with what was typed (422)."""

from datetime import datetime, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.core.access import me, my_offices, office_or_404, public, staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error
from booking.core.transactions import writes
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office
from booking.templating import format_clock
from booking.waiting import DISPLAY_REFRESH_SECONDS, labels
from booking.waiting.forms import AppointmentCheckInForm, CallForm, WalkInForm, focus_first_error
from booking.waiting.models import QueueEntry, QueueState
from booking.waiting.services import (
    berlin_day,
    call_entry,
    call_next,
    called_numbers,
    check_in_appointment,
    check_in_walk_in,
    day_queue,
    is_due,
    leave_entry,
    open_hours,
    place_of,
    public_status,
    serve_entry,
    waiting_count,
)

bp = Blueprint("waiting", __name__)


@bp.record_once
def _setup(state) -> None:
    labels.register()
    state.app.jinja_env.globals["queue_status_for"] = queue_status_for
    state.app.jinja_env.filters["wait_minutes"] = wait_minutes


def queue_status_for(office: Office):
    """For the office's public page: counts and the estimate during the hours, else None."""
    return public_status(office, utcnow())


def wait_minutes(value: timedelta) -> int:
    return max(0, int(value.total_seconds() // 60))


def entry_or_404(office: Office, entry_id: int) -> QueueEntry:
    entry = db.session.get(QueueEntry, entry_id)
    if entry is None or entry.office_id != office.id:
        abort(404)
    return entry


def queue_url(office: Office) -> str:
    return url_for("waiting.queue", slug=office.slug)


def render_queue(office: Office, walk_in_form=None, appointment_form=None, call_form=None):
    # The list shows first names and notes of families: every page of it is audited (also
    # the one answering a refused action), with the office's id only.
    record_event("queue.viewed", actor=me(), obj=office)
    now = utcnow()
    entries = day_queue(office, berlin_day(now))
    if call_form is None:
        call_form = CallForm(prefix="call", formdata=None, place=place_of(me(), office))
    for form in (walk_in_form, appointment_form, call_form):
        if form is not None:
            focus_first_error(form)
    return render_template(
        "waiting/queue.html",
        office=office,
        now=now,
        hours=open_hours(office, now),
        waiting=[entry for entry in entries if entry.state == QueueState.WAITING],
        called=[entry for entry in entries if entry.state == QueueState.CALLED],
        done=[entry for entry in entries if entry.state in (QueueState.SERVED, QueueState.LEFT)],
        is_due=lambda entry: is_due(entry, now),
        walk_in_form=walk_in_form or WalkInForm(prefix="walkin", formdata=None),
        appointment_form=appointment_form or AppointmentCheckInForm(prefix="appt", formdata=None),
        call_form=call_form,
        confirm=ConfirmForm(),
    )


@bp.route("/queue/")
@staff_required
def index():
    offices = my_offices()
    if len(offices) == 1:
        return redirect(queue_url(offices[0]))
    return render_template("waiting/index.html", offices=offices)


@bp.route("/queue/<slug>")
@staff_required
@writes
def queue(slug: str):
    return render_queue(office_or_404(slug))


@bp.route("/queue/<slug>/walk-in", methods=["POST"])
@staff_required
def walk_in(slug: str):
    office = office_or_404(slug)
    form = WalkInForm(prefix="walkin")
    if form.validate_on_submit():
        try:
            entry = check_in_walk_in(office, form.name.data, form.note.data, me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(
                _("Checked in: waiting number %(number)s.", number=entry.display_number), "success"
            )
            return redirect(queue_url(office), code=303)
    return render_queue(office, walk_in_form=form), 422


@bp.route("/queue/<slug>/appointment", methods=["POST"])
@staff_required
def appointment(slug: str):
    office = office_or_404(slug)
    form = AppointmentCheckInForm(prefix="appt")
    if form.validate_on_submit():
        try:
            entry = check_in_appointment(office, form.reference.data, me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            attach_error(form, error)
        else:
            flash(
                _(
                    "Appointment at %(time)s checked in: waiting number %(number)s.",
                    time=format_clock(entry.appointment.starts_at),
                    number=entry.display_number,
                ),
                "success",
            )
            return redirect(queue_url(office), code=303)
    return render_queue(office, appointment_form=form), 422


def called_message(entry: QueueEntry) -> str:
    return _("%(number)s is called to %(place)s.", number=entry.display_number, place=entry.place)


@bp.route("/queue/<slug>/call", methods=["POST"])
@staff_required
def call(slug: str):
    """Call next (no entry given) or the entry whose row button was pressed."""
    office = office_or_404(slug)
    form = CallForm(prefix="call")
    raw_entry = request.form.get("entry", "")
    entry = None
    if raw_entry:
        if not raw_entry.isdigit() or len(raw_entry) > 18:
            abort(404)
        entry = entry_or_404(office, int(raw_entry))
    if form.validate_on_submit():
        try:
            if entry is None:
                entry = call_next(office, me(), form.place.data, utcnow())
            else:
                call_entry(entry, me(), form.place.data, utcnow())
        except BookingError as error:
            db.session.rollback()
            if error.field == "place":
                attach_error(form, error)
                return render_queue(office, call_form=form), 422
            flash(str(error.message), "error")
        else:
            flash(called_message(entry), "success")
        return redirect(queue_url(office), code=303)
    return render_queue(office, call_form=form), 422


def row_action(slug: str, entry_id: int, action, success: str):
    office = office_or_404(slug)
    entry = entry_or_404(office, entry_id)
    if ConfirmForm().validate_on_submit():
        try:
            action(entry, me(), utcnow())
        except BookingError as error:
            db.session.rollback()
            flash(str(error.message), "error")
        else:
            flash(success % {"number": entry.display_number}, "success")
    return redirect(queue_url(office), code=303)


@bp.route("/queue/<slug>/entries/<int:entry_id>/served", methods=["POST"])
@staff_required
def served(slug: str, entry_id: int):
    return row_action(slug, entry_id, serve_entry, _("%(number)s: served."))


@bp.route("/queue/<slug>/entries/<int:entry_id>/left", methods=["POST"])
@staff_required
def left(slug: str, entry_id: int):
    return row_action(slug, entry_id, leave_entry, _("%(number)s: left the queue."))


@bp.route("/offices/<slug>/display")
@public
def display(slug: str):
    """The waiting-room screen: called numbers and where to go; never names or notes."""
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    if office is None:
        abort(404)
    now: datetime = utcnow()
    called = called_numbers(office, now)
    return render_template(
        "waiting/display.html",
        office=office,
        now=now,
        latest=called[0] if called else None,
        earlier=called[1:],
        waiting=waiting_count(office, now),
        hours=open_hours(office, now),
        # ?refresh=off stops the reloading for a reader who needs the time (WCAG 2.2.1).
        refresh=0 if request.args.get("refresh") == "off" else DISPLAY_REFRESH_SECONDS,
    )
