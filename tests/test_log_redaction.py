"""Tokens never appear in a log line, gunicorn's access log included."""

import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import gunicorn.config

from booking.core.redaction import RedactTokensFilter, redact

TOKEN = "s3cr3t-Token_abcdefghijklmnop"


def test_redact_known_token_paths():
    assert redact(f"GET /manage/{TOKEN} HTTP/1.1") == "GET /manage/[redacted] HTTP/1.1"
    assert (
        redact(f"/manage/{TOKEN}/move?week=2027-03-01") == "/manage/[redacted]/move?week=2027-03-01"
    )
    assert (
        redact(f"POST /api/v1/bookings/{TOKEN}/cancel") == "POST /api/v1/bookings/[redacted]/cancel"
    )
    assert redact(f"/calendar/feed/{TOKEN}.ics") == "/calendar/feed/[redacted].ics"
    assert redact("/api/v1/bookings") == "/api/v1/bookings"  # nothing to hide


def test_werkzeug_style_record_is_redacted(caplog):
    logger = logging.getLogger("test.redaction")
    logger.addFilter(RedactTokensFilter())
    with caplog.at_level(logging.INFO, logger="test.redaction"):
        logger.info('%s - - "%s" %s', "127.0.0.1", f"GET /manage/{TOKEN} HTTP/1.1", 200)
    assert TOKEN not in caplog.text
    assert "/manage/[redacted]" in caplog.text


def test_gunicorn_access_log_is_redacted(app, tmp_path):
    # `app` installs the app's own log filters too: both must work together.
    namespace: dict = {}
    source = (Path(__file__).resolve().parents[1] / "gunicorn.conf.py").read_text()
    exec(compile(source, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102 (our own config)
    cfg = gunicorn.config.Config()
    cfg.set("accesslog", str(tmp_path / "access.log"))
    cfg.set("access_log_format", namespace["access_log_format"])
    logger = namespace["RedactingLogger"](cfg)
    request = SimpleNamespace(
        method="GET",
        path=f"/manage/{TOKEN}",
        query="",
        uri=f"/manage/{TOKEN}",
        version=(1, 1),
        headers=[("REFERER", f"https://example.org/manage/{TOKEN}")],
    )
    response = SimpleNamespace(
        status="200 OK", status_code=200, sent=10, headers=[], response_length=10
    )
    environ = {
        "REMOTE_ADDR": "127.0.0.1",
        "RAW_URI": f"/manage/{TOKEN}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REQUEST_METHOD": "GET",
        "PATH_INFO": f"/manage/{TOKEN}",
        "QUERY_STRING": "",
    }
    logger.access(response, request, environ, timedelta(milliseconds=5))
    for handler in logger.access_log.handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()
    assert "/manage/[redacted]" in line
    assert TOKEN not in line
