from pathlib import Path

import click
from flask.cli import AppGroup

from booking.callbacks.demo import create_demo_callbacks
from booking.extensions import db
from booking.reports.demo import create_demo_history
from booking.setup.demo_appointments import create_demo_appointments
from booking.setup.demo_waitlist import create_demo_waitlist, held_offers
from booking.setup.loader import SetupFileError, read_setup_file
from booking.setup.services import apply_setup, database_is_empty
from booking.waiting.demo import create_demo_queue

DEMO_FILE = Path(__file__).with_name("demo.toml")

setup_cli = AppGroup("setup", help="Set up offices, services, staff and hours from a file.")


def load_file(path: Path) -> None:
    try:
        plan = read_setup_file(path)
        report = apply_setup(plan)
    except SetupFileError as error:
        db.session.rollback()
        click.echo(f"Refused {path}; nothing was written:", err=True)
        for problem in error.problems:
            click.echo(f"  - {problem}", err=True)
        raise click.exceptions.Exit(1) from error
    db.session.commit()
    if report.touched:
        for line in report.lines():
            click.echo(line)
    else:
        click.echo("Nothing to change: the database already matches the file.")


@setup_cli.command("load")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def load_command(file: Path) -> None:
    """Create or update everything in FILE (TOML). Loading it twice changes nothing."""
    load_file(file)


@setup_cli.command("demo")
@click.option("--force", is_flag=True, help="Load even when the database has data.")
def demo_command(force: bool) -> None:
    """Load the Düsseldorf demo offices when the database is empty, and print demo logins."""
    if database_is_empty() or force:
        load_file(DEMO_FILE)
        made = create_demo_appointments()
        if made:
            click.echo(
                f"appointments: {made} invented, from last week to two weeks ahead, "
                "with absences, blocked time and closures"
            )
        click.echo(f"callback requests: {create_demo_callbacks()} invented (open, overdue, closed)")
        click.echo(f"walk-in queue: {create_demo_queue()} people at the § 35a unit today")
        click.echo(
            f"waiting lists: {create_demo_waitlist()} families waiting at two services, "
            f"{held_offers()} freed time(s) held for one of them"
        )
        click.echo(f"statistics: {create_demo_history()} invented records of the last months")
    else:
        click.echo("The database has data already; demo file not loaded.")
    plan = read_setup_file(DEMO_FILE)
    click.echo("")
    click.echo("Demo logins (only for trying the app out):")
    for staff in plan.staff:
        if staff.password:
            click.echo(f"  {staff.role:<14} {staff.email:<40} {staff.password}")
