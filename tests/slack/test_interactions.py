"""Buttons, modals, the message shortcut, the Home tab and Slack Connect, over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.fakes.slack_events import event_payload, fixture
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


def buttons(blocks: list[dict]) -> list[dict]:
    return [e for b in blocks if b["type"] == "actions" for e in b["elements"]]


def press(
    button: dict, *, user: str, team: str, channel: str, response_key: str, world: SlackWorld
) -> dict:
    payload = fixture("block_actions")
    payload["user"].update(id=user, username=user.lower(), name=user.lower(), team_id=team)
    payload["team"]["id"] = team
    payload["channel"]["id"] = payload["container"]["channel_id"] = channel
    payload["response_url"] = world.api.response_url(response_key)
    payload["trigger_id"] = f"{response_key}.22717085937.b3f2c9d1"
    payload["actions"] = [{**button, "block_id": "b1", "type": "button", "action_ts": "1.2"}]
    return payload


async def set_up_project(world: SlackWorld) -> None:
    await world.command('project new "Acme Site" client:"Acme" budget:$20k due:2027-03-01')
    linked = await world.command("project link client", channel="C0SHARED")
    assert "now shared with Acme" in block_texts(linked["blocks"])


async def test_a_change_is_approved_from_its_card(world: SlackWorld) -> None:
    await set_up_project(world)
    raised = await world.command('change "Extra landing page" cost:$2k days:3')
    assert "sent to Acme for approval" in raised["text"]
    assert await world.deliver() == 1
    (card,) = world.api.calls_to("chat.postMessage")
    assert card.args["channel"] == "C0SHARED"
    approve = next(b for b in buttons(card.json_arg("blocks")) if b["text"]["text"] == "Approve")
    assert approve["action_id"].startswith("change approve")

    payload = press(
        approve,
        user="U0CAROL",
        team="T0CLIENT",
        channel="C0SHARED",
        response_key="card",
        world=world,
    )
    response = await world.slack.interaction(payload)
    assert response.status == 200
    (answer,) = await world.api.wait_for("response_url")
    assert answer.args["response_type"] == "in_channel"
    assert "Change 1 approved by Carol" in answer.args["text"]
    assert "2,000" not in answer.args["text"]  # the client view carries no money
    assert await world.deliver() == 1  # and the team hears of it in their channel
    team_post = world.api.calls_to("chat.postMessage")[-1]
    assert team_post.args["channel"] == "C0TEAM"
    assert "Change 1 approved" in team_post.args["text"]

    # The same card pressed again: the engine says it is decided; nothing changes twice.
    again = press(
        approve,
        user="U0CAROL",
        team="T0CLIENT",
        channel="C0SHARED",
        response_key="again",
        world=world,
    )
    await world.slack.interaction(again)
    calls = await world.api.wait_for("response_url", 2)
    assert "already approved" in calls[-1].args["text"]


async def test_a_slack_connect_user_gets_only_the_client_view(world: SlackWorld) -> None:
    await set_up_project(world)
    team_view = await world.command("status")
    assert "20,000" in block_texts(team_view["blocks"])
    for channel in ("C0SHARED", "C0TEAM"):
        client_view = await world.command("status", user="U0CAROL", channel=channel)
        shown = block_texts(client_view.get("blocks", []))
        assert "20,000" not in shown and "Budget" not in shown, channel
    assert "Acme Site: status" in block_texts(
        (await world.command("status", user="U0CAROL", channel="C0SHARED"))["blocks"]
    )
    # Carol's help lists only what a client may do.
    helped = await world.command("help", user="U0CAROL", channel="C0SHARED")
    assert "project new" not in helped["text"]


async def test_is_stranger_makes_a_user_external_even_on_our_team_id(world: SlackWorld) -> None:
    world.api.add_user("U0DAVE", "Dave", is_stranger=True)
    await set_up_project(world)
    shown = await world.command("status", user="U0DAVE", channel="C0SHARED")
    assert "20,000" not in block_texts(shown["blocks"])
    refused = await world.command('project new "Mine" client:"X"', user="U0DAVE", channel="C0DAVE")
    assert "not by a client" in refused["text"]


async def test_users_info_is_asked_once_per_user(world: SlackWorld) -> None:
    for _ in range(3):
        await world.command("projects")
    await world.command("projects", user="U0BOB")
    asked = [c.args["user"] for c in world.api.calls_to("users.info")]
    assert sorted(asked) == ["U0ANN", "U0BOB"]


async def test_message_shortcut_opens_a_prefilled_modal_that_adds_the_task(
    world: SlackWorld,
) -> None:
    await world.command('project new "Acme Site" client:"Acme"')
    shortcut = fixture("message_shortcut")
    await world.slack.interaction(shortcut)
    (opened,) = await world.api.wait_for("views.open")
    view = opened.json_arg("view")
    assert opened.args["trigger_id"] == shortcut["trigger_id"]
    assert view["callback_id"] == "liaison.task_from_message"
    title = view["blocks"][0]["element"]["initial_value"]
    assert (
        title
        == "Can @U0BOB send the mockups (https://example.com/mockups) by Friday & cc @channel?"
    )

    submission = fixture("view_submission")
    submission["view"].update(private_metadata=view["private_metadata"], blocks=view["blocks"])
    submission["view"]["state"]["values"] = {
        "title": {"input": {"type": "plain_text_input", "value": 'Send the "mockups"'}},
        "owner": {"input": {"type": "users_select", "selected_user": "U0ANN"}},
        "due": {"input": {"type": "datepicker", "selected_date": "2026-12-04"}},
    }
    response = await world.slack.interaction(submission)
    assert response.status == 200 and await response.text() == ""  # the modal closes
    (posted,) = await world.api.wait_for("chat.postMessage")
    assert posted.args["channel"] == "C0TEAM"
    listed = await world.command("tasks")
    shown = block_texts(listed["blocks"])
    assert "Send the \u201cmockups\u201d" in shown
    assert "2026-12-04" in shown


async def test_a_refused_modal_submission_shows_the_error_in_the_modal(world: SlackWorld) -> None:
    submission = fixture("view_submission")  # task add, but there is no project here
    response = await world.slack.interaction(submission)
    answer = await response.json()
    assert answer["response_action"] == "errors"
    assert "no project here" in answer["errors"]["title"]
    await asyncio.sleep(0)
    assert world.api.calls_to("chat.postMessage") == []


async def test_the_home_tab_shows_my_tasks_and_projects(world: SlackWorld) -> None:
    await world.command('project new "Acme Site" client:"Acme"')
    # What Slack sends when someone types a literal <!channel> into the command.
    await world.command('task add "Write the &lt;!channel&gt; brief" <@U0ANN|ann> due:fri')
    await world.slack.event(event_payload("app_home_opened"))
    (published,) = await world.api.wait_for("views.publish")
    assert published.args["user_id"] == "U0ANN"
    view = published.json_arg("view")
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    shown = block_texts(view["blocks"])
    assert "Write the &lt;!channel&gt; brief" in shown
    assert "Acme Site (Acme)" in shown


async def test_the_messages_tab_does_not_publish_a_home(world: SlackWorld) -> None:
    await world.slack.event(event_payload("app_home_opened", tab="messages"))
    await world.slack.event(event_payload("message_im", text="projects"))
    await world.api.wait_for("chat.postMessage")
    assert world.api.calls_to("views.publish") == []


async def test_socket_mode_delivers_a_slash_command_without_a_public_url(db_url: str) -> None:
    async with slack_world(db_url, SLACK_APP_TOKEN="xapp-1-test") as world:
        (opened,) = await world.api.wait_for("apps.connections.open")
        assert opened.token == "xapp-1-test"
        command = fixture("slash_command")
        command.update(text="help", response_url=world.api.response_url("socket"))
        envelope = {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "payload": command,
            "type": "slash_commands",
            "accepts_response_payload": True,
        }
        await world.api.socket_send(envelope)
        (ack,) = await world.api.wait_for("socket_ack")
    assert ack.args["envelope_id"] == envelope["envelope_id"]
    assert ack.args["payload"]["blocks"][0]["text"]["text"] == "Liaison: what I can do"


async def test_a_huddle_is_answered_through_its_modal(world: SlackWorld) -> None:
    await world.command('project new "Acme Site" client:"Acme"')
    await world.slack.event(event_payload("message_im", text="me"))  # Ann's DM is known
    await world.api.wait_for("chat.postMessage")
    started = await world.command("huddle now")
    assert "I asked Ann" in started["text"]
    assert await world.deliver() == 1
    prompt = world.api.calls_to("chat.postMessage")[-1]
    assert prompt.args["channel"] == "D0ANN"
    send, skip = buttons(prompt.json_arg("blocks"))
    assert send["text"]["text"] == "Send answers" and skip["text"]["text"] == "Skip today"

    await world.slack.interaction(
        press(send, user="U0ANN", team="T0001", channel="D0ANN", response_key="h", world=world)
    )
    (opened,) = await world.api.wait_for("views.open")
    view = opened.json_arg("view")
    block_ids = [b["block_id"] for b in view["blocks"]]
    assert block_ids[:2] == ["q1", "q2"]

    submission = fixture("view_submission")
    submission["view"].update(
        callback_id=view["callback_id"],
        private_metadata=view["private_metadata"],
        blocks=view["blocks"],
    )
    answers = ["Wrote the brief", "Review with <!here>", "none"]
    submission["view"]["state"]["values"] = {
        block: {"input": {"type": "plain_text_input", "value": answer}}
        for block, answer in zip(block_ids, answers, strict=False)
    }
    response = await world.slack.interaction(submission)
    assert response.status == 200 and await response.text() == ""
    thanks = await world.api.wait_for("chat.postMessage", 3)
    assert thanks[-1].args["channel"] == "D0ANN"
    assert "noted for the Acme Site huddle" in thanks[-1].args["text"]

    # Until the digest the reply carries the form again, opening with the answers given.
    (edit,) = buttons(thanks[-1].json_arg("blocks"))
    await world.slack.interaction(
        press(edit, user="U0ANN", team="T0001", channel="D0ANN", response_key="e", world=world)
    )
    reopened = (await world.api.wait_for("views.open", 2))[-1].json_arg("view")
    initial = [b["element"].get("initial_value") for b in reopened["blocks"]]
    assert initial == ["Wrote the brief", "Review with <!here>", "none"]
    # And the prompt's Skip today button skips instead.
    await world.slack.interaction(
        press(skip, user="U0ANN", team="T0001", channel="D0ANN", response_key="s", world=world)
    )
    skipped = await world.api.wait_for("response_url", where=lambda c: c.args["key"] == "s")
    assert "Skipped the Acme Site huddle" in str(skipped[-1].args)
