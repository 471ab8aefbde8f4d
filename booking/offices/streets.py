"""A city's street directory (Straßenverzeichnis): which quarter each street lies in.

No Flask. The file is the city's own (its open-data street directory), loaded from the path in
the STREET_REGISTER setting; the app ships only a small sample. Format (README "Street
register"): UTF-8 text (a BOM is fine), one header line, then one street and quarter a line,
separated by `;` (or `,`); the columns are `street` (also `Straße`, `Strasse`, `Straßenname`)
and `quarter` (also `Stadtteil`), further columns are ignored. A street that crosses quarter
boundaries appears once per quarter. Blank lines and lines starting with `#` are skipped.
"""

import csv
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from booking.offices.quarters import (
    FOLDED,
    MAX_QUERY,
    NOT_LETTER,
    TRANSCRIPTION,
    Quarter,
    QuarterList,
)

STREET_HEADERS = {"street", "straße", "strasse", "straßenname", "strassenname"}
QUARTER_HEADERS = {"quarter", "stadtteil"}
MAX_STREET_LENGTH = 100
MAX_FILE_BYTES = 10 * 1024 * 1024  # a city has a few thousand streets: well under 1 MiB
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# "Bolkerstr." and "Ratinger Str" are how streets are written on letters: read as "straße".
ABBREVIATED_STREET = re.compile(r"str(?:\.|(?=\s|-|$))")
# Words that name a kind of street: "str" should not find every "… Straße" by its last word.
GENERIC_WORDS = {"strasse", "weg", "platz", "allee", "gasse", "ring", "ufer", "markt", "damm"}
# A house number typed after the street ("Bolkerstraße 12a") is no part of its name.
HOUSE_NUMBER = re.compile(r"\s+\d+\s*[a-z]?\s*$")


@dataclass(frozen=True)
class Street:
    name: str
    quarters: tuple[Quarter, ...]

    @property
    def districts(self) -> tuple[int, ...]:
        return tuple(sorted({quarter.district for quarter in self.quarters}))


@dataclass(frozen=True)
class Problem:
    line: int  # 0: the file as a whole
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}" if self.line else self.message


