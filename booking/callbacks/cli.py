"""`flask --app wsgi callbacks new-key OFFICE_SLUG`: a key for a telephone system."""

import click
from flask.cli import AppGroup
from sqlalchemy import select

from booking.callbacks.services import create_api_key
from booking.extensions import db
from booking.offices.models import Office

callbacks_cli = AppGroup("callbacks", help="Callback requests: keys for telephone systems.")


@callbacks_cli.command("new-key")
@click.argument("office_slug")
@click.option("--label", default="Telefonanlage", show_default=True, help="Name of the key.")
def new_key_command(office_slug: str, label: str) -> None:
    """Make a key for POST /api/v1/callbacks of one office; prints it once, as the last line."""
    office = db.session.scalar(select(Office).where(Office.slug == office_slug))
    if office is None:
        click.echo(f"No office with the slug {office_slug!r}.", err=True)
        raise click.exceptions.Exit(1)
    key, secret = create_api_key(office, label, actor=None)
    db.session.commit()
    click.echo(f"Key {key.prefix}… for {office.slug} ({label}); it is shown only now:")
    click.echo(secret)
