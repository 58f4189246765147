"""Inserting many rows at once, in the session's transaction.

On PostgreSQL the rows go in with COPY, the server's own bulk path: a morning's due-step
writes hundreds of thousands of claims and outbox rows, and COPY takes them in a fraction
of the time multi-row INSERTs need, in server and client alike. The rows stream to the
server as they are made, so a caller that makes them in a generator has the server store
the first while it makes the next. A unique violation still fails the statement (and so
the transaction) as an INSERT's would, and is raised as SQLAlchemy's IntegrityError.
Elsewhere (SQLite) it is one executemany INSERT handed to the driver as plain value tuples:
compiling the statement's parameters row by row costs more than SQLite takes to store the
rows."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import asyncpg
from sqlalchemy import Table, text
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

# Rows are bind-processed this many at a time, column by column (see `_driver_records`).
CHUNK = 4096


async def insert_many(
    session: AsyncSession, table: Table, rows: Sequence[Mapping[str, Any]]
) -> None:
    """Insert `rows` (mappings with the same keys) into `table`."""
    if not rows:
        return
    names = list(rows[0])
    # The rows' values, picked in C rather than looked up one by one.
    pick = itemgetter(*names)
    records = map(pick, rows) if len(names) > 1 else ((pick(row),) for row in rows)
    await insert_records(session, table, names, records)


async def insert_records(
    session: AsyncSession,
    table: Table,
    names: Sequence[str],
    records: Iterable[Sequence[Any]],
    *,
    same: Mapping[str, Any] | None = None,
) -> None:
    """Insert `records` (value tuples in the order of `names`) into `table`, each with the
    values of `same` as well; columns neither names give their constant defaults. Nothing
    is sent when `records` is empty. On PostgreSQL a generator is consumed while the rows
    stream to the server."""
    records = iter(records)
    first = next(records, None)
    if first is None:
        return
    connection = await session.connection()
    constants = {**_constant_defaults(table, [*names, *(same or {})]), **(same or {})}
    columns = [*names, *constants]
    driver_records = _driver_records(
        table, names, chain((first,), records), constants, connection.dialect
    )
    if connection.dialect.name == "postgresql":
        await _copy(connection, table, columns, driver_records)
    else:  # made here, not in the driver's thread
        await _executemany(connection, table, columns, list(driver_records))


def _constant_defaults(table: Table, given: Sequence[str]) -> dict[str, Any]:
    defaults: dict[str, Any] = {}
    for column in table.columns:
        if column.name in given or column.default is None:
            continue
        if not column.default.is_scalar:
            raise ValueError(f"{table.name}.{column.name}: give it; its default is not constant")
        defaults[column.name] = column.default.arg  # type: ignore[attr-defined]
    return defaults


def _driver_records(
    table: Table,
    names: Sequence[str],
    records: Iterable[Sequence[Any]],
    constants: Mapping[str, Any],
    dialect: Dialect,
) -> Iterator[tuple[Any, ...]]:
    """Value tuples as the driver takes them: each column's bind processing applied (the
    constants' once), the constants appended. Done column by column a chunk at a time,
    transposed in C, rather than a Python call a row."""
    processing = [(i, p) for i, name in enumerate(names) if (p := _processor(table, name, dialect))]
    tail = [_process(table, name, value, dialect) for name, value in constants.items()]
    iterator = iter(records)
    while chunk := list(islice(iterator, CHUNK)):
        columns: list[Sequence[Any]] = list(zip(*chunk, strict=True))
        for index, process in processing:
            columns[index] = [None if value is None else process(value) for value in columns[index]]
        columns += [[value] * len(chunk) for value in tail]
        yield from zip(*columns, strict=True)


def _processor(table: Table, name: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    return table.c[name].type.dialect_impl(dialect).bind_processor(dialect)


def _process(table: Table, name: str, value: Any, dialect: Dialect) -> Any:
    process = _processor(table, name, dialect)
    return value if process is None or value is None else process(value)


async def _executemany(
    connection: AsyncConnection, table: Table, names: Sequence[str], records: list[tuple[Any, ...]]
) -> None:
    quote = connection.dialect.identifier_preparer.quote
    statement = (
        f"INSERT INTO {quote(table.name)} ({', '.join(quote(n) for n in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    await connection.exec_driver_sql(statement, records)


async def _copy(
    connection: AsyncConnection,
    table: Table,
    names: Sequence[str],
    records: Iterator[tuple[Any, ...]],
) -> None:
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
            table.name, records=records, columns=list(names), schema_name=table.schema
        )
    except asyncpg.UniqueViolationError as error:
        raise IntegrityError(statement, None, error) from error
    except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
        # As SQLAlchemy raises a driver's errors, so that callers handle them alike.
        raise DBAPIError(statement, None, error) from error
