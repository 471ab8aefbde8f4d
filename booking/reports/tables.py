"""The page's tables (and their charts and CSV files) from the figures, with the small-number
rule applied to every cell: what a table shows is exactly what its CSV holds."""

from dataclasses import dataclass, field

from flask_babel import format_decimal, format_percent, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from booking.reports.charts import Bar, bar_chart
from booking.reports.stats import (
    CALLBACK_OUTCOMES,
    CHANNELS,
    MONTH_COLUMNS,
    OUTCOMES,
    SUPPRESSED_TEXT,
    Durations,
    Figures,
    count_text,
    is_shown,
    share,
)
from booking.templating import language_name

CHANNEL_LABELS = {
    "online": _l("online"),
    "phone": _l("by phone"),
    "desk": _l("at the desk"),
    "walk_in": _l("walk-in (waiting queue, served)"),
    "all": _l("all channels"),
}
OUTCOME_LABELS = {
    "attended": _l("attended"),
    "no_show": _l("no-show"),
    "not_marked": _l("not marked (still booked)"),
    "cancelled_by_staff": _l("cancelled by staff"),
    "cancelled_by_family": _l("cancelled by the family"),
}
CALLBACK_LABELS = {
    "resolved": _l("resolved on the phone"),
    "appointment_booked": _l("appointment booked"),
    "unreachable": _l("unreachable"),
    "withdrawn": _l("withdrawn"),
    "open": _l("still open"),
}
QUEUE_LABELS = {
    "walk_in": _l("walk-ins (consultation hours)"),
    "appointment": _l("appointments checked in"),
    "all": _l("all queue entries"),
}
MONTH_LABELS = {
    "appointments": _l("Appointments"),
    "cancellations": _l("Cancellations"),
    "no_shows": _l("No-shows"),
    "walk_ins": _l("Walk-ins"),
    "callbacks": _l("Callback requests"),
}
TABLE_KEYS = (
    "summary",
    "channels",
    "quota",
    "services",
    "outcomes",
    "lead_time",
    "languages",
    "queue",
    "callbacks",
    "months",
    "offices",
)


@dataclass(frozen=True)
class Cell:
    text: str
    value: float | None = None  # None: not a number, or suppressed


@dataclass
class Table:
    key: str
    title: str
    columns: list[str]
    rows: list[tuple[str, list[Cell]]] = field(default_factory=list)
    chart_column: int | None = None  # the value column drawn as bars, if any

    def chart(self) -> Markup | None:
        if self.chart_column is None or not self.rows:
            return None
        column = self.chart_column
        description = _l(
            "Bar chart of %(column)s per %(row)s; the numbers are in the table below.",
            column=self.columns[column + 1],
            row=self.columns[0],
        )
        bars = [Bar(label, cells[column].value, cells[column].text) for label, cells in self.rows]
        return bar_chart(f"chart-{self.key}", self.title, str(description), bars)

    def csv_rows(self) -> list[list[str]]:
        return [[label, *(cell.text for cell in cells)] for label, cells in self.rows]


def count(value: int) -> Cell:
    return Cell(count_text(value), float(value) if is_shown(value) else None)


def number(value: float | None, digits: int = 1) -> Cell:
    if value is None:
        return Cell(SUPPRESSED_TEXT)
    pattern = "#,##0" if digits == 0 else "#,##0." + "0" * digits
    return Cell(format_decimal(value, format=pattern), value)


def percent(value: float | None) -> Cell:
    if value is None:
        return Cell(SUPPRESSED_TEXT)
    return Cell(format_percent(value, format="#,##0 %"), value)


def duration_cells(durations: Durations | None, digits: int = 1) -> list[Cell]:
    durations = durations or Durations()
    return [
        count(durations.count),
        number(durations.median, digits),
        number(durations.p90, digits),
    ]


