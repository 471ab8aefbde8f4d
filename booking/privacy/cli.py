import click
from flask.cli import AppGroup

from booking.db import utcnow
from booking.extensions import db
from booking.privacy.services import purge_personal_data

privacy_cli = AppGroup("privacy", help="Erase personal data after the retention period.")


@privacy_cli.command("purge")
def purge_command() -> None:
    """Erase families' personal data past the retention period (safe to run daily)."""
    report = purge_personal_data(utcnow())
    db.session.commit()
    click.echo(report.summary())
