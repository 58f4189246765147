"""Email as another Deliverer behind the outbox: one SMTP submission per outbox row, sent
with aiosmtplib. Rows, claims, retries and `outbox failed` are the outbox's; here an
SMTP answer becomes a DeliveryError the outbox understands:

- 4xx answers, dropped connections and timeouts are temporary: retried with backoff;
- a 5xx refusal of the address (550 mailbox unknown, ...) fails the row and tells the PM
  (the outbox's `unreachable`), since only someone can fix the address;
- any other 5xx (authentication refused, message rejected) fails the row for good.

Only client-audience messages are ever emailed (every recipient is outside the team), and
a row whose address has left the list meanwhile is not sent.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import unquote, urlsplit

import aiosmtplib
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.email.render import Envelope, build_email
from bot.delivery.mailing_list import EMAIL, find_recipient
from bot.delivery.vocabulary import DeliveryError, Sent, Target
from bot.messages import Message
from storage.secrets import SecretBox, opened_with

log = logging.getLogger("liaison.email")
TIMEOUT = 30.0  # seconds for each SMTP step


@dataclass(frozen=True, slots=True)
class SmtpServer:
    host: str
    port: int
    username: str | None
    password: str | None
    implicit_tls: bool
    starttls: bool


def parse_smtp_url(url: str) -> SmtpServer:
    """`smtp://user:pass@host:587` (STARTTLS, required when there are credentials),
    `smtps://user:pass@host:465` (implicit TLS), `smtp://host:25` (plain, a local relay)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("LIAISON_SMTP_URL must look like smtp://user:pass@host:587 or smtps://…")
    implicit = parts.scheme == "smtps"
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password else None
    return SmtpServer(
        host=parts.hostname,
        port=parts.port or (465 if implicit else 587 if username else 25),
        username=username,
        password=password,
        implicit_tls=implicit,
        starttls=not implicit and username is not None,
    )


def smtp_tls_context(ca_file: str | None) -> ssl.SSLContext | None:
    """A relay with a private CA: trust its certificates instead of the system's."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


@asynccontextmanager
async def smtp_session(
    server: SmtpServer, tls_context: ssl.SSLContext | None
) -> AsyncIterator[aiosmtplib.SMTP]:
    """Connected, greeted (EHLO), encrypted (STARTTLS or implicit TLS) and logged in: how
    both the outbox and `liaison doctor` reach the relay, so the doctor checks what sends."""
    client = aiosmtplib.SMTP(
        hostname=server.host,
        port=server.port,
        username=server.username,
        password=server.password,
        use_tls=server.implicit_tls,
        start_tls=server.starttls,
        tls_context=tls_context,
        timeout=TIMEOUT,
    )
    async with client:
        yield client


class EmailDeliverer:
    platform = EMAIL
    per_second = 2.0  # to one address: plenty for reports, gentle on the relay

    def __init__(
        self,
        *,
        smtp_url: str,
        mail_from: str,
        public_url: str,
        sessions: async_sessionmaker[AsyncSession],
        secrets: SecretBox | None = None,
        ca_file: str | None = None,
    ) -> None:
        self.server = parse_smtp_url(smtp_url)
        self.mail_from = mail_from
        self.public_url = public_url.rstrip("/")
        self.sessions = sessions
        self.secrets = secrets  # opens the stored unsubscribe tokens
        self.tls_context = smtp_tls_context(ca_file)

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        if message.audience != "client":
            # The audience guard of email: every address on a list is outside the team.
            raise DeliveryError("refused: an internal message addressed to email", permanent=True)
        token = await self._unsubscribe_token(target)
        if token is None:
            # Unsubscribed (or removed) after this row was queued: it is not sent.
            raise DeliveryError("unsubscribed before it was sent", permanent=True)
        envelope = Envelope(
            self.mail_from, target.channel_id, f"{self.public_url}/unsubscribe/{token}"
        )
        mail = build_email(message, envelope)
        try:
            await self._send(mail)
        except aiosmtplib.SMTPRecipientsRefused as error:
            raise _refused(error.recipients) from error
        except aiosmtplib.SMTPResponseException as error:
            raise _answered(error.code, error.message) from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(f"SMTP: {type(error).__name__}: {error}") from error
        return Sent(str(mail["Message-ID"]))

    async def _unsubscribe_token(self, target: Target) -> str | None:
        if not target.tenant.isdigit():
            return None
        async with self.sessions() as session:
            recipient = await find_recipient(session, int(target.tenant), target.channel_id)
        if recipient is None:
            return None
        return opened_with(self.secrets, recipient.token)

    async def _send(self, mail: EmailMessage) -> None:
        async with smtp_session(self.server, self.tls_context) as smtp:
            await smtp.send_message(mail)


def _refused(recipients: list[aiosmtplib.SMTPRecipientRefused]) -> DeliveryError:
    first = recipients[0]
    reason = f"SMTP {first.code} for {first.recipient}: {first.message}"
    if 500 <= first.code < 600:
        return DeliveryError(f"address refused: {reason}", unreachable=True)
    return DeliveryError(reason)


def _answered(code: int, text: str) -> DeliveryError:
    reason = f"SMTP {code}: {text}"
    return DeliveryError(reason, permanent=500 <= code < 600)