def build_tables(
    figures: Figures,
    service_names: dict[int, str],
    office_names: dict[int, str],
    months: list[str],
    quotas: dict[int, int] | None = None,
) -> list[Table]:
    """Every table of the page, in order; `office_names` with one office leaves out the
    per-office table, `quotas` (service → phone_quota_percent) without one the quota table."""
    f = figures
    summary = Table("summary", str(_l("Key figures")), [str(_l("Figure")), str(_l("Value"))])
    summary.rows = [
        (str(_l("Appointments (not cancelled)")), [count(f.held)]),
        (str(_l("Cancellations")), [count(f.cancelled)]),
        (str(_l("No-show share (of attended and no-shows)")), [percent(f.no_show_share)]),
        (str(_l("Walk-ins in the consultation hours")), [count(f.walk_ins)]),
        (str(_l("Callback requests")), [count(f.callbacks_total)]),
        (
            str(_l("Time to the first call attempt, median (hours)")),
            [number(f.first_attempt_hours.median)],
        ),
        (
            str(_l("Callbacks attempted or closed by the due time")),
            [percent(f.in_time_share)],
        ),
        (str(_l("Callbacks closed as unreachable (of closed)")), [percent(f.unreachable_share)]),
    ]

    channels = Table(
        "channels",
        str(_l("Appointments by channel")),
        [str(_l("Channel")), str(_l("Appointments"))],
        chart_column=0,
    )
    channels.rows = [(str(CHANNEL_LABELS[key]), [count(f.by_channel[key])]) for key in CHANNELS]

    quota = Table(
        "quota",
        str(_l("Phone and desk bookings against the channel quota")),
        [
            str(_l("Service")),
            str(_l("Times kept for phone and desk")),
            str(_l("Appointments (not cancelled)")),
            str(_l("by phone or at the desk")),
            str(_l("Share by phone or at the desk")),
        ],
    )
    for service_id, percent_kept in sorted(
        (quotas or {}).items(), key=lambda item: service_names.get(item[0], "")
    ):
        channels_of = f.by_service_channel.get(service_id) or {}
        total = sum(channels_of.values())
        offline = channels_of.get("phone", 0) + channels_of.get("desk", 0)
        quota.rows.append(
            (
                service_names.get(service_id, "?"),
                [
                    percent(percent_kept / 100),
                    count(total),
                    count(offline),
                    percent(share(offline, total)),
                ],
            )
        )

    outcome_columns = [str(OUTCOME_LABELS[key]) for key in OUTCOMES]
    services = Table(
        "services",
        str(_l("Appointments by service")),
        [str(_l("Service")), str(_l("Appointments (not cancelled)")), *outcome_columns],
        chart_column=0,
    )
    for service_id, counter in sorted(
        f.by_service.items(), key=lambda item: service_names.get(item[0], "")
    ):
        held = sum(counter[key] for key in ("attended", "no_show", "not_marked"))
        services.rows.append(
            (
                service_names.get(service_id, "?"),
                [count(held), *(count(counter[key]) for key in OUTCOMES)],
            )
        )

    outcomes = Table(
        "outcomes",
        str(_l("Attendance and cancellations")),
        [str(_l("Outcome")), str(_l("Appointments"))],
        chart_column=0,
    )
    outcomes.rows = [(str(OUTCOME_LABELS[key]), [count(f.outcomes[key])]) for key in OUTCOMES]

    lead = Table(
        "lead_time",
        str(_l("Lead time from booking to appointment (days)")),
        [
            str(_l("Channel")),
            str(_l("Appointments")),
            str(_l("Median")),
            str(_l("90th percentile")),
        ],
    )
    lead.rows = [
        (str(CHANNEL_LABELS[key]), duration_cells(f.lead_days.get(key)))
        for key in ("online", "phone", "desk", "all")
    ]

    languages = Table(
        "languages",
        str(_l("Languages and interpreter needs")),
        [
            str(_l("Language")),
            str(_l("Appointments")),
            str(_l("of which with interpreter")),
            str(_l("Callback requests")),
            str(_l("of which with interpreter")),
        ],
        chart_column=0,
    )
    locale = str(get_locale())
    for code, counter in sorted(f.languages.items(), key=lambda item: -item[1]["appointments"]):
        languages.rows.append(
            (
                f"{language_name(code, locale)} ({code})",
                [
                    count(counter["appointments"]),
                    count(counter["appointments_interpreter"]),
                    count(counter["callbacks"]),
                    count(counter["callbacks_interpreter"]),
                ],
            )
        )

    queue = Table(
        "queue",
        str(_l("Consultation hours: waiting queue and waiting times (minutes)")),
        [
            str(_l("Queue entries")),
            str(_l("Entries")),
            str(_l("served")),
            str(_l("left without being served")),
            str(_l("Called")),
            str(_l("Median wait")),
            str(_l("90th percentile wait")),
        ],
    )
    for kind in ("walk_in", "appointment", "all"):
        states = f.queue.get(kind) or {}
        if kind == "all":
            states = {
                key: sum((f.queue.get(k) or {}).get(key, 0) for k in ("walk_in", "appointment"))
                for key in ("all", "served", "left")
            }
        queue.rows.append(
            (
                str(QUEUE_LABELS[kind]),
                [
                    count(states.get("all", 0)),
                    count(states.get("served", 0)),
                    count(states.get("left", 0)),
                    *duration_cells(f.waits.get(kind), digits=0),
                ],
            )
        )

    callbacks = Table(
        "callbacks",
        str(_l("Callback requests by outcome")),
        [str(_l("Outcome")), str(_l("Callback requests"))],
        chart_column=0,
    )
    callbacks.rows = [
        (str(CALLBACK_LABELS[key]), [count(f.callbacks[key])]) for key in CALLBACK_OUTCOMES
    ]

    month_columns = [str(MONTH_LABELS[key]) for key in MONTH_COLUMNS]
    by_month = Table(
        "months", str(_l("By month")), [str(_l("Month")), *month_columns], chart_column=0
    )
    by_month.rows = [
        (month, [count((f.by_month.get(month) or {}).get(key, 0)) for key in MONTH_COLUMNS])
        for month in months
    ]

    tables = [summary, channels, services, outcomes, lead, languages, queue, callbacks, by_month]
    if quota.rows:
        tables.insert(2, quota)
    if len(office_names) > 1:
        by_office = Table(
            "offices", str(_l("By office")), [str(_l("Office")), *month_columns], chart_column=0
        )
        by_office.rows = [
            (name, [count((f.by_office.get(office_id) or {}).get(key, 0)) for key in MONTH_COLUMNS])
            for office_id, name in sorted(office_names.items(), key=lambda item: item[1])
        ]
        tables.append(by_office)
    return tables
