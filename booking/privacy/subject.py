"""Who a data-subject request is about: one email address or phone number, normalised as
bookings compare contacts (booking/appointments/booking.py). Pure: no Flask, no database."""

import hashlib
from dataclasses import dataclass

from email_validator import EmailNotValidError, validate_email

from booking.appointments.booking import email_key, phone_key
from booking.core.validation import normalize_phone

MAX_QUERY = 254  # the longest email address


class NotAContact(ValueError):
    """Neither a valid email address nor a valid phone number."""


@dataclass(frozen=True)
class Subject:
    kind: str  # "email" or "phone"
    key: str  # email_key (lower case, no +tag) or E.164

    def matches(self, value: str | None) -> bool:
        """Whether a stored email address or phone number (any spelling) is this person's."""
        if not value:
            return False
        if self.kind == "email":
            return "@" in value and email_key(value.strip()) == self.key
        return "@" not in value and phone_key(value) == self.key

    @property
    def domain(self) -> str:
        return self.key.rpartition("@")[2] if self.kind == "email" else ""

    @property
    def fingerprint(self) -> str:
        """For the audit log: which request it was, without the address itself."""
        return hashlib.sha256(f"{self.kind}:{self.key}".encode()).hexdigest()[:16]


def parse_subject(text: str | None) -> Subject:
    """The person to look for, or NotAContact for anything else (NUL, emoji, too long, …)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_QUERY or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise NotAContact(text[:MAX_QUERY])
    if "@" in text:
        try:
            validate_email(text, check_deliverability=False)
        except (EmailNotValidError, UnicodeError) as error:
            raise NotAContact(text) from error
        key = email_key(text)
        if not key:
            raise NotAContact(text)
        return Subject("email", key)
    if normalize_phone(text) is None:
        raise NotAContact(text)
    key = phone_key(text)
    if not key:
        raise NotAContact(text)
    return Subject("phone", key)
