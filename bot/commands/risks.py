"""The risk register: internal unless a risk is flagged `client`; clients see only those."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, bindparam, select

from bot.commands.guards import future_date, mention_in, team_person, team_side_only
from bot.domain.snapshot import LEVELS
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import EVERYONE, TEAM, command
from bot.messages import Context, Heading, Item, Items, Message, Text
from storage.models import Person, Risk
from storage.reads import column_rows

LEVEL_WORDS = {"low": 1, "l": 1, "1": 1, "medium": 2, "med": 2, "m": 2, "2": 2}
LEVEL_WORDS |= {"high": 3, "h": 3, "3": 3, "lo": 1, "hi": 3, "mid": 2}
HIGH_SCORE = 6


def _level(ctx: CommandContext, key: str, value: str | None) -> int | None:
    if value is None:
        return None
    level = LEVEL_WORDS.get(value.lower())
    if level is None:
        raise ctx.fail(f"`{key}:{value}` should be low, medium or high.")
    return level


def _describe(risk: Risk | Row[Any]) -> str:
    return _rating(risk.likelihood, risk.impact)


def _rating(likelihood: int, impact: int) -> str:
    return f"likelihood {LEVELS[likelihood]}, impact {LEVELS[impact]}, score {likelihood * impact}"


async def _may_change(ctx: CommandContext, risk: Risk) -> None:
    if ctx.role != "pm" and risk.owner_id != ctx.me.id:
        raise ctx.refuse(f"Risk {risk.number} is changed by its owner or the project's PM.")


@command(
    "risk add",
    usage=(
        'risk add "Title" likelihood:low|medium|high impact:low|medium|high '
        '[mitigation:"..."] [owner:@x] [client] [review:DATE]'
    ),
    summary="Add a risk to the register (internal unless flagged client)",
    area="risks",
    roles=TEAM,
)
async def risk_add(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Risks")
    shared = args.flag("client")
    likelihood = _level(ctx, "likelihood", args.required_option("likelihood", "the likelihood"))
    impact = _level(ctx, "impact", args.required_option("impact", "the impact"))
    mitigation = args.option("mitigation")
    owner_text, review_text = args.option("owner"), args.option("review")
    title = args.text("risk title")
    assert title is not None and likelihood and impact
    owner = await team_person(ctx, mention_in(ctx, owner_text, "owner")) if owner_text else None
    review = future_date(ctx, review_text, "review date") if review_text else None
    risk = await ctx.add_numbered(
        Risk,
        title=title,
        likelihood=likelihood,
        impact=impact,
        mitigation=(mitigation or "")[:2000] or None,
        owner_id=owner.id if owner else None,
        client_visible=shared,
        review_on=review,
        created_at=ctx.now,
    )
    visibility = "shared with the client" if shared else "internal"
    return ctx.say(Text(f"Risk {risk.number} added: {title} ({_describe(risk)}, {visibility})."))


@command(
    "risk update",
    usage=(
        'risk update N [title:"..."] [likelihood:..] [impact:..] [mitigation:"..."] '
        "[owner:@x] [review:DATE] [client|internal]"
    ),
    summary="Change a risk's rating, mitigation, owner, review date or visibility",
    area="risks",
    roles=TEAM,
)
async def risk_update(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Risks")
    number = args.number("risk number")
    shared, internal = args.flag("client"), args.flag("internal")
    if shared and internal:
        raise ctx.fail("A risk is either `client` or `internal`, not both.")
    title, mitigation = args.option("title"), args.option("mitigation")
    likelihood = _level(ctx, "likelihood", args.option("likelihood"))
    impact = _level(ctx, "impact", args.option("impact"))
    owner_text, review_text = args.option("owner"), args.option("review")
    if title is not None and len(title) > 500:
        raise ctx.fail("Keep the risk title under 500 characters.")
    changes = [title, mitigation, likelihood, impact, owner_text, review_text]
    if all(c is None for c in changes) and not (shared or internal):
        raise ctx.fail("Say what to change, for example `risk update 2 likelihood:low`.")
    risk = await ctx.numbered(Risk, number, "risk")
    await _may_change(ctx, risk)
    if risk.status != "open":
        raise ctx.fail(f"Risk {risk.number} is closed.")
    owner = await team_person(ctx, mention_in(ctx, owner_text, "owner")) if owner_text else None
    review = future_date(ctx, review_text, "review date") if review_text else None
    risk.title = title or risk.title
    risk.mitigation = mitigation[:2000] if mitigation is not None else risk.mitigation
    risk.likelihood = likelihood or risk.likelihood
    risk.impact = impact or risk.impact
    risk.owner_id = owner.id if owner else risk.owner_id
    risk.review_on = review or risk.review_on
    if shared or internal:
        risk.client_visible = shared
    visibility = "shared with the client" if risk.client_visible else "internal"
    return ctx.say(Text(f"Risk {risk.number} {risk.title}: {_describe(risk)}, {visibility}."))


@command(
    "risk close",
    usage="risk close N",
    summary="Close a risk that is over or no longer matters",
    area="risks",
    roles=TEAM,
)
async def risk_close(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Risks")
    risk = await ctx.numbered(Risk, args.number("risk number"), "risk")
    await _may_change(ctx, risk)
    if risk.status != "open":
        raise ctx.fail(f"Risk {risk.number} is already closed.")
    risk.status, risk.closed_at = "closed", ctx.now
    return ctx.say(Text(f"Risk {risk.number} closed: {risk.title}."))


@command(
    "risks",
    cached="project",
    shared=True,
    usage="risks [all]",
    summary="The open risks, highest likelihood x impact first (clients: the shared ones)",
    area="risks",
    roles=EVERYONE,
)
async def risks_list(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    client = ctx.audience == "client"
    include_closed = args.flag("all") and not client
    rows = await column_rows(
        ctx.session, _risk_list_query(include_closed, client), {"project_id": project.id}
    )
    today = ctx.project_today  # the project's day, worked out once for the whole list
    items = tuple(_risk_item(row, today, client=client) for row in rows)
    heading = "Risks we are watching with you" if client else f"Risks of {project.name}"
    blocks = [Heading(heading), Items(items, empty="No open risks.")]
    if not client:
        blocks.append(Context("Internal unless marked shared. `risk update N client` shares one."))
    return ctx.say(*blocks)


@lru_cache(maxsize=4)
def _risk_list_query(include_closed: bool, client: bool) -> Select[Any]:
    """The list's columns, highest likelihood x impact first: built once for each kind of
    list (open or all, the team's or the client's), the project as its parameter.
    `_risk_item` unpacks its columns in this order."""
    query = (
        select(
            Risk.number,
            Risk.title,
            Risk.likelihood,
            Risk.impact,
            Risk.mitigation,
            Risk.client_visible,
            Risk.review_on,
            Risk.status,
            Person.display_name.label("owner"),
        )
        .outerjoin(Person, Person.id == Risk.owner_id)
        .where(Risk.project_id == bindparam("project_id"))
        .order_by(
            (Risk.status != "open"),
            (Risk.likelihood * Risk.impact).desc(),
            Risk.likelihood.desc(),
            Risk.number,
        )
    )
    if not include_closed:
        query = query.where(Risk.status == "open")
    if client:
        # Only what the team chose to share: title, rating and what is being done.
        query = query.where(Risk.client_visible.is_(True))
    return query


def _risk_item(risk: Row[Any], today: date, *, client: bool) -> Item:
    """One line of the list, from the columns `risks` reads (no ORM object per risk),
    unpacked once: a Row's columns by name cost ~0.3 us each."""
    number, title, likelihood, impact, mitigation, shared, review_on, status, owner = risk
    text = f"Risk {number} {title} ({_rating(likelihood, impact)})"
    if mitigation:
        text += f". Mitigation: {mitigation}"
    if not client:
        text += f". Owner: {owner}" if owner else ". No owner"
        if shared:
            text += ". Shared with the client"
        if review_on:
            due = " (due)" if review_on <= today else ""
            text += f". Review {review_on}{due}"
    if status != "open":
        return Item(text + ". Closed", "done")
    return Item(text, "red" if likelihood * impact >= HIGH_SCORE else "open")
