"""What a session knows about its own writes (storage.changes): the revision it takes and
the projects it wrote."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import insert, inspect, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.changes import WRITES_PROJECT, take_revision, take_wrote, touched_projects
from storage.models import Project, Task, Tenant
from tests.conftest import StatementCounter
from tests.harness import Harness
from tests.project_setup import kickoff


async def test_the_tenant_that_comes_back_shows_the_revision_taken(
    bot: Harness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await kickoff(bot)
    async with sessions() as session, session.begin():
        held = await session.scalar(select(Tenant))
        assert held is not None
        before = held.revision
        taken = await take_revision(session, held.id)
        assert taken is held and held.revision == before + 1
        assert await take_revision(session, held.id + 1000) is None
    async with sessions() as session:
        assert await session.scalar(select(Tenant.revision)) == before + 1


async def test_a_tenant_not_held_comes_back_as_if_loaded_without_more_sql(
    bot: Harness, sessions: async_sessionmaker[AsyncSession], statements: StatementCounter
) -> None:
    """The revision is taken by a Core UPDATE ... RETURNING; the row becomes the session's
    tenant as if the ORM had loaded it (storage.reads.as_loaded): persistent, nothing to
    flush, every column there, and no statement but the UPDATE."""
    await kickoff(bot)
    async with sessions() as session, session.begin():
        tenant_id = await session.scalar(select(Tenant.id))
        assert tenant_id is not None
        statements.reset()
        taken = await take_revision(session, tenant_id)
        assert taken is not None and statements.count == 1
        assert inspect(taken).persistent and not session.new and not session.dirty
        assert taken.external_id and taken.revision >= 1
        assert await session.get(Tenant, tenant_id) is taken and statements.count == 1


async def test_a_statement_says_which_project_it_wrote_or_it_wrote_the_tenant(
    bot: Harness, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await kickoff(bot)
    async with sessions() as session, session.begin():
        project = await session.scalar(select(Project))
        assert project is not None
        stamp = {"project_id": project.id, "number": 99, "title": "Told", "status": "open"}
        stamp["created_at"] = datetime.now(UTC)
        told = insert(Task).values(stamp).execution_options(**{WRITES_PROJECT: project.id})
        await session.execute(told)
        assert touched_projects(session) == {project.id} and take_wrote(session)
        untold = update(Task).where(Task.number == 99).values(title="Untold")
        await session.execute(untold)
        assert touched_projects(session) is None and take_wrote(session)
        task = await session.scalar(select(Task).where(Task.number == 99))
        assert task is not None
        task.title = "Its content"
        await session.flush()
        assert touched_projects(session) == {project.id} and take_wrote(session)
        project.budget = Decimal("1")  # its own row, read with who and where: the tenant's
        await session.flush()
        assert touched_projects(session) is None and take_wrote(session)
        await session.rollback()
