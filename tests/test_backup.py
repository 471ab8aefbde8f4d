"""`flask --app wsgi backup`, then the restore of docs/deployment.md: the data comes back.

On SQLite the backup is SQLite's online backup API and the restore a copy of the file; on
PostgreSQL (tests/pg_run.py) the backup is pg_dump --format=custom and the restore pg_restore
into an empty database.
"""

import os
import re
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from booking import create_app
from booking.extensions import db
from booking.offices.models import Office
from booking.ops.backup import pg_dump_command
from tests.conftest import make_test_config


def restore(backup: Path, database_uri: str, tmp_path: Path) -> tuple[str, callable]:
    """The documented restore, into a new database; returns its URI and a clean-up."""
    url = make_url(database_uri)
    if url.get_backend_name() == "sqlite":
        target = tmp_path / "restored.sqlite3"
        shutil.copyfile(backup, target)  # docs: stop the app, copy the file back
        return f"sqlite:///{target}", lambda: None
    name = f"{url.database}_restored_{secrets.token_hex(3)}"
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(False)
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}" OWNER "{url.username}"')
    target = url.set(database=name)
    libpq = target.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute("CREATE EXTENSION btree_gist")
    # The commands of docs/deployment.md, Backups and restore.
    subprocess.run(
        [
            "pg_restore",
            "--no-owner",
            "--no-comments",
            f"--role={url.username}",
            "--exit-on-error",
            f"--dbname={libpq}",
            str(backup),
        ],
        check=True,
        capture_output=True,
        text=True,
    )

    def drop():
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return target.render_as_string(hide_password=False), drop


def needs_pg_dump(database_uri: str) -> None:
    if make_url(database_uri).get_backend_name() == "postgresql" and not shutil.which("pg_dump"):
        pytest.skip("pg_dump is not installed")


def test_backup_then_change_then_restore_finds_the_backed_up_data(
    app, runner, make_office, tmp_path, database_uri
):
    needs_pg_dump(database_uri)
    office = make_office(slug="vor-der-sicherung", name="Vor der Sicherung")
    folder = tmp_path / "backups"
    result = runner.invoke(args=["backup", str(folder)])
    assert result.exit_code == 0, result.output
    [backup] = folder.iterdir()
    assert result.output.strip() == f"backup written: {backup}"
    assert re.fullmatch(r"sprechstunde-\d{8}T\d{6}Z\.(sqlite3|dump)", backup.name)
    assert backup.stat().st_mode & 0o777 == 0o600  # families' data: the service account only

    office.name = "Nach der Sicherung"  # changes made after the backup …
    make_office(slug="nach-der-sicherung")
    db.session.commit()

    restored_uri, drop = restore(backup, database_uri, tmp_path)
    try:
        restored = create_app(
            make_test_config(restored_uri), instance_path=str(tmp_path / "restored-instance")
        )
        with restored.app_context():
            offices = {o.slug: o.name for o in db.session.scalars(select(Office))}
            assert offices == {"vor-der-sicherung": "Vor der Sicherung"}  # … are not in it
            ready = restored.test_client().get("/readyz")
            assert ready.status_code == 200, ready.json  # the schema came back whole
            db.session.remove()
            db.engine.dispose()
    finally:
        drop()
    with app.app_context():  # the live database kept the change
        assert db.session.scalar(select(Office.name).where(Office.id == office.id)) == (
            "Nach der Sicherung"
        )


def test_sqlite_backup_is_consistent_while_another_writer_is_inside_a_transaction(
    app_factory, tmp_path
):
    source = tmp_path / "live.sqlite3"
    with sqlite3.connect(source) as connection:
        connection.execute("CREATE TABLE t (n INTEGER)")
        connection.execute("INSERT INTO t VALUES (1)")
    writer = sqlite3.connect(source, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO t VALUES (2)")  # not committed while the backup runs
    try:
        app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{source}")
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "out")])
    finally:
        writer.execute("ROLLBACK")
        writer.close()
    assert result.exit_code == 0, result.output
    [backup] = (tmp_path / "out").iterdir()
    with sqlite3.connect(backup) as copy:
        assert copy.execute("SELECT n FROM t").fetchall() == [(1,)]
    assert not list((tmp_path / "out").glob("*.partial"))


def test_backup_defaults_to_the_instance_folder(app_factory, tmp_path):
    source = tmp_path / "default.sqlite3"
    sqlite3.connect(source).close()
    app = app_factory(SQLALCHEMY_DATABASE_URI=f"sqlite:///{source}")
    result = app.test_cli_runner().invoke(args=["backup"])
    assert result.exit_code == 0, result.output
    assert len(list(Path(app.instance_path, "backups").glob("sprechstunde-*.sqlite3"))) == 1


def test_postgresql_without_pg_dump_says_what_to_do(app_factory, monkeypatch, tmp_path):
    app = app_factory(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://u:pw@db.invalid/sprechstunde")
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_dump anywhere
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "out")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
    assert "pw" not in result.output


def test_pg_dump_gets_the_password_by_environment_never_on_its_command_line(tmp_path):
    command, env = pg_dump_command(
        "postgresql+psycopg://booking:s3cret-pw@db.example.org:5433/sprechstunde", tmp_path / "x"
    )
    assert "s3cret-pw" not in " ".join(command)
    assert env["PGPASSWORD"] == "s3cret-pw"
    assert command[-1] == "postgresql://booking@db.example.org:5433/sprechstunde"
    assert os.environ.get("PGPASSWORD") != "s3cret-pw"
