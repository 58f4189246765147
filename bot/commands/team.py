"""Team and roles: who is on the project, their role and rate, their zone and away days."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import case, func, select

from bot.domain.budget import format_money
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, Mention, parse_date_range, parse_money, parse_timezone
from bot.engine.registry import ANYONE, EVERYONE, PM, command
from bot.messages import Context, Heading, Item, Items, Message, Text
from storage.models import Acquaintance, Membership, Person, Task

ROLE_NAMES = {"pm": "PM", "member": "member", "client": "client"}
RATE_RE = re.compile(r"^(.*?)\s*/\s*(h|hr|hrs|hour)$", re.IGNORECASE)
MAX_RATE = Decimal("10000")
MAX_PEOPLE = 20


@command(
    "team add",
    usage="team add @person [@person ...] [role:pm|member|client] [rate:120/h]",
    summary="Add people to the project, or change their role or hourly rate",
    area="team",
    roles=PM,
)
async def team_add(ctx: CommandContext, args: Args) -> Message:
    mentions = _unique(args.mentions())
    if not mentions:
        raise ctx.fail("Name who to add with @mentions.")
    if len(mentions) > MAX_PEOPLE:
        raise ctx.fail(f"Add at most {MAX_PEOPLE} people at a time.")
    role = _role(ctx, args.option("role"))
    rate = _rate(ctx, args.option("rate"))
    if role == "client" and rate is not None:
        raise ctx.fail("Clients have no hourly rate; leave out `rate:` for them.")
    lines = [await _add_one(ctx, await ctx.person_for(m), role, rate) for m in mentions]
    if role in ("member", "client") and await _pm_count(ctx) == 0:
        raise ctx.fail(f"{ctx.the_project.name} would have no PM left; keep at least one.")
    return ctx.say(Heading(f"Team of {ctx.the_project.name}"), Items(tuple(lines)))


async def _add_one(
    ctx: CommandContext, person: Person, role: str | None, rate: Decimal | None
) -> Item:
    project = ctx.the_project
    # Someone from another organisation is a client whatever role they are given.
    external = await ctx.is_external(person)
    effective = "client" if external else role
    note = " (from another organisation, so a client)" if external and role != "client" else ""
    membership = await ctx.membership_of(person)
    if membership is None:
        membership = Membership(
            project_id=project.id,
            person_id=person.id,
            role=effective or "member",
            hourly_rate=None if (effective or "member") == "client" else rate,
            created_at=ctx.now,
        )
        ctx.session.add(membership)
        await ctx.session.flush()
        await ctx.direct_message(person, _welcome(ctx, membership.role))
        verb = "added as"
    else:
        if effective is not None:
            membership.role = effective
        if rate is not None and membership.role != "client":
            membership.hourly_rate = rate
        verb = "now" if effective is not None or rate is not None else "already"
    return Item(f"{person.display_name}: {verb} {_describe(ctx, membership)}{note}", "info")


def _welcome(ctx: CommandContext, role: str) -> Message:
    project = ctx.the_project
    text = f"{ctx.me.display_name} added you to {project.name} as {ROLE_NAMES[role]}."
    return Message(
        blocks=(Text(text), Context("Type `help` to see what you can do.")),
        audience="client" if role == "client" else "internal",
        visibility="in_channel",
    )


def _describe(ctx: CommandContext, membership: Membership) -> str:
    text = ROLE_NAMES[membership.role]
    if ctx.audience == "internal" and membership.hourly_rate is not None:
        text += f" at {format_money(membership.hourly_rate, ctx.the_project.currency)}/h"
    return text


def _unique(mentions: list[Mention]) -> list[Mention]:
    seen: dict[tuple[str | None, str], Mention] = {}
    for mention in mentions:
        seen.setdefault((mention.user_id, mention.name.lower()), mention)
    return list(seen.values())


def _role(ctx: CommandContext, text: str | None) -> str | None:
    if text is None:
        return None
    role = text.lower()
    if role not in ROLE_NAMES:
        raise ctx.fail(f"`{text}` is not a role; use role:pm, role:member or role:client.")
    return role


def _rate(ctx: CommandContext, text: str | None) -> Decimal | None:
    """`120/h`, `120`, `EUR 95.50/h`: money per hour in the project's currency."""
    if text is None:
        return None
    match = RATE_RE.match(text.strip())
    money = parse_money(match.group(1) if match else text)
    currency = ctx.the_project.currency
    if money.currency and money.currency != currency:
        raise ctx.fail(
            f"{ctx.the_project.name} is kept in {currency}; give the rate in {currency}."
        )
    if money.amount > MAX_RATE:
        raise ctx.fail(f"A rate of {money.amount:,} an hour is more than I can believe.")
    return money.amount


async def _pm_count(ctx: CommandContext) -> int:
    await ctx.session.flush()
    count = await ctx.session.scalar(
        select(func.count(Membership.id)).where(
            Membership.project_id == ctx.the_project.id, Membership.role == "pm"
        )
    )
    return count or 0


