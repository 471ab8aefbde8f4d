"""Figures for the steering group, computed from non-personal facts. Pure: no Flask, no database.

The facts (booking/reports/facts.py) hold only what survives the privacy purge: office,
service, times, channel, language, interpreter need and outcome. A period is a range of
Berlin days; `now` comes from the caller (it decides which open callbacks are overdue).
"""

import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

BERLIN = ZoneInfo("Europe/Berlin")
# Counts from 1 to SMALL_COUNT - 1 are shown as "< 5"; a median, p90 or share from fewer cases
# is not shown at all, so no family can be singled out.
SMALL_COUNT = 5
SMALL_TEXT = "< 5"
SUPPRESSED_TEXT = "–"
# The longest period one page computes (a few years of an office's facts stay quick).
MAX_PERIOD_DAYS = 3 * 366


@dataclass(frozen=True)
class AppointmentFact:
    office_id: int
    service_id: int
    starts_at: datetime
    created_at: datetime
    channel: str  # online | phone | desk
    status: str  # booked | attended | no_show | cancelled
    cancelled_by_family: bool | None
    language: str
    interpreter: bool


@dataclass(frozen=True)
class QueueFact:
    office_id: int
    day: date  # the Berlin day of the check-in
    kind: str  # walk_in | appointment
    state: str  # waiting | called | served | left
    checked_in_at: datetime
    called_at: datetime | None


@dataclass(frozen=True)
class CallbackFact:
    office_id: int
    received_at: datetime
    due_at: datetime
    first_attempt_at: datetime | None
    closed_at: datetime | None
    outcome: str | None  # resolved | appointment_booked | unreachable | withdrawn; None: open
    language: str
    interpreter: bool


@dataclass(frozen=True)
class Period:
    """Berlin days `first` to `last`, both included."""

    first: date
    last: date

    def bounds(self) -> tuple[datetime, datetime]:
        """The period as UTC instants [start, end): Berlin midnights, whatever the offset."""
        start = datetime.combine(self.first, time(), BERLIN)
        end = datetime.combine(self.last + timedelta(days=1), time(), BERLIN)
        return start.astimezone(UTC), end.astimezone(UTC)

    def contains(self, instant: datetime) -> bool:
        start, end = self.bounds()
        return start <= instant < end

    def months(self) -> list[str]:
        """Every month the period touches, as "YYYY-MM"."""
        months, day = [], self.first.replace(day=1)
        while day <= self.last:
            months.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return months


def last_full_month(now: datetime) -> Period:
    """The default period: the Berlin calendar month before the one `now` falls in."""
    first_of_this = now.astimezone(BERLIN).date().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return Period(last.replace(day=1), last)


def month_around(day: date) -> Period:
    """The calendar month `day` falls in."""
    first = day.replace(day=1)
    return Period(first, (first + timedelta(days=32)).replace(day=1) - timedelta(days=1))


def neighbour_months(period: Period, now: datetime) -> tuple[Period, Period | None]:
    """The month before the period and the month after it (None when that has not begun)."""
    before = month_around(period.first.replace(day=1) - timedelta(days=1))
    after = month_around(period.last.replace(day=1) + timedelta(days=32))
    return before, (after if after.first <= now.astimezone(BERLIN).date() else None)


def month_of(instant: datetime) -> str:
    return f"{instant.astimezone(BERLIN):%Y-%m}"


# --- the small-number rule and summary statistics ---------------------------------------


def count_text(count: int) -> str:
    """A count as shown: 1 to 4 become "< 5" (0 stays 0: it singles out no one)."""
    return SMALL_TEXT if 0 < count < SMALL_COUNT else str(count)


def is_shown(count: int) -> bool:
    return count == 0 or count >= SMALL_COUNT


def median(values: list[float]) -> float | None:
    return statistics.median(values) if len(values) >= SMALL_COUNT else None


def percentile_90(values: list[float]) -> float | None:
    """Nearest rank: the smallest value with at least 90 % of the cases at or below it."""
    if len(values) < SMALL_COUNT:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def share(part: int, whole: int) -> float | None:
    """part / whole, or None when the whole is too small to show."""
    return part / whole if whole >= SMALL_COUNT else None


# --- the figures ------------------------------------------------------------------------

CHANNELS = ("online", "phone", "desk", "walk_in")
OUTCOMES = ("attended", "no_show", "not_marked", "cancelled_by_staff", "cancelled_by_family")
CALLBACK_OUTCOMES = ("resolved", "appointment_booked", "unreachable", "withdrawn", "open")
MONTH_COLUMNS = ("appointments", "cancellations", "no_shows", "walk_ins", "callbacks")


@dataclass
class Durations:
    values: list[float] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.values)

    @property
    def median(self) -> float | None:
        return median(self.values)

    @property
    def p90(self) -> float | None:
        return percentile_90(self.values)


