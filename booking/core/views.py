from flask import Blueprint, current_app, render_template
from sqlalchemy import select, text

from booking.core.access import public
from booking.extensions import db, limiter
from booking.offices.models import Office, OfficeKind

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
