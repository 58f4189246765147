"""Delivery workers: take due outbox rows, post them through each platform's Deliverer,
paced per channel and concurrent across channels, and record what happened. The
semantics (exactly-once writing, leases, the one at-least-once case) are explained in
`bot.delivery.outbox`."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from bot.clock import Clock, utc_now
from bot.delivery.pacing import DEFAULT_RATES, Pacer
from bot.delivery.results import record_failure, record_sent, release
from bot.delivery.vocabulary import (
    LEASE,
    MAX_ATTEMPTS,
    Deliverer,
    DeliveryError,
    Job,
    Sent,
    Target,
)
from bot.messages import message_from_dict
from bot.metrics import Metrics
from bot.views.drawing import draw_charts
from storage.models import Delivery

log = logging.getLogger("liaison.outbox")

FIRST_BACKOFF = 5.0  # seconds; doubles per attempt
MAX_BACKOFF = 1800.0
WAIT_FOR_PARENT = timedelta(seconds=2)
GIVE_BACK = timedelta(seconds=1)


@dataclass
class OutboxWorker:
    """Takes due rows and delivers them: paced per channel, concurrent across channels."""

    sessions: async_sessionmaker[AsyncSession]
    deliverers: Mapping[str, Deliverer]
    clock: Clock = utc_now
    pacer: Pacer = field(default_factory=Pacer)
    lease: timedelta = LEASE
    max_attempts: int = MAX_ATTEMPTS
    batch: int = 200
    concurrency: int = 16
    metrics: Metrics = field(default_factory=Metrics)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    # Set when the process shuts down: posts on the wire finish and are recorded, nothing
    # new starts, and rows taken but not started are given back due now, so another
    # process takes them at once instead of when their lease runs out.
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)

    def wake(self) -> None:
        self._wake.set()

    async def run_forever(self, stop: asyncio.Event, *, poll: float = 1.0) -> None:
        self._stopping = stop
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # the worker outlives a bad batch or a database blip
                log.exception("delivery round failed")
            self._wake.clear()
            waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waits, timeout=poll, return_when=asyncio.FIRST_COMPLETED)
            for waiter in waits:
                waiter.cancel()

    async def run_once(self) -> int:
        """Deliver batches until nothing is due; how many rows were sent."""
        sent = 0
        for _ in range(1000):
            if self._stopping.is_set():
                break
            jobs, parents = await self._take()
            if not jobs:
                break
            sent += await self._deliver_all(jobs, parents)
        return sent

    # --- taking rows ------------------------------------------------------------------

    async def _take(self) -> tuple[list[Job], dict[int, tuple[str, str | None]]]:
        now = self.clock()
        async with self.sessions() as session, session.begin():
            rows = list((await session.scalars(self._due_query(now))).all())
            chosen = self._per_channel(rows)
            if not chosen:
                return [], {}
            for row in chosen:
                if row.status == "sending":
                    log.warning("re-sending delivery %s: its worker stopped mid-send", row.id)
            lease_until = now + self.lease
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_([r.id for r in chosen]))
                .values(status="sending", claimed_at=now, lease_until=lease_until)
                .execution_options(synchronize_session=False)
            )
            parents = await self._parents(session, chosen)
        jobs = [
            Job(
                r.id,
                r.project_id,
                Target(r.platform, r.tenant, r.channel_id, r.target_kind),
                r.message,
                r.thread_of,
                r.attempts,
                lease_until,
                r.operation,
            )
            for r in chosen
        ]
        return jobs, parents

    def _due_query(self, now: datetime) -> Any:
        busy = aliased(Delivery)
        # Leave channels another worker is posting to now, so one channel is one queue.
        channel_busy = exists().where(
            busy.platform == Delivery.platform,
            busy.channel_id == Delivery.channel_id,
            busy.status == "sending",
            busy.lease_until > now,
        )
        return (
            select(Delivery)
            .where(
                Delivery.platform.in_(list(self.deliverers)),
                or_(
                    and_(
                        Delivery.status == "pending",
                        Delivery.next_attempt_at <= now,
                        ~channel_busy,
                    ),
                    and_(Delivery.status == "sending", Delivery.lease_until <= now),
                ),
            )
            .order_by(Delivery.id)
            .limit(self.batch)
            .with_for_update(skip_locked=True)
        )

    def _per_channel(self, rows: list[Delivery]) -> list[Delivery]:
        """At most what each channel can post well within the lease; the rest stay."""
        taken: dict[tuple[str, str], int] = defaultdict(int)
        chosen = []
        for row in rows:
            rate = self._rate(row.platform)
            cap = max(1, int(rate * self.lease.total_seconds() / 4)) if rate else self.batch
            key = (row.platform, row.channel_id)
            if taken[key] < cap:
                taken[key] += 1
                chosen.append(row)
        return chosen

    async def _parents(
        self, session: AsyncSession, rows: list[Delivery]
    ) -> dict[int, tuple[str, str | None]]:
        ids = {r.thread_of for r in rows if r.thread_of is not None}
        if not ids:
            return {}
        found = await session.execute(
            select(Delivery.id, Delivery.status, Delivery.platform_message_id).where(
                Delivery.id.in_(ids)
            )
        )
        return {i: (status, message_id) for i, status, message_id in found}

    def _rate(self, platform: str) -> float | None:
        deliverer = self.deliverers.get(platform)
        return getattr(deliverer, "per_second", None) or DEFAULT_RATES.get(platform)

    # --- delivering ---------------------------------------------------------------------

    async def _deliver_all(
        self, jobs: list[Job], parents: dict[int, tuple[str, str | None]]
    ) -> int:
        channels: dict[tuple[str, str], list[Job]] = defaultdict(list)
        for job in jobs:
            channels[(job.target.platform, job.target.channel_id)].append(job)
        limit = asyncio.Semaphore(self.concurrency)

        async def one_channel(queue: list[Job]) -> int:
            async with limit:
                return await self._deliver_channel(queue, parents)

        counts = await asyncio.gather(*(one_channel(q) for q in channels.values()))
        return sum(counts)

    async def _deliver_channel(
        self, queue: list[Job], parents: dict[int, tuple[str, str | None]]
    ) -> int:
        """One channel's rows in order; a transient failure gives the rest back."""
        sent = 0
        for index, job in enumerate(queue):
            thread_id, ready = _thread_of(job, parents)
            if not ready:
                await release(self.sessions, queue[index:], self.clock() + WAIT_FOR_PARENT)
                break
            await self.pacer.wait(
                (job.target.platform, job.target.channel_id), self._rate(job.target.platform)
            )
            if self._stopping.is_set():
                await release(self.sessions, queue[index:], self.clock())
                break
            seconds = (job.lease_until - self.clock()).total_seconds() * 0.9
            if seconds <= 0:
                # Too late to start within the lease: give it back for the next round.
                await release(self.sessions, queue[index:], self.clock() + GIVE_BACK)
                break
            try:
                async with asyncio.timeout(seconds):
                    result = await self._call(job, thread_id)
            except Exception as error:
                failure = as_delivery_error(error)
                again = await record_failure(self, job, failure)
                self._count(job, failure, again)
                if failure.unreachable:
                    break  # the rest of this place's rows were failed with it
                if again is not None:
                    # Keep the channel's order: what follows waits as long as this row.
                    await release(self.sessions, queue[index + 1 :], again)
                    break
                continue
            await record_sent(self, job, result)
            self.metrics.deliveries.labels(job.target.platform, "sent").inc()
            parents[job.id] = ("sent", result.message_id)
            sent += 1
        return sent

    def _count(self, job: Job, failure: DeliveryError, again: datetime | None) -> None:
        platform = job.target.platform
        self.metrics.deliveries.labels(platform, "retry" if again else "failed").inc()
        if failure.retry_after is not None:  # only a 429's Retry-After sets it
            self.metrics.rate_limited.labels(platform).inc()

    async def _call(self, job: Job, thread_id: str | None) -> Sent:
        deliverer = self.deliverers[job.target.platform]
        # Scheduled reports carry their charts undrawn: drawn here, row by row, not in the
        # due-step that wrote a thousand of them.
        message = await draw_charts(message_from_dict(job.message))
        if job.operation == "update":
            if not thread_id:
                raise DeliveryError("the message to edit was never posted", permanent=True)
            return await deliverer.update(job.target, message, message_id=thread_id)
        if thread_id:
            return await deliverer.deliver(job.target, message, thread_id=thread_id)
        return await deliverer.deliver(job.target, message)

    def backoff(self, attempts: int) -> float:
        return min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** max(0, attempts - 1))


