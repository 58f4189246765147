"""The audit trail: every command that wrote is recorded in its own transaction, so a
write and its record commit or roll back together. Read by `history` (PM only)."""

from __future__ import annotations

from sqlalchemy import insert

from bot.engine.context import CommandContext
from storage.models import AuditEntry


async def record_write(ctx: CommandContext, command: str, line: str) -> None:
    """One INSERT into the table, not an object for the session's unit of work to flush
    at the commit: nothing reads the record back in the transaction that writes it."""
    place = ctx.request.place
    await ctx.session.execute(
        insert(AuditEntry.__table__).values(
            tenant_id=ctx.tenant.id,
            project_id=ctx.project.id if ctx.project is not None else None,
            person_id=ctx.me.id,
            at=ctx.now,
            platform=place.platform,
            channel_id=place.channel_id,
            command=command,
            line=line,
        )
    )
