"""Arabic and Persian in a real browser (Debian's Chromium): the layout mirrors (right to left),
the time ranges stay in their order, and every public page fits a 320 px wide screen in each
family language."""

import pytest

NARROW = {"width": 320, "height": 640}
PATHS = [
    "/",
    "/book",
    "/book/beratung-35a",
    "/book/beratung-35a/waitlist",
    "/offices/eingliederungshilfe",
    "/offices/welcome-point-ratinger-strasse",
    "/offices/eingliederungshilfe/callback",
    "/offices/eingliederungshilfe/display",
    "/privacy",
    "/nowhere",
]

pytestmark = pytest.mark.e2e


def narrow_page(browser, lang: str):
    context = browser.new_context(viewport=NARROW, locale=lang, java_script_enabled=False)
    return context.new_page()


@pytest.mark.parametrize("lang", ["ar", "fa", "tr", "uk", "ru"])
def test_public_pages_fit_320_px(live_server, browser, lang):
    page = narrow_page(browser, lang)
    too_wide = {}
    for path in PATHS:
        page.goto(f"{live_server}{path}{'&' if '?' in path else '?'}lang={lang}")
        assert page.locator("html").get_attribute("lang") == lang
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > NARROW["width"]:
            too_wide[path] = width
    page.goto(f"{live_server}/book/beratung-35a?lang={lang}")
    page.locator("input[name=start]").first.check()
    page.locator("main form button[type=submit]").click()
    assert "/details" in page.url
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"]:
        too_wide["details"] = width
    # The callback answer: a long label ("we call you back by") beside the reference.
    page.goto(f"{live_server}/offices/eingliederungshilfe/callback?lang={lang}")
    page.locator("input[name=name]").fill("Familie Haddad")
    page.locator("input[name=phone]").fill("0176 12345678")
    page.locator("input[name=reachable]").first.check()
    page.locator("input[name=privacy_consent]").check()
    page.locator("main form button[type=submit]:not([name=switch_language])").click()
    page.wait_for_url("**/callback/requested")
    width = page.evaluate("document.documentElement.scrollWidth")
    if width > NARROW["width"]:
        too_wide["callback answer"] = width
    assert too_wide == {}


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_right_to_left_pages_mirror(live_server, browser, lang):
    page = narrow_page(browser, lang)
    page.set_viewport_size({"width": 1024, "height": 768})
    page.goto(f"{live_server}/offices/eingliederungshilfe?lang={lang}")
    assert page.locator("html").get_attribute("dir") == "rtl"
    brand = page.locator(".brand").bounding_box()
    heading = page.locator("main h1").bounding_box()
    # The site's name and the page's heading start at the right edge.
    assert brand["x"] > 1024 / 2 and heading["x"] + heading["width"] > 1024 - 200
    # A time range reads left to right inside the Arabic or Persian text.
    times = page.locator(".consultation-list bdi[dir=ltr]").first
    assert times.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # Drawn so: the first character (the start's hour) left of the last (the end's minutes).
    first_x, last_x = times.evaluate(
        """e => {
          const text = e.firstChild, range = document.createRange(), xs = [];
          for (const at of [0, text.length - 1]) {
            range.setStart(text, at); range.setEnd(text, at + 1);
            xs.push(range.getBoundingClientRect().x);
          }
          return xs;
        }"""
    )
    assert first_x < last_x
