"""The huddle's people, mood and history over HTTP: an optional person is not listed as
missing while a required one is; the anonymous mood's daily average shows in `huddle stats`
only once 3 people gave one; `huddle history` lists each person's answers. Slack over signed
requests with the fake Web API, Teams over the fake Bot Connector."""

from __future__ import annotations

from typing import Any

import pytest

from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.slack_world import SlackWorld, block_texts, populate, slack_world
from tests.system.test_huddle_platforms import due
from tests.teams_support import PEOPLE, TEAM_CHANNEL, TeamsService, teams_service, text_of

MOOD_HEADING = "Team mood (anonymous daily average, 1-5)"
NO_MOOD = "Mood: no day with 3 or more mood answers yet."


def with_cat(api: FakeSlackApi) -> None:
    """The usual Slack people and a third of the team, Cat."""
    populate(api)
    api.add_user("U0CAT", "Cat", tz="Europe/Berlin")


async def slack_says(world: SlackWorld, text: str, **where: Any) -> str:
    return block_texts((await world.command(text, **where))["blocks"])


async def slack_huddle_team(world: SlackWorld, *, cat: bool = False) -> None:
    world.clock.set("2026-12-01T08:00+00:00")
    await world.command('project new "Acme Site" client:"Acme"')
    await world.command("team add <@U0BOB|bob> role:member")
    if cat:
        await world.command("team add <@U0CAT|cat> role:member")


async def test_slack_an_optional_person_is_not_missing_a_required_one_is(db_url: str) -> None:
    async with slack_world(db_url) as world:
        await slack_huddle_team(world)
        optional = await slack_says(world, "huddle optional <@U0BOB|bob>")
        assert "bob is optional in the huddle" in optional
        assert "I asked Ann, bob" in await slack_says(world, "huddle now")
        await world.deliver()
        await due(world.runtime, world.clock, "2026-12-01T10:00+00:00")
        await world.deliver()
        digest = world.api.calls_to("chat.postMessage")[-1]
        assert digest.args["channel"] == "C0TEAM"
        text = block_texts(digest.args["blocks"])
        assert "0 of 1 answered" in text and "Missing: Ann." in text
        assert "bob" not in text.lower()


async def test_slack_mood_average_shows_only_with_three_answers_and_history_lists_them(
    db_url: str,
) -> None:
    async with slack_world(db_url, configure=with_cat) as world:
        await slack_huddle_team(world, cat=True)
        assert "asked, anonymous (1-5)" in await slack_says(world, "huddle set mood:on")
        await world.command("huddle now")  # the prompts at 08:00
        await world.deliver()
        world.clock.set("2026-12-01T08:30+00:00")
        for user, name in (("U0ANN", "Ann"), ("U0BOB", "Bob")):
            line = f'huddle answer "{name} done" "{name} next" "none" mood:4'
            answered = await slack_says(world, line, user=user, channel=f"D0{name.upper()}")
            assert "Your mood is counted anonymously" in answered
        two = await slack_says(world, "huddle stats")
        assert NO_MOOD in two and MOOD_HEADING not in two and "4.0" not in two

        await world.command(
            'huddle answer "Cat done" "Cat next" "none" mood:4', user="U0CAT", channel="D0CAT"
        )
        three = await slack_says(world, "huddle stats")
        assert f"{MOOD_HEADING}\n*Tue 1 Dec*\n4.0 (3 answers)" in three and NO_MOOD not in three
        for name in ("Ann", "Bob", "Cat"):
            assert f"*{name}*\nanswered 1 of 1 days (100%)" in three
        assert "Median answer time after the prompt: 30 min" in three

        history = await slack_says(world, "huddle history")
        assert [line for line in history.split("\n") if " · " in line] == [
            ":small_blue_diamond: Tue 1 Dec · Ann: Ann done / Ann next / none",
            ":small_blue_diamond: Tue 1 Dec · Bob: Bob done / Bob next / none",
            ":small_blue_diamond: Tue 1 Dec · Cat: Cat done / Cat next / none",
        ]


async def teams_says(teams: TeamsService, who: str, text: str, **where: Any) -> str:
    return text_of(await teams.say(who, text, **where))


async def teams_huddle_team(teams: TeamsService, *people: tuple[str, str]) -> None:
    teams.clock.set("2026-12-01T08:00+00:00")
    await teams.say("ann", 'project new "Acme Site" client:"Acme Corp"')
    for who, name in people:
        await teams.say("ann", f"team add <at>{name}</at>", mentions=(who,))
        await teams.say(who, "projects", channel=None)  # their personal chats are known
    await teams.say("ann", "projects", channel=None)


async def test_teams_an_optional_person_is_not_missing_a_required_one_is(db_url: str) -> None:
    async with teams_service(db_url) as teams:
        await teams_huddle_team(teams, ("bob", "Bob Stone"))
        optional = await teams_says(
            teams, "ann", "huddle optional <at>Bob Stone</at>", mentions=("bob",)
        )
        assert "Bob Stone is optional in the huddle" in optional
        await teams.say("ann", "huddle now")
        await teams.deliver()
        before = len(teams.connector.posts)
        await due(teams.runtime, teams.clock, "2026-12-01T10:00+00:00")
        await teams.deliver()
        (digest,) = [
            p.card_text()
            for p in teams.connector.posts[before:]
            if p.conversation_id == TEAM_CHANNEL and "Huddle" in p.card_text()
        ]
        assert "0 of 1 answered" in digest and "Missing: Ann Lee." in digest
        assert "Bob" not in digest


async def test_teams_mood_average_shows_only_with_three_answers_and_history_lists_them(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(PEOPLE, "dan", ("29:1dan-7QaZ1xSw2cDe3vFr4bGt5nHy6", "Dan Day"))
    async with teams_service(db_url) as teams:
        await teams_huddle_team(teams, ("bob", "Bob Stone"), ("dan", "Dan Day"))
        assert "asked, anonymous (1-5)" in await teams_says(teams, "ann", "huddle set mood:on")
        await teams.say("ann", "huddle now")  # the prompts at 08:00
        await teams.deliver()
        teams.clock.set("2026-12-01T08:30+00:00")
        for who in ("ann", "bob"):
            line = f'huddle answer "{who} done" "{who} next" "none" mood:4'
            answered = await teams_says(teams, who, line, channel=None)
            assert "Your mood is counted anonymously" in answered
        two = await teams_says(teams, "ann", "huddle stats")
        assert NO_MOOD in two and MOOD_HEADING not in two and "4.0" not in two

        line = 'huddle answer "dan done" "dan next" "none" mood:4'
        await teams.say("dan", line, channel=None)
        three = await teams_says(teams, "ann", "huddle stats")
        assert f"{MOOD_HEADING}\nTue 1 Dec\n4.0 (3 answers)" in three and NO_MOOD not in three
        for name in ("Ann Lee", "Bob Stone", "Dan Day"):
            assert f"{name}\nanswered 1 of 1 days (100%)" in three
        assert "Median answer time after the prompt: 30 min" in three

        history = await teams_says(teams, "ann", "huddle history")
        assert [line for line in history.split("\n") if " · " in line] == [
            "• Tue 1 Dec · Ann Lee: ann done / ann next / none",
            "• Tue 1 Dec · Bob Stone: bob done / bob next / none",
            "• Tue 1 Dec · Dan Day: dan done / dan next / none",
        ]
