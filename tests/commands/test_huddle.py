"""The daily huddle: prompts at each member's local time, answers by form or typed, one
reminder, one digest with blockers on top (replies threaded), carried into the next
check-in; away people are not asked; nothing reaches the client side."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from adapters.console.session import Speaker, place_for
from bot.requests import Action, Request
from bot.schedule.step import run_due
from storage.models import Delivery, HuddleAnswer
from tests.harness import Harness
from tests.project_setup import CLIENT, kickoff


async def tick(bot: Harness, moment: str) -> str:
    bot.clock.set(moment + "+00:00")
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    await bot.deliver()
    return bot.take_posts()


async def submit_form(bot: Harness, who: str, value: str, fields: dict[str, str]) -> str:
    """What the Slack modal or the Teams card sends: the form's action with its inputs."""
    return await submit_action(bot, who, Action("huddle answer", value, fields))


async def submit_action(bot: Harness, who: str, action: Action) -> str:
    """A button or form of a direct message, as the platforms send it back."""
    speaker = Speaker(who)
    request = Request(
        actor=speaker.actor(),
        place=place_for(speaker, None),
        action=action,
        received_at=bot.clock(),
    )
    reply = await bot.engine.handle(request)
    return "\n".join(m.plain_text() for m in reply.messages)


def posts_to(posts: str, where: str) -> list[str]:
    return [p for p in ("\n\n" + posts).split("\n\n-> ") if p.startswith(where)]


async def test_a_huddle_day_from_prompt_to_digest_to_the_next_check_in(bot: Harness) -> None:
    bot.clock.set("2026-11-30T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "team add @cat @dan")
    await bot.say("cat", "me tz:America/New_York", channel=None)
    await bot.say("dan", "away 2026-12-01..2026-12-01", channel=None)
    out = await bot.say(
        "ann", 'huddle set time:09:30 window:2h questions:"Done?"|"Next?"|"Blocked by?"'
    )
    assert "Question 3: Blocked by?" in out
    bot.take_posts()

    morning = await tick(bot, "2026-12-01T09:30")
    asked = {p.split(" ", 1)[0] for p in posts_to(morning, "@")}
    assert asked == {"@ann", "@bob"}  # cat is asked at 09:30 New York time; dan is away
    prompt = posts_to(morning, "@bob")[0]
    assert "*Huddle for Acme Site, Tue 1 Dec*" in prompt
    assert "? Done?\n? Next?\n? Blocked by?" in prompt
    assert "answer by 11:30 (UTC)" in prompt
    assert "huddle answer" in prompt
    new_york = await tick(bot, "2026-12-01T14:30")
    assert [p.split(" ", 1)[0] for p in posts_to(new_york, "@")] == ["@cat"]
    assert "answer by 11:30 (America/New_York)" in new_york

    value = 'project:"Acme Site" day:2026-12-01'
    reply = await submit_form(
        bot, "bob", value, {"q1": "Wireframes", "q2": "Copy", "q3": "DNS access"}
    )
    assert "Thanks, noted for the Acme Site huddle of Tue 1 Dec" in reply
    assert "blocker (#1) goes on top" in reply
    typed = await bot.say("ann", 'huddle answer "Kick-off" "Budget" "none"', channel=None)
    assert "Thanks, noted" in typed and "blocker (#" not in typed

    reminders = await tick(bot, "2026-12-01T11:00")
    assert reminders == ""  # ann and bob answered
    reminders = await tick(bot, "2026-12-01T16:00")
    assert [p.split(" ", 1)[0] for p in posts_to(reminders, "@")] == ["@cat"]
    assert "closes at 11:30 (America/New_York)" in reminders

    digest = await tick(bot, "2026-12-01T16:30")
    team = posts_to(digest, "#team")
    assert team[0].startswith("#team [internal]\n*Huddle Acme Site, Tue 1 Dec: 2 of 3 answered*")
    assert "*Blockers*\n[!] #1 bob: DNS access (new today)" in team[0]
    assert "Missing: cat." in team[0]
    assert len(team) == 3 and "Done?: Wireframes" in "\n".join(team[1:])
    assert not posts_to(digest, f"#{CLIENT}") and not posts_to(digest, "@")
    async with bot.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.id, Delivery.thread_of, Delivery.platform_message_id).where(
                    Delivery.occurrence_key == "huddle-digest:project=1:2026-12-01"
                )
            )
        ).all()
    parent = [r for r in rows if r.thread_of is None]
    assert len(parent) == 1 and all(r.thread_of == parent[0].id for r in rows if r is not parent[0])

    check_in = await tick(bot, "2026-12-02T09:00")
    assert "*Blockers*\n[!] bob: DNS access" in check_in
    assert await tick(bot, "2026-12-01T16:30") == ""


async def test_huddle_now_asks_at_once_and_the_usual_time_does_not_ask_again(
    bot: Harness,
) -> None:
    bot.clock.set("2026-12-01T07:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "huddle set time:09:30 window:1h")
    bot.take_posts()
    out = await bot.say("ann", "huddle now")
    assert "Huddle started: I asked ann, bob." in out
    posts = bot.take_posts()
    assert len(posts_to(posts, "@")) == 2 and "answer by 08:00 (UTC)" in posts
    assert "Nobody new to ask" in await bot.say("ann", "huddle now")
    bot.take_posts()
    reminders = await tick(bot, "2026-12-01T07:30")  # 30 minutes before the hour closes
    assert sorted(p.split(" ", 1)[0] for p in posts_to(reminders, "@")) == ["@ann", "@bob"]
    digest = await tick(bot, "2026-12-01T08:00")
    assert "Huddle Acme Site, Tue 1 Dec: 0 of 2 answered" in digest
    later = await tick(bot, "2026-12-01T09:30")
    assert not posts_to(later, "@")  # already asked today


async def test_huddle_answers_are_refused_in_the_client_side_and_kept_internal(
    bot: Harness,
) -> None:
    await kickoff(bot)
    await bot.say("ann", "huddle set time:09:30")
    refused = await bot.say("carol", 'huddle answer "x" "y" "z"', channel=CLIENT, external=True)
    assert "Thanks" not in refused
    in_client_side = await bot.say("ann", 'huddle answer "x" "y" "z"', channel=CLIENT)
    assert "internal" in in_client_side and "Thanks" not in in_client_side
    async with bot.sessions() as session:
        assert (await session.scalars(select(HuddleAnswer))).all() == []


async def test_huddle_settings_errors_and_off(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    assert "between 15m and 12h" in await bot.say("ann", "huddle set time:09:30 window:13h")
    assert "not a time of day" in await bot.say("ann", "huddle set time:25:00")
    assert "is for the project's PM" in await bot.say("bob", "huddle set time:09:30")
    assert "Daily huddle" in await bot.say("ann", "huddle set time:10:00")
    assert "is off" in await bot.say("ann", "huddle off")
    bot.take_posts()
    assert await tick(bot, "2026-12-02T10:00") == (
        "-> #team [internal]\nAll clear for Acme Site on Wed 2 Dec: nothing overdue, due or "
        "blocked."
    )
