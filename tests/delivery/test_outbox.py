"""Delivery workers: pacing per channel, concurrency across channels, retries against a fake
Slack Web API (429 with Retry-After, 500, dropped connections), leases, threads,
unreachable places, and `outbox failed` for the PM. Clocks are fake: nothing waits."""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.console.deliver import ConsoleDeliverer
from adapters.slack.clients import SingleWorkspace, web_client
from adapters.slack.deliver import SlackDeliverer
from bot.delivery.outbox import enqueue
from bot.delivery.pacing import Pacer
from bot.delivery.vocabulary import DeliveryError, Sent, Target
from bot.delivery.workers import OutboxWorker
from bot.messages import Message, Text
from storage.models import Conversation, Delivery
from tests.fakes.slack_api import FakeSlackApi
from tests.harness import Harness
from tests.project_setup import kickoff

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


@dataclass
class FakeTime:
    """Fake time. The worker's UTC clock moves only when a test advances it. Monotonic
    time, which paces posts, is virtual per asyncio task (the outbox posts each channel
    from its own task): sleeping moves only the sleeper's own clock, so concurrent channels
    are seen side by side and one channel's posts are seen spaced out, without waiting."""

    now: datetime = NOW
    slept: list[float] = field(default_factory=list)
    _offsets: weakref.WeakKeyDictionary = field(default_factory=weakref.WeakKeyDictionary)

    def __call__(self) -> datetime:
        return self.now

    def monotonic(self) -> float:
        return self._offsets.get(asyncio.current_task(), 0.0)

    async def sleep(self, seconds: float) -> None:
        key = asyncio.current_task()
        self.slept.append(seconds)
        self._offsets[key] = self._offsets.get(key, 0.0) + seconds
        await asyncio.sleep(0)

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def worker(
    sessions: async_sessionmaker[AsyncSession], deliverers: dict, time: FakeTime, **options
) -> OutboxWorker:
    pacer = Pacer(monotonic=time.monotonic, sleep=time.sleep)
    return OutboxWorker(sessions, deliverers, clock=time, pacer=pacer, **options)


async def queue(
    sessions: async_sessionmaker[AsyncSession],
    texts: list[str],
    channel: str = "C1",
    *,
    platform: str = "slack",
    kind: str = "channel",
    project_id: int | None = None,
) -> None:
    async with sessions() as session, session.begin():
        for text in texts:
            enqueue(
                session,
                project_id=project_id,
                platform=platform,
                tenant="T0001",
                channel_id=channel,
                target_kind=kind,
                message=Message(blocks=(Text(text),)),
                now=NOW,
            )


@dataclass
class Recorder:
    """A platform's deliverer as seen from the outbox: records what it was asked to post."""

    time: FakeTime
    platform: str = "slack"
    posted: list[tuple[float, str, str, str | None]] = field(default_factory=list)
    delay: float = 0

    async def deliver(
        self, target: Target, message: Message, *, thread_id: str | None = None
    ) -> Sent:
        if self.delay:
            await asyncio.sleep(self.delay)
        text = message.plain_text()
        self.posted.append((self.time.monotonic(), target.channel_id, text, thread_id))
        return Sent(f"ts-{len(self.posted)}")


async def statuses(sessions: async_sessionmaker[AsyncSession]) -> dict[str, str]:
    async with sessions() as session:
        rows = await session.execute(select(Delivery.message, Delivery.status))
        return {m["blocks"][0]["text"]: status for m, status in rows}


