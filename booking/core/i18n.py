"""Locale choice: ?lang=…, then the session, then the browser, then German."""

from flask import current_app, has_request_context, request, session


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


def select_locale() -> str:
    supported = current_app.config["LANGUAGES"]
    if not has_request_context():  # CLI commands and workers speak the default language
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    asked = request.args.get("lang")
    if asked in supported:
        if not request.path.startswith("/api/"):  # the API sets no cookies
            session["lang"] = asked
        return asked
    remembered = session.get("lang")
    if remembered in supported:
        return remembered
    return (
        request.accept_languages.best_match(supported) or current_app.config["BABEL_DEFAULT_LOCALE"]
    )


def select_timezone() -> str:
    return current_app.config["DISPLAY_TIMEZONE"]
