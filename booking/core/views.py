from datetime import timedelta

from flask import Blueprint, abort, current_app, render_template
from sqlalchemy import select, text

from booking.core.access import public
from booking.db import utcnow
from booking.extensions import db, limiter
from booking.offices.models import Office, OfficeKind
from booking.schedule.agenda import local_today
from booking.schedule.services import consultation_calendar

CONSULTATION_WEEKS_SHOWN = 6

bp = Blueprint("core", __name__)


@bp.route("/")
@public
def index():
    offices = db.session.scalars(
        select(Office).where(Office.active.is_(True)).order_by(Office.district, Office.name)
    ).all()
    units = [office for office in offices if office.kind == OfficeKind.UNIT]
    welcome_points = [office for office in offices if office.kind == OfficeKind.WELCOME_POINT]
    return render_template("core/index.html", units=units, welcome_points=welcome_points)


@bp.route("/healthz")
@limiter.exempt
@public
def healthz():
    try:
        db.session.execute(text("SELECT 1"))
    except Exception:  # any database failure means "not ready"
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return {"status": "unavailable", "database": "down"}, 503
    return {"status": "ok", "database": "up"}, 200


@bp.route("/offices/<slug>")
@public
def office(slug: str):
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    if office is None:
        abort(404)
    today = local_today(utcnow())
    last = today + timedelta(weeks=CONSULTATION_WEEKS_SHOWN)
    occurrences = [
        occurrence
        for occurrence in consultation_calendar(office, today, last)
        if occurrence.end > utcnow()
    ]
    services = [service for service in office.services if service.active and service.public]
    return render_template(
        "core/office.html", office=office, occurrences=occurrences, services=services
    )
