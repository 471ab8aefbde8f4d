"""Built-in defaults. Overridden by instance/config.py, then BOOKING_* environment variables."""

import json
from collections.abc import Mapping
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

# The value shipped in the source; production refuses to start with it.
DEV_SECRET_KEY = "dev-only-insecure-secret-key"  # noqa: S105


class DefaultConfig:
    # "production" | "development" | "testing"; production is the safe default.
    ENVIRONMENT = "production"
    SECRET_KEY = DEV_SECRET_KEY

    # None means: SQLite file in the instance folder (filled in by create_app).
    SQLALCHEMY_DATABASE_URI: str | None = None
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SQLITE_BUSY_TIMEOUT_MS = 10000

    # Staff sessions: idle and absolute limits, checked on every request.
    STAFF_IDLE_TIMEOUT = timedelta(minutes=30)
    STAFF_ABSOLUTE_TIMEOUT = timedelta(hours=8)
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_COOKIE_NAME = "sprechstunde_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE: bool | None = None  # None: secure in production only
    REMEMBER_COOKIE_HTTPONLY = True

    # Number of trusted reverse proxies in front of the app (0: none). With 1, the client
    # address and scheme come from X-Forwarded-For/-Proto, so rate limits count per family.
    PROXY_FIX_HOPS = 0

    WTF_CSRF_TIME_LIMIT = None  # the CSRF token lives as long as the session
    MAX_CONTENT_LENGTH = 1 * 1024 * 1024

    # Flask-Limiter reads these names directly.
    RATELIMIT_ENABLED = True
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    # Redis unreachable: every worker counts the same limits in its own memory (logged as a
    # warning, rechecked within a minute) instead of answering 500 (README: Faults survived).
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Extra options for the storage (redis.from_url); a Redis URI gets short timeouts by
    # default, so a Redis that stopped answering costs a request at most a second.
    RATELIMIT_STORAGE_OPTIONS: dict = {}
    LOGIN_LIMIT_PER_IP = "20 per minute; 200 per hour"
    # Failed logins per account from one address (or from one device with a device cookie for
    # the account): an attacker elsewhere cannot lock the caseworker out.
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute; 30 per hour"
    # Failed logins per account from anywhere, for requests without a device cookie of the
    # account: keeps a brute force from many addresses slow.
    LOGIN_LIMIT_PER_ACCOUNT_UNTRUSTED = "30 per hour; 100 per day"
    # The signed cookie that marks a device on which the account logged in before (OWASP).
    LOGIN_DEVICE_COOKIE_NAME = "sprechstunde_device"
    LOGIN_DEVICE_COOKIE_DAYS = 180

    # argon2id parameters (OWASP's second recommendation: m=19 MiB, t=2, p=1 is the floor).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    # Families' pages, messages, the callback form and the API; staff pages only STAFF_LANGUAGES.
    LANGUAGES = ["de", "en", "ar", "tr", "uk", "ru", "fa"]
    STAFF_LANGUAGES = ["de", "en"]
    DISPLAY_TIMEZONE = "Europe/Berlin"

    # Mail: without MAIL_SERVER, messages go to the in-app viewer only (development).
    MAIL_SERVER = ""
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME = ""
    MAIL_PASSWORD = ""
    MAIL_DEFAULT_SENDER = "Sprechstunde <noreply@sprechstunde.invalid>"
    MAIL_TIMEOUT_SECONDS = 20
    # SMS for families without email: "viewer" (nothing leaves the app) or "http".
    SMS_PROVIDER = "viewer"
    SMS_GATEWAY_URL = ""
    SMS_GATEWAY_TOKEN = ""
    SMS_SENDER = "Sprechstunde"
    REMINDER_HOURS_BEFORE = 24
    # Waiting list: a freed time is held for the family this many working hours of the office;
    # an entry without an offer taken ends after this many days (with a message).
    WAITLIST_HOLD_HOURS = 2
    WAITLIST_ENTRY_DAYS = 60
    OUTBOX_MAX_ATTEMPTS = 8
    WORKER_INTERVAL_SECONDS = 60
    # Every absolute link (messages, manage links, calendar feeds) starts with this address;
    # never with the request's Host header. Required in production.
    PUBLIC_BASE_URL: str | None = None
    # Flask's TRUSTED_HOSTS: other hosts get a 400. None: derived from PUBLIC_BASE_URL (plus
    # localhost and 127.0.0.1 outside production).
    TRUSTED_HOSTS: list[str] | None = None

    # Retention rules (rule name -> days; booking/privacy/retention.py names them and holds the
    # defaults). Unset rules keep their default; create_app fills in the whole table.
    RETENTION: dict[str, int] = {}
    # Older single settings, still honoured as aliases of rules (None: the rule decides);
    # create_app writes the effective values back.
    RETENTION_DAYS_AFTER_APPOINTMENT: int | None = None
    OUTBOX_RETENTION_DAYS: int | None = None
    CALLBACK_RETENTION_DAYS_AFTER_CLOSING: int | None = None
    # Named on the privacy notice (lists of lines). Written from public knowledge, not checked
    # with the city: confirm them with the city's data protection officer before going live.
    PRIVACY_CONTROLLER = [
        "Landeshauptstadt Düsseldorf",
        "Der Oberbürgermeister – Jugendamt",
        "Willi-Becker-Allee 7",
        "40227 Düsseldorf",
    ]
    PRIVACY_DPO_CONTACT = [
        "Die behördliche Datenschutzbeauftragte der Landeshauptstadt Düsseldorf",
        "40200 Düsseldorf",
        "datenschutz@duesseldorf.de",
    ]

    # Log lines: "text" or "json" (one object a line); both carry the request id.
    LOG_FORMAT = "text"
    # /metrics answers only with "Authorization: Bearer <this>"; empty: /metrics is a 404.
    METRICS_TOKEN = ""

    # Slot inputs (hours, busy times, closed days) kept per process for this many seconds at
    # most; every change makes them stale at once (booking/schedule/inputs_cache.py). 0: off.
    SLOT_CACHE_SECONDS = 60

    # Closed every year besides the public holidays of NRW ("MM-DD").
    YEARLY_CLOSED_DAYS = ["12-24", "12-31"]

    # The city's street directory for the finder's street search (CSV, README "Street
    # register"); a relative path is inside the instance folder. None: quarters only.
    STREET_REGISTER: str | None = None

    # Accessibility statement (BITV 2.0 / BITNRW). Contact for barriers; feedback from the
    # form goes to ACCESSIBILITY_CONTACT_EMAIL, or to every active admin when it is empty.
    ACCESSIBILITY_OPERATOR = "Landeshauptstadt Düsseldorf"
    ACCESSIBILITY_CONTACT_EMAIL = ""
    ACCESSIBILITY_CONTACT_PHONE = ""
    ACCESSIBILITY_STATEMENT_PREPARED = "2026-11-25"  # ISO dates
    ACCESSIBILITY_STATEMENT_REVIEWED = "2026-11-25"
    # The enforcement body of North Rhine-Westphalia; check the contact details before going live.
    ACCESSIBILITY_ENFORCEMENT_BODY = (
        "Ombudsstelle für barrierefreie Informationstechnik des Landes Nordrhein-Westfalen"
    )
    ACCESSIBILITY_ENFORCEMENT_ADDRESS = [
        "bei der Beauftragten der Landesregierung für Menschen mit Behinderung sowie für "
        "Patientinnen und Patienten in Nordrhein-Westfalen",
        "Fürstenwall 25",
        "40219 Düsseldorf",
    ]
    ACCESSIBILITY_ENFORCEMENT_EMAIL = "ombudsstelle-barrierefreie-it@mags.nrw.de"
    ACCESSIBILITY_ENFORCEMENT_PHONE = ""
    ACCESSIBILITY_ENFORCEMENT_URL = "https://www.lbb.nrw.de"
    # Feedback on barriers loses the sender's name, contact and message this long after it came
    # (alias of RETENTION["accessibility_feedback"]).
    ACCESSIBILITY_FEEDBACK_RETENTION_DAYS: int | None = None


