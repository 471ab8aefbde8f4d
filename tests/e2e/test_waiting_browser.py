"""The walk-in queue in a real browser (Debian's Chromium): axe-core's WCAG 2.1 AA checks on the
waiting-room screen, the office page with its waiting status and reception's queue page; the
screen refreshes itself without JavaScript and shows no names; check-in and call without
JavaScript."""

import os
import threading
from pathlib import Path

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect, sync_playwright
from werkzeug.serving import make_server

from booking import create_app
from booking.extensions import db
from booking.setup.cli import DEMO_FILE, load_file
from booking.setup.demo_appointments import create_demo_appointments
from booking.waiting.demo import DEMO_VISITS, create_demo_queue

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("BOOKING_CHROMIUM", "/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
RECEPTION = ("empfang.35a@example.org", "Sprechstunde-Demo-2026")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.environ.get("BOOKING_SKIP_E2E") == "1":
        pytest.skip("BOOKING_SKIP_E2E=1")
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        pytest.fail(f"missing {missing}: run `make e2e-deps`")
    folder = tmp_path_factory.mktemp("e2e-waiting")
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
        },
        instance_path=str(folder),
    )
    with app.app_context():
        upgrade()
        load_file(DEMO_FILE)
        create_demo_appointments()
        create_demo_queue()  # today's hours around now, people waiting and called
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    app.config["PUBLIC_BASE_URL"] = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def chromium():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu", "--no-first-run"]
        )
        yield browser
        browser.close()


def new_page(browser, javascript=True, bypass_csp=False, width=1280, height=720):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="de-DE",
        java_script_enabled=javascript,
        bypass_csp=bypass_csp,
    )
    return context.new_page()


def axe_violations(page, skip=()) -> list[str]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        """([tags, skip]) => axe.run(document, {
            runOnly: {type: 'tag', values: tags},
            rules: Object.fromEntries(skip.map(id => [id, {enabled: false}])),
        })""",
        [WCAG_TAGS, list(skip)],
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def log_in(page, base):
    page.goto(f"{base}/login")
    page.get_by_label("E-Mail-Adresse").fill(RECEPTION[0])
    page.get_by_label("Passwort").fill(RECEPTION[1])
    page.get_by_role("button", name="Anmelden").click()


def test_display_office_page_and_queue_page_meet_wcag_21_aa(server, chromium):
    problems = {}
    for width in (1280, 360):
        page = new_page(chromium, bypass_csp=True, width=width, height=740)
        # The screen reloads itself every 10 seconds, which axe's meta-refresh rule forbids
        # in general: WCAG 2.2.1 allows it for a real-time display, and ?refresh=off turns it
        # off (that page is checked with every rule below).
        page.goto(f"{server}/offices/eingliederungshilfe/display")
        if found := axe_violations(page, skip=["meta-refresh"]):
            problems[f"display {width}"] = found
        page.goto(f"{server}/offices/eingliederungshilfe/display?refresh=off")
        if found := axe_violations(page):
            problems[f"display, paused {width}"] = found
        page.goto(f"{server}/offices/eingliederungshilfe")
        expect(page.get_by_role("heading", name="Jetzt geöffnet", exact=False)).to_be_visible()
        if found := axe_violations(page):
            problems[f"office {width}"] = found
        log_in(page, server)
        page.goto(f"{server}/queue/eingliederungshilfe")
        if found := axe_violations(page):
            problems[f"queue {width}"] = found
        page.get_by_role("button", name="Nächste Person aufrufen").click()  # no place given
        expect(page.get_by_role("alert")).to_be_visible()
        if found := axe_violations(page):
            problems[f"queue with an error {width}"] = found
    assert problems == {}


def test_display_refreshes_itself_without_javascript_and_shows_no_names(server, chromium):
    page = new_page(chromium, javascript=False)
    page.goto(f"{server}/offices/eingliederungshilfe/display")
    expect(page.get_by_role("heading", name="Jetzt aufgerufen")).to_be_visible()
    text = page.content()
    for name, note, *_ in DEMO_VISITS:
        if name:
            assert name not in text
        if note:
            assert note not in text
    with page.expect_navigation(timeout=20_000):  # the meta refresh reloads the page
        pass
    expect(page.get_by_role("heading", name="Jetzt aufgerufen")).to_be_visible()


def test_reception_checks_in_and_calls_without_javascript(server, chromium):
    page = new_page(chromium, javascript=False)
    log_in(page, server)
    page.goto(f"{server}/queue/eingliederungshilfe")
    page.get_by_label("Vorname oder Initialen").fill("E. T.")
    page.get_by_role("button", name="Wartenummer vergeben").click()
    expect(page.get_by_text("Angemeldet: Wartenummer A-")).to_be_visible()
    page.get_by_label("Wohin").fill("Schalter 4")
    page.get_by_role("button", name="Nächste Person aufrufen").click()
    expect(page.get_by_text("ist aufgerufen: Schalter 4.")).to_be_visible()
    page.goto(f"{server}/offices/eingliederungshilfe/display")
    expect(page.locator(".display-now")).to_contain_text("Schalter 4")
