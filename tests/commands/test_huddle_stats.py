"""Anonymous mood (no person id, day granularity, shown only with 3 or more answers, never to
a client audience), and the huddle's history and stats with exact figures."""

from __future__ import annotations

from sqlalchemy import inspect, select

from storage.models import HuddleMood
from tests.commands.test_huddle import posts_to, tick
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff


async def answer_at(bot: Harness, who: str, moment: str, line: str) -> str:
    bot.clock.set(moment + "+00:00")
    return await bot.say(who, line, channel=None)


async def moods(bot: Harness) -> list[tuple[str, int, int]]:
    async with bot.sessions() as session:
        rows = await session.scalars(select(HuddleMood).order_by(HuddleMood.day, HuddleMood.score))
        return [(m.day.isoformat(), m.score, m.count) for m in rows]


async def two_days(bot: Harness) -> None:
    """Tue 1 and Wed 2 Dec: ann, bob, cat and dan asked at 09:30 both days."""
    bot.clock.set("2026-11-30T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "team add @cat @dan")
    refused = await bot.say("ann", 'huddle answer "x" "y" "z" mood:3')
    assert "does not ask for mood" in refused
    assert "Mood: asked, anonymous (1-5)" in await bot.say("ann", "huddle set time:09:30 mood:on")
    bot.take_posts()

    prompts = await tick(bot, "2026-12-01T09:30")
    assert "? How are you feeling today? 1-5 (anonymous, optional)" in posts_to(prompts, "@cat")[0]
    out = await answer_at(bot, "ann", "2026-12-01T09:40", 'huddle answer "A1" "A2" "none" mood:4')
    assert "counted anonymously" in out
    await answer_at(bot, "bob", "2026-12-01T10:00", 'huddle answer "B1" "B2" "none" mood:2')
    again = await bot.say("bob", 'huddle answer "B1" "B2b" "none" mood:5', channel=None)
    assert "already counted" in again
    for bad in ("0", "9", "x"):
        refused = await bot.say("cat", f'huddle answer "C" "C" "none" mood:{bad}', channel=None)
        assert "Mood is a whole number from 1 (low) to 5 (great)" in refused
    await answer_at(bot, "cat", "2026-12-01T10:30", 'huddle answer "C1" "C2" "none" mood:3')
    await bot.say("dan", 'huddle skip "sick"', channel=None)

    await tick(bot, "2026-12-02T09:30")
    await answer_at(bot, "ann", "2026-12-02T09:50", 'huddle answer "A3" "A4" "none" mood:5')
    await answer_at(bot, "bob", "2026-12-02T11:00", 'huddle answer "B3" "B4" "none" mood:4')
    bot.clock.set("2026-12-02T12:00+00:00")


async def test_mood_is_anonymous_and_shown_only_with_three_answers(bot: Harness) -> None:
    await two_days(bot)
    assert await moods(bot) == [
        ("2026-12-01", 2, 1),
        ("2026-12-01", 3, 1),
        ("2026-12-01", 4, 1),
        ("2026-12-02", 4, 1),
        ("2026-12-02", 5, 1),
    ]
    columns = {c.key for c in inspect(HuddleMood).columns}
    assert columns == {"id", "project_id", "day", "score", "count"}  # no person, no time
    stats = await bot.say("ann", "huddle stats")
    assert "*Team mood (anonymous daily average, 1-5)*\nTue 1 Dec: 3.0 (3 answers)" in stats
    assert "Wed 2 Dec" not in stats  # two mood answers only
    assert "(image: Team mood by day: 2026-12-01 3.0 -> " in stats  # drawn
    refused = await bot.say("ann", "huddle stats", channel=CLIENT)
    assert "internal" in refused and "mood" not in refused.lower()
    assert "3.0" not in await client_says(bot, "huddle stats")
    assert "3.0" not in await client_says(bot, "status")


async def test_history_and_stats_figures_are_exact(bot: Harness) -> None:
    await two_days(bot)
    stats = await bot.say("ann", "huddle stats")
    assert "ann: answered 2 of 2 days (100%)" in stats
    assert "bob: answered 2 of 2 days (100%)" in stats
    assert "cat: answered 1 of 2 days (50%)" in stats
    assert "dan: answered 0 of 2 days (0%), skipped 1" in stats
    # Waits: ann 10 and 20 min, bob 30 and 90, cat 60: the median is 30.
    assert "Median answer time after the prompt: 30 min" in stats
    assert "is for the project's PM" in await bot.say("bob", "huddle stats")

    history = await bot.say("bob", "huddle history days:2")
    lines = [line for line in history.split("\n") if " · " in line]
    assert lines == [
        " -  Wed 2 Dec · ann: A3 / A4 / none",
        " -  Wed 2 Dec · bob: B3 / B4 / none",
        " -  Tue 1 Dec · ann: A1 / A2 / none",
        " -  Tue 1 Dec · bob: B1 / B2b / none",
        " -  Tue 1 Dec · cat: C1 / C2 / none",
        " -  Tue 1 Dec · dan: skipped (sick)",
    ]
    dan = await bot.say("ann", "huddle history @dan")
    assert "Huddle history of dan: Acme Site, last 14 days" in dan
    assert [line for line in dan.split("\n") if " · " in line] == [
        " -  Tue 1 Dec · dan: skipped (sick)"
    ]
    assert "Wed 2 Dec" not in await bot.say("ann", "huddle history days:1 @cat")
    assert "Look back 1 to 90 days" in await bot.say("ann", "huddle history days:365")
    assert "you are a client" in await client_says(bot, "huddle history")


async def test_mood_goes_in_the_internal_weekly_report_and_never_the_client_one(
    bot: Harness,
) -> None:
    await two_days(bot)
    bot.take_posts()
    reports = await tick(bot, "2026-12-04T15:00")  # Friday: the weekly reports
    (internal,) = posts_to(reports, "#team")
    (client,) = posts_to(reports, f"#{CLIENT}")
    assert "*Team mood (anonymous daily average, 1-5)*\nTue 1 Dec: 3.0 (3 answers)" in internal
    assert "mood" not in client.lower() and "3.0" not in client
    typed = await bot.say("ann", "report")
    assert "Tue 1 Dec: 3.0 (3 answers)" in typed
    assert "mood" not in (await client_says(bot, "report")).lower()
