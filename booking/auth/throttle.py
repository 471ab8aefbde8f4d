"""Login throttling that slows brute force without letting an attacker lock a caseworker out.

As the OWASP Authentication Cheat Sheet recommends:
- every login attempt counts per client address (LOGIN_LIMIT_PER_IP);
- failed attempts count per account *and* address (LOGIN_LIMIT_PER_ACCOUNT), so wrong
  passwords sent from elsewhere never block the caseworker at their own desk;
- a successful login sets a signed "device cookie" naming the account (OWASP's device
  cookies); on a device with one, failed attempts count per account and device instead, and
  the device is exempt from the ceiling of failed attempts per account from anywhere
  (LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED), which keeps a brute force from many addresses slow.
Accounts appear in counter keys and cookies only as a hash of the normalised email address.
"""

import hashlib
import secrets
from datetime import timedelta

from flask import Response, current_app, g, request, url_for
from itsdangerous import BadSignature, URLSafeTimedSerializer

from booking.auth.services import normalize_email
from booking.extensions import client_ip

DEVICE_COOKIE_SALT = "login-device"
# A reception PC is shared: the cookie vouches for the last few accounts used on it.
MAX_ACCOUNTS_PER_DEVICE = 10


def account_id(email: str) -> str:
    return hashlib.sha256(normalize_email(email).encode()).hexdigest()[:32]


def submitted_account() -> str:
    return account_id(request.form.get("email", ""))


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=DEVICE_COOKIE_SALT)


def _device_lifetime() -> timedelta:
    return timedelta(days=int(current_app.config["LOGIN_DEVICE_COOKIE_DAYS"]))


def read_device_cookie() -> dict | None:
    """The device cookie's content if it is ours, unaltered and not too old."""
    raw = request.cookies.get(current_app.config["LOGIN_DEVICE_COOKIE_NAME"])
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=_device_lifetime().total_seconds())
    except BadSignature:  # also expired (SignatureExpired is a BadSignature)
        return None
    if not isinstance(data, dict) or not isinstance(data.get("n"), str):
        return None
    if not isinstance(data.get("a"), list):
        return None
    return data


def trusted_device() -> str | None:
    """The device's nonce when its cookie vouches for the account being logged in to."""
    data = read_device_cookie()
    if data is not None and submitted_account() in data["a"]:
        return data["n"]
    return None


def per_account_key() -> str:
    device = trusted_device()
    origin = f"device:{device}" if device else f"address:{client_ip()}"
    return f"login-account:{submitted_account()}:{origin}"


def untrusted_account_key() -> str:
    return f"login-account-untrusted:{submitted_account()}"


def has_trusted_device() -> bool:
    return trusted_device() is not None


def note_failed_login() -> None:
    g.login_failed = True


def login_failed(response: Response) -> bool:
    """deduct_when for the per-account limits: only failed attempts count."""
    return bool(g.get("login_failed"))


def remember_device(response: Response, email: str) -> None:
    """Set (renew) the device cookie after a successful login, with a fresh nonce."""
    data = read_device_cookie() or {"a": []}
    account = account_id(email)
    accounts = [a for a in data["a"] if a != account] + [account]
    payload = {"n": secrets.token_urlsafe(16), "a": accounts[-MAX_ACCOUNTS_PER_DEVICE:]}
    config = current_app.config
    response.set_cookie(
        config["LOGIN_DEVICE_COOKIE_NAME"],
        _serializer().dumps(payload),
        max_age=_device_lifetime(),
        path=url_for("auth.login"),  # only ever sent to the login form
        secure=bool(config["SESSION_COOKIE_SECURE"]),
        httponly=True,
        samesite="Strict",
    )
