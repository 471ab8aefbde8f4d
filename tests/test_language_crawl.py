"""Every public page, and the messages they send, in each family language: any gettext lookup
that the language's catalog lacks fails the test (the page would show English or German)."""

import os
import re
from datetime import time

import pytest
from babel.support import Translations
from freezegun import freeze_time
from sqlalchemy import select

from booking.auth.models import StaffUser
from booking.extensions import db
from booking.schedule.models import ConsultationHours

NOW = "2027-03-01 07:30:00"  # Monday, 08:30 in Düsseldorf: the consultation hours are open
SLOT = "2027-03-04T10:00:00+01:00"
OTHER_SLOT = "2027-03-04T11:00:00+01:00"
OUR_CATALOGS = os.path.join("booking", "translations")


@pytest.fixture
def missing(monkeypatch):
    """Wraps the active translations' gettext/ngettext: msgids our catalog of the language
    does not have (WTForms' own catalogs are left alone)."""
    found: set[tuple[str, str]] = set()
    real_gettext, real_ngettext = Translations.gettext, Translations.ngettext

    def language_of(translations) -> str | None:
        for path in getattr(translations, "files", []):
            if OUR_CATALOGS in path:
                return path.split(os.sep)[-3]
        return None

    def gettext(self, message):
        lang = language_of(self)
        if lang and message and message not in self._catalog:
            found.add((lang, message))
        return real_gettext(self, message)

    def ngettext(self, singular, plural, n):
        lang = language_of(self)
        if lang and (singular, 0) not in self._catalog:
            found.add((lang, singular))
        return real_ngettext(self, singular, plural, n)

    for name in ("gettext", "ugettext"):
        monkeypatch.setattr(Translations, name, gettext)
    for name in ("ngettext", "ungettext"):
        monkeypatch.setattr(Translations, name, ngettext)
    return found


@pytest.fixture
def open_hours(bookable_service):
    office = bookable_service.office
    office.phone = "+49 211 8993000"
    rule = ConsultationHours(office_id=office.id, weekday=0, start_time=time(8), end_time=time(12))
    rule.staff = [db.session.scalar(select(StaffUser))]
    db.session.add(rule)
    db.session.commit()
    return bookable_service


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def redirected(response) -> str:
    assert response.status_code in (302, 303), response.get_data(as_text=True)[:2000]
    return response.headers["Location"].removeprefix("http://localhost")


def booking_form(lang: str, **values) -> dict:
    return {
        "start": SLOT,
        "form_key": f"crawl-{lang}-" + "k" * 16,
        "name": "Familie Test",
        "email": "familie@example.org",
        "phone": "",
        "language": lang,
        "note": "",
        "privacy_consent": "y",
        "website": "",
    } | values


def callback_form(lang: str, **values) -> dict:
    return {
        "name": "Familie Test",
        "phone": "0176 12345678",
        "topic": "beratung-35a",
        "language": lang,
        "reachable": ["tue-am"],
        "note": "",
        "email": "",
        "privacy_consent": "y",
        "website": "",
        "form_key": f"callback-{lang}",
    } | values


def crawl(app, lang: str) -> None:
    client = app.test_client()
    office, service = "/offices/eingliederungshilfe", "/book/beratung-35a"
    home = get(client, f"/?lang={lang}")
    assert f'<html lang="{lang}"' in home
    get(client, "/book")
    get(client, office)
    get(client, service)
    get(client, f"{service}?week=2027-03-29")
    get(client, f"{service}/details?start={SLOT.replace('+', '%2B')}")
    refused = client.post(f"{service}/details", data=booking_form(lang, name="", email="kein-at"))
    assert refused.status_code == 422
    manage = redirected(client.post(f"{service}/details", data=booking_form(lang)))
    page = get(client, manage)
    assert f'<html lang="{lang}"' in page
    token = manage.split("/")[2].split("?")[0]
    get(client, f"/manage/{token}/move")
    get(client, f"/manage/{token}/cancel")
    get(client, f"/manage/{token}/appointment.ics")
    moved = redirected(client.post(f"/manage/{token}/move", data={"start": OTHER_SLOT}))
    get(client, moved)
    new_token = moved.split("/")[2].split("?")[0]
    get(client, f"/manage/{token}", status=410)  # the old link after the move
    cancelled = redirected(client.post(f"/manage/{new_token}/cancel", data={"reason": ""}))
    get(client, cancelled)
    get(client, "/privacy")
    get(client, f"{office}/callback")
    refused = client.post(f"{office}/callback", data=callback_form(lang, phone="12"))
    assert refused.status_code == 422
    get(client, redirected(client.post(f"{office}/callback", data=callback_form(lang))))
    display = get(client, f"{office}/display")
    assert f'<html lang="{lang}"' in display
    get(client, "/nowhere", status=404)
    get(client, "/manage/no-such-token", status=404)
    api = client.post("/api/v1/bookings", json={}, headers={"Accept-Language": lang})
    assert api.status_code == 422


@freeze_time(NOW)
@pytest.mark.parametrize("lang", ["ar", "tr", "uk", "ru", "fa"])
def test_every_public_page_is_in_the_catalog(app, open_hours, missing, lang):
    crawl(app, lang)
    ours = sorted(message for found, message in missing if found == lang)
    assert ours == [], f"{lang}: looked up but not in the catalog: {ours}"


@freeze_time(NOW)
def test_the_recorder_catches_a_missing_string(app, open_hours, missing):
    """A lookup the catalog lacks is seen (otherwise the crawl above could never fail)."""
    from flask_babel import force_locale, gettext

    with app.test_request_context(), force_locale("tr"):
        assert gettext("Your details") != "Your details"  # in the catalog: not recorded
        gettext("A sentence no catalog has")
    assert missing == {("tr", "A sentence no catalog has")}


def test_arabic_pages_are_written_in_arabic(app):
    """The catalogs are really used (not a page silently left in German)."""
    html = app.test_client().get("/privacy?lang=ar").get_data(as_text=True)
    assert re.search(r"[\u0600-\u06FF]{3,}", html)
