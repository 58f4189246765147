"""Inserting many rows at once, in the session's transaction.

On PostgreSQL the rows go in with COPY, the server's own bulk path: a morning's due-step
writes hundreds of thousands of claims and outbox rows, and COPY takes them in a fraction
of the time multi-row INSERTs need, in server and client alike. A unique violation still
fails the statement (and so the transaction) as an INSERT's would, and is raised as
SQLAlchemy's IntegrityError. Elsewhere (SQLite) it is one executemany INSERT handed to the
driver as plain value tuples: compiling the statement's parameters row by row costs more
than SQLite takes to store the rows."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Table, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession


async def insert_many(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (mappings with the same keys) into `table`."""
    if not rows:
        return
    connection = await session.connection()
    if connection.dialect.name != "postgresql":
        await _executemany(connection, table, rows)
        return
    await _copy(connection, table, rows)


async def _executemany(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    names, records = _bind_values(table, rows, connection.dialect)
    quote = connection.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    await connection.exec_driver_sql(statement, records)


def _bind_values(
    table: Table, rows: Sequence[Mapping[str, Any]], dialect: Dialect
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and value tuples as the driver takes them: each column's bind
    processing applied, and missing columns given their constant defaults."""
    given = list(rows[0])
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: give it; its default is not constant")
        defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
    names = given + list(defaults)
    # The rows' values column by column (picked and transposed in C, not a lookup a value).
    pick = itemgetter(*given)
    picked = map(pick, rows) if len(given) > 1 else ((pick(row),) for row in rows)
    columns: list[Sequence[Any]] = list(zip(*picked, strict=True))
    for index, name in enumerate(given):
        process = table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            columns[index] = [None if value is None else process(value) for value in columns[index]]
    columns += [[value] * len(rows) for value in defaults.values()]
    records = list(zip(*columns, strict=True))
    return names, records


async def _copy(
    connection: AsyncConnection, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    names, records = _bind_values(table, rows, connection.dialect)
    raw = await connection.get_raw_connection()
    driver: asyncpg.Connection = raw.driver_connection  # type: ignore[assignment]
    if not driver.is_in_transaction():
        # SQLAlchemy begins the session's transaction at its first statement: make sure
        # there was one, so that COPY runs inside it.
        await connection.execute(text("SELECT 1"))
    statement = f"COPY {table.name} ({', '.join(names)}) FROM STDIN (FORMAT binary)"
    # Whoever watches statements (logging, the counts in tests and benchmarks) sees it too.
    sync = connection.sync_connection
    assert sync is not None
    sync.dispatch.before_cursor_execute(sync, None, statement, (), None, True)
    try:
        await driver.copy_records_to_table(
            table.name, records=records, columns=names, schema_name=table.schema
        )
    except asyncpg.UniqueViolationError as error:
        raise IntegrityError(statement, None, error) from error
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        # As SQLAlchemy raises a driver's errors, so that callers handle them alike.
        raise DBAPIError(statement, None, error) from error
