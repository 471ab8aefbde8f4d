"""Düsseldorf's city quarters (Stadtteile) and their districts, and a search by first letters.

No Flask: the data is a file shipped with the app (data/duesseldorf_quarters.toml).
"""

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

QUARTERS_FILE = Path(__file__).parent / "data" / "duesseldorf_quarters.toml"
MAX_QUERY = 60  # longer than any quarter's name with room to spare

# German spellings typed without umlauts: "Dues…" finds "Düsseltal" as "düss" does.
TRANSCRIPTION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"})
FOLDED = str.maketrans({"ä": "a", "ö": "o", "ü": "u", "ß": "ss"})
NOT_LETTER = re.compile(r"[^0-9a-z]+")


@dataclass(frozen=True)
class Quarter:
    name: str
    district: int

    @property
    def slug(self) -> str:
        return NOT_LETTER.sub("-", self.name.casefold().translate(TRANSCRIPTION)).strip("-")


@dataclass(frozen=True)
class QuarterList:
    source: str
    quarters: tuple[Quarter, ...]

    def by_district(self) -> dict[int, list[Quarter]]:
        result: dict[int, list[Quarter]] = {}
        for quarter in self.quarters:
            result.setdefault(quarter.district, []).append(quarter)
        return dict(sorted(result.items()))

    def find(self, slug: str | None) -> Quarter | None:
        return next((q for q in self.quarters if q.slug == slug), None)

    def search(self, text: str | None) -> list[Quarter]:
        """Quarters whose name, or a part of it after a hyphen, starts with the text."""
        wanted = search_keys(text or "")
        if not wanted:
            return []
        return sorted(
            (q for q in self.quarters if matches(q.name, wanted)),
            key=lambda q: (q.district, q.name),
        )


def search_keys(text: str) -> set[str]:
    """The typed text in both plain spellings (ü as ue and as u), letters and digits only."""
    text = unicodedata.normalize("NFC", text[:MAX_QUERY]).casefold().strip()
    keys = {
        NOT_LETTER.sub("", text.translate(TRANSCRIPTION)),
        NOT_LETTER.sub("", text.translate(FOLDED)),
    }
    return {key for key in keys if key}


def matches(name: str, keys: set[str]) -> bool:
    lowered = name.casefold()
    parts = [lowered, *re.split(r"[-\s]+", lowered)[1:]]
    for part in parts:
        for table in (TRANSCRIPTION, FOLDED):
            plain = NOT_LETTER.sub("", part.translate(table))
            if any(plain.startswith(key) for key in keys):
                return True
    return False


@cache
def load_quarters(path: Path = QUARTERS_FILE) -> QuarterList:
    with path.open("rb") as handle:
        data = tomllib.load(handle)
    quarters = tuple(
        Quarter(name=name, district=int(district["number"]))
        for district in data["district"]
        for name in district["quarters"]
    )
    return QuarterList(source=data["source"], quarters=quarters)
