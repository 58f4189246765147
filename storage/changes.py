"""Knowing that data changed: which sessions wrote, and the writers' turns.

A session's `info["wrote"]` turns true at its first INSERT, UPDATE or DELETE, whether it
came from the unit of work or from a Core statement run through the session; alongside,
it records which projects' content those writes changed, when it can tell (see
`touched_projects`). Taking a tenant's next revision is a writer's turn (a row lock on
PostgreSQL, the write lock on SQLite); on PostgreSQL `announce` tells every process
listening on CHANGES_CHANNEL (see storage.listen) what changed, on commit.

On PostgreSQL a writer of one project's content alone may take that project's turn
instead: the tenant's turn shared (`share_tenant`: no one takes the tenant's revision
meanwhile, so who is on which project and which channel is whose stay as read), then the
project's row (`take_project_turn`). Writers of different projects go on side by side;
the tenant's writers wait for them all, and they for it. The tenant's turn is an
advisory lock there (TURNS), taken alone with the revision and together by its projects'
writers: its queue is fair, where a row lock's is not (a sharer arriving while the
tenant's writer waits would go first, and a busy tenant's project writes could keep its
writers of the whole waiting without end)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, NamedTuple, TypeVar

from sqlalchemy import (
    ColumnElement,
    Insert,
    Integer,
    Select,
    String,
    Table,
    bindparam,
    event,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql.base import Executable

from storage.ledger_totals import TOTALS_KEPT_FROM
from storage.models import ChannelLink, Membership, Project, Tenant
from storage.reads import as_loaded

Locked = TypeVar("Locked", Tenant, Project)
CHANGES_CHANNEL = "liaison_changes"
WROTE = "wrote"
TOUCHED = "touched"  # the project ids written since the last take_wrote, or ANYTHING
TOUCHED_TABLES = "touched_tables"  # the tables of that content written, or ANYTHING
ANYTHING = "anything"
ON_COMMIT = "on_commit"
# An execution option of a Core (or ORM-enabled) INSERT/UPDATE/DELETE run through the
# session: the one project whose content it changes, where the statement itself cannot
# say (without it, any row may have been reached: the whole tenant changed).
WRITES_PROJECT = "liaison_writes_project"
# Rows that decide which project a place or a person is about, or who may read what, and
# the project's own row (its name, zone, budget and dates, whether it is closed): read
# with who asks and where, and remembered with them while the tenant as a whole is
# unchanged (bot.engine.remembered), a change to them is a change to the whole tenant. A
# project's own row changes seldom (`budget set`, `project close`); its content (tasks,
# time, spend) all day, and that is a change to the project alone.
WHO_AND_WHERE = (Membership, ChannelLink, Project)
_WHO_AND_WHERE_TABLES = frozenset(model.__tablename__ for model in WHO_AND_WHERE)


class TrackedSession(Session):
    """A Session that records in `info[WROTE]` whether it changed anything."""


@event.listens_for(TrackedSession, "before_flush")
def _flushing(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.deleted or any(session.is_modified(o) for o in session.dirty):
        session.info[WROTE] = True


@event.listens_for(TrackedSession, "after_flush")
def _flushed(session: Session, _context: Any) -> None:
    # After the flush, new rows have their ids; new, dirty and deleted still list what
    # this flush wrote, with each attribute's history.
    written = [*session.new, *session.deleted]
    written += [o for o in session.dirty if session.is_modified(o)]
    for instance in written:
        _touch(session, _project_of(session, instance), _table_of(instance))


@event.listens_for(TrackedSession, "do_orm_execute")
def _executing(state: ORMExecuteState) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        state.session.info[WROTE] = True
        project_id = state.execution_options.get(WRITES_PROJECT)
        table = getattr(state.statement, "table", None)
        if not isinstance(table, Table) or table.name in _WHO_AND_WHERE_TABLES:
            project_id = table = None  # an alias, or rows that matter to the whole tenant
        _touch(
            state.session,
            project_id if isinstance(project_id, int) else None,
            None if table is None else table.name,
        )


def _project_of(session: Session, instance: object) -> int | None:
    """The one project whose content `instance` is, or None when its change may matter
    to more than one (a project's own row, who is on a project, a person)."""
    if isinstance(instance, WHO_AND_WHERE):
        return None
    project_id = getattr(instance, "project_id", None)
    if not isinstance(project_id, int):
        return None
    moved = inspect(instance).attrs.project_id.history.deleted  # type: ignore[union-attr]
    return None if moved else project_id


def _table_of(instance: object) -> str | None:
    table = getattr(type(instance), "__table__", None)
    return getattr(table, "name", None)


def _touch(session: Session, project_id: int | None, table: str | None) -> None:
    _add(session, TOUCHED, project_id)
    _add(session, TOUCHED_TABLES, table)


def _add(session: Session, key: str, item: int | str | None) -> None:
    """Add `item` to the session's set under `key`; None (unknown) makes it ANYTHING."""
    touched = session.info.setdefault(key, set())
    if touched == ANYTHING:
        return
    if item is None:
        session.info[key] = ANYTHING
    else:
        touched.add(item)


def touched_projects(session: AsyncSession) -> frozenset[int] | None:
    """The projects whose content the session wrote since the last take_wrote, or None
    when a write may matter beyond them (to the whole tenant)."""
    touched = session.info.get(TOUCHED, set())
    return None if touched == ANYTHING else frozenset(touched)


def touched_tables(session: AsyncSession) -> frozenset[str] | None:
    """The tables of those projects' content the session wrote since the last take_wrote,
    with those its writes change in turn (the ledger's running totals, kept by triggers),
    or None when it cannot tell."""
    touched = session.info.get(TOUCHED_TABLES, set())
    if touched == ANYTHING:
        return None
    return frozenset(touched).union(*(TOTALS_KEPT_FROM.get(t, ()) for t in touched))


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
    session.info.pop(TOUCHED, None)
    session.info.pop(TOUCHED_TABLES, None)
    return bool(session.info.pop(WROTE, False))


async def take_revision(session: AsyncSession, tenant_id: int) -> Tenant | None:
    """Count a change to the tenant's data, waiting for the tenant's other writers first
    (its projects' included, on PostgreSQL). The tenant's row comes back with it (None if
    there is none): a writer need not read it before."""
    on_postgresql = session.get_bind().dialect.name == "postgresql"
    taking = _TAKE_TURN_AND_REVISION if on_postgresql else _TAKE_REVISION
    return await _locked_row(session, Tenant, taking, {"taking_tenant": tenant_id})


async def share_tenant(session: AsyncSession, tenant_id: int) -> Tenant | None:
    """Wait for the tenant's writer, if one holds or awaits its revision, and keep anyone
    from taking it until this transaction ends (PostgreSQL only); the tenant's row comes
    back."""
    return await _locked_row(session, Tenant, _SHARE_TENANT, {"taking_tenant": tenant_id})


class ProjectTurn(NamedTuple):
    project: Project  # its row as it is now: a writer before this one may have changed it
    tenant_revision: int  # the project's tenant's, as it is now


async def take_project_turn(session: AsyncSession, project_id: int) -> ProjectTurn | None:
    """Wait for the project's other writers, holding the tenant shared (`share_tenant`
    first: one lock order); None if the project is gone. The tenant's revision comes
    with it, read once the tenant is held: `share_tenant`'s row is as of when its
    statement began, before it waited, and a writer of the tenant as a whole may have
    committed in between (a revision later than that row's says so)."""
    row = (await session.execute(_TAKE_PROJECT, {"taking_project": project_id})).first()
    if row is None:
        return None
    return ProjectTurn(as_loaded(session, Project, row._mapping), row.tenant_revision)


async def _locked_row(
    session: AsyncSession, model: type[Locked], statement: Executable, params: dict[str, int]
) -> Locked | None:
    """The one row a turn's statement locks, as the session's instance (None if gone)."""
    row = (await session.execute(statement, params)).first()
    return None if row is None else as_loaded(session, model, row._mapping)


# Built once (every write takes a revision); a Core statement whose row refreshes the
# session's copy (storage.reads.as_loaded): the ORM's UPDATE ... RETURNING of the entity
# cost a write several times as much.
_TENANTS = Tenant.__table__
_TAKE_REVISION = (
    update(_TENANTS)
    .where(_TENANTS.c.id == bindparam("taking_tenant"))
    .values(revision=_TENANTS.c.revision + 1)
    .returning(*_TENANTS.c)
)
# The namespace of the writers' advisory locks (the other key is the tenant's id).
TURNS = 0x4C49


def _turn(*, shared: bool) -> ColumnElement[bool]:
    """A condition that takes the tenant's turn first: an uncorrelated subquery, run once
    before the row is looked at (PostgreSQL's InitPlan)."""
    take = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    tenant = bindparam("taking_tenant", type_=Integer)
    return select(take(TURNS, tenant)).scalar_subquery().is_not(None)


_TAKE_TURN_AND_REVISION = _TAKE_REVISION.where(_turn(shared=False))
_SHARE_TENANT = (
    select(*_TENANTS.c).where(_TENANTS.c.id == bindparam("taking_tenant")).where(_turn(shared=True))
)
# FOR NO KEY UPDATE: the rows a writer inserts under the project (FOR KEY SHARE of it)
# don't wait for it, only the project's other writers do.
_PROJECTS = Project.__table__
_TAKE_PROJECT = (
    select(
        *_PROJECTS.c,
        select(_TENANTS.c.revision)
        .where(_TENANTS.c.id == _PROJECTS.c.tenant_id)
        .scalar_subquery()
        .label("tenant_revision"),
    )
    .where(_PROJECTS.c.id == bindparam("taking_project"))
    .with_for_update(key_share=True)
)


class Write(NamedTuple):
    """A statement built once (bound parameters for its values) and this time's values."""

    statement: Insert
    params: Mapping[str, Any]


async def announce(
    session: AsyncSession,
    notice: str,
    *,
    also: Write | None = None,
    delivered: Write | None = None,
) -> bool:
    """On PostgreSQL, tell the other processes `notice` when this transaction commits
    (never if it rolls back). `also`, a write of the same transaction that nothing reads
    back (the audit record), runs in the same statement there: one round trip fewer for
    every write, each of which holds its tenant's revision meanwhile. So does
    `delivered`, the delivery id's INSERT ... ON CONFLICT DO NOTHING RETURNING (PostgreSQL
    only): False if the id was recorded before, and the caller rolls back."""
    if session.get_bind().dialect.name != "postgresql":
        if delivered is not None:
            raise ValueError("a delivery id is recorded with the notice on PostgreSQL only")
        if also is not None:
            await session.execute(also.statement, dict(also.params))
        return True
    params = {
        NOTICE: notice,
        **(also.params if also is not None else {}),
        **(delivered.params if delivered is not None else {}),
    }
    statement = _notifying(
        also.statement if also is not None else None,
        delivered.statement if delivered is not None else None,
    )
    row = (await session.execute(statement, params)).one()
    return delivered is None or row[1] > 0


NOTICE = "changes_notice"


@cache
def _notifying(also: Insert | None, delivered: Insert | None = None) -> Select[Any]:
    """pg_notify, with `also` as a CTE and, given `delivered`, how many rows it inserted:
    built once for each pair (statements themselves built once), as the statement's
    cache key would otherwise be for every write."""
    notify = select(func.pg_notify(CHANGES_CHANNEL, bindparam(NOTICE, type_=String)))
    if also is not None:
        notify = notify.add_cte(also.cte("also"))
    if delivered is not None:
        recorded = delivered.cte("delivered")
        notify = notify.add_columns(
            select(func.count()).select_from(recorded).scalar_subquery()
        ).add_cte(recorded)
    return notify
