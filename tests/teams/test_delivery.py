"""Proactive posts: the outbox delivers through continue_conversation with the stored
reference; the Bot Connector's refusals become retries, give-ups or unreachable places."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from adapters.teams.deliver import TeamsDeliverer
from adapters.teams.transport import backoff, retry_after
from bot.delivery import outbox
from bot.delivery.vocabulary import DeliveryError, Target
from bot.messages import Heading, Message, Text
from storage.models import Conversation, Delivery
from tests.fakes.bot_connector import FakeBotConnector
from tests.teams_support import (
    SHARED_CHANNEL,
    TEAM_CHANNEL,
    TENANT,
    TeamsService,
    message,
    sqlite_copy,
    teams_service,
)

NOTICE = Message((Heading("Morning check-in"), Text("Two tasks are due today.")))
TEAM = Target("teams", TENANT, TEAM_CHANNEL, "channel")


@asynccontextmanager
async def _seen(url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(url) as service:
        # The bot has seen the team channel: its reference is stored.
        await service.say("ann", "help")
        service.connector.take()
        yield service


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    """With the outbox on both databases."""
    async with _seen(db_url) as service:
        yield service


@pytest.fixture
async def wire(tmp_path: Path, sqlite_template: Path) -> AsyncIterator[TeamsService]:
    """For what the Bot Connector's answers mean: one database is enough."""
    async with _seen(sqlite_copy(tmp_path, sqlite_template)) as service:
        yield service


def _deliverer(teams: TeamsService) -> TeamsDeliverer:
    deliverer = teams.runtime.deliverers["teams"]
    assert isinstance(deliverer, TeamsDeliverer)
    return deliverer


async def _queue_notices(teams: TeamsService, count: int) -> None:
    """Queue `count` notices for the team channel, as the due-step or a command would."""
    async with teams.runtime.sessions() as session, session.begin():
        for _ in range(count):
            outbox.enqueue(
                session,
                project_id=None,
                platform="teams",
                tenant=TENANT,
                channel_id=TEAM_CHANNEL,
                target_kind="channel",
                message=NOTICE,
                now=teams.clock(),
            )


async def _fails(teams: TeamsService, status: int, **failure: str) -> DeliveryError:
    teams.connector.fail_next(status=status, **failure)
    attempts = teams.connector.attempts
    with pytest.raises(DeliveryError) as raised:
        await _deliverer(teams).deliver(TEAM, NOTICE)
    # One request per delivery: retrying is the outbox's decision, not the HTTP client's.
    assert teams.connector.attempts == attempts + 1
    return raised.value


async def test_a_proactive_post_goes_to_the_top_of_the_stored_channel(
    wire: TeamsService,
) -> None:
    sent = await _deliverer(wire).deliver(TEAM, NOTICE)
    (post,) = wire.connector.posts
    assert post.conversation_id == TEAM_CHANNEL and post.reply_to is None
    assert sent.message_id == "activity-2"
    assert "Morning check-in" in post.card_text()
    assert post.activity["from"]["id"].startswith("28:")  # addressed from the bot
    threaded = await _deliverer(wire).deliver(TEAM, NOTICE, thread_id="1700000000123")
    assert wire.connector.posts[-1].conversation_id == f"{TEAM_CHANNEL};messageid=1700000000123"
    assert threaded.message_id


async def test_the_outbox_delivers_queued_rows_through_teams(teams: TeamsService) -> None:
    await _queue_notices(teams, 2)
    assert await teams.deliver() == 2
    assert [p.conversation_id for p in teams.connector.posts] == [TEAM_CHANNEL] * 2
    async with teams.runtime.sessions() as session:
        statuses = (await session.scalars(select(Delivery.status))).all()
    assert statuses == ["sent", "sent"]


async def test_a_moved_service_url_is_followed(wire: TeamsService) -> None:
    async with FakeBotConnector() as moved:
        # The team channel speaks through another region now (listed, like the first: it
        # is on loopback, not on Microsoft's hosts).
        _deliverer(wire).allowed.extra.add(moved.url.rstrip("/"))
        assert await wire.post(message("help", service_url=moved.url)) == 201
        moved.take()
        await _deliverer(wire).deliver(TEAM, NOTICE)
        assert len(moved.posts) == 1 and moved.posts[0].conversation_id == TEAM_CHANNEL
    assert wire.connector.posts == []


