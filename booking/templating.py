"""Template globals and filters shared by all features."""

import re
from datetime import UTC, date, datetime, time
from urllib.parse import urlencode

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as babel_format_date
from babel.dates import format_time as babel_format_time
from flask import Flask, g, has_request_context, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from booking.auth.forms import ConfirmForm
from booking.auth.models import Role
from booking.core.i18n import is_rtl, own_name, page_languages
from booking.offices.models import OfficeKind
from booking.public.labels import CANCEL_REASON_LABELS, STATUS_LABELS
from booking.schedule.engine import BERLIN
from booking.schedule.models import AbsenceKind

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.CASEWORKER: _l("Caseworker"),
    Role.RECEPTION: _l("Reception"),
    Role.PRIVACY: _l("Data protection officer"),
    Role.OPERATOR_ADMIN: _l("Operator admin"),
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
EVENT_LABELS = {
    "booked": _l("booked"),
    "cancelled": _l("cancelled by staff"),
    "cancelled_by_family": _l("cancelled by the family"),
    "attended": _l("attended"),
    "no_show": _l("no-show"),
    "moved": _l("moved"),
    "restored": _l("restored"),
    "note_added": _l("note added"),
}
CHANNEL_LABELS = {"online": _l("online"), "phone": _l("by phone"), "desk": _l("at the desk")}
ABSENCE_KIND_LABELS = {
    AbsenceKind.VACATION: _l("Vacation"),
    AbsenceKind.ILLNESS: _l("Illness"),
    AbsenceKind.TRAINING: _l("Training"),
    AbsenceKind.BLOCKED: _l("Blocked time (internal meeting)"),
}
OUTBOX_KIND_LABELS = {
    "confirmation": _l("booking confirmation"),
    "cancelled": _l("cancellation"),
    "moved": _l("new time"),
    "reminder": _l("reminder"),
    "staff_cancelled": _l("notice to staff: cancelled"),
    "staff_moved": _l("notice to staff: moved"),
    "staff_agenda": _l("daily agenda"),
    "waitlist_joined": _l("waiting list: on the list"),
    "waitlist_offer": _l("waiting list: a time offered"),
    "waitlist_expired": _l("waiting list: place ended"),
}
OUTBOX_STATUS_LABELS = {
    "pending": _l("waiting"),
    "sending": _l("sending"),
    "sent": _l("sent"),
    "failed": _l("failed"),
}
OUTBOX_CHANNEL_LABELS = {"email": _l("email"), "sms": _l("SMS")}
# Features add their own codes (booking/callbacks/labels.py, booking/waiting/labels.py).
AUDIT_ACTION_LABELS = {
    "waitlist.joined": _l("waiting list: family added"),
    "waitlist.left": _l("waiting list: family left or taken off"),
    "waitlist.offered": _l("waiting list: time offered and held"),
    "waitlist.accepted": _l("waiting list: offer taken"),
    "waitlist.declined": _l("waiting list: offer declined"),
    "waitlist.processed": _l("waiting list processed"),
    "waitlist.refused": _l("waiting list: entry refused"),
    "waitlist.viewed": _l("waiting list viewed"),
    "absence.added": _l("absence added"),
    "absence.deleted": _l("absence deleted"),
    "appointment.viewed": _l("appointment viewed"),
    "audit.searched": _l("audit log searched"),
    "auth.login": _l("logged in"),
    "auth.login_failed": _l("login failed"),
    "auth.logout": _l("logged out"),
    "auth.timeout": _l("logged out after inactivity"),
    "booking.refused": _l("booking refused"),
    "calendar.viewed": _l("calendar viewed"),
    "calendar_feed.renewed": _l("calendar address renewed"),
    "calendar_feed.revoked": _l("calendar address switched off"),
    "closure.added": _l("closure added"),
    "closure.deleted": _l("closure deleted"),
    "consultation_hours.added": _l("consultation hours added"),
    "consultation_hours.deleted": _l("consultation hours deleted"),
    "hours.added": _l("working hours added"),
    "hours.deleted": _l("working hours deleted"),
    "office.activated": _l("office activated"),
    "office.changed": _l("office changed"),
    "office.created": _l("office created"),
    "office.deactivated": _l("office deactivated"),
    "office.viewed": _l("office viewed"),
    "outbox.retry": _l("message sent again"),
    "outbox.viewed": _l("message viewed"),
    "privacy.purged": _l("personal data erased"),
    "service.activated": _l("service activated"),
    "service.changed": _l("service changed"),
    "service.created": _l("service created"),
    "service.deactivated": _l("service deactivated"),
    "setup.loaded": _l("setup file loaded"),
    "staff.activated": _l("staff account activated"),
    "staff.changed": _l("staff account changed"),
    "staff.created": _l("staff account created"),
    "staff.deactivated": _l("staff account deactivated"),
    "staff.password_set": _l("password set"),
    "staff.settings_changed": _l("notification settings changed"),
    "appointment.booked": _l("appointment booked"),
    "appointment.cancelled": _l("appointment cancelled by staff"),
    "appointment.attended": _l("appointment marked attended"),
    "appointment.no_show": _l("appointment marked no-show"),
    "appointment.moved": _l("appointment moved"),
    "appointment.restored": _l("appointment restored"),
    "appointment.note_added": _l("appointment note added"),
}
OBJECT_TYPE_LABELS = {
    "absence": _l("absence"),
    "appointment": _l("appointment"),
    "closure": _l("closure"),
    "consultation_hours": _l("consultation hours"),
    "office": _l("office"),
    "outbox_message": _l("message"),
    "service": _l("service"),
    "staff_user": _l("staff account"),
    "weekly_hours": _l("working hours"),
}
LABELS = {
    "absence_kind": ABSENCE_KIND_LABELS,
    "appointment_status": STATUS_LABELS,
    "appointment_event": EVENT_LABELS,
    "channel": CHANNEL_LABELS,
    # Copies: features add their codes here, the constants above stay the core's own.
    "audit_action": dict(AUDIT_ACTION_LABELS),
    "object_type": dict(OBJECT_TYPE_LABELS),
    "outbox_kind": OUTBOX_KIND_LABELS,
    "outbox_status": OUTBOX_STATUS_LABELS,
    "outbox_channel": OUTBOX_CHANNEL_LABELS,
}
LEFT_TO_RIGHT_ISOLATE, FIRST_STRONG_ISOLATE, POP_DIRECTIONAL_ISOLATE = "\u2066", "\u2068", "\u2069"


