"""Blockers that get resolved: numbered items from huddle answers, acknowledged from the
digest's button, the same item when repeated, escalated once after 2 working days (across a
weekend, a public holiday and a DST change), resolved with the author told, assigned and
turned into a task; bad input changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.domain.blocker_rules import OpenBlocker
from bot.domain.occurrences import blocker_escalations
from bot.domain.schedule import ProjectTimes, Window
from bot.requests import Action
from storage.models import HuddleBlocker, Task
from tests.commands.test_huddle import posts_to, submit_action, tick
from tests.harness import Harness
from tests.project_setup import CLIENT, kickoff


async def answer(bot: Harness, who: str, blocker: str) -> str:
    return await bot.say(who, f'huddle answer "done" "next" "{blocker}"', channel=None)


async def items(bot: Harness) -> list[tuple[int, str, str, date]]:
    async with bot.sessions() as session:
        rows = await session.scalars(select(HuddleBlocker).order_by(HuddleBlocker.number))
        return [(b.number, b.text, b.status, b.first_day) for b in rows]


async def test_a_blocker_is_acknowledged_repeated_escalated_once_and_resolved(
    bot: Harness,
) -> None:
    bot.clock.set("2026-12-02T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "team add @cat")
    out = await bot.say("ann", "huddle set time:09:30 window:2h escalate:2d")
    assert "Blockers escalated after: 2 working days unresolved" in out
    bot.take_posts()

    await tick(bot, "2026-12-03T09:30")  # Thursday
    reply = await answer(bot, "bob", "DNS access")
    assert "Your blocker (#1)" in reply
    digest = posts_to(await tick(bot, "2026-12-03T11:30"), "#team")[0]
    assert "[!] #1 bob: DNS access (new today)" in digest
    assert "[1] Acknowledge #1  [2] Resolve #1" in digest
    acked = await submit_action(bot, "ann", Action("blocker ack", '1 project:"Acme Site"'))
    assert "ann acknowledged blocker 1: DNS access" in acked

    await tick(bot, "2026-12-04T09:30")  # Friday: said again, the same item
    await answer(bot, "bob", "dns access.")
    digest = posts_to(await tick(bot, "2026-12-04T11:30"), "#team")[0]
    assert "#1 bob: DNS access (1 working day, acknowledged)" in digest
    assert "Acknowledge" not in digest  # not new today
    assert [(n, s) for n, _, s, _ in await items(bot)] == [(1, "acknowledged")]

    weekend = await tick(bot, "2026-12-05T09:00") + await tick(bot, "2026-12-06T09:00")
    assert "Escalated" not in weekend and "escalated" not in weekend
    monday = await tick(bot, "2026-12-07T09:00")
    (pm_dm,) = [p for p in posts_to(monday, "@ann") if "escalated" in p]
    assert "Unresolved for 2 working days: #1 bob: DNS access" in pm_dm
    check_in = posts_to(monday, "#team")[0]
    assert check_in.split("\n")[1].startswith("Escalated: blocker #1 bob: DNS access")
    again = await tick(bot, "2026-12-07T09:05") + await tick(bot, "2026-12-08T09:00")
    assert "Escalated" not in again and "escalated" not in again  # once

    assert "Only the PM or the person blocked" in await bot.say("cat", "blocker resolve 1")
    assert "There is no blocker 99" in await bot.say("ann", "blocker resolve 99")
    assert "internal" in await bot.say("ann", "blockers", channel=CLIENT)
    assert await items(bot) == [(1, "DNS access", "acknowledged", date(2026, 12, 3))]
    listed = await bot.say("cat", "blockers")
    assert "#1 bob: DNS access · 3 working days · acknowledged" in listed

    resolved = await bot.say("ann", 'blocker resolve 1 "Hosting sent the keys"')
    assert "Blocker 1 resolved" in resolved
    told = posts_to(bot.take_posts(), "@bob")
    assert len(told) == 1 and "ann resolved your blocker 1 in Acme Site" in told[0]
    assert "Hosting sent the keys" in told[0]
    assert "already resolved" in await bot.say("ann", "blocker resolve 1")
    assert "No open blockers." in await bot.say("ann", "blockers")
    assert "resolved: Hosting sent the keys" in await bot.say("ann", "blockers all")


async def test_a_blocker_is_assigned_and_turned_into_a_task(bot: Harness) -> None:
    bot.clock.set("2026-12-01T08:00+00:00")
    await kickoff(bot)
    await bot.say("ann", "team add @cat")
    await bot.say("ann", "huddle set time:09:30")
    await tick(bot, "2026-12-01T09:30")
    await answer(bot, "cat", "Waiting for copy")
    await answer(bot, "cat", "Waiting for the logo")  # today's answer changed: same item
    assert [(n, t) for n, t, _, _ in await items(bot)] == [(1, "Waiting for the logo")]
    await answer(bot, "cat", "none")  # and cleared
    assert await items(bot) == []
    await answer(bot, "cat", "Waiting for the logo")
    await bot.say("bob", "blockers", channel=None)  # bob's DM is known
    bot.take_posts()
    assert "is with bob" in await bot.say("cat", "blocker assign 1 @bob")
    assert "asked you to clear blocker 1" in posts_to(bot.take_posts(), "@bob")[0]
    assert "is for the project's PM" in await bot.say("cat", "blocker 1 to-task @bob")
    out = await bot.say("ann", "blocker 1 to-task @bob due:2026-12-04")
    assert "Task 1 added: Waiting for the logo · bob · due 2026-12-04" in out
    assert "resolved into task 1" in out
    async with bot.sessions() as session:
        task = await session.scalar(select(Task))
        blocker = await session.scalar(select(HuddleBlocker))
    assert task is not None and blocker is not None
    assert blocker.task_id == task.id and blocker.status == "resolved"


def _escalation(project: ProjectTimes, first_day: date, at: datetime) -> list[datetime]:
    found = blocker_escalations(
        project, [OpenBlocker(1, 1, first_day)], 2, Window(at, timedelta(minutes=120))
    )
    return [o.due_at for o in found]


def test_escalation_skips_a_public_holiday_and_follows_dst() -> None:
    germany = ProjectTimes(id=1, zone="Europe/Berlin", country="DE", checkin_time="09:00")
    # Said Wednesday 23 Dec 2026: 24th (Thu) counts, 25th-26th are holidays, 28th (Mon) is 2.
    monday = datetime(2026, 12, 28, 8, 0, tzinfo=UTC)  # 09:00 in Berlin (CET)
    assert _escalation(germany, date(2026, 12, 23), monday) == [monday]
    assert _escalation(germany, date(2026, 12, 23), datetime(2026, 12, 25, 8, 0, tzinfo=UTC)) == []
    # Said Thursday 22 Oct 2026: Friday 1, Monday 26 Oct 2 (after the clocks went back).
    after_dst = datetime(2026, 10, 26, 8, 0, tzinfo=UTC)  # 09:00 CET, not 07:00
    assert _escalation(germany, date(2026, 10, 22), after_dst) == [after_dst]
    assert _escalation(germany, date(2026, 10, 22), after_dst - timedelta(minutes=1)) == []