async def test_429_honours_retry_after(wire: TeamsService) -> None:
    error = await _fails(wire, 429, retry_after="7")
    assert error.retry_after == 7 and not error.permanent and not error.unreachable


async def test_429_without_retry_after_backs_off_with_jitter(wire: TeamsService) -> None:
    first = await _fails(wire, 429)
    second = await _fails(wire, 429)
    assert first.retry_after is not None and 1 <= first.retry_after <= 2
    assert second.retry_after is not None and 2 <= second.retry_after <= 4
    await _deliverer(wire).deliver(TEAM, NOTICE)  # success resets the count
    third = await _fails(wire, 429)
    assert third.retry_after is not None and third.retry_after <= 2
    delays = {round(backoff(5), 3) for _ in range(20)}
    assert len(delays) > 1 and all(16 <= d <= 32 for d in delays)


@pytest.mark.parametrize("status", [412, 500, 502, 503, 504])
async def test_transient_failures_are_retried(wire: TeamsService, status: int) -> None:
    error = await _fails(wire, status)
    assert not error.permanent and not error.unreachable and error.retry_after is None
    assert str(status) in error.reason


@pytest.mark.parametrize("status", [403, 404])
async def test_403_and_404_mean_the_conversation_is_unreachable(
    wire: TeamsService, status: int
) -> None:
    error = await _fails(wire, status)
    assert error.unreachable and error.permanent


async def test_a_bad_request_is_not_retried(wire: TeamsService) -> None:
    error = await _fails(wire, 400)
    assert error.permanent and not error.unreachable


async def test_a_place_the_bot_never_saw_is_unreachable(wire: TeamsService) -> None:
    with pytest.raises(DeliveryError) as raised:
        await _deliverer(wire).deliver(Target("teams", TENANT, SHARED_CHANNEL, "channel"), NOTICE)
    assert raised.value.unreachable
    assert wire.connector.attempts == 1  # only the reply to "help" in the fixture


async def test_through_the_outbox_a_403_marks_the_channel_unreachable(
    teams: TeamsService,
) -> None:
    await _queue_notices(teams, 1)
    teams.connector.fail_next(status=403)
    assert await teams.deliver() == 0
    async with teams.runtime.sessions() as session:
        row = await session.scalar(select(Delivery))
        place = await session.scalar(
            select(Conversation).where(Conversation.channel_id == TEAM_CHANNEL)
        )
    assert row is not None and row.status == "failed" and "403" in (row.last_error or "")
    assert place is not None and not place.reachable
    # The next post there is refused without calling Teams again.
    attempts = teams.connector.attempts
    with pytest.raises(DeliveryError) as raised:
        await _deliverer(teams).deliver(TEAM, NOTICE)
    assert raised.value.unreachable and teams.connector.attempts == attempts


async def test_through_the_outbox_a_429_waits_as_long_as_asked(teams: TeamsService) -> None:
    await _queue_notices(teams, 1)
    teams.connector.fail_next(status=429, retry_after="30")
    assert await teams.deliver() == 0
    async with teams.runtime.sessions() as session:
        row = await session.scalar(select(Delivery))
    assert row is not None and row.status == "pending"
    assert row.next_attempt_at == teams.clock() + timedelta(seconds=30)
    teams.clock.advance(seconds=31)
    assert await teams.deliver() == 1


async def test_a_reply_that_fails_is_queued_not_dropped(teams: TeamsService) -> None:
    teams.connector.fail_next(status=502)
    assert await teams.say("ann", 'project new "Acme Site" client:"Acme Corp"') == []
    async with teams.runtime.sessions() as session:
        row = await session.scalar(select(Delivery))
    assert row is not None and row.status == "pending" and row.channel_id == TEAM_CHANNEL
    assert await teams.deliver() == 1
    assert "Project Acme Site started" in teams.connector.posts[-1].card_text()


async def test_a_reply_to_a_removed_bot_is_not_queued(teams: TeamsService) -> None:
    teams.connector.fail_next(status=403)
    assert await teams.say("ann", "help") == []
    async with teams.runtime.sessions() as session:
        assert await session.scalar(select(Delivery)) is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    assert retry_after({"Retry-After": "12"}) == 12
    assert retry_after({"Retry-After": "Tue, 01 Dec 2026 10:00:40 GMT"}, now) == 40
    assert retry_after({"Retry-After": "soon"}) is None
    assert retry_after({}) is None
