import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from booking import ConfigurationError, create_app
from booking.config import DEV_SECRET_KEY, check_rate_limit_storage


def write_instance_config(path, text: str) -> str:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.py").write_text(text)
    return str(path)


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for key in list(os.environ):
        if key.startswith(("BOOKING_", "GUNICORN_")) or key == "WEB_CONCURRENCY":
            monkeypatch.delenv(key, raising=False)
    # gunicorn's on_starting would otherwise make a metrics folder for this very process.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path / "metrics"))
    return monkeypatch


def test_defaults_apply_without_instance_config(clean_env, tmp_path):
    app = create_app({"ENVIRONMENT": "testing"}, instance_path=str(tmp_path))
    assert app.config["BABEL_DEFAULT_LOCALE"] == "de"
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://"
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/sprechstunde.sqlite3"


def test_precedence_defaults_instance_env_test_config(clean_env, tmp_path):
    instance = write_instance_config(
        tmp_path / "instance",
        "ENVIRONMENT = 'development'\n"
        "LOGIN_LIMIT_PER_IP = 'from-instance'\n"
        "LOGIN_LIMIT_PER_ACCOUNT = 'from-instance'\n"
        "RATELIMIT_STORAGE_URI = 'from-instance'\n",
    )
    clean_env.setenv("BOOKING_LOGIN_LIMIT_PER_ACCOUNT", "from-env")
    clean_env.setenv("BOOKING_RATELIMIT_STORAGE_URI", "memory://")
    app = create_app({"RATELIMIT_STORAGE_URI": "memory://?from=test"}, instance_path=instance)
    assert app.config["ENVIRONMENT"] == "development"  # instance beats the default
    assert app.config["LOGIN_LIMIT_PER_IP"] == "from-instance"
    assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "from-env"  # env beats instance
    assert app.config["RATELIMIT_STORAGE_URI"] == "memory://?from=test"  # test_config wins


def test_env_booleans_are_parsed(clean_env, tmp_path):
    clean_env.setenv("BOOKING_RATELIMIT_ENABLED", "false")
    app = create_app({"ENVIRONMENT": "testing"}, instance_path=str(tmp_path))
    assert app.config["RATELIMIT_ENABLED"] is False


