"""The outbox: messages for other places are written as rows in the same transaction as
the change that caused them, and delivered afterwards through each platform's Deliverer."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.messages import Message, message_from_dict, message_to_dict
from storage.models import Delivery


@dataclass(frozen=True, slots=True)
class Target:
    platform: str
    tenant: str
    channel_id: str
    kind: str  # channel | dm


@dataclass(frozen=True, slots=True)
class Sent:
    """A successful post; `message_id` lets later posts thread under it."""

    message_id: str | None = None


class DeliveryError(Exception):
    """A failed post. `retry_after` (seconds) when the platform said when to come back;
    `permanent` when retrying cannot help; `unreachable` when the bot was removed from the
    conversation or it is gone (the outbox then marks it and tells the project's PM)."""

    def __init__(
        self,
        reason: str,
        *,
        retry_after: float | None = None,
        permanent: bool = False,
        unreachable: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.permanent = permanent or unreachable
        self.unreachable = unreachable


class Deliverer(Protocol):
    """Implemented by each platform adapter; the composition root hands them to the outbox."""

    platform: str

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent: ...


def enqueue(
    session: AsyncSession,
    *,
    project_id: int | None,
    platform: str,
    tenant: str,
    channel_id: str,
    target_kind: str,
    message: Message,
    now: datetime,
    occurrence_key: str | None = None,
    thread_of: int | None = None,
) -> Delivery:
    delivery = Delivery(
        project_id=project_id,
        platform=platform,
        tenant=tenant,
        channel_id=channel_id,
        target_kind=target_kind,
        audience=message.audience,
        message=message_to_dict(message),
        occurrence_key=occurrence_key,
        thread_of=thread_of,
        status="pending",
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


async def deliver_pending(
    sessions: async_sessionmaker[AsyncSession],
    deliverers: Mapping[str, Deliverer],
    now: datetime,
    *,
    max_attempts: int = 5,
    limit: int = 500,
) -> int:
    """Deliver the rows due by `now` for the given platforms, one row at a time; returns
    how many were sent. Failures are recorded on the row and retried with backoff."""
    sent = 0
    async with sessions() as session, session.begin():
        rows = list(
            (
                await session.scalars(
                    select(Delivery)
                    .where(
                        Delivery.status == "pending",
                        Delivery.next_attempt_at <= now,
                        Delivery.platform.in_(list(deliverers)),
                    )
                    .order_by(Delivery.id)
                    .limit(limit)
                )
            ).all()
        )
        for row in rows:
            deliverer = deliverers[row.platform]
            target = Target(row.platform, row.tenant, row.channel_id, row.target_kind)
            row.attempts += 1
            try:
                result = await deliverer.deliver(target, message_from_dict(row.message))
            except DeliveryError as error:
                _record_failure(row, error, now, max_attempts)
                continue
            row.status, row.sent_at = "sent", now
            row.platform_message_id = result.message_id
            sent += 1
    return sent


def _record_failure(row: Delivery, error: DeliveryError, now: datetime, max_attempts: int) -> None:
    row.last_error = error.reason[:2000]
    if error.permanent or row.attempts >= max_attempts:
        row.status = "failed"
        return
    delay = error.retry_after if error.retry_after is not None else 2**row.attempts
    row.next_attempt_at = now + timedelta(seconds=delay)
