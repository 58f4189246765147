"""The request path under load: what a read answered inline writes (nothing), how many
database connections many commands at once use (the pool's, never more), and the memory
of recent delivery ids that stands in for the database's for those reads."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest
from sqlalchemy import event, select
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.engine.identity import Identities
from bot.engine.recent_deliveries import RecentDeliveries
from storage.db import POOL_SIZE, REQUEST_CONNECTIONS
from storage.models import AuditEntry, Person, ProcessedEvent, Task, Tenant
from tests.conftest import StatementCounter
from tests.engine.test_reply_cache import ann_says
from tests.harness import Harness
from tests.project_setup import kickoff

postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def test_a_read_answered_inline_writes_nothing_and_a_write_records_its_delivery(
    bot: Harness, statements: StatementCounter
) -> None:
    await kickoff(bot)
    bot.engine.reply_cache = False
    statements.reset()
    read = replace(ann_says("status"), event_id="trigger-1", reply_inline=True)
    assert (await bot.engine.handle(read)).messages
    written = [s for s in statements.statements if not s.lstrip().startswith(("SELECT", "WITH"))]
    assert written == [], written
    assert not (await bot.engine.handle(read)).messages  # the same delivery again: no reply

    posted = replace(ann_says("status"), event_id="event-2")  # a reply posted, not inline
    write = replace(ann_says('task add "Inline" <@ann> due:fri'), event_id="t3", reply_inline=True)
    for request in (posted, write):
        assert (await bot.engine.handle(request)).messages
        assert not (await bot.engine.handle(request)).messages
    async with bot.sessions() as session:
        recorded = set(await session.scalars(select(ProcessedEvent.event_id)))
    assert recorded == {"event-2", "t3"}


async def test_many_commands_at_once_use_no_more_connections_than_the_pool_keeps(
    bot: Harness, db: AsyncEngine
) -> None:
    """Past the pool's size, a connection is opened for one command and closed after it:
    under load every command would pay for a new connection."""
    await kickoff(bot)
    bot.engine.reply_cache = False
    opened: list[object] = []
    event.listen(db.sync_engine, "connect", lambda connection, _record: opened.append(connection))
    replies = await asyncio.gather(
        *(bot.engine.handle(ann_says("status")) for _ in range(3 * REQUEST_CONNECTIONS))
    )
    assert all(reply.messages and not reply.failed for reply in replies)
    assert len(opened) <= POOL_SIZE
    assert db.sync_engine.pool.checkedout() == 0  # type: ignore[attr-defined]
    assert db.sync_engine.pool.overflow() <= 0  # type: ignore[attr-defined]


async def test_a_failed_read_may_come_again() -> None:
    now = [0.0]
    recent = RecentDeliveries(keep_seconds=300, most=3, clock=lambda: now[0])
    assert recent.first(("slack", "a")) and not recent.first(("slack", "a"))
    recent.forget(("slack", "a"))
    assert recent.first(("slack", "a"))
    now[0] = 301.0  # older than a signature may be: forgotten
    assert recent.first(("slack", "a"))
    for name in "bcd":
        assert recent.first(("slack", name))
    assert recent.first(("slack", "a"))  # the oldest went first when a fourth came


async def test_someone_met_before_reads_without_writing_who_they_are(
    bot: Harness, statements: StatementCounter
) -> None:
    """A process forgets who it met after a while (and knows no one when it starts): a
    person whose stored row says what their request says is read, not written again, so
    a busy workspace's readers do not queue behind its writers."""
    await kickoff(bot)
    bot.engine.reply_cache = False

    async def revision() -> int:
        async with bot.sessions() as session:
            return int(await session.scalar(select(Tenant.revision)) or 0)

    before = await revision()
    bot.engine.identities = Identities()  # as a new process
    statements.reset()
    assert (await bot.engine.handle(ann_says("status"))).messages
    written = [s for s in statements.statements if s.lstrip().startswith(("INSERT", "UPDATE"))]
    assert written == [] and await revision() == before

    renamed = ann_says("status")
    renamed = replace(renamed, actor=replace(renamed.actor, name="Ann Renamed"))
    bot.engine.identities = Identities()
    assert (await bot.engine.handle(renamed)).messages
    assert await revision() == before + 1  # a change of name is a write, in turn
    async with bot.sessions() as session:
        names = set(await session.scalars(select(Person.display_name)))
    assert "Ann Renamed" in names


