"""Retention rules. Pure: no Flask, no database; `now` comes from the caller."""

from datetime import datetime, timedelta


def appointment_cutoff(now: datetime, retention_days: int) -> datetime:
    """Appointments that ended before this instant lose the family's personal data."""
    return now - timedelta(days=retention_days)


def outbox_cutoff(now: datetime, retention_days: int) -> datetime:
    """Sent or failed messages created before this instant are deleted."""
    return now - timedelta(days=retention_days)
