"""waiting: what waits for the asker across their projects (the Slack Home tab uses it)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import ANYONE, command
from bot.messages import Heading, Item, Items, Message
from storage.models import ChangeRequest, ClientRequest, Membership, Milestone, Project, Task

SOON = timedelta(days=2)


@command(
    "waiting",
    cached=True,
    usage="waiting",
    questions=(("what's waiting for me", ""), ("what do I have", ""), ("what do I need to do", "")),
    summary="What waits for you across your projects: tasks due, approvals, requests",
    area="basics",
    roles=ANYONE,
    needs_project=False,
)
async def waiting(ctx: CommandContext, args: Args) -> Message:
    memberships = (
        await ctx.session.execute(
            select(Project, Membership.role)
            .join(Membership, Membership.project_id == Project.id)
            .where(
                Membership.person_id == ctx.me.id,
                Project.tenant_id == ctx.tenant.id,
                Project.archived.is_(False),
            )
        )
    ).all()
    client = ctx.request.actor.external
    roles = {project.id: ("client" if client else role) for project, role in memberships}
    names = {project.id: project.name for project, _ in memberships}
    if ctx.audience == "client" and not (client or all(r == "client" for r in roles.values())):
        # Asked in a client channel: the team's to-dos are not for the client to read.
        raise ctx.refuse(
            "What waits for you is internal: this channel is shared with the client. "
            "Ask me in the team channel or in a direct message."
        )
    items: list[Item] = []
    if any(role != "client" for role in roles.values()):
        items += await _my_tasks(ctx, [p for p, r in roles.items() if r != "client"], names)
    pm_of = [p for p, r in roles.items() if r == "pm"]
    if pm_of:
        items += await _requests_to_answer(ctx, pm_of, names)
    client_of = [p for p, r in roles.items() if r == "client"]
    if client_of:
        items += await _client_decisions(ctx, client_of, names)
    audience = (
        "client"
        if client
        or ctx.audience == "client"
        or (roles and all(r == "client" for r in roles.values()))
        else ("internal")
    )
    return Message(
        blocks=(Heading("Waiting for you"), Items(tuple(items), empty="Nothing waits for you.")),
        audience=audience,
        visibility="ephemeral",
    )


async def _my_tasks(
    ctx: CommandContext, project_ids: list[int], names: dict[int, str]
) -> list[Item]:
    soon = ctx.today + SOON
    tasks = (
        await ctx.session.scalars(
            select(Task)
            .where(
                Task.project_id.in_(project_ids),
                Task.owner_id == ctx.me.id,
                Task.status != "done",
                Task.due_date.is_not(None),
                Task.due_date <= soon,
            )
            .order_by(Task.due_date, Task.id)
            .limit(20)
        )
    ).all()
    return [
        Item(
            f"{names[t.project_id]}: task {t.number} {t.title}, due {t.due_date.isoformat()}",
            "overdue" if t.due_date < ctx.today else "due",
        )
        for t in tasks
        if t.due_date is not None
    ]


async def _requests_to_answer(
    ctx: CommandContext, project_ids: list[int], names: dict[int, str]
) -> list[Item]:
    requests = (
        await ctx.session.scalars(
            select(ClientRequest)
            .where(ClientRequest.project_id.in_(project_ids), ClientRequest.status == "open")
            .order_by(ClientRequest.created_at)
            .limit(20)
        )
    ).all()
    return [
        Item(f"{names[r.project_id]}: client request {r.number} to answer: {r.text}", "due")
        for r in requests
    ]


async def _client_decisions(
    ctx: CommandContext, project_ids: list[int], names: dict[int, str]
) -> list[Item]:
    changes = (
        await ctx.session.scalars(
            select(ChangeRequest)
            .where(ChangeRequest.project_id.in_(project_ids), ChangeRequest.status == "pending")
            .order_by(ChangeRequest.id)
        )
    ).all()
    signoffs = (
        await ctx.session.scalars(
            select(Milestone)
            .where(
                Milestone.project_id.in_(project_ids),
                Milestone.client_signoff.is_(True),
                Milestone.done_at.is_not(None),
                Milestone.signed_off_at.is_(None),
            )
            .order_by(Milestone.id)
        )
    ).all()
    return [
        Item(f"{names[c.project_id]}: change {c.number} to approve: {c.title}", "due")
        for c in changes
    ] + [Item(f"{names[m.project_id]}: deliverable {m.title} to sign off", "due") for m in signoffs]
