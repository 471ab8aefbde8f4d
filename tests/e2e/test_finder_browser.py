"""Finding the right office and time in a real browser (Debian's Chromium), 320 px wide:
axe-core's WCAG 2.1 AA checks and no sideways scrolling (German, English, Arabic) on the
quarter finder, the free days of a month and the earliest times; the finder and the month
work without JavaScript."""

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT
from tests.e2e.test_browser import axe_violations

NARROW = {"width": 320, "height": 640}
SERVICE = "welcome-point-gerricusplatz-beratung"
STREETS = ROOT / "booking" / "offices" / "data" / "duesseldorf_streets_sample.csv"

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_server_config() -> dict:
    return {"STREET_REGISTER": str(STREETS)}


def new_page(browser, javascript: bool = True):
    context = browser.new_context(
        viewport=NARROW, locale="de-DE", java_script_enabled=javascript, bypass_csp=javascript
    )
    return context.new_page()


def test_finder_pages_meet_wcag_21_aa_at_320_px(live_server, browser):
    page = new_page(browser)
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
            response = page.goto(f"{live_server}{path}{separator}lang={lang}")
            assert response.status == 200, path
            found = axe_violations(page)
            width = page.evaluate("document.documentElement.scrollWidth")
            if width > NARROW["width"]:
                found.append(f"wider than 320 px: {width}px")
            if found:
                problems[f"{path} ({lang})"] = found
    assert problems == {}


def test_finder_and_free_days_work_without_javascript(live_server, browser):
    page = new_page(browser, javascript=False)
    page.goto(f"{live_server}/welcome-points/finder")
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


def test_a_street_leads_to_its_welcome_point_without_javascript(live_server, browser):
    page = new_page(browser, javascript=False)
    page.goto(f"{live_server}/welcome-points/finder?lang=ar")
    page.locator("#q").fill("Kaiserswerther M")
    page.locator("form[role=search] button").click()
    expect(page.locator("#mine-heading")).to_contain_text("Kaiserswerther Markt")
    expect(page.locator(".finder-result a[href^='/offices/']").first).to_be_visible()
    page.goto(f"{live_server}/welcome-points/finder?lang=de")
    page.get_by_role("searchbox", name="Stadtteil oder Straße").fill("Grafenberger Allee 12")
    page.get_by_role("button", name="Suchen").click()
    expect(
        page.get_by_role("heading", name="Grafenberger Allee gehört zum Stadtbezirk 2")
    ).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"]


def test_office_names_keep_their_gloss_in_one_piece_at_320_px(live_server, browser):
    page = new_page(browser)
    for path in ("/book", "/", "/offices/welcome-point-leopoldstrasse", "/welcome-points/earliest"):
        for lang in ("ar", "fa", "de"):
            page.goto(f"{live_server}{path}?lang={lang}")
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
