"""Finding the right office and time: "which Welcome Point is mine?", free days of a month,
the earliest free times across all Welcome Points. Plain GET pages, no JavaScript."""

from babel.dates import get_day_names
from flask import Blueprint, abort, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from booking.core.access import public
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, OfficeKind
from booking.offices.quarters import MAX_QUERY, load_quarters
from booking.public.overview import earliest_across, free_days_month, parse_month
from booking.public.services import public_service

bp = Blueprint("finder", __name__)


def welcome_points() -> list[Office]:
    offices = db.session.scalars(
        select(Office)
        .where(Office.active.is_(True), Office.kind == OfficeKind.WELCOME_POINT)
        .order_by(Office.district, Office.name)
    ).all()
    return list(offices)


@bp.route("/welcome-points/finder")
@public
def find_welcome_point():
    quarters = load_quarters()
    text = request.args.get("q", "")
    chosen = quarters.find(request.args.get("quarter"))
    message, matches, status = None, [], 200
    if len(text) > MAX_QUERY:
        message = _("Please type at most %(n)d letters.", n=MAX_QUERY)
        status = 400
    elif text.strip():
        matches = quarters.search(text)
        if len(matches) == 1 and chosen is None:
            chosen = matches[0]
        elif not matches:
            message = _(
                "No quarter starts with “%(text)s”. Please check the spelling "
                "or choose your quarter from the list below.",
                text=text.strip(),
            )
    offices = welcome_points()
    mine = [o for o in offices if chosen and o.district == chosen.district]
    return render_template(
        "public/finder.html",
        quarters=quarters,
        text=text,
        chosen=chosen,
        matches=matches if len(matches) > 1 else [],
        message=message,
        mine=mine,
    ), status


@bp.route("/welcome-points/earliest")
@public
def earliest():
    return render_template(
        "public/earliest.html", found=earliest_across(OfficeKind.WELCOME_POINT, utcnow())
    )


def weekday_headers() -> list[tuple[str, str]]:
    """Monday to Sunday, short and full, in the reader's language (CLDR)."""
    short = get_day_names("abbreviated", locale=get_locale())
    wide = get_day_names("wide", locale=get_locale())
    return [(short[n], wide[n]) for n in range(7)]


@bp.route("/book/<slug>/days")
@public
def free_days(slug: str):
    service = public_service(slug) or abort(404)
    overview = free_days_month(service, parse_month(request.args.get("month")), utcnow())
    return render_template(
        "public/free_days.html",
        service=service,
        overview=overview,
        month_name=format_date(overview.month, format="LLLL yyyy"),
        weekdays=weekday_headers(),
    )
