"""Writers of different projects go on side by side on PostgreSQL (bot.engine.engine: a
spec's `turn`): each holds its project's turn, the tenant's shared; the tenant's writers
wait for them all, and they for it, in a fair queue. A project's writer that must write
beyond its project is undone and runs again with the tenant's turn."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from types import ModuleType

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from adapters.console.session import Speaker, place_for
from bot.commands import ALL_MODULES
from bot.engine.context import CommandContext
from bot.engine.engine import Engine
from bot.engine.parsing import Args
from bot.engine.registry import PM, command
from bot.messages import Message, Text
from bot.requests import Request
from storage.changes import share_tenant, take_project_turn, take_revision
from storage.models import Project, Task, Tenant
from tests.conftest import StatementCounter
from tests.harness import Harness
from tests.project_setup import kickoff

postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
pytestmark = postgres_only

WAIT = 0.5  # long enough for a writer that does not wait to be done many times over


def says(who: str, line: str, channel: str) -> Request:
    speaker = Speaker(who)
    return Request(actor=speaker.actor(), place=place_for(speaker, channel), text=line)


async def two_projects(bot: Harness) -> None:
    """Acme Site in `team` (kickoff) and Beta in `beta`, each with a task added by ann, so
    that the engine knows the tenant and ann (a writer it has not met takes the tenant's
    turn, see below)."""
    await kickoff(bot)
    assert "started" in await bot.say("ann", 'project new "Beta" client:"Beta Co"', channel="beta")
    for channel in ("team", "beta"):
        assert "added" in await bot.say("ann", 'task add "First" <@ann> due:fri', channel=channel)


Take = Callable[[AsyncSession, int], Awaitable[object]]


@asynccontextmanager
async def holding(bot: Harness, take: Take, project: str = "Acme Site") -> AsyncIterator[None]:
    """A turn taken (storage.changes: `take(session, tenant or project id)`) in a
    transaction of its own, held open meanwhile: what another process's writer holds."""
    async with bot.sessions() as session:
        await session.begin()
        try:
            ids = (
                await session.execute(
                    select(Project.tenant_id, Project.id).where(Project.name == project)
                )
            ).one()
            await take(session, ids[1] if take is take_project_turn else ids[0])
            yield
        finally:
            await session.rollback()


async def waits(engine: Engine, request: Request) -> asyncio.Task[str]:
    """The request started, checked to be still waiting after WAIT seconds."""
    started = asyncio.create_task(answer(engine, request))
    await asyncio.sleep(WAIT)
    assert not started.done(), await started
    return started


async def answer(engine: Engine, request: Request) -> str:
    reply = await engine.handle(request)
    return "\n".join(m.plain_text() for m in reply.messages)


async def tasks_of(bot: Harness, project: str) -> int:
    async with bot.sessions() as session:
        return (
            await session.scalar(
                select(func.count(Task.id)).join(Project).where(Project.name == project)
            )
            or 0
        )


async def test_a_projects_writer_goes_on_while_another_project_is_written(
    bot: Harness, db: AsyncEngine
) -> None:
    await two_projects(bot)
    acme = says("ann", 'task add "Acme two" <@ann> due:fri', "team")
    beta = says("ann", 'task add "Beta two" <@ann> due:fri', "beta")
    async with holding(bot, take_project_turn):
        # Beta's writer does not wait for Acme's...
        assert "added" in await asyncio.wait_for(answer(bot.engine, beta), 10)
        # ... Acme's next writer does.
        waiting = await waits(bot.engine, acme)
    assert "added" in await asyncio.wait_for(waiting, 10)
    assert await tasks_of(bot, "Acme Site") == 2
    assert await tasks_of(bot, "Beta") == 2


async def test_the_tenants_writers_and_the_projects_writers_wait_for_each_other(
    bot: Harness, db: AsyncEngine
) -> None:
    await two_projects(bot)
    before = await revision(bot)
    beta = says("ann", 'task add "Beta two" <@ann> due:fri', "beta")
    # A writer of the tenant as a whole holds its revision: a project's writer waits.
    async with holding(bot, take_revision):
        waiting = await waits(bot.engine, beta)
    assert "added" in await asyncio.wait_for(waiting, 10)
    # A project's writer holds the tenant shared: another project's writer goes on, and a
    # writer of the tenant as a whole (someone joins a team) waits.
    team_add = says("ann", "team add @dave role:member", "team")
    async with holding(bot, share_tenant):
        assert "added" in await asyncio.wait_for(answer(bot.engine, beta), 10)
        waiting = await waits(bot.engine, team_add)
    assert "dave" in (await asyncio.wait_for(waiting, 10)).lower()
    # The held revision was rolled back; Beta's writers took none; the team's change one.
    assert await revision(bot) == before + 1


