from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm

from booking.core.converters import CalendarDateField
from booking.reports.stats import MAX_PERIOD_DAYS, Period, last_full_month


class PeriodForm(FlaskForm):
    """The period of a statistics page, from the query string (GET: no CSRF token)."""

    class Meta:
        csrf = False

    first = CalendarDateField(_l("From"))
    last = CalendarDateField(_l("Until"))

    def period(self, now: datetime) -> Period | None:
        """The chosen period (the last full month when none is given), or None with errors."""
        if not any(self.first.raw_data or []) and not any(self.last.raw_data or []):
            period = last_full_month(now)
            self.first.data, self.last.data = period.first, period.last
            return period
        if not self.validate():
            return None
        if self.first.data is None or self.last.data is None:
            missing = self.first if self.first.data is None else self.last
            missing.errors = [*missing.errors, _l("Please enter a date.")]
            return None
        if self.first.data > self.last.data:
            self.last.errors = [*self.last.errors, _l("The end must not be before the start.")]
            return None
        if (self.last.data - self.first.data).days >= MAX_PERIOD_DAYS:
            self.last.errors = [
                *self.last.errors,
                _l("Please choose at most %(days)d days.", days=MAX_PERIOD_DAYS),
            ]
            return None
        return Period(self.first.data, self.last.data)
