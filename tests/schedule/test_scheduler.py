"""The APScheduler wiring inside `liaison serve`: one in-memory interval job that runs the
due-step at start and every minute, and the delivery worker; off with LIAISON_SCHEDULER."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from adapters.console.deliver import ConsoleDeliverer
from adapters.runtime import build_runtime
from adapters.serve import start_scheduler
from bot.schedule.scheduler import Scheduler, next_tick
from bot.settings import load_settings
from storage.models import OccurrenceClaim
from tests.harness import Harness
from tests.project_setup import kickoff


async def test_the_scheduler_runs_the_due_step_at_once_and_delivers(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    bot.take_posts()
    bot.clock.set("2026-12-02T09:00+00:00")
    posts: list[str] = []
    console = ConsoleDeliverer(posts.append)
    scheduler = Scheduler(sessions=bot.sessions, deliverers={"console": console}, clock=bot.clock)
    scheduler.start()
    try:
        (job,) = scheduler._aps.get_jobs()  # type: ignore[union-attr]
        assert isinstance(job.trigger, IntervalTrigger)
        assert job.trigger.interval == timedelta(minutes=1)
        for _ in range(200):
            if posts:
                break
            await asyncio.sleep(0.02)
    finally:
        await scheduler.stop()
    assert posts and posts[0].startswith("-> #team [internal]\nAll clear for Acme Site")
    async with bot.sessions() as session:
        keys = (await session.scalars(select(OccurrenceClaim.key))).all()
    assert "checkin:project=1:2026-12-02" in keys


def test_the_job_runs_on_the_minute() -> None:
    moment = datetime(2026, 12, 1, 8, 59, 41, 123, tzinfo=UTC)
    assert next_tick(moment) == datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
    assert next_tick(moment, timedelta(seconds=1)) == datetime(2026, 12, 1, 8, 59, 42, tzinfo=UTC)


async def test_liaison_scheduler_off_runs_no_scheduler(db_url: str) -> None:
    off = build_runtime(load_settings(LIAISON_DATABASE_URL=db_url, LIAISON_SCHEDULER="off"))
    on = build_runtime(load_settings(LIAISON_DATABASE_URL=db_url, LIAISON_SCHEDULER="on"))
    try:
        assert start_scheduler(off) is None
        scheduler = start_scheduler(on)
        assert isinstance(scheduler, Scheduler)
        await scheduler.stop()
    finally:
        await off.close()
        await on.close()
