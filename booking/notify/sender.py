"""Send what the outbox holds: each message once, retried with backoff, never lost.

Two senders may run at once: a message is claimed with a conditional UPDATE (pending ->
sending) that only one of them can win, and only the winner sends it.
"""

import os
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.exc import DBAPIError

from booking.core.sealed import unseal
from booking.core.transactions import DatabaseBusy, begin_write
from booking.core.urls import public_url
from booking.extensions import db
from booking.notify.models import (
    MANAGE_LINK_PLACEHOLDER,
    MANAGE_TOKEN_PURPOSE,
    MessageNotRenderable,
    OutboxChannel,
    OutboxMessage,
    OutboxStatus,
)
from booking.notify.transport import (
    HttpSmsGateway,
    PermanentFailure,
    ServerUnreachable,
    SmsProvider,
    SmtpSettings,
    TemporaryFailure,
    ViewerSmsProvider,
    build_email,
    send_email,
)

BACKOFF_MINUTES = (1, 5, 15, 60, 180, 360, 720)
# A claim older than this belongs to a sender that died; the message goes back to pending.
STALE_CLAIM = timedelta(minutes=15)
# Recording a sent message is retried this often (seconds between tries: 0.2, 0.4, …) before
# the sender gives up and the claim goes stale (then the message is sent again).
RECORD_ATTEMPTS = 5


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=BACKOFF_MINUTES[min(attempts, len(BACKOFF_MINUTES)) - 1])


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"[:64]


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def smtp_settings() -> SmtpSettings | None:
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return None
    return SmtpSettings(
        server=config["MAIL_SERVER"],
        port=int(config["MAIL_PORT"]),
        use_tls=bool(config["MAIL_USE_TLS"]),
        use_ssl=bool(config["MAIL_USE_SSL"]),
        username=config["MAIL_USERNAME"],
        password=config["MAIL_PASSWORD"],
        sender=config["MAIL_DEFAULT_SENDER"],
        timeout=float(config["MAIL_TIMEOUT_SECONDS"]),
    )


def sms_provider() -> SmsProvider:
    config = current_app.config
    if config["SMS_PROVIDER"] == "http":
        return HttpSmsGateway(
            config["SMS_GATEWAY_URL"], config["SMS_GATEWAY_TOKEN"], config["SMS_SENDER"]
        )
    return ViewerSmsProvider()


def release_stale_claims(now: datetime) -> int:
    result = db.session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.status == OutboxStatus.SENDING,
            OutboxMessage.claimed_at < now - STALE_CLAIM,
        )
        .values(status=OutboxStatus.PENDING, claimed_by=None)
    )
    db.session.commit()
    return result.rowcount


def claim(message_id: int, now: datetime, me: str) -> bool:
    """Atomically take one pending message; False when another sender was faster."""
    result = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OutboxStatus.PENDING)
        .values(status=OutboxStatus.SENDING, claimed_at=now, claimed_by=me)
    )
    db.session.commit()
    return result.rowcount == 1


def manage_link(message: OutboxMessage) -> str:
    """The family's manage link, from the sealed token and the site's public address."""
    token = unseal(message.sealed_manage_token, MANAGE_TOKEN_PURPOSE)
    # A token sealed under another SECRET_KEY cannot be opened: the site's address instead.
    if token and token.startswith("/"):  # a whole path (a waiting-list link), not a manage token
        return public_url(token)
    return public_url(f"/manage/{token}") if token else public_url("/")


def with_manage_link(message: OutboxMessage) -> tuple[str, str | None]:
    """The text and HTML bodies as sent: the placeholder replaced by the real link."""
    if not message.sealed_manage_token:
        return message.body_text, message.body_html
    link = manage_link(message)
    html = message.body_html.replace(MANAGE_LINK_PLACEHOLDER, link) if message.body_html else None
    return message.body_text.replace(MANAGE_LINK_PLACEHOLDER, link), html


def stable_message_id(message: OutboxMessage) -> str:
    """The same Message-ID every time this outbox message is sent: a copy sent again after a
    sender died is recognisable as the same message (no personal data in it)."""
    domain = urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "sprechstunde"
    created = int(message.created_at.timestamp())
    return f"<outbox.{message.id}.{created}@{domain}>"


def deliver(message: OutboxMessage, smtp: SmtpSettings | None, sms: SmsProvider) -> str:
    """Send one message; returns the transport's name. Raises Temporary/PermanentFailure."""
    text, html = with_manage_link(message)
    if message.channel == OutboxChannel.SMS:
        sms.send(message.recipient, text)
        return sms.name
    if smtp is None:
        return "viewer"  # development: no mail server; admins read it in the outbox viewer
    email = build_email(
        smtp.sender,
        message.recipient,
        message.subject,
        text,
        html,
        message.ics,
        message.ics_method,
        stable_message_id(message),
    )
    send_email(smtp, email)
    return "smtp"


