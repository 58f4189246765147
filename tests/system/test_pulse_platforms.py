"""The client pulse over HTTP: a Slack Connect client presses a score button (fake Web API),
Teams clients answer by the card's choice set and by a button (fake Bot Connector); the
team's `pulse` counts both and the client side never shows an average."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from storage.models import Delivery, PulseAnswer
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world
from tests.slack.test_interactions import buttons, press, set_up_project
from tests.teams.test_commands import CAROL, _ok, _project
from tests.teams_support import SHARED_CHANNEL, TeamsService, teams_service, text_of


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        yield service


async def test_a_slack_client_answers_the_pulse_with_a_button(world: SlackWorld) -> None:
    await set_up_project(world)
    assert "I asked the client side" in block_texts((await world.command("pulse now"))["blocks"])
    assert await world.deliver() == 1
    (card,) = world.api.calls_to("chat.postMessage")
    assert card.args["channel"] == "C0SHARED"
    scores = [b for b in buttons(card.json_arg("blocks")) if b["action_id"].startswith("pulse")]
    assert [b["text"]["text"] for b in scores][:5] == ["1", "2", "3", "4", "5"]
    two = scores[1]
    payload = press(
        two, user="U0CAROL", team="T0CLIENT", channel="C0SHARED", response_key="p", world=world
    )
    assert (await world.slack.interaction(payload)).status == 200
    (answer,) = await world.api.wait_for("response_url")
    assert "noted: 2 of 5" in answer.args["text"]
    async with world.runtime.sessions() as session:
        stored = await session.scalar(select(PulseAnswer))
        alert = await session.scalar(
            select(Delivery).where(Delivery.occurrence_key.is_(None), Delivery.target_kind == "dm")
        )
    assert stored is not None and stored.score == 2
    # The PM has no DM with the bot in this world, so the alert cannot be queued; it is
    # internal either way: nothing of it reached the client side.
    assert alert is None or alert.audience == "internal"
    shown = block_texts(
        (await world.command("pulse", user="U0CAROL", channel="C0SHARED"))["blocks"]
    )
    assert "2 of 5" in shown and "2.0" not in shown


async def test_teams_clients_answer_by_choice_set_and_button(teams: TeamsService) -> None:
    await _project(teams)
    assert "I asked the client side" in _ok(await teams.say("ann", "pulse now"))
    before = len(teams.connector.posts)
    assert await teams.deliver() == 1
    (card_post,) = teams.connector.posts[before:]
    assert card_post.conversation_id == SHARED_CHANNEL
    body = card_post.card["body"]  # type: ignore[index]
    container = next(e for e in body if e["type"] == "Container")
    (choice,) = [e for e in container["items"] if e["type"] == "Input.ChoiceSet"]
    assert [c["value"] for c in choice["choices"]] == ["1", "2", "3", "4", "5"]
    comment = next(e for e in container["items"] if e["type"] == "Input.Text")
    (send,) = container["items"][-1]["actions"]
    form = {**send["data"], choice["id"]: "4", comment["id"]: "Going well"}
    assert "noted: 4 of 5" in _ok(
        await teams.press(form, channel=SHARED_CHANNEL, who="carol", **CAROL)
    )
    five = next(
        a for e in body if e["type"] == "ActionSet" for a in e["actions"] if a["title"] == "5"
    )
    guest = await teams.press(five["data"], channel=SHARED_CHANNEL, who="gus", userRole="guest")
    assert "noted: 5 of 5" in _ok(guest)
    team = text_of(await teams.say("ann", "pulse"))
    assert "Client satisfaction\n4.5 of 5" in team and "Carol Client (4): Going well" in team
    own = text_of(await teams.say("gus", "pulse", channel=SHARED_CHANNEL, userRole="guest"))
    assert "5 of 5" in own and "4.5" not in own and "Going well" not in own
