import pytest

from booking import ConfigurationError, create_app
from booking.config import DEV_SECRET_KEY


def write_instance_config(path, text: str) -> str:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.py").write_text(text)
    return str(path)


@pytest.fixture
def clean_env(monkeypatch):
    for key in ("BOOKING_ENVIRONMENT", "BOOKING_SECRET_KEY", "BOOKING_SQLALCHEMY_DATABASE_URI"):
        monkeypatch.delenv(key, raising=False)
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
