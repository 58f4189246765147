"""Who asks and where, remembered for a read-only command asked again (bot.engine.remembered):
fewer statements while nothing they were read from changed, and never a decision taken on
rows that did change."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace

from sqlalchemy import delete, select, update

from adapters.console.session import Speaker, place_for
from bot.engine.engine import Engine
from bot.engine.identity import Identities
from bot.requests import Request
from storage.changes import take_revision
from storage.models import Membership, Tenant, TimeEntry
from tests.conftest import StatementCounter, _listening
from tests.engine.test_reply_cache import (
    BETA,
    postgres_only,
    sqlite_only,
    statements_for,
    sync,
    two_listening_engines,
)
from tests.harness import Harness
from tests.project_setup import kickoff
from tests.system_cluster import until


def asks(who: str, line: str, channel: str = "team") -> Request:
    speaker = Speaker(who)
    return Request(actor=speaker.actor(), place=place_for(speaker, channel), text=line)


async def remembered_team(bot: Harness) -> None:
    """Acme (ann PM, bob member) in `team`, Beta in `beta`; the reply cache off, so that
    every read computes and only who and where may be remembered."""
    await kickoff(bot)
    await bot.say("ann", BETA, channel="beta")
    bot.engine.reply_cache = False


@sqlite_only
async def test_a_read_asked_again_reads_only_what_it_shows(
    bot: Harness, statements: StatementCounter
) -> None:
    await remembered_team(bot)
    # Who asks (the tenant, bob as stored) with the channel's project and bob's membership
    # in one statement, the status.
    assert await statements_for(bot, statements, asks("bob", "status")) == 2
    assert await statements_for(bot, statements, asks("bob", "status")) == 1
    assert await statements_for(bot, statements, asks("bob", "risks")) == 1
    # Another person, or the same one in another channel, is read afresh (ann's tenant and
    # person rows with the channel's link in one statement: the identities she wrote are
    # remembered by id).
    assert await statements_for(bot, statements, asks("ann", "status")) == 2
    assert await statements_for(bot, statements, asks("ann", "status", "beta")) == 2


async def test_someone_this_process_does_not_remember_is_read_with_where_they_ask(
    bot: Harness, statements: StatementCounter
) -> None:
    """A process meets a busy workspace's people anew (at its start, and after a while):
    in a tenant it remembers, the person as stored, how the tenant met them and the
    channel's link with their membership come back in one statement, nothing is written,
    and the membership decides as ever: someone never met here is written and refused."""
    await remembered_team(bot)
    bot.engine.identities = Identities()  # as a new process
    await bot.engine.handle(asks("ann", "status"))  # meets the tenant again
    # Was 4: the tenant, bob as stored, the channel's project with bob's membership.
    assert await statements_for(bot, statements, asks("bob", "status")) == 2
    assert not [s for s in statements.statements if s.lstrip().startswith(("INSERT", "UPDATE"))]
    refused = await bot.engine.handle(asks("bob", "status", "beta"))  # not on Beta
    assert refused.failed and "ask the project's PM" in str(refused.messages), refused
    statements.reset()
    stranger = await bot.engine.handle(asks("dave", "status"))
    assert any(s.startswith("INSERT INTO people") for s in statements.statements)
    assert stranger.failed and "ask the project's PM" in str(stranger.messages), stranger
    assert "Acme Site: status" in str((await bot.engine.handle(asks("bob", "status"))).messages)


@sqlite_only
async def test_a_change_to_a_projects_own_row_is_read_afresh_everywhere_in_the_tenant(
    bot: Harness, statements: StatementCounter
) -> None:
    """A project's own row (its budget, name, dates, whether closed) is read with who and
    where: a change to it is the whole tenant's (storage.changes.WHO_AND_WHERE)."""
    await remembered_team(bot)
    for request in (asks("ann", "status"), asks("ann", "status", "beta")):
        await bot.engine.handle(request)
    await bot.say("ann", "budget set 80k")  # Acme's project row itself
    assert await statements_for(bot, statements, asks("ann", "status")) == 2
    assert "80,000" in await bot.say("ann", "budget")
    assert await statements_for(bot, statements, asks("ann", "status", "beta")) == 2


@sqlite_only
async def test_a_change_to_a_projects_content_keeps_who_and_where_remembered(
    bot: Harness, statements: StatementCounter
) -> None:
    """A task added, time logged, money spent: the project's content changed, not who
    asks nor where, nor the project's own row. The next read there reads only what it
    shows (in a busy workspace every project's content changes every few seconds), and
    shows the change."""
    await remembered_team(bot)
    await bot.engine.handle(asks("bob", "tasks"))
    assert await statements_for(bot, statements, asks("bob", "tasks")) == 1
    await bot.say("ann", 'task add "Sitemap" @bob due:2026-12-10')
    await bot.say("bob", 'log 2h "Sitemap"')
    assert await statements_for(bot, statements, asks("bob", "tasks")) == 1
    assert "Sitemap" in str((await bot.engine.handle(asks("bob", "tasks"))).messages)
    await bot.say("ann", "team remove @bob")  # who is on what: the tenant's
    refused = await bot.engine.handle(asks("bob", "tasks"))
    assert refused.failed and "ask the project's PM" in str(refused.messages), refused


