"""Value checks shared by forms, the setup file loader and (later) the API. No Flask imports."""

import re

import phonenumbers
from babel import Locale, UnknownLocaleError

# A service's "please bring" list: short items a family can read on a phone.
MAX_BRING_ITEMS = 20
MAX_BRING_ITEM_LENGTH = 200
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
LANGUAGE_CODE_PATTERN = re.compile(r"^[a-z]{2,3}$")


def is_slug(value: str) -> bool:
    return bool(SLUG_PATTERN.match(value)) and len(value) <= 64


def is_language_code(code: str) -> bool:
    """An ISO 639 language code that Babel knows (so it can be named in any UI language)."""
    if not LANGUAGE_CODE_PATTERN.match(code):
        return False
    try:
        Locale.parse(code)
    except (UnknownLocaleError, ValueError):
        return False
    return True


def split_language_codes(text: str) -> list[str]:
    return [part.strip().lower() for part in re.split(r"[,\s;]+", text or "") if part.strip()]


def normalize_phone(value: str, region: str = "DE") -> str | None:
    """The number in international format, or None when it is no valid phone number."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


# "Mobile or fixed line" covers countries whose numbers do not tell the two apart (e.g. USA).
MOBILE_TYPES = (
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
)


def is_mobile(value: str, region: str = "DE") -> bool:
    """True for a valid number that can receive text messages (by its number type)."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in MOBILE_TYPES
