"""Status, the weekly reports, health with its reasons, audiences and efficiency."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select

from bot.views.reports import build_report
from storage.models import (
    ChangeRequest,
    ClientRequest,
    Decision,
    Expense,
    Milestone,
    Person,
    Project,
    Risk,
    Task,
    TimeEntry,
)
from tests.conftest import StatementCounter
from tests.harness import Harness
from tests.project_setup import CLIENT, client_says, kickoff

MONEY = re.compile(r"\d[\d,]*\.\d\d|USD|\$")


async def test_a_new_project_is_green(bot: Harness) -> None:
    await kickoff(bot)
    out = await bot.say("ann", "status")
    assert "Acme Site: status" in out and "Health: GREEN" in out
    assert "Nothing needs attention" in out
    assert "Budget: USD 50,000.00" in out and "Spent: USD 0.00" in out


async def test_overdue_tasks_and_milestones_make_it_amber_then_red(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Beta" due:2026-12-10 client')
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02 milestone:"Beta"')
    await bot.say("ann", 'task add "Copy" @bob due:2026-12-15 milestone:"Beta"')
    out = await bot.say("ann", "status")
    assert "Health: AMBER" in out
    assert 'Milestone "Beta" (due 2026-12-10) is at risk: 1 planned after it' in out
    bot.clock.set("2026-12-04T10:00:00+00:00")
    out = await bot.say("ann", "status")
    assert "(amber) 1 task overdue" in out
    assert "Task 1 Wireframes @bob was due 2026-12-02" in out
    assert "at risk: 1 overdue, 1 planned after it" in out
    client = await client_says(bot, "status")
    assert "Health: AMBER" in client and '"Beta" (due 2026-12-10) is at risk' in client
    assert "Wireframes" not in client and "task" not in client.lower()
    bot.clock.set("2026-12-12T10:00:00+00:00")
    out = await bot.say("ann", "status")
    assert "Health: RED" in out and '(red) Milestone "Beta" is 2 days late' in out
    assert "Health: RED" in await client_says(bot, "status")


async def test_budget_overrun_is_amber_when_forecast_and_red_when_spent(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'spend 30000 "Licences"')
    out = await bot.say("ann", "status")
    assert "Health: AMBER" in out and "At this burn rate the budget runs out on" in out
    assert "Health: GREEN" in await client_says(bot, "status")
    await bot.say("ann", 'spend 25000 "Hardware"')
    out = await bot.say("ann", "status")
    assert "Health: RED" in out and "Spend is over the budget by USD 5,000.00" in out
    client = await client_says(bot, "status")
    assert "Health: GREEN" in client and "budget" not in client.lower()


async def test_high_risks_and_waiting_requests_are_reasons(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'risk add "Vendor API late" likelihood:high impact:medium')
    out = await bot.say("ann", "status")
    assert '(amber) 1 open high risk: "Vendor API late"' in out
    assert "Health: GREEN" in await client_says(bot, "status")
    await bot.say("ann", 'risk add "Data loss" likelihood:high impact:high client')
    assert "Health: RED" in await bot.say("ann", "status")
    assert '(red) 1 open high risk: "Data loss"' in await client_says(bot, "status")
    await bot.say("ann", "risk close 2")
    await client_says(bot, 'request "New logo"')
    bot.clock.set("2026-12-03T16:00:00+00:00")  # two working days: not yet
    assert "has waited" not in await bot.say("ann", "status")
    bot.clock.set("2026-12-04T09:00:00+00:00")
    out = await bot.say("ann", "status")
    assert "Client request 1 has waited 3 working days for an answer" in out
    client = await client_says(bot, "status")
    assert "Your request 1 has waited 3 working days" in client
    await bot.say("ann", 'request 1 answer "Coming Monday"')
    assert "has waited" not in await bot.say("ann", "status")


async def test_status_shows_next_milestones_and_what_is_blocked(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'milestone add "Beta" due:2026-12-10 client')
    await bot.say("ann", 'milestone add "Internal QA" due:2026-12-08')
    await bot.say("ann", 'task add "API" @bob due:2026-12-09')
    await bot.say("ann", 'task block 1 "waiting on vendor keys"')
    await bot.say("ann", 'change "Blog" cost:100 days:1')
    out = await bot.say("ann", "status")
    assert "Internal QA (due 2026-12-08)" in out and "Beta (due 2026-12-10, client sign-off)" in out
    assert "Task 1 API @bob is blocked: waiting on vendor keys" in out
    assert 'Approve or decline change 1: "Blog"' in out
    client = await client_says(bot, "status")
    assert "Beta (due 2026-12-10): on track" in client and "Internal QA" not in client
    assert "vendor keys" not in client
    assert 'Approve or decline change 1: "Blog"' in client


async def test_reports_for_each_audience(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'decision "Use Stripe"')
    out = await bot.say("ann", "report")
    assert "Weekly report: Acme Site" in out and "Use Stripe" in out and "Budget: USD" in out
    preview = await bot.say("ann", "report client")
    assert "Weekly update: Acme Site" in preview and "Stripe" not in preview
    assert "Weekly update: Acme Site" in await client_says(bot, "report")
    assert "Weekly update: Acme Site" in await bot.say("ann", "report", channel=CLIENT)
    out = await bot.say("ann", "report internal", channel=CLIENT)
    assert "shared with the client" in out and "Stripe" not in out
    refused = await client_says(bot, "report internal")
    assert "internal report is for the delivery team" in refused
    assert "Usage: report" in await bot.say("ann", "report weekly")


async def test_build_report_serves_the_scheduler(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", 'spend 1234.56 "Fonts"')
    async with bot.sessions() as session:
        project = await session.scalar(select(Project))
        assert project is not None
        internal = await build_report(session, project, date(2026, 12, 4), "internal")
        client = await build_report(session, project, date(2026, 12, 4), "client")
    assert internal.audience == "internal" and "USD 1,234.56" in internal.plain_text()
    assert client.audience == "client" and "week ending 2026-12-04" in client.plain_text()
    assert not MONEY.search(client.plain_text())


# --- audience: nothing a client reads carries money or internal matters ------------------

INTERNAL_WORDS = (
    "Key developer may leave",
    "retention bonus",
    "secret note",
    "vendor contract",
    "Use cheaper vendor",
    "Wireframes",
    "bob",
)


async def _busy_project(bot: Harness) -> None:
    await kickoff(bot)
    await bot.say("ann", "team add @dora role:client")
    await bot.say("ann", 'milestone add "Beta" due:2026-12-10 client')
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02 milestone:"Beta"')
    await bot.say("ann", 'task block 1 "vendor contract unsigned"')
    await bot.say(
        "ann",
        'risk add "Key developer may leave" likelihood:high impact:high '
        'mitigation:"Pay a retention bonus"',
    )
    await bot.say("ann", 'risk add "Content late" likelihood:medium impact:medium client')
    await bot.say("bob", 'log 7.5h task:1 "secret note"')
    await bot.say("ann", 'spend 1234.56 "Stock photos"')
    await bot.say("ann", 'decision "Use cheaper vendor"')
    await client_says(bot, 'request "Please add the new logo"')
    await client_says(bot, 'request "Add a FAQ"')
    await bot.say("ann", "request 1 to-change cost:4000 days:5")
    await bot.say("ann", "request 2 to-task @bob due:2026-12-09")
    await client_says(bot, "change approve 1")
    await bot.say("ann", 'change "Dark mode" cost:777 days:1')
    bot.clock.set("2026-12-07T10:00:00+00:00")


async def test_nothing_a_client_reads_has_amounts_rates_or_internal_matters(
    bot: Harness,
) -> None:
    await _busy_project(bot)
    bot.take_posts()
    read: dict[str, str] = {}
    for line in ("status", "report", "risks", "requests", "milestones"):
        read[line] = await client_says(bot, line)
        read[line + " (client member, dm)"] = await bot.say("dora", line, channel=None)
        read[line + " (pm, client side)"] = await bot.say("ann", line, channel=CLIENT)
    for name, shown in read.items():
        # Charts are printed as temporary file paths, whose random names are not content.
        text = re.sub(r" -> \S+\.png\)", ")", shown)
        assert "Acme Site" in text or "Risks we are watching" in text or "requests" in text, name
        assert not MONEY.search(text), (name, text)
        for word in INTERNAL_WORDS:
            assert word not in text, (name, word)
    assert "Content late" in read["risks"] and "Beta" in read["report"]
    changes = await client_says(bot, "changes")
    # The only amounts a client reads are the prices of the changes they decide on.
    assert set(MONEY.findall(changes)) == {"USD", "4,000.00", "777.00"}
    for word in INTERNAL_WORDS:
        assert word not in changes
    await bot.say("ann", 'request 2 answer "Shipped"')
    await bot.say("ann", "change approve 2 on-behalf")
    client_posts = [p for p in bot.posts if p.startswith(f"-> #{CLIENT}")]
    assert client_posts and all("[client]" in p.splitlines()[0] for p in client_posts)
    for post in client_posts:
        assert not MONEY.search(post.replace("USD 777.00", "")), post
        assert "54,000" not in post and "budget" not in post.lower()


async def test_internal_status_and_report_carry_the_internal_picture(bot: Harness) -> None:
    await _busy_project(bot)
    status = await bot.say("ann", "status")
    assert "Budget: USD 54,000.00" in status
    assert "Spent: USD 1,984.56" in status  # 1,234.56 spend + 7.5h x 100/h
    assert "vendor contract unsigned" in status
    report = await bot.say("ann", "report")
    assert "Key developer may leave" in report and "Use cheaper vendor" in report
    assert "Change 2 Dark mode: USD 777.00, 1 days, pending" in report


# --- efficiency: a fixed number of statements, whatever the size -------------------------


async def _bulk(bot: Harness, name: str) -> None:
    """500 tasks, 100 risks, 5,000 time entries and more, inserted directly."""
    now = datetime(2026, 11, 1, tzinfo=UTC)
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project).where(Project.name == name))
        bob = await session.scalar(select(Person).where(Person.external_id == "bob"))
        assert project is not None and bob is not None
        pid, start = project.id, date(2026, 11, 1)
        await session.execute(
            insert(Milestone),
            [dict(project_id=pid, number=n, title=f"M{n}", due_date=start + timedelta(days=10 * n),
                  client_signoff=n % 2 == 0, created_at=now) for n in range(1, 11)],
        )  # fmt: skip
        milestone_ids = list(
            await session.scalars(select(Milestone.id).where(Milestone.project_id == pid))
        )
        await session.execute(
            insert(Task),
            [dict(project_id=pid, number=n, title=f"Task {n}", owner_id=bob.id,
                  milestone_id=milestone_ids[n % 10], due_date=start + timedelta(days=n % 60),
                  status=("open", "blocked", "done")[n % 3], blocked_reason="why",
                  created_at=now) for n in range(1, 501)],
        )  # fmt: skip
        await session.execute(
            insert(Risk),
            [dict(project_id=pid, number=n, title=f"Risk {n}", likelihood=1 + n % 3,
                  impact=1 + (n // 3) % 3, client_visible=n % 4 == 0, created_at=now)
             for n in range(1, 101)],
        )  # fmt: skip
        await session.execute(
            insert(TimeEntry),
            [dict(project_id=pid, person_id=bob.id, hours=Decimal("1.5"), cost=Decimal("150"),
                  logged_on=start + timedelta(days=n % 30), created_at=now)
             for n in range(5000)],
        )  # fmt: skip
        await session.execute(
            insert(Expense),
            [dict(project_id=pid, amount=Decimal("10.10"), description="x", category=f"c{n % 5}",
                  spent_on=start, created_at=now) for n in range(200)],
        )  # fmt: skip
        await session.execute(
            insert(ClientRequest),
            [dict(project_id=pid, number=n, text=f"Req {n}", raised_by_id=bob.id,
                  status="open", created_at=now) for n in range(1, 61)],
        )  # fmt: skip
        await session.execute(
            insert(ChangeRequest),
            [dict(project_id=pid, number=n, title=f"Change {n}", cost=Decimal("100"), days=1,
                  status=("pending", "approved")[n % 2], raised_by_id=bob.id,
                  decided_by_id=bob.id if n % 2 else None, created_at=now)
             for n in range(1, 31)],
        )  # fmt: skip
        await session.execute(
            insert(Decision),
            [dict(project_id=pid, number=n, title=f"D{n}", decided_by_id=bob.id,
                  decided_at=datetime(2026, 11, 28, tzinfo=UTC)) for n in range(1, 41)],
        )  # fmt: skip


async def _statements_for(
    bot: Harness, statements: StatementCounter, line: str, **kw: object
) -> int:
    await bot.say("ann", line, **kw)  # warm up: first-use lookups are not the point
    bot.clock.advance(minutes=15)  # a new quarter hour: the reply cache cannot answer
    statements.reset()
    out = await bot.say("ann", line, **kw)
    assert "Health" in out
    return statements.count


async def test_status_and_report_use_a_fixed_number_of_statements(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say(
        "ann", 'project new "Big" client:"Big Co" budget:900k due:2027-06-01', channel="big"
    )
    await bot.say("ann", "team add @bob role:member rate:100/h", channel="big")
    await _bulk(bot, "Big")
    async with bot.sessions() as session:
        tasks = await session.scalar(select(Task.id).order_by(Task.id.desc()).limit(1))
    assert tasks == 500
    # Of which 1 finds who asks and where (tenant with person, the channel's project with
    # one's membership), and 1 is the harness looking for posts to deliver; status reads
    # its snapshot (milestones, task counts with the budget's running totals, attention,
    # high risks, requests, changes and the pulse) in 1. A reader asked again where nothing changed
    # remembers who asks and where (bot.engine.remembered; where changes are known). The
    # report reads 2 more: the spend per day for its chart (in 1, the running totals per
    # day; 2 when it summed the expenses and the time entries) and the team's mood.
    saved = 0 if bot.engine.generations.trusted else 1
    expected = {"status": 2 + saved, "report": 4 + saved, "report client": 2 + saved}
    for line, count in expected.items():
        small = await _statements_for(bot, statements, line)
        big = await _statements_for(bot, statements, line, channel="big")
        assert small == big == count, (line, small, big)
    out = await bot.say("ann", "status", channel="big")
    assert "Spent: USD 752,020.00" in out  # 5,000 x 150 + 200 x 10.10
    # What was spent is the totals the database keeps (storage.ledger_totals), not a sum
    # over the 5,000 time entries on every status.
    await _statements_for(bot, statements, "status", channel="big")
    read = " ".join(statements.statements)
    assert "ledger_totals" in read and "time_entries" not in read and "expenses" not in read
    await _statements_for(bot, statements, "report", channel="big")
    read = " ".join(statements.statements)
    assert "ledger_days" in read and "time_entries" not in read and "expenses" not in read
