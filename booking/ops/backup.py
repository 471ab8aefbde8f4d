"""Backups: SQLite's online backup API (consistent while the app writes); pg_dump for PostgreSQL."""

import os
import shutil
import sqlite3
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL, make_url


class BackupError(RuntimeError):
    pass


def backup_name(now: datetime, suffix: str) -> str:
    return f"sprechstunde-{now.strftime('%Y%m%dT%H%M%SZ')}{suffix}"


def _private_file(path: Path) -> None:
    # Families' data: readable by the service account only.
    os.chmod(path, 0o600)


def backup_sqlite(database_path: str, directory: Path, now: datetime) -> Path:
    if not os.path.exists(database_path):
        raise BackupError(f"no SQLite database at {database_path}")
    target = directory / backup_name(now, ".sqlite3")
    partial = target.with_name(target.name + ".partial")
    source = sqlite3.connect(database_path)
    try:
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # page by page; writers may go on meanwhile
            (check,) = copy.execute("PRAGMA quick_check").fetchone()
        finally:
            copy.close()
    finally:
        source.close()
    if check != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"the copy failed its check: {check}")
    _private_file(partial)
    partial.rename(target)  # only a whole, checked copy gets the final name
    return target


def pg_dump_command(uri: str, target: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments and environment (the password in PGPASSWORD, never in argv)."""
    url = make_url(uri)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    libpq = URL.create(
        "postgresql", url.username, None, url.host, url.port, url.database, url.query
    ).render_as_string(hide_password=False)
    return ["pg_dump", "--format=custom", "--no-owner", f"--file={target}", libpq], env


def backup_postgresql(uri: str, directory: Path, now: datetime) -> Path:
    if shutil.which("pg_dump") is None:
        raise BackupError(
            "PostgreSQL: install pg_dump (Debian: postgresql-client), or run "
            "pg_dump --format=custom against BOOKING_SQLALCHEMY_DATABASE_URI yourself."
        )
    target = directory / backup_name(now, ".dump")
    partial = target.with_name(target.name + ".partial")
    command, env = pg_dump_command(uri, partial)
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump failed: {result.stderr.strip()}")
    _private_file(partial)
    partial.rename(target)
    return target


def backup(uri: str, directory: Path, now: datetime) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    url = make_url(uri)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise BackupError("an in-memory SQLite database cannot be backed up")
        return backup_sqlite(url.database, directory, now)
    if url.get_backend_name() == "postgresql":
        return backup_postgresql(uri, directory, now)
    raise BackupError(f"no backup for {url.get_backend_name()} databases")
