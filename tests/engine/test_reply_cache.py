"""The reply cache: a repeated read-only command is answered without the database, and
never with stale data: any write by this process, a write by another process (PostgreSQL
NOTIFY), a new day, or a lost listener makes it compute again. Writers of one tenant take
turns (the tenant's revision), so numbering stays unique under concurrency."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from types import ModuleType

import pytest
from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from adapters.console.session import Speaker, place_for
from bot.commands import ALL_MODULES
from bot.engine.engine import Engine
from bot.engine.registry import TEAM, command
from bot.engine.reply_cache import Generations, ReadFrom, ReplyCache
from bot.messages import Message, Reply, Text
from bot.requests import Request
from storage.changes import (
    CHANGES_CHANNEL,
    WRITES_PROJECT,
    TrackedSession,
    take_wrote,
    touched_projects,
    touched_tables,
)
from storage.db import create_engine, normalise_url, session_factory
from storage.listen import ChangeListener
from storage.models import Membership, Person, Project, Task, Tenant, TimeEntry
from storage.tables_read import tables_named
from tests.conftest import StatementCounter
from tests.harness import Harness
from tests.project_setup import kickoff
from tests.system_cluster import until

DML = re.compile(r"^\s*(INSERT|UPDATE|DELETE)", re.IGNORECASE)


def open_tasks(status: str) -> int:
    found = re.search(r"(\d+) open", status)
    assert found, status
    return int(found.group(1))


# On PostgreSQL the cache needs a listener (a serving process has one): see the tests of
# two engines on one database below.
sqlite_only = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
# One process owns a SQLite database: other processes are PostgreSQL's case.
postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


@sqlite_only
async def test_a_repeated_status_is_answered_without_a_statement(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    first = await bot.say("ann", "status")
    statements.reset()
    again = await bot.engine.handle(ann_says("status"))
    assert statements.count == 0
    assert "Health" in first and again.messages


@sqlite_only
async def test_a_write_makes_status_compute_again(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    before = open_tasks(await bot.say("ann", "status"))
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-10')
    statements.reset()
    after = open_tasks(await bot.say("ann", "status"))
    assert after == before + 1
    assert statements.count > 0


@sqlite_only
async def test_a_new_day_makes_status_compute_again(bot: Harness) -> None:
    await kickoff(bot)
    bot.clock.set("2026-12-01T23:50:00+00:00")  # the project's zone is UTC
    first = await bot.say("ann", "status")
    bot.clock.set("2026-12-02T00:05:00+00:00")
    second = await bot.say("ann", "status")
    assert "(90 days left)" in first and "(89 days left)" in second


@sqlite_only
async def test_another_person_or_place_is_not_answered_from_the_cache(bot: Harness) -> None:
    await kickoff(bot)
    team_view = await bot.say("ann", "status")
    client_view = await bot.say("carol", "status", channel="acme-shared", external=True)
    assert "Budget" in team_view and "Budget" not in client_view


@sqlite_only
async def test_a_lost_listener_turns_the_cache_off(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say("ann", "status")
    bot.engine.generations.lost_track()
    statements.reset()
    await bot.say("ann", "status")
    assert statements.count > 0


# Every read-only command, with the arguments that make it read the most.
READ_ONLY_LINES = (
    "help", "help task add", "waiting", "budget", "decisions", "export tasks", "export time",
    "export spend", "export risks", "milestones", "tasks", "tasks mine", "tasks @bob",
    "tasks overdue", "tasks blocked", "tasks done", "tasks all", "tasks due:this-week",
    "outbox", "outbox failed", "emails", "projects", "report", "report client", "report internal",
    "status", "requests", "requests open", "risks", "risks all", "changes", "team",
    "history", "history days:3660 @bob", "export history", "links",
    "blockers", "blockers all", "huddle history", "huddle history days:3", "huddle stats",
    "meeting", "actions", "actions all",
)  # fmt: skip


async def test_read_only_commands_write_nothing(bot: Harness, statements: StatementCounter) -> None:
    await kickoff(bot)
    for line in (
        'task add "Wireframes" @bob due:2026-12-10',
        'risk add "Late content" likelihood:high impact:high',
        "spend 120 Fonts",
        'decision "Launch in March"',
    ):
        await bot.say("ann", line)
    await bot.engine.handle(ann_says("help"))  # ann and the channel are remembered
    listed = {spec.name for spec in bot.engine.registry.all() if spec.reads_only}
    lines = (*READ_ONLY_LINES, *CLOSED_READ_ONLY_LINES)
    assert listed == {bot.engine.registry.find(line.split())[0].name for line in lines}
    for line in READ_ONLY_LINES:
        await _reads_only(bot, statements, line)
    await bot.say("ann", "project close force")
    for line in CLOSED_READ_ONLY_LINES:  # what only a closed project answers
        await _reads_only(bot, statements, line)


CLOSED_READ_ONLY_LINES = ("report final",)


async def _reads_only(bot: Harness, statements: StatementCounter, line: str) -> None:
    statements.reset()
    reply = await bot.engine.handle(ann_says(line))
    writes = [s for s in statements.statements if DML.match(s)]
    assert not writes, (line, writes)
    assert not reply.failed, (line, reply)


def sneaky_module() -> ModuleType:
    module = ModuleType("sneaky")

    @command("sneak", usage="sneak", summary="x", area="basics", roles=TEAM, reads_only=True)
    async def sneak(ctx, args):  # noqa: ANN001, ANN202
        ctx.session.add(Task(project_id=ctx.the_project.id, number=99, title="Sneaked"))
        return Message((Text("done"),))

    module.sneak = sneak  # type: ignore[attr-defined]
    return module


async def test_a_read_only_command_that_writes_is_refused_and_rolled_back(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bot = Harness.create(sessions)
    bot.engine = Engine(sessions=sessions, clock=bot.clock, modules=[*ALL_MODULES, sneaky_module()])
    await kickoff(bot)
    out = await bot.say("ann", "sneak")
    assert "error id" in out
    async with sessions() as session:
        assert await session.scalar(select(Task).where(Task.title == "Sneaked")) is None


# --- several processes: two engines on one database, each hearing the other ------------


async def listening_engine(url: str, clock: object) -> tuple[Engine, ChangeListener]:
    sessions = session_factory(create_engine(url))
    generations = Generations(trusted=False)
    engine = Engine(sessions=sessions, modules=ALL_MODULES, clock=clock, generations=generations)  # type: ignore[arg-type]
    listener = generations.listen(url)
    await until(sync(lambda: generations.trusted), 10, "the listener to connect")
    return engine, listener


@asynccontextmanager
async def two_listening_engines(url: str, clock: object) -> AsyncIterator[tuple[Engine, Engine]]:
    """Two engines on `url`, as two processes: each hears the other's notices."""
    (engine_a, listener_a), (engine_b, listener_b) = [
        await listening_engine(url, clock) for _ in range(2)
    ]
    try:
        yield engine_a, engine_b
    finally:
        for listener in (listener_a, listener_b):
            await listener.stop()
        for engine in (engine_a, engine_b):
            await engine.sessions.kw["bind"].dispose()


