"""Client meetings over HTTP: in Slack (signed requests, fake Web API) and in Teams (fake Bot
Connector) the agenda reaches the client side without money and the prep note the team side
with it; a client's action item is reminded with a button that the client presses (its typed
form is `action done N`); `meeting done` posts the minutes to the client side."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.schedule.step import run_due
from tests.fakes.slack_world import SlackWorld, block_texts, slack_world
from tests.slack.test_interactions import buttons, press, set_up_project
from tests.system.test_huddle_platforms import due
from tests.system_world import ANN, CAROL, MARKERS, project_world, seen_by
from tests.teams.test_commands import _ok, _project
from tests.teams_support import SHARED_CHANNEL, TEAM_CHANNEL, TeamsService, teams_service, text_of

GUEST = {"userRole": "guest"}


@pytest.fixture
async def world(db_url: str) -> AsyncIterator[SlackWorld]:
    async with slack_world(db_url) as world:
        yield world


@pytest.fixture
async def teams(db_url: str) -> AsyncIterator[TeamsService]:
    async with teams_service(db_url) as service:
        yield service


def slack_posts(world: SlackWorld, channel: str) -> list[str]:
    return [
        block_texts(c.json_arg("blocks"))
        for c in world.api.calls_to("chat.postMessage")
        if c.args["channel"] == channel
    ]


async def test_slack_agenda_reminder_button_and_minutes(world: SlackWorld) -> None:
    world.clock.set("2026-12-01T08:00+00:00")  # a Tuesday
    await set_up_project(world)  # budget $20k
    await world.command("help", user="U0CAROL", channel="C0SHARED")  # Carol is met
    for line in (
        "project set tz:Europe/Berlin",
        "meeting set thu 10:00 every:2w length:30m",
        'risk add "Margin squeeze" likelihood:high impact:high',
        'action "Send the logo files" <@U0CAROL|carol> due:2026-12-07',
    ):
        reply = block_texts((await world.command(line))["blocks"])
        assert "Usage" not in reply, (line, reply)
    await world.deliver()

    await due(world.runtime, world.clock, "2026-12-03T08:00+00:00")  # 09:00 in Berlin
    await world.deliver()
    (agenda,) = [p for p in slack_posts(world, "C0SHARED") if "Agenda" in p]
    assert "Thu 3 Dec, 10:00 (Europe/Berlin), 30 minutes" in agenda
    assert "Send the logo files" in agenda
    assert "20,000" not in agenda and "Margin squeeze" not in agenda
    (prep,) = [p for p in slack_posts(world, "C0TEAM") if "Prep: Acme Site" in p]
    assert "20,000" in prep and "Margin squeeze" in prep

    await due(world.runtime, world.clock, "2026-12-04T08:00+00:00")  # Friday: due Monday
    await world.deliver()
    (card,) = [
        c
        for c in world.api.calls_to("chat.postMessage")
        if c.args["channel"] == "C0SHARED" and "Action items due" in str(c.args)
    ]
    (done,) = [b for b in buttons(card.json_arg("blocks")) if b["text"]["text"] == "Mark 1 done"]
    payload = press(
        done, user="U0CAROL", team="T0CLIENT", channel="C0SHARED", response_key="d", world=world
    )
    assert (await world.slack.interaction(payload)).status == 200
    (answer,) = await world.api.wait_for("response_url")
    assert "Action item 1 done: Send the logo files" in answer.args["text"]

    world.clock.set("2026-12-03T09:20+00:00")
    await world.command('meeting note "Staging on Monday"')
    await world.command("meeting done")
    await world.deliver()
    (minutes,) = [p for p in slack_posts(world, "C0SHARED") if "Minutes" in p]
    assert "Staging on Monday" in minutes and "20,000" not in minutes


async def test_teams_agenda_reminder_button_and_minutes(teams: TeamsService) -> None:
    teams.clock.set("2026-12-01T08:00+00:00")
    await _project(teams)
    _ok(await teams.say("gus", "help", channel=SHARED_CHANNEL, **GUEST))  # a guest: a client
    for line, mentions in (
        ("budget set 48765", ()),
        ("meeting set thu 10:00", ()),
        ('action "Send the logo files" <at>Gus Guest</at> due:2026-12-07', ("gus",)),
    ):
        assert "Usage" not in _ok(await teams.say("ann", line, mentions=mentions)), line
    await teams.deliver()

    before = len(teams.connector.posts)
    await due(teams.runtime, teams.clock, "2026-12-03T08:00+00:00")  # 09:00 in Berlin
    await teams.deliver()
    posted = teams.connector.posts[before:]
    (agenda,) = [p for p in posted if "Agenda" in text_of([p])]
    assert agenda.conversation_id == SHARED_CHANNEL
    shown = text_of([agenda])
    assert "Agenda: Acme Site client meeting" in shown and "Send the logo files" in shown
    assert "48,765" not in shown
    (prep,) = [p for p in posted if "Prep: Acme Site" in text_of([p])]
    assert prep.conversation_id == TEAM_CHANNEL and "48,765" in text_of([prep])

    before = len(teams.connector.posts)
    await due(teams.runtime, teams.clock, "2026-12-04T08:00+00:00")  # Friday: due Monday
    await teams.deliver()
    (card,) = [
        p
        for p in teams.connector.posts[before:]
        if p.conversation_id == SHARED_CHANNEL and "Action items due" in text_of([p])
    ]
    mark = next(
        a
        for e in card.card["body"]  # type: ignore[index]
        if e["type"] == "ActionSet"
        for a in e["actions"]
        if a["title"] == "Mark 1 done"
    )
    pressed = _ok(await teams.press(mark["data"], channel=SHARED_CHANNEL, who="gus", **GUEST))
    assert "Action item 1 done" in pressed

    teams.clock.set("2026-12-03T09:20+00:00")
    _ok(await teams.say("ann", 'meeting note "Staging on Monday"'))
    _ok(await teams.say("ann", "meeting done"))
    before = len(teams.connector.posts)
    await teams.deliver()
    (minutes,) = [p for p in teams.connector.posts[before:] if "Minutes" in text_of([p])]
    assert minutes.conversation_id == SHARED_CHANNEL
    assert "Staging on Monday" in text_of([minutes]) and "48,765" not in text_of([minutes])


async def test_a_slack_client_sees_nothing_internal_of_the_meeting(db_url: str) -> None:
    """The system world's internal facts (an internal risk, the budget, a rate, spend, a
    decision, a huddle answer) and an internal note and item: none reaches Carol through the
    agenda, the minutes, the reminders or her own commands."""
    async with project_world(db_url) as app:
        now = datetime.now(UTC)
        starts = now + timedelta(minutes=59)
        day = starts.strftime("%a").lower()
        slack_team, slack_shared = "C0TEAM", "C0SHARED"
        for line in (
            "project set tz:UTC days:mon-sun",
            f"meeting set {day} {starts:%H:%M}",
            'meeting ask "Can we see staging?"',
            'meeting note --internal "INTERNAL-NOTE-WOMBAT"',
            'meeting note "Staging is ready"',
            f'action "Send the logo" <@U0CAROL|carol> due:{(now + timedelta(days=1)).date()}',
            'action "INTERNAL-DECISION-IBEX follow-up" --internal',
        ):
            reply = await app.slash(ANN, line, channel_id=slack_team)
            assert "Usage" not in reply.text, (line, reply.text)
        await run_due(app.runtime.sessions, now + timedelta(minutes=1))
        await run_due(app.runtime.sessions, now + timedelta(hours=24))  # the due-day reminder
        answers = [(await app.slash(ANN, "meeting done", channel_id=slack_team)).text]
        for line in ("meeting", "actions", "actions all", "action done 2", "action done 1"):
            answers.append((await app.slash(CAROL, line, channel_id=slack_shared)).text)
        assert [(m, a[:200]) for a in answers[1:] for m in MARKERS if m in a] == []
        seen = await seen_by(app, CAROL, set(), {slack_shared, CAROL.user_id, "D0CAROL"})
        shown = "\n".join(seen.texts)
        assert "Agenda: Acme Site" in shown and "Minutes: Acme Site" in shown
        assert "Staging is ready" in shown and "Can we see staging?" in shown
        assert seen.leaks() == []
        team = "\n".join((await seen_by(app, ANN, set(), {slack_team})).texts)
        assert "INTERNAL-NOTE-WOMBAT" in team + answers[0]  # the scan above could fail
