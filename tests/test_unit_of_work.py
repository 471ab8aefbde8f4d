"""One unit of work per request: the write lock first, one commit at the end, rollback on error."""

import sqlite3
import threading
import time

import pytest
from flask import abort
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from booking.audit.models import AuditEvent
from booking.core.transactions import begin_write, writes
from booking.extensions import db
from booking.offices.models import Office, OfficeKind


def count_offices(slug: str) -> int:
    db.session.rollback()
    return db.session.scalar(select(func.count()).select_from(Office).where(Office.slug == slug))


def add_office(slug: str) -> None:
    db.session.add(
        Office(slug=slug, name=slug, kind=OfficeKind.UNIT, address="Straße 1", operator="Stadt")
    )


@pytest.fixture
def probe_app(app_factory):
    """An app with a few test-only routes that write and then end in different ways."""
    app = app_factory()

    @app.post("/_probe/ok/<slug>")
    def probe_ok(slug):
        db.session.scalar(select(func.count()).select_from(Office))  # read, then write
        add_office(slug)
        db.session.flush()
        return "ok"

    @app.post("/_probe/refused/<slug>")
    def probe_refused(slug):
        add_office(slug)
        db.session.flush()
        return "refused, but the audit entry stays", 422

    @app.post("/_probe/crash/<slug>")
    def probe_crash(slug):
        add_office(slug)
        db.session.flush()
        raise RuntimeError("boom")

    @app.post("/_probe/abort/<slug>")
    def probe_abort(slug):
        add_office(slug)
        db.session.flush()
        abort(404)

    @app.post("/_probe/commit-fails/<slug>")
    def probe_commit_fails(slug):
        add_office(slug)
        session = db.session()

        def lost_connection():
            raise OperationalError("COMMIT", {}, Exception("server closed the connection"))

        session.commit = lost_connection  # this request's session only
        return "ok"

    @app.get("/_probe/read-then-write/<slug>")
    @writes
    def probe_get_writes(slug):
        db.session.scalar(select(func.count()).select_from(Office))
        add_office(slug)
        return "ok"

    from booking.core.access import public

    for endpoint in (
        "probe_ok",
        "probe_refused",
        "probe_crash",
        "probe_abort",
        "probe_commit_fails",
        "probe_get_writes",
    ):
        public(app.view_functions[endpoint])
    with app.app_context():
        yield app


def test_the_request_commits_once_at_the_end(probe_app):
    client = probe_app.test_client()
    assert client.post("/_probe/ok/a").status_code == 200
    assert count_offices("a") == 1


def test_a_refusal_answer_still_commits_what_the_view_kept(probe_app):
    client = probe_app.test_client()
    assert client.post("/_probe/refused/b").status_code == 422
    assert count_offices("b") == 1


def test_an_exception_rolls_back_everything_flushed(probe_app):
    probe_app.config["PROPAGATE_EXCEPTIONS"] = False
    client = probe_app.test_client()
    response = client.post("/_probe/crash/c")
    assert response.status_code == 500
    assert count_offices("c") == 0


def test_an_error_page_rolls_back(probe_app):
    client = probe_app.test_client()
    assert client.post("/_probe/abort/d").status_code == 404
    assert count_offices("d") == 0


def test_a_failed_commit_is_an_error_page_not_a_success(probe_app):
    client = probe_app.test_client()
    response = client.post("/_probe/commit-fails/e")
    assert response.status_code == 503
    assert response.get_data() != b"ok"
    assert count_offices("e") == 0


def test_begin_write_never_commits_flushed_work(app):
    db.session.commit()
    add_office("f")
    db.session.flush()
    with pytest.raises(RuntimeError):
        begin_write()
    db.session.rollback()
    assert count_offices("f") == 0


def test_begin_write_is_idempotent_inside_a_writing_transaction(app):
    db.session.commit()
    begin_write()
    add_office("g")
    db.session.flush()
    begin_write()  # already the writer: keeps the work
    db.session.commit()
    assert count_offices("g") == 1


def _sqlite_path(app) -> str | None:
    url = db.engine.url
    return url.database if url.get_backend_name() == "sqlite" else None


@pytest.mark.parametrize("path", ["/_probe/ok/h", "/_probe/read-then-write/h"])
def test_a_writer_waits_for_another_writer_instead_of_failing(probe_app, path):
    """SQLite: a request that read and then writes fails with "database is locked" when another
    writer committed in between; taking the lock first makes it wait its turn."""
    database = _sqlite_path(probe_app)
    if database is None:
        pytest.skip("SQLite's write lock only")
    other = sqlite3.connect(database, isolation_level=None, timeout=10)
    other.execute("BEGIN IMMEDIATE")
    other.execute(
        "INSERT INTO office (slug, name, kind, address, operator, public_notes, active, "
        "created_at, updated_at) VALUES ('other', 'o', 'unit', 'a', 'o', '', 1, "
        "'2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    )
    result = {}

    def request():
        with probe_app.app_context():
            result["status"] = probe_app.test_client().open(path, method=path_method(path))

    def path_method(p):
        return "GET" if "read-then-write" in p else "POST"

    thread = threading.Thread(target=request)
    thread.start()
    time.sleep(0.3)  # the request is now waiting for the lock (or, before the fix, has read)
    other.execute("COMMIT")
    other.close()
    thread.join(20)
    assert result["status"].status_code == 200
    assert count_offices("h") == 1
    assert count_offices("other") == 1


def test_a_get_view_that_audits_keeps_its_audit_entry(client, auth, make_staff, make_office):
    from booking.auth.models import Role

    office = make_office()
    make_staff(Role.ADMIN, email="admin@example.org", offices=[office])
    auth.login("admin@example.org")
    before = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert client.get(f"/staff/offices/{office.slug}").status_code == 200
    db.session.rollback()
    after = db.session.scalar(select(func.count()).select_from(AuditEvent))
    assert after == before + 1