@sqlite_only
async def test_a_writer_leaves_who_and_where_remembered_for_the_persons_next_read(
    bot: Harness, statements: StatementCounter
) -> None:
    """Someone who logged time (their project's content) reads next with who and where
    as the write read them; a change to the tenant as a whole leaves nothing of them."""
    await remembered_team(bot)
    logged = await bot.engine.handle(asks("bob", 'log 2h "Sitemap"'))
    assert not logged.failed, logged
    assert await statements_for(bot, statements, asks("bob", "status")) == 1
    await bot.say("ann", "team add @bob role:member rate:120/h")  # who is on what
    assert await statements_for(bot, statements, asks("bob", "status")) == 2
    await bot.say("ann", "team remove @bob")
    refused = await bot.engine.handle(asks("bob", 'log 1h "Sitemap"'))
    assert refused.failed, refused


@sqlite_only
async def test_a_yes_runs_the_offered_read_with_who_and_where_as_remembered(bot: Harness) -> None:
    """Taking the offer is bookkeeping (like a delivery id): the read it runs, with who and
    where remembered from ann's write there, is a read like any other."""
    await kickoff(bot)
    assert "Task 1 added" in await bot.say("ann", 'task add "Homepage" @bob due:2027-01-05')
    assert "Did you mean `status`?" in await bot.say("ann", "stauts")
    assert "Acme Site: status" in await bot.say("ann", "yes")


@sqlite_only
async def test_someone_taken_off_the_team_is_refused_at_once(bot: Harness) -> None:
    """The membership decides who may read: a change to who is on which project is a
    change to the whole tenant, and nothing remembered before it is used after it."""
    await remembered_team(bot)
    assert "Acme Site: status" in await bot.say("bob", "status")
    await bot.say("ann", "team remove @bob")
    out = await bot.say("bob", "status")
    assert "Acme Site: status" not in out and "ask the project's PM" in out, out


@sqlite_only
async def test_a_person_who_changed_is_written_and_nothing_read_before_is_kept(
    bot: Harness, statements: StatementCounter
) -> None:
    """A reader that writes who asks (a new name here) takes the tenant's revision: the
    next read reads who and where after that write rather than remembering them from
    before it; the one after that remembers."""
    await remembered_team(bot)
    await bot.engine.handle(asks("bob", "status"))
    renamed = asks("bob", "status")
    renamed = replace(renamed, actor=replace(renamed.actor, name="Robert"))
    # Who and where in one, the revision, the person and how we met them, the status.
    assert await statements_for(bot, statements, renamed) == 5
    assert any(s.startswith("INSERT INTO people") for s in statements.statements)
    assert await statements_for(bot, statements, renamed) == 2
    assert await statements_for(bot, statements, renamed) == 1


@sqlite_only
async def test_what_no_notice_tells_is_read_again_after_the_age_limit(bot: Harness) -> None:
    """A write from outside the engine (here, a membership deleted by hand) tells no one:
    remembered rows are used only while younger than the reply cache's age limit."""
    await remembered_team(bot)
    assert "Acme Site: status" in await bot.say("bob", "status")
    async with bot.sessions() as session, session.begin():
        await session.execute(delete(Membership).where(Membership.role == "member"))
    bot.engine.places.max_age = 0.0
    assert "ask the project's PM" in await bot.say("bob", "status")


@postgres_only
async def test_another_process_taking_someone_off_the_team_is_heard_at_once(
    db_url: str, bot: Harness
) -> None:
    """Two processes on PostgreSQL: what one remembers about bob gives way as soon as it
    hears that the other took him off the team (the reply cache's notices)."""
    await kickoff(bot)
    async with two_listening_engines(db_url, bot.clock) as (engine_a, engine_b):
        engine_b.reply_cache = False
        for _ in range(2):  # the first sight of bob in this process, then remembered
            reply = await engine_b.handle(asks("bob", "status"))
            assert not reply.failed, reply
        kept = engine_b.generations.of("console:local")
        assert not (await engine_a.handle(asks("ann", "team remove @bob"))).failed
        changed = sync(lambda: engine_b.generations.of("console:local") != kept)
        await until(changed, 10, "the notice, sent on commit")
        reply = await engine_b.handle(asks("bob", "status"))
        assert reply.failed and "ask the project's PM" in str(reply), reply