@command(
    "team remove",
    usage="team remove @person",
    summary="Take someone off the project (not the last PM)",
    area="team",
    roles=PM,
)
async def team_remove(ctx: CommandContext, args: Args) -> Message:
    mention = args.mention("who to remove")
    assert mention is not None
    person = await ctx.person_for(mention)
    membership = await ctx.membership_of(person)
    if membership is None:
        raise ctx.fail(f"{person.display_name} is not on {ctx.the_project.name}.")
    await ctx.session.delete(membership)
    if membership.role == "pm" and await _pm_count(ctx) == 0:
        raise ctx.refuse(
            f"{person.display_name} is the last PM of {ctx.the_project.name}. "
            "Make someone else PM first with `team add @someone role:pm`."
        )
    open_tasks = await ctx.session.scalar(
        select(func.count(Task.id)).where(
            Task.project_id == ctx.the_project.id,
            Task.owner_id == person.id,
            Task.status != "done",
        )
    )
    blocks: list[Text | Context] = [
        Text(f"{person.display_name} is no longer on {ctx.the_project.name}.")
    ]
    if open_tasks:
        blocks.append(
            Context(
                f"They still own {open_tasks} open task(s); move them with `task assign N @who`."
            )
        )
    return ctx.say(*blocks)


@command(
    "team",
    reads_only=True,
    usage="team",
    questions=(("who's on the team", ""), ("who is working on this", "")),
    summary="Who is on the project, with roles (and, for the team, rates and zones)",
    area="team",
    roles=EVERYONE,
)
async def team_list(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    rank = case((Membership.role == "pm", 0), (Membership.role == "member", 1), else_=2)
    rows = (
        await ctx.session.execute(
            select(Person, Membership, Acquaintance.external)
            .join(Membership, Membership.person_id == Person.id)
            .outerjoin(
                Acquaintance,
                (Acquaintance.person_id == Person.id)
                & (Acquaintance.tenant_id == project.tenant_id),
            )
            .where(Membership.project_id == project.id)
            .order_by(rank, func.lower(Person.display_name))
        )
    ).all()
    items = tuple(
        Item(_team_line(ctx, p, m, external is not False), "info") for p, m, external in rows
    )
    return ctx.say(Heading(f"Team of {project.name}"), Items(items, empty="Nobody yet."))


def _team_line(ctx: CommandContext, person: Person, membership: Membership, external: bool) -> str:
    # Someone the project's tenant never met counts as from another organisation.
    role = "client" if external else membership.role
    if ctx.audience == "client":
        return f"{person.display_name} ({ROLE_NAMES[role]})"
    parts = [f"{person.display_name} ({ROLE_NAMES[role]})"]
    if role != "client":
        rate = membership.hourly_rate
        parts.append(f"{format_money(rate, ctx.the_project.currency)}/h" if rate else "no rate")
    parts.append(person.timezone or "zone not set")
    away = _away_text(person, ctx.today)
    if away:
        parts.append(away)
    return " · ".join(parts)


def _away_text(person: Person, today: date) -> str | None:
    if person.away_until is None or person.away_until < today:
        return None
    start = person.away_from or today
    return f"away {start.isoformat()}..{person.away_until.isoformat()}"


@command(
    "me",
    usage="me [tz:Area/City]",
    summary="Your time zone and away days; set your zone with tz:",
    area="team",
    roles=ANYONE,
    needs_project=False,
)
async def me(ctx: CommandContext, args: Args) -> Message:
    zone = args.option("tz")
    if zone is not None:
        ctx.me.timezone = parse_timezone(zone)
    lines = [f"Time zone: {ctx.me.timezone or 'not set (UTC is assumed)'}"]
    away = _away_text(ctx.me, ctx.today)
    lines.append(away.capitalize() if away else "Not marked away.")
    heading = "Saved" if zone is not None else f"You are {ctx.me.display_name}"
    return ctx.whisper(Heading(heading), Text("\n".join(lines)))


@command(
    "away",
    usage="away 2026-12-24..2027-01-02",
    summary="Mark the days you are away (one day or a range)",
    area="team",
    roles=ANYONE,
    needs_project=False,
)
async def away(ctx: CommandContext, args: Args) -> Message:
    text = args.word("the days you are away, like 2026-12-24..2027-01-02")
    assert text is not None
    start, end = parse_date_range(text, ctx.today)
    if end < ctx.today:
        raise ctx.fail(f"{end.isoformat()} is in the past; give days from today on.")
    ctx.me.away_from, ctx.me.away_until = start, end
    return ctx.whisper(
        Text(f"You are away {start.isoformat()}..{end.isoformat()}."),
        Context("Type `back` when you return early."),
    )


@command(
    "back",
    usage="back",
    summary="You are back: clear your away days",
    area="team",
    roles=ANYONE,
    needs_project=False,
)
async def back(ctx: CommandContext, args: Args) -> Message:
    if ctx.me.away_until is None or ctx.me.away_until < ctx.today:
        ctx.me.away_from = ctx.me.away_until = None
        return ctx.whisper(Text("You were not marked away; nothing to change."))
    ctx.me.away_from = ctx.me.away_until = None
    return ctx.whisper(Text("Welcome back: you are no longer marked away."))