def label(value, group: str) -> str:
    """A code's label for staff ("no_show" -> "nicht erschienen"); unknown codes stay readable."""
    if value is None:
        return ""
    code = getattr(value, "value", value)
    found = LABELS[group].get(code)
    return str(found) if found is not None else str(code).replace("_", " ").replace(".", ": ")


def language_name(code: str, locale: str) -> str:
    """A language's name in the reader's language ("ar" -> "Arabisch")."""
    try:
        return Locale.parse(code).get_display_name(locale) or code
    except (ValueError, UnknownLocaleError):
        return code


def reader_locale() -> Locale:
    """The locale being rendered (a page's, or a message's under force_locale)."""
    return get_locale() or Locale.parse("de")  # None only outside any app context


def format_clock(value: time | datetime | None) -> str:
    """The locale's 24-hour time ("09:05", Persian "9:05"); instants in Europe/Berlin."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).time()
    locale = reader_locale()
    return babel_format_time(value, locale.datetime_skeletons["Hm"].pattern, locale=locale)


def format_day(value: date | datetime | None) -> str:
    """A date in the locale's medium form ("04.03.2027", "4 Mar 2027")."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date()
    return babel_format_date(value, "medium", locale=reader_locale())


def format_long_day(value: date | datetime) -> str:
    """ "Dienstag, 3. Dezember 2026" in the reader's language (Gregorian, CLDR names)."""
    if isinstance(value, datetime):
        value = value.astimezone(BERLIN).date()
    return babel_format_date(value, "full", locale=reader_locale())


@pass_eval_context
def left_to_right(eval_ctx: EvalContext, value) -> str:
    """Times, references and phone numbers read left to right inside right-to-left text:
    <bdi dir="ltr"> in HTML, Unicode isolates in plain text (messages). LTR text unchanged."""
    text = "" if value is None else str(value)
    if not text or not is_rtl(reader_locale()):
        return text
    if eval_ctx.autoescape:
        return Markup('<bdi dir="ltr">%s</bdi>') % text
    return f"{LEFT_TO_RIGHT_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


@pass_eval_context
def isolated(eval_ctx: EvalContext, value) -> str:
    """A name or address inside right-to-left running text keeps its own direction (a German
    office name in an Arabic sentence): <bdi> in HTML, first-strong isolate in plain text."""
    text = "" if value is None else str(value)
    if not text or not is_rtl(reader_locale()):
        return text
    if eval_ctx.autoescape:
        return Markup("<bdi>%s</bdi>") % text
    return f"{FIRST_STRONG_ISOLATE}{text}{POP_DIRECTIONAL_ISOLATE}"


# "Welcome Point Leopoldstraße (نقطة الترحيب)": a name followed by a gloss in parentheses.
GLOSS = re.compile(r"^(?P<name>.*\S)\s+(?P<gloss>\([^()]+\))$")


