"""waiting: what waits for the asker across their projects (the Slack Home tab uses it)."""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from sqlalchemy import Boolean, ColumnElement, Date, Select, and_, bindparam, or_, select

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import ANYONE, command
from bot.messages import Heading, Item, Items, Message
from storage.models import ChangeRequest, ClientRequest, Membership, Milestone, Project, Task
from storage.reads import column_row_sets

SOON = timedelta(days=2)
LISTED = 20  # tasks, and requests, at most


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
    client = ctx.request.actor.external
    # Every list and the memberships they go by, in one statement (see _lists).
    memberships, *lists = await column_row_sets(
        ctx.session,
        _reads(),
        {
            "me": ctx.me.id,
            "tenant": ctx.tenant.id,
            "external": client,
            "soon": ctx.today + SOON,
        },
    )
    # A closed project's change (reopening it) changes this reply too: kept until any of
    # the asker's projects here changes.
    ctx.read_from = frozenset(project_id for project_id, *_ in memberships)
    active = [(project, name, role) for project, name, role, closed in memberships if not closed]
    roles = {project_id: ("client" if client else role) for project_id, _, role in active}
    names = {project_id: name for project_id, name, _ in active}
    if ctx.audience == "client" and not (client or all(r == "client" for r in roles.values())):
        # Asked in a client channel: the team's to-dos are not for the client to read.
        raise ctx.refuse(
            "What waits for you is internal: this channel is shared with the client. "
            "Ask me in the team channel or in a direct message."
        )
    items = _items(ctx, names, lists)
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


def _items(ctx: CommandContext, names: dict[int, str], lists: list[list[Any]]) -> list[Item]:
    """My tasks due soon (on the team side), the client requests to answer (as PM) and
    the decisions waiting for me (as client)."""
    tasks, requests, changes, signoffs = lists
    return (
        [
            Item(
                f"{names[project]}: task {number} {title}, due {due.isoformat()}",
                "overdue" if due < ctx.today else "due",
            )
            for project, number, title, due in tasks
        ]
        + [
            Item(f"{names[project]}: client request {number} to answer: {text}", "due")
            for project, number, text in requests
        ]
        + [
            Item(f"{names[project]}: change {number} to approve: {title}", "due")
            for project, number, title in changes
        ]
        + [
            Item(f"{names[project]}: deliverable {title} to sign off", "due")
            for project, title in signoffs
        ]  # fmt: skip
    )


@functools.cache
def _reads() -> tuple[Select[Any], ...]:
    return (_memberships(), *_lists())


@functools.cache
def _memberships() -> Select[tuple[int, str, str, bool]]:
    """Built once (every `waiting` runs it), like the lists below. Closed projects too:
    what the reply was read from, though it lists only the active ones."""
    return (
        select(Project.id, Project.name, Membership.role, Project.archived)
        .join(Membership, Membership.project_id == Project.id)
        .where(Membership.person_id == bindparam("me"), Project.tenant_id == bindparam("tenant"))
    )


def _my_active_projects(side: ColumnElement[bool]) -> Select[tuple[int]]:
    """The asker's projects here that are not closed, on `side`: what the lists go by,
    read in their statement (a person on a project as a client, or anyone asking from
    outside the workspace, is on its client side)."""
    return (
        select(Membership.project_id)
        .join(Project, Project.id == Membership.project_id)
        .where(
            Membership.person_id == bindparam("me"),
            Project.tenant_id == bindparam("tenant"),
            Project.archived.is_not(True),
            side,
        )
    )


_EXTERNAL = bindparam("external", type_=Boolean())
_TEAM_SIDE = _my_active_projects(and_(Membership.role != "client", _EXTERNAL.is_(False)))
_PM_OF = _my_active_projects(and_(Membership.role == "pm", _EXTERNAL.is_(False)))
_CLIENT_OF = _my_active_projects(or_(Membership.role == "client", _EXTERNAL.is_(True)))


@functools.cache
def _lists() -> tuple[Select[Any], ...]:
    tasks = (
        select(Task.project_id, Task.number, Task.title, Task.due_date)
        .where(
            Task.project_id.in_(_TEAM_SIDE),
            Task.owner_id == bindparam("me"),
            Task.status != "done",
            Task.due_date.is_not(None),
            Task.due_date <= bindparam("soon", type_=Date()),
        )
        .order_by(Task.due_date, Task.id)
        .limit(LISTED)
    )
    requests = (
        select(ClientRequest.project_id, ClientRequest.number, ClientRequest.text)
        .where(
            ClientRequest.project_id.in_(_PM_OF),
            ClientRequest.status == "open",
        )
        .order_by(ClientRequest.created_at, ClientRequest.id)
        .limit(LISTED)
    )
    changes = (
        select(ChangeRequest.project_id, ChangeRequest.number, ChangeRequest.title)
        .where(
            ChangeRequest.project_id.in_(_CLIENT_OF),
            ChangeRequest.status == "pending",
        )
        .order_by(ChangeRequest.id)
    )
    signoffs = (
        select(Milestone.project_id, Milestone.title)
        .where(
            Milestone.project_id.in_(_CLIENT_OF),
            Milestone.client_signoff.is_(True),
            Milestone.done_at.is_not(None),
            Milestone.signed_off_at.is_(None),
        )
        .order_by(Milestone.id)
    )
    return tasks, requests, changes, signoffs
