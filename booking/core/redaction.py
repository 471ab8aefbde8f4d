"""Keep secret tokens out of every log line (manage links, calendar feeds, API tokens)."""

import logging
import re

TOKEN_PATHS = re.compile(
    r"(?P<prefix>/(?:manage|api/v1/bookings|calendar/feed)/)(?P<token>[A-Za-z0-9_\-]{8,})"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATHS.sub(lambda m: m.group("prefix") + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """For any logger whose records may contain request paths (Werkzeug's dev server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())
