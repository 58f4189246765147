"""The forgiving front door over HTTP, for a sample of the phrasings: Slack's /pm and button
presses (the locale from users.info), Teams' messages and card submits (the locale of the
activity), on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.models import Task
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world
from tests.slack.test_interactions import buttons, press
from tests.teams_support import TEAM_CHANNEL, TeamsService, message, teams_service, text_of

SLACK_PROJECT = 'project new "Acme Site" client:"Acme" budget:$20k due:2027-03-01'


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        yield service


async def _tasks(sessions) -> dict[int, Task]:  # noqa: ANN001
    from sqlalchemy import select

    async with sessions() as session:
        return {t.number: t for t in (await session.scalars(select(Task))).all()}


async def test_slack_dates_by_the_users_locale_and_questions(world: SlackWorld) -> None:
    world.api.users["U0ANN"].locale = "en-GB"  # what users.info says when asked for it
    await world.command(SLACK_PROJECT)
    await world.command("team add <@U0BOB|bob> role:member")
    added = await world.command('add task "Homepage" <@U0BOB|bob> due:end of month')
    assert "Task 1 added: Homepage · bob · due 2026-12-31" in block_texts(added["blocks"])
    assert "Due: Thu 31 Dec 2026." in block_texts(added["blocks"])
    moved = await world.command("task due 1 due:3/4")
    assert "Due: Sat 3 Apr 2027 (read as day/month" in block_texts(moved["blocks"])
    overdue = await world.command("what's overdue?")
    canonical = await world.command("tasks overdue")
    assert overdue["blocks"] == canonical["blocks"]


async def test_slack_a_past_due_date_is_taken_with_a_warning(world: SlackWorld) -> None:
    await world.command(SLACK_PROJECT)
    await world.command("team add <@U0BOB|bob> role:member")
    added = await world.command('task add "Homepage" <@U0BOB|bob> due:2026-11-30')
    said = block_texts(added["blocks"])
    assert "Task 1 added: Homepage · bob · due 2026-11-30" in said
    assert "Due: Mon 30 Nov 2026 — that is in the past." in said
    moved = await world.command("project set due:2026-11-27")
    assert "Due: Fri 27 Nov 2026 — that is in the past." in block_texts(moved["blocks"])
    assert str((await _tasks(world.runtime.sessions))[1].due_date) == "2026-11-30"


async def test_slack_run_it_button_and_typed_yes(world: SlackWorld) -> None:
    await world.command(SLACK_PROJECT)
    await world.command("team add <@U0BOB|bob> role:member")
    offered = await world.command('tsk add "Homepage" <@U0BOB|bob> due:fri')
    # The mention is the user's text, shown escaped: it cannot ping anyone.
    assert 'Did you mean `task add "Homepage" &lt;@U0BOB|bob&gt; due:fri`?' in offered["text"]
    (run_it,) = buttons(offered["blocks"])
    assert run_it["text"]["text"] == "Run it"
    payload = press(
        run_it, user="U0ANN", team="T0ACME", channel="C0TEAM", response_key="run", world=world
    )
    assert (await world.slack.interaction(payload)).status == 200
    (answer,) = await world.api.wait_for("response_url", where=lambda c: c.args["key"] == "run")
    assert "Task 1 added: Homepage" in answer.args["text"]
    await world.command('taks add "Copy" <@U0BOB|bob> due:fri')
    typed = await world.command("yes")
    assert "Task 2 added: Copy" in typed["text"]
    assert sorted(await _tasks(world.runtime.sessions)) == [1, 2]


async def test_teams_dates_by_the_activity_locale_verb_first_and_yes(teams: TeamsService) -> None:
    new = 'project new "Acme Site" client:"Acme Corp" budget:50k due:2027-03-01'
    assert "Project Acme Site started" in text_of(await teams.say("ann", new))
    await teams.say("ann", "team add <at>Bob Stone</at> role:member", mentions=("bob",))
    activity = message(
        'add task "Homepage" <at>Bob Stone</at> due:3/4',
        who="ann",
        service_url=teams.connector.url,
        mentions=("bob",),
    )
    activity["locale"] = "en-GB"
    before = len(teams.connector.posts)
    assert await teams.post(activity) in (200, 201)
    text = text_of(teams.connector.posts[before:])
    assert "Task 1 added: Homepage" in text and "due 2027-04-03" in text
    assert "Due: Sat 3 Apr 2027 (read as day/month for your locale" in text
    offered = text_of(await teams.say("ann", "stauts"))
    assert "Did you mean `status`?" in offered and "Run it" in offered
    assert "Acme Site: status" in text_of(await teams.say("ann", "yes"))
    pressed = text_of(
        await teams.press({"action_id": "task done", "value": "1"}, who="ann", channel=TEAM_CHANNEL)
    )
    assert "Task 1 done" in pressed
    asked = text_of(await teams.say("ann", "how much is left?"))
    assert asked == text_of(await teams.say("ann", "budget"))
