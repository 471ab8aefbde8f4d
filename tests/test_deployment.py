"""`make run-prod` / gunicorn in production: what it refuses, and what it serves when it starts."""

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
import requests
from flask_migrate import upgrade

from booking import create_app
from booking.extensions import db
from tests.gunicorn_server import ROOT, production_env, run_gunicorn, start_gunicorn

PORT = 5401
METRICS_TOKEN = "t" * 40


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("deployment")
    uri = f"sqlite:///{folder / 'sprechstunde.sqlite3'}"
    app = create_app(
        {"ENVIRONMENT": "testing", "SQLALCHEMY_DATABASE_URI": uri},
        instance_path=str(folder / "instance"),
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return uri


def without(env: dict[str, str], *keys: str) -> dict[str, str]:
    return {key: value for key, value in env.items() if key not in keys}


REFUSALS = {
    "missing secret": (
        lambda env: without(env, "BOOKING_SECRET_KEY"),
        "without a SECRET_KEY",
    ),
    "missing public base url": (
        lambda env: without(env, "BOOKING_PUBLIC_BASE_URL"),
        "without BOOKING_PUBLIC_BASE_URL",
    ),
    "memory rate limits with several workers": (
        lambda env: {**env, "GUNICORN_WORKERS": "3"},
        "Refusing to start 3 workers with BOOKING_RATELIMIT_STORAGE_URI=memory://",
    ),
    "pending migrations": (
        lambda env: {**env, "BOOKING_SQLALCHEMY_DATABASE_URI": env["EMPTY_DATABASE"]},
        "the database is at migration none (empty database), this code needs",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_production_gunicorn_refuses_to_start(case, migrated_sqlite, tmp_path):
    change, message = REFUSALS[case]
    env = production_env(migrated_sqlite, GUNICORN_BIND=f"127.0.0.1:{PORT}")
    env = change({**env, "EMPTY_DATABASE": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    result = run_gunicorn(env)
    assert result.returncode != 0
    assert "Error: Refusing to start" in result.stderr, result.stderr
    assert message in result.stderr
    assert "Traceback" not in result.stderr  # one clear sentence, not a stack
    assert "Booting worker" not in result.stderr + result.stdout  # nothing was served


def test_make_run_prod_refuses_pending_migrations(tmp_path):
    # `make run-prod` is production whatever BOOKING_ENVIRONMENT the Makefile defaults to.
    env = production_env(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
    env.pop("BOOKING_ENVIRONMENT")
    env["GUNICORN_BIND"] = f"127.0.0.1:{PORT}"
    for inherited in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS"):  # an outer make's -s would hide the echo
        env.pop(inherited, None)
    result = subprocess.run(
        # The virtual environment is there already: make must not reinstall it for this test.
        ["make", "--no-print-directory", "-o", ".venv/.runtime", "run-prod"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0
    assert "gunicorn -c gunicorn.conf.py wsgi:app" in result.stdout
    assert "Refusing to start: the database is at migration none" in result.stderr
    assert "flask --app wsgi db upgrade" in result.stderr


@pytest.fixture(scope="module")
def server(migrated_sqlite, tmp_path_factory):
    folder = tmp_path_factory.mktemp("server")
    env = production_env(
        migrated_sqlite,
        BOOKING_LOG_FORMAT="json",
        BOOKING_METRICS_TOKEN=METRICS_TOKEN,
        BOOKING_PROXY_FIX_HOPS="1",
        PROMETHEUS_MULTIPROC_DIR=str(folder / "metrics"),
    )
    running = start_gunicorn(env, PORT, folder / "gunicorn.log")
    yield running
    running.stop()


def test_production_gunicorn_serves_liveness_and_readiness(server):
    assert requests.get(f"{server.url}/healthz", timeout=10).json()["status"] == "ok"
    ready = requests.get(f"{server.url}/readyz", timeout=10)
    assert ready.status_code == 200
    assert ready.json() == {
        "status": "ready",
        "database": "up",
        "migrations": "current",
        "redis": "not configured",
    }


def test_production_gunicorn_request_ids_in_answers_pages_and_logs(server):
    rid = "proxy-req-000111222333"
    page = requests.get(f"{server.url}/no-such-page", headers={"X-Request-ID": rid}, timeout=10)
    assert page.status_code == 404
    assert page.headers["X-Request-ID"] == rid
    assert rid in page.text
    made = requests.get(f"{server.url}/healthz", headers={"X-Request-ID": "bad id"}, timeout=10)
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])

    def access_lines() -> list[dict]:
        lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
        return [line for line in lines if line["logger"] == "gunicorn.access"]

    # gunicorn writes the access line after the answer has gone out: wait for it a moment.
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        access = access_lines()
        if any(line["request_id"] == made.headers["X-Request-ID"] for line in access):
            break
        time.sleep(0.05)
    lines = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    mine = [line for line in access if line["request_id"] == rid]
    assert mine and mine[0]["path"] == "/no-such-page" and mine[0]["status"] == 404
    assert any(line["request_id"] == made.headers["X-Request-ID"] for line in access)
    # Every line gunicorn and the app wrote is one JSON object with a request id.
    other = [line for line in server.log().splitlines() if line.strip() and line[0] != "{"]
    assert other == []
    assert all("request_id" in line and "level" in line for line in lines)


def test_production_gunicorn_metrics_behind_the_token(server):
    assert requests.get(f"{server.url}/metrics", timeout=10).status_code == 401
    requests.get(f"{server.url}/readyz", timeout=10)
    answer = requests.get(
        f"{server.url}/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}, timeout=10
    )
    assert answer.status_code == 200
    assert 'sprechstunde_http_requests_total{endpoint="ops.readyz",method="GET",status="200"}' in (
        answer.text
    )
    assert "sprechstunde_outbox_messages" in answer.text
    assert "sprechstunde_callbacks_overdue" in answer.text


@pytest.mark.skipif(shutil.which("make") is None, reason="no make")
def test_make_run_prod_is_gunicorn_with_its_config():
    dry = subprocess.run(
        ["make", "--no-print-directory", "-n", "-o", ".venv/.runtime", "run-prod"],
        cwd=ROOT,
        # Under `make test` the outer make's MAKEFLAGS/MAKELEVEL would add "Entering directory".
        env={
            k: v
            for k, v in os.environ.items()
            if not k.startswith("BOOKING_") and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")
        },
        capture_output=True,
        text=True,
        check=True,
    )
    assert dry.stdout.strip().splitlines()[-1] == ".venv/bin/gunicorn -c gunicorn.conf.py wsgi:app"
    assert Path(ROOT / "gunicorn.conf.py").exists()
