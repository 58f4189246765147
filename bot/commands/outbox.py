"""What the bot could not deliver, for the PM: `outbox [failed]` and `outbox retry`."""

from __future__ import annotations

from sqlalchemy import func, select, update

from bot.commands.guards import team_side_only
from bot.delivery.outbox import unlinked_place
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, command
from bot.messages import Context, Facts, Heading, Item, Items, Message, Text
from bot.messages import message_from_dict as to_message
from bot.views.notices import day_label
from storage.models import ChannelLink, Delivery

SHOWN = 20


@command(
    "outbox",
    reads_only=True,
    usage="outbox [failed]",
    summary="What is waiting to be posted, and what could not be delivered and why",
    area="projects",
    roles=PM,
)
async def outbox(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Delivery details")
    only_failed = args.flag("failed")
    project = ctx.the_project
    blocks: list[Heading | Facts | Items | Text | Context] = [Heading(f"Outbox of {project.name}")]
    if not only_failed:
        counts = dict(
            (
                await ctx.session.execute(
                    select(Delivery.status, func.count(Delivery.id))
                    .where(Delivery.project_id == project.id)
                    .group_by(Delivery.status)
                )
            ).all()
        )
        blocks.append(
            Facts(
                tuple(
                    (s.capitalize(), str(counts.get(s, 0)))
                    for s in ("pending", "sending", "sent", "failed")
                )
            )
        )
    failed = list(
        (
            await ctx.session.scalars(
                select(Delivery)
                .where(Delivery.project_id == project.id, Delivery.status == "failed")
                .order_by(Delivery.id.desc())
                .limit(SHOWN)
            )
        ).all()
    )
    places = await _places(ctx)
    items = tuple(Item(_describe(row, places, ctx), "red") for row in failed)
    blocks += [Heading("Not delivered"), Items(items, empty="Nothing failed.")]
    if failed:
        blocks.append(
            Context("Fix the cause (for example add me back to the channel), then `outbox retry`.")
        )
    return ctx.whisper(*blocks)


async def _places(ctx: CommandContext) -> dict[tuple[str, str], str]:
    links = await ctx.session.scalars(
        select(ChannelLink).where(ChannelLink.project_id == ctx.the_project.id)
    )
    return {
        (link.platform, link.channel_id): f"{link.side} side #{link.name or link.channel_id}"
        for link in links
    }


def _describe(row: Delivery, places: dict[tuple[str, str], str], ctx: CommandContext) -> str:
    where = places.get((row.platform, row.channel_id))
    if where is None:
        where = unlinked_place(row.target_kind, row.channel_id)
    first = to_message(row.message).plain_text().split("\n", 1)[0].strip("*_ ")[:80]
    when = day_label(row.created_at.date())
    tries = f"{row.attempts} attempt" + ("s" if row.attempts != 1 else "")
    return (
        f"#{row.id} {when}, to {where}: “{first}” ({tries}; {row.last_error or 'no reason given'})"
    )


@command(
    "outbox retry",
    usage="outbox retry",
    summary="Try the failed deliveries of this project again",
    area="projects",
    roles=PM,
)
async def outbox_retry(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Delivery details")
    result = await ctx.session.execute(
        update(Delivery)
        .where(Delivery.project_id == ctx.the_project.id, Delivery.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=ctx.now, lease_until=None)
    )
    count = result.rowcount or 0  # type: ignore[attr-defined]
    if not count:
        return ctx.whisper(Text("Nothing failed; nothing to retry."))
    return ctx.whisper(Text(f"Trying {count} failed deliveries again."))
