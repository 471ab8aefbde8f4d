"""Error pages in the app's own layout; never a stack trace."""

from flask import Flask, jsonify, render_template, request
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from booking.core.transactions import DatabaseBusy, rollback_only

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


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(InternalServerError, handle_internal_error)
    app.register_error_handler(DatabaseBusy, handle_database_busy)
