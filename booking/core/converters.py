"""Untrusted ids and dates made safe before they reach arithmetic or the database.

Ids in URLs and queries must fit the id columns (INTEGER on PostgreSQL; SQLAlchemy casts
bound parameters there, so a larger number is "integer out of range", on SQLite an
OverflowError). Dates must stay far from the ends of Python's calendar, where adding a
week or converting to UTC overflows.
"""

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from werkzeug.routing import IntegerConverter, ValidationError
from wtforms import DateField

# Every id column is INTEGER (32-bit signed on PostgreSQL).
MAX_ID = 2**31 - 1
MIN_YEAR = 2000
MAX_YEAR = 2100


class IdConverter(IntegerConverter):
    """The app's `<int:…>`: a number outside the id columns' range matches no page (404)."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)

    def to_python(self, value: str):
        # Checked before int(): Python refuses to parse numbers of more than 4300 digits.
        if len(value) > len(str(MAX_ID)):
            raise ValidationError()
        return super().to_python(value)


def id_arg(text: str) -> int:
    """`type=` for `request.args.get`: an id-sized positive number, else ValueError (default)."""
    if len(text) > len(str(MAX_ID)) or not text.isascii() or not text.isdigit():
        raise ValueError("not an id")
    number = int(text)
    if not 1 <= number <= MAX_ID:
        raise ValueError("not an id")
    return number


def in_calendar(day: date) -> bool:
    """A date the app can compute with: week arithmetic and UTC conversion cannot overflow."""
    return MIN_YEAR <= day.year <= MAX_YEAR


def parse_date(text: str | None) -> date | None:
    """A `YYYY-MM-DD` date between MIN_YEAR and MAX_YEAR, or None for anything else."""
    if not text or len(text) > 10:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if in_calendar(day) else None


def parse_instant(text: str | None) -> datetime | None:
    """An ISO 8601 instant with offset between MIN_YEAR and MAX_YEAR, or None."""
    if not text or len(text) > 64:
        return None
    try:
        # A "+" in a hand-made query string arrives as a space; ISO 8601 has no spaces.
        value = datetime.fromisoformat(text.strip().replace(" ", "+"))
    except ValueError:
        return None
    if value.tzinfo is None or value.utcoffset() is None or not in_calendar(value.date()):
        return None
    return value


class CalendarDateField(DateField):
    """A DateField that refuses dates the app cannot compute with (year 1, year 9999)."""

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None and not in_calendar(self.data):
            self.data = None
            raise ValueError(
                _l(
                    "Please enter a date between %(first)s and %(last)s.",
                    first=MIN_YEAR,
                    last=MAX_YEAR,
                )
            )
