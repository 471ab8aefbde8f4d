import os
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from booking.db import utcnow
from booking.ops.backup import BackupError, backup


@click.command("backup")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@with_appcontext
def backup_command(directory: str | None) -> None:
    """Copy the database to a timestamped file in DIRECTORY (default: instance/backups).

    SQLite: the online backup API, safe while the app runs. PostgreSQL: pg_dump --format=custom.
    """
    target_dir = Path(directory or os.path.join(current_app.instance_path, "backups"))
    try:
        path = backup(current_app.config["SQLALCHEMY_DATABASE_URI"], target_dir, utcnow())
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backup written: {path}")
