from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.appointments.booking import (
    InvalidFamilyDetails,
    SlotTaken,
    book_appointment,
    check_family_details,
    hash_token,
    token_for_key,
)
from booking.appointments.forms import held_label, parse_week
from booking.appointments.models import Appointment, AppointmentStatus, Channel
from booking.appointments.services import can_see_appointment
from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.callbacks.models import CallbackRequest
from booking.callbacks.services import (
    can_see_request,
    close_with_booking,
    national_format,
    request_for_appointment,
)
from booking.core.access import me, staff_required
from booking.core.exceptions import BookingError
from booking.core.forms import attach_field_errors
from booking.core.scope import may_see_office, record_filter
from booking.core.transactions import DatabaseBusy, begin_write, writes
from booking.core.urls import external_url
from booking.core.validation import is_mobile
from booking.db import utcnow
from booking.desk.forms import DeskBookingForm
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.public.forms import language_choices, new_form_key
from booking.public.services import parse_start, slot_week, week_choices
from booking.schedule.agenda import local_today
from booking.templating import language_name

bp = Blueprint("desk", __name__, url_prefix="/desk")

# The form keys of this login's last desk bookings, so that their booked page survives a reload.
BOOKED_KEYS = "desk_booked"
KEEP_BOOKED = 5


def my_services() -> list[Service]:
    query = (
        select(Service)
        .join(Service.office)
        .where(Service.active.is_(True), Office.active.is_(True))
        .order_by(Office.name, Service.name)
    )
    query = query.where(record_filter(current_user, Office.id))
    return list(db.session.scalars(query))


def callback_or_abort(raw: str | None, office: Office | None = None) -> CallbackRequest | None:
    """The callback request a booking answers (`?callback=<id>` or the form's hidden field):
    staff of its office only (403), and only for a service of that office (404)."""
    if not raw:
        return None
    if not raw.isdigit() or len(raw) > 18:
        abort(404)
    found = db.session.get(CallbackRequest, int(raw)) or abort(404)
    if not can_see_request(current_user, found):
        abort(403)
    if office is not None and found.office_id != office.id:
        abort(404)
    return found


@bp.route("/")
@staff_required
def index():
    callback = callback_or_abort(request.args.get("callback"))
    services = my_services()
    if callback is not None:
        services = [s for s in services if s.office_id == callback.office_id]
    return render_template("desk/index.html", services=services, callback=callback)


def service_or_403(slug: str) -> Service:
    service = db.session.scalar(select(Service).where(Service.slug == slug)) or abort(404)
    if not current_user.can_access_office(service.office):
        abort(403)
    return service


def caseworkers_of(service: Service) -> list[StaffUser]:
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(
                StaffUser.role == Role.CASEWORKER,
                StaffUser.active.is_(True),
                StaffUser.services.any(Service.id == service.id),
            )
            .order_by(StaffUser.name)
        )
    )


def languages_of(user: StaffUser, locale: str) -> str:
    """The caseworker's languages, named in the reader's language ("Deutsch, Türkisch")."""
    return ", ".join(language_name(code, locale) for code in sorted(user.language_codes))


def booking_key(form: DeskBookingForm, service: Service, start, family) -> str:
    """The form's key, unless it already booked something else (the form was sent again after
    a change, e.g. from the browser's history): then a new booking needs a new key."""
    key = form.form_key.data
    earlier = db.session.scalar(select(Appointment).where(Appointment.idempotency_key == key))
    if earlier is None:
        return key
    same = (
        earlier.service_id == service.id
        and earlier.starts_at == start
        and earlier.family_name == family.name
        and (earlier.email, earlier.phone) == (family.email, family.phone)
    )
    return key if same else new_form_key()


def remember_booked(appointment_id: int, key: str) -> None:
    booked = [pair for pair in session.get(BOOKED_KEYS, []) if pair[0] != appointment_id]
    session[BOOKED_KEYS] = [*booked, [appointment_id, key]][-KEEP_BOOKED:]


def refusal_status(error: BookingError) -> int:
    if isinstance(error, SlotTaken):
        return 409
    if isinstance(error, DatabaseBusy):
        return 503
    return 422


def try_booking(
    form: DeskBookingForm,
    service: Service,
    staff_id: int | None,
    now,
    callback: CallbackRequest | None = None,
):
    """(status, the appointment booked or None); refusals go onto the form. A booking for an
    open callback request closes it, linked to the appointment, in the same transaction."""
    if not form.validate_on_submit():
        return 422, None
    start = parse_start(form.start.data)
    if start is None:
        form.start.errors = [_("Please choose a time.")]
        return 422, None
    try:
        family = check_family_details(
            form.name.data,
            form.email.data,
            form.phone.data,
            form.language.data,
            form.interpreter_needed.data,
            form.note.data,
            require_contact=False,
        )
        key = booking_key(form, service, start, family)
        booked = book_appointment(
            service,
            start,
            family,
            now,
            channel=Channel(form.channel.data),
            staff_id=staff_id,
            actor=current_user._get_current_object(),
            idempotency_key=key,
        )
    except InvalidFamilyDetails as error:
        db.session.rollback()
        attach_field_errors(form, error.errors)
        return 422, None
    except BookingError as error:  # taken meanwhile, no slot time, or the database busy
        db.session.rollback()
        field = getattr(form, error.field or "start", None)
        (field if field is not None else form.start).errors = [str(error.message)]
        return refusal_status(error), None
    if callback is not None and not callback.is_open:
        if callback.appointment_id != booked.appointment.id:  # closed in another tab meanwhile
            flash(
                _(
                    "Callback request %(ref)s was closed meanwhile; this appointment is not "
                    "linked to it.",
                    ref=callback.reference,
                ),
                "error",
            )
    elif callback is not None:
        try:
            close_with_booking(
                callback, booked.appointment, current_user._get_current_object(), now
            )
        except BookingError as error:  # the request cannot close (e.g. nobody to assign)
            db.session.rollback()
            form.form_errors.append(str(error.message))
            return 422, None
    remember_booked(booked.appointment.id, key)
    return 200, booked.appointment