async def test_on_sqlite_a_write_whose_delivery_is_recorded_takes_no_revision(
    bot: Harness, statements: StatementCounter, db: AsyncEngine
) -> None:
    """Recording the delivery id took SQLite's one write lock, the writer's turn there:
    the revision's statement would add a round trip while every other writer waits. Where
    nothing is recorded first (here the console's request, which has no delivery id), the
    revision is the turn, as ever. (On PostgreSQL ann's task is Acme's content alone: its
    project's turn, never the revision.)"""
    await kickoff(bot)
    on_sqlite = db.dialect.name == "sqlite"
    for event_id, inline in (("posted-1", False), ("inline-2", True), (None, False)):
        line = f'task add "Turn {event_id}" <@ann> due:fri'
        request = replace(ann_says(line), event_id=event_id, reply_inline=inline)
        statements.reset()
        assert "added" in (await bot.engine.handle(request)).messages[0].plain_text()
        writes = [s for s in statements.statements if s.startswith(("INSERT", "UPDATE"))]
        first = "INSERT INTO processed_events" if event_id else "UPDATE tenants"
        if on_sqlite:
            assert writes[0].startswith(first), writes
        elif event_id:  # with its project's change notice, last (see the test below)
            assert not [s for s in writes if "processed_events" in s], writes
            assert "INSERT INTO processed_events" in statements.statements[-1]
        took_revision = any(s.startswith("UPDATE tenants") for s in writes)
        assert took_revision == (on_sqlite and event_id is None), writes


@postgres_only
async def test_a_projects_writer_records_its_delivery_with_its_notice_and_a_repeat_is_undone(
    bot: Harness, statements: StatementCounter
) -> None:
    """On PostgreSQL a project's writer records its delivery id in the statement that
    writes its audit record and change notice, one round trip fewer; the same delivery
    again, one after the other or both at once, runs to there and is rolled back: one
    task, one audit record, one reply."""
    await kickoff(bot)
    again = replace(ann_says('task add "Once" <@ann> due:fri'), event_id="Ev-once")
    statements.reset()
    assert "added" in (await bot.engine.handle(again)).messages[0].plain_text()
    recorded = [s for s in statements.statements if "processed_events" in s]
    assert len(recorded) == 1 and recorded[0].startswith("WITH"), statements.statements
    assert not (await bot.engine.handle(again)).messages
    both = replace(ann_says('task add "Both" <@ann> due:fri'), event_id="Ev-both")
    replies = await asyncio.gather(bot.engine.handle(both), bot.engine.handle(both))
    assert sorted(bool(r.messages) for r in replies) == [False, True], replies
    async with bot.sessions() as session:
        titles = list(await session.scalars(select(Task.title).where(Task.title != "First")))
        audited = list(await session.scalars(select(AuditEntry.line)))
        events = set(await session.scalars(select(ProcessedEvent.event_id)))
    assert sorted(titles) == ["Both", "Once"]
    assert len([line for line in audited if '"Once"' in line or '"Both"' in line]) == 2
    assert events == {"Ev-once", "Ev-both"}


@postgres_only
async def test_a_repeat_that_would_fail_where_the_first_did_not_answers_nothing(
    bot: Harness, statements: StatementCounter
) -> None:
    """A copy of a delivery handled already runs to its change notice before it finds out
    (above): one that fails on the way (the task it closes is closed now) answers nothing
    either. A writer of the tenant as a whole records its delivery id with its notice too:
    every writer takes its turn first and records the id last, one lock order."""
    await kickoff(bot)
    added = await bot.engine.handle(replace(ann_says('task add "Close me" <@ann> due:fri')))
    assert "added" in added.messages[0].plain_text()
    done = replace(ann_says("task done 1"), event_id="Ev-done")
    assert "done" in (await bot.engine.handle(done)).messages[0].plain_text().lower()
    again = await bot.engine.handle(done)
    assert again.messages == () and not again.failed, again
    joins = replace(ann_says("team add @dave role:member"), event_id="Ev-team")
    statements.reset()
    assert "dave" in (await bot.engine.handle(joins)).messages[0].plain_text().lower()
    recorded = [s for s in statements.statements if "processed_events" in s]
    assert len(recorded) == 1 and recorded[0].startswith("WITH"), statements.statements
    assert (await bot.engine.handle(joins)).messages == ()
    async with bot.sessions() as session:
        events = set(await session.scalars(select(ProcessedEvent.event_id)))
    assert events == {"Ev-done", "Ev-team"}