@pass_eval_context
def glossed(eval_ctx: EvalContext, value, alone: bool = False) -> str:
    """An office name whose gloss keeps together: at 320 px the Arabic heading broke inside it
    ("(نقطة" at the end of one line, "الترحيب)" on the next). Without a gloss: as |isolated
    in running text, the plain name where it stands alone (a heading)."""
    text = "" if value is None else str(value)
    match = GLOSS.match(text) if eval_ctx.autoescape else None
    if match is None:
        return text if alone else isolated(eval_ctx, text)
    return Markup('%s <span class="gloss">%s</span>') % (
        isolated(eval_ctx, match["name"]),
        match["gloss"],
    )


def comma() -> str:
    """The comma between the parts of a name and an address: Arabic and Persian write "،"."""
    return "\u060c " if is_rtl(reader_locale()) else ", "


def arrow(way: str) -> str:
    """An arrow to the earlier ("back") or later page; arrows do not mirror by themselves, and
    in Arabic and Persian the earlier page lies to the right."""
    back = way == "back"
    return ("→" if back else "←") if is_rtl(reader_locale()) else ("←" if back else "→")


@pass_eval_context
def time_range(eval_ctx: EvalContext, start: time | datetime, end: time | datetime) -> str:
    """ "09:00–09:45", kept in this order in Arabic and Persian text."""
    return left_to_right(eval_ctx, f"{format_clock(start)}–{format_clock(end)}")


def event_detail(action: str, detail: str) -> str:
    """An appointment event's detail for staff: the channel's label, a move's old local time."""
    if action == "booked":
        return label(detail, "channel")
    if action == "moved" and detail.startswith("from ") and detail.endswith(" UTC"):
        try:
            before = datetime.strptime(detail[5:-4], "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
        except ValueError:
            return detail
        return str(_l("before: %(when)s", when=f"{format_day(before)} {format_clock(before)}"))
    return detail


def claim_autofocus() -> bool:
    """True once per response: the first field in error gets `autofocus`, no JavaScript needed."""
    if not has_request_context() or g.get("autofocus_claimed"):
        return False
    g.autofocus_claimed = True
    return True


def language_switch_url(code: str) -> str:
    args = request.args.to_dict()
    args["lang"] = code
    return f"{request.path}?{urlencode(sorted(args.items()))}"


@pass_eval_context
def date_and_time(eval_ctx: EvalContext, start: datetime, end: datetime | None = None) -> str:
    """ "Donnerstag, 4. März 2027, 10:00–10:45", joined as the locale joins a date and a time
    (Arabic "،", Turkish a space); the times stay left to right in Arabic and Persian."""
    locale = reader_locale()
    day = format_long_day(start)
    clock = time_range(eval_ctx, start, end) if end is not None else format_clock(start)
    pattern = (
        str(locale.datetime_formats["medium"]).replace("{1}", "{day}").replace("{0}", "{clock}")
    )
    if eval_ctx.autoescape:
        return escape(pattern).format(day=day, clock=clock)  # CLDR text, escaped all the same
    return pattern.format(day=day, clock=clock)


def init_app(app: Flask) -> None:
    app.jinja_env.filters["clock"] = format_clock
    app.jinja_env.filters["day"] = format_day
    app.jinja_env.filters["long_day"] = format_long_day
    app.jinja_env.filters["ltr"] = left_to_right
    app.jinja_env.filters["isolated"] = isolated
    app.jinja_env.filters["glossed"] = glossed
    app.jinja_env.filters["label"] = label
    app.jinja_env.globals["event_detail"] = event_detail
    app.jinja_env.globals.update(
        ROLE_LABELS=ROLE_LABELS,
        OFFICE_KIND_LABELS=OFFICE_KIND_LABELS,
        WEEKDAY_LABELS=WEEKDAY_LABELS,
        own_name=own_name,
        Role=Role,
        STATUS_LABELS=STATUS_LABELS,
        CHANNEL_LABELS=CHANNEL_LABELS,
        EVENT_LABELS=EVENT_LABELS,
        CANCEL_REASON_LABELS=CANCEL_REASON_LABELS,
        language_name=language_name,
        BERLIN_TZ=BERLIN,
        language_switch_url=language_switch_url,
        claim_autofocus=claim_autofocus,
        time_range=time_range,
        date_and_time=date_and_time,
        comma=comma,
        arrow=arrow,
    )

    @app.context_processor
    def inject_common():
        locale = get_locale()
        return {
            "current_locale": str(locale) if locale else app.config["BABEL_DEFAULT_LOCALE"],
            "text_direction": "rtl" if is_rtl(locale) else "ltr",
            "page_languages": page_languages(),
            # Messages are also rendered outside requests (CLI, worker): no user there. Never
            # read from the request: an error page (413 for a too-large body) must not read it.
            "logout_form": (
                ConfirmForm(formdata=None)
                if has_request_context() and current_user.is_authenticated
                else None
            ),
        }
