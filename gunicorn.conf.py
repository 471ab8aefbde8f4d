"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Access log lines never contain the secret tokens of manage links, API bookings or calendar
feeds: the logger below redacts them from the request line, path and referrer.
"""

import multiprocessing
import os

from gunicorn.glogging import Logger

from booking.core.redaction import redact

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
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