def test_production_refuses_the_default_secret_key(clean_env, tmp_path):
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app(instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": DEV_SECRET_KEY}, instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="SECRET_KEY"):
        create_app({"SECRET_KEY": ""}, instance_path=str(tmp_path))


def test_production_starts_with_a_real_secret_and_secure_cookies(clean_env, tmp_path):
    clean_env.setenv("BOOKING_SECRET_KEY", "a" * 64)
    clean_env.setenv("BOOKING_PUBLIC_BASE_URL", "https://termine.example.org")
    app = create_app(instance_path=str(tmp_path))
    assert app.config["ENVIRONMENT"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert not app.debug


def test_production_refuses_the_debugger(clean_env, tmp_path, monkeypatch):
    monkeypatch.setenv("FLASK_DEBUG", "1")
    with pytest.raises(ConfigurationError, match="debugger"):
        create_app({"SECRET_KEY": "b" * 64}, instance_path=str(tmp_path))


def test_unknown_environment_is_refused(clean_env, tmp_path):
    with pytest.raises(ConfigurationError, match="BOOKING_ENVIRONMENT"):
        create_app({"ENVIRONMENT": "staging"}, instance_path=str(tmp_path))


def test_development_allows_plain_http_cookies(clean_env, tmp_path):
    app = create_app({"ENVIRONMENT": "development"}, instance_path=str(tmp_path))
    assert app.config["SESSION_COOKIE_SECURE"] is False


PRODUCTION = {"SECRET_KEY": "c" * 64, "PUBLIC_BASE_URL": "https://termine.example.org"}


def test_production_refuses_to_start_without_a_public_base_url(clean_env, tmp_path):
    with pytest.raises(ConfigurationError, match="BOOKING_PUBLIC_BASE_URL"):
        create_app({"SECRET_KEY": "c" * 64}, instance_path=str(tmp_path))
    with pytest.raises(ConfigurationError, match="BOOKING_PUBLIC_BASE_URL"):
        create_app({**PRODUCTION, "PUBLIC_BASE_URL": "termine.example.org"}, str(tmp_path))
    with pytest.raises(ConfigurationError, match="https"):
        create_app({**PRODUCTION, "PUBLIC_BASE_URL": "http://termine.example.org"}, str(tmp_path))


def test_production_trusts_the_public_host_only(clean_env, tmp_path):
    clean_env.setenv("BOOKING_PUBLIC_BASE_URL", "https://termine.example.org/")
    app = create_app({"SECRET_KEY": "c" * 64}, instance_path=str(tmp_path))
    assert app.config["PUBLIC_BASE_URL"] == "https://termine.example.org"
    assert app.config["TRUSTED_HOSTS"] == ["termine.example.org"]


@pytest.mark.parametrize(
    "value",
    ['["termine.example.org", "intern.example.org"]', "termine.example.org, intern.example.org"],
)
def test_trusted_hosts_from_the_environment_as_json_or_comma_separated(clean_env, tmp_path, value):
    clean_env.setenv("BOOKING_TRUSTED_HOSTS", value)
    app = create_app(PRODUCTION, instance_path=str(tmp_path))
    assert app.config["TRUSTED_HOSTS"] == ["termine.example.org", "intern.example.org"]


def test_development_trusts_localhost_and_the_public_host(clean_env, tmp_path):
    app = create_app(
        {"ENVIRONMENT": "development", "PUBLIC_BASE_URL": "http://termine.test:8080"},
        instance_path=str(tmp_path),
    )
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1", "termine.test"]
    app = create_app({"ENVIRONMENT": "development"}, instance_path=str(tmp_path))
    assert app.config["PUBLIC_BASE_URL"] == "http://127.0.0.1:5000"
    assert app.config["TRUSTED_HOSTS"] == ["localhost", "127.0.0.1"]


def test_an_empty_host_list_does_not_let_every_host_in(clean_env, tmp_path):
    clean_env.setenv("BOOKING_TRUSTED_HOSTS", "[]")
    app = create_app(PRODUCTION, instance_path=str(tmp_path))
    assert app.config["TRUSTED_HOSTS"] == ["termine.example.org"]


def test_links_come_from_the_public_base_url(clean_env, tmp_path):
    from booking.core.urls import external_url

    app = create_app(
        {"ENVIRONMENT": "testing", "PUBLIC_BASE_URL": "https://example.org/termine/"},
        instance_path=str(tmp_path),
    )
    with app.test_request_context("/", headers={"Host": "localhost"}):
        assert external_url("public.manage", token="abc") == (
            "https://example.org/termine/manage/abc"
        )
    with app.app_context():  # outside a request too (the worker, the CLI)
        assert external_url("schedule.feed_ics", token="t") == (
            "https://example.org/termine/calendar/feed/t.ics"
        )


# --- gunicorn: several workers need a shared rate-limit storage ------------------------------

ROOT = Path(__file__).resolve().parents[1]


def gunicorn_hooks() -> dict:
    namespace: dict = {}
    source = (ROOT / "gunicorn.conf.py").read_text()
    exec(compile(source, "gunicorn.conf.py", "exec"), namespace)  # noqa: S102 (our own config)
    return namespace


def production_env(env, tmp_path, **extra) -> None:
    env.setenv("BOOKING_SECRET_KEY", "d" * 64)
    env.setenv("BOOKING_PUBLIC_BASE_URL", "https://termine.example.org")
    env.setenv("BOOKING_SQLALCHEMY_DATABASE_URI", f"sqlite:///{tmp_path / 'db.sqlite3'}")
    for key, value in extra.items():
        env.setenv(key, value)


def migrate(database_uri: str, tmp_path) -> None:
    from flask_migrate import upgrade

    app = create_app(
        {"ENVIRONMENT": "testing", "SQLALCHEMY_DATABASE_URI": database_uri},
        instance_path=str(tmp_path / "migrate-instance"),
    )
    with app.app_context():
        upgrade()
        from booking.extensions import db

        db.engine.dispose()


def test_gunicorn_refuses_several_workers_with_memory_storage(clean_env, tmp_path):
    production_env(clean_env, tmp_path)
    migrate(f"sqlite:///{tmp_path / 'db.sqlite3'}", tmp_path)
    on_starting = gunicorn_hooks()["on_starting"]
    with pytest.raises(ConfigurationError, match="BOOKING_RATELIMIT_STORAGE_URI"):
        on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=4)))
    on_starting(SimpleNamespace(cfg=SimpleNamespace(workers=1)))  # one worker counts for all


def test_development_may_run_several_workers_with_memory_storage(clean_env, tmp_path):
    production_env(clean_env, tmp_path, BOOKING_ENVIRONMENT="development")
    gunicorn_hooks()["on_starting"](SimpleNamespace(cfg=SimpleNamespace(workers=4)))


def test_shared_storage_allows_several_workers():
    config = {"ENVIRONMENT": "production", "RATELIMIT_ENABLED": True}
    check_rate_limit_storage({**config, "RATELIMIT_STORAGE_URI": "redis://r:6379/0"}, 9)
    check_rate_limit_storage({**config, "RATELIMIT_STORAGE_URI": "memory://"}, 1)
    with pytest.raises(ConfigurationError, match="BOOKING_RATELIMIT_STORAGE_URI"):
        check_rate_limit_storage({**config, "RATELIMIT_STORAGE_URI": "memory://"}, 2)


def test_workers_come_from_the_environment(clean_env):
    clean_env.delenv("GUNICORN_WORKERS", raising=False)
    clean_env.setenv("WEB_CONCURRENCY", "3")
    assert gunicorn_hooks()["workers"] == 3
    clean_env.setenv("GUNICORN_WORKERS", "2")
    assert gunicorn_hooks()["workers"] == 2


def test_gunicorn_itself_stops_with_the_message(clean_env, tmp_path):
    # The real server: the hook runs before any socket is bound, so nothing is served.
    env = {
        **os.environ,
        "BOOKING_ENVIRONMENT": "production",
        "BOOKING_SECRET_KEY": "e" * 64,
        "BOOKING_PUBLIC_BASE_URL": "https://termine.example.org",
        "BOOKING_SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "BOOKING_RATELIMIT_STORAGE_URI": "memory://",
        "GUNICORN_CMD_ARGS": "--workers 3 --bind 127.0.0.1:0",
    }
    result = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "BOOKING_RATELIMIT_STORAGE_URI" in result.stderr
