"""Requests Slack did not sign, or signed too long ago, change nothing; retries run once."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select

from storage.models import ProcessedEvent, Project
from tests.fakes.slack_events import command_body, event_payload, signed_headers
from tests.fakes.slack_world import SlackWorld, slack_world

NEW_PROJECT = 'project new "Acme Site" client:"Acme"'


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


async def count(world: SlackWorld, model: type) -> int:
    async with world.runtime.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.mark.parametrize(
    "tamper",
    ["wrong secret", "altered body", "no signature", "no timestamp", "stale", "future"],
)
async def test_unverified_requests_get_401_and_change_nothing(
    world: SlackWorld, tamper: str
) -> None:
    body = command_body(NEW_PROJECT, response_url=world.api.response_url())
    now = int(time.time())
    headers = signed_headers(body)
    if tamper == "wrong secret":
        headers = signed_headers(body, secret="not-the-secret")
    elif tamper == "altered body":
        body = body.replace("Acme+Site", "Evil+Site")
    elif tamper == "no signature":
        del headers["X-Slack-Signature"]
    elif tamper == "no timestamp":
        del headers["X-Slack-Request-Timestamp"]
    elif tamper == "stale":  # correctly signed, but more than five minutes old
        headers = signed_headers(body, timestamp=now - 5 * 60 - 30)
    elif tamper == "future":
        headers = signed_headers(body, timestamp=now + 5 * 60 + 30)
    response = await world.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 401
    assert await count(world, Project) == 0
    assert await count(world, ProcessedEvent) == 0
    assert world.api.calls == []


async def test_a_signed_request_four_minutes_old_is_still_accepted(world: SlackWorld) -> None:
    body = command_body(NEW_PROJECT, response_url=world.api.response_url())
    headers = signed_headers(body, timestamp=int(time.time()) - 4 * 60)
    response = await world.http.post("/slack/events", data=body, headers=headers)
    assert response.status == 200
    assert await count(world, Project) == 1


async def test_a_retried_event_is_acknowledged_and_not_run_again(world: SlackWorld) -> None:
    payload = event_payload("app_mention", text=f"<@UBOT> {NEW_PROJECT}")
    first = await world.slack.event(payload)
    assert first.status == 200
    await world.api.wait_for("chat.postMessage")
    for retry in (1, 2):
        again = await world.slack.event(payload, retry=retry)
        assert again.status == 200
    # A different event runs normally, and only after it the count is checked.
    await world.slack.event(event_payload("app_mention", text="<@UBOT> projects"))
    await world.api.wait_for("chat.postEphemeral")
    assert len(world.api.calls_to("chat.postMessage")) == 1
    assert await count(world, Project) == 1


async def test_a_retried_slash_command_is_not_run_twice(world: SlackWorld) -> None:
    body = command_body(NEW_PROJECT, response_url=world.api.response_url())
    first = await world.http.post("/slack/events", data=body, headers=signed_headers(body))
    assert "started" in json.dumps(await first.json())
    again = await world.http.post("/slack/events", data=body, headers=signed_headers(body))
    assert again.status == 200 and await again.text() == ""
    assert await count(world, Project) == 1


async def test_url_verification_is_answered(world: SlackWorld) -> None:
    challenge = {
        "token": "x",
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
        "type": "url_verification",
    }
    response = await world.slack.post(json.dumps(challenge), content_type="application/json")
    assert response.status == 200
    assert (await response.json())["challenge"] == challenge["challenge"]
