"""The walk-in queue in a real browser (Debian's Chromium): axe-core's WCAG 2.1 AA checks on the
waiting-room screen, the office page with its waiting status and reception's queue page; the
screen refreshes itself without JavaScript and shows no names; check-in and call without
JavaScript."""

import pytest
from playwright.sync_api import expect

from booking.waiting.demo import DEMO_VISITS, create_demo_queue
from tests.e2e.test_browser import axe_violations

RECEPTION = ("empfang.35a@example.org", "Sprechstunde-Demo-2026")

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_server_data():
    return create_demo_queue  # today's hours around now, people waiting and called


def new_page(browser, javascript=True, bypass_csp=False, width=1280, height=720):
    context = browser.new_context(
        viewport={"width": width, "height": height},
        locale="de-DE",
        java_script_enabled=javascript,
        bypass_csp=bypass_csp,
    )
    return context.new_page()


def log_in(page, base):
    page.goto(f"{base}/login")
    page.get_by_label("E-Mail-Adresse").fill(RECEPTION[0])
    page.get_by_label("Passwort").fill(RECEPTION[1])
    page.get_by_role("button", name="Anmelden").click()


def test_display_office_page_and_queue_page_meet_wcag_21_aa(live_server, browser):
    problems = {}
    for width in (1280, 360):
        page = new_page(browser, bypass_csp=True, width=width, height=740)
        # The screen reloads itself every 10 seconds, which axe's meta-refresh rule forbids
        # in general: WCAG 2.2.1 allows it for a real-time display, and ?refresh=off turns it
        # off (that page is checked with every rule below).
        page.goto(f"{live_server}/offices/eingliederungshilfe/display")
        if found := axe_violations(page, skip=["meta-refresh"]):
            problems[f"display {width}"] = found
        page.goto(f"{live_server}/offices/eingliederungshilfe/display?refresh=off")
        if found := axe_violations(page):
            problems[f"display, paused {width}"] = found
        page.goto(f"{live_server}/offices/eingliederungshilfe")
        expect(page.get_by_role("heading", name="Jetzt geöffnet", exact=False)).to_be_visible()
        if found := axe_violations(page):
            problems[f"office {width}"] = found
        log_in(page, live_server)
        page.goto(f"{live_server}/queue/eingliederungshilfe")
        if found := axe_violations(page):
            problems[f"queue {width}"] = found
        page.get_by_role("button", name="Nächste Person aufrufen").click()  # no place given
        expect(page.get_by_role("alert")).to_be_visible()
        if found := axe_violations(page):
            problems[f"queue with an error {width}"] = found
    assert problems == {}


def test_display_refreshes_itself_without_javascript_and_shows_no_names(live_server, browser):
    page = new_page(browser, javascript=False)
    page.goto(f"{live_server}/offices/eingliederungshilfe/display")
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


def test_reception_checks_in_and_calls_without_javascript(live_server, browser):
    page = new_page(browser, javascript=False)
    log_in(page, live_server)
    page.goto(f"{live_server}/queue/eingliederungshilfe")
    page.get_by_label("Vorname oder Initialen").fill("E. T.")
    page.get_by_role("button", name="Wartenummer vergeben").click()
    expect(page.get_by_text("Angemeldet: Wartenummer A-")).to_be_visible()
    page.get_by_label("Wohin").fill("Schalter 4")
    page.get_by_role("button", name="Nächste Person aufrufen").click()
    expect(page.get_by_text("ist aufgerufen: Schalter 4.")).to_be_visible()
    page.goto(f"{live_server}/offices/eingliederungshilfe/display")
    expect(page.locator(".display-now")).to_contain_text("Schalter 4")
