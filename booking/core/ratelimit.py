"""Rate-limit storage faults are told in the app's own log.

Flask-Limiter logs "Rate limit storage unreachable - falling back to in-memory storage" to
its own logger, which has only a NullHandler. Its records reach the root logger's handler
(booking/ops/logs.py) by propagation; where the app logs through handlers of its own logger
instead (Flask's default handler, in tests), they are handed to those too.
"""

import logging

from flask import Flask

LIMITER_LOGGER = "flask-limiter"


class _ToAppLogger(logging.Handler):
    def __init__(self, app: Flask) -> None:
        super().__init__(level=logging.INFO)
        self.app_logger = app.logger

    def emit(self, record: logging.LogRecord) -> None:
        for handler in self.app_logger.handlers:
            if record.levelno >= handler.level:
                handler.handle(record)


def forward_limiter_warnings(app: Flask) -> None:
    logger = logging.getLogger(LIMITER_LOGGER)
    # One forwarder per process: each app made in a test would add another.
    for handler in list(logger.handlers):
        if isinstance(handler, _ToAppLogger):
            logger.removeHandler(handler)
    logger.addHandler(_ToAppLogger(app))
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
