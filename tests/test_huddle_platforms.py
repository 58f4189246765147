"""The huddle's digest over HTTP: a late answer edits the posted digest in place (the fake
Slack Web API records chat.update, the fake Bot Connector the update activity) and follows
in the digest's thread marked late; in a Teams channel the answers go in the digest's reply
thread as in Slack."""

from __future__ import annotations

from datetime import timedelta

from bot.due import run_due
from tests.fakes.slack_events import event_payload
from tests.fakes.slack_world import slack_world
from tests.teams_support import TEAM_CHANNEL, TeamsService, teams_service, text_of


async def due(runtime, clock, moment: str) -> None:  # noqa: ANN001
    clock.set(moment)
    await run_due(runtime.sessions, clock(), grace=timedelta(minutes=120))


async def test_slack_a_late_answer_updates_the_digest_and_joins_its_thread(db_url: str) -> None:
    async with slack_world(db_url) as world:
        world.clock.set("2026-12-01T08:00+00:00")
        await world.command('project new "Acme Site" client:"Acme"')
        await world.slack.event(event_payload("message_im", text="me"))  # Ann's DM is known
        await world.api.wait_for("chat.postMessage")
        assert "I asked Ann" in (await world.command("huddle now"))["text"]
        await world.deliver()
        await due(world.runtime, world.clock, "2026-12-01T10:00+00:00")
        await world.deliver()
        digest = world.api.calls_to("chat.postMessage")[-1]
        assert digest.args["channel"] == "C0TEAM" and "0 of 1 answered" in digest.args["text"]
        ts = world.api.messages_in("C0TEAM")[-1]["ts"]

        world.clock.set("2026-12-01T10:30+00:00")
        late = await world.command(
            'huddle answer "Brief" "Review" "Waiting on DNS"', channel="D0ANN"
        )
        assert "marked late" in late["text"]
        await world.deliver()
        (update,) = world.api.calls_to("chat.update")
        assert update.args["channel"] == "C0TEAM" and update.args["ts"] == ts
        assert "1 of 1 answered" in world.api.messages[("C0TEAM", ts)]["text"]
        assert "Waiting on DNS" in world.api.messages[("C0TEAM", ts)]["text"]
        reply = world.api.calls_to("chat.postMessage")[-1]
        assert reply.args["thread_ts"] == ts and "Ann (late)" in reply.args["text"]
        await world.deliver()
        assert len(world.api.calls_to("chat.update")) == 1


async def test_teams_digest_answers_go_in_its_thread_and_a_late_answer_updates_it(
    db_url: str,
) -> None:
    async with teams_service(db_url) as teams:
        await _teams_huddle_day(teams)


async def _teams_huddle_day(teams: TeamsService) -> None:
    teams.clock.set("2026-12-01T08:00+00:00")
    await teams.say("ann", 'project new "Acme Site" client:"Acme Corp"')
    await teams.say("ann", "team add <at>Bob Stone</at>", mentions=("bob",))
    await teams.say("bob", "projects", channel=None)
    await teams.say("ann", "projects", channel=None)
    assert "Bob Stone" in text_of(await teams.say("ann", "huddle now"))
    await teams.deliver()
    teams.clock.set("2026-12-01T08:30+00:00")
    await teams.press(
        {
            "action_id": "huddle answer",
            "value": 'project:"Acme Site" day:2026-12-01',
            "field.q1": "Login page",
            "field.q2": "Tests",
            "field.q3": "none",
        },
        who="bob",
        channel=None,
    )
    before = len(teams.connector.posts)
    await due(teams.runtime, teams.clock, "2026-12-01T10:00+00:00")
    await teams.deliver()
    posted = teams.connector.posts[before:]
    (digest,) = [
        p for p in posted if p.conversation_id == TEAM_CHANNEL and "Huddle" in p.card_text()
    ]
    assert "1 of 2 answered" in digest.card_text() and "Missing: Ann Lee." in digest.card_text()
    root = f"{TEAM_CHANNEL};messageid="
    thread = [p for p in posted if p.conversation_id.startswith(root)]
    assert len(thread) == 1 and "Login page" in thread[0].card_text()
    digest_id = thread[0].conversation_id.removeprefix(root)

    teams.clock.set("2026-12-01T11:00+00:00")
    late = await teams.say("ann", 'huddle answer "Kick-off" "Budget" "none"', channel=None)
    assert "marked late" in text_of(late)
    before = len(teams.connector.posts)
    await teams.deliver()
    (update,) = teams.connector.updates
    assert update.reply_to == digest_id and update.conversation_id == TEAM_CHANNEL
    assert "2 of 2 answered" in update.card_text() and "Missing" not in update.card_text()
    (late_reply,) = [
        p for p in teams.connector.posts[before:] if p.conversation_id != "a:personal-ann"
    ]
    assert late_reply.conversation_id == root + digest_id
    assert "Ann Lee (late)" in late_reply.card_text()
