"""The forgiving front door, table-driven through the console on both databases: dates,
durations, money, synonyms, verb-first forms, questions and near misses, each mapped to
the canonical command it must run (compared by what it stored or answered) or to the exact
refusal it must give. Today is Tue 1 Dec 2026 in the harness."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import select

from storage.models import PendingSuggestion, Project, Risk, Task, TimeEntry
from tests.harness import Harness
from tests.project_setup import count, kickoff, row

DATE_HELP = "Try 2026-12-04, fri, Mar 15, end of month or in 3 days."

# (what is typed after `due:`, the asker's locale, the date it must set)
DATES = [
    ("Mar 15", None, "2027-03-15"), ("15 March", None, "2027-03-15"),
    ("march 1", None, "2027-03-01"), ("1st of March", None, "2027-03-01"),
    ("March 1st", None, "2027-03-01"), ("15 mar 2027", None, "2027-03-15"),
    ("Dec 24", None, "2026-12-24"), ("24 December", None, "2026-12-24"),
    ("december 24th", None, "2026-12-24"), ("Jan 5", None, "2027-01-05"),
    ("5 Jan", None, "2027-01-05"), ("February 28", None, "2027-02-28"),
    ("end of month", None, "2026-12-31"), ("eom", None, "2026-12-31"),
    ("EOM", None, "2026-12-31"), ("end of the month", None, "2026-12-31"),
    ("end of week", None, "2026-12-04"), ("eow", None, "2026-12-04"),
    ("end of year", None, "2026-12-31"), ("in 10 working days", None, "2026-12-15"),
    ("in 3 working days", None, "2026-12-04"), ("in 5 business days", None, "2026-12-08"),
    ("next week", None, "2026-12-08"), ("this friday", None, "2026-12-04"),
    ("this fri", None, "2026-12-04"), ("next friday", None, "2026-12-04"),
    ("fri", None, "2026-12-04"), ("Friday", None, "2026-12-04"),
    ("tomorrow", None, "2026-12-02"), ("today", None, "2026-12-01"),
    ("in 3 days", None, "2026-12-04"), ("in 2 weeks", None, "2026-12-15"),
    ("next tuesday", None, "2026-12-08"), ("2026-12-24", None, "2026-12-24"),
    ("12/24", None, "2026-12-24"), ("24/12", None, "2026-12-24"),
    ("1/15", None, "2027-01-15"), ("12/24/2026", None, "2026-12-24"),
    ("3/4", None, "2027-03-04"), ("3/4", "en-US", "2027-03-04"),
    ("3/4", "en-GB", "2027-04-03"), ("10/12", "en-GB", "2026-12-10"),
    ("10/12", "en-US", "2027-10-12"), ("12/24", "de-DE", "2026-12-24"),
    ("24.12.2026", "de-DE", "2026-12-24"), ("12/24/2020", None, "2020-12-24"),
    ("2026-11-30", None, "2026-11-30"),
]  # fmt: skip

DATE_REFUSALS = [
    ("task due 1 due:march 32", f"I can't read `march 32` as a date. {DATE_HELP}"),
    ("task due 1 due:31/2", "`31/2` is not a real date."),
    ("task due 1 due:blue", f"I can't read `blue` as a date. {DATE_HELP}"),
    ("task due 1 due:soonish", f"I can't read `soonish` as a date. {DATE_HELP}"),
    ('task add "X" @bob due:this friday blue', "I did not understand `blue`."),
    ('task add "X" @bob due:march 1 purple', "I did not understand `purple`."),
]

# (what is typed after `log`, the hours it must log)
DURATIONS = [
    ("90 minutes", "1.5"), ("1h30", "1.5"), ("1h30m", "1.5"), ("1:30", "1.5"),
    ("half a day", "4"), ("2 days", "16"), ("90m", "1.5"), ("1.5h", "1.5"), ("2h", "2"),
    ("45 min", "0.75"), ("1 hour", "1"), ("3 hrs", "3"), ("half an hour", "0.5"),
    ("2d", "16"), ("1 day", "8"), ("0:45", "0.75"),
]  # fmt: skip
DURATION_REFUSALS = [
    ("log lots", "I can't read `lots` as a duration. Try 90m, 1.5h or 2d."),
    ("log 1:75", "I can't read `1:75` as a duration. Try 90m, 1.5h or 2d."),
    ("log half", "I can't read `half` as a duration. Try 90m, 1.5h or 2d."),
]

# (what is typed after `budget set`, the budget and currency it must set)
MONEY = [
    ("20000 USD", "20000", "USD"), ("USD 20,000", "20000", "USD"), ("20k", "20000", "USD"),
    ("$20k", "20000", "USD"), ("12,500", "12500", "USD"), ("$1.2k", "1200", "USD"),
    ("1.5m", "1500000", "USD"), ("20000 usd", "20000", "USD"), ("\u20ac1.2k", "1200", "EUR"),
    ("EUR 900", "900", "EUR"), ("900 EUR", "900", "EUR"), ("\u00a3300", "300", "GBP"),
]  # fmt: skip

# (likelihood and impact as typed, the levels they must be)
LEVELS = [
    ("l", "h", 1, 3), ("lo", "hi", 1, 3), ("med", "med", 2, 2), ("m", "l", 2, 1),
    ("Low", "HIGH", 1, 3), ("medium", "hi", 2, 3), ("mid", "lo", 2, 1), ("H", "M", 3, 2),
]  # fmt: skip

# Read-only lines that must answer exactly as their canonical command does.
SAME_ANSWER = [
    ("?", "help"), ("what's overdue?", "tasks overdue"), ("whats overdue", "tasks overdue"),
    ("What is overdue", "tasks overdue"), ("what\u2019s overdue", "tasks overdue"),
    ("what's due this week?", "tasks due:this-week"), ("what's blocked?", "tasks blocked"),
    ("what is blocked", "tasks blocked"), ("how's the budget?", "budget"),
    ("how much is left?", "budget"), ("How much is left", "budget"),
    ("who's on the team?", "team"), ("who is on the team", "team"),
    ("what's waiting for me?", "waiting"), ("what do I have?", "waiting"),
    ("how is Acme Site going?", 'status project:"Acme Site"'),
    ("How's Acme Site going", 'status project:"Acme Site"'), ("how is it going?", "status"),
    ("what can you do?", "help"), ("what are my tasks", "tasks mine"),
    ("what's due next week", "tasks due:next-week"), ("HELP", "help"),
    ("how does this work", "help"), ("what do I need to do", "waiting"),
]  # fmt: skip

# Writes said another way: the reply must be the canonical one's but for the numbers.
SAME_WRITE = [
    ('add task "H1" @bob due:fri', 'task add "H2" @bob due:fri'),
    ('Add Task "H3" @bob due:fri', 'task add "H4" @bob due:fri'),
    ('add risk "R5" likelihood:med impact:hi', 'risk add "R6" likelihood:2 impact:3'),
    ('add milestone "M1" due:2027-02-01', 'milestone add "M2" due:2027-02-01'),
    ("done 1", "task done 2"), ("finish 3", "task done 4"), ("complete 5", "task done 6"),
    ("reopen task 1", "task reopen 2"), ("block task 1 no copy", "task block 2 no copy"),
    ("close risk 1", "risk close 2"), ("log 90 minutes", "log 90m"),
    ("log half a day", "log 4h"), ("set budget 60k", "budget set 60k"),
]  # fmt: skip

# Lines close to a command: offered whole, never run.
SUGGESTED = [
    ('tsk add "Homepage" @bob due:fri', 'task add "Homepage" @bob due:fri'),
    ('taks add "Homepage" @bob due:fri', 'task add "Homepage" @bob due:fri'),
    ("stauts", "status"), ("budgt", "budget"), ("statu", "status"),
    ('projet new "X" client:"Y"', 'project new "X" client:"Y"'),
    ('risk ad "X" likelihood:low impact:low', 'risk add "X" likelihood:low impact:low'),
    ('add tsk "X" @bob due:fri', 'task add "X" @bob due:fri'),
    ("taks", "tasks"), ("milestons", "milestones"), ("mlestones", "milestones"),
    ("wating", "waiting"), ("decisons", "decisions"),
]  # fmt: skip

# Near misses that must not be guessed: the plain refusal, exactly.
NOT_GUESSED = [
    "hello", "thanks", "blue", "deploy prod", "lunch at 12", "what's up", "hi there",
    "what's the weather", "good morning", "lol", "why", "ping", "yo", "coffee?",
    "banana", "reboot server", "who are you",
]  # fmt: skip


async def world(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", 'task add "T1" @bob due:2026-12-20')
    assert "Task 1 added" in out, out


async def due_of(bot: Harness, number: int) -> date | None:
    task = await row(bot, Task, number=number)
    return task.due_date


async def test_dates_as_people_type_them(bot: Harness) -> None:
    await world(bot)
    wrong = []
    for typed, locale, expected in DATES:
        await bot.say("ann", "task due 1 due:2027-06-30", locale=locale)
        out = await bot.say("ann", f"task due 1 due:{typed}", locale=locale)
        if str(await due_of(bot, 1)) != expected or "Due: " not in out:
            wrong.append((typed, locale, expected, out))
    assert wrong == []


async def test_a_date_is_said_in_words_and_a_two_way_numeric_date_says_how_it_was_read(
    bot: Harness,
) -> None:
    await world(bot)
    out = await bot.say("ann", 'task add "Copy" @bob due:end of month')
    assert "Task 2 added: Copy · bob · due 2026-12-31" in out
    assert "Due: Thu 31 Dec 2026." in out
    out = await bot.say("ann", "task due 2 due:3/4", locale="en-GB")
    assert "Due: Sat 3 Apr 2027 (read as day/month for your locale; write 2027-04-03" in out
    out = await bot.say("ann", 'milestone add "Launch" due:march 1')
    assert "due 2027-03-01" in out and "Due: Mon 1 Mar 2027." in out


async def test_a_past_due_date_is_taken_with_a_warning_and_today_is_not_past(bot: Harness) -> None:
    await world(bot)
    out = await bot.say("ann", "task due 1 due:12/24/2020")
    assert "Task 1 (T1) is due 2020-12-24 (was 2026-12-20)." in out
    assert "Due: Thu 24 Dec 2020 — that is in the past." in out
    assert str(await due_of(bot, 1)) == "2020-12-24"
    out = await bot.say("ann", "task due 1 due:3/4/2025", locale="en-GB")
    assert "Due: Thu 3 Apr 2025 (read as day/month for your locale; write 2025-04-03 to be " in out
    assert "sure) — that is in the past." in out
    out = await bot.say("ann", "task due 1 due:today")
    assert "Due: Tue 1 Dec 2026." in out and "in the past" not in out


@pytest.mark.parametrize(("line", "refusal"), DATE_REFUSALS)
async def test_dates_refused_exactly_and_nothing_written(
    bot: Harness, line: str, refusal: str
) -> None:
    await world(bot)
    out = await bot.say("ann", line)
    assert refusal in out
    assert await count(bot, Task) == 1 and str(await due_of(bot, 1)) == "2026-12-20"


async def test_durations_as_people_write_them(bot: Harness) -> None:
    await world(bot)
    wrong = []
    for typed, hours in DURATIONS:
        out = await bot.say("bob", f"log {typed}")
        async with bot.sessions() as session:
            entry = await session.scalar(select(TimeEntry).order_by(TimeEntry.id.desc()))
        if entry is None or entry.hours != Decimal(hours):
            wrong.append((typed, hours, out))
    assert wrong == []
    for line, refusal in DURATION_REFUSALS:
        assert refusal in await bot.say("bob", line)
    assert await count(bot, TimeEntry) == len(DURATIONS)


async def test_money_as_people_write_it(bot: Harness) -> None:
    await world(bot)
    wrong = []
    for typed, amount, currency in MONEY:
        out = await bot.say("ann", f"budget set {typed}")
        project = await row(bot, Project, name="Acme Site")
        if (project.budget, project.currency) != (Decimal(amount), currency):
            wrong.append((typed, out))
    assert wrong == []
    out = await bot.say("ann", 'project new "Other" client:"B" budget:20000 USD', channel=None)
    assert "Usage" not in out, out
    other = await row(bot, Project, name="Other")
    assert (other.budget, other.currency) == (Decimal("20000"), "USD")


async def test_levels_and_roles_by_their_short_names(bot: Harness) -> None:
    await world(bot)
    for number, (likelihood, impact, want_l, want_i) in enumerate(LEVELS, start=1):
        line = f'risk add "Risk {number}" likelihood:{likelihood} impact:{impact}'
        assert "Usage" not in await bot.say("ann", line), line
        risk = await row(bot, Risk, number=number)
        assert (risk.likelihood, risk.impact) == (want_l, want_i), line
    for role in ("PM", "Member", "CLIENT", "member"):
        out = await bot.say("ann", f"team add @dan role:{role}")
        assert "is not a role" not in out and "Usage" not in out, (role, out)


async def test_other_ways_to_ask_answer_as_the_command_does(bot: Harness) -> None:
    await world(bot)
    await bot.say("ann", "task block 1 waiting for logo")
    wrong = []
    for typed, canonical in SAME_ANSWER:
        said, meant = await bot.say("ann", typed), await bot.say("ann", canonical)
        if _images_aside(said) != _images_aside(meant) or "Usage" in said or "I don't know" in said:
            wrong.append((typed, canonical, said))
    assert wrong == []


def _numbers_aside(text: str) -> str:
    return re.sub(r"\d+", "N", text)


def _images_aside(text: str) -> str:
    """The console saves each chart to a new file: the same chart, another name."""
    return re.sub(r"/\S+\.png", "IMAGE", text)


async def test_verb_first_and_short_forms_run_the_canonical_command(bot: Harness) -> None:
    await world(bot)
    for n in range(2, 7):
        await bot.say("ann", f'task add "T{n}" @bob due:2026-12-20')
    await bot.say("ann", 'risk add "R1" likelihood:low impact:low')
    await bot.say("ann", 'risk add "R2" likelihood:low impact:low')
    wrong = []
    for typed, canonical in SAME_WRITE:
        said, meant = await bot.say("ann", typed), await bot.say("ann", canonical)
        if _numbers_aside(said) != _numbers_aside(meant) or "Usage" in said:
            wrong.append((typed, said, meant))
    assert wrong == []
    assert (await row(bot, Task, number=1)).status == "blocked"  # done, reopened, blocked


async def test_near_misses_offer_the_whole_line_and_yes_runs_it(bot: Harness) -> None:
    await world(bot)
    wrong = []
    for typed, meant in SUGGESTED:
        out = await bot.say("ann", typed)
        if f"Did you mean `{meant}`?" not in out or "[1] Run it" not in out:
            wrong.append((typed, out))
    assert wrong == []
    assert await count(bot, Task) == 1  # offered, never run
    out = await bot.say("ann", 'tsk add "Homepage" @bob due:fri')
    assert 'Did you mean `task add "Homepage" @bob due:fri`?' in out
    assert "Type `yes` to run it" in out
    out = await bot.say("ann", "yes")
    assert "Task 2 added: Homepage · bob · due 2026-12-04" in out
    assert "nothing waiting for a yes" in await bot.say("ann", "yes")  # taken once
    assert await count(bot, Task) == 2


async def test_the_run_it_button_is_the_suggested_line(bot: Harness) -> None:
    await world(bot)
    await bot.say("ann", 'taks add "Homepage" @bob due:fri')
    out = await bot.say("ann", "click 1")
    assert "Task 2 added: Homepage" in out


async def test_a_yes_is_kept_per_person_and_place_and_for_a_while(bot: Harness) -> None:
    await world(bot)
    await bot.say("ann", 'tsk add "Homepage" @bob due:fri')
    assert "nothing waiting for a yes" in await bot.say("bob", "yes")
    assert "nothing waiting for a yes" in await bot.say("ann", "yes", channel=None)
    bot.clock.advance(minutes=16)
    assert "nothing waiting for a yes" in await bot.say("ann", "yes")
    assert await count(bot, Task) == 1


@pytest.mark.parametrize("typed", NOT_GUESSED)
async def test_near_misses_that_must_not_be_guessed(bot: Harness, typed: str) -> None:
    await world(bot)
    out = await bot.say("ann", typed)
    first = typed.split()[0]
    assert f"I don't know the command `{first}`. Type `help` for the list." in out
    assert "Did you mean" not in out
    assert await count(bot, PendingSuggestion) == 0


async def test_help_for_a_whole_group(bot: Harness) -> None:
    await world(bot)
    out = await bot.say("ann", "help task")
    for name in ("task add", "task done", "task due", "task block", "tasks"):
        assert name in out, name
    assert "risk add" not in out
