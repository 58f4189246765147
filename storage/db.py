"""Engine, session factory and migrations, built from one database URL."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.changes import TrackedSession
from storage.reading import refuse_writes_while_reading
from storage.sqlite_driver import one_trip_dbapi
from storage.tables_read import count_tables_read

DEFAULT_URL = "sqlite+aiosqlite:///./liaison.db"
# Database connections a process keeps open. Commands take at most REQUEST_CONNECTIONS of
# them at once (bot.engine.Engine) and wait for one beyond that: a connection opened past
# the pool's size is closed again when given back, so under load every command would pay
# for a new connection and its statements' preparation (status at 32 clients: ~120 req/s
# instead of ~200; bench/). The rest serve the scheduler, delivery and LISTEN.
POOL_SIZE = 20
REQUEST_CONNECTIONS = 16
# A pooled connection unused for longer is checked before use (see _ping_when_quiet).
QUIET_SECONDS = 1.0
LAST_USED = "liaison_last_used"
MIGRATIONS = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Accept the URLs people paste (postgres://, sqlite:///) and pick the async driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+asyncpg://" + url[len("postgresql://") :]
    if url.startswith("sqlite://"):
        url = "sqlite+aiosqlite://" + url[len("sqlite://") :]
    return url


def is_sqlite(url: str) -> bool:
    return make_url(normalise_url(url)).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    url = normalise_url(url)
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", 10)
    if is_sqlite(url):
        kwargs.setdefault("module", one_trip_dbapi())  # see storage.sqlite_driver
        engine = create_async_engine(url, connect_args={"timeout": 30}, **kwargs)
        _tune_sqlite(engine)
        count_tables_read(engine)
        return engine
    engine = create_async_engine(url, **kwargs)
    count_tables_read(engine)
    _ping_when_quiet(engine)
    refuse_writes_while_reading(engine)
    return engine


def _ping_when_quiet(engine: AsyncEngine) -> None:
    """Before a pooled connection is used, ask the server whether it is still there, unless
    it was in use moments ago: a server restarted meanwhile costs a new connection, not a
    failed command. (SQLAlchemy's pool_pre_ping asks every time: one more round trip on
    each command, about a tenth of a status's.)"""
    pool = engine.sync_engine

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def _last_used(_dbapi_connection: Any, record: Any) -> None:
        record.info[LAST_USED] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def _ping(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get(LAST_USED, 0.0) < QUIET_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # whatever a dead connection raises
            raise DisconnectionError("the pooled connection is gone") from error


def _tune_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # WAL lets readers run beside the one writer; the busy timeout makes writers queue.
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    # TrackedSession records whether a session wrote (storage.changes).
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    return config


def migrate(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision`. Runs Alembic's async env in its own event loop."""
    command.upgrade(alembic_config(url), revision)


async def migrate_async(url: str, revision: str = "head") -> None:
    await asyncio.to_thread(migrate, url, revision)
