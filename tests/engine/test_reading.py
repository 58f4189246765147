"""Reads without a transaction on PostgreSQL (storage.reading): a command that only reads
sends no BEGIN and no COMMIT; one that would write after all (someone new to remember)
starts again in a transaction and writes as ever; a command that writes keeps its
transaction; and a session begun for reading refuses, before sending it, any statement
that would write."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import asyncpg.transaction
import pytest
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.engine.identity import Identities
from storage.models import Person, Tenant
from storage.reading import WouldWrite, read_without_transaction
from tests.engine.test_remembered import asks, remembered_team
from tests.engine.test_reply_cache import postgres_only, sqlite_only
from tests.harness import Harness


class Begins:
    """Counts the transactions asyncpg starts (each a BEGIN round trip)."""

    count = 0


@pytest.fixture
def begins(monkeypatch: pytest.MonkeyPatch) -> Iterator[type[Begins]]:
    start = asyncpg.transaction.Transaction.start

    async def counted(self: asyncpg.transaction.Transaction) -> None:
        Begins.count += 1
        await start(self)

    Begins.count = 0
    monkeypatch.setattr(asyncpg.transaction.Transaction, "start", counted)
    yield Begins


async def _begins_for(bot: Harness, begins: type[Begins], who: str, line: str) -> int:
    begins.count = 0
    reply = await bot.engine.handle(asks(who, line))
    assert reply.messages, reply
    return begins.count


@postgres_only
async def test_a_read_sends_no_begin_and_a_write_keeps_its_transaction(
    bot: Harness, begins: type[Begins]
) -> None:
    await remembered_team(bot)
    for line in ("status", "tasks", "risks", "budget", "waiting"):
        assert await _begins_for(bot, begins, "bob", line) == 0, line
    assert await _begins_for(bot, begins, "ann", 'task add "Brief" @bob due:friday') == 1
    assert "Brief" in await bot.say("bob", "tasks")


@postgres_only
async def test_someone_changed_asking_is_written_in_a_transaction_started_again(
    bot: Harness, begins: type[Begins]
) -> None:
    await remembered_team(bot)
    bot.engine.identities = Identities()  # as a new process
    renamed = asks("bob", "status")
    renamed = replace(renamed, actor=replace(renamed.actor, name="Robert"))
    # Bob's new name is a write: his read starts again in a transaction, which writes it.
    begins.count = 0
    reply = await bot.engine.handle(renamed)
    assert "Acme Site: status" in str(reply.messages) and begins.count == 1
    async with bot.sessions() as session:
        stored = await session.scalar(
            select(Person.display_name).where(Person.external_id == "bob")
        )
    assert stored == "Robert"
    # As stored now: nothing to write, no transaction.
    begins.count = 0
    assert "Acme Site: status" in str((await bot.engine.handle(renamed)).messages)
    assert begins.count == 0


@postgres_only
async def test_a_session_begun_for_reading_refuses_every_write_before_sending_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 0
    writes = [
        insert(Tenant).values(platform="slack", external_id="T9", name="x", created_at=func.now()),
        text("UPDATE tenants SET revision = revision + 1"),
        text("WITH made AS (INSERT INTO tenants (platform, external_id, created_at) "
             "VALUES ('slack', 'T8', now()) RETURNING id) SELECT id FROM made"),
    ]  # fmt: skip
    for write in writes:
        async with sessions() as session, session.begin():
            assert await read_without_transaction(session)
            assert await session.scalar(select(func.count()).select_from(Tenant)) == 0
            with pytest.raises(WouldWrite):
                await session.execute(write)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Tenant)) == 0


@sqlite_only
async def test_sqlite_reads_in_its_transaction_as_before(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        assert not await read_without_transaction(session)
        await session.execute(
            insert(Tenant).values(platform="slack", external_id="T9", created_at=func.now())
        )
