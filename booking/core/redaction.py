"""Keep secrets and families' data out of every log line.

Manage links, API booking tokens and calendar feeds carry secret tokens in their paths;
exception texts can carry email addresses, phone numbers and (PostgreSQL's "DETAIL: Failing
row contains (…)") whole rows. Every record of every logger is redacted when it is made (a
log record factory), so records that propagate to the root logger, gunicorn's own loggers,
pytest's capture and any handler added later all see the redacted text only. SQLAlchemy's
statement parameters are not logged at all (`hide_parameters`, set in the app factory).
"""

import logging
import re
from collections.abc import Callable, Mapping

from flask import has_request_context, request

REDACTED = "[redacted]"

TOKEN_PATHS = re.compile(
    r"(?P<prefix>/(?:manage|api/v1/bookings|calendar/feed)/)(?P<token>[A-Za-z0-9_\-]{8,})"
)
TOKEN_PARAMETERS = re.compile(r"(?P<prefix>[?&;](?:token|key|manage_token)=)[^&;\s\"']+", re.I)
EMAILS = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}")
# International (+49 …, 0049 …) and national (0211 …, 0176-…) numbers; not dates or times.
PHONES = re.compile(r"(?<![\w.:+\-])(?:\+|00?)[1-9](?:[ ()/\-]?\d){5,}(?![\w])")
# PostgreSQL's error details quote the values of the row or key ("Failing row contains (…)").
DB_DETAILS = re.compile(r"(?P<prefix>DETAIL:|Failing row contains|Key \()[^\n]*")
# SQL parameters in an exception text, should an engine be made without hide_parameters.
SQL_PARAMETERS = re.compile(r"\[parameters: [^\n]*\]")

SUBSTITUTIONS: list[tuple[re.Pattern, Callable[[re.Match], str] | str]] = [
    (TOKEN_PATHS, lambda m: m.group("prefix") + REDACTED),
    (TOKEN_PARAMETERS, lambda m: m.group("prefix") + REDACTED),
    (DB_DETAILS, lambda m: f"{m.group('prefix')} {REDACTED}"),
    (SQL_PARAMETERS, f"[parameters: {REDACTED}]"),
    (EMAILS, "[email]"),
    (PHONES, "[phone]"),
]


def redact(text: str) -> str:
    for secret in _request_secrets():
        text = text.replace(secret, REDACTED)
    for pattern, replacement in SUBSTITUTIONS:
        text = pattern.sub(replacement, text)
    return text


def _request_secrets() -> list[str]:
    """The current request's token from its URL, wherever a log line repeats it."""
    if not has_request_context() or not request.view_args:
        return []
    token = request.view_args.get("token")
    return [token] if isinstance(token, str) and len(token) >= 8 else []


def _redact_value(value):
    return redact(value) if isinstance(value, str) else value


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact a record's message, arguments, exception text and stack in place."""
    if getattr(record, "_redacted", False):
        return record
    if isinstance(record.args, Mapping):  # gunicorn passes its access atoms as one mapping
        redacted = {key: _redact_value(value) for key, value in record.args.items()}
        try:  # keep gunicorn's SafeAtoms, which answers "-" for an atom the request lacks
            record.args = type(record.args)(redacted)
        except TypeError:
            record.args = redacted
    elif record.args:
        try:
            # Objects (exceptions, requests) turn into text only here, so redact the whole line.
            record.msg = record.getMessage()
            record.args = None
        except (TypeError, ValueError):
            record.args = tuple(_redact_value(str(arg)) for arg in record.args)
    if isinstance(record.msg, str):
        record.msg = redact(record.msg)
    elif record.msg is not None:
        record.msg = redact(str(record.msg))
    if record.exc_info and not record.exc_text:
        # Formatters reuse exc_text, so the traceback text is made (and redacted) once, here.
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record._redacted = True
    return record


class RedactTokensFilter(logging.Filter):
    """Redacts records on a logger or handler (on top of the record factory)."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def _redacting_factory(factory: Callable[..., logging.LogRecord]) -> Callable:
    def make_record(*args, **kwargs) -> logging.LogRecord:
        return redact_record(factory(*args, **kwargs))

    make_record.redacts = True  # type: ignore[attr-defined]
    # Other wrappers (booking/ops/logs.py) check their own marker: keep it visible.
    make_record.request_ids = getattr(factory, "request_ids", False)  # type: ignore[attr-defined]
    return make_record


def install_log_redaction() -> None:
    """Redact every record of every logger (idempotent; safe to call for each app)."""
    current = logging.getLogRecordFactory()
    if not getattr(current, "redacts", False):
        logging.setLogRecordFactory(_redacting_factory(current))
    # Belt and braces for handlers that receive records made before the factory was set.
    loggers = [
        logging.getLogger(name) for name in ("werkzeug", "gunicorn.access", "gunicorn.error")
    ]
    for logger in [*loggers, logging.getLogger()]:
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())
        for handler in logger.handlers:
            if not any(isinstance(f, RedactTokensFilter) for f in handler.filters):
                handler.addFilter(RedactTokensFilter())
