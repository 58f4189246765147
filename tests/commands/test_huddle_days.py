"""A huddle day in the console: answers edited until the digest, the prompt pre-filled with
yesterday's plan, a late answer editing the posted digest, a skip, and required versus
optional people."""

from __future__ import annotations

from sqlalchemy import select

from bot.requests import Action
from storage.models import Delivery, HuddleAnswer, OccurrenceClaim
from tests.commands.test_huddle import posts_to, submit_action, tick
from tests.harness import Harness
from tests.project_setup import kickoff

VALUE_TUE = 'project:"Acme Site" day:2026-12-01'


async def start(bot: Harness) -> None:
    bot.clock.set("2026-11-30T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "huddle set time:09:30 window:2h")
    bot.take_posts()


async def test_answers_are_edited_until_the_digest_and_the_prompt_is_pre_filled(
    bot: Harness,
) -> None:
    await start(bot)
    await tick(bot, "2026-11-30T09:30")
    await bot.say("bob", 'huddle answer "Setup" "Deploy staging" "none"', channel=None)
    await tick(bot, "2026-11-30T11:30")

    morning = await tick(bot, "2026-12-01T09:30")
    bob_prompt = posts_to(morning, "@bob")[0]
    assert "? What did you get done since the last huddle? (now: Deploy staging)" in bob_prompt
    assert "(now:" not in posts_to(morning, "@ann")[0]  # ann never answered
    assert "Skip today" in bob_prompt

    first = await bot.say("bob", 'huddle answer "Staging" "Docs" "DNS access"', channel=None)
    assert "? What are you working on today? (now: Docs)" in first
    assert "Change anything until the digest goes out." in first
    again = await bot.say("bob", 'huddle answer "Staging done" "Copy" "none"', channel=None)
    assert "Thanks, noted" in again and "blocker" not in again
    async with bot.sessions() as session:
        rows = (
            await session.scalars(select(HuddleAnswer).where(HuddleAnswer.person_id == 2))
        ).all()
    assert sorted(r.answers[0] for r in rows) == ["Setup", "Staging done"]  # one row a day

    digest = "\n".join(posts_to(await tick(bot, "2026-12-01T11:30"), "#team"))
    assert "Staging done" in digest and "Copy" in digest
    assert "DNS access" not in digest and "*Blockers*" not in digest
    assert "Missing: ann." in digest


async def test_a_late_answer_edits_the_posted_digest_once_and_joins_its_thread(
    bot: Harness,
) -> None:
    await start(bot)
    await tick(bot, "2026-12-01T09:30")
    await bot.say("bob", 'huddle answer "Wireframes" "Copy" "none"', channel=None)
    digest = await tick(bot, "2026-12-01T11:30")
    assert "1 of 2 answered" in digest and "Missing: ann." in digest

    bot.clock.set("2026-12-01T15:00+00:00")
    late = await bot.say(
        "ann", 'huddle answer "Kick-off" "Budget" "Hosting contract"', channel=None
    )
    assert "added your answer to it, marked late" in late
    posts = bot.take_posts()
    edited = posts_to(posts, "#team [internal] (edited")
    assert len(edited) == 1
    assert "2 of 2 answered" in edited[0] and "Missing" not in edited[0]
    assert "[!] #1 ann: Hosting contract (new today)" in edited[0]
    thread = posts_to(posts, "#team [internal]\nann (late)")
    assert len(thread) == 1 and "Done since the last huddle" not in thread[0]
    assert "Kick-off" in thread[0]
    async with bot.sessions() as session:
        rows = (
            await session.execute(
                select(Delivery.operation, Delivery.thread_of, Delivery.status).where(
                    Delivery.operation == "update"
                )
            )
        ).all()
        parent = await session.scalar(
            select(Delivery.id).where(
                Delivery.occurrence_key == "huddle-digest:project=1:2026-12-01",
                Delivery.thread_of.is_(None),
            )
        )
    assert rows == [("update", parent, "sent")]
    assert await tick(bot, "2026-12-01T16:00") == ""  # nothing more to send

    # The next day the huddle of the 1st is over where ann is: kept, not added.
    bot.clock.set("2026-12-02T08:00+00:00")
    kept = await bot.say("ann", 'huddle answer "A" "B" "C" day:2026-12-01', channel=None)
    assert "kept for the record" in kept and "marked late" not in kept
    assert "edited" not in bot.take_posts()


async def test_skip_today_by_button_and_typed_then_listed_as_skipped_not_missing(
    bot: Harness,
) -> None:
    await start(bot)
    await bot.say("ann", "team add @cat")
    bot.take_posts()
    await tick(bot, "2026-12-01T09:30")
    clicked = await submit_action(bot, "bob", Action("huddle skip", VALUE_TUE))
    assert "Skipped the Acme Site huddle of Tue 1 Dec" in clicked
    typed = await bot.say("cat", 'huddle skip "dentist"', channel=None)
    assert "Skipped" in typed
    reminders = await tick(bot, "2026-12-01T11:00")
    assert [p.split(" ", 1)[0] for p in posts_to(reminders, "@")] == ["@ann"]
    digest = posts_to(await tick(bot, "2026-12-01T11:30"), "#team")[0]
    assert "Skipped: bob, cat (dentist)." in digest
    assert "Missing: ann." in digest and "0 of 1 answered" in digest

    refused = await bot.say("cat", 'huddle skip "again"', channel=None)
    assert "has gone out: a skip is for before it" in refused
    async with bot.sessions() as session:
        reasons = set(await session.scalars(select(HuddleAnswer.skip_reason)))
    assert reasons == {None, "dentist"}


async def test_optional_people_are_asked_once_and_never_missing(bot: Harness) -> None:
    await start(bot)
    assert "is for the project's PM" in await bot.say("bob", "huddle optional @ann")
    out = await bot.say("ann", "huddle optional @bob")
    assert "bob is optional in the huddle" in out
    assert "not on the Acme Site team" in await bot.say("ann", "huddle optional @zed")
    await tick(bot, "2026-12-01T09:30")
    reminders = await tick(bot, "2026-12-01T11:00")
    assert [p.split(" ", 1)[0] for p in posts_to(reminders, "@")] == ["@ann"]
    digest = posts_to(await tick(bot, "2026-12-01T11:30"), "#team")[0]
    assert "Missing: ann." in digest and "bob" not in digest

    assert "bob is required" in await bot.say("ann", "huddle required @bob")
    await tick(bot, "2026-12-02T09:30")
    digest = posts_to(await tick(bot, "2026-12-02T11:30"), "#team")[0]
    assert "Missing: ann, bob." in digest


async def claim_outcomes(bot: Harness, prefix: str) -> list[str]:
    async with bot.sessions() as session:
        rows = await session.scalars(
            select(OccurrenceClaim.outcome)
            .where(OccurrenceClaim.key.startswith(prefix))
            .order_by(OccurrenceClaim.key)
        )
        return list(rows)


async def test_after_downtime_a_digest_comes_once_late_or_is_recorded_skipped(
    bot: Harness,
) -> None:
    await start(bot)
    await tick(bot, "2026-12-01T09:30")
    # Down from 10:00; back at 12:45, within the grace period of the 11:30 digest.
    late = posts_to(await tick(bot, "2026-12-01T12:45"), "#team")
    assert len(late) == 1 and "Huddle Acme Site, Tue 1 Dec: 0 of 2 answered" in late[0]
    assert await tick(bot, "2026-12-01T12:46") == ""
    # Wednesday's digest (11:30) is missed by more than the grace period: recorded, not posted.
    await tick(bot, "2026-12-02T09:30")
    missed = await tick(bot, "2026-12-02T14:00")
    assert "Huddle" not in missed
    assert await claim_outcomes(bot, "huddle-digest:") == ["queued", "skipped"]


async def test_nobody_is_asked_about_a_day_already_over_for_them(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "huddle set time:23:00")
    # Down over the 23:00 prompt; back at 00:30, within the grace period but a new day.
    posts = await tick(bot, "2026-12-02T00:30")
    assert not posts_to(posts, "@")
    async with bot.sessions() as session:
        tuesday = (
            await session.scalars(
                select(OccurrenceClaim.outcome).where(
                    OccurrenceClaim.key.like("huddle-prompt:%:2026-12-01")
                )
            )
        ).all()
    assert tuesday == ["skipped", "skipped"]  # within the grace period, yet not asked


async def test_a_late_answer_counts_until_the_end_of_the_persons_own_day(bot: Harness) -> None:
    await start(bot)
    await bot.say("bob", "me tz:America/New_York", channel=None)
    await tick(bot, "2026-12-01T09:30")  # ann asked
    await tick(bot, "2026-12-01T14:30")  # bob asked, 09:30 in New York
    assert "0 of 2 answered" in await tick(bot, "2026-12-01T16:30")
    # 03:00 UTC on the 2nd: still the evening of the 1st in New York, not in UTC.
    bot.clock.set("2026-12-02T03:00+00:00")
    bob = await bot.say("bob", 'huddle answer "Copy" "Review" "none"', channel=None)
    assert "marked late" in bob
    ann = await bot.say("ann", 'huddle answer "Brief" "Budget" "none"', channel=None)
    assert "kept for the record" in ann
    edited = posts_to(bot.take_posts(), "#team [internal] (edited")
    assert len(edited) == 1 and "1 of 2 answered" in edited[0] and "Missing: ann." in edited[0]
