"""Retention of feedback on barriers. Pure: no Flask, no database; `now` comes from the caller."""

from datetime import datetime, timedelta


def feedback_cutoff(now: datetime, retention_days: int) -> datetime:
    """Feedback that came before this instant loses the sender's name, contact and message."""
    return now - timedelta(days=retention_days)
