"""Senders deliver one outbox message each: to the log, by e-mail, or to an SMS gateway.

Every sender has the same small shape (``Sender``): the address kinds it can deliver and an
``async send(message)`` that returns once the message is handed over and raises on failure.
The dispatcher (``resourcemap.booking.dispatch``) retries failures; a sender never retries.
A sender raises ``SendError`` with a reason that is safe to store: no address, no text.

Every attempt of one message carries the same ``message_id`` (see
``resourcemap.booking.dispatch``): a gateway that remembers the ids it accepted, for as
long as retries go on (a few hours; keep them a day), delivers each message once even when
a worker died after handing it over, or a gateway's answer was lost.

SMS webhook
-----------
``WebhookSender`` POSTs each text message to ``RESOURCEMAP_SMS_WEBHOOK_URL`` as UTF-8 JSON::

    {"to": "13812345678", "text": "…", "kind": "reminder", "id": 42,
     "message_id": "rm-42-20261201T080000.123456Z"}

with the message id also in the ``Idempotency-Key`` and ``X-ResourceMap-Message-Id``
headers (``id`` is the notification's number, kept for gateways that used it). Any 2xx
answer counts as delivered; anything else (or no answer within 10 seconds) is retried later.

E-mail
------
``SmtpSender`` sets ``Message-ID: <message_id@sender's domain>``, the same on every attempt.

Every request carries ``X-ResourceMap-Signature: t=<unix seconds>,v1=<hex>``, where
``<hex>`` is HMAC-SHA256, keyed with ``RESOURCEMAP_SMS_WEBHOOK_SECRET`` (its UTF-8 bytes),
of the bytes ``<t>.<raw request body>``. To verify, a gateway:

1. splits the header on ``,`` and ``=`` to get ``t`` and ``v1``;
2. computes ``HMAC-SHA256(secret, f"{t}.".encode() + raw_body).hexdigest()`` over the body
   exactly as received (before parsing the JSON);
3. compares it with ``v1`` in constant time (``hmac.compare_digest``), and refuses the
   request when it differs or when ``t`` is more than a few minutes from its own clock
   (replay protection).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import smtplib
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Protocol

from resourcemap.settings import Settings
from resourcemap.vault import mask_email, mask_phone
from resourcemap.vocab import NotificationKind

log = logging.getLogger(__name__)

PHONE = "phone"
EMAIL = "email"
TIMEOUT_SECONDS = 10.0
SIGNATURE_HEADER = "X-ResourceMap-Signature"
MESSAGE_ID_HEADER = "X-ResourceMap-Message-Id"


@dataclass(frozen=True)
class Outgoing:
    """One decrypted message, as a sender needs it. Holds personal data: never log it."""

    id: int
    message_id: str  # the same on every attempt: gateways drop repeats by it
    kind: NotificationKind
    address_kind: str
    address: str = field(repr=False)
    subject: str
    text: str = field(repr=False)


class SendError(Exception):
    """Delivery failed; ``reason`` is short and free of personal data."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Sender(Protocol):
    name: str
    address_kinds: frozenset[str]

    async def send(self, message: Outgoing) -> None: ...


def masked(address_kind: str, address: str) -> str:
    return mask_email(address) if address_kind == EMAIL else mask_phone(address)


class LogSender:
    """Writes a line per message to the log: kind, id and masked address, never the text."""

    name = "log"
    address_kinds = frozenset({PHONE, EMAIL})

    async def send(self, message: Outgoing) -> None:
        log.info(
            "notification %d (%s) to %s %s",
            message.id,
            message.kind.value,
            message.address_kind,
            masked(message.address_kind, message.address),
        )


class SmtpSender:
    """E-mail through an SMTP server, with STARTTLS and login when configured."""

    name = "smtp"
    address_kinds = frozenset({EMAIL})

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        user: str = "",
        password: str = "",
        starttls: bool = True,
        timeout: float = TIMEOUT_SECONDS,
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.user = user
        self.password = password
        self.starttls = starttls
        self.timeout = timeout

    async def send(self, message: Outgoing) -> None:
        email = EmailMessage()
        email["From"] = self.sender
        email["To"] = message.address
        email["Subject"] = message.subject
        domain = self.sender.rpartition("@")[2] or "resourcemap.invalid"
        email["Message-ID"] = f"<{message.message_id}@{domain}>"
        email.set_content(message.text)
        await asyncio.to_thread(self._deliver, email)

    def _deliver(self, email: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(email)
        except smtplib.SMTPResponseException as exc:
            # The server's text may quote the recipient: keep its code only.
            raise SendError(f"SMTP server answered {exc.smtp_code}") from None
        except smtplib.SMTPRecipientsRefused:
            raise SendError("SMTP server refused the recipient") from None
        except smtplib.SMTPException as exc:
            raise SendError(f"SMTP error ({type(exc).__name__})") from None
        except OSError as exc:  # ssl.SSLError and timeouts included
            raise SendError(f"cannot reach the SMTP server ({type(exc).__name__})") from None


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-ResourceMap-Signature`` value of ``body`` sent at ``timestamp``.

    >>> sign(b"s3cret", b'{"id":1}', 1700000000)[:13]
    't=1700000000,'
    """
    digest = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class WebhookSender:
    """Text messages to an SMS gateway as signed JSON (scheme in the module docstring)."""

    name = "webhook"
    address_kinds = frozenset({PHONE})

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.url = url
        self.secret = secret.encode()
        self.timeout = timeout
        self.clock = clock

    async def send(self, message: Outgoing) -> None:
        body = json.dumps(
            {
                "to": message.address,
                "text": message.text,
                "kind": message.kind.value,
                "id": message.id,
                "message_id": message.message_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "User-Agent": "ResourceMap",
                SIGNATURE_HEADER: sign(self.secret, body, int(self.clock())),
                "Idempotency-Key": message.message_id,
                MESSAGE_ID_HEADER: message.message_id,
            },
        )
        await asyncio.to_thread(self._post, request)

    def _post(self, request: urllib.request.Request) -> None:
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            exc.close()
            raise SendError(f"SMS gateway answered HTTP {exc.code}") from None
        except TimeoutError:
            raise SendError("SMS gateway did not answer in time") from None
        except (urllib.error.URLError, OSError) as exc:
            raise SendError(f"cannot reach the SMS gateway ({type(exc).__name__})") from None


def build_senders(settings: Settings) -> list[Sender]:
    """The senders ``RESOURCEMAP_NOTIFY_SENDERS`` names (``Settings`` refuses one named
    without what it needs)."""
    senders: list[Sender] = []
    for name in settings.senders:
        if name == "log":
            senders.append(LogSender())
        elif name == "smtp":  # its host and sender address: checked with the settings
            senders.append(
                SmtpSender(
                    settings.smtp_host,
                    settings.smtp_port,
                    settings.smtp_from,
                    user=settings.smtp_user,
                    password=(
                        ""
                        if settings.smtp_password is None
                        else settings.smtp_password.get_secret_value()
                    ),
                    starttls=settings.smtp_starttls,
                )
            )
        elif name == "webhook":  # its URL and secret: checked with the settings
            secret = settings.sms_webhook_secret
            senders.append(
                WebhookSender(
                    settings.sms_webhook_url, "" if secret is None else secret.get_secret_value()
                )
            )
    return senders
