"""Keep secret tokens out of every log line (manage links, calendar feeds, API tokens)."""

import logging
import re
from collections.abc import Mapping

TOKEN_PATHS = re.compile(
    r"(?P<prefix>/(?:manage|api/v1/bookings|calendar/feed)/)(?P<token>[A-Za-z0-9_\-]{8,})"
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    return TOKEN_PATHS.sub(lambda m: m.group("prefix") + REDACTED, text)


class RedactTokensFilter(logging.Filter):
    """For any logger whose records may contain request paths (Werkzeug's dev server)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping):  # gunicorn passes its atoms as one mapping
            record.args = {
                key: redact(value) if isinstance(value, str) else value
                for key, value in record.args.items()
            }
        elif record.args:
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        return True


def install_log_redaction() -> None:
    for name in ("werkzeug", "gunicorn.access", "gunicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactTokensFilter) for f in logger.filters):
            logger.addFilter(RedactTokensFilter())
