"""Budget, spend and time through the console, on SQLite and PostgreSQL, to the cent."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, insert, select

from bot.views import drawing
from bot.views.ledger import load_budget
from storage.models import Expense, Person, Project, Task, TimeEntry
from tests.commands.test_team import dump, start
from tests.conftest import ExecutedStatements, StatementCounter
from tests.harness import Harness
from tests.project_setup import kickoff

D = Decimal


async def team(bot: Harness) -> None:
    await start(bot)
    await bot.say("ann", "budget set 10,000")
    await bot.say("ann", "team add @bob rate:120/h")
    await bot.say("ann", "team add @cat")
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-10')


async def time_entries(bot: Harness) -> list[tuple[str, Decimal, Decimal, int | None]]:
    async with bot.sessions() as session:
        rows = await session.execute(
            select(Person.display_name, TimeEntry.hours, TimeEntry.cost, Task.number)
            .join(Person, Person.id == TimeEntry.person_id)
            .outerjoin(Task, Task.id == TimeEntry.task_id)
            .order_by(TimeEntry.id)
        )
        return [tuple(r) for r in rows]


async def test_budget_figures_to_the_cent(bot: Harness) -> None:
    await team(bot)
    for line in ('log 1.5h task:1 "drafts"', "log 90m", "log 1h30m"):
        assert "USD 180.00" in await bot.say("bob", line)
    assert "Spent USD 1,200.00 on Stock photos (licences)" in await bot.say(
        "ann", 'spend 1,200 "Stock photos" licences'
    )
    await bot.say("ann", 'spend $250.10 "Train to Acme" category:travel')
    assert await time_entries(bot) == [
        ("bob", D("1.50"), D("180.00"), 1),
        ("bob", D("1.50"), D("180.00"), None),
        ("bob", D("1.50"), D("180.00"), None),
    ]
    bot.clock.set("2026-12-10T12:00:00+00:00")  # the project's tenth day
    out = await bot.say("bob", "budget")
    assert "Budget: USD 10,000.00" in out
    assert "Spent: USD 1,990.10 (USD 1,450.10 spend, USD 540.00 time)" in out
    assert "Remaining: USD 8,009.90" in out
    assert "Burn: 19.9%" in out
    assert "Burn rate: USD 199.01 a day over 10 day(s)" in out
    # 8,009.90 left at 199.01 a day lasts 40.2 days: gone on the 41st, before 2027-03-01.
    assert "money runs out 2027-01-20, before the due date 2027-03-01" in out
    assert "about USD 8,109.91 short" in out
    assert "licences: USD 1,200.00" in out and "travel: USD 250.10" in out
    assert "bob: 4.5h, USD 540.00" in out
    async with bot.sessions() as session:
        project = await session.scalar(select(Project))
        assert project is not None
        summary = await load_budget(session, project, date(2026, 12, 10))
    assert summary.spent == D("1990.10") and summary.forecast_run_out == date(2027, 1, 20)
    assert summary.runs_out_before_due and summary.by_person == (("bob", D("4.50"), D("540.00")),)


async def test_time_cost_is_exact_for_minutes_and_rounds_half_up(bot: Harness) -> None:
    await team(bot)
    await bot.say("ann", "team add @bob rate:95.50/h")
    out = await bot.say("bob", "log 20m")  # a third of an hour x 95.50 = 31.8333...
    assert "Logged 0.33h: USD 31.83" in out
    await bot.say("ann", "team add @bob rate:0.25/h")
    out = await bot.say("bob", "log 30m")  # 0.125 rounds half up
    assert "USD 0.13" in out
    costs = [entry[2] for entry in await time_entries(bot)]
    assert costs == [D("31.83"), D("0.13")]


async def test_time_without_a_rate_costs_nothing_and_says_so(bot: Harness) -> None:
    await team(bot)
    out = await bot.say("cat", 'log 2h "setting up"')
    assert "Logged 2h: USD 0.00" in out
    assert "no rate on this project" in out and "team add @cat rate:" in out
    assert await time_entries(bot) == [("cat", D("2.00"), D("0.00"), None)]
    out = await bot.say("ann", "budget")
    assert "cat: 2h, USD 0.00" in out


async def test_one_currency_per_project(bot: Harness) -> None:
    await start(bot)
    out = await bot.say("ann", "budget set EUR 40k")
    assert "Budget of Acme Site: EUR 40,000.00 (was EUR 50,000.00)" in out
    await bot.say("ann", "budget set 45,000 EUR")
    await bot.say("ann", 'spend 100 "Fonts"')
    before = await dump(bot)
    out = await bot.say("ann", 'spend $90 "Hosting"')
    assert "Acme Site is kept in EUR, and this is in USD" in out
    out = await bot.say("ann", 'spend 90 GBP "Hosting"')
    assert "this is in GBP" in out
    out = await bot.say("ann", "budget set 60k USD")
    assert "already has spend in EUR" in out
    assert await dump(bot) == before
    out = await bot.say("ann", "budget set 60k")
    assert "EUR 60,000.00 (was EUR 45,000.00)" in out
    out = await bot.say("ann", "budget")
    assert "Spent: EUR 100.00" in out


async def test_budget_without_a_budget_or_spend(bot: Harness) -> None:
    await bot.say("ann", 'project new "Tiny" client:"T"')
    out = await bot.say("ann", "budget")
    assert "Budget: not set" in out and "Spent: USD 0.00" in out
    assert "No budget set yet" in out


async def test_clients_may_not_run_budget_commands_and_see_no_money(bot: Harness) -> None:
    await team(bot)
    await bot.say("ann", "team add @dora role:client")
    before = await dump(bot)
    for line in ("budget", "budget set 99k", 'spend 10 "x"', "log 1h"):
        out = await bot.say("carol", line, channel="acme-shared", external=True)
        assert "you are a client" in out, line
        out = await bot.say("dora", line)
        assert "you are a client" in out, line
        assert "10,000" not in out
    # A PM asking in the client channel is told to ask elsewhere: money stays internal.
    for line in ("budget", 'spend 10 "x"', "budget set 99k"):
        out = await bot.say("ann", line, channel="acme-shared")
        assert "Budget figures are internal" in out and "10,000" not in out
    out = await bot.say("bob", "log 1h", channel="acme-shared")
    assert "Budget figures are internal" in out
    assert await dump(bot) == before


async def test_members_see_the_budget_but_only_the_pm_sets_it_or_spends(bot: Harness) -> None:
    await team(bot)
    before = await dump(bot)
    assert "is for the project's PM" in await bot.say("bob", "budget set 1")
    assert "is for the project's PM" in await bot.say("bob", 'spend 10 "pizza"')
    assert await dump(bot) == before
    assert "Budget: USD 10,000.00" in await bot.say("bob", "budget")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("budget set", "Missing the budget"),
        ("budget set lots", "can't read"),
        ("budget set -5", "negative"),
        ("budget set 0", "more than zero"),
        ("budget set 5000000000", "more than I can believe"),
        ("budget set 5k XYZ", "not an ISO 4217"),
        ("budget set EUR 5k USD", "Give the currency once"),
        ("budget set 10.001", "fractions of a cent"),
        ('spend "Fonts"', "Missing the amount"),
        ("spend 100", "Missing what it was for"),
        ('spend -100 "Fonts"', "negative"),
        ('spend 0 "Fonts"', "more than zero"),
        ('spend 1.005 "Fonts"', "fractions of a cent"),
        ('spend 2,000,000,000 "Fonts"', "more than I can believe"),
        ('spend 12,50 "Fonts"', "commas only between thousands"),
        ('spend 100 "Fonts" ' + "c" * 41, "under 40 characters"),
        ('spend 100 "Fonts" misc extra', "I did not understand"),
        ("log", "Missing how long"),
        ("log 3x", "as a duration"),
        ("log 0h", "more than zero"),
        ("log 300h", "more than 200 hours"),
        ("log 1h task:99", "There is no task 99"),
        ("log 1h task:abc", "takes a task number"),
    ],
)
async def test_bad_budget_input_says_why_with_usage_and_writes_nothing(
    bot: Harness, line: str, message: str
) -> None:
    await team(bot)
    before = await dump(bot)
    out = await bot.say("ann", line)
    assert message in out
    assert (
        "Usage: " + " ".join(line.split()[:2] if line.startswith("budget") else line.split()[:1])
        in out
    )
    assert await dump(bot) == before


async def _bulk_ledger(bot: Harness, tasks: int, entries: int, first: int) -> None:
    """Rows written straight through the session: 1.5h at 120/h per entry, 10.25 per spend."""
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project.id))
        people = (await session.scalars(select(Person.id).order_by(Person.id))).all()
        now = datetime(2026, 12, 1, tzinfo=UTC)
        day = date(2026, 12, 1)
        await session.execute(
            insert(Task),
            [
                {"project_id": project, "number": n, "title": f"T{n}", "status": "open",
                 "due_date": day, "created_at": now}
                for n in range(first, first + tasks)
            ],
        )  # fmt: skip
        await session.execute(
            insert(TimeEntry),
            [
                {"project_id": project, "person_id": people[n % len(people)], "hours": D("1.50"),
                 "cost": D("180.00"), "logged_on": day, "created_at": now}
                for n in range(entries)
            ],
        )  # fmt: skip
        await session.execute(
            insert(Expense),
            [
                {"project_id": project, "amount": D("10.25"), "description": "x",
                 "category": f"c{n % 4}", "spent_on": day, "created_at": now}
                for n in range(entries // 10)
            ],
        )  # fmt: skip


async def test_budget_and_tasks_run_a_fixed_number_of_statements(
    bot: Harness, statements: StatementCounter
) -> None:
    await start(bot)
    bot.engine.reply_cache = False  # rows are added directly below: what computing costs
    await bot.say("ann", "team add @bob @cat rate:120/h")
    await _bulk_ledger(bot, tasks=5, entries=10, first=1)
    await bot.say("ann", "status")  # a read here before: who and where may be remembered
    counts = {}
    for line in ("budget", "tasks"):
        statements.reset()
        await bot.say("ann", line)
        counts[line] = statements.count
    await _bulk_ledger(bot, tasks=495, entries=4990, first=6)
    async with bot.sessions() as session:
        assert await session.scalar(select(func.count(TimeEntry.id))) == 5000
        assert await session.scalar(select(func.count(Task.id))) == 500
    for line, small in counts.items():
        statements.reset()
        await bot.say("ann", line)
        assert 0 < statements.count == small, (line, statements.statements)
    # The harness's look for posts to deliver 1; the budget reads spend by category, time
    # by person and both per day for its chart in one; who asks and where take 1 unless
    # remembered from the last read there (bot.engine.remembered: where changes are known).
    assert counts == dict.fromkeys(counts, 2 if bot.engine.generations.trusted else 3)
    # 5,000 x 180.00 of time and 500 x 10.25 of spend, summed exactly.
    statements.reset()
    out = await bot.say("ann", "budget")
    assert "Spent: USD 905,125.00 (USD 5,125.00 spend, USD 900,000.00 time)" in out
    # By category and person, each exact: the running totals the database keeps per
    # category, person and day (storage.ledger_totals), not a sum over the entries.
    # (Two batches: 1 + 499 expenses over c0-c3, 10 + 4,990 entries over ann, bob, cat.)
    assert "c0: USD 1,291.50" in out and "c3: USD 1,271.00" in out  # 126 and 124 x 10.25
    assert "ann: 2502h, USD 300,240.00" in out and "cat: 2499h, USD 299,880.00" in out
    read = " ".join(statements.statements)
    assert all(totals in read for totals in ("ledger_categories", "ledger_people", "ledger_days"))
    assert "time_entries" not in read and "expenses" not in read


async def test_spend_and_log_write_their_rows_with_statements_built_once(
    bot: Harness, session_executed: ExecutedStatements
) -> None:
    """An expense and a time entry are inserted by a statement of the command's own, built
    once per table (not by the unit of work's flush of an object nothing reads back), and
    the ledger still adds them up."""
    await team(bot)
    inserts: dict[str, list[object]] = {"expenses": [], "time_entries": []}
    said = [("ann", 'spend 100 "Fonts"'), ("ann", 'spend 50 "Hosting"')]
    for who, line in [*said, ("bob", "log 2h"), ("bob", "log 1h")]:  # bob: 120/h
        session_executed.clear()
        await bot.say(who, line)
        for table, seen in inserts.items():
            seen += session_executed.matching(f"INSERT INTO {table}")
    assert [len(seen) for seen in inserts.values()] == [2, 2]
    (first_spend, second_spend), (first_log, second_log) = inserts.values()
    assert first_spend is second_spend and first_log is second_log
    assert "Spent: USD 510.00 (USD 150.00 spend, USD 360.00 time)" in await bot.say("ann", "budget")


async def test_a_lower_case_word_after_the_amount_is_not_a_currency(bot: Harness) -> None:
    await team(bot)
    out = await bot.say("ann", "spend 100 top hats")
    assert "Spent USD 100.00 on top hats (general)" in out
    out = await bot.say("ann", 'spend usd 20.50 "Cables" hardware')
    assert "Spent USD 20.50 on Cables (hardware)" in out


# --- a chart is drawn once per change of what it shows ------------------------------------


@pytest.fixture
def drawn(monkeypatch: pytest.MonkeyPatch) -> drawing.Drawn:
    """A fresh store of drawn charts, so that counts start at nothing."""
    fresh = drawing.Drawn()
    monkeypatch.setattr(drawing, "DRAWN", fresh)
    return fresh


async def test_the_same_budget_twice_draws_once_and_a_change_draws_again(
    bot: Harness, drawn: drawing.Drawn
) -> None:
    await kickoff(bot)
    bot.engine.reply_cache = False  # every request computes: only the drawing is kept
    await bot.say("ann", "spend 120 Fonts")
    await bot.say("ann", "budget")
    await bot.say("ann", "budget")
    assert drawn.drawings == 1
    await bot.say("ann", "spend 80 Hosting")
    await bot.say("ann", "budget")
    assert drawn.drawings == 2
    bot.clock.advance(days=1)  # the same figures on another day: today moves on the chart
    await bot.say("ann", "budget")
    assert drawn.drawings == 3


async def test_a_drawing_is_not_shared_across_projects(bot: Harness, drawn: drawing.Drawn) -> None:
    await kickoff(bot)
    await bot.say(
        "ann", 'project new "Beta App" client:"Acme Corp" budget:50k due:2027-03-01', channel="beta"
    )
    await bot.say("ann", "budget")
    await bot.say("ann", "budget", channel="beta")  # the same figures, another project
    assert drawn.drawings == 2
