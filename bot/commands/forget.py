"""`forget @person`: a PM erases someone who is only on their projects (bot.commands.erasure).
Anyone known beyond them (another PM's project, another workspace or tenant, a PM) is the
operator's to erase, with `liaison forget`: a PM must never reach into others' data."""

from __future__ import annotations

from sqlalchemy import or_, select

from bot.commands.erasure import Scope, erase_person
from bot.commands.guards import team_side_only
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, command
from bot.messages import Context, Message, Text
from storage.models import Acquaintance, Base, Conversation, Membership, Person, Project

OPERATOR = "Ask the operator of this Liaison installation to erase them (`liaison forget`)."


@command(
    "forget",
    usage="forget @person",
    summary="Erase someone only on your projects: a pseudonym for their name, huddle "
    "answers' text deleted, their numbers kept (PM)",
    area="team",
    roles=PM,
)
async def forget(ctx: CommandContext, args: Args) -> Message:
    mention = args.mention()
    if mention is None:
        raise ctx.fail("Whom should I forget? Mention them, like `forget @sam`.")
    args.done()
    team_side_only(ctx, "Erasing people's data")
    person = await ctx.known_person(mention)
    if person is None:
        raise ctx.fail(f"I don't know @{mention.name}.")
    if person.id == ctx.me.id:
        raise ctx.refuse(f"You can't forget yourself with this command. {OPERATOR}")
    mine = await _projects_led_by_me(ctx)
    if not await _only_on(ctx, person, mine):
        raise ctx.refuse(
            f"@{person.display_name} is known beyond the projects you lead "
            f"(another project, workspace, or as a PM). {OPERATOR}"
        )
    tenant = ctx.tenant
    scope = Scope(frozenset(mine), frozenset({tenant.id}), frozenset({tenant.external_id}))
    erased = await erase_person(ctx.session, person, scope)
    # The audit trail records that it happened, under the pseudonym: not the erased name.
    ctx.audit_line = f"forget @{erased.pseudonym}"
    return ctx.whisper(
        Text(f'Forgotten: @{mention.name} is now "{erased.pseudonym}" in your projects.'),
        Context(
            "Their name and contact details are replaced and their huddle answers' text "
            "deleted; time logged and tasks done stay, under the pseudonym."
        ),
    )


async def _projects_led_by_me(ctx: CommandContext) -> set[int]:
    rows = await ctx.session.scalars(
        select(Membership.project_id)
        .join(Project, Project.id == Membership.project_id)
        .where(
            Membership.person_id == ctx.me.id,
            Membership.role == "pm",
            Project.tenant_id == ctx.tenant.id,
        )
    )
    return set(rows.all())


async def _only_on(ctx: CommandContext, person: Person, projects: set[int]) -> bool:
    """Whether everything about `person` is in `projects` and this tenant, and they lead
    none of them. Every table with a row about a person is looked at, found from the
    schema, so a table added later cannot be forgotten here."""
    session, tenant = ctx.session, ctx.tenant
    met = set((await session.scalars(
        select(Acquaintance.tenant_id).where(Acquaintance.person_id == person.id)
    )).all())  # fmt: skip
    if met - {tenant.id}:
        return False
    leads = await session.scalar(
        select(Membership.id).where(Membership.person_id == person.id, Membership.role == "pm")
    )
    if leads is not None:
        return False
    elsewhere = await session.scalar(
        select(Conversation.id).where(
            Conversation.person_id == person.id,
            or_(
                Conversation.platform != tenant.platform, Conversation.tenant != tenant.external_id
            ),
        )
    )
    if elsewhere is not None:
        return False
    for table in Base.metadata.sorted_tables:
        for key in table.foreign_keys:
            if key.column.table.name != Person.__tablename__:
                continue
            about = key.parent == person.id
            if "project_id" in table.c:
                found = set((await session.scalars(
                    select(table.c.project_id).where(about).distinct()
                )).all())  # fmt: skip
                if found - projects - {None}:
                    return False
            if "tenant_id" in table.c:
                tenants = set((await session.scalars(
                    select(table.c.tenant_id).where(about).distinct()
                )).all())  # fmt: skip
                if tenants - {tenant.id}:
                    return False
    return True
