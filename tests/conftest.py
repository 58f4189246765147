"""Every database test runs on SQLite and on PostgreSQL (required under CI=true)."""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings
from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import ORMExecuteState

from storage.changes import TrackedSession
from storage.db import create_engine, migrate, session_factory
from storage.models import Base
from storage.slack_tables import slack_metadata
from tests.harness import Harness
from tests.processes import TEST_SECRET_KEY

PG_URL = os.environ.get(
    "LIAISON_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
# Every runtime built in-process seals stored tokens with the suite's key.
os.environ.setdefault("LIAISON_SECRET_KEY", TEST_SECRET_KEY)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# Under CI the property tests draw the same examples every run: a red build is reproducible.
settings.register_profile("ci", derandomize=True, print_blob=True)
if IN_CI:
    settings.load_profile("ci")


def _pg_admin_url() -> str:
    return PG_URL


async def _pg_execute(url: str, *statements: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT", poolclass=None)
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def pg_template_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test run, migrated once, dropped at the end."""
    name = f"liaison_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    base = PG_URL.rsplit("/", 1)[0]
    try:
        asyncio.run(_pg_execute(PG_URL, f'CREATE DATABASE "{name}"'))
    except Exception as error:
        message = f"PostgreSQL at {PG_URL} is not reachable: {error}"
        if IN_CI:
            pytest.fail(message + " (required under CI=true)")
        pytest.skip(message)
    url = f"{base}/{name}"
    migrate(url)
    yield url
    asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "liaison.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite+aiosqlite:///{path}"
    url = request.getfixturevalue("pg_template_url")
    all_tables = [*Base.metadata.sorted_tables, *slack_metadata().sorted_tables]
    tables = ", ".join(f'"{t.name}"' for t in all_tables)
    asyncio.run(_pg_execute(url, f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    return url


@pytest.fixture
async def db(db_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(db_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(db: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(db)


@pytest.fixture
def bot(sessions: async_sessionmaker[AsyncSession]) -> Harness:
    return Harness.create(sessions)


class StatementCounter:
    def __init__(self) -> None:
        self.count = 0
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        self.count += 1
        self.statements.append(statement)

    def reset(self) -> None:
        self.count = 0
        self.statements.clear()


class ExecutedStatements(list[Any]):
    """The statement objects (not their SQL) the engine was given, in order: a statement
    built once is the same object each time it runs."""

    def __call__(self, _conn: object, clause: object, *_: object) -> None:
        self.append(clause)

    def matching(self, text: str) -> list[Any]:
        return [clause for clause in self if text in str(clause)]


@contextmanager
def _listening(target: Any, name: str, listener: Callable[..., None]) -> Iterator[None]:
    event.listen(target, name, listener)
    try:
        yield
    finally:
        event.remove(target, name, listener)


@pytest.fixture
def executed(db: AsyncEngine) -> Iterator[ExecutedStatements]:
    recorder = ExecutedStatements()
    with _listening(db.sync_engine, "before_execute", recorder):
        yield recorder


@pytest.fixture
def session_executed() -> Iterator[ExecutedStatements]:
    """The statements run through a session (`session.execute`), not those of the unit of
    work's flush."""
    recorder = ExecutedStatements()

    def record(state: ORMExecuteState) -> None:
        recorder.append(state.statement)

    with _listening(TrackedSession, "do_orm_execute", record):
        yield recorder


@pytest.fixture
def statements(db: AsyncEngine) -> Iterator[StatementCounter]:
    counter = StatementCounter()
    with _listening(db.sync_engine, "before_cursor_execute", counter):
        yield counter