def record_outcome(
    message_id: int, outcome: OutboxStatus, transport: str | None, error: str | None, now
) -> None:
    # The message went out: recording that must not give up (else it would be sent again).
    begin_write(attempts=30)
    message = db.session.get(OutboxMessage, message_id)
    message.attempts += 1
    message.status = outcome
    message.claimed_by = None
    if outcome == OutboxStatus.SENT:  # the link is out: the sealed token goes
        message.sealed_manage_token = None
    if outcome == OutboxStatus.SENT:
        message.transport = transport
        message.sent_at = now
        message.last_error = None
    else:
        message.last_error = (error or "")[:500]
        if outcome == OutboxStatus.PENDING:
            message.next_attempt_at = now + backoff(message.attempts)
    db.session.commit()


def record_outcome_surely(
    message_id: int, outcome: OutboxStatus, transport: str | None, error: str | None, now
) -> None:
    """record_outcome, tried again when the database drops the connection for a moment: a
    message that went out and is not recorded would be sent a second time."""
    for attempt in range(1, RECORD_ATTEMPTS + 1):
        try:
            record_outcome(message_id, outcome, transport, error, now)
            return
        except (DBAPIError, DatabaseBusy):
            db.session.rollback()
            if attempt == RECORD_ATTEMPTS:
                raise
            current_app.logger.warning("recording message #%s failed; trying again", message_id)
            time.sleep(0.2 * attempt)


class NotSendable(Exception):
    """A queued message that cannot be rendered: it fails visibly instead of being retried."""


def take_rendered(message_id: int) -> OutboxMessage:
    """The claimed message, rendered and stored as it will be sent, detached from the session
    (its transaction is over before the slow part, talking to the mail server). Rendering runs
    before the write lock: only storing the result waits for it."""
    message = db.session.get(OutboxMessage, message_id)
    if message.render_from is not None:
        try:
            content = message.content()
        except Exception as error:  # a gone appointment, or a template that cannot render
            db.session.rollback()
            if not isinstance(error, MessageNotRenderable):
                current_app.logger.exception("outbox message #%s cannot be rendered", message_id)
            raise NotSendable(f"outbox message #{message_id}: {error}"[:480]) from error
        begin_write(attempts=30, keep_loaded=True)
        message.store(content)
        db.session.flush()
    db.session.expunge(message)
    db.session.commit()
    return message


def send_pending(now: datetime, limit: int = 200) -> SendReport:
    """One pass over the due messages. Each is committed on its own."""
    report = SendReport()
    release_stale_claims(now)
    smtp, sms, me = smtp_settings(), sms_provider(), worker_name()
    due = db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.id)
        .limit(limit)
    ).all()
    db.session.commit()
    max_attempts = current_app.config["OUTBOX_MAX_ATTEMPTS"]
    mail_server_down = False
    for message_id in due:
        if mail_server_down and _is_email(message_id):
            continue  # untouched: it keeps its turn for the next pass
        if not claim(message_id, now, me):
            continue
        try:
            message = take_rendered(message_id)
        except NotSendable as gone:
            report.failed += 1
            report.errors.append(f"#{message_id}: {gone}")
            record_outcome_surely(message_id, OutboxStatus.FAILED, None, str(gone), now)
            continue
        try:
            transport, outcome, error = deliver(message, smtp, sms), OutboxStatus.SENT, None
        except PermanentFailure as failure:
            transport, outcome, error = None, OutboxStatus.FAILED, str(failure)
            report.failed += 1
        except TemporaryFailure as failure:
            transport, error = None, str(failure)
            # One timeout is enough to know: the others would each wait as long again.
            mail_server_down = mail_server_down or isinstance(failure, ServerUnreachable)
            if message.attempts + 1 >= max_attempts:
                outcome = OutboxStatus.FAILED
                report.failed += 1
            else:
                outcome = OutboxStatus.PENDING
                report.retried += 1
        if error:
            report.errors.append(f"#{message.id}: {error}")
        else:
            report.sent += 1
        record_outcome_surely(message_id, outcome, transport, error, now)
    return report


def _is_email(message_id: int) -> bool:
    channel = db.session.scalar(select(OutboxMessage.channel).where(OutboxMessage.id == message_id))
    db.session.commit()
    return channel == OutboxChannel.EMAIL
