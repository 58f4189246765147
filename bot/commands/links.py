"""Links to the project's documents: `link add "SOW" https://... [client]`, `links`,
`link remove N`. Only http and https; client-flagged links are shown to the client (and in
the client status), the others only to the team."""

from __future__ import annotations

from urllib.parse import urlsplit

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import TEAM, command
from bot.messages import Heading, Item, Items, Message, Text
from bot.views.link_data import load_links
from storage.models import DocumentLink

MAX_URL = 2000
MAX_LABEL = 200
# Characters a URL never needs and a renderer could read as markup or a line break.
UNSAFE = set('<>"\\`{}|^ ') | {chr(c) for c in range(32)}


def url_problem(url: str) -> str | None:
    """Why `url` is not a link we keep, or None: http(s) to a host, no markup characters."""
    if len(url) > MAX_URL:
        return f"That link is {len(url):,} characters; keep it under {MAX_URL:,}."
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return "Links are web addresses starting with http:// or https://."
    if any(c in UNSAFE for c in url):
        return "That link has characters a web address cannot contain (spaces, quotes, < or >)."
    return None


@command(
    "link add",
    usage='link add "Label" https://... [client]',
    summary="Link a document (SOW, designs, staging); `client` shows it to the client",
    area="links",
    roles=TEAM,
)
async def link_add(ctx: CommandContext, args: Args) -> Message:
    label = args.text("label")
    assert label is not None
    url = args.as_typed("the link (https://...)")
    client = args.flag("client")
    if (problem := url_problem(url)) is not None:
        raise ctx.fail(problem)
    if len(label) > MAX_LABEL:
        raise ctx.fail(f"Keep the label under {MAX_LABEL} characters.")
    link = await ctx.add_numbered(
        DocumentLink,
        label=label,
        url=url,
        client_visible=client,
        added_by_id=ctx.me.id,
        created_at=ctx.now,
    )
    number = link.number
    shown = "shown to the client too" if client else "for the team only"
    return ctx.say(Text(f"Link {number} added, {shown}: {label} {url}"))


@command(
    "links",
    reads_only=True,
    usage="links",
    summary="The project's document links (in the client channel: the client's only)",
    area="links",
    roles=TEAM,
)
async def links(ctx: CommandContext, args: Args) -> Message:
    client = ctx.audience == "client"
    found = await load_links(ctx.session, ctx.the_project.id, client_only=client)
    items = tuple(
        Item(
            f"{link.number}. {link.label}: {link.url}"
            + ("" if client or not link.client_visible else " (client)"),
            "info",
        )
        for link in found
    )
    return ctx.say(Heading(f"Links: {ctx.the_project.name}"), Items(items, empty="No links yet."))


@command(
    "link remove",
    usage="link remove N",
    summary="Remove a document link",
    area="links",
    roles=TEAM,
)
async def link_remove(ctx: CommandContext, args: Args) -> Message:
    link = await ctx.numbered(DocumentLink, args.number("link number"), "link")
    await ctx.session.delete(link)
    return ctx.say(Text(f"Link {link.number} ({link.label}) removed."))