@dataclass
class Figures:
    # Appointments whose time falls in the period (cancelled ones: the time they had).
    by_service: dict[int, Counter] = field(default_factory=dict)  # service → outcome counts
    # service → channel counts of held appointments (the channel quota's table)
    by_service_channel: dict[int, Counter] = field(default_factory=dict)
    by_channel: Counter = field(default_factory=Counter)  # held appointments; walk-ins served
    outcomes: Counter = field(default_factory=Counter)
    lead_days: dict[str, Durations] = field(default_factory=dict)  # channel → days
    languages: dict[str, Counter] = field(default_factory=dict)  # code → what, counted
    queue: dict[str, Counter] = field(default_factory=dict)  # kind → states
    waits: dict[str, Durations] = field(default_factory=dict)  # kind → minutes
    callbacks: Counter = field(default_factory=Counter)  # outcome (or "open") → count
    first_attempt_hours: Durations = field(default_factory=Durations)
    callbacks_judged: int = 0  # handled, or overdue at `now`: the base of the in-time share
    callbacks_in_time: int = 0
    by_month: dict[str, Counter] = field(default_factory=dict)
    by_office: dict[int, Counter] = field(default_factory=dict)

    @property
    def held(self) -> int:
        return sum(self.outcomes[key] for key in ("attended", "no_show", "not_marked"))

    @property
    def cancelled(self) -> int:
        return self.outcomes["cancelled_by_staff"] + self.outcomes["cancelled_by_family"]

    @property
    def no_show_share(self) -> float | None:
        marked = self.outcomes["attended"] + self.outcomes["no_show"]
        return share(self.outcomes["no_show"], marked)

    @property
    def walk_ins(self) -> int:
        return (self.queue.get("walk_in") or {}).get("all", 0)

    @property
    def callbacks_total(self) -> int:
        return sum(self.callbacks.values())

    @property
    def in_time_share(self) -> float | None:
        return share(self.callbacks_in_time, self.callbacks_judged)

    @property
    def unreachable_share(self) -> float | None:
        closed = self.callbacks_total - self.callbacks["open"]
        return share(self.callbacks["unreachable"], closed)


def appointment_outcome(fact: AppointmentFact) -> str:
    if fact.status == "cancelled":
        return "cancelled_by_family" if fact.cancelled_by_family else "cancelled_by_staff"
    if fact.status in ("attended", "no_show"):
        return fact.status
    return "not_marked"


def _bump(table: dict, key, column: str, by: int = 1) -> None:
    table.setdefault(key, Counter())[column] += by


def compute(
    period: Period,
    now: datetime,
    appointments: list[AppointmentFact],
    queue: list[QueueFact],
    callbacks: list[CallbackFact],
) -> Figures:
    """Every figure of the page from the facts; facts outside the period are ignored."""
    figures = Figures()
    for fact in appointments:
        if not period.contains(fact.starts_at):
            continue
        outcome = appointment_outcome(fact)
        month = month_of(fact.starts_at)
        figures.outcomes[outcome] += 1
        _bump(figures.by_service, fact.service_id, outcome)
        if outcome.startswith("cancelled"):
            _bump(figures.by_month, month, "cancellations")
            _bump(figures.by_office, fact.office_id, "cancellations")
            continue
        figures.by_channel[fact.channel] += 1
        _bump(figures.by_service_channel, fact.service_id, fact.channel)
        _bump(figures.by_month, month, "appointments")
        _bump(figures.by_office, fact.office_id, "appointments")
        if outcome == "no_show":
            _bump(figures.by_month, month, "no_shows")
            _bump(figures.by_office, fact.office_id, "no_shows")
        lead = (fact.starts_at - fact.created_at).total_seconds() / 86400
        for key in (fact.channel, "all"):
            figures.lead_days.setdefault(key, Durations()).values.append(max(lead, 0.0))
        _bump(figures.languages, fact.language, "appointments")
        if fact.interpreter:
            _bump(figures.languages, fact.language, "appointments_interpreter")
    for entry in queue:
        if not period.first <= entry.day <= period.last:
            continue
        _bump(figures.queue, entry.kind, entry.state)
        _bump(figures.queue, entry.kind, "all")
        if entry.called_at is not None:
            minutes = (entry.called_at - entry.checked_in_at).total_seconds() / 60
            for key in (entry.kind, "all"):
                figures.waits.setdefault(key, Durations()).values.append(max(minutes, 0.0))
        if entry.kind == "walk_in":
            month = f"{entry.day:%Y-%m}"
            _bump(figures.by_month, month, "walk_ins")
            _bump(figures.by_office, entry.office_id, "walk_ins")
            if entry.state == "served":
                figures.by_channel["walk_in"] += 1
    for request in callbacks:
        if not period.contains(request.received_at):
            continue
        figures.callbacks[request.outcome or "open"] += 1
        _bump(figures.by_month, month_of(request.received_at), "callbacks")
        _bump(figures.by_office, request.office_id, "callbacks")
        _bump(figures.languages, request.language, "callbacks")
        if request.interpreter:
            _bump(figures.languages, request.language, "callbacks_interpreter")
        if request.first_attempt_at is not None:
            hours = (request.first_attempt_at - request.received_at).total_seconds() / 3600
            figures.first_attempt_hours.values.append(max(hours, 0.0))
        handled = [t for t in (request.first_attempt_at, request.closed_at) if t is not None]
        handled_at = min(handled) if handled else None
        # An open request not yet due can still be in time: it counts once handled or late.
        if handled_at is not None or request.due_at < now:
            figures.callbacks_judged += 1
            if handled_at is not None and handled_at <= request.due_at:
                figures.callbacks_in_time += 1
    return figures