def as_delivery_error(error: Exception) -> DeliveryError:
    """Anything but a DeliveryError (a timeout, a dropped connection, an adapter bug) is
    treated as transient."""
    if isinstance(error, DeliveryError):
        return error
    log.warning("delivery call failed: %s: %s", type(error).__name__, error)
    return DeliveryError(f"{type(error).__name__}: {error}".rstrip(": "))


def _thread_of(job: Job, parents: dict[int, tuple[str, str | None]]) -> tuple[str | None, bool]:
    """The platform id to reply under (or to edit), and whether the row may go now: a reply
    waits for its parent, and goes on its own if the parent failed (an edit then fails)."""
    if job.thread_of is None:
        return None, True
    status, message_id = parents.get(job.thread_of, ("pending", None))
    if status == "sent":
        return message_id, True
    return None, status == "failed"


async def deliver_pending(
    sessions: async_sessionmaker[AsyncSession],
    deliverers: Mapping[str, Deliverer],
    now: datetime,
    *,
    max_attempts: int = MAX_ATTEMPTS,
    limit: int = 500,
) -> int:
    """Deliver every row due by `now` through the given platforms; how many were sent."""
    worker = OutboxWorker(
        sessions, deliverers, clock=lambda: now, max_attempts=max_attempts, batch=limit
    )
    return await worker.run_once()
