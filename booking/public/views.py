from datetime import date

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _

from booking.appointments.booking import (
    MAX_NOTE,
    FamilyDetails,
    InvalidFamilyDetails,
    NotReleased,
    SlotTaken,
    TooManyOpenBookings,
    book_appointment,
    can_change_online,
    check_family_details,
    move_appointment,
    record_refusal,
)
from booking.appointments.calendar_file import appointment_ics
from booking.appointments.models import AppointmentStatus
from booking.core.access import public
from booking.core.converters import parse_date
from booking.core.errors import render_error
from booking.core.exceptions import BookingError
from booking.core.forms import attach_field_errors
from booking.core.page_cache import cached_answer, conditional_answer
from booking.core.transactions import begin_write, locks_late
from booking.core.urls import external_url
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.offices.models import OfficeKind
from booking.privacy.notice import notice_context
from booking.public.forms import (
    CancelForm,
    FamilyDetailsForm,
    SlotChoiceForm,
    family_language_choices,
    page_family_language,
)
from booking.public.services import (
    MAX_CANCEL_REASON,
    LinkState,
    cancel_with_reason,
    find_manage_link,
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
    form.language.choices = family_language_choices()
    return form


def switching_language() -> bool:
    """A language button of a form page: show the page again in that language, change nothing."""
    return request.method == "POST" and bool(request.form.get("switch_language"))


def see_other(location: str):
    """Post/Redirect/Get: the page after a change can be reloaded and switched in language."""
    return no_referrer(redirect(location, code=303))


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
    asked, now = asked_week(), utcnow()

    def render() -> str:
        week = slot_week(service, asked, now, online=True)
        return render_template(
            "public/slots.html", service=service, week=week, form=None, taken=False
        )

    return conditional_answer(cached_answer("slots-page", service, (asked,), now, render))


def render_details(service, form, start, status=200):
    return (
        render_template(
            "public/details.html",
            service=service,
            form=form,
            start=start,
            max_note=MAX_NOTE,
            language_form="details-form",
        ),
        status,
    )


def render_time_choice(service, form, day, message, status):
    """Back to the time choice, with what the family typed kept in the form."""
    return render_template(
        "public/slots.html",
        service=service,
        week=slot_week(service, day, utcnow(), online=True),
        form=form,
        taken=True,
        message=message,
        language_form="choose-form",
    ), status


def checked_family(form: FamilyDetailsForm) -> FamilyDetails | None:
    """The family's details when the form is right; otherwise None, with errors on the form."""
    if not form.validate_on_submit():
        return None
    try:
        return check_family_details(
            form.name.data,
            form.email.data,
            form.phone.data,
            form.language.data,
            form.interpreter_needed.data,
            form.note.data,
        )
    except InvalidFamilyDetails as error:
        attach_field_errors(form, error.errors, aliases={"contact": "email"})
        return None


@bp.route("/book/<slug>/details", methods=["GET", "POST"])
@locks_late  # a language switch writes nothing; book_appointment takes the lock when it books
@limiter.limit(BOOKING_LIMIT, methods=["POST"], exempt_when=switching_language)
@public
def details(slug: str):
    service = public_service(slug) or abort(404)
    form = family_form()
    if request.method == "GET":
        form.start.data = request.args.get("start", "")
        form.language.data = page_family_language()
    start = parse_start(form.start.data)
    choosing = request.method == "POST" and bool(request.form.get("choose"))
    if choosing and (start is None or switching_language()):
        if switching_language():
            return render_time_choice(service, form, start and start.date(), None, 200)
        return render_time_choice(service, form, None, _("Please choose a time."), 400)
    if start is None:
        return render_template(
            "public/slots.html",
            service=service,
            week=slot_week(service, None, utcnow(), online=True),
            form=None,
            taken=False,
            message=_("Please choose a time."),
        ), 400
    form.ensure_form_key()
    if request.method == "GET" or choosing:
        return render_details(service, form, start)
    if switching_language():
        if request.form.get("had_errors"):  # the errors they saw stay, in the new language
            checked_family(form)
        return render_details(service, form, start)
    family = checked_family(form)
    if family is None:
        return render_details(service, form, start, 422)
    if form.website.data:
        begin_write(keep_loaded=True)
        record_refusal(service, "honeypot field filled")
        form.form_errors.append(_("We could not book your appointment. Please call us."))
        return render_details(service, form, start, 422)
    try:
        booking = book_appointment(
            service, start, family, utcnow(), idempotency_key=form.form_key.data
        )
    except (SlotTaken, NotReleased) as error:
        db.session.rollback()
        return render_time_choice(service, form, start.date(), str(error.message), 409)
    except TooManyOpenBookings as error:
        db.session.rollback()
        begin_write()  # the refusal's audit entry is a write: SQLite's lock first
        record_refusal(service, "max open bookings per contact")
        form.form_errors.append(str(error.message))
        return render_details(service, form, start, 422)
    except BookingError as error:  # no slot time, too late, or the database is busy
        db.session.rollback()
        form.form_errors.append(str(error.message))  # about the time: shown above the form
        return render_details(service, form, start, 422)
    # A second submit of the same form finds the same booking, so lands on the same page.
    return see_other(url_for("public.manage", token=booking.manage_token, done="booked"))


@bp.route("/privacy")
@public
def privacy():
    return render_template("public/privacy.html", **notice_context())


# Manage link

DONE_STATES = ("booked", "moved", "cancelled")


def appointment_or_gone(token: str):
    """The appointment of a manage link; otherwise a page that says why the link is dead."""
    link = find_manage_link(token, utcnow())
    if link.state == LinkState.CURRENT:
        return link.appointment
    if link.state == LinkState.UNKNOWN:
        answer, code = render_error(
            404,
            _(
                "This link does not work. Please check the address. "
                "Or call the office where you booked your appointment."
            ),
        )
    else:
        answer = render_template(
            "public/link_gone.html", state=link.state.value, appointment=link.appointment
        )
        code = 410
    abort(no_referrer(make_response(answer, code)))


@bp.route("/manage/<token>")
@limiter.limit(MANAGE_LIMIT)
@public
def manage(token: str):
    appointment = appointment_or_gone(token)
    done = request.args.get("done")
    return render_manage(appointment, token, done if done in DONE_STATES else None)


def render_manage(appointment, token: str, done: str | None = None):
    service = appointment.service
    response = make_response(
        render_template(
            "public/manage.html",
            appointment=appointment,
            token=token,
            done=done,
            changeable=can_change_online(appointment, utcnow()),
            manage_url=external_url("public.manage", token=token),
            rebook=service.public and service.active and appointment.office.active,
        )
    )
    return no_referrer(response)


@bp.route("/manage/<token>/appointment.ics")
@limiter.limit(MANAGE_LIMIT)
@public
def manage_ics(token: str):
    appointment = appointment_or_gone(token)
    response = make_response(appointment_ics(appointment, utcnow()))
    response.mimetype = "text/calendar"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="termin-{appointment.reference}.ics"'
    )
    return no_referrer(response)


