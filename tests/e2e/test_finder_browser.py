"""Finding the right office and time in a real browser (Debian's Chromium), 320 px wide:
axe-core's WCAG 2.1 AA checks and no sideways scrolling (German, English, Arabic) on the
quarter finder, the free days of a month and the earliest times; the finder and the month
work without JavaScript."""

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

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM = os.environ.get("BOOKING_CHROMIUM", "/usr/bin/chromium")
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NARROW = {"width": 320, "height": 640}
SERVICE = "welcome-point-gerricusplatz-beratung"
STREETS = ROOT / "booking" / "offices" / "data" / "duesseldorf_streets_sample.csv"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.environ.get("BOOKING_SKIP_E2E") == "1":
        pytest.skip("BOOKING_SKIP_E2E=1")
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if missing:
        pytest.fail(f"missing {missing}: run `make e2e-deps`")
    folder = tmp_path_factory.mktemp("e2e-finder")
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
            "STREET_REGISTER": str(STREETS),
        },
        instance_path=str(folder),
    )
    with app.app_context():
        upgrade()
        load_file(DEMO_FILE)
        create_demo_appointments()
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


def new_page(chromium, javascript: bool = True):
    context = chromium.new_context(
        viewport=NARROW, locale="de-DE", java_script_enabled=javascript, bypass_csp=javascript
    )
    return context.new_page()


def axe_violations(page) -> list[str]:
    page.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", WCAG_TAGS
    )
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes']][:3]}"
        for v in result["violations"]
    ]


def test_finder_pages_meet_wcag_21_aa_at_320_px(server, chromium):
    page = new_page(chromium)
    paths = [
        "/welcome-points/finder",
        "/welcome-points/finder?quarter=gerresheim",
        "/welcome-points/finder?q=ober",
        "/welcome-points/finder?q=Xanten",
        "/welcome-points/finder?q=Bolkerstr.",
        "/welcome-points/finder?q=Grafenberger",
        "/welcome-points/finder?q=ra",
        "/welcome-points/earliest",
        f"/book/{SERVICE}/days",
        "/book",
        "/",
    ]
    problems = {}
    for path in paths:
        for lang in ("de", "en", "ar"):
            separator = "&" if "?" in path else "?"
            response = page.goto(f"{server}{path}{separator}lang={lang}")
            assert response.status == 200, path
            found = axe_violations(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > NARROW["width"]:
                found.append(f"wider than 320 px: {width}px")
            if found:
                problems[f"{path} ({lang})"] = found
    assert problems == {}


def test_finder_and_free_days_work_without_javascript(server, chromium):
    page = new_page(chromium, javascript=False)
    page.goto(f"{server}/welcome-points/finder")
    page.get_by_role("searchbox", name="Stadtteil").fill("Gerresh")
    page.get_by_role("button", name="Suchen").click()
    expect(page.get_by_role("heading", name="Gerresheim gehört zum Stadtbezirk 7")).to_be_visible()
    page.get_by_role("link", name="Freie Tage im Überblick").first.click()
    expect(page.locator("table.month-table caption")).to_contain_text(
        "mit freien Terminen"
    )  # "1 Tag" late in a month
    page.locator("td.day-free a").first.click()
    assert "#day-" in page.url
    day = page.url.split("#day-")[1]
    expect(page.locator(f"#day-{day} input[name=start]").first).to_be_visible()


def test_a_street_leads_to_its_welcome_point_without_javascript(server, chromium):
    page = new_page(chromium, javascript=False)
    page.goto(f"{server}/welcome-points/finder?lang=ar")
    page.locator("#q").fill("Kaiserswerther M")
    page.locator("form[role=search] button").click()
    expect(page.locator("#mine-heading")).to_contain_text("Kaiserswerther Markt")
    expect(page.locator(".finder-result a[href^='/offices/']").first).to_be_visible()
    page.goto(f"{server}/welcome-points/finder?lang=de")
    page.get_by_role("searchbox", name="Stadtteil oder Straße").fill("Grafenberger Allee 12")
    page.get_by_role("button", name="Suchen").click()
    expect(
        page.get_by_role("heading", name="Grafenberger Allee gehört zum Stadtbezirk 2")
    ).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"]


def test_office_names_keep_their_gloss_in_one_piece_at_320_px(server, chromium):
    page = new_page(chromium)
    for path in ("/book", "/", "/offices/welcome-point-leopoldstrasse", "/welcome-points/earliest"):
        for lang in ("ar", "fa", "de"):
            page.goto(f"{server}{path}?lang={lang}")
            glosses = page.evaluate(
                """() => [...document.querySelectorAll('.gloss')].map(e => {
                    const line = parseFloat(getComputedStyle(e).lineHeight);
                    return [e.textContent, e.getBoundingClientRect().height, line];
                })"""
            )
            if lang == "de":
                assert not [g for g in glosses if "(" in g[0] and "Minuten" not in g[0]], path
                continue
            assert glosses, f"{path} ({lang}): no gloss marked"
            split = [text for text, height, line in glosses if height > line * 1.5]
            assert split == [], f"{path} ({lang}): a gloss broke over two lines"
            assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