async def test_paced_per_channel_and_concurrent_across_channels(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    time = FakeTime()
    await queue(sessions, ["a1", "a2", "a3"], "CA")
    await queue(sessions, ["b1", "b2", "b3"], "CB")
    recorder = Recorder(time)
    assert await worker(sessions, {"slack": recorder}, time).run_once() == 6
    by_channel: dict[str, list[tuple[float, str]]] = {}
    for at, channel, text, _ in recorder.posted:
        by_channel.setdefault(channel, []).append((at, text))
    for posts in by_channel.values():
        assert [t for _, t in posts] == sorted(t for _, t in posts)  # in order
        gaps = [b[0] - a[0] for a, b in zip(posts, posts[1:], strict=False)]
        assert all(gap >= 1.0 for gap in gaps)  # Slack: one a second a channel
    # Both channels in the same two seconds, not one after the other.
    assert max(at for at, *_ in recorder.posted) <= 2.0 + 1e-9
    teams = Recorder(time, platform="teams")
    await queue(sessions, [f"t{i}" for i in range(7)], "19:conv", platform="teams")
    await worker(sessions, {"teams": teams}, time).run_once()
    assert [at for at, *_ in teams.posted] == pytest.approx([i / 7 for i in range(7)])


async def test_429_500_and_dropped_connections_every_message_delivered_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    time = FakeTime()
    texts = [f"message {i}" for i in range(6)]
    await queue(sessions, texts[:3], "C1")
    await queue(sessions, texts[3:], "C2")
    async with FakeSlackApi() as api:
        slack = SlackDeliverer(SingleWorkspace(web_client("xoxb-test", api.url)))
        api.fail_next(status=429, retry_after=7)
        api.fail_next(status=500)
        api.fail_next(drop=True)
        outbox = worker(sessions, {"slack": slack}, time)
        for _ in range(20):
            await outbox.run_once()
            if set((await statuses(sessions)).values()) == {"sent"}:
                break
            time.advance(5)
        posted = [c.args["text"] for c in api.calls_to("chat.postMessage")]
    assert set((await statuses(sessions)).values()) == {"sent"}
    assert len(posted) == 6 + 3  # three failed tries, each retried once
    assert sorted(set(posted)) == texts  # each message, none missing
    async with sessions() as session:
        attempts = (await session.scalars(select(Delivery.attempts))).all()
    assert sum(attempts) == 9  # every try recorded


async def test_retry_after_is_honoured_and_backoff_grows(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    time = FakeTime()
    await queue(sessions, ["hello"], "C1")
    async with FakeSlackApi() as api:
        slack = SlackDeliverer(SingleWorkspace(web_client("xoxb-test", api.url)))
        outbox = worker(sessions, {"slack": slack}, time)
        api.fail_next(status=429, retry_after=30)
        await outbox.run_once()
        time.advance(29)
        await outbox.run_once()
        assert len(api.calls_to("chat.postMessage")) == 1  # not before Retry-After
        time.advance(1)
        api.fail_next(status=500, times=2)
        await outbox.run_once()
        async with sessions() as session:
            row = await session.scalar(select(Delivery))
        assert row is not None and row.next_attempt_at == time.now + timedelta(seconds=10)
        time.advance(10)
        await outbox.run_once()
        async with sessions() as session:
            row = await session.scalar(select(Delivery))
        assert row is not None and row.next_attempt_at == time.now + timedelta(seconds=20)
        time.advance(20)
        await outbox.run_once()
    assert (await statuses(sessions)) == {"hello": "sent"}


async def test_after_the_last_attempt_the_row_fails_and_the_pm_sees_why(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    async with bot.sessions() as session:
        project_id = await session.scalar(select(Delivery.project_id)) or 1
    time = FakeTime()
    await queue(bot.sessions, ["Morning check-in"], "C1", project_id=project_id)
    async with FakeSlackApi() as api:
        slack = SlackDeliverer(SingleWorkspace(web_client("xoxb-test", api.url)))
        api.fail_next(status=500, times=3)
        outbox = worker(bot.sessions, {"slack": slack}, time, max_attempts=3)
        for _ in range(3):
            await outbox.run_once()
            time.advance(60)
        assert len(api.calls_to("chat.postMessage")) == 3
    assert (await statuses(bot.sessions)) == {"Morning check-in": "failed"}
    out = await bot.say("ann", "outbox failed")
    assert "Not delivered" in out
    assert "“Morning check-in” (3 attempts; Slack answered HTTP 500 (fatal_error))" in out
    assert "is for the project's PM" in await bot.say("bob", "outbox")
    assert "Trying 1 failed deliveries again" in await bot.say("ann", "outbox retry")
    assert "Pending: 1" in await bot.say("ann", "outbox")


async def test_unreachable_place_is_marked_and_the_pm_told_once(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    await bot.say("ann", "status", channel=None)  # ann's DM with the bot is known
    bot.take_posts()

    class Removed(ConsoleDeliverer):
        async def deliver(self, target: Target, message: Message, *, thread_id=None) -> Sent:  # noqa: ANN001
            if target.channel_id == "team":
                raise DeliveryError("not_in_channel", unreachable=True)
            return await super().deliver(target, message, thread_id=thread_id)

    async with bot.sessions() as session, session.begin():
        for text in ("first", "second"):
            enqueue(
                session,
                project_id=1,
                platform="console",
                tenant="local",
                channel_id="team",
                target_kind="channel",
                message=Message(blocks=(Text(text),)),
                now=bot.clock(),
            )
    posts: list[str] = []
    time = FakeTime(bot.clock())
    await worker(bot.sessions, {"console": Removed(posts.append)}, time).run_once()
    assert (await statuses(bot.sessions)) == {
        "first": "failed",
        "second": "failed",  # not even tried: the place is gone
        "I can no longer post there": "sent",
    }
    assert len(posts) == 1 and posts[0].startswith(
        "-> @ann [internal]\n*I can no longer post there*"
    )
    assert "the team side #team failed: not_in_channel" in posts[0]
    async with bot.sessions() as session:
        tries = (await session.scalars(select(Delivery.attempts).order_by(Delivery.id))).all()
    assert tries[:2] == [1, 0]
    async with bot.sessions() as session:
        reachable = await session.scalar(
            select(Conversation.reachable).where(Conversation.channel_id == "team")
        )
    assert reachable is False
    await queue(bot.sessions, ["third"], "team", platform="console", project_id=1)
    await worker(bot.sessions, {"console": Removed(posts.append)}, time).run_once()
    assert len(posts) == 1  # told once, not once per message


async def test_a_row_under_a_live_lease_is_left_alone_and_taken_when_it_expires(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    time = FakeTime()
    await queue(sessions, ["in flight"], "C1")
    async with sessions() as session, session.begin():
        await session.execute(
            update(Delivery).values(
                status="sending", claimed_at=NOW, lease_until=NOW + timedelta(seconds=120)
            )
        )
    recorder = Recorder(time)
    outbox = worker(sessions, {"slack": recorder}, time)
    assert await outbox.run_once() == 0  # another worker owns it
    await queue(sessions, ["same channel, behind it"], "C1")
    assert await outbox.run_once() == 0  # the channel is busy: one queue per channel
    time.advance(121)
    assert await outbox.run_once() == 2  # that worker died: re-sent, then the next
    assert [text for *_, text, _ in recorder.posted] == ["in flight", "same channel, behind it"]


async def test_replies_wait_for_their_parent_and_thread_under_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    time = FakeTime()
    async with sessions() as session, session.begin():
        parent = enqueue(
            session,
            project_id=None,
            platform="slack",
            tenant="T0001",
            channel_id="C1",
            target_kind="channel",
            message=Message(blocks=(Text("digest"),)),
            now=NOW,
        )
        await session.flush()
        enqueue(
            session,
            project_id=None,
            platform="slack",
            tenant="T0001",
            channel_id="C1",
            target_kind="channel",
            message=Message(blocks=(Text("answer"),)),
            now=NOW,
            thread_of=parent.id,
        )
    recorder = Recorder(time)
    await worker(sessions, {"slack": recorder}, time).run_once()
    assert [(text, thread) for *_, text, thread in recorder.posted] == [
        ("digest", None),
        ("answer", "ts-1"),
    ]


async def test_two_workers_on_one_database_post_each_row_once(
    db_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("several workers at once need PostgreSQL (SQLite runs one process)")
    from storage.db import create_engine, session_factory

    time = FakeTime()
    for channel in range(20):
        await queue(sessions, [f"c{channel}-1", f"c{channel}-2"], f"C{channel}")
    other_engine = create_engine(db_url)
    try:
        recorder = Recorder(time, delay=0.01)
        first = worker(sessions, {"slack": recorder}, time, batch=10)
        second = worker(session_factory(other_engine), {"slack": recorder}, time, batch=10)
        await asyncio.gather(first.run_once(), second.run_once())
        while await first.run_once() or await second.run_once():
            time.advance(1)
    finally:
        await other_engine.dispose()
    texts = [text for *_, text, _ in recorder.posted]
    assert sorted(texts) == sorted(f"c{c}-{n}" for c in range(20) for n in (1, 2))
