"""Recording what a delivery attempt did, each in its own short transaction committed
right after the call, and handling places the bot can no longer reach."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import local_date
from bot.delivery.outbox import enqueue, person_target, unlinked_place
from bot.delivery.vocabulary import DeliveryError, Job, Sent, Target, Worker
from bot.views.notices import unreachable_notice
from storage.models import (
    ChannelLink,
    Conversation,
    Delivery,
    Membership,
    OccurrenceClaim,
    Person,
    Project,
    Tenant,
)
from storage.upsert import insert_ignore

log = logging.getLogger("liaison.outbox")


async def record_sent(worker: Worker, job: Job, result: Sent) -> None:
    async with worker.sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.id == job.id)
            .values(
                status="sent",
                sent_at=worker.clock(),
                platform_message_id=result.message_id,
                attempts=Delivery.attempts + 1,
                lease_until=None,
            )
        )


async def release(
    sessions: async_sessionmaker[AsyncSession], jobs: Sequence[Job], when: datetime
) -> None:
    """Give rows back untried (no attempt counted), due again at `when`."""
    if not jobs:
        return
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([j.id for j in jobs]), Delivery.status == "sending")
            .values(status="pending", next_attempt_at=when, lease_until=None)
        )


async def record_failure(worker: Worker, job: Job, error: DeliveryError) -> datetime | None:
    """Record a failed attempt: when to try again, or None when the row has failed."""
    now = worker.clock()
    attempts = job.attempts + 1
    values: dict[str, object] = {
        "attempts": attempts,
        "last_error": error.reason[:2000],
        "lease_until": None,
    }
    again = None
    if error.permanent or attempts >= worker.max_attempts:
        values["status"] = "failed"
        log.warning("delivery %s failed for good: %s", job.id, error.reason)
    else:
        again = now + _delay(worker, error, attempts)
        values.update(status="pending", next_attempt_at=again)
    async with worker.sessions() as session, session.begin():
        await session.execute(update(Delivery).where(Delivery.id == job.id).values(**values))
        if error.unreachable:
            await _unreachable(session, job, error.reason, now)
    return again


def _delay(worker: Worker, error: DeliveryError, attempts: int) -> timedelta:
    seconds = error.retry_after if error.retry_after is not None else worker.backoff(attempts)
    return timedelta(seconds=max(0.0, seconds))


async def _unreachable(session: AsyncSession, job: Job, reason: str, now: datetime) -> None:
    """The bot was removed from a place: remember it, fail what else waits for that place
    (nothing is dropped silently: `outbox failed` lists them), and tell the PM once a day."""
    target = job.target
    await session.execute(
        update(Conversation)
        .where(
            Conversation.platform == target.platform, Conversation.channel_id == target.channel_id
        )
        .values(reachable=False, unreachable_reason=reason[:200], updated_at=now)
    )
    await session.execute(
        update(Delivery)
        .where(
            Delivery.platform == target.platform,
            Delivery.channel_id == target.channel_id,
            Delivery.status.in_(("pending", "sending")),
        )
        .values(status="failed", last_error=f"unreachable: {reason}"[:2000])
    )
    if job.project_id is None:
        return
    key = f"unreachable:project={job.project_id}:{target.platform}/{target.channel_id}"
    key = f"{key[:185]}:{local_date(now, 'UTC').isoformat()}"
    claimed = await insert_ignore(
        session,
        OccurrenceClaim,
        {
            "key": key,
            "project_id": job.project_id,
            "due_at": now,
            "claimed_at": now,
            "outcome": "queued",
        },
        ["key"],
    )
    if claimed is None:
        return
    where = await _describe(session, job)
    notice_to = await _pm_target(session, job)
    if notice_to is None or notice_to == target:
        log.warning(
            "project %s: nowhere to tell the PM that %s is unreachable", job.project_id, where
        )
        return
    enqueue(
        session,
        project_id=job.project_id,
        platform=notice_to.platform,
        tenant=notice_to.tenant,
        channel_id=notice_to.channel_id,
        target_kind=notice_to.kind,
        message=unreachable_notice(where, reason, email=target.kind == "email"),
        now=now,
    )


async def _describe(session: AsyncSession, job: Job) -> str:
    if job.target.kind in ("dm", "email"):
        return unlinked_place(job.target.kind, job.target.channel_id)
    link = await session.scalar(
        select(ChannelLink).where(
            ChannelLink.platform == job.target.platform,
            ChannelLink.channel_id == job.target.channel_id,
        )
    )
    if link is None:
        return unlinked_place(job.target.kind, job.target.channel_id)
    return f"the {link.side} side #{link.name or link.channel_id}"


async def _pm_target(session: AsyncSession, job: Job) -> Target | None:
    """The PM's direct messages in the project's tenant, or else the team side."""
    row = (
        await session.execute(
            select(Person, Conversation, Tenant.external_id)
            .join(Membership, Membership.person_id == Person.id)
            .join(Project, Project.id == Membership.project_id)
            .join(Tenant, Tenant.id == Project.tenant_id)
            .outerjoin(
                Conversation,
                (Conversation.person_id == Person.id)
                & (Conversation.kind == "dm")
                & (Conversation.tenant == Tenant.external_id),
            )
            .where(Membership.project_id == job.project_id, Membership.role == "pm")
            .order_by(Membership.id)
            .limit(1)
        )
    ).first()
    if row is not None:
        target = person_target(row[0], row[1], row[2])
        if target is not None and target != job.target:
            return target
    link = await session.scalar(
        select(ChannelLink).where(
            ChannelLink.project_id == job.project_id, ChannelLink.side == "team"
        )
    )
    if link is None:
        return None
    return Target(link.platform, link.tenant, link.channel_id, "channel")
