"""Anonymous mood in the huddle (`huddle set mood:on`): an optional 1-5 with the answers.
Recorded as a count per (project, day, score) with no link to the person; the answer only
remembers that its author's mood of the day is in, so a second answer cannot count twice
(and, being anonymous, cannot change it). Shown only as daily averages of days with at
least `MIN_MOOD_ANSWERS` answers, only to the team (never to a client audience)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select, update

from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from storage.models import HuddleAnswer, HuddleMood
from storage.upsert import count_up


def parse_mood(ctx: CommandContext, text: str | None) -> int | None:
    if text is None or not text.strip():
        return None
    value = text.strip()
    if not value.isdigit() or not 1 <= int(value) <= 5:
        raise ctx.fail(f"Mood is a whole number from 1 (low) to 5 (great), not `{value}`.")
    return int(value)


async def count_mood(ctx: CommandContext, day: date, score: int) -> None:
    await count_up(
        ctx.session,
        HuddleMood,
        {"project_id": ctx.the_project.id, "day": day, "score": score},
        ["project_id", "day", "score"],
        "count",
    )


async def record_mood(ctx: CommandContext, day: date, score: int | None) -> str | None:
    """Count the asker's mood of `day` once (their answer row is written already); what to
    tell them, if anything."""
    if score is None:
        return None
    given = HuddleAnswer.mood_given
    mine = (
        (HuddleAnswer.project_id == ctx.the_project.id)
        & (HuddleAnswer.person_id == ctx.me.id)
        & (HuddleAnswer.huddle_date == day)
    )
    if await ctx.session.scalar(select(given).where(mine)):
        return "Your mood of the day was already counted; it is anonymous, so it stays."
    await ctx.session.execute(update(HuddleAnswer).where(mine).values(mood_given=True))
    await count_mood(ctx, day, score)
    return "Your mood is counted anonymously: the team sees only daily averages of 3 or more."


def mood_from(ctx: CommandContext, args: Args, enabled: bool) -> int | None:
    """The mood given with an answer: the form's field or a typed `mood:4`."""
    text = ctx.fields.get("mood") if ctx.fields else args.option("mood")
    score = parse_mood(ctx, text)
    if score is not None and not enabled:
        raise ctx.fail(
            "This huddle does not ask for mood; the PM can turn it on: `huddle set mood:on`."
        )
    return score
