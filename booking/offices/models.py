import enum
from datetime import datetime, time, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column, relationship

from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db
from booking.offices.texts import (
    OFFICE_TEXT_FIELDS,
    SERVICE_TEXT_FIELDS,
    clean_translations,
    text_in,
)


class OfficeKind(enum.StrEnum):
    UNIT = "unit"
    WELCOME_POINT = "welcome_point"


class HasTexts:
    """Texts in several languages: German in the field's column, others in `translations`."""

    TEXT_FIELDS: tuple[str, ...] = ()
    translations: dict

    def text_in(self, field: str, language: object) -> str:
        return text_in(getattr(self, field), self.translations, field, language)

    def local(self, field: str) -> str:
        """The field in the language being spoken (page or message), else in German."""
        from flask_babel import get_locale  # only here: the model stays usable without Flask

        return self.text_in(field, get_locale())

    def translation(self, field: str, language: str) -> str:
        """Only the text given for `language` (empty when it falls back to German)."""
        return ((self.translations or {}).get(field) or {}).get(language, "")

    def set_translations(self, values: dict[str, dict[str, str | None]]) -> None:
        # A new dict each time: the JSON column only notices assignment, not mutation.
        self.translations = clean_translations(values)


# JSONB on PostgreSQL: plain json has no "=" (Alembic compares server defaults with it).
TEXTS_JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def bring_lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def enum_values(enum_cls: type[enum.Enum]) -> list[str]:
    return [member.value for member in enum_cls]


class Office(HasTexts, db.Model):
    __tablename__ = "office"
    __table_args__ = (
        sa.CheckConstraint(
            "district IS NULL OR (district BETWEEN 1 AND 10)", name="district_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[OfficeKind] = mapped_column(enum_type(OfficeKind, "office_kind"))
    district: Mapped[int | None]
    address: Mapped[str] = mapped_column(sa.String(300))
    operator: Mapped[str] = mapped_column(sa.String(200))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    public_notes: Mapped[str] = mapped_column(sa.Text, default="")
    # How to get there (entrance, floor, tram stop), shown on the office page and in emails.
    directions: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))
    # Texts in other languages than German: {field: {language: text}} (booking/offices/texts.py).
    translations: Mapped[dict] = mapped_column(
        TEXTS_JSON, default=dict, server_default=sa.text("'{}'")
    )
    active: Mapped[bool] = mapped_column(default=True)
    # Callback requests are due at callback_due_time (Berlin) of the Nth working day after
    # the call (booking/callbacks/due.py); "unreachable" needs this many failed attempts.
    callback_due_days: Mapped[int] = mapped_column(default=2, server_default=sa.text("2"))
    callback_due_time: Mapped[time] = mapped_column(
        default=time(16, 0), server_default=sa.text("'16:00:00'")
    )
    callback_max_attempts: Mapped[int] = mapped_column(default=3, server_default=sa.text("3"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    TEXT_FIELDS = OFFICE_TEXT_FIELDS

    services: Mapped[list["Service"]] = relationship(
        back_populates="office", order_by="Service.name"
    )

    def __repr__(self) -> str:
        return f"<Office {self.slug}>"


class Service(HasTexts, db.Model):
    """What a family can come for at one office, with its booking rules."""

    __tablename__ = "service"
    __table_args__ = (
        sa.CheckConstraint("minutes > 0", name="minutes_positive"),
        sa.CheckConstraint("buffer_minutes >= 0", name="buffer_not_negative"),
        sa.CheckConstraint("step_minutes IS NULL OR step_minutes > 0", name="step_positive"),
        sa.CheckConstraint("min_notice_hours >= 0", name="notice_not_negative"),
        sa.CheckConstraint("horizon_days > 0", name="horizon_positive"),
        sa.CheckConstraint("max_open_bookings_per_contact > 0", name="max_open_positive"),
        sa.CheckConstraint(
            "phone_quota_percent BETWEEN 0 AND 100", name="phone_quota_percent_range"
        ),
        sa.CheckConstraint("release_hours_before >= 0", name="release_hours_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    office_id: Mapped[int] = mapped_column(sa.ForeignKey("office.id"), index=True)
    slug: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    description: Mapped[str] = mapped_column(sa.Text, default="")
    # What a family should bring, one item per line (see bring_items).
    please_bring: Mapped[str] = mapped_column(sa.Text, default="", server_default=sa.text("''"))
    translations: Mapped[dict] = mapped_column(
        TEXTS_JSON, default=dict, server_default=sa.text("'{}'")
    )
    minutes: Mapped[int]
    buffer_minutes: Mapped[int] = mapped_column(default=0)
    # A grid step shorter than minutes + buffer; None means back to back.
    step_minutes: Mapped[int | None]
    min_notice_hours: Mapped[int] = mapped_column(default=24)
    horizon_days: Mapped[int] = mapped_column(default=60)
    max_open_bookings_per_contact: Mapped[int] = mapped_column(default=2)
    # Channel quota: this share of each day's slot times is kept for phone and desk bookings
    # until release_hours_before (real hours) before the slot (engine.phone_held_starts).
    phone_quota_percent: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    release_hours_before: Mapped[int] = mapped_column(default=48, server_default=sa.text("48"))
    # Rises with every appointment change of this service (booking/schedule/inputs_cache.py).
    slots_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    public: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    office: Mapped[Office] = relationship(back_populates="services")

    TEXT_FIELDS = SERVICE_TEXT_FIELDS

    @property
    def busy_span(self) -> timedelta:
        """How long an appointment keeps its caseworker busy: its minutes and the buffer."""
        return timedelta(minutes=self.minutes + self.buffer_minutes)

    @property
    def bring_items(self) -> list[str]:
        return bring_lines(self.please_bring)

    def bring_items_in(self, language: object) -> list[str]:
        return bring_lines(self.text_in("please_bring", language))

    @property
    def local_bring_items(self) -> list[str]:
        """What to bring in the language being spoken, else in German."""
        return bring_lines(self.local("please_bring"))

    @bring_items.setter
    def bring_items(self, items: list[str]) -> None:
        self.please_bring = "\n".join(item.strip() for item in items if item.strip())

    def __repr__(self) -> str:
        return f"<Service {self.slug}>"
