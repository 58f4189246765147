"""The project's mailing list: `email add`, `emails`, `email remove`. What goes out by
email is always client-safe (the client report, never the internal one); the sending is
the outbox's (`adapters.email`)."""

from __future__ import annotations

from bot.commands.guards import team_side_only
from bot.delivery.mailing_list import (
    find_recipient,
    new_recipient,
    normal_address,
    parse_wants,
    recipients_of,
    remove_recipient,
)
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, command
from bot.errors import UserError
from bot.messages import Context, Item, Items, Message, Text

MAX_ON_LIST = 50


def _address(ctx: CommandContext, args: Args) -> str:
    word = args.word("an email address, like `email add carol@client.com`")
    assert word is not None
    try:
        return normal_address(word)
    except UserError as error:
        raise ctx.fail(error.message) from None


@command(
    "email add",
    usage="email add carol@client.com [report] [agenda] [minutes]",
    summary="Email the weekly client report (and agendas, minutes) to an address",
    area="reports",
    roles=PM,
)
async def email_add(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Mailing lists")
    address = _address(ctx, args)
    words = [t.value for t in args.rest() if t.kind == "word"]
    args.used.update(range(len(args.tokens)))
    try:
        wants = parse_wants(words)
    except UserError as error:
        raise ctx.fail(error.message) from None
    project = ctx.the_project
    recipient = await find_recipient(ctx.session, project.id, address)
    if recipient is not None:
        recipient.wants = wants
        return ctx.whisper(Text(f"{address} now gets: {_listed(wants)}."))
    if len(await recipients_of(ctx.session, project.id)) >= MAX_ON_LIST:
        raise ctx.fail(f"{project.name} already emails {MAX_ON_LIST} addresses; remove one first.")
    ctx.session.add(new_recipient(project.id, address, wants, ctx.me.id, ctx.now, ctx.seal))
    return ctx.whisper(
        Text(f"{address} will get {_listed(wants)} of {project.name} by email."),
        Context("Every email carries a one-click unsubscribe link. `emails` lists the list."),
    )


@command(
    "emails",
    reads_only=True,
    usage="emails",
    summary="Who gets the project's reports by email",
    area="reports",
    roles=PM,
)
async def emails(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Mailing lists")
    found = await recipients_of(ctx.session, ctx.the_project.id)
    items = tuple(Item(f"{r.address}: {_listed(r.wants)}", "info") for r in found)
    return ctx.whisper(
        Text(f"Emails of {ctx.the_project.name}"),
        Items(items, empty="Nobody gets email yet: `email add carol@client.com`."),
    )


@command(
    "email remove",
    usage="email remove carol@client.com",
    summary="Stop emailing an address",
    area="reports",
    roles=PM,
)
async def email_remove(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Mailing lists")
    address = _address(ctx, args)
    recipient = await find_recipient(ctx.session, ctx.the_project.id, address)
    if recipient is None:
        raise ctx.fail(f"{address} is not on the list of {ctx.the_project.name}; see `emails`.")
    await remove_recipient(ctx.session, recipient, f"removed by {ctx.me.display_name}")
    return ctx.whisper(Text(f"{address} gets no more email from {ctx.the_project.name}."))


def _listed(wants: str) -> str:
    names = {"report": "the weekly report", "agenda": "agendas", "minutes": "minutes"}
    return ", ".join(names[w] for w in wants.split(","))
