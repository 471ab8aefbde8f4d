"""Absolute links from the configured public address, never from the request's Host header.

A forged Host header must never reach an email, an SMS or a page that people copy links from:
every absolute URL is built from PUBLIC_BASE_URL (checked at startup).
"""

from urllib.parse import urlsplit

from flask import current_app, has_request_context, request
from werkzeug.routing import MapAdapter


def public_url_adapter() -> MapAdapter:
    """The app's URL map bound to PUBLIC_BASE_URL (scheme, host, port and path prefix)."""
    base = urlsplit(current_app.config["PUBLIC_BASE_URL"])
    return current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )


def external_url(endpoint: str, **values) -> str:
    """Like `url_for(endpoint, **values, _external=True)`, but on the public address."""
    if endpoint.startswith("."):
        blueprint = request.blueprint if has_request_context() else None
        endpoint = f"{blueprint}{endpoint}" if blueprint else endpoint[1:]
    current_app.inject_url_defaults(endpoint, values)
    return public_url_adapter().build(endpoint, values, force_external=True)


def public_url(path: str) -> str:
    """An absolute URL for a path of this site ("/manage/…")."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def is_our_host(netloc: str) -> bool:
    """Whether a host (with port) from an Origin or Referer header is this site: the host the
    request came to (Flask checked it against TRUSTED_HOSTS) or the public address's."""
    ours = {request.host.lower(), urlsplit(current_app.config["PUBLIC_BASE_URL"]).netloc.lower()}
    return netloc.lower() in ours
