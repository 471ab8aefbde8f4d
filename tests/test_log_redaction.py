"""Tokens and families' data never appear in a log line, gunicorn's logs included."""

import io
import logging
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import gunicorn.config
import pytest
from sqlalchemy import text

from booking.core.redaction import RedactTokensFilter, redact
from booking.extensions import db

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


EMAIL = "erika.mustermann@example.org"
PHONE = "+4917612345678"
NAME = "Erika Mustermann"


@pytest.fixture
def all_log_output(caplog):
    """Everything every logger writes: pytest's capture and a plain handler on the root."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    caplog.set_level(logging.DEBUG)
    engine_logger = logging.getLogger("sqlalchemy.engine")
    engine_level = engine_logger.level
    engine_logger.setLevel(logging.INFO)  # statements with their parameters (echo)
    yield lambda: caplog.text + stream.getvalue()
    engine_logger.setLevel(engine_level)
    root.removeHandler(handler)


def test_errors_in_requests_and_statements_leak_no_token_and_no_family_data(
    app_factory, all_log_output
):
    app = app_factory(PROPAGATE_EXCEPTIONS=False)

    @app.route("/manage/<token>/boom")
    def boom(token):
        raise RuntimeError(f"cannot handle {token} for {EMAIL}, {PHONE}")

    @app.route("/boom-db")
    def boom_db():
        # A statement with a family's data that the database refuses (NOT NULL columns).
        db.session.execute(
            text("INSERT INTO appointment (family_name, email, phone) VALUES (:n, :e, :p)"),
            {"n": NAME, "e": EMAIL, "p": PHONE},
        )
        return "not reached"

    boom._access_rule = boom_db._access_rule = "public"
    client = app.test_client()
    assert client.get(f"/manage/{TOKEN}/boom").status_code == 500
    assert client.get("/boom-db").status_code == 500
    # Lines in the styles of Werkzeug's server and of gunicorn's error log.
    logging.getLogger("werkzeug").info('127.0.0.1 - - "%s" 500 -', f"GET /manage/{TOKEN} HTTP/1.1")
    try:
        raise ValueError(f"{EMAIL} / {PHONE}")
    except ValueError:
        logging.getLogger("gunicorn.error").exception("Error handling request /manage/%s", TOKEN)
    output = all_log_output()
    assert "Exception on /manage/[redacted]/boom [GET]" in output  # the records are there
    assert "IntegrityError" in output or "NOT NULL" in output.upper()
    assert "INSERT INTO appointment" in output
    for secret in (TOKEN, EMAIL, PHONE, NAME):
        assert secret not in output


def test_pool_pre_ping_stays_on_when_only_the_pool_size_is_set(app_factory, tmp_path):
    app = app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_size": 3})
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {
        "pool_pre_ping": True,
        "pool_size": 3,
        "hide_parameters": True,
    }
    off = app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": False})
    assert off.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is False


def test_statement_parameters_are_hidden_whatever_the_instance_config(app_factory):
    app = app_factory(SQLALCHEMY_ENGINE_OPTIONS={"pool_pre_ping": True})
    with app.app_context():
        assert db.engine.hide_parameters is True
        assert app.config["SQLALCHEMY_ENGINE_OPTIONS"]["pool_pre_ping"] is True


def test_redact_personal_data_in_text():
    line = (
        f"mail to {EMAIL}, call {PHONE} or 0211 899-0; on 2027-03-04 09:00:00 +0100; "
        "DETAIL:  Failing row contains (7, Erika Mustermann, erika@example.org).\n"
        "[parameters: ('Erika Mustermann', 'x')]"
    )
    redacted = redact(line)
    assert EMAIL not in redacted and PHONE not in redacted and "0211 899-0" not in redacted
    assert NAME not in redacted
    assert "2027-03-04 09:00:00 +0100" in redacted  # times stay readable
