"""`history`: the project's audit trail (bot.engine.audit) for its PM. Internal: the lines carry
amounts and names, so a client never sees it and it is refused where a client reads."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.commands.guards import team_side_only
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, command
from bot.messages import Heading, Item, Items, Message
from storage.models import AuditEntry, Person

DEFAULT_DAYS = 30
MAX_DAYS = 3660
SHOWN = 50


async def history_rows(
    ctx: CommandContext, *, days: int | None = None, who: Person | None = None
) -> list[tuple[AuditEntry, str | None]]:
    """The project's recorded writes, newest first, with who made each."""
    query = (
        select(AuditEntry, Person.display_name)
        .outerjoin(Person, Person.id == AuditEntry.person_id)
        .where(AuditEntry.project_id == ctx.the_project.id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    if days is not None:
        query = query.where(AuditEntry.at >= ctx.now - timedelta(days=days))
    if who is not None:
        query = query.where(AuditEntry.person_id == who.id)
    return [(entry, name) for entry, name in (await ctx.session.execute(query)).all()]


HISTORY_HEADER = ["at_utc", "person", "platform", "channel", "command", "line"]


def history_csv_rows(rows: list[tuple[AuditEntry, str | None]]) -> list[list[Any]]:
    return [[e.at.isoformat(), who, e.platform, e.channel_id, e.command, e.line] for e, who in rows]


@command(
    "history",
    reads_only=True,
    usage="history [days:30] [@who]",
    summary="Who changed what in the project, newest first (PM only)",
    area="projects",
    roles=PM,
)
async def history(ctx: CommandContext, args: Args) -> Message:
    days_text = args.option("days") or str(DEFAULT_DAYS)
    if not days_text.isdigit() or not 1 <= int(days_text) <= MAX_DAYS:
        raise ctx.fail(f"`days:` takes a number of days from 1 to {MAX_DAYS}, like `days:7`.")
    mention = args.mention()
    args.done()
    team_side_only(ctx, "The project's history and its figures")
    who = await ctx.known_person(mention) if mention else None
    if mention and who is None:
        raise ctx.fail(f"I don't know @{mention.name}.")
    rows = await history_rows(ctx, days=int(days_text), who=who)
    zone = ZoneInfo(ctx.zone)
    items = tuple(
        Item(f"{e.at.astimezone(zone):%Y-%m-%d %H:%M} {name or 'someone'}: {e.line}", "info")
        for e, name in rows[:SHOWN]
    )
    more = f" (the latest {SHOWN}; `export history` has all)" if len(rows) > SHOWN else ""
    scope = f" by {who.display_name}" if who else ""
    return ctx.whisper(
        Heading(f"History of {ctx.the_project.name}{scope}, last {days_text} days{more}"),
        Items(items, empty="No changes in that time."),
    )