@bp.route("/book/<slug>", methods=["GET", "POST"])
@staff_required
def book(slug: str):
    service = service_or_403(slug)
    caseworkers = caseworkers_of(service)
    form = DeskBookingForm()
    locale = str(get_locale())
    spoken = {user.id: languages_of(user, locale) for user in caseworkers}
    form.staff.choices = [("", _("Anyone free (speaks the language, else least booked)"))] + [
        (str(user.id), f"{user.name} ({spoken[user.id]})" if spoken[user.id] else user.name)
        for user in caseworkers
    ]
    form.language.choices = language_choices()
    raw_callback = request.args.get("callback") if request.method == "GET" else form.callback.data
    callback = callback_or_abort(raw_callback, service.office)
    if request.method == "GET":
        form.staff.data = request.args.get("staff", "")
        form.shown_week.data = request.args.get("week", "")
        if callback is not None and callback.is_open:
            prefill_from_callback(form, callback)
    staff_id = next((user.id for user in caseworkers if str(user.id) == form.staff.data), None)
    if staff_id is None:
        form.staff.data = ""
    # Paging, "Show free times" and the language buttons send this form: they keep what was
    # typed and book nothing.
    paging = request.form.get("week") if request.method == "POST" else None
    refresh = request.method == "POST" and bool(
        paging or request.form.get("action") == "show" or request.form.get("switch_language")
    )
    now = utcnow()
    shown_before = form.shown_week.data
    asked = parse_week(paging or shown_before, local_today(now), service.horizon_days)
    week = slot_week(service, asked, now, staff_id)
    form.start.choices = week_choices(week, held_label())
    form.ensure_form_key()
    status = 200
    if request.method == "POST" and not refresh:
        status, booked = try_booking(form, service, staff_id, now, callback)
        if booked is not None:
            return redirect(url_for(".booked", appointment_id=booked.id))
        if status == 409:  # the time went meanwhile: offer what is free now
            week = slot_week(service, asked, now, staff_id)
            form.start.choices = week_choices(week, held_label())
    form.shown_week.data = week.first.isoformat()
    # After paging or choosing, the focus stays where reception was (no JavaScript needed).
    focus = None
    if refresh and not request.form.get("switch_language"):
        focus = "start"
        if paging and (week.previous or week.next):
            later = paging > (shown_before or "")
            focus = "next" if (later and week.next) or not week.previous else "previous"
        if focus == "start":
            form.start.render_kw = {"autofocus": True}
    return (
        render_template(
            "desk/book.html",
            service=service,
            week=week,
            form=form,
            focus=focus,
            language_form="desk-form",
            staff_name=next((u.name for u in caseworkers if u.id == staff_id), None),
            caseworkers=caseworkers,
            spoken=spoken,
            callback=callback,
        ),
        status,
    )


def prefill_from_callback(form: DeskBookingForm, callback: CallbackRequest) -> None:
    """The caller's details, loaded here from the request (never passed in the address)."""
    begin_write()  # the audit entry below is a write
    form.callback.data = str(callback.id)
    form.name.data = callback.caller_name
    form.phone.data = national_format(callback.phone)
    form.email.data = callback.email or ""
    if callback.language in dict(form.language.choices):
        form.language.data = callback.language
    form.interpreter_needed.data = callback.interpreter_needed
    record_event(
        "callback.viewed", actor=current_user._get_current_object(), obj=callback, detail="desk"
    )


@bp.route("/booked/<int:appointment_id>")
@staff_required
@writes
def booked(appointment_id: int):
    """The answer to a desk booking (Post/Redirect/Get): a reload shows the same booking."""
    key = dict(session.get(BOOKED_KEYS, [])).get(appointment_id)
    appointment = db.session.get(Appointment, appointment_id) if key else None
    if appointment is None or not may_see_office(current_user, appointment.office_id):
        # Not booked at this desk in this login (or no longer their office): the
        # appointment's page, which checks access itself.
        return redirect(url_for("appointments.detail", appointment_id=appointment_id))
    # The page shows the family's name and contact: audited like the appointment's page.
    record_event("appointment.viewed", actor=me(), obj=appointment, detail="desk")
    token = token_for_key(key)
    # The family's link, while it still works (a move replaces it).
    live = (
        appointment.manage_token_hash == hash_token(token)
        and appointment.status == AppointmentStatus.BOOKED
        and appointment.ends_at > utcnow()
    )
    callback = request_for_appointment(appointment)
    return render_template(
        "desk/booked.html",
        appointment=appointment,
        manage_url=external_url("public.manage", token=token) if live else None,
        can_open=can_see_appointment(current_user, appointment),
        callback=callback if callback and can_see_request(current_user, callback) else None,
        no_message=not appointment.email and not is_mobile(appointment.phone or ""),
    )
