"""The composition root's shared part: settings -> database -> engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.engine import Engine
from bot.outbox import Deliverer
from bot.settings import Settings
from storage.db import create_engine, is_sqlite, session_factory
from storage.listen import ChangeListener


@dataclass
class Runtime:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: Engine
    # Filled by each enabled platform's mount function; the outbox delivers through them.
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    listener: ChangeListener | None = None

    def listen_for_changes(self) -> None:
        """On PostgreSQL, hear the other processes' changes, so that the engine's reply
        cache can be trusted (on SQLite this process is the only writer)."""
        if self.listener is not None or is_sqlite(self.settings.database_url):
            return
        self.listener = self.engine.generations.listen(self.settings.database_url)

    async def close(self) -> None:
        if self.listener is not None:
            await self.listener.stop()
            self.listener = None
        await self.db.dispose()


def build_runtime(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    engine = Engine(
        sessions=sessions,
        clock=clock,
        reply_cache=settings.reply_cache,
        public_url=settings.public_url,
    )
    return Runtime(settings, db, sessions, engine)