@bp.route("/manage/<token>/cancel", methods=["GET", "POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def manage_cancel(token: str):
    appointment = appointment_or_gone(token)
    now = utcnow()
    if appointment.status == AppointmentStatus.CANCELLED:  # also a second submit
        return see_other(url_for("public.manage", token=token, done="cancelled"))
    form = CancelForm()
    message, status = None, 200
    if not can_change_online(appointment, now):
        message = _("This appointment can no longer be changed online. Please call us.")
        status = 409
    elif request.method == "POST" and not switching_language():
        if form.validate_on_submit():
            try:
                cancel_with_reason(appointment, form.reason.data, now)
            except BookingError as error:
                db.session.rollback()
                message, status = str(error.message), 409
            else:
                return see_other(url_for("public.manage", token=token, done="cancelled"))
        else:
            status = 422
    response = make_response(
        render_template(
            "public/cancel.html",
            appointment=appointment,
            token=token,
            form=form,
            message=message,
            changeable=status != 409,
            max_reason=MAX_CANCEL_REASON,
            language_form="cancel-form",
        ),
        status,
    )
    return no_referrer(response)


@bp.route("/manage/<token>/move", methods=["GET", "POST"])
@limiter.limit(MANAGE_LIMIT)
@public
def manage_move(token: str):
    appointment = appointment_or_gone(token)
    if appointment.status == AppointmentStatus.CANCELLED:  # cancelled in another tab
        return see_other(url_for("public.manage", token=token))
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
                return see_other(url_for("public.manage", token=booking.manage_token, done="moved"))
    week = slot_week(
        appointment.service,
        asked_week(),
        now,
        exclude_appointment_id=appointment.id,
        online=True,
    )
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
