"""Calendar feeds by URL: `calendar`, `calendar mine`, `calendar client [post]` and
`calendar reset [client|mine]`. The feeds themselves are served by `adapters.feeds` and
built by `bot.views.calendar_feed`; here a feed's row is made, shown and rotated."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands.guards import team_side_only
from bot.domain.access_tokens import new_token
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import ANYONE, PM, TEAM, command
from bot.messages import Context, Message, Text
from bot.views.calendar_feed import feed_scope
from storage.models import CalendarFeed

HOW_TO_SUBSCRIBE = (
    "Subscribe to it by URL (Outlook: Add calendar > Subscribe from web; Google Calendar: "
    "Other calendars > From URL; Apple Calendar: File > New Calendar Subscription). "
    "Anyone with the link can read it: `calendar reset` makes a new one."
)


@command(
    "calendar",
    usage="calendar",
    summary="A private link to the project's calendar (milestones, task due dates)",
    area="reports",
    roles=TEAM,
)
async def calendar(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Team calendars")
    feed = await _feed(ctx, "team")
    return _link_reply(ctx, feed, f"The calendar of {ctx.the_project.name}")


@command(
    "calendar mine",
    usage="calendar mine",
    summary="A private link to a calendar of your tasks across all your projects",
    area="reports",
    roles=ANYONE,
    needs_project=False,
)
async def calendar_mine(ctx: CommandContext, args: Args) -> Message:
    await _not_for_clients(ctx)
    feed = await _feed(ctx, "mine")
    return _link_reply(ctx, feed, "Your tasks, across all your projects")


@command(
    "calendar client",
    usage="calendar client",
    summary="The link to the client's calendar (deliverables and dates only)",
    area="reports",
    roles=PM,
)
async def calendar_client(ctx: CommandContext, args: Args) -> Message:
    feed = await _feed(ctx, "client")
    reply = _link_reply(ctx, feed, f"The client calendar of {ctx.the_project.name}")
    return Message(reply.blocks, audience="client", visibility="ephemeral")


@command(
    "calendar client post",
    usage="calendar client post",
    summary="Post the client calendar's link to the client side",
    area="reports",
    roles=PM,
)
async def calendar_client_post(ctx: CommandContext, args: Args) -> Message:
    feed = await _feed(ctx, "client")
    project = ctx.the_project
    message = Message(
        (
            Text(f"The calendar of {project.name}: {feed_url(ctx, feed)}"),
            Context("Deliverables and dates. " + HOW_TO_SUBSCRIBE.split(" Anyone")[0]),
        ),
        audience="client",
    )
    if not await ctx.post_to_side("client", message):
        raise ctx.fail("No client side is linked yet: run `project link client` there first.")
    return ctx.whisper(Text("Posted the client calendar link to the client side."))


@command(
    "calendar reset",
    usage="calendar reset [client|mine]",
    summary="A new calendar link; the old one stops working at once",
    area="reports",
    roles=ANYONE,
    needs_project=False,
)
async def calendar_reset(ctx: CommandContext, args: Args) -> Message:
    kind = {None: "team", "client": "client", "mine": "mine"}.get(_lower(args.word()))
    if kind is None:
        raise ctx.fail("Say `calendar reset`, `calendar reset client` or `calendar reset mine`.")
    await _not_for_clients(ctx)
    if kind == "client" and not ctx.is_pm:
        raise ctx.refuse("Only the project's PM can reset the client calendar link.")
    if kind == "team":
        if ctx.role not in ("pm", "member"):
            raise ctx.refuse(
                f"Only the team of {ctx.the_project.name} can reset its calendar link."
            )
        team_side_only(ctx, "Team calendars")
    feed = await _feed(ctx, kind, rotate=True)
    reply = _link_reply(ctx, feed, "A new link; the old one no longer works")
    return Message(reply.blocks, audience=ctx.audience, visibility="ephemeral")


def _lower(word: str | None) -> str | None:
    return word.lower() if word else None


async def _not_for_clients(ctx: CommandContext) -> None:
    if ctx.role == "client" or await ctx.is_external(ctx.me):
        raise ctx.refuse("Calendar links of the delivery team are for the delivery team.")


async def _feed(ctx: CommandContext, kind: str, *, rotate: bool = False) -> CalendarFeed:
    """The feed of `kind` for this project (or this person), made on first use."""
    if not ctx.public_url:
        raise ctx.fail(
            "Calendar links need the address people reach me at: set LIAISON_PUBLIC_URL "
            "(for example https://liaison.example.com) and restart."
        )
    if kind == "mine":
        scope = feed_scope(kind, person_id=ctx.me.id)
        owner = {"person_id": ctx.me.id}
    else:
        scope = feed_scope(kind, project_id=ctx.the_project.id)
        owner = {"project_id": ctx.the_project.id}
    feed = await ctx.session.scalar(select(CalendarFeed).where(CalendarFeed.scope == scope))
    if feed is not None and not rotate:
        return feed
    token = new_token()
    if feed is None:
        feed = CalendarFeed(scope=scope, kind=kind, created_at=ctx.now, **owner)
        ctx.session.add(feed)
    # Sealed: who reads the database does not read the links (found by their digest).
    feed.token, feed.token_digest = ctx.seal(token.token), token.digest
    feed.created_at = ctx.now
    await ctx.session.flush()
    return feed


def feed_url(ctx: CommandContext, feed: CalendarFeed) -> str:
    assert ctx.public_url is not None
    return f"{ctx.public_url.rstrip('/')}/calendar/{ctx.unsealed(feed.token)}.ics"


def _link_reply(ctx: CommandContext, feed: CalendarFeed, title: str) -> Message:
    return ctx.whisper(Text(f"{title}: {feed_url(ctx, feed)}"), Context(HOW_TO_SUBSCRIBE))
