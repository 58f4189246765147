"""The Slack deliverer: posts through the Web API and reports failures the outbox's way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.slack.clients import SingleWorkspace, web_client
from adapters.slack.deliver import SlackDeliverer
from bot.delivery.outbox import enqueue
from bot.delivery.vocabulary import DeliveryError, Target
from bot.delivery.workers import deliver_pending
from bot.messages import File, Heading, Image, Message, Text
from storage.models import Delivery
from tests.fakes.slack_api import FakeSlackApi

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
TARGET = Target("slack", "T0001", "C0TEAM", "channel")
HELLO = Message(blocks=(Heading("Morning check-in"), Text("All <!channel> clear")))


def deliverer(api: FakeSlackApi) -> SlackDeliverer:
    return SlackDeliverer(SingleWorkspace(web_client("xoxb-test", api.url)))


async def test_posts_block_kit_with_an_escaped_fallback() -> None:
    async with FakeSlackApi() as api:
        sent = await deliverer(api).deliver(TARGET, HELLO, thread_id="1700000000.000001")
        (call,) = api.calls_to("chat.postMessage")
    assert call.token == "xoxb-test"
    assert call.args["channel"] == "C0TEAM"
    assert call.args["thread_ts"] == "1700000000.000001"
    assert sent.message_id and sent.message_id.startswith("1700000000.")
    assert call.json_arg("blocks")[0]["type"] == "header"
    assert "&lt;!channel&gt;" in call.args["text"] and "<!channel>" not in call.args["text"]


async def test_images_and_files_are_uploaded_after_the_message() -> None:
    message = Message(
        blocks=(
            Text("Burn"),
            Image(b"\x89PNG...", "burn chart", "burn.png"),
            File("tasks.csv", b"number,title\n1,X\n"),
        )
    )
    async with FakeSlackApi() as api:
        await deliverer(api).deliver(TARGET, message)
        (complete,) = api.calls_to("files.completeUploadExternal")
        assert api.methods().index("chat.postMessage") < api.methods().index("upload")
        assert set(api.uploads.values()) == {b"\x89PNG...", b"number,title\n1,X\n"}
    assert complete.args["channel_id"] == "C0TEAM"
    titles = {f["title"] for f in complete.json_arg("files")}
    assert titles == {"burn chart", "tasks.csv"}


async def test_rate_limit_carries_retry_after() -> None:
    async with FakeSlackApi() as api:
        api.fail_next(status=429, retry_after=30)
        with pytest.raises(DeliveryError) as caught:
            await deliverer(api).deliver(TARGET, HELLO)
    assert caught.value.retry_after == 30
    assert not caught.value.permanent


@pytest.mark.parametrize("failure", [{"status": 500}, {"status": 503}, {"drop": True}])
async def test_server_errors_and_dropped_connections_are_retried(failure: dict) -> None:
    async with FakeSlackApi() as api:
        api.fail_next(**failure)
        with pytest.raises(DeliveryError) as caught:
            await deliverer(api).deliver(TARGET, HELLO)
        assert len(api.calls_to("chat.postMessage")) == 1  # the outbox retries, not the client
    assert caught.value.retry_after is None
    assert not caught.value.permanent


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "is_archived"])
async def test_a_channel_gone_is_unreachable(code: str) -> None:
    async with FakeSlackApi() as api:
        api.fail_next(error=code)
        with pytest.raises(DeliveryError) as caught:
            await deliverer(api).deliver(TARGET, HELLO)
    assert caught.value.unreachable and caught.value.permanent
    assert caught.value.reason == code


async def test_other_refusals_are_permanent_but_slack_hiccups_are_not() -> None:
    async with FakeSlackApi() as api:
        api.fail_next(error="invalid_blocks")
        with pytest.raises(DeliveryError) as refused:
            await deliverer(api).deliver(TARGET, HELLO)
        api.fail_next(error="internal_error")
        with pytest.raises(DeliveryError) as hiccup:
            await deliverer(api).deliver(TARGET, HELLO)
    assert refused.value.permanent and not refused.value.unreachable
    assert not hiccup.value.permanent


async def test_through_the_outbox_429_waits_then_sends(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        enqueue(
            session,
            project_id=None,
            platform="slack",
            tenant="T0001",
            channel_id="C0TEAM",
            target_kind="channel",
            message=HELLO,
            now=NOW,
        )
    async with FakeSlackApi() as api:
        slack = {"slack": deliverer(api)}
        api.fail_next(status=429, retry_after=20)
        assert await deliver_pending(sessions, slack, NOW) == 0
        async with sessions() as session:
            row = await session.scalar(select(Delivery))
            assert row is not None
            assert row.status == "pending" and row.next_attempt_at == NOW + timedelta(seconds=20)
        assert await deliver_pending(sessions, slack, NOW + timedelta(seconds=19)) == 0
        assert await deliver_pending(sessions, slack, NOW + timedelta(seconds=20)) == 1
        assert len(api.calls_to("chat.postMessage")) == 2
    async with sessions() as session:
        row = await session.scalar(select(Delivery))
        assert row is not None and row.status == "sent" and row.platform_message_id


async def test_through_the_outbox_a_removed_bot_fails_visibly(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        enqueue(
            session,
            project_id=None,
            platform="slack",
            tenant="T0001",
            channel_id="C0GONE",
            target_kind="channel",
            message=HELLO,
            now=NOW,
        )
    async with FakeSlackApi() as api:
        api.fail_next(error="not_in_channel")
        assert await deliver_pending(sessions, {"slack": deliverer(api)}, NOW) == 0
    async with sessions() as session:
        row = await session.scalar(select(Delivery))
        assert row is not None and row.status == "failed" and row.last_error == "not_in_channel"
