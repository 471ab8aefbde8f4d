"""Security headers on every response, error pages included; requests for unknown hosts refused;
forms sent from another site refused even with a valid CSRF token."""

from urllib.parse import urlsplit

from flask import Flask, Response, g, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import SecurityError

from booking.core.access import is_staff_endpoint
from booking.core.errors import render_error
from booking.core.urls import is_our_host, public_url_adapter

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=()")
    if request.is_secure:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    # Staff pages and the login form show personal data or secrets: never cache them.
    if is_staff_endpoint(request.endpoint) or request.endpoint == "auth.login":
        headers["Cache-Control"] = "no-store"
        headers["Pragma"] = "no-cache"
    return response


def refuse_untrusted_host() -> None:
    """First before_request hook: Flask found the Host not in TRUSTED_HOSTS while routing."""
    if isinstance(request.routing_exception, SecurityError):
        raise request.routing_exception


def handle_untrusted_host(error: SecurityError):
    """400 in the site's layout: its links are built on the public address, not the forged one."""
    request_ctx.url_adapter = public_url_adapter()
    return render_error(400)


def sent_from(value: str | None) -> str | None:
    """The host of an Origin or Referer header; None when the browser gave none ("null")."""
    if not value or value == "null":
        return None
    return urlsplit(value).netloc or "?"


def refuse_foreign_origin() -> None:
    """After Flask-WTF accepted a form's token: the browser must say it came from our pages.
    Flask-WTF checks the Referer over https only, and never the Origin."""
    if not g.get("csrf_valid"):  # no form (GET, the JSON API) or CSRF switched off
        return
    origin = sent_from(request.headers.get("Origin"))
    referrer = sent_from(request.headers.get("Referer"))
    if (origin is not None and not is_our_host(origin)) or (
        referrer is not None and not is_our_host(referrer)
    ):
        raise CSRFError("The form was sent from another site.")


def init_app(app: Flask) -> None:
    # Before every other hook (session guard, write lock, rate limits): a forged host gets
    # nothing but the 400 page.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_untrusted_host)
    app.register_error_handler(SecurityError, handle_untrusted_host)
    # After Flask-WTF's own hook (registered in create_app before this one).
    app.before_request(refuse_foreign_origin)
    app.after_request(set_security_headers)
