"""German is the default and complete; English is selectable; nothing is hard-coded."""

from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[1]
TRANSLATIONS = ROOT / "booking" / "translations"
KEYWORDS = {"_": None, "gettext": None, "_l": None, "N_": None, "ngettext": (1, 2)}


def extracted_messages() -> set[str]:
    method_map = [
        ("**.py", "python"),
        ("**/templates/**.html", "jinja2"),
        ("**/templates/**.txt", "jinja2"),
    ]
    messages = set()
    for _, _, message, _, _ in extract_from_dir(
        ROOT / "booking", method_map=method_map, keywords=KEYWORDS
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


def catalog(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def test_german_catalog_translates_every_string():
    german = catalog("de")
    missing = sorted(
        m for m in extracted_messages() if not (german.get(m) and german.get(m).string)
    )
    assert missing == [], "run `make translations-update` and translate these"


def hashable(value):
    return tuple(value) if isinstance(value, list | tuple) else value  # plural forms


def test_compiled_catalogs_match_their_sources():
    for lang in ("de", "en"):
        source = {hashable(m.id): hashable(m.string) for m in catalog(lang) if m.id and m.string}
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as handle:
            compiled = {
                hashable(m.id): hashable(m.string) for m in read_mo(handle) if m.id and m.string
            }
        assert compiled == source, f"run `make translations` for {lang}"


def test_german_is_the_default(client):
    html = client.get("/login").get_data(as_text=True)
    assert '<html lang="de">' in html
    assert "Anmeldung für Mitarbeitende" in html


def test_english_on_request_and_remembered(client):
    html = client.get("/login?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Staff login" in html
    assert "Staff login" in client.get("/login").get_data(as_text=True)


def test_browser_language_is_honoured(client):
    html = client.get("/login", headers={"Accept-Language": "en-GB,en;q=0.9"}).get_data(
        as_text=True
    )
    assert "Staff login" in html


def test_unsupported_language_falls_back_to_german(client):
    html = client.get("/login?lang=xx", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Anmeldung für Mitarbeitende" in html


def test_form_library_messages_are_german_too(client, auth, make_staff):
    from booking.auth.models import Role

    admin = make_staff(Role.ADMIN)
    auth.login(admin.email)
    html = client.post("/admin/offices/new", data={"district": "drei"}).get_data(as_text=True)
    assert "Keine gültige, ganze Zahl." in html
