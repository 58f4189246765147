"""users.info and conversations.info: at most one lookup per user (channel) per hour."""

from __future__ import annotations

import asyncio

import pytest

from adapters.slack.clients import web_client
from adapters.slack.identity import HOUR, Directory
from tests.fakes.slack_api import FakeSlackApi


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_one_users_info_per_user_per_hour() -> None:
    ticker = Ticker()
    directory = Directory(clock=ticker)
    async with FakeSlackApi() as api:
        api.add_user("U1", "Ann", tz="Asia/Tokyo")
        client = web_client("xoxb-1", api.url)
        results = await asyncio.gather(*(directory.user(client, "U1") for _ in range(5)))
        assert {r.name for r in results if r} == {"Ann"}
        ticker.now += HOUR - 1
        assert (await directory.user(client, "U1")) is not None
        assert len(api.calls_to("users.info")) == 1
        ticker.now += 2
        user = await directory.user(client, "U1")
        assert len(api.calls_to("users.info")) == 2
    assert user is not None and user.timezone == "Asia/Tokyo" and user.team_id == "T0001"


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"status": 503}, {"error": "channel_not_found"}],
    ids=["500", "503", "not-found"],
)
async def test_a_failed_lookup_is_not_remembered(failure: dict) -> None:
    directory = Directory(clock=Ticker())
    async with FakeSlackApi() as api:
        client = web_client("xoxb-1", api.url)
        api.add_user("U1", "Ann")
        api.add_channel("C1", "acme-private")
        api.fail_next(method="users.info", **failure)
        api.fail_next(method="conversations.info", **failure)
        assert await directory.user(client, "U1") is None
        assert await directory.channel(client, "C1") is None
        # The very next request asks Slack again, and that answer is kept.
        assert (await directory.user(client, "U1")) is not None
        assert (await directory.channel(client, "C1")) is not None
        await directory.user(client, "U1")
        assert len(api.calls_to("users.info")) == 2
        assert len(api.calls_to("conversations.info")) == 2


async def test_after_a_429_slack_is_asked_again_only_after_retry_after() -> None:
    ticker = Ticker()
    directory = Directory(clock=ticker)
    async with FakeSlackApi() as api:
        client = web_client("xoxb-1", api.url)
        api.add_channel("C1", "acme-private")
        api.fail_next(status=429, retry_after=30, method="conversations.info")
        assert await directory.channel(client, "C1") is None
        ticker.now += 29
        assert await directory.channel(client, "C1") is None  # still unknown, not "internal"
        assert len(api.calls_to("conversations.info")) == 1
        ticker.now += 2
        channel = await directory.channel(client, "C1")
        assert channel is not None and not channel.is_ext_shared
        assert len(api.calls_to("conversations.info")) == 2


@pytest.mark.parametrize(
    ("details", "external"),
    [
        ({}, False),
        ({"is_restricted": True}, True),
        ({"is_ultra_restricted": True}, True),
        ({"is_restricted": True, "is_ultra_restricted": True}, True),
    ],
    ids=["member", "multi-channel-guest", "single-channel-guest", "both-flags"],
)
async def test_guests_of_our_own_workspace_are_external(details: dict, external: bool) -> None:
    directory = Directory(clock=Ticker())
    async with FakeSlackApi() as api:
        client = web_client("xoxb-1", api.url)
        api.add_user("U0GINA", "Gina", **details)  # same team id as the installation
        user = await directory.user(client, "U0GINA")
    assert user is not None and user.team_id == api.team_id
    assert user.is_external_to(None, api.team_id) is external


async def test_channels_are_cached_too_and_know_slack_connect() -> None:
    directory = Directory(clock=Ticker())
    async with FakeSlackApi() as api:
        api.add_channel("C1", "acme-shared", is_ext_shared=True)
        client = web_client("xoxb-1", api.url)
        first = await directory.channel(client, "C1")
        await directory.channel(client, "C1")
        assert len(api.calls_to("conversations.info")) == 1
    assert first is not None and first.is_ext_shared and first.name == "acme-shared"