async def revision(bot: Harness) -> int:
    async with bot.sessions() as session:
        return int(await session.scalar(select(Tenant.revision)) or 0)


async def test_a_busy_tenants_project_writers_cannot_keep_its_writers_waiting(
    bot: Harness,
) -> None:
    """The turns queue fairly: once the tenant's writer waits (for a project's writer),
    a project's writer arriving after it waits behind it. (With a row lock shared, the
    newcomer went first, and a tenant's writer could wait as long as project writes
    overlapped.)"""
    await two_projects(bot)
    team_add = says("ann", "team add @dave role:member", "team")
    beta = says("ann", 'task add "Beta two" <@ann> due:fri', "beta")
    async with holding(bot, share_tenant):  # a project's writer, in another process
        waiting_tenant = await waits(bot.engine, team_add)
        waiting_project = await waits(bot.engine, beta)  # behind the tenant's writer
    assert "dave" in (await asyncio.wait_for(waiting_tenant, 10)).lower()
    assert "added" in await asyncio.wait_for(waiting_project, 10)


async def test_a_projects_writer_takes_its_projects_turn_not_the_tenants(
    bot: Harness, statements: StatementCounter
) -> None:
    await two_projects(bot)
    statements.reset()
    assert "added" in await bot.say("ann", 'task add "Again" <@ann> due:fri', channel="beta")
    shared = [s for s in statements.statements if "pg_advisory_xact_lock_shared(" in s]
    locked = [s for s in statements.statements if s.endswith("FOR NO KEY UPDATE")]
    assert len(shared) == 1 and len(locked) == 1 and "FROM projects" in locked[0]
    assert statements.statements.index(shared[0]) < statements.statements.index(locked[0])
    assert not [s for s in statements.statements if s.startswith("UPDATE tenants")]


async def test_someone_new_to_remember_runs_again_with_the_tenants_turn(
    bot: Harness, statements: StatementCounter, caplog: pytest.LogCaptureFixture
) -> None:
    """bob logs time from a direct message, the first he has with me: the conversation is
    remembered (the tenant's, not Acme's), so his `log` is undone and runs again with the
    tenant's turn, once."""
    await two_projects(bot)
    statements.reset()
    with caplog.at_level(logging.INFO, logger="liaison.engine"):
        out = await bot.say("bob", 'log 2h "Design"', channel=None)
    assert "Logged 2" in out, out
    assert any("ran again with the tenant's turn" in r.getMessage() for r in caplog.records)
    shared = [s for s in statements.statements if "pg_advisory_xact_lock_shared(" in s]
    revisions = [s for s in statements.statements if s.startswith("UPDATE tenants")]
    assert len(shared) == 1 and len(revisions) == 1
    async with bot.sessions() as session:
        logged = await session.scalar(text("SELECT count(*) FROM time_entries"))
    assert logged == 1


@command("poke", usage="poke", summary="Adds a task to Beta, from anywhere", area="test",
         roles=PM, turn="project")  # fmt: skip
async def poke_beta(ctx: CommandContext, args: Args) -> Message:
    """A command that says it writes its own project only, and writes another's."""
    beta = await ctx.session.scalar(select(Project).where(Project.name == "Beta"))
    assert beta is not None
    task = Task(project_id=beta.id, number=99, title="Poked", status="open", created_at=ctx.now)
    ctx.session.add(task)
    return ctx.say(Text("Poked."))


async def test_a_write_beyond_its_project_runs_again_with_the_tenants_turn(
    bot: Harness, statements: StatementCounter, caplog: pytest.LogCaptureFixture
) -> None:
    await two_projects(bot)
    probe = ModuleType("poking")
    probe.poke_beta = poke_beta  # type: ignore[attr-defined]
    engine = Engine(sessions=bot.sessions, modules=[*ALL_MODULES, probe], clock=bot.clock)
    await answer(engine, says("ann", "status", "team"))  # it meets the tenant and ann
    statements.reset()
    with caplog.at_level(logging.INFO, logger="liaison.engine"):
        assert "Poked." in await answer(engine, says("ann", "poke", "team"))
    assert any("ran again" in r.getMessage() for r in caplog.records)
    assert [s for s in statements.statements if s.startswith("UPDATE tenants")]
    assert await tasks_of(bot, "Beta") == 2  # the first run's task was undone
