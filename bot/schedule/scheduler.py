"""APScheduler wiring: one interval job runs the due-step every minute, on the minute, and
wakes the outbox worker, which delivers in the background.

Schedules live in our own tables (projects' settings, huddle configs) and the due-step
reads them each time; APScheduler holds only this one in-memory job, never a shared job
store. Every process may run it: occurrence claims make each post happen once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.delivery.vocabulary import LEASE, Deliverer
from bot.delivery.workers import OutboxWorker
from bot.metrics import Metrics
from bot.schedule.retention import DELIVERIES_KEPT, prune
from bot.schedule.step import DueResult, run_due

log = logging.getLogger("liaison.scheduler")
INTERVAL = timedelta(minutes=1)
# Retention deletes by age in days: once an hour keeps the tables small at no cost.
PRUNE_EVERY = timedelta(hours=1)


def next_tick(moment: datetime, interval: timedelta = INTERVAL) -> datetime:
    """The next whole multiple of `interval` (on the minute, for a minute): every process
    wakes at the same moments, and posts land on the minute they are due."""
    step = interval.total_seconds()
    return datetime.fromtimestamp((moment.timestamp() // step + 1) * step, UTC)


class Scheduler:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        deliverers: Mapping[str, Deliverer],
        grace: timedelta = timedelta(minutes=120),
        clock: Clock = utc_now,
        lease: timedelta = LEASE,
        interval: timedelta = INTERVAL,
        retention: timedelta = DELIVERIES_KEPT,
        metrics: Metrics | None = None,
    ) -> None:
        self.sessions = sessions
        self.metrics = metrics or Metrics()
        self.grace = grace
        self.clock = clock
        self.interval = interval
        self.retention = retention
        self._next_prune: datetime | None = None
        self.worker = OutboxWorker(
            sessions, deliverers, clock=clock, lease=lease, metrics=self.metrics
        )
        self._aps: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._delivering: asyncio.Task[None] | None = None
        self.last: DueResult | None = None
        self._ticking: asyncio.Task[object] | None = None

    def start(self) -> None:
        """Start inside the running event loop: the first due-step runs at once."""
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:
            quiet.setLevel(logging.WARNING)  # not two lines a minute about our one job
        aps = AsyncIOScheduler(timezone=UTC)
        aps.add_job(
            self.tick,
            IntervalTrigger(
                seconds=self.interval.total_seconds(),
                start_date=next_tick(utc_now(), self.interval),
                timezone=UTC,
            ),
            id="due-step",
            max_instances=1,  # a slow step is never run twice at once in one process
            coalesce=True,
            misfire_grace_time=int(self.interval.total_seconds()),
            next_run_time=utc_now(),
        )
        aps.start()
        self._aps = aps
        if self.worker.deliverers:
            self._delivering = asyncio.create_task(self.worker.run_forever(self._stop))
        log.info("scheduler started: due-step every %s", self.interval)

    async def tick(self) -> None:
        self._ticking = asyncio.current_task()
        started = time.perf_counter()
        self.metrics.scheduler_lag.set(self._lag(utc_now()))
        try:
            self.last = await run_due(self.sessions, self.clock(), grace=self.grace)
            self.metrics.due_step_last_success.set(time.time())
            if self.last.outcomes:
                log.info("due-step: %s", self.last)
        except Exception:  # the job must survive a bad minute; the next one retries
            log.exception("due-step failed")
        finally:
            self.metrics.due_step_seconds.observe(time.perf_counter() - started)
        self.worker.wake()
        await self.prune_if_due()

    async def prune_if_due(self) -> None:
        """The retention step, at the first tick and then once an hour."""
        now = self.clock()
        if self._next_prune is not None and now < self._next_prune:
            return
        self._next_prune = now + PRUNE_EVERY
        try:
            pruned = await prune(self.sessions, now, keep_deliveries=self.retention)
            if pruned.processed_events or pruned.deliveries:
                log.info("retention: deleted %s", pruned)
        except Exception:  # retried at the next hour; nothing else depends on it
            log.exception("retention step failed")

    def _lag(self, moment: datetime) -> float:
        """Seconds since the tick this step belongs to (ticks fall on whole intervals)."""
        return moment.timestamp() % self.interval.total_seconds()

    async def stop(self) -> None:
        """Stop without losing anything: a running due-step commits or rolls back, posts on
        the wire are recorded, and delivery rows taken but not started are given back."""
        self._stop.set()  # first: the worker starts nothing new while the step finishes
        if self._aps is not None:
            # Pause first: APScheduler's shutdown cancels a running job, and a step cut off
            # mid-statement would only be rolled back and logged as a failure.
            self._aps.pause()
            if self._ticking is not None and not self._ticking.done():
                await asyncio.wait([self._ticking])  # let a running step commit or roll back
            self._aps.shutdown(wait=False)
            self._aps = None
        if self._delivering is not None:
            await self._delivering
            self._delivering = None
