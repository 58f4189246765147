"""The huddle's digest over HTTP: a late answer edits the posted digest in place (the fake
Slack Web API records chat.update, the fake Bot Connector the update activity) and follows
in the digest's thread marked late; in a Teams channel the answers go in the digest's reply
thread as in Slack. The playground shows the skip button, the form and the edit too."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

from bot.schedule.step import run_due
from tests.fakes.slack_events import event_payload
from tests.fakes.slack_world import slack_world
from tests.playground.test_playground import FORM_RE
from tests.playground.test_playground import kickoff as playground_kickoff
from tests.playground_app import buttons_in, playground_app
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


async def test_playground_skip_button_prefilled_form_and_a_late_answer_editing_the_digest(
    db_url: str,
) -> None:
    async with playground_app(db_url) as app:
        await playground_kickoff(app)
        await app.say("ann", "team", "team add @bob")
        await app.say("bob", "dm:bob", "me")  # Liaison now has a direct line to Bob
        await app.say("ann", "team", "huddle now")
        [prompt] = [e for e in await app.feed("bob") if e["kind"] == "post"]
        [(action, value, label)] = buttons_in(prompt["html"])
        assert (action, label) == ("huddle skip", "Skip today")
        skipped = await app.press("bob", "dm:bob", action, unescape(value))
        assert "Skipped the Acme Site huddle" in skipped["messages"][0]["text"]

        # 10:00 UTC + the 2h window: the digest at 12:00 UTC (13:00 in Berlin).
        status, _ = await app.post_json("travel", {"day": "today", "time": "13:30"})
        assert status == 200
        digest = [e for e in await app.feed("ann") if e["kind"] == "post" and "Huddle" in e["text"]]
        assert len(digest) == 1 and "Skipped: Bob." in digest[0]["text"]

        form = FORM_RE.search(prompt["html"])
        assert form is not None
        body = {
            "as": "bob",
            "place": "dm:bob",
            "action_id": form.group(1),
            "value": unescape(form.group(2)),
            "fields": {"q1": "Wireframes", "q2": "Logo", "q3": "none"},
        }
        status, reply = await app.post_json("action", body)
        assert status == 200 and "marked late" in reply["messages"][0]["text"]
        posts = [e for e in await app.feed("ann") if e["kind"] == "post" and e["place"] == "team"]
        edited = [p for p in posts if "(edited)" in p["text"]]
        assert len(edited) == 1 and "1 of 1 answered" in edited[0]["text"]
        assert "Skipped" not in edited[0]["text"]
        assert any("Bob (late)" in p["text"] for p in posts)


def card_actions(post) -> list[dict]:  # noqa: ANN001
    found: list[dict] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Submit":
                found.append(node)
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(post.card)
    return found


async def test_teams_digest_blocker_is_acknowledged_and_resolved_from_its_card(
    db_url: str,
) -> None:
    async with teams_service(db_url) as teams:
        teams.clock.set("2026-12-01T08:00+00:00")
        await teams.say("ann", 'project new "Acme Site" client:"Acme Corp"')
        await teams.say("ann", "team add <at>Bob Stone</at>", mentions=("bob",))
        await teams.say("bob", "projects", channel=None)
        await teams.say("ann", "huddle now")
        await teams.deliver()
        await teams.say("bob", 'huddle answer "Login" "Tests" "Need DNS access"', channel=None)
        before = len(teams.connector.posts)
        await due(teams.runtime, teams.clock, "2026-12-01T10:00+00:00")
        await teams.deliver()
        (digest,) = [
            p
            for p in teams.connector.posts[before:]
            if p.conversation_id == TEAM_CHANNEL and "Huddle" in p.card_text()
        ]
        assert "#1 Bob Stone: Need DNS access (new today)" in digest.card_text()
        ack, resolve = (a["data"] for a in card_actions(digest))
        assert ack["action_id"] == "blocker ack" and resolve["action_id"] == "blocker resolve"
        acked = await teams.press(ack, who="ann", channel=TEAM_CHANNEL)
        assert "acknowledged blocker 1" in text_of(acked)
        resolved = await teams.press(resolve, who="ann", channel=TEAM_CHANNEL)
        assert "Blocker 1 resolved" in text_of(resolved)
        before = len(teams.connector.posts)
        await teams.deliver()
        told = [p for p in teams.connector.posts[before:] if p.conversation_id == "a:personal-bob"]
        assert len(told) == 1 and "resolved your blocker 1" in told[0].card_text()
