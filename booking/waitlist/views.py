"""Staff: the waiting list per service (length, median time to an offer, who holds which
offer), and reception putting a caller on it from the desk or a callback request."""

from babel.dates import get_day_names
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, get_locale, ngettext
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.appointments.booking import InvalidFamilyDetails
from booking.appointments.models import Channel
from booking.audit.services import record_event
from booking.auth.forms import ConfirmForm
from booking.callbacks.services import national_format
from booking.core.access import staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import attach_error, attach_field_errors, get_or_404
from booking.core.transactions import writes
from booking.db import utcnow
from booking.desk.views import callback_or_abort, my_services, service_or_403
from booking.extensions import db
from booking.public.forms import language_choices
from booking.templating import format_day
from booking.waitlist.forms import wish_choices
from booking.waitlist.models import EntryStatus, WaitlistEntry, WaitlistOffer
from booking.waitlist.services import (
    AlreadyWaiting,
    WaitlistError,
    accept_offer,
    decline_offer,
    join_from_form,
    leave_waitlist,
    service_list,
)
from booking.waitlist.staff_forms import StaffWaitlistForm

bp = Blueprint("waitlist", __name__, url_prefix="/waitlist")


@bp.route("/")
@staff_required
def index():
    services = my_services()
    counts = dict(
        db.session.execute(
            select(WaitlistEntry.service_id, db.func.count())
            .where(
                WaitlistEntry.status == EntryStatus.WAITING,
                WaitlistEntry.service_id.in_([s.id for s in services]),
            )
            .group_by(WaitlistEntry.service_id)
        ).all()
    )
    return render_template("waitlist/index.html", services=services, counts=counts)


@bp.route("/service/<slug>")
@staff_required
@writes
def service(slug: str):
    found = service_or_403(slug)
    listing = service_list(found)
    record_event("waitlist.viewed", actor=current_user._get_current_object(), obj=found)
    return render_template(
        "waitlist/service.html",
        listing=listing,
        weekday_names=get_day_names("abbreviated", locale=get_locale()),
        median_wait=time_to_offer(listing.median_days),
        confirm=ConfirmForm(),
    )


def time_to_offer(days: float | None) -> str | None:
    """The median time from joining to the first offer as staff read it: days with one
    decimal from a day on, whole hours below (an offer made on the day of joining showed as
    "0.0 days"), and "less than an hour" below that."""
    if days is None:
        return None
    if days >= 1:
        return _("%(days)s days", days=format_decimal(days, format="#,##0.0"))
    hours = round(days * 86400) // 3600
    if hours < 1:
        return _("less than an hour")
    return ngettext("%(num)d hour", "%(num)d hours", hours)


def already_waiting(entry: WaitlistEntry) -> str:
    """For staff: who already holds the place, and since when (the list shows them)."""
    return _(
        "%(name)s is already on this waiting list with this email address or phone number, "
        "since %(date)s. One family can have only one place on a list.",
        name=entry.family_name,
        date=format_day(entry.joined_at),
    )


@bp.route("/service/<slug>/add", methods=["GET", "POST"])
@staff_required
def add(slug: str):
    found = service_or_403(slug)
    form = StaffWaitlistForm()
    form.language.choices = language_choices()
    wish_choices(form)
    raw = request.args.get("callback") if request.method == "GET" else form.callback.data
    callback = callback_or_abort(raw, found.office)
    if request.method == "GET" and callback is not None:
        form.callback.data = str(callback.id)
        form.channel.data = Channel.PHONE.value
        form.name.data = callback.caller_name
        form.phone.data = national_format(callback.phone)
        form.email.data = callback.email or ""
        if callback.language in dict(form.language.choices):
            form.language.data = callback.language
        form.interpreter_needed.data = callback.interpreter_needed
    status = 200
    if request.method == "POST":
        status = 422
        if form.validate_on_submit():
            try:
                entry, _token = join_from_form(
                    found,
                    form.data,
                    utcnow(),
                    channel=Channel(form.channel.data),
                    actor=current_user._get_current_object(),
                    callback_id=callback.id if callback else None,
                    require_contact=False,
                )
            except InvalidFamilyDetails as error:
                attach_field_errors(form, error.errors)
            except AlreadyWaiting as error:
                attach_field_errors(form, {error.field: already_waiting(error.entry)})
            except WaitlistError as error:
                attach_error(form, error)
            else:
                flash(_("%(name)s is on the waiting list.", name=entry.family_name), "success")
                return redirect(url_for(".service", slug=found.slug))
    return render_template("waitlist/add.html", service=found, form=form, callback=callback), status


@bp.route("/entry/<int:entry_id>/remove", methods=["POST"])
@staff_required
def remove(entry_id: int):
    entry = get_or_404(WaitlistEntry, entry_id)
    service_or_403(entry.service.slug)
    leave_waitlist(entry, utcnow(), actor=current_user._get_current_object())
    flash(_("Taken off the waiting list."), "success")
    return redirect(url_for(".service", slug=entry.service.slug))


@bp.route("/offer/<int:offer_id>/<action>", methods=["POST"])
@staff_required
def decide(offer_id: int, action: str):
    """Staff answer an offer for the family (who called, or has no email or mobile): book the
    held time for them, or let it go to the next family."""
    offer = get_or_404(WaitlistOffer, offer_id)
    service_or_403(offer.service.slug)
    if action not in ("book", "decline"):
        abort(404)
    actor = current_user._get_current_object()
    try:
        if action == "book":
            booking = accept_offer(offer, utcnow(), actor=actor)
            flash(_("Booked: %(ref)s.", ref=booking.appointment.reference), "success")
            return redirect(url_for("appointments.detail", appointment_id=booking.appointment.id))
        decline_offer(offer, utcnow(), actor=actor)
        flash(_("The time goes to the next family."), "success")
    except BookingError as error:
        db.session.rollback()
        flash(str(error.message), "error")
    return redirect(url_for(".service", slug=offer.service.slug))
