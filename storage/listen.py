"""Hearing other processes' changes: a PostgreSQL LISTEN connection kept open.

`ChangeListener` calls `on_change(payload)` for every notice on a channel. Notices sent
while it is not connected are lost, so it calls `on_gap()` whenever it might have missed
one (before the first connection and whenever the connection ends) and `on_listening()`
once it hears again; whoever relies on the notices must distrust what it knows between
the two. It reconnects by itself, backing off up to 30 seconds between tries."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from tenacity import AsyncRetrying, wait_exponential

log = logging.getLogger("liaison.storage")
PING_SECONDS = 30.0


def asyncpg_dsn(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as a libpq DSN for asyncpg (whose DSN says `sslmode`
    where SQLAlchemy's asyncpg URLs say `ssl`)."""
    parsed = make_url(url).set(drivername="postgresql")
    query = dict(parsed.query)
    if "ssl" in query:
        query["sslmode"] = query.pop("ssl")
    return parsed.set(query=query).render_as_string(hide_password=False)


class ChangeListener:
    def __init__(
        self,
        url: str,
        channel: str,
        *,
        on_change: Callable[[str], None],
        on_gap: Callable[[], None],
        on_listening: Callable[[], None],
    ) -> None:
        self.dsn = asyncpg_dsn(url)
        self.channel = channel
        self.on_change, self.on_gap, self.on_listening = on_change, on_gap, on_listening
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.on_gap()
        self._task = asyncio.create_task(self._keep_listening(), name="change-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        self.on_gap()

    async def _keep_listening(self) -> None:
        while True:
            # Backing off starts afresh after every connection that was up.
            retrying = AsyncRetrying(wait=wait_exponential(multiplier=0.2, max=30), reraise=True)
            async for attempt in retrying:
                with attempt:
                    connection = await self._connect()
            await self._listen(connection)

    async def _connect(self) -> asyncpg.Connection:
        try:
            return await asyncpg.connect(self.dsn, timeout=10)
        except (TimeoutError, OSError, asyncpg.PostgresError) as error:
            log.warning("change listener cannot connect: %s", type(error).__name__)
            raise

    async def _listen(self, connection: asyncpg.Connection) -> None:
        """Listen until the connection ends, or stops answering (a silently dropped
        connection would otherwise go unnoticed while notices are lost)."""
        ended = asyncio.Event()
        try:
            connection.add_termination_listener(lambda _connection: ended.set())
            await connection.add_listener(self.channel, self._heard)
            self.on_listening()
            log.info("listening for changes on %s", self.channel)
            while not ended.is_set():
                try:
                    await asyncio.wait_for(ended.wait(), timeout=PING_SECONDS)
                except TimeoutError:
                    await asyncio.wait_for(connection.fetchval("SELECT 1"), timeout=10)
        except Exception as error:  # whatever ended it, listen again on a new connection
            log.warning("change listener lost its connection: %s", type(error).__name__)
        finally:
            self.on_gap()
            if not connection.is_closed():
                connection.terminate()

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: str) -> None:
        self.on_change(payload)
