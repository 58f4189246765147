"""The composition root's shared part: settings -> database -> engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock, utc_now
from bot.engine import Engine
from bot.outbox import Deliverer
from bot.settings import Settings
from storage.db import create_engine, session_factory


@dataclass
class Runtime:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: Engine
    # Filled by each enabled platform's mount function; the outbox delivers through them.
    deliverers: dict[str, Deliverer] = field(default_factory=dict)

    async def close(self) -> None:
        await self.db.dispose()


def build_runtime(settings: Settings, *, clock: Clock = utc_now) -> Runtime:
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    return Runtime(settings, db, sessions, Engine(sessions=sessions, clock=clock))