@postgres_only
async def test_another_process_adding_a_task_keeps_who_and_where_remembered(
    db_url: str, bot: Harness
) -> None:
    """Two processes on PostgreSQL: a notice of a change to a project's content (a task
    added in the other process) does not make this one read who asks and where again;
    the read shows the task."""
    await kickoff(bot)
    async with (
        two_listening_engines(db_url, bot.clock) as (engine_a, engine_b),
        counted_once_bob_is_remembered(engine_b) as counted,
    ):
        assert not (await engine_b.handle(asks("bob", "tasks"))).failed
        reads_alone = counted.count
        kept = engine_b.generations.of("console:local")
        added = await engine_a.handle(asks("ann", 'task add "Sitemap" @bob due:2026-12-10'))
        assert not added.failed, added
        changed = sync(lambda: engine_b.generations.of("console:local") != kept)
        await until(changed, 10, "the notice, sent on commit")
        counted.reset()
        reply = await engine_b.handle(asks("bob", "tasks"))
        assert "Sitemap" in str(reply.messages), reply
        assert counted.count == reads_alone, counted.statements


@postgres_only
async def test_a_projects_writer_uses_who_and_where_kept_at_the_tenants_revision(
    db_url: str, bot: Harness
) -> None:
    """A writer of one project's content (time logged) holds its tenant shared and reads
    the tenant's row with it: who asks and where, kept by bob's read there, are used if
    they were read at the revision the tenant has now, one statement fewer. A change to
    the tenant as a whole whose notice has not arrived (here, made by hand with its
    revision, as another process's commit is before its notice is heard) is read afresh,
    and bob, taken off the team, is refused."""
    await kickoff(bot)
    async with (
        two_listening_engines(db_url, bot.clock) as (_engine_a, engine_b),
        counted_once_bob_is_remembered(engine_b) as counted,
    ):
        logged = await engine_b.handle(asks("bob", 'log 2h "Sitemap"'))
        assert "Logged 2" in str(logged.messages), logged
        assert not [s for s in counted.statements if _reads_who_and_where(s)], counted
        kept = engine_b.generations.of("console:local")
        async with bot.sessions() as session, session.begin():
            await session.execute(update(Tenant).values(revision=Tenant.revision + 1))
            await session.execute(delete(Membership).where(Membership.role == "member"))
        assert engine_b.generations.of("console:local") == kept  # nothing heard
        counted.reset()
        refused = await engine_b.handle(asks("bob", 'log 1h "Sitemap"'))
        assert refused.failed and "ask the project's PM" in str(refused.messages), refused
        assert [s for s in counted.statements if _reads_who_and_where(s)], counted
    async with bot.sessions() as session:
        hours = await session.scalars(select(TimeEntry.hours))
        assert [float(h) for h in hours] == [2.0]


@postgres_only
async def test_a_projects_writer_that_waited_for_the_tenants_writer_reads_what_it_changed(
    db_url: str, bot: Harness
) -> None:
    """bob's `log`, kept who and where by his reads, waits for a writer of the tenant as a
    whole (in another process) that takes him off the team and commits meanwhile. The
    tenant's row came back with his turn as of before the wait (a statement's snapshot
    is taken when it starts), at the revision bob's rows were kept at; the project's turn,
    had after it, reads the tenant's revision anew: bob's rows are read again and he is
    refused."""
    await kickoff(bot)
    async with (
        two_listening_engines(db_url, bot.clock) as (_engine_a, engine_b),
        counted_once_bob_is_remembered(engine_b),
    ):
        logged = await engine_b.handle(asks("bob", 'log 2h "Sitemap"'))
        assert "Logged 2" in str(logged.messages), logged
        async with bot.sessions() as writer, writer.begin():
            tenant_id = await writer.scalar(select(Tenant.id))
            assert await take_revision(writer, tenant_id or 0) is not None
            await writer.execute(delete(Membership).where(Membership.role == "member"))
            waiting = asyncio.create_task(engine_b.handle(asks("bob", 'log 1h "Sitemap"')))
            await asyncio.sleep(0.5)
            assert not waiting.done()  # for the tenant's writer
        refused = await asyncio.wait_for(waiting, 10)
        assert refused.failed and "ask the project's PM" in str(refused.messages), refused
    async with bot.sessions() as session:
        hours = await session.scalars(select(TimeEntry.hours))
        assert [float(h) for h in hours] == [2.0]


def _reads_who_and_where(statement: str) -> bool:
    """The statement that reads who asks with the channel's link, project and membership
    (bot.engine.engine `_who_and_where`)."""
    return "FROM tenants" in statement and "channel_links" in statement


@asynccontextmanager
async def counted_once_bob_is_remembered(engine: Engine) -> AsyncIterator[StatementCounter]:
    """The statements `engine` runs, counted from when it remembers who bob is and where
    (his `tasks` there read twice, the reply cache off: every read computes)."""
    counted = StatementCounter()
    with _listening(engine.sessions.kw["bind"].sync_engine, "before_cursor_execute", counted):
        engine.reply_cache = False
        for _ in range(2):  # the first sight of bob in this process, then remembered
            assert not (await engine.handle(asks("bob", "tasks"))).failed
        counted.reset()
        yield counted
