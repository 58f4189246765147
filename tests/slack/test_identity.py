"""users.info and conversations.info: at most one lookup per user (channel) per hour."""

from __future__ import annotations

import asyncio

from adapters.slack.clients import web_client
from adapters.slack.identity import FAILED_LOOKUP_TTL, HOUR, Directory
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


async def test_a_failed_lookup_is_retried_after_a_few_minutes_not_an_hour() -> None:
    ticker = Ticker()
    directory = Directory(clock=ticker)
    async with FakeSlackApi() as api:
        client = web_client("xoxb-1", api.url)
        api.fail_next(status=500)
        assert await directory.user(client, "U1") is None
        api.add_user("U1", "Ann")
        assert await directory.user(client, "U1") is None  # remembered for a while
        ticker.now += FAILED_LOOKUP_TTL + 1
        assert (await directory.user(client, "U1")) is not None
        assert len(api.calls_to("users.info")) == 2


async def test_channels_are_cached_too_and_know_slack_connect() -> None:
    directory = Directory(clock=Ticker())
    async with FakeSlackApi() as api:
        api.add_channel("C1", "acme-shared", is_ext_shared=True)
        client = web_client("xoxb-1", api.url)
        first = await directory.channel(client, "C1")
        await directory.channel(client, "C1")
        assert len(api.calls_to("conversations.info")) == 1
    assert first is not None and first.is_ext_shared and first.name == "acme-shared"
