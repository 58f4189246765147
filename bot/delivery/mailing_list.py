"""A project's mailing list: who gets the weekly client report, client meeting agendas and
minutes by email (the client's versions only, ever), and the one-click unsubscribe.

Email goes through the outbox like any post: its target is platform `email`, the address
as the channel and the project's id as the tenant (a list belongs to one project, and an
address on two projects' lists is two subscriptions with two unsubscribe links).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.delivery.vocabulary import Target
from bot.domain.access_tokens import digest_of, new_token, well_formed
from bot.errors import UserError
from bot.messages import Heading, Message
from storage.models import Delivery, EmailRecipient, Project

EMAIL = "email"
WANTS = ("report", "agenda", "minutes")
# Slack shows an address typed in a message as <mailto:carol@client.com|carol@client.com>.
_MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>", re.IGNORECASE)


def email_target(project_id: int, address: str) -> Target:
    return Target(EMAIL, str(project_id), address, EMAIL)


def normal_address(text: str) -> str:
    """The address as it will be stored, or a UserError saying what is wrong with it."""
    found = _MAILTO.fullmatch(text.strip())
    raw = found.group(1) if found else text.strip()
    try:
        checked = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as error:
        raise UserError(f"`{raw[:80]}` is not an email address I can send to: {error}") from None
    return checked.normalized


def parse_wants(words: list[str]) -> str:
    chosen = [w.lower() for w in words] or ["report"]
    unknown = [w for w in chosen if w not in WANTS]
    if unknown:
        raise UserError(
            f"`{unknown[0][:40]}` is not something I email; choose from report, agenda, minutes."
        )
    return ",".join(w for w in WANTS if w in chosen)


async def recipients_of(session: AsyncSession, project_id: int) -> list[EmailRecipient]:
    rows = await session.scalars(
        select(EmailRecipient)
        .where(EmailRecipient.project_id == project_id)
        .order_by(EmailRecipient.address)
    )
    return list(rows)


async def recipients_wanting(
    session: AsyncSession, project_ids: list[int], want: str
) -> dict[int, list[str]]:
    """The addresses that asked for `want` (report, agenda, minutes), for many projects in
    one statement."""
    found: dict[int, list[str]] = defaultdict(list)
    if not project_ids:
        return found
    rows = await session.execute(
        select(EmailRecipient.project_id, EmailRecipient.address, EmailRecipient.wants)
        .where(EmailRecipient.project_id.in_(project_ids))
        .order_by(EmailRecipient.project_id, EmailRecipient.address)
    )
    for project_id, address, wants in rows:
        if want in wants.split(","):
            found[project_id].append(address)
    return found


async def report_recipients(session: AsyncSession, project_ids: list[int]) -> dict[int, list[str]]:
    """The addresses that asked for the weekly report, for many projects in one statement."""
    return await recipients_wanting(session, project_ids, "report")


def new_recipient(
    project_id: int,
    address: str,
    wants: str,
    added_by_id: int | None,
    now: object,
    seal: Callable[[str], str],
) -> EmailRecipient:
    """A subscription, its unsubscribe token stored sealed by `seal` (found by digest)."""
    token = new_token()
    return EmailRecipient(
        project_id=project_id,
        address=address,
        wants=wants,
        token=seal(token.token),
        token_digest=token.digest,
        added_by_id=added_by_id,
        created_at=now,
    )


async def find_recipient(
    session: AsyncSession, project_id: int, address: str
) -> EmailRecipient | None:
    return await session.scalar(
        select(EmailRecipient).where(
            EmailRecipient.project_id == project_id, EmailRecipient.address == address
        )
    )


async def remove_recipient(session: AsyncSession, recipient: EmailRecipient, why: str) -> None:
    """Off the list at once: what is still queued for the address is not sent either."""
    await session.execute(delete(EmailRecipient).where(EmailRecipient.id == recipient.id))
    await session.execute(
        update(Delivery)
        .where(
            Delivery.platform == EMAIL,
            Delivery.tenant == str(recipient.project_id),
            Delivery.channel_id == recipient.address,
            Delivery.status == "pending",
        )
        .values(status="failed", last_error=why)
    )


async def recipient_by_token(session: AsyncSession, token: str) -> EmailRecipient | None:
    """The subscription an unsubscribe token names, or None (unknown or malformed alike)."""
    if not well_formed(token):
        return None
    recipient = await session.scalar(
        select(EmailRecipient).where(EmailRecipient.token_digest == digest_of(token))
    )
    # Found by the SHA-256 of a 256-bit token: the token given is the one stored.
    return recipient


def week_of(project: Project, day: date) -> int:
    """The project's week number on `day`: week 1 starts on its start date."""
    return max(1, (day - project.start_date).days // 7 + 1)


def weekly_email(project: Project, client_report: Message, day: date) -> Message:
    """The client report as an email: its first heading becomes the subject line
    (`Acme Site: weekly status, week 3`)."""
    if client_report.audience != "client":
        raise ValueError("only the client report is ever emailed")
    subject = Heading(f"{project.name}: weekly status, week {week_of(project, day)}")
    return replace(client_report, blocks=(subject, *client_report.blocks[1:]))


def client_email(message: Message) -> Message:
    """A client agenda or minutes as an email: its first heading is the subject line."""
    if message.audience != "client":
        raise ValueError("only client-audience messages are ever emailed")
    return message
