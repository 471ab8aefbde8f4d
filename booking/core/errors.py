"""Error pages in the app's own layout; never a stack trace."""

from flask import Flask, current_app, jsonify, make_response, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from booking.core.transactions import DatabaseBusy, rollback_only
from booking.extensions import db

ERROR_TEXTS = {
    400: (_l("Bad request"), _l("The request could not be understood. Please try again.")),
    403: (_l("Access denied"), _l("You are not allowed to open this page.")),
    404: (_l("Page not found"), _l("This page does not exist. Please check the address.")),
    405: (_l("Not allowed"), _l("This action is not possible here.")),
    413: (_l("Too much data"), _l("What you sent is too large. Please send less.")),
    429: (
        _l("Too many attempts"),
        _l("There were too many attempts in a short time. Please wait a moment and try again."),
    ),
    500: (
        _l("Something went wrong"),
        _l("An unexpected error occurred on our side. Please try again later."),
    ),
    503: (_l("Service unavailable"), _l("The service is unavailable right now. Please try later.")),
}


API_ERRORS = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
    500: "internal_error",
    503: "unavailable",
}


def render_error(code: int, message=None):
    rollback_only()  # an error answer never commits what the request had begun
    if request.path.startswith("/api/"):
        return jsonify({"error": API_ERRORS.get(code, "error")}), code
    title, text = ERROR_TEXTS.get(code, ERROR_TEXTS[500])
    return render_template(
        "errors/error.html", code=code, title=title, message=message or text
    ), code


def handle_http_exception(error: HTTPException):
    return render_error(error.code or 500)


def handle_csrf_error(error: CSRFError):
    return render_error(
        400, _l("The form has expired or was sent twice. Please reload the page and try again.")
    )


def handle_internal_error(error: Exception):
    return render_error(500)


def handle_database_busy(error: DatabaseBusy):
    return render_error(503, error.message)


# A database fault answers 503 with this hint (seconds): the fault is on our side and passes.
RETRY_AFTER_SECONDS = 30
# Endpoints whose refusal names the appointment: the family's first question is "am I booked?".
BOOKING_ENDPOINTS = frozenset(
    {
        "public.details",
        "public.manage_cancel",
        "public.manage_move",
        "api.create_booking",
        "api.cancel_booking",
        "api.move_booking",
    }
)
# What SQLite and PostgreSQL say when the data cannot be written (full disk, read-only file
# or server, broken file): a write fails, reading may go on.
STORAGE_FAULTS = (
    "readonly database",
    "read-only transaction",
    "disk is full",
    "disk i/o error",
    "no space left on device",
    "could not extend file",
    "unable to open database file",
    "database disk image is malformed",
)


def storage_fault_message():
    if request.endpoint in BOOKING_ENDPOINTS:
        return _l(
            "Your appointment could not be saved because of a technical problem on our side. "
            "Nothing has changed. Please try again later or call the office."
        )
    return _l(
        "This could not be saved because of a technical problem on our side. "
        "Nothing has changed. Please try again later."
    )


def database_fault(error: DBAPIError) -> str | None:
    """'storage' (nothing can be written), 'busy' (locked) or 'connection' (the server went
    away; the pool drops the connection and the next request gets a fresh one); None for
    faults of the statement itself (a bug: the 500 page)."""
    text = str(getattr(error, "orig", error)).lower()
    if any(marker in text for marker in STORAGE_FAULTS):
        return "storage"
    if "locked" in text or "busy" in text:
        return "busy"
    if error.connection_invalidated or isinstance(error, InterfaceError):
        return "connection"
    # SQLite has no connection to lose: its other errors (no such table …) are bugs.
    if isinstance(error, OperationalError) and not _from_sqlite(error):
        return "connection"
    return None


def _from_sqlite(error: DBAPIError) -> bool:
    return type(getattr(error, "orig", None)).__module__.startswith("sqlite3")


def database_unavailable(kind: str):
    """The 503 answer (page or JSON) for a database fault; never a traceback."""
    if kind == "storage":
        message = storage_fault_message()
    elif kind == "busy":
        from booking.core.transactions import busy_message

        message = busy_message()
    else:
        message = None  # "The service is unavailable right now. Please try later."
    try:
        answer, code = render_error(503, message)
        response = make_response(answer, code)
    except Exception:  # the page itself needs the database: a plain answer instead
        current_app.logger.exception("error page failed; plain 503 instead")
        response = make_response("503 Service Unavailable", 503, {"Content-Type": "text/plain"})
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_database_error(error: DBAPIError):
    kind = database_fault(error)
    try:
        db.session.rollback()  # also ends an invalidated connection's transaction
    except DBAPIError:
        db.session.remove()
    if kind is None:
        current_app.logger.error("database error", exc_info=error)
        return render_error(500)
    log_database_fault(kind, error)
    return database_unavailable(kind)


def log_database_fault(kind: str, error: DBAPIError, what: str = "") -> None:
    """One line, no traceback: the fault is outside the code (redacted like every line)."""
    reason = (str(getattr(error, "orig", error)).strip().splitlines() or ["?"])[0]
    current_app.logger.warning(
        "database fault (%s)%s, answered 503: %s: %s",
        kind,
        f", {what}" if what else "",
        type(error).__name__,
        reason,
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(DatabaseBusy, handle_database_busy)
    app.register_error_handler(OperationalError, handle_database_error)
    app.register_error_handler(InterfaceError, handle_database_error)
