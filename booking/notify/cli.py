import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from booking.db import utcnow
from booking.extensions import db
from booking.notify.sender import send_pending
from booking.notify.services import queue_daily_agendas, queue_reminders
from booking.privacy.services import purge_personal_data
from booking.waitlist.services import process_waitlist

outbox_cli = AppGroup("outbox", help="Send the messages waiting in the outbox.")
reminders_cli = AppGroup("reminders", help="Queue appointment reminders.")
agenda_cli = AppGroup("agenda", help="Queue the daily agenda emails of staff who opted in.")


def run_send() -> None:
    report = send_pending(utcnow())
    click.echo(f"sent {report.sent}, retry later {report.retried}, failed {report.failed}")
    for line in report.errors:
        click.echo(f"  {line}", err=True)


@outbox_cli.command("send")
def outbox_send() -> None:
    """Send every due message once (safe to run from several hosts at once)."""
    run_send()


@reminders_cli.command("queue")
def reminders_queue() -> None:
    """Queue reminders for appointments in the reminder window (running twice is harmless)."""
    queued = queue_reminders(utcnow())
    db.session.commit()
    click.echo(f"queued {queued} reminder(s)")


@agenda_cli.command("queue")
def agenda_queue() -> None:
    """Queue today's agenda for every caseworker who asked for it (once a day)."""
    queued = queue_daily_agendas(utcnow())
    db.session.commit()
    click.echo(f"queued {queued} agenda(s)")


@click.command("worker")
@click.option("--once", is_flag=True, help="One round, then exit (for tests and cron).")
@with_appcontext
def worker_command(once: bool) -> None:
    """Queue reminders, run the waiting list, send the outbox and erase expired personal
    data, in a loop."""
    interval = int(current_app.config["WORKER_INTERVAL_SECONDS"])
    while True:
        queued = queue_reminders(utcnow())
        db.session.commit()
        if queued:
            click.echo(f"queued {queued} reminder(s)")
        offered = process_waitlist(utcnow())  # holds past their time, entries past their days
        db.session.commit()
        if offered.anything:
            click.echo(offered.summary())
        run_send()
        purged = purge_personal_data(utcnow())
        db.session.commit()
        if purged.anything:  # callback requests and the walk-in queue too
            click.echo(purged.summary())
        if once:
            return
        time.sleep(interval)
