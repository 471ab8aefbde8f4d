"""Public JSON API v1. No cookies, no CSRF; times are ISO 8601 with the Berlin offset."""

from datetime import date

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _
from sqlalchemy import select

from booking.api.idempotency import idempotent
from booking.api.openapi import openapi_document
from booking.appointments.booking import (
    InvalidFamilyDetails,
    NotASlot,
    NotReleased,
    SlotTaken,
    TooLate,
    TooManyOpenBookings,
    appointment_for_token,
    book_appointment,
    cancel_by_family,
    check_family_details,
    move_appointment,
    record_refusal,
)
from booking.appointments.models import Appointment, AppointmentError, AppointmentStatus
from booking.core.access import public
from booking.core.converters import parse_date
from booking.core.page_cache import cached_answer, conditional_answer
from booking.core.transactions import DatabaseBusy, begin_write, locks_late
from booking.db import utcnow
from booking.extensions import csrf, db, limiter
from booking.offices.models import Office
from booking.public.services import parse_start, public_service
from booking.schedule.engine import BERLIN
from booking.schedule.services import consultation_calendar, find_free_slots

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)

MAX_RANGE_DAYS = 92
READ_LIMIT = "120 per minute"
WRITE_LIMIT = "10 per minute; 60 per hour"
TIMEZONE = "Europe/Berlin"


class ApiError(Exception):
    def __init__(self, status: int, body: dict) -> None:
        super().__init__(body)
        self.status = status
        self.body = body


@bp.errorhandler(ApiError)
def handle_api_error(error: ApiError):
    return jsonify(error.body), error.status


@bp.errorhandler(AppointmentError)
def handle_appointment_error(error: AppointmentError):
    """A booking, move or cancel the service refused: the same answer on every route."""
    db.session.rollback()
    if isinstance(error, SlotTaken):
        return jsonify({"error": "slot_taken"}), 409
    if isinstance(error, NotReleased):  # channel quota: kept for phone and desk for now
        return jsonify({"error": "slot_not_released"}), 409
    if isinstance(error, NotASlot):
        return jsonify({"errors": {"start": str(error.message)}}), 422
    if isinstance(error, TooLate):
        return jsonify({"error": "too_late"}), 409
    return jsonify({"error": "not_booked"}), 409


@bp.errorhandler(DatabaseBusy)
def handle_busy(error: DatabaseBusy):
    db.session.rollback()
    return jsonify({"error": "busy"}), 503


def bad_request(message: str) -> ApiError:
    return ApiError(400, {"error": message})


def iso(instant) -> str:
    return instant.astimezone(BERLIN).isoformat()


def date_range() -> tuple[date, date]:
    """The `from` and `to` query parameters: local dates, both inclusive, at most 92 days."""
    values = {}
    for name in ("from", "to"):
        text = request.args.get(name)
        if not text:
            raise bad_request(f"missing parameter: {name}")
        values[name] = parse_date(text)
        if values[name] is None:
            raise bad_request(f"{name} must be a date like 2027-03-30")
    first, last = values["from"], values["to"]
    if last < first:
        raise bad_request("to must not be before from")
    if (last - first).days + 1 > MAX_RANGE_DAYS:
        raise bad_request(f"the range may span at most {MAX_RANGE_DAYS} days")
    return first, last


def json_body() -> dict:
    if request.mimetype != "application/json":
        raise ApiError(415, {"error": "the body must be JSON (Content-Type: application/json)"})
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise bad_request("malformed JSON: expected an object")
    return body


def appointment_json(appointment: Appointment, token: str | None = None) -> dict:
    result = {
        "reference": appointment.reference,
        "service": appointment.service.slug,
        "office": appointment.office.slug,
        "start": iso(appointment.starts_at),
        "end": iso(appointment.ends_at),
        "status": "cancelled" if appointment.status == AppointmentStatus.CANCELLED else "booked",
    }
    if token is not None:
        result["manage_token"] = token
    return result


@bp.route("/openapi.json")
@limiter.limit(READ_LIMIT)
@public
def openapi():
    return jsonify(openapi_document())


@bp.route("/offices")
@limiter.limit(READ_LIMIT)
@public
def offices():
    rows = db.session.scalars(
        select(Office).where(Office.active.is_(True)).order_by(Office.district, Office.name)
    )
    return jsonify(
        [
            {
                "slug": office.slug,
                "name": office.local("name"),
                "kind": office.kind.value,
                "district": office.district,
                "address": office.local("address"),
                "operator": office.local("operator"),
                "services": [
                    {"slug": s.slug, "name": s.local("name"), "minutes": s.minutes}
                    for s in office.services
                    if s.public and s.active
                ],
            }
            for office in rows
        ]
    )


@bp.route("/slots")
@limiter.limit(READ_LIMIT)
@public
def slots():
    slug = request.args.get("service")
    if not slug:
        raise bad_request("missing parameter: service")
    first, last = date_range()
    service = public_service(slug)
    if service is None:
        raise ApiError(404, {"error": "unknown service"})
    now = utcnow()

    def render() -> str:
        free = find_free_slots(service, first, last, now, online=True)
        answer = {
            "service": service.slug,
            "timezone": TIMEZONE,
            "slots": [{"start": iso(s.start), "end": iso(s.end)} for s in free],
        }
        return current_app.json.dumps(answer) + "\n"  # as jsonify writes it

    body = cached_answer("api-slots", service, (first, last), now, render)
    return conditional_answer(body, "application/json")


