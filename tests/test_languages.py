"""Seven languages for families, German and English for staff; right-to-left for ar and fa."""

import re

import pytest
from freezegun import freeze_time

from booking.auth.models import Role

FAMILY = ("de", "en", "ar", "tr", "uk", "ru", "fa")
OWN_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "tr": "Türkçe",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی",
}
NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf


def html_tag(html: str) -> str:
    match = re.search(r"<html[^>]*>", html)
    assert match, "no <html> element"
    return match.group(0)


@pytest.mark.parametrize("lang", FAMILY)
def test_every_family_language_on_request(client, lang):
    html = client.get(f"/?lang={lang}").get_data(as_text=True)
    rtl = ' dir="rtl"' if lang in ("ar", "fa") else ""
    assert html_tag(html) == f'<html lang="{lang}"{rtl}>'


def test_choice_is_remembered_and_beats_the_browser(client):
    client.get("/?lang=tr")
    html = client.get("/book", headers={"Accept-Language": "ru"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="tr">'


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("ar-SY,ar;q=0.9,en;q=0.5", '<html lang="ar" dir="rtl">'),
        ("uk", '<html lang="uk">'),
        ("fa-IR", '<html lang="fa" dir="rtl">'),
        ("fr, it;q=0.5", '<html lang="de">'),
    ],
)
def test_browser_language_decides_then_german(client, header, expected):
    html = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
    assert html_tag(html) == expected


def language_switch(html: str) -> str:
    match = re.search(r'<nav aria-label="[^"]+" class="language-switch">(.*?)</nav>', html, re.S)
    assert match, "no language switch"
    return match.group(1)


@freeze_time(NOW)
def test_switch_lists_every_language_in_its_own_script(client, bookable_service):
    for path in ("/", "/book", "/book/beratung-35a?week=2027-03-08", "/privacy", "/nowhere"):
        nav = language_switch(client.get(f"{path}").get_data(as_text=True))
        assert "<script" not in nav and "<button" not in nav
        # The current language is marked, not linked; every other one is a link.
        assert f'<span aria-current="true" lang="de">{OWN_NAMES["de"]}</span>' in nav
        for code, name in OWN_NAMES.items():
            if code == "de":
                continue
            query = path.partition("?")[2]
            args = "&amp;".join(sorted([f"lang={code}", *([query] if query else [])]))
            href = f"{path.partition('?')[0]}?{args}"
            assert f'<a href="{href}" lang="{code}" hreflang="{code}">{name}</a>' in nav, path
    arabic = language_switch(client.get("/?lang=ar").get_data(as_text=True))
    assert '<span aria-current="true" lang="ar">العربية</span>' in arabic
    assert '<a href="/?lang=de" lang="de" hreflang="de">Deutsch</a>' in arabic


def test_form_pages_have_the_links_and_buttons_that_keep_the_typed_data(client, bookable_service):
    with freeze_time(NOW):
        html = client.get("/book/beratung-35a/details?start=2027-03-04T10:00:00%2B01:00").get_data(
            as_text=True
        )
    nav = language_switch(html)
    assert 'hreflang="ar"' in nav and "<button" not in nav
    buttons = re.findall(
        r'<button type="submit" form="details-form"[^>]*name="switch_language"', html
    )
    assert len(buttons) == len(FAMILY) - 1


def staff_login(client, auth, make_staff, make_office):
    office = make_office()
    user = make_staff(Role.CASEWORKER, offices=[office])
    assert auth.login(user.email).status_code == 302
    return user


def test_staff_pages_speak_german_or_english_only(client, auth, make_staff, make_office):
    staff_login(client, auth, make_staff, make_office)
    html = client.get("/calendar/me?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    assert "Kalender" in html
    nav = language_switch(html)
    assert 'hreflang="en"' in nav and "hreflang" in nav
    assert not any(f'lang="{code}"' in nav for code in ("ar", "tr", "uk", "ru", "fa"))
    # ar is remembered for the public pages; here the browser's staff language decides.
    html = client.get("/calendar/me", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    html = client.get("/calendar/me", headers={"Accept-Language": "ar, en;q=0.5"}).get_data(
        as_text=True
    )
    assert html_tag(html) == '<html lang="en">'


def test_staff_keep_english_when_a_family_language_is_chosen(client, auth, make_staff, make_office):
    staff_login(client, auth, make_staff, make_office)
    assert html_tag(client.get("/calendar/me?lang=en").get_data(as_text=True)) == (
        '<html lang="en">'
    )
    # A look at the public pages in Arabic (remembered for them) ...
    assert 'dir="rtl"' in html_tag(client.get("/?lang=ar").get_data(as_text=True))
    assert 'dir="rtl"' in html_tag(client.get("/book").get_data(as_text=True))
    # ... leaves the staff pages in English.
    assert html_tag(client.get("/calendar/me?lang=fa").get_data(as_text=True)) == (
        '<html lang="en">'
    )


def test_staff_login_page_is_a_staff_page(client):
    html = client.get("/login?lang=ar").get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    html = client.get("/login", headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert html_tag(html) == '<html lang="de">'
    assert language_switch(html).count("hreflang") == 1  # English only
