"""Fixtures in the style of Flask's tutorial: app, client, runner and an auth helper.

The schema is made once per run by the real migrations; each test then gets an app on
that database, and every row is deleted after the test. Set BOOKING_TEST_DATABASE_URI
to run the suite on PostgreSQL (see tests/pg_run.py).
"""

import os
import re
from datetime import time

import pytest
from flask import has_app_context
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import text

from booking import create_app
from booking.audit.models import AuditEvent, AuditPurgeMarker
from booking.auth.models import Role, StaffUser
from booking.auth.passwords import hash_password
from booking.extensions import db
from booking.offices.models import Office, OfficeKind, Service
from booking.schedule.models import ScheduleVersion, WeeklyHours

PASSWORD = "correct horse battery"

FAST_ARGON2 = {"ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory) -> str:
    uri = os.environ.get("BOOKING_TEST_DATABASE_URI")
    if not uri:
        uri = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(
        {"TESTING": True, "ENVIRONMENT": "testing", "SQLALCHEMY_DATABASE_URI": uri},
        instance_path=str(tmp_path_factory.mktemp("instance")),
    )
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return uri


def end_test_transaction() -> None:
    """Commit the test's own session before a request, so the test reads fresh data after it
    (SQLite gives a transaction one snapshot; a request commits in a session of its own)."""
    if has_app_context():
        db.session.commit()


class IsolatedClient(FlaskClient):
    """Each request in its own app context: its own `g` and database session, as in production."""

    def open(self, *args, **kwargs):
        end_test_transaction()
        with self.application.app_context():
            return super().open(*args, **kwargs)


class IsolatedCliRunner(FlaskCliRunner):
    def invoke(self, *args, **kwargs):
        end_test_transaction()
        with self.app.app_context():
            return super().invoke(*args, **kwargs)


def make_test_config(database_uri: str, **overrides) -> dict:
    config = {
        "TESTING": True,
        "ENVIRONMENT": "testing",
        "SECRET_KEY": "test-secret-key",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": True,
        "RATELIMIT_STORAGE_URI": "memory://",
        **FAST_ARGON2,
    }
    config.update(overrides)
    return config


def clear_database() -> None:
    db.session.remove()
    with db.engine.begin() as connection:
        # The audit log is append-only: unlock it as the purge does (booking/audit/services.py).
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL sprechstunde.purge = 'on'"))
        else:
            connection.execute(AuditPurgeMarker.__table__.insert().values(id=1))
        connection.execute(AuditEvent.__table__.delete())
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())
        # The one row the migration inserts (booking/schedule/inputs_cache.py needs it).
        connection.execute(ScheduleVersion.__table__.insert().values(id=1, version=0))


@pytest.fixture
def app_factory(database_uri, tmp_path):
    """Build an app with extra config; the database is emptied after the test."""
    apps = []

    def build(**overrides):
        app = create_app(
            make_test_config(database_uri, **overrides), instance_path=str(tmp_path / "instance")
        )
        app.test_client_class = IsolatedClient
        app.test_cli_runner_class = IsolatedCliRunner
        apps.append(app)
        return app

    yield build
    for app in apps:
        with app.app_context():
            if app.config["SQLALCHEMY_DATABASE_URI"] == database_uri:
                clear_database()
            db.engine.dispose()


@pytest.fixture
def app(app_factory):
    app = app_factory()
    with app.app_context():
        yield app


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_office(app):
    counter = iter(range(1, 10_000))

    def make(**values) -> Office:
        n = next(counter)
        office = Office(
            slug=values.pop("slug", f"office-{n}"),
            name=values.pop("name", f"Office {n}"),
            kind=values.pop("kind", OfficeKind.WELCOME_POINT),
            address=values.pop("address", "Ratinger Straße, Düsseldorf"),
            operator=values.pop("operator", "Diakonie Düsseldorf"),
            **values,
        )
        db.session.add(office)
        db.session.commit()
        return office

    return make


@pytest.fixture
def make_service(app):
    counter = iter(range(1, 10_000))

    def make(office: Office, **values) -> Service:
        n = next(counter)
        service = Service(
            office=office,
            slug=values.pop("slug", f"service-{n}"),
            name=values.pop("name", f"Beratung {n}"),
            minutes=values.pop("minutes", 30),
            **values,
        )
        db.session.add(service)
        db.session.commit()
        return service

    return make


@pytest.fixture
def make_staff(app):
    counter = iter(range(1, 10_000))

    def make(role: Role = Role.CASEWORKER, offices=(), password: str = PASSWORD, **values):
        n = next(counter)
        user = StaffUser(
            email=values.pop("email", f"staff{n}@example.org"),
            name=values.pop("name", f"Staff {n}"),
            role=role,
            password_hash=hash_password(password),
            offices=list(offices),
            **values,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


class AuthActions:
    def __init__(self, client):
        self._client = client

    def login(self, email: str, password: str = PASSWORD, follow_redirects: bool = False):
        return self._client.post(
            "/login",
            data={"email": email, "password": password},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        return self._client.post("/logout")


@pytest.fixture
def auth(client):
    return AuthActions(client)


CSRF_PATTERN = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    match = CSRF_PATTERN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


@pytest.fixture
def bookable_service(make_office, make_service, make_staff):
    """The § 35a unit: one caseworker, Thursdays 09-12, a 45-minute service plus 15."""
    office = make_office(
        slug="eingliederungshilfe",
        name="Eingliederungshilfe",
        kind=OfficeKind.UNIT,
        address="Willi-Becker-Allee 7, 40227 Düsseldorf",
    )
    service = make_service(
        office,
        slug="beratung-35a",
        name="Beratung und Antragsaufnahme",
        minutes=45,
        buffer_minutes=15,
        description="Berichte von Schule und Kita",
    )
    user = make_staff(Role.CASEWORKER, offices=[office], name="Katrin Becker")
    user.services = [service]
    db.session.add(
        WeeklyHours(
            staff_id=user.id, office_id=office.id, weekday=3, start_time=time(9), end_time=time(12)
        )
    )
    db.session.commit()
    return service
