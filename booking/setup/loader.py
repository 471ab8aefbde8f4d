"""Read and check a setup file. Pure: no Flask, no database; every problem names its entry."""

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any

from email_validator import EmailNotValidError, validate_email

from booking.core.converters import MAX_YEAR, MIN_YEAR, in_calendar, parse_date
from booking.core.validation import (
    MAX_BRING_ITEM_LENGTH,
    MAX_BRING_ITEMS,
    is_language_code,
    is_slug,
    normalize_phone,
)
from booking.offices.texts import DEFAULT_LANGUAGE, TEXT_LANGUAGES

WEEKDAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
OFFICE_KINDS = ("unit", "welcome_point")
ROLES = ("admin", "caseworker", "reception", "privacy", "operator_admin")
MIN_PASSWORD_LENGTH = 12
TIME_PATTERN = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class SetupFileError(Exception):
    """The file was refused; `problems` lists every entry that is wrong."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OfficeSpec:
    slug: str
    name: str
    kind: str
    address: str
    operator: str
    district: int | None = None
    phone: str | None = None
    public_notes: str = ""
    callback_due_days: int = 2
    callback_due_time: time = time(16, 0)
    callback_max_attempts: int = 3
    directions: str = ""
    # Texts in other languages: {field: {language: text}}; German is in the fields above.
    translations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceSpec:
    slug: str
    office: str
    name: str
    minutes: int
    description: str = ""
    please_bring: tuple[str, ...] = ()
    buffer_minutes: int = 0
    step_minutes: int | None = None
    min_notice_hours: int = 24
    horizon_days: int = 60
    max_open_bookings_per_contact: int = 2
    phone_quota_percent: int = 0
    release_hours_before: int = 48
    public: bool = True
    translations: dict = field(default_factory=dict)


@dataclass(frozen=True)
class StaffSpec:
    email: str
    name: str
    role: str
    offices: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    password: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HoursSpec:
    staff: str
    office: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True)
class ConsultationHoursSpec:
    office: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    staff: tuple[str, ...] = ()
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass
class SetupPlan:
    offices: list[OfficeSpec] = field(default_factory=list)
    services: list[ServiceSpec] = field(default_factory=list)
    staff: list[StaffSpec] = field(default_factory=list)
    hours: list[HoursSpec] = field(default_factory=list)
    consultation_hours: list[ConsultationHoursSpec] = field(default_factory=list)


class _Entry:
    """Reads one table of the file and collects what is wrong with it."""

    def __init__(self, section: str, index: int, raw: Any, problems: list[str], label_key: str):
        self.problems = problems
        self.raw = raw if isinstance(raw, dict) else {}
        label = self.raw.get(label_key)
        self.name = f"[[{section}]] #{index + 1}" + (
            f" ({label})" if isinstance(label, str) else ""
        )
        if not isinstance(raw, dict):
            self.fail("must be a table")

    def fail(self, message: str) -> None:
        self.problems.append(f"{self.name}: {message}")

    def check_keys(self, allowed: set[str]) -> None:
        for key in sorted(set(self.raw) - allowed):
            self.fail(f'unknown key "{key}"')

    def text(self, key: str, required: bool = True, max_length: int = 300) -> str | None:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(f'"{key}" is missing')
            return None
        return self._one_text(key, value, max_length)

    def _one_text(self, key: str, value: Any, max_length: int) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.fail(f'"{key}" must be a non-empty text')
            return None
        if len(value) > max_length:
            self.fail(f'"{key}" is longer than {max_length} characters')
            return None
        return value.strip()

    def languages_of(self, key: str) -> dict[str, Any] | None:
        """A text key's table of languages ({ de = "…", ar = "…" }), checked; None if plain."""
        value = self.raw.get(key)
        if not isinstance(value, dict):
            return None
        unknown = [code for code in value if code not in TEXT_LANGUAGES]
        if unknown:
            self.fail(
                f'"{key}" has unknown language {", ".join(map(repr, unknown))} '
                f"(use {', '.join(TEXT_LANGUAGES)})"
            )
        if DEFAULT_LANGUAGE not in value:
            self.fail(f'"{key}" needs its German text: add {DEFAULT_LANGUAGE} = "…" to the table')
        return {code: text for code, text in value.items() if code in TEXT_LANGUAGES}

    def local_text(
        self, key: str, translations: dict, required: bool = True, max_length: int = 300
    ) -> str | None:
        """A text key, plain (German) or a table by language; other languages go to
        `translations[key]`, German is returned."""
        table = self.languages_of(key)
        if table is None:
            return self.text(key, required, max_length)
        german = None
        for code, value in table.items():
            text = self._one_text(f"{key}.{code}", value, max_length)
            if text is None:
                continue
            if code == DEFAULT_LANGUAGE:
                german = text
            else:
                translations.setdefault(key, {})[code] = text
        return german

    def integer(self, key: str, default: int | None, low: int, high: int) -> int | None:
        value = self.raw.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(f'"{key}" must be a whole number')
            return default
        if not low <= value <= high:
            self.fail(f'"{key}" must be between {low} and {high}, not {value}')
            return default
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.raw.get(key, default)
        if not isinstance(value, bool):
            self.fail(f'"{key}" must be true or false')
            return default
        return value

    def text_list(self, key: str, required: bool = False) -> tuple[str, ...]:
        value = self.raw.get(key)
        if value is None:
            if required:
                self.fail(f'"{key}" is missing')
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(f'"{key}" must be a list of texts')
            return ()
        if required and not value:
            self.fail(f'"{key}" must not be empty')
        if len(set(value)) != len(value):
            self.fail(f'"{key}" names an entry twice')
        return tuple(value)

    def clock(self, key: str) -> time | None:
        value = self.raw.get(key)
        if isinstance(value, time):
            return value.replace(second=0, microsecond=0, tzinfo=None)
        if not isinstance(value, str) or not TIME_PATTERN.match(value):
            self.fail(f'"{key}" must be a time like "09:00"' if value else f'"{key}" is missing')
            return None
        hour, minute = value.split(":")
        return time(int(hour), int(minute))

    def day(self, key: str) -> date | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, str):
            value = parse_date(value)
        if isinstance(value, date) and not hasattr(value, "hour") and in_calendar(value):
            return value
        self.fail(f'"{key}" must be a date like "2026-01-31" (years {MIN_YEAR} to {MAX_YEAR})')
        return None

    def weekdays(self) -> tuple[int, ...]:
        days = self.text_list("days", required=True)
        unknown = [d for d in days if d not in WEEKDAY_KEYS]
        if unknown:
            self.fail(f"unknown day {', '.join(unknown)} (use {', '.join(WEEKDAY_KEYS)})")
            return ()
        return tuple(sorted(WEEKDAY_KEYS.index(d) for d in days))

    def time_range(self) -> tuple[time | None, time | None, date | None, date | None]:
        start, end = self.clock("start"), self.clock("end")
        if start and end and start >= end:
            self.fail(f"start {start:%H:%M} must be before end {end:%H:%M}")
        valid_from, valid_until = self.day("valid_from"), self.day("valid_until")
        if valid_from and valid_until and valid_from > valid_until:
            self.fail("valid_from must not be after valid_until")
        return start, end, valid_from, valid_until


