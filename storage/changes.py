"""Knowing that data changed: which sessions wrote, and the tenant's revision.

A session's `info["wrote"]` turns true at its first INSERT, UPDATE or DELETE, whether it
came from the unit of work or from a Core statement run through the session. Taking a
tenant's next revision is a writer's turn (a row lock on PostgreSQL, the write lock on
SQLite); on PostgreSQL it also announces the change, on commit, to every process
listening on CHANGES_CHANNEL (see storage.listen)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session

from storage.models import Tenant

CHANGES_CHANNEL = "liaison_changes"
WROTE = "wrote"
ON_COMMIT = "on_commit"


class TrackedSession(Session):
    """A Session that records in `info[WROTE]` whether it changed anything."""


@event.listens_for(TrackedSession, "before_flush")
def _flushing(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        session.info[WROTE] = True


@event.listens_for(TrackedSession, "do_orm_execute")
def _executing(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True


@event.listens_for(TrackedSession, "after_commit")
def _committed(session: Session) -> None:
    for callback in session.info.pop(ON_COMMIT, []):
        callback()


@event.listens_for(TrackedSession, "after_soft_rollback")
def _rolled_back(session: Session, _previous: Any) -> None:
    session.info.pop(ON_COMMIT, None)


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Run `callback` once the session's transaction commits; never if it rolls back."""
    session.info.setdefault(ON_COMMIT, []).append(callback)


def take_wrote(session: AsyncSession) -> bool:
    """Whether the session wrote since the last call (and start counting afresh)."""
    return bool(session.info.pop(WROTE, False))


async def take_revision(session: AsyncSession, tenant_id: int, announce: str) -> None:
    """Count a change to the tenant's data, waiting for the tenant's other writers first;
    on PostgreSQL, tell the other processes `announce` when this transaction commits."""
    await session.execute(
        update(Tenant).where(Tenant.id == tenant_id).values(revision=Tenant.revision + 1)
    )
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(CHANGES_CHANNEL, announce)))
