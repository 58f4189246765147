"""Client meetings in the console: the agenda before each meeting in the project's zone (once,
not on a public holiday, not when skipped, not for a closed project), with exactly the due
milestones, waiting approvals, open requests, shared risks, the client's action items and
the team's questions; the team's prep note with what stays internal; minutes to both sides;
action items with a client owner reminded in the client side; bad input changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import ActionItem, Delivery, Meeting, MeetingNote, MeetingSkip
from tests.commands.test_huddle import posts_to, tick
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, count, kickoff

# What the client side must never read of the project: amounts, rates, internal risks,
# internal notes and items, decisions, the pulse.
LEAKS = (
    "50,000",
    "50000",
    "900",
    "100/h",
    "Budget",
    "Spent",
    "INTERNAL-RISK-ZEBRA",
    "INTERNAL-NOTE-WOMBAT",
    "INTERNAL-ITEM-OKAPI",
    "INTERNAL-DECISION-IBEX",
    "Internal QA",
    "pulse",
    "satisfaction",
    "Overdue, blocked",
)


def no_leak(text: str) -> None:
    assert [leak for leak in LEAKS if leak in text] == [], text


async def client_sides(bot: Harness) -> list[str]:
    """Every client-audience message queued, but the change's approval card: its own price
    is the one amount a client reads."""
    async with bot.sessions() as session:
        rows = await session.scalars(select(Delivery).where(Delivery.audience == "client"))
        texts = [str(d.message) for d in rows]
    return [t for t in texts if "needs your approval" not in t]


async def a_project_with_a_meeting(bot: Harness) -> None:
    """Acme Site in Berlin (German holidays), a Friday 10:00 client meeting, and what its
    agenda shows."""
    bot.clock.set("2026-12-01T08:00+00:00")  # a Tuesday
    await kickoff(bot)
    await client_says(bot, "help")  # carol is met: a client person
    for line in (
        "project set tz:Europe/Berlin country:DE",
        "meeting set fri 10:00",
        'milestone add "Design" due:2026-12-10 client',
        'milestone add "Launch" due:2027-02-01 client',
        'milestone add "Internal QA" due:2026-12-09',
        'change "Extra page" cost:900 days:2',
        'risk add "INTERNAL-RISK-ZEBRA" likelihood:high impact:high',
        'risk add "Hosting may slip" likelihood:low impact:low client',
        'meeting ask "Can we see the staging site?"',
        'action "Send the logo files" @carol due:2026-12-14',
        'action "INTERNAL-ITEM-OKAPI" @bob --internal',
        'link add "SOW" https://docs.example.com/sow client',
        'link add "INTERNAL-LINK-TAPIR" https://docs.example.com/margins',
    ):
        out = await bot.say("ann", line)
        assert "Usage" not in out and "not" not in out.split("\n")[0], (line, out)
    assert "number 1" in await client_says(bot, 'request "A logo please"')
    bot.take_posts()


async def test_the_agenda_goes_before_each_meeting_once_in_the_projects_zone(
    bot: Harness,
) -> None:
    await a_project_with_a_meeting(bot)
    shown = await bot.say("ann", "meeting")
    assert "every week on Friday at 10:00 (Europe/Berlin)" in shown and "Fri 4 Dec 2026" in shown

    assert posts_to(await tick(bot, "2026-12-04T07:59"), "#" + CLIENT) == []
    posted = await tick(bot, "2026-12-04T08:00")  # 09:00 in Berlin: 60 minutes before
    (agenda,) = posts_to(posted, "#" + CLIENT)
    assert "Agenda: Acme Site client meeting" in agenda
    assert "Fri 4 Dec, 10:00 (Europe/Berlin), 45 minutes" in agenda
    assert "Design (due 2026-12-10): on track" in agenda
    assert "Launch" not in agenda  # due in more than 14 days
    assert 'Approve or decline change 1: "Extra page"' in agenda
    assert "Request 1 A logo please (raised 3 days ago)" in agenda
    assert "Hosting may slip" in agenda
    assert "1. Send the logo files @carol, due 2026-12-14" in agenda
    assert "Can we see the staging site?" in agenda
    assert "SOW: https://docs.example.com/sow" in agenda  # a client-flagged link
    assert "TAPIR" not in agenda and "margins" not in agenda
    no_leak(agenda)
    (prep,) = [p for p in posts_to(posted, "#team") if "Prep: Acme Site" in p]
    assert "Internal QA" in prep and "INTERNAL-RISK-ZEBRA" in prep
    assert "Change 1 Extra page: USD 900.00" in prep and "USD 50,000.00" in prep
    assert "INTERNAL-ITEM-OKAPI" in prep and "Can we see the staging site?" in prep
    assert posts_to(await tick(bot, "2026-12-04T08:05"), "#" + CLIENT) == []  # once

    bot.clock.set("2026-12-05T10:00+00:00")
    assert "Fri 11 Dec 2026 is skipped" in await bot.say("ann", "meeting skip")
    assert "Next: Fri 18 Dec 2026" in bot.take_posts() + await bot.say("ann", "meeting")
    skipped = posts_to(await tick(bot, "2026-12-11T08:00"), "#" + CLIENT)
    assert [p for p in skipped if "Agenda" in p] == []  # the action reminder only
    assert "Agenda" in posts_to(await tick(bot, "2026-12-18T08:00"), "#" + CLIENT)[0]
    assert posts_to(await tick(bot, "2026-12-25T08:00"), "#" + CLIENT) == []  # Christmas Day
    assert "Skipped: 2026-12-11" not in await bot.say("ann", "meeting")  # past skips not shown
    assert await count(bot, MeetingSkip) == 1
    for text in await client_sides(bot):
        no_leak(text)


async def test_no_agenda_for_a_closed_project_or_a_meeting_turned_off(bot: Harness) -> None:
    await a_project_with_a_meeting(bot)
    assert "is off" in await bot.say("ann", "meeting off")
    assert posts_to(await tick(bot, "2026-12-04T08:00"), "#" + CLIENT) == []
    await bot.say("ann", "meeting set fri 10:00 every:2w agenda:2h")
    assert "closed" in await bot.say("ann", "project close force")
    bot.take_posts()
    posted = await tick(bot, "2026-12-11T07:00")
    assert posts_to(posted, "#" + CLIENT) == [] and "Prep" not in posted
    assert "Action items due" not in await tick(bot, "2026-12-14T08:00")


async def test_minutes_go_to_both_sides_client_safe(bot: Harness) -> None:
    await a_project_with_a_meeting(bot)
    bot.clock.set("2026-12-04T09:10+00:00")  # ten minutes into the meeting
    for line in (
        'meeting note "Staging goes live on Monday"',
        'meeting note --internal "INTERNAL-NOTE-WOMBAT"',
        'decision "INTERNAL-DECISION-IBEX"',
        'action "Review the copy" @bob due:2026-12-09',
    ):
        assert "Usage" not in await bot.say("ann", line), line
    refused = await client_says(bot, 'meeting note --internal "x"')
    assert "Usage" not in refused and await count(bot, MeetingNote) == 2
    bot.clock.set("2026-12-04T09:50+00:00")
    team = await bot.say("bob", "meeting done")
    assert "INTERNAL-NOTE-WOMBAT (internal)" in team and "INTERNAL-DECISION-IBEX" in team
    assert "2. INTERNAL-ITEM-OKAPI" not in team  # recorded before the meeting started
    assert "3. Review the copy @bob, due 2026-12-09" in team
    (client,) = posts_to(bot.take_posts(), "#" + CLIENT)
    assert "Minutes: Acme Site client meeting, Fri 4 Dec" in client
    assert "Staging goes live on Monday" in client and "3. Review the copy" in client
    no_leak(client)
    again = await bot.say("ann", "meeting done")  # counts from the last `meeting done`
    assert "Staging goes live" not in again
    agenda = posts_to(await tick(bot, "2026-12-11T08:00"), "#" + CLIENT)[0]
    assert "Can we see the staging site?" not in agenda  # answered in the last meeting


async def test_action_items_owned_by_a_client_are_reminded_and_marked_done(
    bot: Harness,
) -> None:
    await a_project_with_a_meeting(bot)
    # Due Monday 14 Dec: the client side is reminded on Friday and on Monday at 09:00 Berlin.
    before = posts_to(await tick(bot, "2026-12-11T08:00"), "#" + CLIENT)
    (reminder,) = [p for p in before if "Action items due" in p]
    assert "1. Send the logo files @carol, due 2026-12-14 (due next)" in reminder
    assert "action done 1" in reminder
    assert posts_to(await tick(bot, "2026-12-11T08:05"), "#" + CLIENT) == []
    today = posts_to(await tick(bot, "2026-12-14T08:00"), "#" + CLIENT)
    assert any("(due today)" in p for p in today)

    mine = await client_says(bot, "actions")
    assert "Send the logo files" in mine and "INTERNAL-ITEM-OKAPI" not in mine
    assert "own" in await client_says(bot, "action done 2")
    assert "done: Send the logo files" in await client_says(bot, "action done 1")
    assert "already done" in await client_says(bot, "action done 1")
    assert "No action items" in await client_says(bot, "actions")
    team = await bot.say("ann", "actions all")
    assert "1. Send the logo files @carol" in team and "INTERNAL-ITEM-OKAPI" in team
    for text in await client_sides(bot):
        no_leak(text)


async def test_bad_input_and_the_wrong_role_change_nothing(bot: Harness) -> None:
    bot.clock.set("2026-12-01T08:00+00:00")
    await kickoff(bot)
    for line, says in (
        ("meeting set funday 10:00", "not a weekday"),
        ("meeting set tue 25:00", "not a time of day"),
        ("meeting set tue 10:00 every:3w", "1w, 2w or 4w"),
        ("meeting set tue 10:00 length:0m", "more than zero"),
        ("meeting set tue 10:00 agenda:25h", "from 1 minute to 24 hours"),
        ("meeting set tue", "Missing the time"),
    ):
        out = await bot.say("ann", line)
        assert says in out and "Usage" in out, (line, out)
    assert "for the project's PM" in await bot.say("bob", "meeting set tue 10:00")
    assert "for the project's PM" in await client_says(bot, "meeting set tue 10:00")
    assert await count(bot, Meeting) == 0
    assert "no client meeting" in await bot.say("ann", "meeting done")
    assert "no client meeting" in await bot.say("ann", "meeting skip")
    await bot.say("ann", "meeting set tue 10:00")
    assert "no client meeting on" in await bot.say("ann", "meeting skip 2026-12-09")
    for line, says in (
        ("action", "Missing the action"),
        ('action "Logo" due:2020-01-01', "in the past"),
        ("action done 7", "no action item 7"),
    ):
        assert says in await bot.say("ann", line), line
    refused = await client_says(bot, 'action "Pay us"')
    assert "Usage" not in refused and await count(bot, ActionItem) == 0
    assert await count(bot, MeetingSkip) == 0
