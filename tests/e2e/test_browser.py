"""The public pages in a real browser (Debian's Chromium): WCAG 2.1 AA by axe-core, the whole
booking flow without JavaScript, and by keyboard alone, on a 360 px wide screen."""

import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import AXE, CHROMIUM, WCAG_TAGS

PHONE = {"width": 360, "height": 740}

pytestmark = pytest.mark.e2e


def new_page(browser, javascript: bool = True, bypass_csp: bool = False):
    """A phone-sized German page; bypass_csp only so that axe-core itself can be injected."""
    context = browser.new_context(
        viewport=PHONE, locale="de-DE", java_script_enabled=javascript, bypass_csp=bypass_csp
    )
    return context.new_page()


def axe_violations(page, skip=()) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on the page, without the rules in `skip`."""
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


def book_first_free_slot(page, base: str, name: str) -> None:
    page.goto(f"{base}/book/beratung-35a")
    page.locator("input[name=start]").first.check()
    page.get_by_role("button", name="Weiter mit dieser Zeit").click()
    page.get_by_label("Ihr Name").fill(name)
    page.get_by_label("E-Mail-Adresse").fill("e2e@example.org")
    page.get_by_label("Ich habe den Datenschutzhinweis gelesen").check()
    page.get_by_role("button", name="Diesen Termin buchen").click()
    expect(page.get_by_role("heading", name="Ihr Termin ist gebucht")).to_be_visible()


def test_public_pages_meet_wcag_21_aa(live_server, browser):
    page = new_page(browser, bypass_csp=True)
    paths = [
        "/",
        "/book",
        "/book/beratung-35a",
        "/offices/eingliederungshilfe",
        "/privacy",
        "/login",
    ]
    problems = {}
    for path in paths:
        page.goto(live_server + path)
        if found := axe_violations(page):
            problems[path] = found
    book_first_free_slot(page, live_server, "Familie Axe")
    expect(page.get_by_role("heading", name="Ihr Termin ist gebucht")).to_be_visible()
    if found := axe_violations(page):
        problems["confirmation"] = found
    manage = page.locator(".manage-link a").get_attribute("href")
    page.goto(manage)
    if found := axe_violations(page):
        problems["manage"] = found
    page.goto(f"{manage}/cancel")
    if found := axe_violations(page):
        problems["cancel"] = found
    page.get_by_role("button", name="Ja, absagen").click()
    if found := axe_violations(page):
        problems["cancelled"] = found
    assert problems == {}


def test_form_errors_are_accessible(live_server, browser):
    page = new_page(browser, bypass_csp=True)
    page.goto(f"{live_server}/book/beratung-35a")
    page.locator("input[name=start]").first.check()
    page.get_by_role("button", name="Weiter mit dieser Zeit").click()
    page.get_by_role("button", name="Diesen Termin buchen").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert axe_violations(page) == []


def test_booking_works_without_javascript(live_server, browser):
    page = new_page(browser, javascript=False)
    book_first_free_slot(page, live_server, "Familie Ohne-Skript")
    expect(page.get_by_role("heading", name="Ihr Termin ist gebucht")).to_be_visible()
    manage = page.locator(".manage-link a").get_attribute("href")
    page.goto(manage)
    page.get_by_role("link", name="Termin absagen").click()
    page.get_by_label("Grund (freiwillig)").fill("Umzug")
    page.get_by_role("button", name="English").click()  # the switch keeps what was typed
    expect(page.get_by_label("Reason (optional)")).to_have_value("Umzug")
    page.get_by_role("button", name="Yes, cancel").click()
    expect(page.get_by_role("heading", name="Your appointment is cancelled")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Your appointment is cancelled")).to_be_visible()


def test_enter_in_a_text_field_books_and_does_not_switch_language(live_server, browser):
    page = new_page(browser, javascript=False)
    page.goto(f"{live_server}/book/beratung-35a")
    page.locator("input[name=start]").first.check()
    page.get_by_role("button", name="Weiter mit dieser Zeit").click()
    page.get_by_label("E-Mail-Adresse").fill("enter@example.org")
    page.get_by_label("Ich habe den Datenschutzhinweis gelesen").check()
    page.get_by_label("Ihr Name").fill("Familie Enter")
    page.get_by_label("Ihr Name").press("Enter")
    expect(page.get_by_role("heading", name="Ihr Termin ist gebucht")).to_be_visible()


def test_booking_by_keyboard_alone(live_server, browser):
    page = new_page(browser)
    page.goto(f"{live_server}/book/beratung-35a")
    for _ in range(40):  # Tab to the first free time
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "start":
            break
    else:
        pytest.fail("no time can be reached with the Tab key")
    page.keyboard.press("Space")
    page.keyboard.press("Enter")  # submits the form the radio belongs to
    page.wait_for_url("**/details**")
    page.keyboard.press("Tab")
    for _ in range(40):
        if page.evaluate("document.activeElement.id") == "name":
            break
        page.keyboard.press("Tab")
    page.keyboard.type("Familie Tastatur")
    page.keyboard.press("Tab")
    page.keyboard.type("tastatur@example.org")
    for _ in range(20):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "privacy_consent":
            break
    page.keyboard.press("Space")
    for _ in range(5):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.type") == "submit":
            break
    assert page.evaluate("document.activeElement.type") == "submit"
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_role("heading", name="Ihr Termin ist gebucht")).to_be_visible()


def test_nothing_is_loaded_from_other_hosts(live_server, browser):
    page = new_page(browser)
    hosts = set()
    page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
    for path in ("/", "/book", "/book/beratung-35a", "/privacy"):
        page.goto(live_server + path)
    assert hosts == {live_server.split("/")[2]}


def test_chromium_is_debians(live_server):
    assert shutil.which(CHROMIUM) or Path(CHROMIUM).exists()


DEMO_PASSWORD = "Sprechstunde-Demo-2026"


def log_in(browser, base: str, email: str):
    """A phone-sized page logged in as a demo account (bypass_csp only so that axe can run)."""
    page = new_page(browser, bypass_csp=True)
    page.goto(f"{base}/login")
    page.locator("input[name=email]").fill(email)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    assert "/login" not in page.url, f"demo login failed for {email}"
    return page


def first_link(page, prefix: str) -> str:
    return page.locator(f"main a[href^='{prefix}']").first.get_attribute("href")


def axe_problems(page, base: str, paths: list[str]) -> dict[str, list[str]]:
    problems = {}
    for path in paths:
        response = page.goto(base + path)
        assert response.status == 200, path
        if found := axe_violations(page):
            problems[path] = found
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            problems[path] = [*problems.get(path, []), f"wider than the phone: {width}px"]
    return problems


def test_caseworker_pages_meet_wcag_21_aa(live_server, browser):
    page = log_in(browser, live_server, "k.becker@example.org")
    assert page.url.endswith("/calendar/me")  # caseworkers land on their day
    page.goto(f"{live_server}/calendar/me?view=week&cancelled=1")
    appointment = first_link(page, "/appointments/")
    paths = [
        "/calendar/me",
        "/calendar/me?view=week",
        "/calendar/me?view=week&cancelled=1",
        appointment,
        "/calendar/hours",
        "/calendar/absences",
        "/calendar/feed",
        "/desk/",
        "/account/notifications",
    ]
    assert axe_problems(page, live_server, paths) == {}


def test_reception_pages_meet_wcag_21_aa(live_server, browser):
    page = log_in(browser, live_server, "empfang.35a@example.org")
    assert page.url.endswith("/calendar/office/eingliederungshilfe")  # its office's day
    paths = [
        "/calendar/office/eingliederungshilfe",
        "/calendar/office/eingliederungshilfe?view=week&cancelled=1",
        "/desk/",
        "/desk/book/beratung-35a",
        "/staff/offices/eingliederungshilfe",
        "/callbacks/office/eingliederungshilfe",
        "/callbacks/office/eingliederungshilfe/new",  # fieldsets fit the phone too
        "/reports/",
        "/reports/office/eingliederungshilfe",  # charts and wide tables fit the phone
    ]
    assert axe_problems(page, live_server, paths) == {}


def test_admin_pages_meet_wcag_21_aa(live_server, browser):
    page = log_in(browser, live_server, "admin@example.org")
    page.goto(f"{live_server}/admin/outbox")
    message = first_link(page, "/admin/outbox/")
    page.goto(f"{live_server}/admin/staff")
    calendar = first_link(page, "/calendar/staff/")
    paths = [
        "/admin/",
        "/admin/offices",
        "/admin/services",
        "/admin/staff",
        "/admin/closures",
        "/admin/audit",
        "/admin/outbox",
        message,
        calendar + "?view=week&cancelled=1",
        "/calendar/office/eingliederungshilfe?view=week",
        "/reports/city",
    ]
    assert axe_problems(page, live_server, paths) == {}


def test_staff_form_errors_are_accessible_and_take_the_focus(live_server, browser):
    page = log_in(browser, live_server, "k.becker@example.org")
    page.goto(f"{live_server}/calendar/absences")
    page.locator("main form.stack button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    # autofocus, no JavaScript needed; the browser applies it a moment after the page shows
    expect(page.locator("#first_day")).to_be_focused()
    assert axe_violations(page) == []