# Outside production the public address is the local development server (tests: localhost).
DEFAULT_PUBLIC_BASE_URLS = {"development": "http://127.0.0.1:5000", "testing": "http://localhost"}
LOCAL_HOSTS = ["localhost", "127.0.0.1"]


class ConfigurationError(RuntimeError):
    """The configuration is unsafe or incomplete: the app refuses to start."""


def public_base_url(value: Any, environment: str) -> str:
    """PUBLIC_BASE_URL checked and without a trailing slash (a default outside production)."""
    if not value:
        if environment == "production":
            raise ConfigurationError(
                "Refusing to start in production without BOOKING_PUBLIC_BASE_URL (the site's "
                "public address, such as https://termine.example.org): links in messages are "
                "built from it, never from the request's Host header."
            )
        value = DEFAULT_PUBLIC_BASE_URLS[environment]
    parts = urlsplit(str(value).strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise ConfigurationError(
            "BOOKING_PUBLIC_BASE_URL must be an address like https://termine.example.org "
            f"(scheme and host, optionally a path), not {value!r}."
        )
    if environment == "production" and parts.scheme != "https":
        raise ConfigurationError(
            "BOOKING_PUBLIC_BASE_URL must start with https:// in production (cookies are sent "
            "over https only)."
        )
    return parts.geturl().rstrip("/")


def trusted_hosts(value: Any, environment: str, base_url: str) -> list[str]:
    """TRUSTED_HOSTS as a list: from a JSON list or a comma-separated string, or derived."""
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError as error:
                raise ConfigurationError(
                    f"BOOKING_TRUSTED_HOSTS is not a JSON list: {value!r}"
                ) from error
        else:
            value = text.split(",")
    hosts = [str(host).strip().lower() for host in value or [] if str(host).strip()]
    if hosts:
        return hosts
    # Never empty: an empty list would let every host through.
    public_host = urlsplit(base_url).hostname or ""
    if environment == "production":
        return [public_host]
    return list(dict.fromkeys([*LOCAL_HOSTS, public_host]))


METRICS_TOKEN_MIN_LENGTH = 32


def check_metrics_token(token: Any) -> None:
    if token and len(str(token)) < METRICS_TOKEN_MIN_LENGTH:
        raise ConfigurationError(
            f"BOOKING_METRICS_TOKEN must be at least {METRICS_TOKEN_MIN_LENGTH} characters "
            "(python -c 'import secrets; print(secrets.token_urlsafe(32))')."
        )


def check_schema_current(app: Any) -> None:
    """Production refuses to serve a database whose migrations are pending."""
    if app.config.get("ENVIRONMENT") != "production":
        return
    from booking.extensions import db
    from booking.ops.schema import pending_migrations

    with app.app_context():
        try:
            with db.engine.connect() as connection:
                pending = pending_migrations(connection)
        finally:
            db.engine.dispose()  # no connection may cross gunicorn's fork into the workers
    if pending:
        raise ConfigurationError(
            f"Refusing to start: {pending}. Run `flask --app wsgi db upgrade` first "
            "(docs/deployment.md, Upgrades)."
        )


def check_rate_limit_storage(config: Mapping[str, Any], workers: int) -> None:
    """Production refuses per-process rate-limit counters when several workers serve."""
    if (
        config.get("ENVIRONMENT") == "production"
        and config.get("RATELIMIT_ENABLED", True)
        and str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("memory://")
        and workers > 1
    ):
        raise ConfigurationError(
            f"Refusing to start {workers} workers with BOOKING_RATELIMIT_STORAGE_URI="
            f"{config.get('RATELIMIT_STORAGE_URI')}: every worker would count login and booking "
            "attempts alone. Set BOOKING_RATELIMIT_STORAGE_URI to a shared storage such as "
            "redis://127.0.0.1:6379/0, or run one worker (GUNICORN_WORKERS=1)."
        )
