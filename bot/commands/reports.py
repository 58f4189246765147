"""Status: the project at a glance."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.context import CommandContext
from bot.messages import Facts, Heading, Message
from bot.parsing import Args
from bot.registry import EVERYONE, command
from storage.models import Membership


@command(
    "status",
    usage='status [project:"Name"]',
    summary="The project at a glance: dates, team and (for the team) budget",
    area="reports",
    roles=EVERYONE,
)
async def status(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    team_size = await ctx.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.project_id == project.id, Membership.role != "client"
        )
    )
    facts = [("Client", project.client_name), ("Team", str(team_size or 0))]
    if project.due_date:
        days_left = (project.due_date - ctx.project_today).days
        facts.append(("Due", f"{project.due_date.isoformat()} ({days_left} days left)"))
    if ctx.audience == "internal" and project.budget is not None:
        facts.append(("Budget", f"{project.currency} {project.budget:,.2f}"))
    return ctx.say(Heading(f"{project.name}: status"), Facts(tuple(facts)))