@bp.route("/consultation-hours")
@limiter.limit(READ_LIMIT)
@public
def consultation_hours():
    slug = request.args.get("office")
    if not slug:
        raise bad_request("missing parameter: office")
    first, last = date_range()
    office = db.session.scalar(select(Office).where(Office.slug == slug, Office.active.is_(True)))
    if office is None:
        raise ApiError(404, {"error": "unknown office"})
    return jsonify(
        {
            "office": office.slug,
            "timezone": TIMEZONE,
            "consultation_hours": [
                {
                    "start": iso(o.start),
                    "end": iso(o.end),
                    "status": o.status,
                    "reason": o.reason,
                    "detail": o.detail,
                }
                for o in consultation_calendar(office, first, last)
            ],
        }
    )


# Field messages are for people (the family using a city's app): in the Accept-Language's
# language. Error codes ("slot_taken", "too_late", …) stay codes.
START_FORMAT = " (ISO 8601: 2027-03-30T09:00:00+02:00)"


def required_message(name: str) -> str:
    if name == "name":
        return _("Please enter a name.")
    if name == "start":
        return _("Please choose a time.") + START_FORMAT
    return _("Please check your entries")


def _field_errors(body: dict) -> dict:
    errors = {}
    for name in ("service", "start", "name"):
        if not isinstance(body.get(name), str) or not body.get(name).strip():
            errors[name] = required_message(name)
    for name in ("email", "phone", "language", "note"):
        if body.get(name) is not None and not isinstance(body[name], str):
            errors[name] = _("Please check your entries")
    if body.get("interpreter") is not None and not isinstance(body["interpreter"], bool):
        errors["interpreter"] = _("Please check your entries")
    if body.get("privacy_consent") is not True:
        errors["privacy_consent"] = _("Please agree to the privacy notice.")
    return errors


@bp.route("/bookings", methods=["POST"])
@locks_late  # book_appointment takes the write lock after its first check
@limiter.limit(WRITE_LIMIT)
@public
@idempotent("bookings")
def create_booking():
    body = json_body()
    errors = _field_errors(body)
    service = public_service(body["service"]) if "service" not in errors else None
    if "service" not in errors and service is None:
        errors["service"] = _("Service unavailable")
    start = parse_start(body.get("start")) if "start" not in errors else None
    if "start" not in errors and start is None:
        errors["start"] = _("Please choose from the listed times.") + START_FORMAT
    try:
        family = check_family_details(
            body.get("name") if isinstance(body.get("name"), str) else None,
            body.get("email") if isinstance(body.get("email"), str) else None,
            body.get("phone") if isinstance(body.get("phone"), str) else None,
            body.get("language") if isinstance(body.get("language"), str) else None,
            body.get("interpreter") is True,
            body.get("note") if isinstance(body.get("note"), str) else None,
        )
    except InvalidFamilyDetails as error:
        errors.update({k: str(v) for k, v in error.errors.items() if k not in errors})
        family = None
    if errors:
        return jsonify({"errors": errors}), 422
    try:
        booking = book_appointment(service, start, family, utcnow())
    except TooManyOpenBookings as error:
        db.session.rollback()
        begin_write()  # the refusal's audit entry is a write: SQLite's lock first
        record_refusal(service, "max open bookings per contact (API)")
        return jsonify({"errors": {"contact": str(error.message)}}), 422
    return jsonify(appointment_json(booking.appointment, booking.manage_token)), 201


def appointment_or_404(token: str) -> Appointment:
    appointment = appointment_for_token(token, utcnow())
    if appointment is None:
        raise ApiError(404, {"error": "unknown or expired token"})
    return appointment


@bp.route("/bookings/<token>")
@limiter.limit(READ_LIMIT)
@public
def get_booking(token: str):
    return jsonify(appointment_json(appointment_or_404(token)))


@bp.route("/bookings/<token>/cancel", methods=["POST"])
@limiter.limit(WRITE_LIMIT)
@public
@idempotent("cancel")
def cancel_booking(token: str):
    appointment = appointment_or_404(token)
    cancel_by_family(appointment, utcnow())
    return jsonify({"status": "cancelled"})


@bp.route("/bookings/<token>/move", methods=["POST"])
@limiter.limit(WRITE_LIMIT)
@public
@idempotent("move")
def move_booking(token: str):
    body = json_body()
    appointment = appointment_or_404(token)
    start = parse_start(body.get("start")) if isinstance(body.get("start"), str) else None
    if start is None:
        return jsonify(
            {"errors": {"start": _("Please choose from the listed times.") + START_FORMAT}}
        ), 422
    booking = move_appointment(appointment, start, utcnow())
    return jsonify(appointment_json(booking.appointment, booking.manage_token))
