"""A due date in the past is taken, with a warning in the reply's small print, by every
command that sets one (issue 16: a PM catching up on the plan records what was due).
Today is Tue 1 Dec 2026 in the harness; the project is due 2027-03-01."""

from __future__ import annotations

from datetime import date

import pytest

from storage.models import Milestone, Project, Task
from tests.harness import Harness
from tests.project_setup import client_says, kickoff, row

NOV_30 = "Due: Mon 30 Nov 2026 — that is in the past."

# (the line ann types, in which channel, what the reply says, the row and the date it stored)
PAST_DUE = [
    (
        'task add "Late" @bob due:2026-11-30', "team",
        "Task 2 added: Late · bob · due 2026-11-30", (Task, {"number": 2}),
    ),
    (
        "task due 1 2026-11-30", "team",
        "Task 1 (T1) is due 2026-11-30 (was 2026-12-20).", (Task, {"number": 1}),
    ),
    (
        'milestone add "Gamma" due:2026-11-30', "team",
        'Added milestone 2 "Gamma", due 2026-11-30.', (Milestone, {"number": 2}),
    ),
    (
        "milestone due 1 due:2026-11-30", "team",
        'Milestone 1 "Beta": due 2026-11-30 (was 2027-02-01).', (Milestone, {"number": 1}),
    ),
    (
        "request 1 to-task @bob due:2026-11-30", "team",
        "Request 1 is now task 2 for @bob, planned for 2026-11-30.", (Task, {"number": 2}),
    ),
    (
        'project new "Old Site" client:"Old Corp" due:2026-11-30', "old-team",
        "Project Old Site started", (Project, {"name": "Old Site"}),
    ),
    ("project set due:2026-11-30", "team", "Acme Site updated", (Project, {"name": "Acme Site"})),
]  # fmt: skip


async def _plan(bot: Harness) -> None:
    await kickoff(bot)
    await client_says(bot, 'request "Please add the new logo"')
    for line in ('milestone add "Beta" due:2027-02-01', 'task add "T1" @bob due:2026-12-20'):
        out = await bot.say("ann", line)
        assert "Usage" not in out, out


@pytest.mark.parametrize(("line", "channel", "said", "stored"), PAST_DUE)
async def test_a_past_due_date_is_taken_and_the_reply_warns(
    bot: Harness, line: str, channel: str, said: str, stored: tuple[type, dict[str, object]]
) -> None:
    await _plan(bot)
    out = await bot.say("ann", line, channel=channel)
    assert said in out and NOV_30 in out, out
    model, where = stored
    saved = await row(bot, model, **where)
    assert saved.due_date == date(2026, 11, 30)


async def test_a_due_date_from_today_on_carries_no_warning(bot: Harness) -> None:
    await _plan(bot)
    out = await bot.say("ann", 'task add "Now" @bob due:today')
    assert "Due: Tue 1 Dec 2026." in out and "in the past" not in out
    out = await bot.say("ann", "project set due:2027-04-30")
    assert "Due: Fri 30 Apr 2027." in out and "in the past" not in out


async def test_a_past_review_date_and_an_unreadable_due_date_are_still_refused(
    bot: Harness,
) -> None:
    await _plan(bot)
    out = await bot.say("ann", 'risk add "X" likelihood:low impact:low review:2026-11-30')
    assert "The review date 2026-11-30 is in the past." in out
    out = await bot.say("ann", "task due 1 due:someday")
    assert "I can't read `someday` as a date." in out
    assert (await row(bot, Task, number=1)).due_date == date(2026, 12, 20)