@dataclass
class StreetRegister:
    streets: tuple[Street, ...] = ()
    rows: int = 0  # data lines read (not counting the header, blanks and comments)
    duplicates: int = 0  # lines repeating a street and quarter already read (merged)
    problems: list[Problem] = field(default_factory=list)
    _keys: list[tuple[Street, set[str], set[str]]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        self._keys = [(street, *name_keys(street.name)) for street in self.streets]

    @property
    def quarters_covered(self) -> int:
        return len({quarter for street in self.streets for quarter in street.quarters})

    def search(self, text: str | None) -> list[Street]:
        """Streets whose name, or a word of it, starts with the text (whole names first)."""
        wanted = query_keys(text or "")
        if not wanted:
            return []
        whole, by_word = [], []
        for street, names, words in self._keys:
            if any(name.startswith(key) for name in names for key in wanted):
                whole.append(street)
            elif any(word.startswith(key) for word in words for key in wanted):
                by_word.append(street)
        return sorted(whole, key=sort_key) + sorted(by_word, key=sort_key)


def sort_key(street: Street) -> str:
    return street.name.casefold().translate(TRANSCRIPTION)


def fold(text: str, table: dict) -> str:
    text = unicodedata.normalize("NFC", text).casefold().translate(table)
    return ABBREVIATED_STREET.sub("strasse", text)


def name_keys(name: str) -> tuple[set[str], set[str]]:
    """The whole name, and each of its words after the first but a kind of street ("Am
    Wehrhahn" by "Wehrhahn"), letters and digits only; each in both plain spellings."""
    names, words = set(), set()
    for table in (TRANSCRIPTION, FOLDED):
        folded = fold(name, table)
        names.add(NOT_LETTER.sub("", folded))
        words.update(NOT_LETTER.sub("", part) for part in re.split(r"[-\s]+", folded)[1:])
    return names - {""}, words - {"", *GENERIC_WORDS}


def street_key(name: str) -> str:
    """Two spellings of one street ("Bolkerstr.", "Bolkerstraße") are one street."""
    return NOT_LETTER.sub("", fold(name, TRANSCRIPTION))


def query_keys(text: str) -> set[str]:
    text = text[:MAX_QUERY].strip()
    text = HOUSE_NUMBER.sub("", unicodedata.normalize("NFC", text).casefold())
    keys = set()
    for table in (TRANSCRIPTION, FOLDED):
        plain = unicodedata.normalize("NFC", text).translate(table)
        keys.add(NOT_LETTER.sub("", plain))  # "str" stays a beginning ("Stresemannstraße")
        keys.add(NOT_LETTER.sub("", ABBREVIATED_STREET.sub("strasse", plain)))
    return {key for key in keys if key}


def quarter_index(quarters: QuarterList) -> dict[str, Quarter]:
    """Each quarter under its name in both plain spellings ("Flingern Sued", "Dusseltal")."""
    index: dict[str, Quarter] = {}
    for quarter in quarters.quarters:
        for table in (TRANSCRIPTION, FOLDED):
            index[NOT_LETTER.sub("", quarter.name.casefold().translate(table))] = quarter
    return index


def quarter_named(index: dict[str, Quarter], name: str) -> Quarter | None:
    lowered = unicodedata.normalize("NFC", name).casefold()
    for table in (TRANSCRIPTION, FOLDED):
        found = index.get(NOT_LETTER.sub("", lowered.translate(table)))
        if found:
            return found
    return None


def parse_register(data: bytes, quarters: QuarterList) -> StreetRegister:
    """Read a street directory; every line that cannot be used is a Problem (never dropped
    silently). Usable lines are kept, so the finder still works with a partly bad file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return StreetRegister(
            problems=[
                Problem(
                    0,
                    f"not UTF-8 (byte {error.start}): save the file as UTF-8 "
                    "(the city's export may be Windows-1252)",
                )
            ]
        )
    problems: list[Problem] = []
    index = quarter_index(quarters)
    header: tuple[int, int] | None = None
    delimiter = ";"
    found: dict[str, tuple[str, dict[Quarter, None]]] = {}  # key -> (name, ordered quarters)
    rows = duplicates = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if header is None:
            delimiter = ";" if ";" in line else ","
            names = [
                cell.strip().casefold() for cell in next(csv.reader([line], delimiter=delimiter))
            ]
            street_at = next((i for i, n in enumerate(names) if n in STREET_HEADERS), None)
            quarter_at = next((i for i, n in enumerate(names) if n in QUARTER_HEADERS), None)
            if street_at is None or quarter_at is None:
                problems.append(
                    Problem(
                        number,
                        "the header needs a column 'street' (or 'Straße') and a column "
                        f"'quarter' (or 'Stadtteil'), separated by ';' or ','; found {line!r}",
                    )
                )
                return StreetRegister(problems=problems)
            header = (street_at, quarter_at)
            continue
        rows += 1
        cells = next(csv.reader([line], delimiter=delimiter))
        if len(cells) <= max(header):
            problems.append(Problem(number, f"fewer columns than the header: {line!r}"))
            continue
        street = " ".join(cells[header[0]].split())
        quarter_name = " ".join(cells[header[1]].split())
        if not street or not quarter_name:
            problems.append(Problem(number, "street or quarter is empty"))
            continue
        if CONTROL.search(street) or len(street) > MAX_STREET_LENGTH:
            problems.append(Problem(number, f"not a street name: {street[:40]!r}"))
            continue
        quarter = quarter_named(index, quarter_name)
        if quarter is None:
            problems.append(
                Problem(
                    number,
                    f"unknown quarter {quarter_name!r} (street {street!r}); the quarters are "
                    "the 50 of booking/offices/data/duesseldorf_quarters.toml",
                )
            )
            continue
        street = unicodedata.normalize("NFC", street)
        key = street_key(street)
        _, street_quarters = found.setdefault(key, (street, {}))
        if quarter in street_quarters:
            duplicates += 1
        street_quarters[quarter] = None
    if header is None:
        problems.append(Problem(0, "the file is empty (no header line)"))
    streets = tuple(
        Street(name=name, quarters=tuple(sorted(qs, key=lambda q: (q.district, q.name))))
        for name, qs in found.values()
    )
    return StreetRegister(
        streets=tuple(sorted(streets, key=sort_key)),
        rows=rows,
        duplicates=duplicates,
        problems=problems,
    )


def read_register(path: Path, quarters: QuarterList) -> StreetRegister:
    """The file at path, or a register with a Problem saying why it could not be read."""
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return StreetRegister(problems=[Problem(0, f"larger than {MAX_FILE_BYTES} bytes")])
        data = path.read_bytes()
    except OSError as error:
        return StreetRegister(problems=[Problem(0, f"cannot read {path}: {error.strerror}")])
    return parse_register(data, quarters)


class RegisterCache:
    """One parsed register per path and process, read again when the file changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[Path, tuple[tuple[int, int], StreetRegister]] = {}

    def get(self, path: Path, quarters: QuarterList) -> tuple[StreetRegister, bool]:
        """The register and whether it was read just now (the caller logs its problems once)."""
        try:
            stat = path.stat()
            stamp = (stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = (-1, -1)
        with self._lock:
            cached = self._entries.get(path)
            if cached and cached[0] == stamp:
                return cached[1], False
            register = read_register(path, quarters)
            self._entries[path] = (stamp, register)
            return register, True


REGISTERS = RegisterCache()
