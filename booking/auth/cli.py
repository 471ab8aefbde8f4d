import click
from flask.cli import AppGroup

from booking.admin.services import AdminError, save_staff
from booking.auth.models import Role
from booking.auth.services import AccountError, check_email, find_staff_by_email, set_password
from booking.extensions import db

users_cli = AppGroup("users", help="Manage staff accounts.")


@users_cli.command("set-password")
@click.argument("email")
@click.password_option(prompt="New password", help="Prompted for when not given.")
def set_password_command(email: str, password: str) -> None:
    """Set the password of the staff account EMAIL (ends its sessions)."""
    user = find_staff_by_email(email)
    if user is None:
        raise click.ClickException(f"No staff account with the email {email}.")
    try:
        set_password(user, password)
    except AccountError as error:
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Password set for {user.email}.")


@users_cli.command("create")
@click.argument("email")
@click.option("--name", required=True)
@click.option("--role", type=click.Choice([role.value for role in Role]), default="admin")
@click.password_option(prompt="Password")
def create_command(email: str, name: str, role: str, password: str) -> None:
    """Create a staff account (for the first admin of a new installation)."""
    try:
        email = check_email(email)
        if find_staff_by_email(email) is not None:
            raise click.ClickException(f"A staff account with the email {email} exists already.")
        user = save_staff(None, {"email": email, "name": name, "role": role}, actor=None)
        set_password(user, password)
    except (AccountError, AdminError) as error:
        raise click.ClickException(str(error.message)) from error
    db.session.commit()
    click.echo(f"Created {role} {email}.")
