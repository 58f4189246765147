"""When Slack cannot say who someone is or whether a channel is shared, Liaison decides for
the client-safe side: issue 12, items 5 (Slack guests) and 6 (shared-channel detection).

Each attack is run against the real app over HTTP, signed like Slack, with the fake Slack
Web API answering users.info and conversations.info (or failing to)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fakes.slack_api import Call, FakeSlackApi
from tests.fakes.slack_events import event_payload
from tests.fakes.slack_world import SlackWorld, block_texts, populate, slack_world

BUDGET = "20,000"  # what the budget reply shows to the team, and never to a client
INTERNAL = "C0INTERNAL"  # a private channel of our own workspace, not linked to a project


def with_an_internal_channel(api: FakeSlackApi) -> None:
    populate(api)
    api.add_channel(INTERNAL, "acme-internal")


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url, configure=with_an_internal_channel) as world:
        ack = await world.command('project new "Acme Site" client:"Acme" budget:$20k')
        assert ack["response_type"] == "in_channel", ack
        world.api.calls.clear()
        yield world


def shown(answer: dict[str, Any]) -> str:
    return answer.get("text", "") + "\n" + block_texts(answer.get("blocks", []))


async def budget_in(world: SlackWorld, channel: str, *, user: str = "U0ANN") -> str:
    names = {INTERNAL: "acme-internal", "C0PRIVATE": "acme-connect"}
    answer = await world.command(
        'budget project:"Acme Site"', user=user, channel=channel, channel_name=names[channel]
    )
    return shown(answer)


# --- item 6: a channel whose sharing cannot be established counts as shared ----------------


async def test_the_budget_shows_in_an_internal_channel_slack_vouches_for(
    world: SlackWorld,
) -> None:
    """The control for the attacks below: the same command, conversations.info answering."""
    assert BUDGET in await budget_in(world, INTERNAL)


async def test_a_private_slack_connect_channel_answering_channel_not_found_is_shared(
    world: SlackWorld,
) -> None:
    # C0PRIVATE is unknown to conversations.info, as a private Slack Connect channel is.
    assert BUDGET not in await budget_in(world, "C0PRIVATE")
    assert BUDGET not in await budget_in(world, "C0PRIVATE")
    # Asked again each time: the failure was not remembered as anything.
    assert len(world.api.calls_to("conversations.info")) == 2


@pytest.mark.parametrize(
    "failure",
    [{"status": 500}, {"status": 503}, {"error": "channel_not_found"}],
    ids=["500", "503", "channel_not_found"],
)
async def test_a_failed_channel_lookup_shows_no_amounts_and_is_not_cached(
    world: SlackWorld, failure: dict[str, Any]
) -> None:
    world.api.fail_next(method="conversations.info", **failure)
    assert BUDGET not in await budget_in(world, INTERNAL)
    # Slack answers again: the channel is internal now, and only now.
    assert BUDGET in await budget_in(world, INTERNAL)
    assert len(world.api.calls_to("conversations.info")) == 2


async def test_a_rate_limited_channel_lookup_stays_shared_until_retry_after(
    world: SlackWorld,
) -> None:
    world.api.fail_next(method="conversations.info", status=429, retry_after=3)
    assert BUDGET not in await budget_in(world, INTERNAL)
    assert BUDGET not in await budget_in(world, INTERNAL)
    # Within Retry-After Slack is not asked again, and the channel is still not "internal".
    assert len(world.api.calls_to("conversations.info")) == 1


def posted_in(world: SlackWorld, channel: str) -> str:
    def here(call: Call) -> bool:
        return call.args.get("channel") == channel

    calls = [
        c
        for c in world.api.calls
        if c.method in ("chat.postMessage", "chat.postEphemeral") and here(c)
    ]
    return "\n".join(
        c.args.get("text", "") + block_texts(c.json_arg("blocks") or []) for c in calls
    )


@pytest.mark.parametrize("flagged", [False, True], ids=["not-flagged", "flagged-shared"])
async def test_the_events_envelope_flag_for_a_shared_channel_is_honoured(
    world: SlackWorld, flagged: bool
) -> None:
    """conversations.info says internal (say, from before the channel was shared), but the
    event's own envelope says `is_ext_shared_channel`: the envelope wins."""
    await budget_in(world, INTERNAL)  # conversations.info answered and cached: internal
    world.api.calls.clear()
    payload = event_payload(
        "app_mention", text='<@UBOT> budget project:"Acme Site"', channel=INTERNAL
    )
    payload["is_ext_shared_channel"] = flagged
    response = await world.slack.event(payload)
    assert response.status == 200
    # The budget is posted in channel; a refusal is whispered to the asker.
    await world.api.wait_for("chat.postEphemeral" if flagged else "chat.postMessage")
    assert (BUDGET in posted_in(world, INTERNAL)) is not flagged


# --- item 5: guests of our own workspace, and people Slack cannot tell us about ------------


@pytest.mark.parametrize(
    "guest", ["is_restricted", "is_ultra_restricted"], ids=["multi-channel", "single-channel"]
)
async def test_a_guest_of_our_workspace_added_to_the_team_is_still_a_client(
    world: SlackWorld, guest: str
) -> None:
    """Agencies invite clients as guests of their own workspace: same team id, so no team
    comparison catches them. Added to the team by mistake, a guest still sees no amounts."""
    world.api.add_user("U0GINA", "Gina", **{guest: True})
    await world.command("team add <@U0GINA|gina>")
    assert BUDGET not in await budget_in(world, INTERNAL, user="U0GINA")
    status = shown(await world.command("status", user="U0GINA"))
    assert BUDGET not in status


async def test_a_full_member_added_to_the_team_sees_the_budget(world: SlackWorld) -> None:
    """The control for the guest test: the same steps for Bob, a full member."""
    await world.command("team add <@U0BOB|bob>")
    assert BUDGET in await budget_in(world, INTERNAL, user="U0BOB")


async def test_a_failed_users_info_counts_as_external_and_is_not_cached(
    world: SlackWorld,
) -> None:
    await world.command("team add <@U0BOB|bob>")
    world.api.fail_next(method="users.info", status=503)
    assert BUDGET not in await budget_in(world, INTERNAL, user="U0BOB")
    # Slack answers the next time: Bob is on the team again at once.
    assert BUDGET in await budget_in(world, INTERNAL, user="U0BOB")
    asked = [c.args["user"] for c in world.api.calls_to("users.info")]
    assert asked.count("U0BOB") == 2
