"""Pooled PostgreSQL connections: one the server dropped is replaced before a command uses
it; one in use moments ago is used without asking the server first (a round trip saved on
every command under load)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

import storage.db
from storage.db import create_engine

postgres_only = pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)


async def _backend_of(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT pg_backend_pid()")))


@postgres_only
async def test_a_pooled_connection_the_server_dropped_is_replaced_before_use(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, admin = create_engine(db_url), create_engine(db_url)
    try:
        dropped = await _backend_of(engine)
        async with admin.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": dropped})
        monkeypatch.setattr(storage.db, "QUIET_SECONDS", 0.0)  # as if unused for a while
        assert await _backend_of(engine) != dropped
    finally:
        await engine.dispose()
        await admin.dispose()


@postgres_only
async def test_a_connection_used_moments_ago_is_not_pinged(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(db_url)
    pings: list[object] = []
    ping = engine.dialect.do_ping
    monkeypatch.setattr(engine.dialect, "do_ping", lambda c: pings.append(c) or ping(c))
    try:
        first = await _backend_of(engine)
        assert await _backend_of(engine) == first and pings == []
        monkeypatch.setattr(storage.db, "QUIET_SECONDS", 0.0)
        assert await _backend_of(engine) == first and len(pings) == 1
    finally:
        await engine.dispose()
