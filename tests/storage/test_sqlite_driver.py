"""SQLite statements make one trip to aiosqlite's thread each (storage.sqlite_driver), and
behave as SQLAlchemy's own aiosqlite driver's do."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.db import create_engine, session_factory
from storage.sqlite_driver import OneTripDBAPI


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(f"sqlite:///{tmp_path / 'trips.db'}")
    async with engine.begin() as connection:
        await connection.execute(
            text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE, n INTEGER)")
        )
    yield engine
    await engine.dispose()


class Trips:
    """Counts the functions queued to aiosqlite connections' threads."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        import aiosqlite.core

        self.count = 0
        queue_call = aiosqlite.core.Connection._execute

        async def counted(connection: Any, fn: Any, *args: Any, **kwargs: Any) -> Any:
            self.count += 1
            return await queue_call(connection, fn, *args, **kwargs)

        monkeypatch.setattr(aiosqlite.core.Connection, "_execute", counted)


def test_sqlite_engines_use_the_one_trip_driver(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert isinstance(engine.dialect.dbapi, OneTripDBAPI)


async def test_a_statement_is_one_trip_and_a_commit_another(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session:  # a pooled connection first, so it is not counted
        await session.execute(text("SELECT 1"))
    trips = Trips(monkeypatch)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO t (v, n) VALUES ('a', 1)"))
        assert (await session.execute(text("SELECT v, n FROM t"))).all() == [("a", 1)]
        await session.execute(text("UPDATE t SET n = n + 1"))
    # SQLAlchemy's aiosqlite adapter: a cursor, execute, fetch, close each (about 12 + 1).
    assert trips.count == 3 + 1


async def test_rows_counts_and_ids_are_those_of_the_statement(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        inserted = await connection.execute(text("INSERT INTO t (v, n) VALUES ('a', 1)"))
        assert inserted.lastrowid == 1 and inserted.rowcount == 1
        await connection.execute(
            text("INSERT INTO t (v, n) VALUES (:v, :n)"), [{"v": "b", "n": 2}, {"v": "c", "n": 3}]
        )
        updated = await connection.execute(text("UPDATE t SET n = n * 10 WHERE n > 1"))
        assert updated.rowcount == 2
        returned = await connection.execute(
            text("UPDATE t SET n = n + 1 WHERE n >= 20 RETURNING v, n")
        )
        assert sorted(returned.all()) == [("b", 21), ("c", 31)]
        nothing = await connection.execute(text("SELECT v FROM t WHERE n < 0"))
        assert nothing.all() == [] and nothing.keys() == ["v"]


async def test_a_failed_statement_raises_sqlalchemys_error_and_rolls_back(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    async with sessions() as session, session.begin():
        await session.execute(text("INSERT INTO t (v, n) VALUES ('a', 1)"))
    with pytest.raises(IntegrityError):
        async with sessions() as session, session.begin():
            await session.execute(text("INSERT INTO t (v, n) VALUES ('b', 2)"))
            await session.execute(text("INSERT INTO t (v, n) VALUES ('a', 3)"))
    async with sessions() as session:
        assert (await session.execute(text("SELECT v FROM t"))).scalars().all() == ["a"]


async def test_streamed_results_still_come_in_parts(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.execute(
            text("INSERT INTO t (v, n) VALUES (:v, :n)"),
            [{"v": str(i), "n": i} for i in range(250)],
        )
    async with engine.connect() as connection:
        result = await connection.stream(text("SELECT n FROM t ORDER BY n"))
        parts = [len(part) async for part in result.partitions(100)]
    assert parts == [100, 100, 50]
