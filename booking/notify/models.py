import enum
from datetime import datetime
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from booking.db import UTCDateTime, enum_type, utcnow
from booking.extensions import db

# Stands for the manage link in a stored message; the sender puts the real link in its place.
MANAGE_LINK_PLACEHOLDER = "[manage-link]"
MANAGE_TOKEN_PURPOSE = "outbox-manage-token"  # noqa: S105 (an HKDF label, no secret)


class OutboxChannel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class MessageContent(NamedTuple):
    subject: str
    body_text: str
    body_html: str | None
    ics: str | None
    ics_method: str | None


class MessageNotRenderable(Exception):
    """The appointment a queued message is about no longer exists (erased)."""


class OutboxMessage(db.Model):
    """One message, queued in the transaction of the change that causes it.

    Messages to families about an appointment are rendered when they are sent (the sender
    calls render_now()), not inside the booking's transaction: rendering three templates and a
    calendar file was a third of a booking's time. Until then `render_from` is set, and reading
    subject, bodies or calendar file renders them on the fly without storing them.
    """

    __tablename__ = "outbox_message"
    __table_args__ = (sa.Index("ix_outbox_message_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(sa.String(40))
    channel: Mapped[OutboxChannel] = mapped_column(enum_type(OutboxChannel, "outbox_channel"))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    stored_subject: Mapped[str] = mapped_column("subject", sa.String(200), default="")
    stored_body_text: Mapped[str] = mapped_column("body_text", sa.Text, default="")
    stored_body_html: Mapped[str | None] = mapped_column("body_html", sa.Text)
    stored_ics: Mapped[str | None] = mapped_column("ics", sa.Text)
    stored_ics_method: Mapped[str | None] = mapped_column("ics_method", sa.String(10))
    # Until rendered: the appointment's time, sequence and state when the message was queued
    # (JSON), so that each message tells its own moment even when rendered after later changes.
    render_from: Mapped[str | None] = mapped_column(sa.String(200))
    # The family's manage token, encrypted (booking.core.sealed), until the message is sent:
    # the bodies hold MANAGE_LINK_PLACEHOLDER and the link is put in only when sending.
    sealed_manage_token: Mapped[str | None] = mapped_column(sa.String(255))
    appointment_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("appointment.id", ondelete="SET NULL"), index=True
    )
    staff_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("staff_user.id", ondelete="SET NULL")
    )
    # Makes "queue this once" safe to run twice (reminders, daily agendas).
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(120), unique=True)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_type(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(sa.String(64))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    transport: Mapped[str | None] = mapped_column(sa.String(20))
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    def content(self) -> MessageContent:
        """What the message says: as stored, or rendered now from its appointment."""
        if self.render_from is None:
            return MessageContent(
                self.stored_subject,
                self.stored_body_text,
                self.stored_body_html,
                self.stored_ics,
                self.stored_ics_method,
            )
        from booking.notify.services import render_family_message  # notify builds on models

        return render_family_message(self)

    def render_now(self) -> None:
        """Store the rendered content (the sender, right before sending): what was sent stays
        readable in the outbox viewer and in a data subject's export."""
        if self.render_from is not None:
            self.store(self.content())

    def store(self, content: MessageContent) -> None:
        self.stored_subject, self.stored_body_text = content.subject, content.body_text
        self.stored_body_html, self.stored_ics = content.body_html, content.ics
        self.stored_ics_method = content.ics_method
        self.render_from = None

    def _set_stored(name: str):  # a helper for the properties below, deleted after them
        def setter(self, value) -> None:
            setattr(self, f"stored_{name}", value)

        return setter

    def _shown(self) -> MessageContent:
        # For reading (viewer, export): rendered once per loaded message and snapshot; a
        # message that cannot be rendered says so instead of failing the page.
        cached = self.__dict__.get("_shown_content")
        if cached is not None and cached[0] == self.render_from:
            return cached[1]
        try:
            content = self.content()
        except MessageNotRenderable:
            erased = "(appointment erased: this message will not be sent)"
            content = MessageContent("", erased, None, None, None)
        except Exception as error:  # shown to admins; the sender fails the message
            content = MessageContent(
                "", f"(cannot be rendered: {type(error).__name__})", None, None, None
            )
        self.__dict__["_shown_content"] = (self.render_from, content)
        return content

    subject = property(lambda self: self._shown().subject, _set_stored("subject"))
    body_text = property(lambda self: self._shown().body_text, _set_stored("body_text"))
    body_html = property(lambda self: self._shown().body_html, _set_stored("body_html"))
    ics = property(lambda self: self._shown().ics, _set_stored("ics"))
    ics_method = property(lambda self: self._shown().ics_method, _set_stored("ics_method"))
    del _set_stored
