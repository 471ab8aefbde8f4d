"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Access log lines never contain the secret tokens of manage links, API bookings or calendar
feeds: the logger below redacts them from the request line, path and referrer.

Workers: GUNICORN_WORKERS, else WEB_CONCURRENCY, else 2 × CPUs + 1 (`--workers` and
GUNICORN_CMD_ARGS win over both). With more than one worker, production needs a shared
rate-limit storage (BOOKING_RATELIMIT_STORAGE_URI=redis://…): `on_starting` refuses otherwise.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from booking.core.redaction import redact

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(
    os.environ.get("GUNICORN_WORKERS")
    or os.environ.get("WEB_CONCURRENCY")
    or multiprocessing.cpu_count() * 2 + 1
)
accesslog = "-"
errorlog = "-"
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
# The referrer and user agent are left out: they add personal data and nothing we need.
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)s'


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms


logger_class = RedactingLogger


def on_starting(server) -> None:
    """In the master, before any socket is bound: the app's configuration must hold, and
    several workers must share their rate-limit counters (the final worker count is known
    only here, after the command line and GUNICORN_CMD_ARGS)."""
    from booking import create_app
    from booking.config import check_rate_limit_storage

    app = create_app()  # raises ConfigurationError (gunicorn prints it and exits) when unsafe
    check_rate_limit_storage(app.config, server.cfg.workers)
