"""Office and service texts in the families' languages. No Flask: German lives in the
texts' own columns, every other language in a JSON map {field: {language: text}}."""

from collections.abc import Mapping

DEFAULT_LANGUAGE = "de"
# The languages an office or service text can be written in, German (required) first.
TEXT_LANGUAGES = ("de", "en", "ar", "tr", "uk", "ru", "fa")
# Each language named in itself, for the admin forms' labels (with a lang attribute).
OWN_NAMES = {
    "de": "Deutsch",
    "en": "English",
    "ar": "العربية",
    "tr": "Türkçe",
    "uk": "Українська",
    "ru": "Русский",
    "fa": "فارسی",
}
RTL_LANGUAGES = frozenset({"ar", "fa"})
OFFICE_TEXT_FIELDS = ("name", "address", "operator", "public_notes", "directions")
SERVICE_TEXT_FIELDS = ("name", "description", "please_bring")


def base_language(language: object) -> str | None:
    """ "tr", "tr_TR" or a Babel Locale -> "tr"."""
    if language is None:
        return None
    return str(language).replace("-", "_").split("_")[0].lower() or None


def text_in(german: str, translations: Mapping | None, field: str, language: object) -> str:
    """The field's text in `language`, or the German one when that language has none."""
    code = base_language(language)
    if code and code != DEFAULT_LANGUAGE:
        text = ((translations or {}).get(field) or {}).get(code)
        if text:
            return text
    return german or ""


def clean_translations(values: Mapping[str, Mapping[str, str | None]]) -> dict:
    """Keep only non-empty texts of known languages other than German (which has a column)."""
    cleaned: dict[str, dict[str, str]] = {}
    for field, by_language in values.items():
        kept = {
            code: text.strip()
            for code, text in (by_language or {}).items()
            if code in TEXT_LANGUAGES and code != DEFAULT_LANGUAGE and text and text.strip()
        }
        if kept:
            cleaned[field] = dict(sorted(kept.items(), key=lambda i: TEXT_LANGUAGES.index(i[0])))
    return cleaned
