"""insert_many (COPY on PostgreSQL) and the column types it binds through: values arrive
as an INSERT would store them, a clash fails like an INSERT's, defaults apply, and the
statement is visible to whoever counts statements."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.bulk import insert_many
from storage.models import Delivery, OccurrenceClaim, SerialisedJSON
from tests.conftest import StatementCounter

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
MESSAGE = {"audience": "internal", "visibility": "public", "blocks": [{"type": "Text"}]}


def claim(key: str, due_at: datetime = NOW) -> dict:
    return {
        "key": key,
        "project_id": None,
        "due_at": due_at,
        "claimed_at": NOW,
        "outcome": "queued",
    }


def delivery(message: object) -> dict:
    return {
        "project_id": None,
        "platform": "slack",
        "tenant": "T1",
        "channel_id": "C1",
        "target_kind": "channel",
        "audience": "internal",
        "message": message,
        "occurrence_key": None,
        "thread_of": None,
        "next_attempt_at": NOW,
        "created_at": NOW,
    }  # status and attempts left out: their defaults apply


async def test_rows_arrive_as_an_insert_stores_them(
    sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    berlin = timezone(timedelta(hours=1))
    shared = SerialisedJSON.of(MESSAGE)
    async with sessions() as session, session.begin():
        await insert_many(
            session,
            OccurrenceClaim.__table__,
            [claim("a"), claim("b", NOW.astimezone(berlin) + timedelta(minutes=5))],
        )
        await insert_many(session, Delivery.__table__, [delivery(shared), delivery(MESSAGE)])
    assert sum("occurrence_claims" in s for s in statements.statements) == 1
    assert sum("deliveries" in s for s in statements.statements) == 1
    async with sessions() as session:
        due = dict(
            (await session.execute(select(OccurrenceClaim.key, OccurrenceClaim.due_at))).all()
        )
        rows = (await session.scalars(select(Delivery))).all()
    assert due == {"a": NOW, "b": NOW + timedelta(minutes=5)}
    assert [(r.message, r.status, r.attempts) for r in rows] == [(MESSAGE, "pending", 0)] * 2


async def test_a_clash_fails_the_transaction_like_an_insert(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions() as session, session.begin():
        await insert_many(session, OccurrenceClaim.__table__, [claim("taken")])
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await insert_many(session, Delivery.__table__, [delivery(MESSAGE)])
            await insert_many(session, OccurrenceClaim.__table__, [claim("new"), claim("taken")])
    async with sessions() as session:
        keys = list(await session.scalars(select(OccurrenceClaim.key)))
        assert keys == ["taken"]
        assert (await session.scalars(select(Delivery))).all() == []


async def test_a_naive_datetime_is_refused_every_time(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    for _ in range(2):  # the converter remembers results: never a refusal's
        with pytest.raises((ValueError, StatementError)):
            async with sessions() as session, session.begin():
                naive = claim("naive", NOW.replace(tzinfo=None))
                await insert_many(session, OccurrenceClaim.__table__, [naive])


async def test_replies_are_found_by_an_index_so_deleting_outbox_rows_stays_linear(
    sessions: async_sessionmaker[AsyncSession], db_url: str
) -> None:
    """Deleting a row makes the database look for replies under it (the foreign key):
    without an index, each deleted row reads the whole outbox."""
    lookup = "SELECT 1 FROM deliveries WHERE thread_of = 1"
    async with sessions() as session, session.begin():
        if db_url.startswith("sqlite"):
            plan = (await session.execute(text(f"EXPLAIN QUERY PLAN {lookup}"))).all()
        else:
            await session.execute(text("SET LOCAL enable_seqscan = off"))
            plan = (await session.execute(text(f"EXPLAIN {lookup}"))).all()
    assert "ix_deliveries_thread_of" in str(plan)


def test_a_serialised_document_reads_back_as_it_was() -> None:
    document = {
        "blocks": [{"type": "Text", "text": 'Café ☕ <!channel> "quoted"\n'}],
        "odd": "\ud800",  # not valid Unicode: still written, as the standard library would
    }
    assert json.loads(SerialisedJSON.of(document).text) == document
