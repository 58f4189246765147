"""Milestones and tasks through the console, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import insert, select

from bot.requests import Action, Actor, Place, Request
from storage.models import Milestone, Person, Project, Task
from tests.commands.test_team import dump, start
from tests.conftest import ExecutedStatements, StatementCounter
from tests.harness import Harness


async def plan(bot: Harness) -> None:
    """Acme Site with ann (PM), bob and cat (members), a client channel and two milestones."""
    await start(bot)
    await bot.say("ann", "team add @bob @cat rate:120/h")
    await bot.say("ann", 'milestone add "Beta" due:2027-01-15 client')
    await bot.say("ann", 'milestone add "Design" due:2026-12-10')


async def task_rows(bot: Harness) -> dict[int, Task]:
    async with bot.sessions() as session:
        return {t.number: t for t in (await session.scalars(select(Task))).all()}


async def test_milestones_are_numbered_and_clients_see_only_theirs(bot: Harness) -> None:
    await plan(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-04 milestone:"design"')
    out = await bot.say("ann", "milestones")
    assert "2. Design · due 2026-12-10 · 0/1 tasks done" in out
    assert "1. Beta · due 2027-01-15 · client sign-off" in out
    assert out.index("Design") < out.index("Beta")  # by due date
    client = await bot.say("carol", "milestones", channel="acme-shared", external=True)
    assert "Beta" in client and "Design" not in client and "tasks done" not in client
    await bot.say("ann", "task done 1")
    out = await bot.say("ann", "milestones")
    assert "[ ] 2. Design · due 2026-12-10 · 1/1 tasks done" in out
    bot.clock.advance(days=10)
    out = await bot.say("ann", "milestones")
    assert "[!] 2. Design" in out  # overdue: not marked done


async def test_a_client_deliverable_is_signed_off_by_the_client(bot: Harness) -> None:
    await plan(bot)
    out = await bot.say("carol", "milestone signoff 1", channel="acme-shared", external=True)
    assert "not delivered yet" in out
    out = await bot.say("ann", "milestone done 1")
    assert "I asked Acme Corp to sign it off" in out
    posted = bot.take_posts()
    assert "-> #acme-shared [client]" in posted and "[1] Sign off" in posted
    out = await bot.say("ann", "milestone signoff 1")
    assert "Sign-off is the client's" in out
    out = await bot.say("bob", "milestone signoff 1")
    assert "is for" in out
    # The button is the typed command: the same action signs it off.
    reply = await bot.engine.handle(
        Request(
            Actor("console", "other-org", "carol", "carol", external=True),
            Place("console", "local", "acme-shared", "channel"),
            action=Action("milestone signoff", "1"),
        )
    )
    assert 'Thank you: "Beta" is signed off by carol' in reply.messages[0].plain_text()
    assert reply.messages[0].audience == "client"
    await bot.deliver()
    assert 'carol signed off milestone 1 "Beta"' in bot.take_posts()
    out = await bot.say("carol", "milestone signoff 1", channel="acme-shared", external=True)
    assert "already signed off" in out
    async with bot.sessions() as session:
        beta = await session.scalar(select(Milestone).where(Milestone.number == 1))
        assert beta is not None and beta.done_at is not None and beta.signed_off_at is not None


async def test_a_pm_may_sign_off_on_behalf_and_plain_milestones_need_none(bot: Harness) -> None:
    await plan(bot)
    assert "is done" in await bot.say("ann", "milestone done 2")
    assert "already done" in await bot.say("ann", "milestone done 2")
    assert "not a client deliverable" in await bot.say("ann", "milestone signoff 2 on-behalf")
    await bot.say("ann", "milestone done 1")
    out = await bot.say("ann", "milestone signoff 1 on-behalf")
    assert "signed off by ann (on the client's behalf)" in out


async def test_task_add_assign_due_and_the_owner_is_told(bot: Harness) -> None:
    await plan(bot)
    await bot.say("bob", "me", channel=None)  # bob has a DM with the bot
    out = await bot.say("ann", 'task add "Wireframes" @bob due:fri milestone:2 est:1d')
    assert "Task 1 added: Wireframes · bob · due 2026-12-04" in out
    posts = bot.take_posts()
    assert "-> @bob" in posts and "ann gave you task 1: Wireframes" in posts
    await bot.say("ann", 'task add "Copy deck" @cat due:2027-01-20 milestone:Beta')
    out = await bot.say("ann", "task assign 2 @bob")
    assert "Task 2 (Copy deck) is now bob's" in out
    out = await bot.say("ann", "task due 2 next tuesday")
    assert "due 2026-12-08 (was 2027-01-20)" in out
    rows = await task_rows(bot)
    assert rows[1].estimate_hours == Decimal("8.00") and rows[1].status == "open"
    assert rows[2].due_date == date(2026, 12, 8)
    async with bot.sessions() as session:
        bob = await session.scalar(select(Person.id).where(Person.display_name == "bob"))
        beta = await session.scalar(select(Milestone.id).where(Milestone.title == "Beta"))
    assert rows[2].owner_id == bob and rows[2].milestone_id == beta


async def test_the_done_button_in_a_dm_is_the_typed_command(bot: Harness) -> None:
    await plan(bot)
    await bot.say("bob", "me", channel=None)
    await bot.say("ann", 'task add "Wireframes" @bob due:fri')
    posted = bot.take_posts()
    assert "-> @bob" in posted and "[1] Mark done" in posted
    reply = await bot.engine.handle(
        Request(
            Actor("console", "local", "bob", "bob"),
            Place("console", "local", "dm:bob", "dm"),
            action=Action("task done", '1 project:"Acme Site"'),
        )
    )
    assert "Task 1 done: Wireframes" in reply.messages[0].plain_text()
    assert (await task_rows(bot))[1].status == "done"


async def test_members_manage_their_own_tasks_and_pms_any(bot: Harness) -> None:
    await plan(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:fri')
    await bot.say("ann", 'task add "Copy" @cat due:fri')
    out = await bot.say("bob", 'task block 1 "waiting for the logo"')
    assert "Task 1 (Wireframes) is blocked: waiting for the logo" in out
    assert (await task_rows(bot))[1].status == "blocked"
    before = await dump(bot)
    for line in ("task done 2", "task reopen 2", 'task block 2 "x"'):
        out = await bot.say("bob", line)
        assert "Task 2 is cat's; only its owner or the PM" in out
    for line in ('task add "Mine" @bob due:fri', "task assign 2 @bob", "task due 2 fri"):
        out = await bot.say("bob", line)
        assert "is for the project's PM; you are on the team" in out
    out = await bot.say("carol", "tasks", channel="acme-shared", external=True)
    assert "`tasks` is for the delivery team or the project's PM; you are a client" in out
    out = await bot.say("carol", "task done 1", channel="acme-shared", external=True)
    assert "you are a client" in out
    assert await dump(bot) == before
    assert "Task 1 is open again" in await bot.say("bob", "task reopen 1")
    assert "Task 1 done" in await bot.say("bob", "task done 1")
    assert "Task 2 done" in await bot.say("ann", "task done 2")
    assert "already done" in await bot.say("ann", "task done 2")
    assert "reopen 2` it first" in await bot.say("ann", 'task block 2 "late"')
    rows = await task_rows(bot)
    assert rows[1].status == rows[2].status == "done" and rows[1].done_at is not None


async def test_blocking_from_a_dm_tells_the_team_channel(bot: Harness) -> None:
    await plan(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:fri')
    bot.take_posts()
    await bot.say("bob", 'task block 1 "no access to staging"', channel=None)
    assert "-> #team [internal]" in bot.posts[0] and "no access to staging" in bot.posts[0]


async def test_the_task_list_filters_and_marks(bot: Harness) -> None:
    await plan(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-02 est:8h milestone:2')
    await bot.say("ann", 'task add "Copy" @cat due:2026-12-05')
    await bot.say("ann", 'task add "Launch" @bob due:2027-01-10')
    await bot.say("ann", 'task add "Logo" @ann due:2026-12-03')
    await bot.say("ann", "task done 4")
    bot.clock.set("2026-12-04T10:00:00+00:00")  # Friday
    out = await bot.say("bob", "tasks")
    assert "[!] 1. Wireframes · bob · due 2026-12-02 · Design · est 8h" in out  # overdue
    assert "[>] 2. Copy · cat · due 2026-12-05" in out  # due soon
    assert "[ ] 3. Launch · bob · due 2027-01-10" in out
    assert "Logo" not in out
    out = await bot.say("bob", "tasks mine")
    assert "Wireframes" in out and "Launch" in out and "Copy" not in out
    out = await bot.say("ann", "tasks @cat")
    assert "Copy" in out and "Wireframes" not in out
    out = await bot.say("ann", "tasks overdue")
    assert "Wireframes" in out and "Copy" not in out and "Launch" not in out
    out = await bot.say("ann", "tasks due:this-week")
    assert "Wireframes" in out and "Copy" in out and "Launch" not in out
    out = await bot.say("ann", "tasks done")
    assert "[x] 4. Logo · ann" in out and "Wireframes" not in out
    out = await bot.say("ann", "tasks all")
    assert out.index("Wireframes") < out.index("Launch") < out.index("Logo")
    await bot.say("bob", 'task block 1 "no logo"')
    out = await bot.say("ann", "tasks blocked")
    assert (
        "[!] 1. Wireframes · bob · due 2026-12-02 · Design · est 8h · overdue · blocked: no logo"
        in out
    )
    assert "Copy" not in out
    out = await bot.say("ann", "tasks @nobody")
    assert "@nobody is not on Acme Site" in out


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("task add @bob due:fri", "Missing task title"),
        ('task add "X" due:fri', "Name the task's owner"),
        ('task add "X" @bob', "Say when it is due"),
        ('task add "X" @bob due:someday', "as a date"),
        ('task add "X" @zed due:fri', "`team add @zed` them first"),
        ('task add "X" @carol due:fri', "not on the delivery team"),
        ('task add "X" @bob due:fri milestone:9', "no milestone 9"),
        ('task add "X" @bob due:fri milestone:"Gamma"', 'no milestone "Gamma"'),
        ('task add "X" @bob due:fri est:lots', "as a duration"),
        ('task add "X" @bob due:fri est:900h', "more than"),
        ("task assign 7 @bob", "There is no task 7"),
        ("task assign 1", "Name who to give it to"),
        ("task assign x @bob", "should be a number"),
        ("task due 1", "Say the new due date"),
        ("task due 99 fri", "There is no task 99"),
        ("task done", "Missing task number"),
        ("task done 99", "There is no task 99"),
        ("task reopen 1", "already open"),
        ("task block 1", "Missing why it is blocked"),
        ('milestone add "Beta" due:2027-02-01', 'already a milestone "Beta"'),
        ('milestone add "Gamma"', "Say when it is due"),
        ("milestone add due:fri", "Missing milestone title"),
        ("milestone done 9", "There is no milestone 9"),
        ("milestone signoff 9 on-behalf", "There is no milestone 9"),
        ("tasks due:whenever", "as a date"),
        ("tasks everything", "I did not understand"),
    ],
)
async def test_bad_plan_input_says_why_with_usage_and_writes_nothing(
    bot: Harness, line: str, message: str
) -> None:
    await plan(bot)
    await bot.say("carol", "team", channel="acme-shared", external=True)
    await bot.say("ann", "team add @carol")
    await bot.say("ann", 'task add "Wireframes" @bob due:fri')
    before = await dump(bot)
    out = await bot.say("ann", line)
    assert message in out
    usage_words = line.split()[:2] if line.startswith(("task ", "milestone ")) else ["tasks"]
    assert "Usage: " + " ".join(usage_words) in out
    assert await dump(bot) == before


async def _bulk_tasks(bot: Harness, count: int, first: int) -> None:
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project.id))
        people = (await session.scalars(select(Person.id).order_by(Person.id))).all()
        milestone = await session.scalar(select(Milestone.id).order_by(Milestone.id))
        now = datetime(2026, 12, 1, tzinfo=UTC)
        rows = [
            {
                "project_id": project,
                "number": n,
                "title": f"Task {n}",
                "owner_id": people[n % len(people)],
                "milestone_id": milestone if n % 2 else None,
                "due_date": date(2026, 11, 20) + timedelta(days=n % 60),
                "status": ("open", "blocked", "done")[n % 3],
                "created_at": now,
            }
            for n in range(first, first + count)
        ]
        await session.execute(insert(Task), rows)


async def test_tasks_and_milestones_run_a_fixed_number_of_statements(
    bot: Harness, statements: StatementCounter
) -> None:
    await plan(bot)
    bot.engine.reply_cache = False  # tasks are added directly below: what computing costs
    await _bulk_tasks(bot, 5, 1)
    await bot.say("ann", "status")  # a read here before: who and where may be remembered
    counts = {}
    for line in ("tasks", "tasks all", "tasks mine due:this-week", "milestones"):
        statements.reset()
        await bot.say("ann", line)
        counts[line] = statements.count
    await _bulk_tasks(bot, 495, 6)
    for line, small in counts.items():
        statements.reset()
        await bot.say("ann", line)
        assert 0 < statements.count == small, (line, statements.statements)
    # The list itself and the harness's look for posts to deliver; and, unless remembered
    # from the last read here (bot.engine.remembered: only where changes are known, as on
    # SQLite's one process), who asks and where (one statement).
    assert counts == dict.fromkeys(counts, 2 if bot.engine.generations.trusted else 3)
    out = await bot.say("ann", "tasks all")
    assert "Showing 50 of 500" in out


async def test_adding_a_task_runs_a_fixed_few_statements(
    bot: Harness, statements: StatementCounter
) -> None:
    """Writes of a project queue behind each other (its turn; the revision on SQLite), so
    every statement of a write is paid by everyone waiting: a teammate's task reads the
    owner with their membership and how we met them in one statement; a task for oneself
    reads nothing more about the owner; the tenant's row comes back from taking its
    revision (sharing it, on PostgreSQL), and the asker's with the channel's project and
    their membership of it in one statement after that; on PostgreSQL the project's turn
    is one statement more; the task is numbered in the statement that inserts it."""
    await plan(bot)

    async def count(line: str) -> int:
        statements.reset()
        assert "added" in await bot.say("ann", line)
        # The harness's own delivery of posts aside. PostgreSQL's change notice is sent in
        # the statement that writes the audit record (storage.changes.announce).
        return sum(1 for s in statements.statements if not s.startswith("SELECT deliveries"))

    project_turn = 1 if bot.sessions.kw["bind"].dialect.name == "postgresql" else 0
    assert await count('task add "For a teammate" @bob due:fri') == 6 + project_turn
    # Whether the asker is from another organisation is what their request says.
    assert await count('task add "For myself" <@ann> due:fri') == 4 + project_turn


async def test_a_write_runs_statements_built_once(
    bot: Harness, session_executed: ExecutedStatements
) -> None:
    """Every write takes its turn (the tenant's revision on SQLite, the project's on
    PostgreSQL) and writes its audit record (on PostgreSQL with the change notice); a task
    add also inserts its numbered row. Those statements are
    built once and given their values as parameters: building one and its cache key anew
    for every write cost a task add about a tenth of its serving time (py-spy)."""
    await plan(bot)
    runs: list[list[object]] = []
    for owner in ("<@ann>", "@bob"):
        session_executed.clear()
        assert "added" in await bot.say("ann", f'task add "Built once" {owner} due:fri')
        written = ("INSERT INTO tasks", "INSERT INTO audit_entries")
        runs.append([session_executed.matching(sql)[0] for sql in written])
        # The turn: the tenant's revision; on PostgreSQL the tenant shared and the
        # project's row, each read by its id.
        on_postgresql = bot.sessions.kw["bind"].dialect.name == "postgresql"
        turns = ("taking_tenant", "taking_project") if on_postgresql else ("taking_tenant",)
        for turn in turns:
            (taken,) = session_executed.matching(f"= :{turn}")
            runs[-1].append(taken)
    first, second = runs
    assert all(a is b for a, b in zip(first, second, strict=True))


async def test_a_task_list_runs_a_statement_built_once_for_its_filters(
    bot: Harness, executed: ExecutedStatements
) -> None:
    """`tasks` is asked all day with a handful of filter combinations: each combination's
    statement is built once, the project and filter values given as its parameters."""
    await plan(bot)
    bot.engine.reply_cache = False  # every list is read, none answered from the cache
    await bot.say("ann", 'task add "Bob\'s wireframes" @bob due:fri')
    await bot.say("ann", 'task add "Ann\'s review" <@ann> due:fri')
    lists: dict[str, list[object]] = {}
    for line in ("tasks", "tasks mine", "tasks", "tasks mine", "tasks @bob"):
        executed.clear()
        assert "tasks" in await bot.say("ann", line)
        lists.setdefault(line, []).extend(executed.matching("OVER ()"))
    (first, again), (mine, mine_again), (bobs,) = lists.values()
    assert first is again and mine is mine_again
    assert len({id(first), id(mine), id(bobs)}) == 3  # one statement for each combination
    # The values are the asker's and the named person's, not the first ones bound.
    assert "Bob's wireframes" in (bobs_list := await bot.say("ann", "tasks @bob"))
    assert "Ann's review" not in bobs_list
    assert "Bob's wireframes" not in await bot.say("ann", "tasks mine")


async def test_the_task_list_is_never_shown_in_the_client_channel(bot: Harness) -> None:
    """Owners, estimates and blocked reasons are internal, even when the PM asks there."""
    await plan(bot)
    await bot.say("ann", 'task add "Secret work" @bob due:fri est:8h')
    await bot.say("bob", 'task block 3 "the vendor is late"')
    for who in ("ann", "bob"):
        out = await bot.say(who, "tasks", channel="acme-shared")
        assert "(only you can see this)" in out and "shared with the client" in out, out
        assert "Secret work" not in out and "vendor" not in out, out
    assert "Secret work" in await bot.say("ann", "tasks")
