"""The composition root's shared part: settings -> database -> engine."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from adapters.secret_key import secret_box
from bot.clock import Clock, utc_now
from bot.commands import ALL_MODULES
from bot.delivery.vocabulary import Deliverer
from bot.engine.engine import Engine
from bot.metrics import Metrics
from bot.settings import Settings
from storage.db import create_engine, is_sqlite, session_factory
from storage.listen import ChangeListener
from storage.secrets import SecretBox


@dataclass
class Runtime:
    settings: Settings
    db: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    engine: Engine
    secrets: SecretBox
    # Filled by each enabled platform's mount function; the outbox delivers through them.
    deliverers: dict[str, Deliverer] = field(default_factory=dict)
    listener: ChangeListener | None = None

    @property
    def metrics(self) -> Metrics:
        return self.engine.metrics

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
    secrets = secret_box(settings)  # first: a missing key stops start-up before anything
    db = create_engine(settings.database_url)
    sessions = session_factory(db)
    engine = Engine(
        sessions=sessions,
        modules=ALL_MODULES,
        clock=clock,
        reply_cache=settings.reply_cache,
        metrics=Metrics(),
        public_url=settings.public_url,
        secrets=secrets,
    )
    return Runtime(settings, db, sessions, engine, secrets)
