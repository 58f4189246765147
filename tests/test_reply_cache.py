"""The reply cache: a repeated read-only command is answered without the database, and
never with stale data: any write by this process, a write by another process (PostgreSQL
NOTIFY), a new day, or a lost listener makes it compute again. Writers of one tenant take
turns (the tenant's revision), so numbering stays unique under concurrency."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import ModuleType

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from adapters.console.session import Speaker, place_for
from bot.engine import Engine
from bot.messages import Message, Reply, Text
from bot.registry import TEAM, command
from bot.reply_cache import Generations, ReplyCache
from bot.requests import Request
from storage.changes import CHANGES_CHANNEL
from storage.db import create_engine, session_factory
from storage.listen import ChangeListener
from storage.models import Person, Project, Task, Tenant
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
    "outbox", "outbox failed", "projects", "report", "report client", "report internal",
    "status", "requests", "requests open", "risks", "risks all", "changes", "team",
    "blockers", "blockers all", "huddle history", "huddle history days:3", "huddle stats",
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
    assert listed == {bot.engine.registry.find(line.split())[0].name for line in READ_ONLY_LINES}
    for line in READ_ONLY_LINES:
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
    from bot.commands import ALL_MODULES

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
    engine = Engine(sessions=sessions, clock=clock, generations=generations)  # type: ignore[arg-type]
    listener = generations.listen(url)
    await until(sync(lambda: generations.trusted), 10, "the listener to connect")
    return engine, listener


@postgres_only
async def test_another_process_write_reaches_a_cached_status(db_url: str, bot: Harness) -> None:
    await kickoff(bot)
    engine_a, listener_a = await listening_engine(db_url, bot.clock)
    engine_b, listener_b = await listening_engine(db_url, bot.clock)
    try:
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
    finally:
        for listener in (listener_a, listener_b):
            await listener.stop()
        for engine in (engine_a, engine_b):
            await engine.sessions.kw["bind"].dispose()


async def test_concurrent_writers_number_tasks_without_gaps_or_clashes(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    bot = Harness.create(sessions)
    await kickoff(bot)
    other = Engine(sessions=session_factory(create_engine(db_url)), clock=bot.clock)
    try:
        lines = [f'task add "Task {n}" @bob due:2026-12-10' for n in range(12)]
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
        assert revision and revision >= 12
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
        fresh = [Engine(sessions=sessions, clock=bot.clock) for _ in range(2)]
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
