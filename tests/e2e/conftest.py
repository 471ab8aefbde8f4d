"""The live server and the browser of every browser test module (one definition).

Each module gets a server of its own on a fresh SQLite database with the demo offices and
appointments, so one module's bookings never change another's free times. A module adds
settings by overriding `live_server_config` and data by overriding `live_server_data`.
"""

import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from booking import create_app
from booking.extensions import db
from booking.setup.cli import DEMO_FILE, load_file
from booking.setup.demo_appointments import create_demo_appointments

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("BOOKING_CHROMIUM", "/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="module")
def live_server_config() -> dict:
    """Settings a module adds to the live server's app."""
    return {}


@pytest.fixture(scope="module")
def live_server_data():
    """A function a module runs in the app context after the demo data is loaded, or None."""
    return None


@pytest.fixture(scope="module")
def live_app(tmp_path_factory, live_server_config, live_server_data):
    if os.environ.get("BOOKING_SKIP_E2E") == "1":
        pytest.skip("BOOKING_SKIP_E2E=1")
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        pytest.fail(
            f"missing {missing}: run `make e2e-deps` (Chromium from Debian, axe-core from npm)"
        )
    folder = tmp_path_factory.mktemp("e2e")
    app = create_app(
        {
            "TESTING": True,
            "ENVIRONMENT": "testing",
            "SECRET_KEY": "e2e",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'e2e.sqlite3'}",
            "RATELIMIT_ENABLED": False,
            "ARGON2_TIME_COST": 1,
            "ARGON2_MEMORY_COST": 1024,
            "ARGON2_PARALLELISM": 1,
            **live_server_config,
        },
        instance_path=str(folder),
    )
    with app.app_context():
        upgrade()
        load_file(DEMO_FILE)
        create_demo_appointments()
        if live_server_data is not None:
            live_server_data()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def live_server(live_app):
    """The base URL of the module's app, served in a thread."""
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    live_app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"  # links in pages
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()
