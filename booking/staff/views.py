from flask import Blueprint, abort, render_template, url_for
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from booking.audit.services import record_event
from booking.auth.models import Role, StaffUser
from booking.core.access import staff_required
from booking.core.scope import sees_every_office, visible_offices
from booking.core.transactions import writes
from booking.extensions import db
from booking.offices.models import Office
from booking.schedule.models import ConsultationHours, WeeklyHours

bp = Blueprint("staff", __name__, url_prefix="/staff")


def offices_of(user: StaffUser) -> list[Office]:
    if sees_every_office(user):
        return list(db.session.scalars(select(Office).order_by(Office.district, Office.name)))
    return visible_offices(user)


def home_url(user: StaffUser) -> str:
    """Caseworkers land on their own day, reception on its office's day, admins on admin."""
    if user.role == Role.ADMIN:
        return url_for("admin.index")
    if user.role == Role.PRIVACY:
        return url_for("admin.audit")
    if user.role == Role.OPERATOR_ADMIN:
        return url_for("admin.index")
    if user.role == Role.CASEWORKER:
        return url_for("schedule.my_calendar")
    offices = offices_of(user)
    if user.role == Role.RECEPTION and offices:
        return url_for("schedule.office_calendar", slug=offices[0].slug)
    return url_for("staff.index")


@bp.route("/")
@staff_required
def index():
    return render_template("staff/index.html", offices=offices_of(current_user))


@bp.route("/offices/<slug>")
@staff_required
@writes
def office(slug: str):
    office = db.session.scalar(select(Office).where(Office.slug == slug))
    if office is None:
        abort(404)
    if not current_user.can_access_office(office):
        abort(403)
    staff = db.session.scalars(
        select(StaffUser)
        .where(StaffUser.offices.any(Office.id == office.id))
        .options(selectinload(StaffUser.languages))
        .order_by(StaffUser.name)
    ).all()
    hours = db.session.scalars(
        select(WeeklyHours)
        .where(WeeklyHours.office_id == office.id)
        .order_by(WeeklyHours.weekday, WeeklyHours.start_time)
    ).all()
    consultation_hours = db.session.scalars(
        select(ConsultationHours)
        .where(ConsultationHours.office_id == office.id)
        .order_by(ConsultationHours.weekday, ConsultationHours.start_time)
    ).all()
    record_event("office.viewed", actor=current_user, obj=office)
    return render_template(
        "staff/office.html",
        office=office,
        staff=staff,
        hours=hours,
        consultation_hours=consultation_hours,
    )
