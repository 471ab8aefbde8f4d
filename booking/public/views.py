from datetime import date

from flask import Blueprint, abort, make_response, render_template, request, url_for
from flask_babel import gettext as _

from booking.appointments.booking import (
    InvalidFamilyDetails,
    SlotTaken,
    TooManyOpenBookings,
    appointment_for_token,
    book_appointment,
    can_change_online,
    cancel_by_family,
    check_family_details,
    move_appointment,
    record_refusal,
)
from booking.appointments.calendar_file import appointment_ics
from booking.appointments.models import AppointmentStatus
from booking.core.access import public
from booking.core.converters import parse_date
from booking.core.exceptions import BookingError
from booking.core.forms import attach_field_errors
from booking.core.urls import external_url
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.offices.models import OfficeKind
from booking.public.forms import FamilyDetailsForm, SlotChoiceForm, language_choices
from booking.public.services import (
    offices_with_public_services,
    parse_start,
    public_service,
    slot_week,
)

bp = Blueprint("public", __name__)

BOOKING_LIMIT = "10 per minute; 60 per hour"
MANAGE_LIMIT = "30 per minute; 300 per hour"


def no_referrer(response):
    """Pages that carry a manage token: never cached, never sent on as a referrer."""
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


def asked_week() -> date | None:
    return parse_date(request.args.get("week"))


def family_form() -> FamilyDetailsForm:
    form = FamilyDetailsForm()
    form.language.choices = language_choices()
    return form


@bp.route("/book")
@public
def choose_office():
    offices = offices_with_public_services()
    return render_template(
        "public/offices.html",
        units=[o for o in offices if o.kind == OfficeKind.UNIT],
        welcome_points=[o for o in offices if o.kind == OfficeKind.WELCOME_POINT],
    )


@bp.route("/book/<slug>")
@public
def choose_time(slug: str):
    service = public_service(slug) or abort(404)
    week = slot_week(service, asked_week(), utcnow())
    return render_template("public/slots.html", service=service, week=week, form=None, taken=False)


def render_details(service, form, start, status=200):
    return (
        render_template("public/details.html", service=service, form=form, start=start),
        status,
    )


@bp.route("/book/<slug>/details", methods=["GET", "POST"])
@limiter.limit(BOOKING_LIMIT, methods=["POST"])
@public
def details(slug: str):
    service = public_service(slug) or abort(404)
    form = family_form()
    if request.method == "GET":
        form.start.data = request.args.get("start", "")
        form.language.data = "de"
    start = parse_start(form.start.data)
    if start is None:
        return render_template(
            "public/slots.html",
            service=service,
            week=slot_week(service, None, utcnow()),
            form=None,
            taken=False,
            message=_("Please choose a time."),
        ), 400
    form.ensure_form_key()
    if request.method == "GET" or request.form.get("choose"):
        return render_details(service, form, start)
    if not form.validate_on_submit():
        return render_details(service, form, start, 422)
    if form.website.data:
        record_refusal(service, "honeypot field filled")
        form.form_errors.append(_("Your booking could not be processed. Please call us."))
        return render_details(service, form, start, 422)
    try:
        family = check_family_details(
            form.name.data,
            form.email.data,
            form.phone.data,
            form.language.data,
            form.interpreter_needed.data,
            form.note.data,
        )
        booking = book_appointment(
            service, start, family, utcnow(), idempotency_key=form.form_key.data
        )
    except InvalidFamilyDetails as error:
        db.session.rollback()
        attach_field_errors(form, error.errors, aliases={"contact": "email"})
        return render_details(service, form, start, 422)
    except SlotTaken as error:
        db.session.rollback()
        # Back to the time choice, with what they typed kept in the form.
        week = slot_week(service, start.date(), utcnow())
        return render_template(
            "public/slots.html",
            service=service,
            week=week,
            form=form,
            taken=True,
            message=str(error.message),
        ), 409
    except TooManyOpenBookings as error:
        db.session.rollback()
        record_refusal(service, "max open bookings per contact")
        form.form_errors.append(str(error.message))
        return render_details(service, form, start, 422)
    except BookingError as error:  # no slot time, too late, or the database is busy
        db.session.rollback()
        form.form_errors.append(str(error.message))  # about the time: shown above the form
        return render_details(service, form, start, 422)
    return no_referrer(make_response(render_confirmation(booking)))


def render_confirmation(booking, moved: bool = False):
    appointment = booking.appointment
    return render_template(
        "public/confirmation.html",
        appointment=appointment,
        moved=moved,
        manage_url=external_url("public.manage", token=booking.manage_token),
        ics_url=url_for("public.manage_ics", token=booking.manage_token),
    )


@bp.route("/privacy")
@public
def privacy():
    return render_template("public/privacy.html")


# Manage link


def appointment_or_404(token: str):
    appointment = appointment_for_token(token, utcnow())
    if appointment is None:
        abort(404)
    return appointment


@bp.route("/manage/<token>")
@limiter.limit(MANAGE_LIMIT)
@public
def manage(token: str):
    return render_manage(appointment_or_404(token), token)


def render_manage(appointment, token: str, message: str | None = None):
    response = make_response(
        render_template(
            "public/manage.html",
            appointment=appointment,
            token=token,
            changeable=can_change_online(appointment, utcnow()),
            confirm=SlotChoiceForm(),
            message=message,
        )
    )
    return no_referrer(response)


@bp.route("/manage/<token>/appointment.ics")
@limiter.limit(MANAGE_LIMIT)
@public
def manage_ics(token: str):
    appointment = appointment_or_404(token)
    response = make_response(appointment_ics(appointment, utcnow()))
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="termin-{appointment.reference}.ics"'
    )
    return no_referrer(response)


@bp.route("/manage/<token>/cancel", methods=["POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def manage_cancel(token: str):
    appointment = appointment_or_404(token)
    if SlotChoiceForm().validate_on_submit():
        try:
            cancel_by_family(appointment, utcnow())
        except BookingError as error:
            db.session.rollback()
            message = str(error.message)
        else:
            message = _("Your appointment is cancelled. Thank you for letting us know.")
    else:
        message = _("The form has expired. Please try again.")
    return render_manage(appointment, token, message)


@bp.route("/manage/<token>/move", methods=["GET", "POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def manage_move(token: str):
    appointment = appointment_or_404(token)
    now = utcnow()
    message = None
    status = 200
    if not can_change_online(appointment, now):
        message = _("This appointment can no longer be changed online. Please call us.")
        status = 409
    elif request.method == "POST" and SlotChoiceForm().validate_on_submit():
        start = parse_start(request.form.get("start"))
        if start is None:
            message, status = _("Please choose a time."), 400
        else:
            try:
                booking = move_appointment(appointment, start, now)
            except BookingError as error:
                db.session.rollback()
                message, status = str(error.message), 409
            else:
                return no_referrer(make_response(render_confirmation(booking, moved=True)))
    week = slot_week(appointment.service, asked_week(), now, exclude_appointment_id=appointment.id)
    response = make_response(
        render_template(
            "public/move.html",
            appointment=appointment,
            service=appointment.service,
            token=token,
            week=week,
            message=message,
            confirm=SlotChoiceForm(),
            changeable=appointment.status == AppointmentStatus.BOOKED and status != 409,
        ),
        status,
    )
    return no_referrer(response)
