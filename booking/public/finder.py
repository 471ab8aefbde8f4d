"""Finding the right office and time: "which Welcome Point is mine?", free days of a month,
the earliest free times across all Welcome Points. Plain GET pages, no JavaScript."""

from dataclasses import dataclass
from pathlib import Path

from babel.dates import get_day_names
from flask import Blueprint, abort, current_app, render_template, request
from flask_babel import format_date, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from booking.core.access import public
from booking.db import utcnow
from booking.extensions import db
from booking.offices.models import Office, OfficeKind
from booking.offices.quarters import MAX_QUERY, Quarter, load_quarters
from booking.offices.streets import REGISTERS, StreetRegister
from booking.public.overview import earliest_across, free_days_month, parse_month
from booking.public.services import public_service

bp = Blueprint("finder", __name__)
STREETS_SHOWN = 30  # a full register answers "a" with hundreds: more letters narrow it down


@dataclass(frozen=True)
class Place:
    """What the family is led to: a quarter, or a street whose quarters share one district."""

    name: str
    district: int
    slug: str | None = None  # a quarter's, for aria-current in the list
    quarters: tuple[Quarter, ...] = ()  # a street's


def street_register() -> StreetRegister | None:
    """The configured street directory (STREET_REGISTER), read once per process and again
    when the file changes; None without one or when it holds no usable street."""
    setting = current_app.config.get("STREET_REGISTER")
    if not setting:
        return None
    path = Path(str(setting))
    if not path.is_absolute():
        path = Path(current_app.instance_path) / path
    register, fresh = REGISTERS.get(path, load_quarters())
    if fresh and register.problems:
        current_app.logger.warning(
            "street register %s: %d line(s) not used, first: %s "
            "(flask --app wsgi finder check-streets lists them all)",
            path,
            len(register.problems),
            register.problems[0],
        )
    return register if register.streets else None


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
    register = street_register()
    text = request.args.get("q", "")
    chosen = quarters.find(request.args.get("quarter"))
    message, matches, streets, status = None, [], [], 200
    searched = False
    if len(text) > MAX_QUERY:
        message = _("Please type at most %(n)d letters.", n=MAX_QUERY)
        status = 400
    elif text.strip():
        searched = True
        matches = quarters.search(text)
        streets = register.search(text) if register else []
        if len(matches) == 1 and chosen is None:
            chosen = matches[0]
        elif not matches and not streets:
            if register:
                message = _(
                    "No quarter or street starts with “%(text)s”. Please check the spelling "
                    "or choose your quarter from the list below.",
                    text=text.strip(),
                )
            else:
                message = _(
                    "No quarter starts with “%(text)s”. Please check the spelling "
                    "or choose your quarter from the list below.",
                    text=text.strip(),
                )
    place = None
    if chosen:
        place = Place(name=chosen.name, district=chosen.district, slug=chosen.slug)
    elif not matches and len(streets) == 1 and len(streets[0].districts) == 1:
        street = streets[0]  # one street, one district: straight to its Welcome Point(s)
        place = Place(name=street.name, district=street.districts[0], quarters=street.quarters)
        streets = []
    offices = welcome_points()
    mine = [o for o in offices if place and o.district == place.district]
    return render_template(
        "public/finder.html",
        quarters=quarters,
        register=register,
        text=text,
        searched=searched,
        place=place,
        matches=matches if len(matches) > 1 else [],
        quarters_found=len(matches),
        streets=streets[:STREETS_SHOWN],
        streets_found=len(streets) + (1 if place and place.quarters else 0),
        streets_shown=STREETS_SHOWN,
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
