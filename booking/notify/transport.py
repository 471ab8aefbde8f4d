"""Delivery: SMTP for email, a small provider interface for SMS. No Flask in the providers."""

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol


class TemporaryFailure(Exception):
    """Try again later (server down, 4xx, timeout)."""


class ServerUnreachable(TemporaryFailure):
    """No connection to the server at all (refused, timed out, dropped): the others would
    fail the same way, so the pass stops and they keep their turn."""


class PermanentFailure(Exception):
    """Will never work (address refused, 5xx): the message fails and admins see it."""


@dataclass(frozen=True)
class SmtpSettings:
    server: str
    port: int = 25
    use_tls: bool = False
    use_ssl: bool = False
    username: str = ""
    password: str = ""
    sender: str = "noreply@sprechstunde.invalid"
    timeout: float = 20


def build_email(
    sender: str,
    recipient: str,
    subject: str,
    text: str,
    html: str | None,
    ics: str | None,
    ics_method: str | None,
    message_id: str | None = None,
) -> EmailMessage:
    """A multipart message. The email package refuses CR/LF in header values, and callers
    pass only one-line values besides. `message_id` stays the same when a message is sent
    again, so mail systems can recognise a second copy as the same message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = message_id or make_msgid(domain="sprechstunde")
    message.set_content(text)
    if html:
        message.add_alternative(html, subtype="html")
    if ics:
        message.add_attachment(
            ics.encode(),
            maintype="text",
            subtype="calendar",
            filename="termin.ics",
            params={"method": ics_method or "PUBLISH"},
        )
    return message


def send_email(settings: SmtpSettings, message: EmailMessage) -> None:
    try:
        client = _connect(settings)
    except (OSError, smtplib.SMTPException) as error:
        raise ServerUnreachable(f"{type(error).__name__}: {error}") from error
    try:
        with client:
            if settings.use_tls:
                client.starttls(context=ssl.create_default_context())
            if settings.username:
                client.login(settings.username, settings.password)
            refused = client.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if all(500 <= code < 600 for code in codes):
            raise PermanentFailure(f"recipient refused: {codes}") from error
        raise TemporaryFailure(f"recipient refused for now: {codes}") from error
    except smtplib.SMTPResponseException as error:
        if 500 <= error.smtp_code < 600:
            raise PermanentFailure(f"SMTP {error.smtp_code}") from error
        raise TemporaryFailure(f"SMTP {error.smtp_code}") from error
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(f"{type(error).__name__}: {error}") from error
    if refused:
        raise PermanentFailure(f"recipient refused: {sorted(refused)}")


def _connect(settings: SmtpSettings) -> smtplib.SMTP:
    """Connect and read the greeting (raises OSError or SMTPConnectError when down)."""
    if settings.use_ssl:
        return smtplib.SMTP_SSL(
            settings.server,
            settings.port,
            timeout=settings.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout)


class SmsProvider(Protocol):
    name: str

    def send(self, recipient: str, text: str) -> None: ...


class ViewerSmsProvider:
    """Development and tests: the message stays in the outbox viewer; nothing leaves."""

    name = "viewer"

    def send(self, recipient: str, text: str) -> None:
        return None


@dataclass
class HttpSmsGateway:
    """A plain HTTP SMS gateway: POST JSON {to, from, text} with a bearer token."""

    url: str
    token: str
    sender: str
    timeout: float = 15
    name: str = "http"

    def send(self, recipient: str, text: str) -> None:
        body = json.dumps({"to": recipient, "from": self.sender, "text": text}).encode()
        request = urllib.request.Request(  # noqa: S310 (the URL comes from the admin's config)
            self.url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            if 400 <= error.code < 500 and error.code not in (408, 429):
                raise PermanentFailure(f"SMS gateway said {error.code}") from error
            raise TemporaryFailure(f"SMS gateway said {error.code}") from error
        except OSError as error:
            raise TemporaryFailure(f"SMS gateway unreachable: {error}") from error