@postgres_only
async def test_another_process_write_reaches_a_cached_status(db_url: str, bot: Harness) -> None:
    await kickoff(bot)
    async with two_listening_engines(db_url, bot.clock) as (engine_a, engine_b):
        bot.engine = engine_b
        bot._consoles.clear()
        await bot.say("ann", "status")  # this engine's first sight of ann: it writes her
        before = open_tasks(await bot.say("ann", "status"))
        kept = engine_b.generations.of("console:local")
        assert engine_b.replies.get(
            engine_b.replies.key("status", ann_says("status"), bot.clock()),
            "console:local",
        )
        bot.engine = engine_a
        bot._consoles.clear()
        await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-10')
        changed = sync(lambda: engine_b.generations.of("console:local") != kept)
        await until(changed, 10, "the notice, sent on commit")
        bot.engine = engine_b
        bot._consoles.clear()
        assert open_tasks(await bot.say("ann", "status")) == before + 1


async def test_concurrent_writers_number_tasks_without_gaps_or_clashes(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    bot = Harness.create(sessions)
    await kickoff(bot)
    other = Engine(
        sessions=session_factory(create_engine(db_url)), modules=ALL_MODULES, clock=bot.clock
    )
    try:
        lines = [f'task add "Task {n}" @bob due:2026-12-10' for n in range(12)]
        async with sessions() as session:
            revision_before = await session.scalar(select(Tenant.revision))
        replies = await asyncio.gather(
            *(
                (bot.engine if n % 2 else other).handle(ann_says(line))
                for n, line in enumerate(lines)
            )
        )
        assert all(not reply.failed for reply in replies)
        async with sessions() as session:
            numbers = sorted(await session.scalars(select(Task.number)))
            revision = await session.scalar(select(Tenant.revision))
        assert numbers == list(range(1, 13))
        # On PostgreSQL they took their project's turn (the tenant's revision is left for
        # writers of the tenant as a whole), but for the first of the engine that had not
        # met the tenant yet; on SQLite, each the one writer's.
        assert revision is not None and revision_before is not None
        taken = revision - revision_before
        assert taken <= 1 if db_url.startswith("postgresql") else taken == 12
    finally:
        await other.sessions.kw["bind"].dispose()


def ann_says(line: str) -> Request:
    """What the console sends when ann types `line` in the team channel."""
    ann = Speaker("ann")
    return Request(actor=ann.actor(), place=place_for(ann, "team"), text=line)


@sqlite_only
async def test_a_direct_write_shows_within_the_age_limit(bot: Harness) -> None:
    """Writes from outside the engine are not announced; the age limit bounds the lag."""
    await kickoff(bot)
    before = open_tasks(await bot.say("ann", "status"))
    async with bot.sessions() as session, session.begin():
        project_id = await session.scalar(select(Project.id))
        await session.execute(
            insert(Task).values(
                project_id=project_id, number=50, title="Direct", created_at=bot.clock()
            )
        )
    assert open_tasks(await bot.say("ann", "status")) == before  # kept, for now
    bot.engine.replies.max_age = 0
    assert open_tasks(await bot.say("ann", "status")) == before + 1
    async with bot.sessions() as session:
        assert await session.scalar(text("SELECT count(*) FROM tasks")) == 1


# --- a burst of identical requests computes once ------------------------------------------


@sqlite_only
async def test_a_burst_of_identical_requests_computes_once(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say("ann", "status")
    bot.clock.advance(minutes=15)
    statements.reset()
    await bot.engine.handle(ann_says("status"))
    one = statements.count
    bot.clock.advance(minutes=15)
    statements.reset()
    replies = await asyncio.gather(*(bot.engine.handle(ann_says("status")) for _ in range(20)))
    assert statements.count == one > 0
    assert len({id(reply) for reply in replies}) == 1


def counting_compute(started: list[int], release: asyncio.Event) -> object:
    async def compute() -> tuple[Reply, bool]:
        started.append(1)
        await release.wait()
        return Reply((Message((Text(f"answer {len(started)}"),)),)), True

    return compute


async def test_a_request_after_a_write_does_not_wait_for_an_older_computation() -> None:
    generations = Generations()
    cache = ReplyCache(generations)
    started: list[int] = []
    release = asyncio.Event()
    compute = counting_compute(started, release)
    first = asyncio.ensure_future(cache.answer("key", "t", compute))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    same = asyncio.ensure_future(cache.answer("key", "t", compute))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    generations.changed("t")  # a write lands while the first is still reading
    later = asyncio.ensure_future(cache.answer("key", "t", compute))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    release.set()
    first_reply, same_reply, later_reply = await asyncio.gather(first, same, later)
    assert len(started) == 2
    assert same_reply is first_reply and later_reply is not first_reply


async def test_when_the_computing_request_is_cancelled_a_waiter_computes_itself() -> None:
    cache = ReplyCache(Generations())
    started: list[int] = []
    release = asyncio.Event()
    compute = counting_compute(started, release)
    first = asyncio.ensure_future(cache.answer("key", "t", compute))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    waiter = asyncio.ensure_future(cache.answer("key", "t", compute))  # type: ignore[arg-type]
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    release.set()
    reply = await waiter
    assert len(started) == 2 and reply.messages


# --- what the review found: rolled-back identities, lock order, retries, lost listeners -----


async def test_an_identity_written_in_a_rolled_back_command_is_not_remembered(
    bot: Harness,
) -> None:
    refused = await bot.say("xavier", "status", channel=None)  # no project: rolled back
    assert "no project here yet" in refused
    await bot.say("yvonne", "help", channel=None)  # may take the id xavier's row had
    assert "yvonne" not in await bot.say("xavier", "me", channel=None)
    async with bot.sessions() as session:
        names = set(await session.scalars(select(Person.display_name)))
    assert {"xavier", "yvonne"} <= names


async def test_writers_and_first_time_readers_do_not_deadlock(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    bot = Harness.create(sessions)
    await kickoff(bot)
    bob = Speaker("bob")
    for n in range(8):
        fresh = [Engine(sessions=sessions, modules=ALL_MODULES, clock=bot.clock) for _ in range(2)]
        for engine in fresh:  # they know the tenant and the channel, not yet ann
            await engine.handle(Request(bob.actor(), place_for(bob, "team"), text="help"))
        replies = await asyncio.gather(
            fresh[0].handle(ann_says(f'task add "Round {n}" @bob due:2026-12-10')),
            fresh[1].handle(ann_says("tasks")),
        )
        assert not any(reply.failed for reply in replies), replies


@sqlite_only
async def test_a_repeated_delivery_neither_runs_twice_nor_empties_the_cache(
    bot: Harness,
) -> None:
    await kickoff(bot)

    def slash(event: str) -> Request:
        return replace(ann_says("status"), event_id=event, reply_inline=True)

    first = await bot.engine.handle(slash("command:1"))
    bot.engine.replies.max_age = 0  # forget it: the repeat reaches the database
    repeat = await bot.engine.handle(slash("command:1"))
    bot.engine.replies.max_age = 10
    fresh = await bot.engine.handle(slash("command:2"))
    again = await bot.engine.handle(slash("command:3"))
    assert first.messages and not repeat.messages
    assert fresh.messages and again.messages


@postgres_only
async def test_a_lost_listener_connection_is_noticed_and_listening_resumes(db_url: str) -> None:
    generations = Generations(trusted=False)
    events: list[str] = []

    def gap() -> None:
        events.append("gap")
        generations.lost_track()

    def listening() -> None:
        events.append("listening")
        generations.back_on_track()

    listener = ChangeListener(
        db_url, CHANGES_CHANNEL, on_change=generations.heard, on_gap=gap, on_listening=listening
    )
    listener.start()
    try:
        await until(sync(lambda: events.count("listening") == 1), 20, "listening")
        engine = create_engine(db_url)
        async with engine.connect() as connection:
            await connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND query LIKE 'LISTEN%'"
                )
            )
        await engine.dispose()
        await until(sync(lambda: events.count("listening") == 2), 20, "listening again")
        assert events == ["gap", "listening", "gap", "listening"] and generations.trusted
    finally:
        await listener.stop()
    assert not generations.trusted


def sync(condition: Callable[[], bool]) -> Callable[[], Awaitable[bool]]:
    """A plain condition as `until` takes it."""

    async def check() -> bool:
        return condition()

    return check


# --- per project: a write to one project keeps what was kept about another ---------------

BETA = 'project new "Beta App" client:"Beta Inc" budget:20k due:2027-03-01'


def cache_hits(bot: Harness) -> float:
    return bot.engine.metrics.reply_cache_hits._value.get()


def ann_in(channel: str, line: str) -> Request:
    ann = Speaker("ann")
    return Request(actor=ann.actor(), place=place_for(ann, channel), text=line)


async def statements_for(bot: Harness, statements: StatementCounter, request: Request) -> int:
    statements.reset()
    reply = await bot.engine.handle(request)
    assert reply.messages and not reply.failed, reply
    return statements.count


@sqlite_only
async def test_a_write_to_one_project_keeps_another_projects_cached_replies(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    beta_reads = [ann_in("beta", line) for line in ("status", "tasks", "risks", "budget")]
    for request in beta_reads:
        await bot.engine.handle(request)
    await bot.engine.handle(ann_says("status"))
    hits = cache_hits(bot)
    await bot.say("ann", 'task add "Wireframes" @bob due:2026-12-10')  # Acme's
    assert "Logged 2h" in await bot.say("ann", "log 2h Wireframes")
    assert "Spent USD 120.00" in await bot.say("ann", 'spend 120 "Fonts"')
    assert "Risk 1 added" in await bot.say("ann", 'risk add "Vendor" likelihood:high impact:low')
    assert [await statements_for(bot, statements, r) for r in beta_reads] == [0, 0, 0, 0]
    assert cache_hits(bot) == hits + 4
    assert await statements_for(bot, statements, ann_says("status")) > 0


@sqlite_only
async def test_a_reply_across_projects_computes_again_after_a_write_to_any_of_them(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    await bot.say("dave", 'project new "Gamma" client:"Gamma Ltd" budget:5k', channel="gamma")
    await bot.say("ann", 'task add "Store listing" @ann due:2026-12-03', channel="beta")
    across = [ann_in("beta", "waiting"), ann_in("beta", "projects")]
    for request in across:
        await bot.engine.handle(request)
    await bot.say("dave", 'task add "Logo" due:2026-12-03', channel="gamma")  # not ann's
    assert [await statements_for(bot, statements, r) for r in across] == [0, 0]
    await bot.say("ann", 'task add "Sitemap" @ann due:2026-12-02')  # Acme's, not Beta's
    # `waiting` read Acme's tasks; `projects` read no task of any project, and stays.
    waiting, projects = [await statements_for(bot, statements, r) for r in across]
    assert waiting > 0 and projects == 0
    assert "Sitemap" in await bot.say("ann", "waiting", channel="beta")


@sqlite_only
async def test_waiting_keeps_its_reply_by_the_projects_it_read_itself(
    bot: Harness, statements: StatementCounter
) -> None:
    """`waiting` reads the asker's projects for its lists, closed ones included: the reply
    cache takes what it was read from there rather than reading the memberships again,
    and reopening a closed project (a change to that project alone) reaches it."""
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    await bot.say("ann", 'task add "Store listing" @ann due:2026-12-03', channel="beta")
    await bot.say("ann", "project close force", channel="beta")
    waiting = ann_in("team", "waiting")
    computed = await statements_for(bot, statements, waiting)
    # Who asks and where in one, the memberships with the four lists in one (two before):
    # no third for the cache.
    assert computed == 2, statements.statements
    assert "Store listing" not in await bot.say("ann", "waiting")
    assert await statements_for(bot, statements, waiting) == 0
    await bot.say("ann", "project reopen", channel="beta")
    # Computed again, who and where included: a project's own row is read with them, and a
    # change to it is the tenant's (storage.changes.WHO_AND_WHERE).
    assert await statements_for(bot, statements, waiting) == 2
    assert "Store listing" in await bot.say("ann", "waiting")


@sqlite_only
async def test_a_change_to_who_is_on_a_project_reaches_every_reply_of_the_tenant(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    await bot.engine.handle(ann_in("beta", "status"))
    await bot.say("ann", "team add @erin role:member")  # Acme's team: who is on what
    assert await statements_for(bot, statements, ann_in("beta", "status")) > 0
    assert "Beta App" in await bot.say("ann", "projects", channel="beta")


def test_a_notice_says_which_projects_changed() -> None:
    speaker, hearer = Generations(), Generations()
    before = hearer.now()
    hearer.heard(speaker.notice("slack:T1", frozenset({7})))
    assert hearer.unchanged(before, "slack:T1", frozenset({8}))
    assert not hearer.unchanged(before, "slack:T1", frozenset({7, 8}))
    assert not hearer.unchanged(before, "slack:T1", True)
    assert hearer.unchanged(before, "slack:T2", True)
    hearer.heard(f"{speaker.origin}x slack:T1")  # an older process's: the whole tenant
    assert not hearer.unchanged(before, "slack:T1", frozenset({8}))


@postgres_only
async def test_another_process_write_keeps_another_projects_cached_status(
    db_url: str, bot: Harness
) -> None:
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    async with two_listening_engines(db_url, bot.clock) as (engine_a, engine_b):
        await engine_a.handle(ann_says("help"))  # the first sight of ann writes her
        for line in ("status", "status"):
            await engine_b.handle(ann_in("beta", line))
            await engine_b.handle(ann_says(line))
        kept = engine_b.generations.of("console:local")
        await engine_a.handle(ann_says('task add "Wireframes" @bob due:2026-12-10'))
        changed = sync(lambda: engine_b.generations.of("console:local") != kept)
        await until(changed, 10, "the notice, sent on commit")
        now = bot.clock()
        assert engine_b.replies.get(
            engine_b.replies.key("status", ann_in("beta", "status"), now), "console:local"
        )
        assert not engine_b.replies.get(
            engine_b.replies.key("status", ann_says("status"), now), "console:local"
        )


# --- per table: a write to a project keeps its replies that read none of what it wrote ----

READS = ("status", "tasks", "tasks mine", "budget", "risks", "waiting", "projects")
WRITES = (
    'task add "Sitemap" @ann due:2026-12-09',
    "task done 1",
    "log 2h Wireframes",
    'spend 120 "Fonts"',
    'risk add "Vendor" likelihood:high impact:low',
)


@sqlite_only
async def test_a_write_keeps_the_projects_replies_that_read_none_of_its_tables(
    bot: Harness, statements: StatementCounter
) -> None:
    """After each write, every read answers exactly what a process without the cache
    computes (nothing kept is stale), and a reply that read none of the tables the write
    changed is answered from the cache: a `log` or a `spend` keeps the task lists and the
    risks, a `task add` the budget and the risks."""
    await kickoff(bot)
    await bot.say("ann", 'task add "Wireframes" @ann due:2026-12-10')
    reference = Engine(
        sessions=bot.sessions, modules=ALL_MODULES, clock=bot.clock, reply_cache=False
    )
    reads = [ann_says(line) for line in READS]
    kept_after: dict[str, list[str]] = {}
    for write in WRITES:
        for request in reads:  # computed (or not) and kept
            await bot.engine.handle(request)
        assert "went wrong" not in await bot.say("ann", write)
        kept = []
        for request in reads:
            computed = await statements_for(bot, statements, request)
            cached_reply = await bot.engine.handle(request)
            assert cached_reply == await reference.handle(request), (write, request.text)
            if computed == 0:
                kept.append(request.text)
        kept_after[write.split()[0] + " " + write.split()[1]] = kept
    assert kept_after == {
        "task add": ["budget", "risks", "projects"],
        "task done": ["budget", "risks", "projects"],
        "log 2h": ["tasks", "tasks mine", "risks", "waiting", "projects"],
        "spend 120": ["tasks", "tasks mine", "risks", "waiting", "projects"],
        "risk add": ["tasks", "tasks mine", "budget", "waiting", "projects"],
    }, kept_after


def test_a_notice_says_which_tables_of_a_project_changed() -> None:
    speaker, hearer = Generations(), Generations()
    before = hearer.now()
    tasks_read = ReadFrom(frozenset({7}), frozenset({"tasks", "people"}))
    ledger_read = ReadFrom(frozenset({7}), frozenset({"ledger_totals"}))
    hearer.heard(speaker.notice("slack:T1", frozenset({7}), frozenset({"ledger_totals"})))
    assert hearer.unchanged(before, "slack:T1", tasks_read)
    assert not hearer.unchanged(before, "slack:T1", ledger_read)
    assert not hearer.unchanged(before, "slack:T1", frozenset({7}))  # tables not known
    # A write whose tables are not known, or an older process's notice, reaches them all.
    for notice in (speaker.notice("slack:T1", frozenset({7})), f"{speaker.origin}x slack:T1 7"):
        again = hearer.now()
        hearer.heard(notice)
        assert not hearer.unchanged(again, "slack:T1", tasks_read)


def test_the_tables_a_statement_reads_are_the_ones_its_sql_names() -> None:
    sql = (
        "WITH open AS (SELECT tasks.id FROM tasks WHERE tasks.status = 'open') "
        "SELECT count(*), (SELECT sum(ledger_totals.expense_cents) FROM ledger_totals) "
        'FROM open JOIN "people" AS owner ON owner.id = open.id'
    )
    assert tables_named(sql) == {"tasks", "ledger_totals", "people"}
    assert tables_named("SELECT tasks_done FROM projectsx") == set()


async def test_a_time_entry_changes_the_ledgers_totals_too(bot: Harness) -> None:
    """The ledger's running totals are kept by triggers, which no statement of ours names:
    a write of a time entry counts as a write of them."""
    await kickoff(bot)
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project))
        person = await session.scalar(select(Person))
        assert project is not None and person is not None
        session.add(
            TimeEntry(project_id=project.id, person_id=person.id, hours=1, cost=100,
                      logged_on=bot.clock().date(), created_at=bot.clock())
        )  # fmt: skip
        await session.flush()
        written = touched_tables(session)
    assert written == {"time_entries", "ledger_totals", "ledger_days", "ledger_people"}


@postgres_only
async def test_another_process_write_keeps_the_replies_that_read_none_of_its_tables(
    db_url: str, bot: Harness
) -> None:
    await kickoff(bot)
    await bot.say("ann", 'task add "Wireframes" @ann due:2026-12-10')
    async with two_listening_engines(db_url, bot.clock) as (engine_a, engine_b):
        await engine_a.handle(ann_says("help"))  # the first sight of ann writes her
        for line in ("tasks", "budget"):
            await engine_b.handle(ann_says(line))

        async def answered_from_cache(line: str) -> bool:
            hits = engine_b.metrics.reply_cache_hits._value.get()
            await engine_b.handle(ann_says(line))
            return engine_b.metrics.reply_cache_hits._value.get() > hits

        for write, kept in (
            ("log 2h Wireframes", [True, False]),
            ('task add "Sitemap" @ann due:2026-12-09', [False, True]),
        ):
            assert [await answered_from_cache(line) for line in ("tasks", "budget")] == [True] * 2
            before = engine_b.generations.of("console:local")
            assert "went wrong" not in str(await engine_a.handle(ann_says(write)))
            heard = sync(lambda then=before: engine_b.generations.of("console:local") != then)
            await until(heard, 10, "the notice, sent on commit")
            assert [await answered_from_cache(line) for line in ("tasks", "budget")] == kept
        assert "Sitemap" in str(await engine_b.handle(ann_says("tasks")))


@sqlite_only
async def test_an_engine_whose_statements_are_not_seen_keeps_replies_by_their_projects(
    db_url: str, bot: Harness
) -> None:
    """Sessions on an engine not made by storage.db (no statement told to
    storage.tables_read): a reply's tables are not known, and any write to its project
    makes it stale, as before tables were counted."""
    await kickoff(bot)
    plain = create_async_engine(normalise_url(db_url))
    sessions = async_sessionmaker(plain, expire_on_commit=False, sync_session_class=TrackedSession)
    engine = Engine(sessions=sessions, modules=ALL_MODULES, clock=bot.clock)
    try:
        for _ in range(2):
            await engine.handle(ann_says("tasks"))
        assert "went wrong" not in str(
            await engine.handle(ann_says('task add "Sitemap" @ann due:2026-12-09'))
        )
        assert "Sitemap" in str(await engine.handle(ann_says("tasks")))
    finally:
        await plain.dispose()


async def test_a_write_of_who_is_where_or_through_an_alias_is_the_tenants(bot: Harness) -> None:
    """A Core write said to be of one project's content, to the rows that decide who is
    on which project (or to a table under another name), counts as the whole tenant's."""
    await kickoff(bot)
    async with bot.sessions() as session, session.begin():
        project = await session.scalar(select(Project))
        assert project is not None
        only_its_project = {WRITES_PROJECT: project.id}
        task = Task.__table__
        await session.execute(
            update(task).where(task.c.project_id == -1).values(title="x"),
            execution_options=only_its_project,
        )
        assert touched_projects(session) == {project.id}
        assert touched_tables(session) == {"tasks"}
        for write in (
            update(Membership).where(Membership.project_id == -1).values(role="member"),
            update(task.alias("renamed")).where(text("1 = 0")).values(title="x"),
        ):
            take_wrote(session)
            await session.execute(write, execution_options=only_its_project)
            assert (touched_projects(session), touched_tables(session)) == (None, None), write
