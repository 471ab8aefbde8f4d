"""Retention rules. Pure: no Flask, no database; `now` comes from the caller."""

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


def appointment_cutoff(now: datetime, retention_days: int) -> datetime:
    """Appointments that ended before this instant lose the family's personal data."""
    return now - timedelta(days=retention_days)


def outbox_cutoff(now: datetime, retention_days: int) -> datetime:
    """Sent or failed messages created before this instant are deleted."""
    return now - timedelta(days=retention_days)


def queue_cutoff_day(now: datetime) -> date:
    """Walk-in queue entries of days before this Berlin day lose names, notes and links."""
    return now.astimezone(BERLIN).date()
