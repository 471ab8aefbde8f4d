from flask import Blueprint, abort, flash, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from booking.appointments.booking import (
    InvalidFamilyDetails,
    SlotTaken,
    book_appointment,
    check_family_details,
)
from booking.appointments.models import Channel
from booking.auth.models import Role, StaffUser
from booking.core.access import staff_required
from booking.core.converters import id_arg, parse_date
from booking.core.exceptions import BookingError
from booking.core.forms import attach_field_errors
from booking.core.urls import external_url
from booking.db import utcnow
from booking.desk.forms import DeskBookingForm
from booking.extensions import db
from booking.offices.models import Office, Service
from booking.public.forms import language_choices
from booking.public.services import parse_start, slot_week, week_choices

bp = Blueprint("desk", __name__, url_prefix="/desk")


def my_services() -> list[Service]:
    query = (
        select(Service)
        .join(Service.office)
        .where(Service.active.is_(True), Office.active.is_(True))
        .order_by(Office.name, Service.name)
    )
    if current_user.role != Role.ADMIN:
        query = query.where(Office.id.in_([office.id for office in current_user.offices]))
    return list(db.session.scalars(query))


@bp.route("/")
@staff_required
def index():
    return render_template("desk/index.html", services=my_services())


def service_or_403(slug: str) -> Service:
    service = db.session.scalar(select(Service).where(Service.slug == slug)) or abort(404)
    if not current_user.can_access_office(service.office):
        abort(403)
    return service


@bp.route("/book/<slug>", methods=["GET", "POST"])
@staff_required
def book(slug: str):
    service = service_or_403(slug)
    caseworkers = db.session.scalars(
        select(StaffUser)
        .where(
            StaffUser.role == Role.CASEWORKER,
            StaffUser.active.is_(True),
            StaffUser.services.any(Service.id == service.id),
        )
        .order_by(StaffUser.name)
    ).all()
    staff_id = request.args.get("staff", type=id_arg)
    if staff_id not in {user.id for user in caseworkers}:
        staff_id = None
    asked = parse_date(request.args.get("week"))
    now = utcnow()
    week = slot_week(service, asked, now, staff_id)
    form = DeskBookingForm()
    form.start.choices = week_choices(week)
    form.language.choices = language_choices()
    status = 200
    booked = None
    if form.validate_on_submit():
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
            booked = book_appointment(
                service,
                parse_start(form.start.data),
                family,
                now,
                channel=Channel(form.channel.data),
                staff_id=staff_id,
                actor=current_user._get_current_object(),
            )
        except InvalidFamilyDetails as error:
            db.session.rollback()
            attach_field_errors(form, error.errors)
            status = 422
        except SlotTaken as error:
            db.session.rollback()
            week = slot_week(service, asked, now, staff_id)
            form.start.choices = week_choices(week)
            form.start.errors = [str(error.message)]
            status = 409
        except BookingError as error:  # no slot time, or the database is busy
            db.session.rollback()
            form.start.errors = [str(error.message)]
            status = 422
        else:
            flash(_("Booked: reference %(ref)s.", ref=booked.appointment.reference), "success")
            return render_template(
                "desk/booked.html",
                appointment=booked.appointment,
                manage_url=external_url("public.manage", token=booked.manage_token),
            )
    elif request.method == "POST":
        status = 422
    return (
        render_template(
            "desk/book.html",
            service=service,
            week=week,
            form=form,
            caseworkers=caseworkers,
            staff_id=staff_id,
        ),
        status,
    )
