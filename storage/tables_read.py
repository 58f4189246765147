"""Which tables a command read, told by the SQL it sent (issue 19).

The reply cache keeps a reply about a project until that project changes. A project's
content changes all day in many tables (a task added, time logged, money spent), and a
reply reads only some of them: a `log` changes nothing a task list shows. So a reply is
kept with the tables it was read from, and a write of a project's content says which
tables it wrote (storage.changes.touched_tables); only a write to one of those makes it
stale (bot.engine.reply_cache).

The tables are read off each statement's SQL as it is sent, whatever built it (the ORM, a
Core select, a CTE, a subquery, text): every table a statement reads is named in it. A
name that appears otherwise (a column or a label spelled like a table) only adds a table,
and a reply with more tables is kept more carefully, never less. Each distinct SQL string
is read once."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache, lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.models import Base

# The tables the current command has read so far (None: nobody is counting).
_READING: ContextVar[set[str] | None] = ContextVar("liaison_tables_read", default=None)


@contextmanager
def counting_tables_read() -> Iterator[set[str]]:
    """Collect the tables named by every statement sent in this context (this task, and
    the SQLAlchemy greenlets it runs): the set is filled as statements go."""
    tables: set[str] = set()
    token = _READING.set(tables)
    try:
        yield tables
    finally:
        _READING.reset(token)


def tables_named(sql: str) -> frozenset[str]:
    """The tables of our schema that `sql` names."""
    return _named(sql)


@lru_cache(maxsize=4096)
def _named(sql: str) -> frozenset[str]:
    return frozenset(_table_names().findall(sql))


@cache
def _table_names() -> re.Pattern[str]:
    names = sorted(Base.metadata.tables, key=len, reverse=True)
    return re.compile(r"\b(" + "|".join(map(re.escape, names)) + r")\b")


def count_tables_read(engine: AsyncEngine) -> None:
    """Tell `counting_tables_read` of every statement `engine` sends."""
    event.listen(engine.sync_engine, "before_cursor_execute", _record)


def counts_tables_read(engine: AsyncEngine | None) -> bool:
    """Whether `engine`'s statements are told to `counting_tables_read`: without it, a
    reply's tables are not known (and what it read must be taken to be anything)."""
    return engine is not None and event.contains(
        engine.sync_engine, "before_cursor_execute", _record
    )


def _record(
    _connection: Any, _cursor: Any, statement: str, _params: Any, _context: Any, _many: bool
) -> None:
    tables = _READING.get()
    if tables is not None:
        tables.update(_named(statement))
