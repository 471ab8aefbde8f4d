"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py wsgi:app`.

Access log lines never contain the secret tokens of manage links, API bookings or calendar
feeds: the logger below redacts them from the request line, path and referrer.

Workers: GUNICORN_WORKERS, else WEB_CONCURRENCY, else 2 × CPUs + 1 (`--workers` and
GUNICORN_CMD_ARGS win over both). With more than one worker, production needs a shared
rate-limit storage (BOOKING_RATELIMIT_STORAGE_URI=redis://…): `on_starting` refuses otherwise.
In production it also refuses a database with pending migrations (run `flask --app wsgi db
upgrade` first), and the app itself refuses a missing secret or BOOKING_PUBLIC_BASE_URL.

Metrics: the workers count into files in PROMETHEUS_MULTIPROC_DIR (a fresh temporary folder
unless set; emptied at start), so /metrics sums every worker of this instance.
Logs: with BOOKING_LOG_FORMAT=json, gunicorn's error and access lines are JSON objects like the
app's; every access line carries the request's X-Request-ID.
"""

import glob
import json
import multiprocessing
import os
import sys
import tempfile

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
access_log_format = '%(h)s %(t)s "%(r)s" %(s)s %(b)s %(L)s %({x-request-id}o)s'


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for key in ("r", "U", "q", "f", "{raw_uri}e"):
            if isinstance(atoms.get(key), str):
                atoms[key] = redact(atoms[key])
        return atoms

    # From the environment already for gunicorn's first line; on_starting applies the app's
    # setting (instance/config.py too).
    log_format = os.environ.get("BOOKING_LOG_FORMAT", "text").strip().strip('"')

    def use_format(self, log_format: str) -> None:
        self.log_format = log_format
        self._apply_format()

    def setup(self, cfg) -> None:
        super().setup(cfg)  # also on a reload (HUP), which replaces the handlers
        self._apply_format()

    def _apply_format(self) -> None:
        if self.log_format != "json":
            return
        from booking.ops.logs import JsonFormatter

        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if self.log_format != "json":
            return super().access(resp, req, environ, request_time)
        if not self.access_log_enabled:
            return None
        atoms = self.atoms(resp, req, environ, request_time)
        rid = atoms.get("{x-request-id}o") or "-"
        http = {
            "method": atoms.get("m"),
            "path": atoms.get("U"),  # redacted above
            "status": int(resp.status_code) if resp.status_code else None,
            "bytes": atoms.get("B"),
            "duration_ms": round(request_time.total_seconds() * 1000, 1),
            "remote_addr": atoms.get("h"),
        }
        self.access_log.info(
            "%s", json.dumps(http, ensure_ascii=False), extra={"access_request_id": rid}
        )
        return None


logger_class = RedactingLogger


def _metrics_directory() -> None:
    """Before the app (and so prometheus_client) is imported: one folder for all workers."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        if "prometheus_client" in sys.modules:
            return  # imported already in single-process mode: leave it so
        directory = tempfile.mkdtemp(prefix="sprechstunde-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
    os.makedirs(directory, exist_ok=True)
    for stale in glob.glob(os.path.join(directory, "*.db")):
        os.remove(stale)  # counters of an earlier run of this instance


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_starting(server) -> None:
    """In the master, before any socket is bound: the app's configuration must hold, and
    several workers must share their rate-limit counters (the final worker count is known
    only here, after the command line and GUNICORN_CMD_ARGS)."""
    _metrics_directory()
    from booking import create_app
    from booking.config import check_rate_limit_storage, check_schema_current

    # Each raises ConfigurationError, a RuntimeError: gunicorn prints "Error: …" and exits 1.
    app = create_app()  # a missing secret or public address, an unknown setting
    check_rate_limit_storage(app.config, server.cfg.workers)
    check_schema_current(app)
    if hasattr(server, "log") and hasattr(server.log, "use_format"):
        server.log.use_format(app.config["LOG_FORMAT"])
