"""The decision log: what was decided, why, by whom and when. Internal to the team."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import local_date
from bot.commands.guards import team_side_only
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import TEAM, command
from bot.messages import Heading, Item, Items, Message, Text
from storage.models import Decision, Person

LIST_LIMIT = 100


@command(
    "decision",
    usage='decision "Use Stripe" [why:"..."]',
    summary="Record a decision in the project's log, with why",
    area="decisions",
    roles=TEAM,
)
async def decision_add(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Decisions")
    why = args.option("why")
    title = args.text("the decision")
    assert title is not None
    if why is not None and len(why) > 2000:
        raise ctx.fail("Keep the why under 2,000 characters.")
    decision = await ctx.add_numbered(
        Decision,
        title=title,
        why=why,
        decided_by_id=ctx.me.id,
        decided_at=ctx.now,
    )
    return ctx.say(Text(f"Decision {decision.number} recorded: {title}."))


@command(
    "decisions",
    reads_only=True,
    usage="decisions",
    summary="The decision log, newest first, with who decided and when",
    area="decisions",
    roles=TEAM,
)
async def decisions_list(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Decisions")
    project = ctx.the_project
    rows = await ctx.session.execute(
        select(Decision, Person.display_name)
        .join(Person, Person.id == Decision.decided_by_id)
        .where(Decision.project_id == project.id)
        .order_by(Decision.decided_at.desc(), Decision.number.desc())
        .limit(LIST_LIMIT)
    )
    items = []
    for decision, who in rows:
        day = local_date(decision.decided_at, project.timezone)
        why = f" Why: {decision.why}" if decision.why else ""
        items.append(Item(f"{day} #{decision.number} {decision.title} ({who}).{why}", "info"))
    return ctx.say(
        Heading(f"Decisions of {project.name}"), Items(tuple(items), "No decisions yet.")
    )
