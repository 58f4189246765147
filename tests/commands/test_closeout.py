"""Closing a project and reopening it, through the console on SQLite and PostgreSQL: the
final report to the cent, the client's closing summary and survey, the retrospective, no
scheduled post while closed, writes refused, reopen, `projects all`, `project delete`."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.schedule.step import run_due
from storage.models import (
    ChannelLink,
    Delivery,
    DocumentLink,
    Milestone,
    OccurrenceClaim,
    Project,
    RetroAnswer,
    SurveyAnswer,
    Task,
)
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, count, kickoff, row

CLOSED = "Acme Site was closed on 2026-12-03; `project reopen` to change it."
# Amounts a client may read in the closing summary: only the approved change's own price.
MONEY = re.compile(r"\d[\d,]*\.\d\d|\d+(\.\d+)?h\b|/h\b|rate", re.IGNORECASE)


async def delivered_project(bot: Harness) -> None:
    """Spend, time, one milestone on time and one late, a task done, an approved change,
    closed on Thursday 2026-12-03."""
    await kickoff(bot)
    for line in (
        'milestone add "Design" due:2026-12-01 client',
        'milestone add "Build" due:2026-12-02',
        "milestone done 1",
        'task add "Wireframes" @bob due:2026-12-04',
        "task done 1",
        'task add "Copy" @bob due:2026-12-10',
        'spend 1,200.50 "Stock photos"',
        'change "Extra page" cost:3,000 days:2',
    ):
        out = await bot.say("ann", line)
        assert "Usage" not in out, (line, out)
    assert "Usage" not in await bot.say("bob", "log 2.5h", channel=None)
    assert "signed off" in await client_says(bot, "milestone signoff 1")
    assert "Usage" not in await client_says(bot, "change approve 1")
    bot.clock.set("2026-12-03T10:00:00+00:00")
    assert "Usage" not in await bot.say("ann", "milestone done 2")
    bot.take_posts()


def facts_of(text: str) -> str:
    return re.sub(r"[ \t]+", " ", text)


async def test_closing_posts_a_final_report_with_exact_figures(bot: Harness) -> None:
    await delivered_project(bot)
    out = await bot.say("ann", "project close")
    posts = bot.take_posts()
    report = facts_of(out)
    for expected in (
        "Final report: Acme Site",
        "Budget: USD 53,000.00",  # 50k and the approved change's 3,000
        "Spent: USD 1,450.50",  # 1,200.50 spend + 2.5h x 100
        "Variance: USD 51,549.50 under budget",
        "Due: 2027-03-03",  # moved 2 days by the change
        "90 days early",
        "Milestones on time: 1 of 2 (50%)",
        "Milestones late: 1 of 2 (50%)",
        "Tasks done: 1 (1 left open)",
        "Changes approved: 1: USD 3,000.00, 2 days",
        "bob: 2.50h",
        "no pulse yet",
    ):
        assert expected in report, (expected, report)
    summary = posts.split("-> #acme-shared [client]")[1].split("\n\n-> ")[0]
    assert "Acme Site is complete" in summary and "Design" in summary
    assert "Extra page: 2 days, USD 3,000.00" in summary
    assert "survey 5 9" in summary
    # Only the change's own price: no budget, spend, time, rate, or any other amount.
    assert [m.group(0) for m in MONEY.finditer(summary)] == ["3,000.00"]
    assert "@bob [internal]" in posts and "retro" in posts.split("@bob [internal]")[1]
    project = await row(bot, Project, name="Acme Site")
    assert project.archived and str(project.closed_on) == "2026-12-03"


async def test_a_closed_project_refuses_writes_and_posts_nothing_when_due(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", "project close")
    bot.take_posts()
    # What was claimed before closing (the pulse a client sign-off asked) stays; nothing new.
    claims_before = await count(bot, OccurrenceClaim)
    before = await count(bot, Task)
    out = await bot.say("ann", 'task add "More" @bob due:2026-12-11')
    assert CLOSED in out and await count(bot, Task) == before
    assert CLOSED in await bot.say("bob", "log 1h")
    assert "Copy" in await bot.say("ann", "tasks")  # reads still work
    bot.clock.set("2026-12-04T09:00:00+00:00")  # Friday: check-in and weekly report day
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    bot.clock.set("2026-12-04T15:00:00+00:00")
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    assert await count(bot, OccurrenceClaim) == claims_before
    assert await bot.deliver() == 0


async def test_closing_twice_or_a_bad_survey_changes_nothing(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", "project close")
    out = await bot.say("ann", "project close")
    assert "already closed" in out and "Usage: project close [force]" in out
    for line in ("survey 6 9", "survey 5 11", "survey five 9"):
        out = await client_says(bot, line)
        assert "Usage: survey" in out, out
    assert await count(bot, SurveyAnswer) == 0
    assert "is for the client" in await bot.say("ann", "survey 5 9")


async def test_close_waits_for_the_client_unless_forced(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'change "Extra page" cost:3,000 days:2')
    out = await bot.say("ann", "project close")
    assert "1 change request to approve" in out and "project close force" in out
    assert not (await row(bot, Project, name="Acme Site")).archived
    assert "is closed" in await bot.say("ann", "project close force")


async def test_the_survey_reaches_the_final_report(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", "project close")
    assert "Thank you" in await client_says(bot, 'survey 4 9 "Lovely work"')
    assert "Thank you" in await client_says(bot, 'survey 5 9 "Lovely work"')  # changed
    report = facts_of(await bot.say("ann", "report final"))
    assert "5.0 of 5" in report and "9.0 of 10" in report and "Lovely work" in report
    assert "is for the delivery team" in await client_says(bot, "report final")


async def test_retro_answers_go_to_the_team_side_when_it_closes(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", "project close")
    out = await bot.say("bob", 'retro "Clear scope" "Earlier reviews"', channel=None)
    assert "Thanks" in out
    assert "is for the delivery team" in await client_says(bot, 'retro "x" "y"')
    bot.take_posts()
    # Three working days after Thursday: Tuesday at the check-in time.
    bot.clock.set("2026-12-08T09:00:00+00:00")
    result = await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    await run_due(bot.sessions, bot.clock() + timedelta(minutes=1))  # claimed once
    assert result.deliveries == 1
    await bot.deliver()
    posts = bot.take_posts()
    assert posts.count("Retrospective: Acme Site") == 1
    assert "-> #team [internal]" in posts and "Clear scope" in posts and "acme-shared" not in posts
    assert "closed" in await bot.say("bob", 'retro "late" "late"', channel=None)
    assert await count(bot, RetroAnswer) == 1


async def test_reopen_restores_the_schedule(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", "project close")
    listed = await bot.say("ann", "projects", channel=None)
    assert "Acme Site" not in listed
    assert "closed on 2026-12-03" in await bot.say("ann", "projects all", channel=None)
    assert "is for the project's PM" in await bot.say("bob", "project reopen")
    assert "active again" in await bot.say("ann", "project reopen")
    assert "not closed" in await bot.say("ann", "project reopen")
    bot.take_posts()
    bot.clock.set("2026-12-04T09:00:00+00:00")
    await run_due(bot.sessions, bot.clock(), grace=timedelta(minutes=120))
    await bot.deliver()
    assert "-> #team" in bot.take_posts()
    assert "Usage" not in await bot.say("ann", 'task add "More" @bob due:2026-12-11')


async def test_project_delete_needs_a_closed_project_and_its_name(bot: Harness) -> None:
    await delivered_project(bot)
    await bot.say("ann", 'link add "SOW" https://docs.example/sow client')
    out = await bot.say("ann", 'project delete "Acme Site"')
    assert "Only a closed project" in out
    await bot.say("ann", "project close")
    out = await bot.say("ann", 'project delete "Acme"')
    assert 'project delete "Acme Site"' in out and await count(bot, Project) == 1
    out = await bot.say("ann", 'project delete "Acme Site"')
    assert "deleted" in out
    for model in (Project, Milestone, Task, ChannelLink, DocumentLink, Delivery, RetroAnswer):
        assert await count(bot, model) == 0, model
    # Its channels are free again.
    assert "started" in await bot.say("ann", 'project new "Acme Site" client:"Acme Corp"')
    assert CLIENT
