"""Public holidays and yearly closure days. Pure: no Flask, no database."""

from collections.abc import Iterable
from datetime import date
from functools import lru_cache

import holidays as holidays_lib

# North Rhine-Westphalia: Düsseldorf's state.
COUNTRY = "DE"
SUBDIVISION = "NW"


@lru_cache(maxsize=64)
def _holidays_of_year(year: int, country: str, subdivision: str) -> tuple[tuple[date, str], ...]:
    calendar = holidays_lib.country_holidays(country, subdiv=subdivision, years=year, language="de")
    return tuple(sorted(calendar.items()))


def public_holidays(
    first: date, last: date, country: str = COUNTRY, subdivision: str = SUBDIVISION
) -> dict[date, str]:
    """The public holidays between first and last (inclusive), with their German names."""
    result = {}
    for year in range(first.year, last.year + 1):
        for day, name in _holidays_of_year(year, country, subdivision):
            if first <= day <= last:
                result[day] = name
    return result


def yearly_closed_days(first: date, last: date, month_days: Iterable[str]) -> list[date]:
    """Dates like "12-24" in every year between first and last (inclusive)."""
    wanted = []
    for text in month_days:
        month, day = (int(part) for part in text.split("-"))
        for year in range(first.year, last.year + 1):
            candidate = date(year, month, day)
            if first <= candidate <= last:
                wanted.append(candidate)
    return sorted(wanted)
