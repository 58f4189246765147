"""Reads without a transaction on PostgreSQL: a command that only reads runs each of its
statements on its own (autocommit) instead of between a BEGIN and a COMMIT, two round
trips fewer, each a write to the socket and a message for the server to handle (for an
uncached `status`, its own two statements: about a tenth of the serving process's time
and more of the server's, bench/).

Under READ COMMITTED, PostgreSQL's default and ours, each statement of a transaction
sees what was committed when it began anyway, so reading without one loses nothing.
Writing without one would: if a session begun this way is about to write (someone new
to remember, say), the statement is refused with `WouldWrite` before it is sent, and
the caller starts again in a transaction. SQLite's transactions cost no round trip, and
its reads are left as they are."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

READING = "liaison_reading"  # an execution option: this connection only reads
_AUTOCOMMIT = {"isolation_level": "AUTOCOMMIT", READING: True}
_READS = ("SELECT", "WITH")


class WouldWrite(Exception):  # noqa: N818 (not an error: a signal to start again)
    """A statement that writes, in a session begun with `read_without_transaction`."""


async def read_without_transaction(session: AsyncSession) -> bool:
    """Let `session`'s statements run without a transaction, if its database is
    PostgreSQL; call first, before its first statement. Whether it did."""
    if session.bind.dialect.name != "postgresql":
        return False
    await session.connection(execution_options=_AUTOCOMMIT)
    return True


def refuse_writes_while_reading(engine: AsyncEngine) -> None:
    """Refuse, before it is sent, any statement that may write on a connection begun with
    `read_without_transaction` (an INSERT, UPDATE or DELETE, or anything but a SELECT)."""

    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _refuse(
        connection: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool
    ) -> None:
        if not connection.get_execution_options().get(READING):
            return
        if context.isinsert or context.isupdate or context.isdelete or not _reads(statement):
            raise WouldWrite(statement[:80])


def _reads(statement: str) -> bool:
    head = statement.lstrip()[:6].upper()
    if not head.startswith(_READS):
        return False
    # A common table expression may write (WITH ... AS (INSERT ...) SELECT ...).
    return head == "SELECT" or not any(
        f"({verb} " in statement for verb in ("INSERT", "UPDATE", "DELETE")
    )
