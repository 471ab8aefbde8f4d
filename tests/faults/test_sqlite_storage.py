"""The SQLite file cannot be written (read-only, or the disk is full): bookings are refused
with a clear message in the family's language, never a 500 page, and nothing is half-written.

Root ignores file permissions, so the faults are made the way SQLite itself reports them: a
copy of the database opened read-only (`mode=ro`: "attempt to write a readonly database"),
and a copy whose file may not grow (`PRAGMA max_page_count`: "database or disk is full").
"""

import contextlib
import sqlite3
from pathlib import Path

import pytest
from freezegun import freeze_time
from sqlalchemy import event

from booking.extensions import db

NOW = "2027-03-01 07:00:00"  # Monday, 08:00 in Düsseldorf
SLOT = "2027-03-04T10:00:00+01:00"
TABLES = ("appointment", "outbox_message", "audit_event", "idempotent_answer", "form_key")


@pytest.fixture
def sqlite_copy(database_uri, bookable_service, tmp_path):
    """A copy of the test database holding one bookable service (SQLite runs only)."""
    if not database_uri.startswith("sqlite:"):
        pytest.skip("the SQLite file's faults: SQLite runs only")
    db.session.commit()
    source = sqlite3.connect(database_uri.removeprefix("sqlite:///"))
    copy = tmp_path / "copy.sqlite3"
    with sqlite3.connect(copy) as target:
        source.backup(target)
    source.close()
    return copy


def row_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        names = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
        return {
            table: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
            for table in TABLES
            if table in names
        }


def form(**values) -> dict:
    return {
        "start": SLOT,
        "form_key": "f" * 32,
        "name": "Familie Yılmaz",
        "email": "yilmaz@example.org",
        "phone": "",
        "language": "tr",
        "interpreter_needed": "y",
        "note": "",
        "privacy_consent": "y",
        "website": "",
        **values,
    }


API_BOOKING = {
    "service": "beratung-35a",
    "start": SLOT,
    "name": "Familie Haddad",
    "email": "haddad@example.org",
    "privacy_consent": True,
}


def read_only(app_factory, path: Path):
    return app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{path}?mode=ro&uri=true")


def disk_full(app_factory, path: Path):
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}")
    with app.app_context():
        # The smallest pages and no free ones: a booking's rows need pages the file may not
        # grow by any more. (The page size changes only outside WAL mode.) The outbox's last
        # page is filled with small sent messages first: a booking's queued message (under
        # 200 bytes since messages are rendered when sent) must not fit beside them.
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("PRAGMA journal_mode=DELETE")
        connection.execute("PRAGMA page_size=512")
        connection.execute("VACUUM")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")
        with contextlib.suppress(sqlite3.OperationalError):  # "database or disk is full"
            while True:
                connection.execute(
                    "INSERT INTO outbox_message (created_at, kind, channel, recipient, subject,"
                    " body_text, status, attempts, next_attempt_at) VALUES ('2026-01-01',"
                    " 'x', 'email', 'x', '', '', 'sent', 1, '2026-01-01')"
                )
        connection.execute("PRAGMA journal_mode=WAL")
        connection.close()

        @event.listens_for(db.engine, "connect")
        def no_room(dbapi_connection, record):
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    return app


FAULTS = {"read-only": read_only, "disk full": disk_full}


@freeze_time(NOW)
@pytest.mark.parametrize("fault", FAULTS)
def test_the_booking_form_is_refused_in_the_familys_language(app_factory, sqlite_copy, fault):
    app = FAULTS[fault](app_factory, sqlite_copy)
    before = row_counts(sqlite_copy)
    with app.app_context():
        client = app.test_client()
        # Reading still works: the family sees the times and the form.
        assert client.get("/book/beratung-35a?lang=tr").status_code == 200
        answer = client.post("/book/beratung-35a/details?lang=tr", data=form())
        html = answer.get_data(as_text=True)
        assert answer.status_code == 503, html
        assert "Traceback" not in html
        assert "Randevunuz kaydedilemedi" in html  # "Your appointment could not be saved"
        assert "Retry-After" in answer.headers
    assert row_counts(sqlite_copy) == before


@freeze_time(NOW)
@pytest.mark.parametrize("fault", FAULTS)
def test_the_api_refuses_the_booking_with_503(app_factory, sqlite_copy, fault):
    app = FAULTS[fault](app_factory, sqlite_copy)
    before = row_counts(sqlite_copy)
    with app.app_context():
        client = app.test_client()
        answer = client.post(
            "/api/v1/bookings",
            json=API_BOOKING,
            headers={"Idempotency-Key": "fault-1", "Accept-Language": "uk"},
        )
        assert answer.status_code == 503, answer.get_data(as_text=True)
        assert answer.json["error"] == "unavailable"
        assert "Retry-After" in answer.headers
    assert row_counts(sqlite_copy) == before


@freeze_time(NOW)
def test_after_the_fault_the_same_booking_goes_through(app_factory, sqlite_copy):
    app = read_only(app_factory, sqlite_copy)
    with app.app_context():
        assert app.test_client().post("/book/beratung-35a/details", data=form()).status_code == 503
    repaired = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{sqlite_copy}")
    with repaired.app_context():
        answer = repaired.test_client().post("/book/beratung-35a/details", data=form())
        assert answer.status_code == 303
    assert row_counts(sqlite_copy)["appointment"] == 1
