"""Retention: the scheduler deletes processed-event ids after a day and finished outbox
rows after LIAISON_RETENTION_DAYS, once an hour, in a fixed number of statements; failed
rows stay in `outbox failed` until then, and occurrence claims are never touched."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.runtime import build_runtime
from adapters.serve import start_scheduler
from bot.delivery.outbox import enqueue
from bot.messages import Message, Text
from bot.schedule.retention import prune
from bot.schedule.scheduler import Scheduler
from bot.settings import load_settings
from storage.models import Delivery, OccurrenceClaim, ProcessedEvent
from tests.conftest import StatementCounter
from tests.harness import Harness
from tests.project_setup import kickoff

DAY = timedelta(days=1)


async def add_delivery(
    session: AsyncSession,
    text: str,
    status: str,
    last_tried: datetime,
    *,
    thread_of: int | None = None,
    project_id: int | None = 1,
) -> int:
    row = enqueue(
        session,
        project_id=project_id,
        platform="console",
        tenant="local",
        channel_id="team",
        target_kind="channel",
        message=Message(blocks=(Text(text),)),
        now=last_tried,
        thread_of=thread_of,
    )
    await session.flush()
    await session.execute(
        update(Delivery)
        .where(Delivery.id == row.id)
        .values(status=status, attempts=3, last_error="Slack answered HTTP 500")
    )
    return row.id


async def add_event(session: AsyncSession, event_id: str, at: datetime) -> None:
    session.add(ProcessedEvent(platform="slack", event_id=event_id, processed_at=at))
    await session.flush()


async def texts(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return {m["blocks"][0]["text"] for m in await session.scalars(select(Delivery.message))}


async def event_ids(sessions: async_sessionmaker[AsyncSession]) -> set[str]:
    async with sessions() as session:
        return set(await session.scalars(select(ProcessedEvent.event_id)))


async def test_the_scheduler_deletes_old_events_and_finished_deliveries(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    now = bot.clock()
    long_ago = now - 91 * DAY
    async with bot.sessions() as session, session.begin():
        await add_event(session, "Ev-old", now - 25 * timedelta(hours=1))
        await add_event(session, "Ev-recent", now - 23 * timedelta(hours=1))
        await add_delivery(session, "sent long ago", "sent", long_ago)
        await add_delivery(session, "failed long ago", "failed", long_ago)
        await add_delivery(session, "failed recently", "failed", now - 89 * DAY)
        await add_delivery(session, "sent recently", "sent", now - 10 * DAY)
        await add_delivery(session, "pending long ago", "pending", long_ago)
        parent = await add_delivery(session, "parent of a waiting reply", "sent", long_ago)
        await add_delivery(session, "waiting reply", "pending", long_ago, thread_of=parent)
        parent = await add_delivery(session, "old thread", "sent", long_ago)
        await add_delivery(session, "old reply", "sent", long_ago, thread_of=parent)
        session.add(
            OccurrenceClaim(
                key="checkin:project=1:2026-05-01", project_id=1, due_at=now - 200 * DAY,
                claimed_at=now - 200 * DAY, outcome="queued",
            )
        )  # fmt: skip
    before = await texts(bot.sessions)

    scheduler = Scheduler(sessions=bot.sessions, deliverers={}, clock=bot.clock)
    await scheduler.tick()

    gone = {"sent long ago", "failed long ago", "old thread", "old reply"}
    after = await texts(bot.sessions)
    assert not gone & after
    assert before - gone <= after  # the tick's own check-in may have been queued as well
    assert await event_ids(bot.sessions) == {"Ev-recent"}
    async with bot.sessions() as session:
        claims = await session.scalar(
            select(func.count()).where(OccurrenceClaim.key == "checkin:project=1:2026-05-01")
        )
    assert claims == 1
    # A failed row stays visible to the PM until the retention period is up.
    out = await bot.say("ann", "outbox failed")
    assert "failed recently" in out and "failed long ago" not in out


async def test_retention_runs_once_an_hour_with_the_configured_days(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    scheduler = Scheduler(
        sessions=bot.sessions, deliverers={}, clock=bot.clock, retention=timedelta(days=30)
    )
    await scheduler.tick()
    now = bot.clock()
    async with bot.sessions() as session, session.begin():
        await add_event(session, "Ev-1", now - 2 * DAY)
        await add_delivery(session, "31 days old", "sent", now - 31 * DAY)
    bot.clock.advance(minutes=30)
    await scheduler.tick()
    assert await event_ids(bot.sessions) == {"Ev-1"}  # not yet: the last run was 30 min ago
    bot.clock.advance(minutes=31)
    await scheduler.tick()
    assert await event_ids(bot.sessions) == set()
    assert "31 days old" not in await texts(bot.sessions)


async def test_retention_is_two_statements_whatever_the_rows(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot, client_side=False)
    now = bot.clock()
    counts = []
    for rows in (1, 300):
        async with bot.sessions() as session, session.begin():
            for n in range(rows):
                await add_event(session, f"Ev-{rows}-{n}", now - 2 * DAY)
                await add_delivery(session, f"old {rows}-{n}", "sent", now - 100 * DAY)
        statements.reset()
        pruned = await prune(bot.sessions, now)
        assert (pruned.processed_events, pruned.deliveries) == (rows, rows)
        counts.append(statements.count)
    assert counts == [2, 2]


async def test_liaison_retention_days_reaches_the_scheduler(db_url: str) -> None:
    runtime = build_runtime(load_settings(LIAISON_DATABASE_URL=db_url, LIAISON_RETENTION_DAYS="30"))
    try:
        scheduler = start_scheduler(runtime)
        assert scheduler is not None and scheduler.retention == timedelta(days=30)
        await scheduler.stop()
    finally:
        await runtime.close()
    assert load_settings().retention_days == 90
