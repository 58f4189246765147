"""The due-step on a real database: what the morning check-in, deadline and milestone
reminders, budget warnings and weekly reports say, and that each goes out once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.schedule.step import run_due
from storage.models import BudgetAlarm, Delivery, OccurrenceClaim
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff


async def tick(bot: Harness, moment: str, *, grace_minutes: int = 120) -> str:
    """Run the due-step at `moment` (UTC) and deliver: what was posted."""
    bot.clock.set(moment + "+00:00")
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=grace_minutes))
    await bot.deliver()
    return bot.take_posts()


async def test_morning_check_in_says_what_needs_attention(bot: Harness) -> None:
    bot.clock.set("2026-11-30T10:00+00:00")  # a Monday
    await kickoff(bot)
    for line in (
        'task add "Wireframes" @bob due:2026-11-30',
        'task add "Copy deck" @ann due:2026-12-01',
        'task add "Hosting" @bob due:2026-12-10',
        'task block 3 "waiting for the client\'s DNS access"',
        'task add "Later" @bob due:2026-12-20',
        'risk add "Vendor API late" likelihood:high impact:high review:2026-12-01',
        'change "Add a blog" cost:4000 days:5',
        'spend 20000 "Licences"',
    ):
        assert "Usage" not in await bot.say("ann", line), line
    await client_says(bot, 'request "Please use the new logo"')
    bot.take_posts()
    posts = await tick(bot, "2026-12-01T09:00")
    assert posts.startswith("-> #team [internal]\n*Good morning: Acme Site, Tue 1 Dec*")
    sections = posts.split("*")
    assert "[!] #3 Hosting (bob): waiting for the client's DNS access" in posts
    assert "[!] #1 Wireframes (bob), due Mon 30 Nov" in posts
    assert "[>] #2 Copy deck (ann)" in posts
    assert "Client request 1: Please use the new logo" in posts
    assert "Change 1: Add a blog, waiting for approval" in posts
    assert "Risk 1: Vendor API late (review was due Tue 1 Dec)" in posts
    assert "Budget: USD 20,000.00 of USD 50,000.00 spent (40.0%)" in posts
    assert "Later" not in posts
    assert sections.index("Blockers") < sections.index("Overdue") < sections.index("Due today")
    assert f"#{CLIENT}" not in posts
    assert await tick(bot, "2026-12-01T09:00") == ""  # the same instant again: nothing
    assert await tick(bot, "2026-12-01T09:01") == ""


async def test_all_clear_line_or_nothing_when_the_pm_turned_it_off(bot: Harness) -> None:
    await kickoff(bot, client_side=False)
    posts = await tick(bot, "2026-12-02T09:00")
    assert posts == (
        "-> #team [internal]\n"
        "All clear for Acme Site on Wed 2 Dec: nothing overdue, due or blocked."
    )
    await bot.say("ann", "project set all-clear:off")
    bot.take_posts()
    assert await tick(bot, "2026-12-03T09:00") == ""
    async with bot.sessions() as session:
        outcome = await session.scalar(
            select(OccurrenceClaim.outcome).where(
                OccurrenceClaim.key.like("checkin:project=%:2026-12-03")
            )
        )
    assert outcome == "empty"


async def test_public_holiday_no_check_in_late_within_grace_once_older_skipped(
    bot: Harness,
) -> None:
    bot.clock.set("2026-12-21T10:00+00:00")
    await kickoff(bot, client_side=False)
    await bot.say("ann", "project set country:DE checkin:08:30")
    bot.take_posts()
    assert await tick(bot, "2026-12-25T09:00") == ""  # Christmas Day
    assert "All clear" in await tick(bot, "2026-12-28T10:29")  # down until 10:29: late, once
    assert await tick(bot, "2026-12-28T10:30") == ""
    assert await tick(bot, "2026-12-29T10:31") == ""  # 2h01 late: skipped, not a flood
    async with bot.sessions() as session:
        claims = dict(
            (
                await session.execute(
                    select(OccurrenceClaim.key, OccurrenceClaim.outcome).where(
                        OccurrenceClaim.key.like("checkin:%")
                    )
                )
            ).all()
        )
    assert claims["checkin:project=1:2026-12-28"] == "queued"
    assert claims["checkin:project=1:2026-12-29"] == "skipped"
    assert not any(key.endswith("2026-12-25") for key in claims)


async def test_deadline_reminders_are_direct_messages_to_the_owner(bot: Harness) -> None:
    bot.clock.set("2026-11-30T10:00+00:00")
    await kickoff(bot, client_side=False)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-04')  # a Friday
    await bot.say("ann", 'task add "Sitemap" @bob due:2026-12-04')
    await bot.say("ann", 'task add "Done already" @bob due:2026-12-04')
    await bot.say("ann", "task done 3")
    bot.take_posts()
    thursday = await tick(bot, "2026-12-03T09:00")
    assert "-> @bob [internal]\n*Your deadlines in Acme Site*" in thursday
    assert "[>] #1 Wireframes is due Fri 4 Dec" in thursday
    assert "[>] #2 Sitemap is due Fri 4 Dec" in thursday
    assert thursday.count("-> @bob") == 1  # one message for both
    assert "Done already" not in thursday
    await bot.say("bob", "task done 2", channel=None)
    bot.take_posts()
    friday = await tick(bot, "2026-12-04T09:00")
    assert "[>] #1 Wireframes is due today" in friday and "Sitemap" not in friday
    monday = await tick(bot, "2026-12-07T09:00")
    assert "[!] #1 Wireframes is overdue (it was due Fri 4 Dec)" in monday
    assert "-> @bob" not in await tick(bot, "2026-12-08T09:00")  # one overdue reminder only


async def test_milestones_warn_the_team_and_ask_the_client_for_sign_off(bot: Harness) -> None:
    bot.clock.set("2026-11-30T10:00+00:00")
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Beta" due:2026-12-09 client')
    await bot.say("ann", 'milestone add "Internal QA" due:2026-12-09')
    bot.take_posts()
    posts = await tick(bot, "2026-12-04T09:00")
    team = [p for p in posts.split("\n\n-> ") if p.lstrip("-> ").startswith("#team")]
    client = [p for p in posts.split("\n\n-> ") if p.lstrip("-> ").startswith(f"#{CLIENT}")]
    assert any("Milestone in 3 working days: Beta" in p for p in team)
    assert any("Milestone in 3 working days: Internal QA" in p for p in team)
    assert len(client) == 1 and "[client]" in client[0]
    assert "Beta is planned for Wed 9 Dec" in client[0] and "sign it off" in client[0]
    assert "Internal QA" not in client[0]


async def test_budget_warns_once_per_threshold_and_re_arms_after_an_approved_change(
    bot: Harness,
) -> None:
    await kickoff(bot)
    await bot.say("ann", 'spend 26000 "Licences"')
    bot.take_posts()
    first = await tick(bot, "2026-12-01T10:05")
    assert "-> #team [internal]\n*Budget warning: Acme Site*" in first
    assert "used 52.0% of its budget (USD 26,000.00 of USD 50,000.00), past the 50% mark" in first
    # Started today, so at today's burn the money runs out long before the due date.
    assert "the budget runs out on Wed 2 Dec, before the due date Mon 1 Mar" in first
    assert f"#{CLIENT}" not in first
    assert "Budget warning" not in await tick(bot, "2026-12-01T10:06")
    await bot.say("ann", 'spend 12000 "Hosting"')
    bot.take_posts()
    second = await tick(bot, "2026-12-01T10:07")
    assert "past the 75% mark" in second and "runs out" not in second
    await bot.say("ann", 'change "Extra pages" cost:30000 days:5')
    await client_says(bot, "change approve 1")
    bot.take_posts()
    rearmed = await tick(bot, "2026-12-01T10:08")
    assert "% mark" not in rearmed  # 47.5% of the raised budget: under every threshold
    assert "runs out on Thu 3 Dec" in rearmed  # the forecast warns again for the new budget
    await bot.say("ann", 'spend 3000 "Fonts"')
    bot.take_posts()
    third = await tick(bot, "2026-12-01T10:09")
    assert "(USD 41,000.00 of USD 80,000.00), past the 50% mark" in third
    async with bot.sessions() as session:
        alarms = (await session.execute(select(BudgetAlarm.threshold, BudgetAlarm.budget))).all()
    assert sorted((mark, int(budget)) for mark, budget in alarms) == [
        ("50", 50000),
        ("50", 80000),
        ("75", 50000),
        ("forecast", 50000),
        ("forecast", 80000),
    ]


async def test_weekly_report_to_both_sides_client_without_money(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'spend 12345 "Licences"')
    bot.take_posts()
    posts = await tick(bot, "2026-12-04T15:00")  # Friday, 15:00 project time (UTC)
    parts = posts.split("\n\n-> ")
    client = [p for p in parts if f"#{CLIENT} [client]" in p]
    team = [p for p in parts if "#team [internal]" in p and "Good morning" not in p]
    assert len(client) == 1 and len(team) >= 1
    assert "12,345" not in client[0] and "USD" not in client[0]
    assert "12,345" in "\n".join(team)
    assert await tick(bot, "2026-12-04T15:00") == ""
    async with bot.sessions() as session:
        keys = (await session.scalars(select(Delivery.occurrence_key))).all()
    assert keys.count("report:project=1:2026-12-04") == 2
