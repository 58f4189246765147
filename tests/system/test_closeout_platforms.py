"""Closing and reopening over HTTP: Slack (signed /pm commands, fake Web API) and Teams
(signed activities, fake Bot Connector). The final report's exact figures come back, the
morning after closing posts nothing for the project, and reopening brings it back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.schedule.step import run_due
from storage.models import RetroAnswer, SurveyAnswer
from tests.fakes.bot_connector import Post
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world
from tests.teams_support import OTHER_TENANT, SHARED_CHANNEL, teams_service, text_of

CAROL = {"tenantId": OTHER_TENANT}

FIGURES = (
    "USD 23,000.00",  # 20k and the approved change's 3,000
    "USD 1,200.50",
    "USD 21,799.50 under budget",
    "1: USD 3,000.00, 2 days",
)
SETUP = (
    'project new "Acme Site" client:"Acme" budget:$20k due:2027-03-01',
    'spend 1,200.50 "Stock photos"',
    'change "Extra page" cost:3,000 days:2',
    "change approve 1 on-behalf",
)


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


async def test_slack_close_report_silence_and_reopen(world: SlackWorld) -> None:
    for line in SETUP:
        assert "Usage" not in str(await world.command(line)), line
    closed = block_texts((await world.command("project close"))["blocks"])
    ack = await world.command("report final")
    report = block_texts(ack["blocks"])
    for figure in FIGURES:
        assert figure in report, (figure, report)
    assert "is closed" in closed
    refused = await world.command('task add "More" due:2027-01-05')
    assert "was closed on 2026-12-01; `project reopen` to change it." in refused["text"]
    await world.deliver()
    before = len(world.api.calls_to("chat.postMessage"))
    morning = world.clock.now.replace(day=2, hour=8, minute=0)  # 09:00 in Berlin
    result = await run_due(world.runtime.sessions, morning)
    await world.deliver()
    assert result.deliveries == 0
    assert len(world.api.calls_to("chat.postMessage")) == before
    assert "active again" in (await world.command("project reopen"))["text"]
    result = await run_due(world.runtime.sessions, morning + timedelta(days=1))
    assert result.deliveries >= 1
    world.clock.now = morning + timedelta(days=1)
    await world.deliver()
    assert len(world.api.calls_to("chat.postMessage")) > before


async def test_teams_close_report_silence_and_reopen(db_url: str) -> None:
    async with teams_service(db_url) as teams:
        for line in SETUP:
            assert "Usage" not in text_of(await teams.say("ann", line)), line
        await teams.say("ann", "project close")
        report = text_of(await teams.say("ann", "report final"))
        for figure in FIGURES:
            assert figure in report, (figure, report)
        refused = text_of(await teams.say("ann", 'task add "More" due:2027-01-05'))
        assert "`project reopen` to change it." in refused
        await teams.deliver()
        before = len(teams.connector.posts)
        morning = teams.clock.now.replace(day=2, hour=9, minute=0)
        result = await run_due(teams.runtime.sessions, morning)
        await teams.deliver()
        assert result.deliveries == 0 and len(teams.connector.posts) == before
        assert "active again" in text_of(await teams.say("ann", "project reopen"))
        result = await run_due(teams.runtime.sessions, morning + timedelta(days=1))
        assert result.deliveries >= 1


def _form(post: Post) -> tuple[list[str], dict]:
    """The input ids and the submit data of the card's form."""
    container = next(e for e in post.card["body"] if e["type"] == "Container")  # type: ignore[index]
    inputs = [e["id"] for e in container["items"] if e["type"] == "Input.Text"]
    assert all(i.startswith("field.") for i in inputs)  # Teams names form inputs so
    inputs = [i.removeprefix("field.") for i in inputs]
    (send,) = container["items"][-1]["actions"]
    return inputs, send["data"]


async def test_teams_survey_and_retro_forms(db_url: str) -> None:
    async with teams_service(db_url) as teams:
        await teams.say("ann", 'project new "Acme Site" client:"Acme Corp" budget:50k')
        await teams.say("ann", "project link client", channel=SHARED_CHANNEL)
        await teams.say("ann", "team add <at>Bob Stone</at>", mentions=("bob",))
        await teams.say("bob", "projects", channel=None)  # Bob's personal chat with Liaison
        await teams.say("ann", "project close")
        before = len(teams.connector.posts)
        await teams.deliver()
        delivered = teams.connector.posts[before:]
        summary = next(p for p in delivered if p.conversation_id.startswith(SHARED_CHANNEL))
        inputs, data = _form(summary)
        assert inputs == ["satisfaction", "recommend", "comment"]
        assert data["action_id"] == "survey"
        bad = await teams.press(
            {**data, "field.satisfaction": "7", "field.recommend": "9"},
            who="carol",
            channel=SHARED_CHANNEL,
            **CAROL,
        )
        assert "out of range" in text_of(bad)
        answers = {"field.satisfaction": "5", "field.recommend": "10", "field.comment": "Smooth"}
        thanks = await teams.press(
            {**data, **answers}, who="carol", channel=SHARED_CHANNEL, **CAROL
        )
        assert "Thank you" in text_of(thanks)
        prompt = next(p for p in delivered if p.conversation_id == "a:personal-bob")
        inputs, data = _form(prompt)
        assert inputs == ["went_well", "would_change"] and data["action_id"] == "retro"
        answers = {"field.went_well": "Clear scope", "field.would_change": "Earlier reviews"}
        assert "Thanks" in text_of(await teams.press({**data, **answers}, who="bob", channel=None))
        async with teams.runtime.sessions() as session:
            survey = await session.scalar(select(SurveyAnswer))
            retro = await session.scalar(select(RetroAnswer))
        assert (survey.satisfaction, survey.recommend, survey.comment) == (5, 10, "Smooth")
        assert (retro.went_well, retro.would_change) == ("Clear scope", "Earlier reviews")
        report = text_of(await teams.say("ann", "report final"))
        assert "5.0 of 5" in report and "10.0 of 10" in report and "Smooth" in report
