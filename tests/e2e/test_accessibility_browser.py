"""BITV 2.0 in a real browser, in German and Arabic: axe-core on every public page (and on the
statement's form errors and thank-you page), booking, moving and cancelling by keyboard alone,
and every public page at 320 px and at 200 % zoom without horizontal scrolling."""

from urllib.parse import quote

import pytest
from playwright.sync_api import expect

from tests.e2e.test_browser import axe_violations, new_page

pytestmark = pytest.mark.e2e

LANGUAGES = ["de", "ar"]  # German first; Arabic is right-to-left


def test_statement_and_easy_read_pages_meet_wcag_21_aa(live_server, browser):
    page = new_page(browser, bypass_csp=True)
    problems = {}
    for path in ("/accessibility", "/accessibility?page=/book", "/easy-read", "/easy-read?lang=en"):
        page.goto(live_server + path)
        if found := axe_violations(page):
            problems[path] = found
    page.goto(f"{live_server}/accessibility?lang=de")
    page.locator("#feedback-form button[type=submit]").click()  # empty: errors
    expect(page.get_by_role("alert")).to_be_visible()
    expect(page.locator("#message")).to_be_focused()  # autofocus, applied a moment after load
    if found := axe_violations(page):
        problems["feedback errors"] = found
    page.locator("#message").fill("Die Zeitwahl ist mit der Lupe schwer zu lesen.")
    page.locator("#feedback-form button[type=submit]").click()
    expect(page.locator("h1")).to_have_text("Danke für Ihre Nachricht")
    if found := axe_violations(page):
        problems["thanks"] = found
    assert problems == {}


def tab_to(page, test: str, limit: int = 60) -> None:
    """Press Tab until `test` (a JavaScript expression on `el`) holds for the focused element;
    each stop must show its focus (the outline of :focus-visible)."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate(f"(() => {{ const el = document.activeElement; return !!({test}); }})()"):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"no visible focus on {test}"
            return
    pytest.fail(f"the Tab key never reached {test}")


# A form's own submit button; the language buttons submit the same form to switch language.
SUBMIT = "el.type === 'submit' && el.name !== 'switch_language' && el.form"


def focused_value(page, prop: str):
    return page.evaluate(f"document.activeElement.{prop}")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_booking_moving_and_cancelling_by_keyboard_alone(live_server, browser, lang):
    page = new_page(browser)
    page.goto(f"{live_server}/?lang={lang}")
    assert page.evaluate("document.documentElement.lang") == lang
    # Start page -> office list -> a service: links only, no mouse.
    tab_to(page, "el.pathname === '/book'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book")
    tab_to(page, "el.pathname === '/book/beratung-35a'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/book/beratung-35a")
    tab_to(page, "el.name === 'start'")
    page.keyboard.press("Space")
    booked = focused_value(page, "value")
    page.keyboard.press("Enter")  # submits the form the radio belongs to
    page.wait_for_url("**/details**")
    tab_to(page, "el.id === 'name'")
    page.keyboard.type("Familie Tastatur")
    tab_to(page, "el.id === 'email'")
    page.keyboard.type(f"tastatur-{lang}@example.org")
    tab_to(page, "el.id === 'privacy_consent'")
    page.keyboard.press("Space")
    tab_to(page, f"{SUBMIT} && el.form.id === 'details-form'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/manage/**done=booked**")
    assert page.evaluate("document.documentElement.lang") == lang
    booked_at = page.locator(".facts dd").nth(1).inner_text()
    # Move: the link, then another time with the arrow keys, then Enter.
    tab_to(page, "el.pathname && el.pathname.endsWith('/move')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/move")
    # The next week (a whole week of free times), by its link in the week navigation.
    later = page.locator("nav a[href*='week=']").last.get_attribute("href")
    tab_to(page, f"el.getAttribute('href') === {later!r}")
    page.keyboard.press("Enter")
    page.wait_for_url("**/move?week=*")
    tab_to(page, "el.name === 'start'")
    page.keyboard.press("Space")
    if focused_value(page, "value") == booked:
        page.keyboard.press("ArrowDown")  # the next free time in the same radio group
    assert focused_value(page, "checked") and focused_value(page, "value") != booked
    page.keyboard.press("Enter")
    page.wait_for_url("**/manage/**done=moved**")
    assert page.locator(".facts dd").nth(1).inner_text() != booked_at
    # Cancel: the link, then the confirming button.
    tab_to(page, "el.pathname && el.pathname.endsWith('/cancel')")
    page.keyboard.press("Enter")
    page.wait_for_url("**/cancel")
    tab_to(page, f"{SUBMIT} && el.form.id === 'cancel-form'")
    page.keyboard.press("Enter")
    page.wait_for_url("**/manage/**done=cancelled**")
    expect(page.locator(".badge-cancelled")).to_be_visible()
    assert page.evaluate("document.documentElement.lang") == lang


@pytest.fixture(scope="module")
def public_paths(live_server, browser) -> list[str]:
    """Every public page for families, with the manage pages of one fresh booking."""
    page = new_page(browser)
    page.goto(f"{live_server}/book/beratung-35a")
    page.locator("input[name=start]").first.check()
    page.locator("#choose-form button[type=submit], main form button[type=submit]").first.click()
    page.locator("#name").fill("Familie Zoom")
    page.locator("#email").fill("zoom@example.org")
    page.locator("#privacy_consent").check()
    page.locator("#details-form button[type=submit]:not([name])").click()
    page.wait_for_url("**/manage/**")
    manage = page.locator(".manage-link a").get_attribute("href").removeprefix(live_server)
    page.goto(f"{live_server}/book/beratung-35a")
    start = page.locator("input[name=start]").nth(1).get_attribute("value")
    page.context.close()
    return [
        f"/book/beratung-35a/details?start={quote(start)}",
        "/",
        "/book",
        "/book/beratung-35a",
        "/book/beratung-35a/waitlist",
        "/offices/eingliederungshilfe",
        "/offices/eingliederungshilfe/callback",
        "/privacy",
        "/accessibility",
        "/accessibility/thanks",
        "/easy-read",
        manage,
        f"{manage}/move",
        f"{manage}/cancel",
    ]


LAYOUTS = {
    "320px": {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1},
    "200% zoom": {"viewport": {"width": 640, "height": 400}, "device_scale_factor": 2},
}


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_public_pages_reflow_at_320_px_and_200_percent_zoom(
    live_server, browser, public_paths, layout, lang
):
    context = browser.new_context(locale="de-DE", **LAYOUTS[layout])
    page = context.new_page()
    page.goto(f"{live_server}/?lang={lang}")
    too_wide = {}
    width = LAYOUTS[layout]["viewport"]["width"]
    for path in public_paths:
        response = page.goto(live_server + path)
        assert response.status == 200, path
        assert page.evaluate("document.documentElement.lang") == lang, path
        scroll = page.evaluate("document.documentElement.scrollWidth")
        if scroll > width:
            too_wide[path] = scroll
    context.close()
    assert too_wide == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_public_page_meets_wcag_21_aa(live_server, browser, public_paths, lang):
    page = new_page(browser, bypass_csp=True)
    page.goto(f"{live_server}/?lang={lang}")
    problems = {}
    for path in public_paths:
        page.goto(live_server + path)
        assert page.evaluate("document.documentElement.lang") == lang, path
        if found := axe_violations(page):
            problems[path] = found
    assert problems == {}
