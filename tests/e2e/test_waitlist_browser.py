"""The waiting list in a real browser (Debian's Chromium) on a 360 px phone: axe-core's WCAG 2.1
AA checks and no sideways scrolling on the families' pages (join, its errors, the page after
joining, the place with its leave button, the page after leaving) in German and Arabic and on
the offer of a freed time, open and declined) in German and Arabic and on reception's pages;
joining, leaving and taking an offer work without JavaScript."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from booking.core.sealed import unseal
from booking.extensions import db
from booking.notify.models import MANAGE_TOKEN_PURPOSE, OutboxMessage
from tests.e2e.test_browser import PHONE, axe_problems, axe_violations, log_in, new_page

pytestmark = pytest.mark.e2e

JOIN = "/book/beratung-35a/waitlist"
SUBMIT = "#waitlist-form button[type=submit]"  # the form's own button, not a language button


def join(page, base: str, name: str, lang: str = "de") -> None:
    page.goto(f"{base}{JOIN}?lang={lang}")
    page.locator("#name").fill(name)
    page.locator("#email").fill(f"{name.split()[-1].lower()}@example.org")
    page.locator("#privacy_consent").check()
    page.locator(SUBMIT).click()
    page.wait_for_url("**/waitlist/*?done=joined")


def offer_path(live_app, name: str) -> str:
    """The link in the offer message to the family (joining offers a suitable free time)."""
    with live_app.app_context():
        message = db.session.scalar(
            select(OutboxMessage).where(
                OutboxMessage.kind == "waitlist_offer",
                OutboxMessage.recipient == f"{name.split()[-1].lower()}@example.org",
            )
        )
        assert message is not None, f"no offer for {name}"
        return unseal(message.sealed_manage_token, MANAGE_TOKEN_PURPOSE)


def fits_and_passes(page, lang: str) -> list[str]:
    assert page.evaluate("document.documentElement.lang") == lang
    found = axe_violations(page)
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > PHONE["width"]:
        found.append(f"wider than the phone: {width}px")
    return found


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_family_waiting_list_pages_meet_wcag_21_aa_on_a_phone(live_server, browser, lang):
    page = new_page(browser, bypass_csp=True)
    problems = {}
    page.goto(f"{live_server}{JOIN}?lang={lang}")
    problems["join"] = fits_and_passes(page, lang)
    page.locator(SUBMIT).click()  # nothing filled in: errors
    expect(page.get_by_role("alert")).to_be_visible()
    problems["join errors"] = fits_and_passes(page, lang)
    join(page, live_server, f"Familie Warteliste{lang.upper()}", lang)
    problems["joined"] = fits_and_passes(page, lang)
    page.goto(page.url.split("?")[0])  # the link in the message
    problems["place"] = fits_and_passes(page, lang)
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/waitlist/*?done=left")
    problems["left"] = fits_and_passes(page, lang)
    assert {name: found for name, found in problems.items() if found} == {}


@pytest.mark.parametrize("lang", ["de", "ar"])
def test_offer_pages_meet_wcag_21_aa_on_a_phone(live_server, live_app, browser, lang):
    page = new_page(browser, bypass_csp=True)
    name = f"Familie Angebot{lang.upper()}"
    join(page, live_server, name, lang)
    page.goto(live_server + offer_path(live_app, name))
    expect(page.locator("main form")).to_have_count(1)  # open: take it or say no
    problems = {"offer": fits_and_passes(page, lang)}
    page.locator("main button[value=decline]").click()
    expect(page.locator("main form")).to_have_count(0)  # no longer open
    problems["declined"] = fits_and_passes(page, lang)
    assert {name: found for name, found in problems.items() if found} == {}


def test_taking_an_offer_works_without_javascript(live_server, live_app, browser):
    page = new_page(browser, javascript=False)
    join(page, live_server, "Familie Nimmt", "ar")
    page.goto(live_server + offer_path(live_app, "Familie Nimmt"))
    page.locator("main button[value=accept]").click()
    page.wait_for_url("**/manage/**done=booked**")
    assert page.evaluate("document.documentElement.lang") == "ar"


def test_joining_and_leaving_work_without_javascript(live_server, browser):
    page = new_page(browser, javascript=False)
    join(page, live_server, "Familie Ohneskript", "ar")
    expect(page.get_by_role("status")).to_be_visible()
    page.goto(page.url.split("?")[0])
    page.locator("main form button[type=submit]").click()
    page.wait_for_url("**/waitlist/*?done=left")
    expect(page.locator("main form")).to_have_count(0)  # nothing left to leave


def test_reception_waiting_list_pages_meet_wcag_21_aa_on_a_phone(live_server, browser):
    family = new_page(browser)
    for name in ("Familie Erste", "Familie Zweite"):  # the first is offered a time at once
        join(family, live_server, name)
    page = log_in(browser, live_server, "empfang.35a@example.org")
    page.goto(f"{live_server}/waitlist/service/beratung-35a")
    # Both tables have rows (the wide case): a time held for one family, both families waiting.
    expect(page.locator("main table").first).to_contain_text("Erste")
    expect(page.locator("main table").last).to_contain_text("Zweite")
    paths = ["/waitlist/", "/waitlist/service/beratung-35a", "/waitlist/service/beratung-35a/add"]
    problems = axe_problems(page, live_server, paths)
    page.goto(f"{live_server}/waitlist/service/beratung-35a/add")
    page.locator("main form button[type=submit]").click()  # nothing filled in: errors
    expect(page.get_by_role("alert")).to_be_visible()
    if found := axe_violations(page):
        problems["add errors"] = found
    assert problems == {}
