"""Locale choice: ?lang=…, then the session, then the browser, then German.

Families' pages (public, not the staff login) and the API speak every language of
LANGUAGES; pages behind the login only those of STAFF_LANGUAGES.
"""

import os
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.messages.mofile import read_mo
from flask import current_app, has_request_context, request, session
from flask_babel import get_locale

# Public endpoints that staff use: they speak the staff languages like the pages behind login.
STAFF_FACING_PUBLIC_ENDPOINTS = frozenset({"auth.login", "schedule.feed_ics"})


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def is_family_request() -> bool:
    """A page for families (or the API): errors of unknown addresses count as one."""
    from booking.core.access import is_staff_endpoint  # access imports the models, which use N_

    endpoint = request.endpoint
    return not is_staff_endpoint(endpoint) and endpoint not in STAFF_FACING_PUBLIC_ENDPOINTS


def page_languages() -> list[str]:
    """The languages this request may be answered in (the language switch offers them)."""
    if has_request_context() and not is_family_request():
        return list(current_app.config["STAFF_LANGUAGES"])
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    if not has_request_context():  # CLI commands and workers speak the default language
        return default
    supported = page_languages()
    api = is_api_request()
    asked = request.args.get("lang")
    if asked in current_app.config["LANGUAGES"] and not api:  # the API sets no cookies
        session["lang"] = asked
        if asked in current_app.config["STAFF_LANGUAGES"]:
            # A family language chosen later keeps the staff pages in this one.
            session["staff_lang"] = asked
    if asked in supported:
        return asked
    if not api:
        for remembered in (session.get("lang"), session.get("staff_lang")):
            if remembered in supported:
                return remembered
    return request.accept_languages.best_match(supported) or default


def vary_on_language(response):
    """after_request: the answer depends on Accept-Language (and the session's choice), so a
    shared cache must not hand one family's language to the next."""
    if request.endpoint != "static":  # stylesheets are the same in every language
        response.vary.add("Accept-Language")
    return response


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]


def is_rtl(locale: Locale | str | None = None) -> bool:
    """True for Arabic and Persian (right-to-left scripts)."""
    locale = locale if locale is not None else get_locale()
    if locale is None:
        return False
    try:
        return Locale.parse(str(locale)).character_order == "right-to-left"
    except (ValueError, UnknownLocaleError):
        return False


def own_name(code: str) -> str:
    """A language's name in itself ("ar" -> "العربية"), capitalised where the script has case."""
    try:
        name = Locale.parse(code).get_display_name(code) or code
    except (ValueError, UnknownLocaleError):
        return code
    return name[:1].upper() + name[1:]


@cache
def _translated_catalogs(directory: str) -> frozenset[str]:
    """Languages whose compiled catalog translates anything (an empty one is still missing)."""
    found = set()
    if not os.path.isdir(directory):
        return frozenset()
    for code in os.listdir(directory):
        path = os.path.join(directory, code, "LC_MESSAGES", "messages.mo")
        if not os.path.isfile(path):
            continue
        with open(path, "rb") as handle:
            # Singular entries only: read_mo fills untranslated plural forms with the msgid.
            if any(
                isinstance(message.id, str) and message.id and message.string
                for message in read_mo(handle)
            ):
                found.add(code)
    return frozenset(found)


def has_catalog(language: str) -> bool:
    directory = os.path.join(current_app.root_path, "translations")
    return language in _translated_catalogs(directory)


def message_locale(language: str | None) -> str:
    """The family's language for a message when we have a catalog for it, else German:
    a message is never half in one language and half in another."""
    default = current_app.config["BABEL_DEFAULT_LOCALE"]
    # English is the source language: its catalog may be empty and is still complete.
    if language in current_app.config["LANGUAGES"] and (
        language in (default, "en") or has_catalog(language)
    ):
        return language
    return default
