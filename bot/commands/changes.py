"""Change requests: scope control with the client's approval.

A change carries a price and a schedule impact. The client sees the price: it is the
amount they are asked to pay for the change, so they must see it to approve it. They never
see the budget it raises, spend, rates or margins: the team's messages say those, the
client's messages are written separately and name only the change, its price and dates.
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.clock import local_date
from bot.domain.budget import format_money
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, parse_money
from bot.engine.registry import EVERYONE, PM, command
from bot.messages import Actions, Button, Context, Facts, Heading, Item, Items, Message, Text
from bot.views.reports import calendar_of
from storage.models import ChangeRequest, ClientRequest, Person

MAX_DAYS = 365
CARD_BUTTONS_FOR = 5  # pending changes that get buttons in `changes`


def parse_price(ctx: CommandContext, text: str | None) -> Decimal:
    if text is None:
        return Decimal("0.00")
    money = parse_money(text, allow_zero=True)
    currency = ctx.the_project.currency
    if money.currency and money.currency != currency:
        raise ctx.fail(
            f"{ctx.the_project.name} is priced in {currency}; give the cost in {currency}."
        )
    return money.amount


def parse_days(ctx: CommandContext, text: str | None) -> int:
    if text is None:
        return 0
    value = text.lower().removesuffix("d").removesuffix("days").strip()
    if not value.isdigit() or int(value) > MAX_DAYS:
        raise ctx.fail(f"`days:{text}` should be working days from 0 to {MAX_DAYS}, like days:5.")
    return int(value)


def _money(ctx: CommandContext, amount: Decimal) -> str:
    return format_money(amount, ctx.the_project.currency)


def _new_due(ctx: CommandContext, days: int) -> str | None:
    due = ctx.the_project.due_date
    if due is None:
        return None
    return calendar_of(ctx.the_project, due).add(due, days).isoformat()


def approval_card(ctx: CommandContext, change: ChangeRequest) -> Message:
    """What the client approves: the change, its price and what it does to the date."""
    facts = [("Price", _money(ctx, change.cost)), ("Schedule", f"+{change.days} working days")]
    new_due = _new_due(ctx, change.days)
    if new_due and change.days:
        facts.append(("New delivery date", new_due))
    number = str(change.number)
    return Message(
        blocks=(
            Heading(f"Change request {change.number}: {change.title}"),
            Text(f"{ctx.the_project.name}: a change to the agreed scope needs your approval."),
            Facts(tuple(facts)),
            Actions(
                (
                    Button("Approve", "change approve", number, "primary"),
                    Button("Decline", "change decline", number, "danger"),
                )
            ),
            Context(f'Or type `change approve {number}` or `change decline {number} "why"`.'),
        ),
        audience="client",
    )


async def raise_change(
    ctx: CommandContext,
    title: str,
    cost: Decimal,
    days: int,
    client_request: ClientRequest | None = None,
) -> Message:
    """Record a pending change, send its approval card to the client side, and answer."""
    change = await ctx.add_numbered(
        ChangeRequest,
        title=title[:500],
        cost=cost,
        days=days,
        status="pending",
        raised_by_id=ctx.me.id,
        client_request_id=client_request.id if client_request else None,
        created_at=ctx.now,
    )
    card = approval_card(ctx, change)
    if ctx.audience == "client":
        return card  # raised in the client channel itself: the reply is the card
    posted = await ctx.post_to_side("client", card)
    note = (
        "The approval card is in the client channel."
        if posted
        else "No client channel is linked (`project link client`). The client can type "
        f"`change approve {change.number}`, or approve for them with "
        f"`change approve {change.number} on-behalf`."
    )
    summary = f"{_money(ctx, cost)}, +{days} working days"
    return ctx.say(
        Text(f"Change {change.number} sent to {ctx.the_project.client_name} for approval: "
             f"{change.title} ({summary})."),
        Context(note),
    )  # fmt: skip


@command(
    "change",
    usage='change "What changes" cost:AMOUNT days:N',
    summary="Propose a change of scope; the client approves or declines it",
    area="scope",
    roles=PM,
)
async def change_new(ctx: CommandContext, args: Args) -> Message:
    cost = parse_price(ctx, args.option("cost"))
    days = parse_days(ctx, args.option("days"))
    title = args.text("what changes")
    assert title is not None
    return await raise_change(ctx, title, cost, days)


def _may_decide(ctx: CommandContext, on_behalf: bool) -> None:
    if ctx.role == "client":
        if on_behalf:
            raise ctx.fail("`on-behalf` is for the PM; as the client, just approve or decline.")
        return
    if ctx.role == "pm" and on_behalf:
        return
    if ctx.role == "pm":
        raise ctx.refuse(
            "Changes are the client's to decide. If they agreed elsewhere, add `on-behalf`."
        )
    raise ctx.refuse("Only the client decides on changes (or the PM on their behalf).")


async def _pending(ctx: CommandContext, number: int) -> ChangeRequest:
    change = await ctx.numbered(ChangeRequest, number, "change")
    if change.status != "pending":
        who = await ctx.session.get(Person, change.decided_by_id) if change.decided_by_id else None
        when = local_date(change.decided_at, ctx.zone) if change.decided_at else None
        by = f" by {who.display_name}" if who else ""
        raise ctx.fail(f"Change {number} was already {change.status}{by} on {when}.")
    return change


def _record(ctx: CommandContext, change: ChangeRequest, status: str, on_behalf: bool) -> str:
    change.status, change.decided_at = status, ctx.now
    change.decided_by_id, change.decided_on_behalf = ctx.me.id, on_behalf
    suffix = " on the client's behalf" if on_behalf else ""
    return f"{ctx.me.display_name}{suffix}"


async def _announce(ctx: CommandContext, team: Message, client: Message) -> Message:
    await ctx.post_to_side("team", team)
    await ctx.post_to_side("client", client)
    return client if ctx.audience == "client" else team


@command(
    "change approve",
    usage="change approve N [on-behalf]",
    summary="Approve a change: raises the budget and moves the due date (client, or PM on-behalf)",
    area="scope",
    roles=EVERYONE,
)
async def change_approve(ctx: CommandContext, args: Args) -> Message:
    number, on_behalf = args.number("change number"), args.flag("on-behalf")
    _may_decide(ctx, on_behalf)
    change = await _pending(ctx, number)
    project = ctx.the_project
    old_budget, old_due = project.budget, project.due_date
    if change.cost or old_budget is not None:
        project.budget = (old_budget or Decimal("0")) + change.cost
    if old_due is not None and change.days:
        project.due_date = calendar_of(project, old_due).add(old_due, change.days)
    who = _record(ctx, change, "approved", on_behalf)
    facts = [("Decided by", who)]
    if project.budget != old_budget:
        before = _money(ctx, old_budget) if old_budget is not None else "none"
        facts.append(("Budget", f"{before} -> {_money(ctx, project.budget or 0)}"))
    if project.due_date != old_due:
        facts.append(("Due", f"{old_due} -> {project.due_date}"))
    team = Message((Heading(f"Change {number} approved: {change.title}"), Facts(tuple(facts))))
    when = f" The delivery date is now {project.due_date}." if project.due_date != old_due else ""
    client = Message(
        (Text(f"Change {number} approved by {who}: {change.title}.{when} The team is on it."),),
        audience="client",
    )
    return await _announce(ctx, team, client)


@command(
    "change decline",
    usage='change decline N ["why"] [on-behalf]',
    summary="Decline a change (client, or PM on-behalf); nothing about the plan changes",
    area="scope",
    roles=EVERYONE,
)
async def change_decline(ctx: CommandContext, args: Args) -> Message:
    number, on_behalf = args.number("change number"), args.flag("on-behalf")
    reason = args.text()
    _may_decide(ctx, on_behalf)
    change = await _pending(ctx, number)
    change.reason = reason
    who = _record(ctx, change, "declined", on_behalf)
    why = f" Reason: {reason}" if reason else ""
    team = Message((Text(f"Change {number} declined by {who}: {change.title}.{why}"),))
    client = Message(
        (Text(f"Change {number} declined by {who}: {change.title}. The scope stays as agreed."),),
        audience="client",
    )
    return await _announce(ctx, team, client)


@command(
    "changes",
    reads_only=True,
    usage="changes",
    summary="Change requests: pending, approved and declined",
    area="scope",
    roles=EVERYONE,
)
async def changes_list(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    rows = (
        await ctx.session.execute(
            select(ChangeRequest, Person.display_name)
            .outerjoin(Person, Person.id == ChangeRequest.decided_by_id)
            .where(ChangeRequest.project_id == project.id)
            .order_by(ChangeRequest.number)
        )
    ).all()
    sections: dict[str, list[Item]] = {"pending": [], "approved": [], "declined": []}
    for change, who in rows:
        sections.setdefault(change.status, []).append(_change_item(ctx, change, who))
    blocks: list = [Heading(f"Changes to the scope of {project.name}")]
    for status, items in sections.items():
        blocks += [Heading(status.capitalize()), Items(tuple(items), empty="None.")]
    pending = [c for c, _ in rows if c.status == "pending"][:CARD_BUTTONS_FOR]
    if ctx.role == "client" and pending:
        buttons = [
            button
            for c in pending
            for button in (
                Button(f"Approve {c.number}", "change approve", str(c.number), "primary"),
                Button(f"Decline {c.number}", "change decline", str(c.number), "danger"),
            )
        ]
        blocks.append(Actions(tuple(buttons)))
    return ctx.say(*blocks)


def _change_item(ctx: CommandContext, change: ChangeRequest, who: str | None) -> Item:
    # The price is shown to the client as well: it is the price they approve.
    text = f"Change {change.number} {change.title}: {_money(ctx, change.cost)}, "
    text += f"+{change.days} working days"
    if change.decided_at is not None:
        day = local_date(change.decided_at, ctx.the_project.timezone)
        behalf = " on the client's behalf" if change.decided_on_behalf else ""
        text += f"; {change.status} by {who}{behalf} on {day}"
    if change.reason:
        text += f". Reason: {change.reason}"
    status = {"pending": "open", "approved": "done"}.get(change.status, "info")
    return Item(text, status)  # type: ignore[arg-type]
