"""Template globals and filters shared by all features."""

from datetime import date, time
from urllib.parse import urlencode

from flask import Flask, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from booking.auth.forms import ConfirmForm
from booking.auth.models import Role
from booking.offices.models import OfficeKind

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.CASEWORKER: _l("Caseworker"),
    Role.RECEPTION: _l("Reception"),
}
OFFICE_KIND_LABELS = {
    OfficeKind.UNIT: _l("Unit of the youth welfare office"),
    OfficeKind.WELCOME_POINT: _l("Welcome Point"),
}
WEEKDAY_LABELS = (
    _l("Monday"),
    _l("Tuesday"),
    _l("Wednesday"),
    _l("Thursday"),
    _l("Friday"),
    _l("Saturday"),
    _l("Sunday"),
)
LANGUAGE_NAMES = {"de": "Deutsch", "en": "English"}


def format_clock(value: time | None) -> str:
    return value.strftime("%H:%M") if value else ""


def format_day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else ""


def language_switch_url(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(sorted(args.items()))}"


def init_app(app: Flask) -> None:
    app.jinja_env.filters["clock"] = format_clock
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        OFFICE_KIND_LABELS=OFFICE_KIND_LABELS,
        WEEKDAY_LABELS=WEEKDAY_LABELS,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        Role=Role,
        language_switch_url=language_switch_url,
    )

    @app.context_processor
    def inject_common():
        locale = get_locale()
        return {
            "current_locale": str(locale) if locale else app.config["BABEL_DEFAULT_LOCALE"],
            "supported_languages": app.config["LANGUAGES"],
            "logout_form": ConfirmForm() if current_user.is_authenticated else None,
        }
