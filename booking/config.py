"""Built-in defaults. Overridden by instance/config.py, then BOOKING_* environment variables."""

from datetime import timedelta

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
    LOGIN_LIMIT_PER_IP = "20 per minute; 200 per hour"
    LOGIN_LIMIT_PER_ACCOUNT = "5 per minute; 30 per hour"

    # argon2id parameters (OWASP's second recommendation: m=19 MiB, t=2, p=1 is the floor).
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4

    BABEL_DEFAULT_LOCALE = "de"
    BABEL_DEFAULT_TIMEZONE = "Europe/Berlin"
    LANGUAGES = ["de", "en"]
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
    OUTBOX_MAX_ATTEMPTS = 8
    WORKER_INTERVAL_SECONDS = 60
    # Links in messages need the public address of the site.
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    # Retention: families' personal data is erased this long after the appointment ended.
    RETENTION_DAYS_AFTER_APPOINTMENT = 180
    OUTBOX_RETENTION_DAYS = 30

    # Closed every year besides the public holidays of NRW ("MM-DD").
    YEARLY_CLOSED_DAYS = ["12-24", "12-31"]
