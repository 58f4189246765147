"""Status and the weekly report: health with its reasons, milestones, what is blocked and,
for the team only, budget burn. Clients get messages built from the client view."""

from __future__ import annotations

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import EVERYONE, command
from bot.messages import Message
from bot.views.reports import build_report, build_status


@command(
    "status",
    cached="project",
    shared=True,
    usage='status [project:"Name"]',
    questions=(
        ("how is {project} going", 'project:"{project}"'),
        ("how are things", ""),
        ("how is it going", ""),
        ("how are we doing", ""),
    ),
    summary="Health (green/amber/red and why), next milestones, blockers and (team) budget",
    area="reports",
    roles=EVERYONE,
)
async def status(ctx: CommandContext, args: Args) -> Message:
    return await build_status(ctx.session, ctx.the_project, ctx.project_today, ctx.audience)


@command(
    "report",
    reads_only=True,
    usage="report [client|internal]",
    summary="The weekly status report; the client only ever gets the client report",
    area="reports",
    roles=EVERYONE,
)
async def report(ctx: CommandContext, args: Args) -> Message:
    which = (args.word() or "").lower() or None
    if which not in (None, "client", "internal"):
        raise ctx.fail(f"`{which}` is not a report; say `report client` or `report internal`.")
    if ctx.audience == "client" and which == "internal":
        if ctx.role == "client":
            raise ctx.refuse("The internal report is for the delivery team; `report` is yours.")
        raise ctx.refuse(
            "This channel is shared with the client: ask for the internal report in the team "
            "channel or a direct message."
        )
    audience = "client" if ctx.audience == "client" else (which or "internal")
    return await build_report(ctx.session, ctx.the_project, ctx.project_today, audience)
