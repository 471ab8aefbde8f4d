"""`flask --app wsgi finder check-streets [FILE]`: check a street directory before using it."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from booking.offices.quarters import load_quarters
from booking.offices.streets import read_register

finder_cli = AppGroup("finder", help="The Welcome Point finder's data.")


@finder_cli.command("check-streets")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
def check_streets_command(file: Path | None) -> None:
    """Check a street register (CSV; default: the file BOOKING_STREET_REGISTER names) and print
    its counts and every line that cannot be used. Exit code 1 on any problem."""
    if file is None:
        setting = current_app.config.get("STREET_REGISTER")
        if not setting:
            raise click.UsageError("Give a FILE, or set BOOKING_STREET_REGISTER.")
        file = Path(str(setting))
        if not file.is_absolute():
            file = Path(current_app.instance_path) / file
    quarters = load_quarters()
    register = read_register(file, quarters)
    click.echo(f"{file}:")
    click.echo(f"  {register.rows} lines read, {len(register.streets)} streets")
    click.echo(f"  {register.quarters_covered} of {len(quarters.quarters)} quarters have a street")
    if register.duplicates:
        click.echo(f"  {register.duplicates} repeated lines (same street and quarter) merged")
    several = sum(1 for street in register.streets if len(street.quarters) > 1)
    if several:
        click.echo(f"  {several} streets lie in more than one quarter")
    if register.problems:
        click.echo(
            f"{len(register.problems)} problem(s) (a line with a problem is not used):", err=True
        )
        for problem in register.problems:
            click.echo(f"  - {problem}", err=True)
        raise click.exceptions.Exit(1)
    click.echo("No problems.")
