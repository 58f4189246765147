"""Who the huddle expects: `huddle skip` (not today, with a reason; the prompt's Skip today
button is its typed form), and `huddle optional` / `huddle required` (PM). A skip stands
instead of answers until the digest; optional people are asked once and never missing."""

from __future__ import annotations

from sqlalchemy import select

from bot.commands.blocker_items import record_blocker
from bot.commands.guards import team_side_only
from bot.commands.huddle import config_of, current_huddle_day, parse_huddle_day
from bot.commands.huddle_late import digest_claimed
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, TEAM, command
from bot.messages import Context, Message, Text
from bot.views.notices import day_label
from storage.models import HuddleAnswer, Membership
from storage.upsert import upsert

MAX_REASON = 300


@command(
    "huddle skip",
    usage='huddle skip ["reason"] [day:2026-12-01]',
    summary="Skip today's huddle: no reminder, and the digest lists you under Skipped",
    area="huddle",
    roles=TEAM,
)
async def huddle_skip(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddle answers")
    if await config_of(ctx) is None:
        raise ctx.fail(f"{ctx.the_project.name} has no daily huddle.")
    day_text = args.option("day")
    text = args.text()
    args.done()
    day = parse_huddle_day(ctx, day_text) if day_text else await current_huddle_day(ctx)
    reason = " ".join(text.split()) if text else None
    if reason is not None and len(reason) > MAX_REASON:
        raise ctx.fail(f"Keep the reason under {MAX_REASON} characters.")
    if await digest_claimed(ctx, day):
        raise ctx.fail(
            f"The digest of {day_label(day)} has gone out: a skip is for before it. "
            "Answer late with `huddle answer` instead."
        )
    await upsert(
        ctx.session,
        HuddleAnswer,
        {
            "project_id": ctx.the_project.id,
            "person_id": ctx.me.id,
            "huddle_date": day,
            "answers": [],
            "blockers": None,
            "answered_at": ctx.now,
            "skipped": True,
            "skip_reason": reason,
        },
        ["project_id", "person_id", "huddle_date"],
        update=["answers", "blockers", "answered_at", "skipped", "skip_reason"],
    )
    await record_blocker(ctx, day, None)
    return ctx.whisper(
        Text(f"Skipped the {ctx.the_project.name} huddle of {day_label(day)}: no reminder."),
        Context("Changed your mind? Answering before the digest replaces the skip."),
    )


@command(
    "huddle optional",
    usage="huddle optional @dana",
    summary="Ask someone once, and never list them as missing from the digest",
    area="huddle",
    roles=PM,
)
async def huddle_optional(ctx: CommandContext, args: Args) -> Message:
    return await _set_optional(ctx, args, optional=True)


@command(
    "huddle required",
    usage="huddle required @dana",
    summary="Expect someone's answers: reminded, and listed as missing without them",
    area="huddle",
    roles=PM,
)
async def huddle_required(ctx: CommandContext, args: Args) -> Message:
    return await _set_optional(ctx, args, optional=False)


async def _set_optional(ctx: CommandContext, args: Args, *, optional: bool) -> Message:
    team_side_only(ctx, "Huddles")
    mention = args.mention("who")
    assert mention is not None
    args.done()
    person = await ctx.person_for(mention)
    membership = await ctx.session.scalar(
        select(Membership).where(
            Membership.project_id == ctx.the_project.id,
            Membership.person_id == person.id,
            Membership.role.in_(("pm", "member")),
        )
    )
    if membership is None:
        raise ctx.fail(f"{person.display_name} is not on the {ctx.the_project.name} team.")
    membership.huddle_optional = optional
    if optional:
        text = f"{person.display_name} is optional in the huddle: asked once, never missing."
    else:
        text = f"{person.display_name} is required in the huddle: reminded, and missed if silent."
    return ctx.say(Text(text))
