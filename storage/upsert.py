"""INSERT ... ON CONFLICT for SQLite and PostgreSQL, in one statement."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession, model: Any) -> Any:
    """An INSERT into `model`'s table as a Core statement: given the mapped class, the
    session would take the ORM's bulk path (a third of a delivery id's insert, in CPU)
    for rows it never loads."""
    name = session.get_bind().dialect.name
    return (postgresql.insert if name == "postgresql" else sqlite.insert)(_table(model))


def _table(model: Any) -> Table:
    return model if isinstance(model, Table) else model.__table__


async def insert_ignore(
    session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str]
) -> int | None:
    """Insert a row unless one with the same `keys` exists: the new id, or None."""
    dialect = session.get_bind().dialect.name
    statement = _insert_ignoring(dialect, _table(model), tuple(keys))
    return (await session.execute(statement, values)).scalar_one_or_none()


@cache
def _insert_ignoring(dialect: str, table: Table, keys: tuple[str, ...]) -> Insert:
    """Built once and kept: the values come as the execution's parameters, so building
    the statement and its cache key is not paid again by every delivery id and claim."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(table.c.id)


async def upsert(
    session: AsyncSession,
    model: Any,
    values: dict[str, Any],
    keys: list[str],
    update: list[str],
) -> int:
    """Insert, or update the `update` columns of the row with the same `keys`: its id."""
    statement = _insert(session, model).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=keys, set_={column: statement.excluded[column] for column in update}
    ).returning(_table(model).c.id)
    return (await session.execute(statement)).scalar_one()


async def count_up(
    session: AsyncSession, model: Any, values: dict[str, Any], keys: list[str], column: str
) -> None:
    """Insert the row with `column` = 1, or add 1 to it in the row with the same `keys`."""
    statement = _insert(session, model).values(**values, **{column: 1})
    counter = _table(model).c[column]
    statement = statement.on_conflict_do_update(index_elements=keys, set_={column: counter + 1})
    await session.execute(statement)
