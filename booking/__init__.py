"""Sprechstunde: consultation hours, appointments and callbacks for youth and social services."""

import logging
import os
from collections.abc import Mapping
from typing import Any

from flask import Flask

from booking.config import (
    DEV_SECRET_KEY,
    ConfigurationError,
    DefaultConfig,
    check_metrics_token,
    public_base_url,
    trusted_hosts,
)

ENVIRONMENTS = ("production", "development", "testing")
# Seconds: a Redis that accepts no connection or stops answering fails fast (then the
# in-memory fallback counts), instead of holding every request.
REDIS_STORAGE_TIMEOUTS = {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
__all__ = ["ConfigurationError", "create_app"]


def create_app(
    test_config: dict[str, Any] | None = None, instance_path: str | None = None
) -> Flask:
    """Application factory: defaults, instance/config.py, BOOKING_* variables, test_config."""
    app = Flask(__name__, instance_relative_config=True, instance_path=instance_path)
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("BOOKING")
    if test_config is not None:
        app.config.from_mapping(test_config)

    os.makedirs(app.instance_path, exist_ok=True)
    _finish_config(app)
    _check_config(app)
    hops = int(app.config["PROXY_FIX_HOPS"])
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from booking import db as db_module
    from booking.extensions import babel, csrf, db, limiter, login_manager, migrate

    db_module._sqlite_pragmas.busy_timeout_ms = app.config["SQLITE_BUSY_TIMEOUT_MS"]
    db.init_app(app)
    migrate.init_app(app, db, directory=os.path.join(app.root_path, "..", "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)
    from booking.core.ratelimit import forward_limiter_warnings

    forward_limiter_warnings(app)

    from booking.core.i18n import select_locale, select_timezone, vary_on_language

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.after_request(vary_on_language)

    _register_features(app)
    return app


def _finish_config(app: Flask) -> None:
    config = app.config
    if config["ENVIRONMENT"] not in ENVIRONMENTS:
        raise ConfigurationError(f"BOOKING_ENVIRONMENT must be one of {', '.join(ENVIRONMENTS)}")
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        path = os.path.join(app.instance_path, "sprechstunde.sqlite3")
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    # Environment variables arrive as strings; accept the usual spellings.
    for key in (
        "RATELIMIT_ENABLED",
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED",
        "RATELIMIT_SWALLOW_ERRORS",
        "SESSION_COOKIE_SECURE",
        "MAIL_USE_TLS",
        "MAIL_USE_SSL",
    ):
        value = config.get(key)
        if isinstance(value, str):
            config[key] = value.strip().lower() in ("1", "true", "yes", "on")
    if config["SESSION_COOKIE_SECURE"] is None:
        # Plain http on localhost during development and tests.
        config["SESSION_COOKIE_SECURE"] = config["ENVIRONMENT"] == "production"
    if str(config.get("RATELIMIT_STORAGE_URI", "")).startswith("redis"):
        config["RATELIMIT_STORAGE_OPTIONS"] = {
            **REDIS_STORAGE_TIMEOUTS,
            **(config.get("RATELIMIT_STORAGE_OPTIONS") or {}),
        }
    # Statement parameters hold families' data: never in a log line or an exception text.
    # pool_pre_ping stays on unless switched off by name: options set for the pool size alone
    # must not lose it (a connection cut by a database restart is replaced, not used).
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {
        "pool_pre_ping": True,
        **(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}),
        "hide_parameters": True,
    }


def _check_config(app: Flask) -> None:
    config = app.config
    if config["ENVIRONMENT"] == "production":
        if not config.get("SECRET_KEY") or config["SECRET_KEY"] == DEV_SECRET_KEY:
            raise ConfigurationError(
                "Refusing to start in production without a SECRET_KEY: set BOOKING_SECRET_KEY "
                "or SECRET_KEY in instance/config.py (or BOOKING_ENVIRONMENT=development)."
            )
        if app.debug:
            raise ConfigurationError("The debugger must not run in production.")
    environment = config["ENVIRONMENT"]
    config["PUBLIC_BASE_URL"] = public_base_url(config.get("PUBLIC_BASE_URL"), environment)
    config["TRUSTED_HOSTS"] = trusted_hosts(
        config.get("TRUSTED_HOSTS"), environment, config["PUBLIC_BASE_URL"]
    )
    if config["ENVIRONMENT"] != "production" and not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = DEV_SECRET_KEY
    check_metrics_token(config.get("METRICS_TOKEN"))
    _resolve_retention(config)


def _resolve_retention(config: Any) -> None:
    """One table of retention rules; the older single settings become views of it."""
    from booking.privacy.retention import RULES, RetentionError, resolve

    table = config.get("RETENTION")
    if isinstance(table, str):  # BOOKING_RETENTION that is not valid JSON
        raise ConfigurationError("BOOKING_RETENTION must be a JSON object of rule name -> days")
    if table is not None and not isinstance(table, Mapping):
        raise ConfigurationError("RETENTION must be a dict of rule name -> days")
    try:
        config["RETENTION"] = resolve(table, config)
    except RetentionError as error:
        raise ConfigurationError(str(error)) from None
    for rule in RULES:
        if rule.alias is not None:
            config[rule.alias] = config["RETENTION"][rule.key]


def _register_features(app: Flask) -> None:
    # Importing the models here puts every table into the metadata that migrations compare.
    from booking.accessibility import views as accessibility_admin
    from booking.admin import views as admin_views
    from booking.api import views as api_views
    from booking.appointments import views as appointment_views
    from booking.audit import models as audit_models  # noqa: F401
    from booking.auth import cli as auth_cli
    from booking.auth import session_guard
    from booking.auth import views as auth_views
    from booking.callbacks import api as callback_api
    from booking.callbacks import cli as callback_cli
    from booking.callbacks import public as callback_public
    from booking.callbacks import views as callback_views
    from booking.core import errors, input_guard, security, transactions
    from booking.core import views as core_views
    from booking.core.access import enforce_access
    from booking.desk import views as desk_views
    from booking.notify import cli as notify_cli
    from booking.notify import views as notify_views
    from booking.offices import cli as finder_cli
    from booking.ops import cli as ops_cli
    from booking.ops import logs, metrics
    from booking.ops import views as ops_views
    from booking.privacy import cli as privacy_cli
    from booking.privacy import views as privacy_views
    from booking.public import accessibility as accessibility_public
    from booking.public import finder as finder_views
    from booking.public import views as public_views
    from booking.reports import views as report_views
    from booking.schedule import views as schedule_views
    from booking.setup import cli as setup_cli
    from booking.staff import views as staff_views
    from booking.waiting import views as waiting_views
    from booking.waitlist import hooks as waitlist_hooks  # noqa: F401
    from booking.waitlist import models as waitlist_models  # noqa: F401
    from booking.waitlist import public as waitlist_public
    from booking.waitlist import views as waitlist_views

    input_guard.init_app(app)  # refuses unusable input before any lock; `int` for the routes
    transactions.init_lock(app)  # a writing request takes the lock before any database read
    session_guard.init_app(app)
    app.before_request(enforce_access)  # after the session guard: a timed-out user is anonymous
    security.init_app(app)
    transactions.init_commit(app)  # after the headers, so they run after the commit
    errors.init_app(app)
    metrics.init_app(app)
    logs.init_app(app)  # last: its hook goes first, so every later hook logs with the id

    app.register_blueprint(core_views.bp)
    app.register_blueprint(auth_views.bp)
    app.register_blueprint(admin_views.bp)
    app.register_blueprint(staff_views.bp)
    app.register_blueprint(schedule_views.bp)
    app.register_blueprint(appointment_views.bp)
    app.register_blueprint(public_views.bp)
    app.register_blueprint(finder_views.bp)
    app.register_blueprint(api_views.bp)
    app.register_blueprint(desk_views.bp)
    app.register_blueprint(notify_views.bp)
    app.register_blueprint(callback_views.bp)
    app.register_blueprint(waiting_views.bp)
    app.register_blueprint(waitlist_views.bp)
    app.register_blueprint(waitlist_public.bp)
    app.register_blueprint(callback_api.bp)
    app.register_blueprint(callback_public.bp)
    app.register_blueprint(accessibility_public.bp)
    app.register_blueprint(accessibility_admin.bp)
    app.register_blueprint(privacy_views.bp)
    app.register_blueprint(report_views.bp)
    app.register_blueprint(ops_views.bp)
    app.cli.add_command(setup_cli.setup_cli)
    app.cli.add_command(auth_cli.users_cli)
    app.cli.add_command(notify_cli.outbox_cli)
    app.cli.add_command(notify_cli.reminders_cli)
    app.cli.add_command(notify_cli.agenda_cli)
    app.cli.add_command(notify_cli.worker_command)
    app.cli.add_command(privacy_cli.privacy_cli)
    app.cli.add_command(callback_cli.callbacks_cli)
    app.cli.add_command(ops_cli.backup_command)
    app.cli.add_command(finder_cli.finder_cli)

    from booking.templating import init_app as init_templating

    init_templating(app)

    from booking.core.redaction import install_log_redaction

    install_log_redaction()
    if not app.debug and not app.testing:
        app.logger.setLevel(logging.INFO)
