"""German is the default and complete; every shipped catalog is complete; nothing is hard-coded."""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
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


def extracted_public_messages() -> set[str]:
    """The strings of babel-public.cfg's files: what families can see."""
    with open(ROOT / "babel-public.cfg", encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    messages = set()
    for _, _, message, _, _ in extract_from_dir(
        ROOT, method_map=method_map, options_map=options_map, keywords=KEYWORDS
    ):
        messages.add(message if isinstance(message, str) else message[0])
    return messages


FAMILY_LANGUAGES = ("ar", "tr", "uk", "ru", "fa")
SHIPPED = ("de", "en", *FAMILY_LANGUAGES)


def catalog(lang: str):
    with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.po", "rb") as handle:
        return read_po(handle)


def test_german_catalog_translates_every_string():
    german = catalog("de")
    missing = sorted(
        m for m in extracted_messages() if not (german.get(m) and german.get(m).string)
    )
    assert missing == [], "run `make translations-update` and translate these"


# Catalogs whose translation is under way; strict, so a finished one must leave this set.
BEING_TRANSLATED = set()


@pytest.mark.parametrize(
    "lang",
    [
        pytest.param(lang, marks=pytest.mark.xfail(strict=True, reason="being translated"))
        if lang in BEING_TRANSLATED
        else lang
        for lang in FAMILY_LANGUAGES
    ],
)
def test_family_catalogs_translate_every_public_string(lang):
    book = catalog(lang)
    missing = sorted(
        m
        for m in extracted_public_messages()
        if not (book.get(m) and all(hashable_strings(book.get(m).string)))
    )
    assert missing == [], f"run `make translations-update` and translate these into {lang}"


def hashable_strings(value):
    return list(value) if isinstance(value, list | tuple) else [value]


@pytest.mark.parametrize("lang", SHIPPED)
def test_no_fuzzy_entries_and_placeholders_match_the_source(lang):
    book = catalog(lang)
    fuzzy = [m.id for m in book if m.id and m.fuzzy]
    assert fuzzy == [], f"fuzzy entries in {lang}: review them and drop the fuzzy flag"
    # Babel's checkers: python-format placeholders of every translation against the msgid.
    problems = [(m.id, [str(e) for e in errors]) for m, errors in book.check()]
    assert problems == []


@pytest.mark.parametrize("lang", SHIPPED)
def test_named_placeholders_are_the_sources_own(lang):
    named = re.compile(r"%\((\w+)\)[sdif]")
    wrong = []
    for message in catalog(lang):
        if not message.id or not message.string:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        allowed = set().union(*(named.findall(i) for i in ids))
        for text in hashable_strings(message.string):
            if text and not set(named.findall(text)) <= allowed:
                wrong.append((ids[0], text))
            if isinstance(message.id, str) and text and set(named.findall(text)) != allowed:
                wrong.append((ids[0], text))
    assert wrong == []


def hashable(value):
    return tuple(value) if isinstance(value, list | tuple) else value  # plural forms


def test_compiled_catalogs_match_their_sources():
    for lang in SHIPPED:
        source = {
            hashable(m.id): hashable(m.string)
            for m in catalog(lang)
            if m.id and all(hashable_strings(m.string))
        }
        with open(TRANSLATIONS / lang / "LC_MESSAGES" / "messages.mo", "rb") as handle:
            compiled = {hashable(m.id): hashable(m.string) for m in read_mo(handle) if m.id}
        assert {key: compiled.get(key) for key in source} == source, (
            f"run `make translations` for {lang}"
        )


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


class TextOutsideGettext(HTMLParser):
    """Collects literal words in a template's HTML once Jinja code and trans blocks are gone."""

    SHOWN_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        for name, value in attrs:
            if name in self.SHOWN_ATTRIBUTES and value and WORD.search(value):
                self.found.append(f"{tag}[{name}]={value!r}")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1

    def handle_data(self, data):
        if not self.skip and WORD.search(data):
            self.found.append(data.strip())


WORD = re.compile(r"[^\W\d_]{2,}")
JINJA = [
    re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}", re.S),
    re.compile(r"{#.*?#}", re.S),
    re.compile(r"{%.*?%}", re.S),
    re.compile(r"{{.*?}}", re.S),
]
# Not words for translation: the product's name and units/codes that read the same everywhere.
NOT_TRANSLATED = {"Sprechstunde", "SMS", "iCal", "PDF"}


def test_template_text_goes_through_gettext():
    offenders = {}
    for path in sorted((ROOT / "booking" / "templates").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern in JINJA:
            source = pattern.sub(" ", source)
        parser = TextOutsideGettext()
        parser.feed(source)
        words = [w for w in parser.found if w not in NOT_TRANSLATED]
        if words:
            offenders[str(path.relative_to(ROOT))] = words
    assert offenders == {}, "wrap these in _() or {% trans %}"
