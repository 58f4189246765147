"""/pm, mentions and direct messages, posted to the real app over HTTP, signed like Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack_events import event_payload
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


async def test_help_is_answered_in_the_acknowledgement(world: SlackWorld) -> None:
    ack = await world.command("help")
    assert ack["response_type"] == "ephemeral"
    assert ack["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Liaison: what I can do", "emoji": True},
    }
    # The whole list is in the blocks; the notification text is cut at Slack's length.
    assert "project new" in block_texts(ack["blocks"])
    assert ack["text"].startswith("Liaison: what I can do")
    assert world.api.calls_to("response_url") == []


async def test_every_command_answers_through_pm(world: SlackWorld) -> None:
    """Each registered command: its help, and the command itself typed bare, come back as
    Block Kit in the acknowledgement, never as an internal error."""
    ack = await world.command('project new "Acme Site" client:"Acme" budget:$20k')
    assert ack["response_type"] == "in_channel"
    specs = [s for s in world.runtime.engine.registry.all() if not s.hidden]
    assert len(specs) >= 4
    for spec in specs:
        helped = await world.command(f"help {spec.name}")
        assert helped["blocks"][0]["text"]["text"] == spec.name, spec.name
        assert spec.usage.split()[0] in block_texts(helped["blocks"])
        answer = await world.command(spec.name)
        assert answer.get("blocks"), spec.name
        assert answer["text"].strip(), spec.name
        assert "went wrong" not in answer["text"], (spec.name, answer["text"])


async def test_project_started_from_slack_is_in_channel_with_the_users_name(
    world: SlackWorld,
) -> None:
    ack = await world.command('project new "Acme Site" client:"Acme"')
    assert ack["response_type"] == "in_channel"
    assert ack["blocks"][0]["text"]["text"] == "Project Acme Site started"
    assert "*PM*\nAnn" in block_texts(ack["blocks"])  # the name users.info gave
    assert "Europe/Berlin" in block_texts(ack["blocks"])  # and the zone
    status = await world.command("status")
    assert status["blocks"][0]["text"]["text"] == "Acme Site: status"


async def test_mention_in_a_channel_runs_the_command_and_replies_there(world: SlackWorld) -> None:
    await world.command('project new "Acme Site" client:"Acme"')
    payload = event_payload("app_mention", text="<@UBOT> status", channel="C0TEAM")
    response = await world.slack.event(payload)
    assert response.status == 200
    (post,) = await world.api.wait_for("chat.postMessage")
    assert post.args["channel"] == "C0TEAM"
    assert post.json_arg("blocks")[0]["text"]["text"] == "Acme Site: status"


async def test_mention_in_a_thread_replies_in_the_thread(world: SlackWorld) -> None:
    payload = event_payload("app_mention", text="<@UBOT> projects", thread_ts="1515449000.000001")
    await world.slack.event(payload)
    (reply,) = await world.api.wait_for("chat.postEphemeral")
    assert reply.args["thread_ts"] == "1515449000.000001"
    assert reply.args["user"] == "U0ANN"


async def test_direct_message_runs_the_command(world: SlackWorld) -> None:
    await world.slack.event(event_payload("message_im", text="help"))
    (post,) = await world.api.wait_for("chat.postMessage")
    assert post.args["channel"] == "D0ANN"
    assert "Liaison: what I can do" in post.args["text"]


async def test_edits_bot_messages_and_channel_chatter_are_ignored(world: SlackWorld) -> None:
    for event in (
        {"subtype": "message_changed"},
        {"bot_id": "B0001"},
        {"channel_type": "channel", "channel": "C0TEAM"},
    ):
        response = await world.slack.event(event_payload("message_im", text="help", **event))
        assert response.status == 200
    await world.slack.event(event_payload("message_im", text="projects"))
    (post,) = await world.api.wait_for("chat.postMessage")
    assert "Your projects" in post.args["text"]
    assert len(world.api.calls_to("chat.postMessage")) == 1
