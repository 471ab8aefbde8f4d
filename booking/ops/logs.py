"""A request id on every log line and every answer; optionally one JSON object per log line.

The id comes from a well-formed incoming X-Request-ID (a proxy's, so one id follows a request
through nginx and the app) or is made here. It goes into the X-Request-ID response header, the
error pages, and every log record made while the request runs (`record.request_id`, "-"
outside a request). BOOKING_LOG_FORMAT=json writes each record as one JSON object; records are
redacted (booking/core/redaction.py) before any formatter sees them.
"""

import json
import logging
import re
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from flask import Flask, Response, g, has_request_context, request
from flask.logging import default_handler

HEADER = "X-Request-ID"
# Visible, unambiguous characters only: the id is logged and shown, so nothing that could
# carry a line break, markup or an email address gets through.
WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{7,63}")
LOG_FORMATS = ("text", "json")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
NO_REQUEST = "-"


def request_id() -> str:
    """This request's id (made on first use), or "-" outside a request."""
    if not has_request_context():
        return NO_REQUEST
    rid = g.get("request_id")
    if rid is None:
        incoming = request.headers.get(HEADER, "")
        rid = incoming if WELL_FORMED.fullmatch(incoming) else secrets.token_hex(16)
        g.request_id = rid
    return rid


def _assign_request_id() -> None:
    request_id()


def _send_request_id(response: Response) -> Response:
    response.headers[HEADER] = request_id()
    return response


def _request_id_factory(factory: Callable[..., logging.LogRecord]) -> Callable:
    def make_record(*args, **kwargs) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        if not hasattr(record, "request_id"):
            try:
                record.request_id = request_id()
            except RuntimeError:  # a request context without an app context (teardown)
                record.request_id = NO_REQUEST
        return record

    make_record.request_ids = True  # type: ignore[attr-defined]
    # The redaction's wrapper (booking/core/redaction.py) checks its own marker: keep it visible.
    make_record.redacts = getattr(factory, "redacts", False)  # type: ignore[attr-defined]
    return make_record


def install_request_id_records() -> None:
    """Every record of every logger gets `request_id` (idempotent)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "request_ids", False):
        logging.setLogRecordFactory(_request_id_factory(current))


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time (UTC), level, logger, request id, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            # gunicorn's access line names the id of the request it reports on.
            "request_id": getattr(record, "access_request_id", None)
            or getattr(record, "request_id", NO_REQUEST),
            "message": record.getMessage(),
        }
        if record.name == "gunicorn.access":  # the message is the request's fields as JSON
            try:
                entry.update(json.loads(entry.pop("message")))
            except ValueError:
                entry["message"] = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if not hasattr(record, "request_id"):
            record.request_id = NO_REQUEST
        return super().format(record)


def formatter_for(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


class _AppHandler(logging.StreamHandler):
    """The one handler the app puts on the root logger (marked, so it is put there once)."""


def configure_logging(app: Flask, stream=None) -> None:
    """Root logger: one stream handler in the chosen format; the app's records go through it.

    Left alone in tests (pytest captures), unless a stream is given.
    """
    log_format = app.config["LOG_FORMAT"]
    if app.testing and stream is None:
        return
    root = logging.getLogger()
    for handler in [h for h in root.handlers if isinstance(h, _AppHandler)]:
        root.removeHandler(handler)
    handler = _AppHandler(stream or sys.stderr)
    handler.setFormatter(formatter_for(log_format))
    root.addHandler(handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # Flask's own handler would write the app's records a second time, in another format.
    app.logger.removeHandler(default_handler)
    for name in ("werkzeug",):  # the development server's request lines
        logging.getLogger(name).propagate = True


def init_app(app: Flask) -> None:
    if app.config["LOG_FORMAT"] not in LOG_FORMATS:
        from booking.config import ConfigurationError

        raise ConfigurationError("BOOKING_LOG_FORMAT must be text or json")
    install_request_id_records()
    # First of all hooks (the host check included): every answer and log line has the id.
    app.before_request_funcs.setdefault(None, []).insert(0, _assign_request_id)
    # Runs after every other after_request hook: also the 503 page that replaces a failed
    # commit (booking/core/transactions.py) carries the id.
    app.after_request_funcs.setdefault(None, []).insert(0, _send_request_id)
    app.jinja_env.globals["request_id"] = request_id
    configure_logging(app)
