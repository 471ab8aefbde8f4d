"""Retention rules. Pure: no Flask, no database; `now` comes from the caller.

One table (RULES) names every kind of record that holds personal data, how many days it is
kept and from when; the configuration (`RETENTION`, a dict of rule name -> days) overrides the
defaults, and the README and the privacy page show the table as resolved here.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Rule:
    key: str
    default_days: int
    # The single setting that set this period before the table existed (still honoured).
    alias: str | None = None


# Order is the order of the table on the privacy page and in the README.
RULES: tuple[Rule, ...] = (
    Rule("appointment_details", 180, "RETENTION_DAYS_AFTER_APPOINTMENT"),
    Rule("cancelled_appointments", 30),
    Rule("callback_requests", 30, "CALLBACK_RETENTION_DAYS_AFTER_CLOSING"),
    Rule("walk_in_queue", 0),  # days after the day of the visit: 0 is the end of that day
    Rule("waitlist_entries", 30),  # days after the entry ended (left, booked or expired)
    Rule("outbox_messages", 30, "OUTBOX_RETENTION_DAYS"),
    Rule("audit_entries", 365),
    Rule("login_records", 90),
    Rule("accessibility_feedback", 180, "ACCESSIBILITY_FEEDBACK_RETENTION_DAYS"),
)
RULE_KEYS = tuple(rule.key for rule in RULES)
# Login records are these audit actions (who logged in or failed to, from the audit log).
LOGIN_ACTIONS = ("auth.login", "auth.login_failed", "auth.logout", "auth.timeout")


class RetentionError(ValueError):
    """A retention setting that cannot be used (named in the message)."""


def _days(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise RetentionError(f"{name} must be a whole number of days, got {value!r}")
    try:
        days = int(value)
    except ValueError:
        raise RetentionError(f"{name} must be a whole number of days, got {value!r}") from None
    if not 0 <= days <= 3650:
        raise RetentionError(f"{name} must be between 0 and 3650 days, got {days}")
    return days


def resolve(table: Mapping[str, Any] | None, aliases: Mapping[str, Any]) -> dict[str, int]:
    """The effective table: defaults, then the old single settings, then `RETENTION` entries.

    Unknown rule names are refused, so a typo never silently keeps data longer.
    """
    table = dict(table or {})
    unknown = sorted(set(table) - set(RULE_KEYS))
    if unknown:
        raise RetentionError(
            f"RETENTION has unknown rule(s) {', '.join(unknown)}; known: {', '.join(RULE_KEYS)}"
        )
    result: dict[str, int] = {}
    for rule in RULES:
        days = rule.default_days
        if rule.alias is not None and aliases.get(rule.alias) is not None:
            days = _days(rule.alias, aliases[rule.alias])
        if table.get(rule.key) is not None:
            days = _days(f"RETENTION[{rule.key!r}]", table[rule.key])
        result[rule.key] = days
    return result


def appointment_cutoff(now: datetime, retention_days: int) -> datetime:
    """Appointments that ended before this instant lose the family's personal data."""
    return now - timedelta(days=retention_days)


def cancelled_cutoff(now: datetime, retention_days: int) -> datetime:
    """Appointments cancelled before this instant lose the family's personal data."""
    return now - timedelta(days=retention_days)


def callback_cutoff(now: datetime, retention_days: int) -> datetime:
    """Callback requests closed before this instant lose the caller's personal data."""
    return now - timedelta(days=retention_days)


def outbox_cutoff(now: datetime, retention_days: int) -> datetime:
    """Sent or failed messages created before this instant are deleted."""
    return now - timedelta(days=retention_days)


def queue_cutoff_day(now: datetime, retention_days: int = 0) -> date:
    """Walk-in queue entries of days before this Berlin day lose names, notes and links.

    Berlin calendar days, so the end of the day is local midnight also on the days when the
    clocks change (23 or 25 hours long).
    """
    return now.astimezone(BERLIN).date() - timedelta(days=retention_days)


def audit_cutoff(now: datetime, retention_days: int) -> datetime:
    """Audit entries made before this instant are deleted."""
    return now - timedelta(days=retention_days)


def login_cutoff(now: datetime, retention_days: int) -> datetime:
    """Records of logins, logouts and failed logins made before this instant are deleted."""
    return now - timedelta(days=retention_days)
