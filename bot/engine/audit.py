"""The audit trail: every command that wrote is recorded in its own transaction, so a
write and its record commit or roll back together. Read by `history` (PM only)."""

from __future__ import annotations

from bot.engine.context import CommandContext
from storage.models import AuditEntry


def record_write(ctx: CommandContext, command: str, line: str) -> None:
    place = ctx.request.place
    ctx.session.add(
        AuditEntry(
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