def _slug(entry: _Entry, key: str = "slug") -> str | None:
    value = entry.text(key, max_length=64)
    if value is not None and not is_slug(value):
        entry.fail(f'"{key}" must be lower-case letters, digits and single hyphens')
        return None
    return value


def _email(entry: _Entry, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        entry.fail(f'"{value}" is no valid email address')
        return None


def _parse_office(entry: _Entry) -> OfficeSpec | None:
    entry.check_keys(
        {"slug", "name", "kind", "district", "address", "operator", "phone", "public_notes"}
        | {"directions", "callback_due_days", "callback_due_time", "callback_max_attempts"}
    )
    slug = _slug(entry)
    texts: dict = {}
    name = entry.local_text("name", texts, max_length=200)
    address = entry.local_text("address", texts)
    operator = entry.local_text("operator", texts, max_length=200)
    kind = entry.text("kind", max_length=20)
    if kind is not None and kind not in OFFICE_KINDS:
        entry.fail(f'"kind" must be one of {", ".join(OFFICE_KINDS)}, not "{kind}"')
    district = entry.integer("district", None, 1, 10)
    phone = entry.text("phone", required=False, max_length=40)
    if phone is not None:
        normalized = normalize_phone(phone)
        if normalized is None:
            entry.fail(f'"{phone}" is no valid phone number')
        phone = normalized
    notes = entry.local_text("public_notes", texts, required=False, max_length=2000) or ""
    directions = entry.local_text("directions", texts, required=False, max_length=2000) or ""
    due_days = entry.integer("callback_due_days", 2, 1, 20)
    due_time = entry.clock("callback_due_time") if "callback_due_time" in entry.raw else time(16)
    max_attempts = entry.integer("callback_max_attempts", 3, 1, 10)
    if None in (slug, name, address, operator, kind, due_time):
        return None
    return OfficeSpec(
        slug, name, kind, address, operator, district, phone, notes,
        due_days, due_time, max_attempts, directions, texts,
    )  # fmt: skip


def _parse_service(entry: _Entry) -> ServiceSpec | None:
    entry.check_keys(
        {
            "slug",
            "office",
            "name",
            "description",
            "please_bring",
            "minutes",
            "buffer_minutes",
            "step_minutes",
            "min_notice_hours",
            "horizon_days",
            "max_open_bookings_per_contact",
            "phone_quota_percent",
            "release_hours_before",
            "public",
        }
    )
    slug, office = _slug(entry), _slug(entry, "office")
    texts: dict = {}
    name = entry.local_text("name", texts, max_length=200)
    description = entry.local_text("description", texts, required=False, max_length=2000) or ""
    please_bring = _local_bring_items(entry, texts)
    if "minutes" not in entry.raw:
        entry.fail('"minutes" is missing')
    minutes = entry.integer("minutes", None, 5, 480)
    spec = dict(
        buffer_minutes=entry.integer("buffer_minutes", 0, 0, 240),
        step_minutes=entry.integer("step_minutes", None, 5, 480),
        min_notice_hours=entry.integer("min_notice_hours", 24, 0, 720),
        horizon_days=entry.integer("horizon_days", 60, 1, 365),
        max_open_bookings_per_contact=entry.integer("max_open_bookings_per_contact", 2, 1, 20),
        phone_quota_percent=entry.integer("phone_quota_percent", 0, 0, 100),
        release_hours_before=entry.integer("release_hours_before", 48, 0, 720),
        public=entry.boolean("public", True),
    )
    if None in (slug, office, name, minutes):
        return None
    return ServiceSpec(
        slug, office, name, minutes, description, please_bring, **spec, translations=texts
    )


def _local_bring_items(entry: _Entry, translations: dict) -> tuple[str, ...]:
    """please_bring: a list (German) or a table of lists by language."""
    table = entry.languages_of("please_bring")
    if table is None:
        return _bring_items(entry, "please_bring", entry.raw.get("please_bring"))
    german: tuple[str, ...] = ()
    for code, value in table.items():
        items = _bring_items(entry, f"please_bring.{code}", value)
        if not items:
            entry.fail(f'"please_bring.{code}" must be a non-empty list of texts')
        elif code == DEFAULT_LANGUAGE:
            german = items
        else:
            translations.setdefault("please_bring", {})[code] = "\n".join(items)
    return german


def _bring_items(entry: _Entry, key: str, value: Any) -> tuple[str, ...]:
    """What to bring: a list of short texts, one item each (stored one per line)."""
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        entry.fail(f'"{key}" must be a list of texts')
        return ()
    if len(set(value)) != len(value):
        entry.fail(f'"{key}" names an entry twice')
    items = tuple(item.strip() for item in value)
    if len(items) > MAX_BRING_ITEMS:
        entry.fail(f'"{key}" has more than {MAX_BRING_ITEMS} items')
    for item in items:
        if not item or "\n" in item or "\r" in item:
            entry.fail(f'"{key}" items must be non-empty texts of one line')
        elif len(item) > MAX_BRING_ITEM_LENGTH:
            entry.fail(f'"{key}" item is longer than {MAX_BRING_ITEM_LENGTH} characters')
    return items


def _parse_staff(entry: _Entry) -> StaffSpec | None:
    entry.check_keys({"email", "name", "role", "offices", "services", "languages", "password"})
    email = _email(entry, entry.text("email", max_length=254))
    name = entry.text("name", max_length=200)
    role = entry.text("role", max_length=20)
    if role is not None and role not in ROLES:
        entry.fail(f'"role" must be one of {", ".join(ROLES)}, not "{role}"')
    offices = entry.text_list("offices")
    services = entry.text_list("services")
    if services and role != "caseworker":
        entry.fail('only caseworkers offer "services"')
    if role == "operator_admin" and not offices:
        entry.fail('an operator admin needs "offices": their operator is the operator admin\'s')
    languages = tuple(code.lower() for code in entry.text_list("languages"))
    for code in languages:
        if not is_language_code(code):
            entry.fail(f'unknown language code "{code}"')
    password = entry.raw.get("password")
    if password is not None and (
        not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH
    ):
        entry.fail(f'"password" must be a text of at least {MIN_PASSWORD_LENGTH} characters')
        password = None
    if None in (email, name, role):
        return None
    return StaffSpec(email, name, role, offices, services, languages, password)


def _parse_hours(entry: _Entry) -> HoursSpec | None:
    entry.check_keys({"staff", "office", "days", "start", "end", "valid_from", "valid_until"})
    staff = _email(entry, entry.text("staff", max_length=254))
    office = _slug(entry, "office")
    weekdays = entry.weekdays()
    start, end, valid_from, valid_until = entry.time_range()
    if None in (staff, office, start, end) or not weekdays:
        return None
    return HoursSpec(staff, office, weekdays, start, end, valid_from, valid_until)


def _parse_consultation_hours(entry: _Entry) -> ConsultationHoursSpec | None:
    entry.check_keys({"office", "days", "start", "end", "staff", "valid_from", "valid_until"})
    office = _slug(entry, "office")
    weekdays = entry.weekdays()
    start, end, valid_from, valid_until = entry.time_range()
    staff = tuple(_email(entry, email) for email in entry.text_list("staff"))
    if None in (office, start, end) or None in staff or not weekdays:
        return None
    return ConsultationHoursSpec(office, weekdays, start, end, staff, valid_from, valid_until)


SECTIONS = {
    "office": ("offices", "slug", _parse_office),
    "service": ("services", "slug", _parse_service),
    "staff": ("staff", "email", _parse_staff),
    "hours": ("hours", "staff", _parse_hours),
    "consultation_hours": ("consultation_hours", "office", _parse_consultation_hours),
}


def parse_setup(data: dict[str, Any]) -> SetupPlan:
    """Check a parsed TOML document; raise SetupFileError naming every bad entry."""
    problems: list[str] = []
    plan = SetupPlan()
    for key in sorted(set(data) - set(SECTIONS)):
        problems.append(f'unknown section "{key}" (use {", ".join(f"[[{s}]]" for s in SECTIONS)})')
    for section, (attr, label_key, parse) in SECTIONS.items():
        entries = data.get(section, [])
        if not isinstance(entries, list):
            problems.append(f'"{section}" must be written as [[{section}]] tables')
            continue
        for index, raw in enumerate(entries):
            entry = _Entry(section, index, raw, problems, label_key)
            before = len(problems)
            spec = parse(entry)
            if spec is not None and len(problems) == before:
                getattr(plan, attr).append(spec)
    _check_unique(plan.offices, "office", "slug", problems)
    _check_unique(plan.services, "service", "slug", problems)
    _check_unique(plan.staff, "staff", "email", problems)
    if problems:
        raise SetupFileError(problems)
    return plan


def _check_unique(specs: list, section: str, key: str, problems: list[str]) -> None:
    seen: set[str] = set()
    for spec in specs:
        value = getattr(spec, key)
        if value in seen:
            problems.append(f'[[{section}]] ({value}): {key} "{value}" appears twice')
        seen.add(value)


def read_setup_file(path: str | Path) -> SetupPlan:
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise SetupFileError([f"cannot read {path}: {error.strerror}"]) from error
    except tomllib.TOMLDecodeError as error:
        raise SetupFileError([f"{path} is no valid TOML: {error}"]) from error
    return parse_setup(data)
