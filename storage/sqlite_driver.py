"""SQLAlchemy's aiosqlite driver, with one trip to SQLite's thread a statement.

aiosqlite runs each SQLite connection in a thread of its own; every call is a trip there
and back (a queue put, the thread waking, a callback into the event loop). SQLAlchemy's
adapter makes four a statement: open a cursor, execute, fetch the rows, close. Under load
each trip waits its turn in a busy event loop, and a writer holds SQLite's one write lock
across all of them: at 100 task adds a second the lock was held for several event-loop
turns per statement, and writers queued behind it (the p99 of `bench/`). Here a statement
is executed, its rows fetched and its cursor closed in one function on that thread.

Server-side cursors (streamed results) keep SQLAlchemy's adapter: they fetch in parts.
"""

from __future__ import annotations

import collections
import sqlite3
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util.concurrency import await_

# What one trip brings back: description, rowcount, lastrowid, rows.
_Outcome = tuple[Any, int, int | None, list[Any]]


def _run(connection: aiosqlite.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On the connection's thread: the whole statement, its cursor closed again."""
    cursor = connection._conn.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        # After the rows: SQLite counts an UPDATE ... RETURNING's rows as they are fetched.
        return description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose statement is one trip; fetching reads what came back."""

    __slots__ = ("_description", "_rowcount", "_lastrowid")

    def __init__(self, adapt_connection: AsyncAdapt_aiosqlite_connection) -> None:
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]  # no sqlite3 cursor is kept open
        self._soft_closed_memoized = {}
        self._rows = collections.deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    def execute(self, operation: Any, parameters: Any = None) -> None:
        self._trip(operation, parameters, many=False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> None:
        self._trip(operation, seq_of_parameters, many=True)

    def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        try:
            outcome = await_(self._execute_once(operation, parameters, many))
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._description, self._rowcount, self._lastrowid, rows = outcome
        self._rows = collections.deque(rows)

    async def _execute_once(self, operation: Any, parameters: Any, many: bool) -> _Outcome:
        async with self._adapt_connection._execute_mutex:
            return await self._connection._execute(
                _run, self._connection, operation, parameters, many
            )

    async def _async_soft_close(self) -> None:
        """Nothing is open on SQLite's side (the rows came back with the statement)."""

    def close(self) -> None:
        self._rows.clear()

    def nextset(self) -> None:
        self._rows.clear()  # SQLite runs one statement a call: there is no next set

    def setinputsizes(self, *inputsizes: Any) -> None:
        """Not used by SQLite."""


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor

    # No trip when SQLite has no transaction open: a read outside one (SQLite begins only
    # before a write) and the pool's reset after a commit would each make a trip for nothing.
    # Nothing runs on this connection's thread meanwhile (SQLAlchemy waits for each call).
    def commit(self) -> None:
        if self._in_transaction():
            super().commit()

    def rollback(self) -> None:
        if self._in_transaction():
            super().rollback()

    def _in_transaction(self) -> bool:
        connection = self._connection._connection  # None once closed
        return connection is not None and connection.in_transaction


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """The module SQLAlchemy's aiosqlite dialect is given (create_engine's `module`)."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        adapted = super().connect(*arg, **kw)
        return OneTripConnection(self, adapted._connection)


def one_trip_dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
