"""The audit trail: every command that wrote is recorded in its own transaction, so a
write and its record commit or roll back together. Read by `history` (PM only)."""

from __future__ import annotations

from sqlalchemy import bindparam, insert

from bot.engine.context import CommandContext
from storage.changes import Write
from storage.models import AuditEntry

_TABLE = AuditEntry.__table__
# Built once: every write's record only brings its values (see storage.changes.Write), one
# for each column but the id.
_AUDIT = insert(_TABLE).values(
    {c.name: bindparam(f"audit_{c.name}") for c in _TABLE.c if not c.primary_key}
)


def audit_entry(ctx: CommandContext, command: str, line: str) -> Write:
    """The record of a write: one INSERT into the table, not an object for the session's
    unit of work to flush (nothing reads it back in the transaction that writes it), run
    by the engine with the change notice (storage.changes.announce)."""
    place = ctx.request.place
    values = {
        "tenant_id": ctx.tenant.id,
        "project_id": ctx.project.id if ctx.project is not None else None,
        "person_id": ctx.me.id,
        "at": ctx.now,
        "platform": place.platform,
        "channel_id": place.channel_id,
        "command": command,
        "line": line,
    }
    return Write(_AUDIT, {f"audit_{column}": value for column, value in values.items()})
