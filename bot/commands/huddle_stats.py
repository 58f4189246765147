"""Looking back at the huddle: `huddle history [@who] [days:14]` (past answers, everyone's
or one person's) and `huddle stats` (PM): participation per required person over the last
4 weeks, the median time from prompt to answer, open blockers with their ages, and the
anonymous mood trend. Team side only: none of this is ever shown to a client audience."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select

from bot.commands.guards import team_side_only
from bot.domain.blocker_rules import age_label, blocker_age
from bot.domain.schedule import calendar, parse_key
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import PM, TEAM, command
from bot.messages import Context, Facts, Heading, Item, Items, Message, Text
from bot.views.drawing import draw_charts
from bot.views.mood_data import MIN_MOOD_ANSWERS, load_mood_days, mood_blocks
from bot.views.notices import day_label
from storage.models import HuddleAnswer, HuddleBlocker, Membership, OccurrenceClaim, Person

STATS_DAYS = 28
MAX_HISTORY_DAYS = 90


@command(
    "huddle history",
    usage="huddle history [@who] [days:14]",
    summary="Past huddle answers: everyone's, or one person's",
    area="huddle",
    roles=TEAM,
    reads_only=True,
)
async def huddle_history(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddle answers")
    mention = args.mention()
    days_text = args.option("days") or "14"
    args.done()
    days = days_text.lower().removesuffix("d")
    if not days.isdigit() or not 1 <= int(days) <= MAX_HISTORY_DAYS:
        raise ctx.fail(f"Look back 1 to {MAX_HISTORY_DAYS} days, like `days:14`.")
    first = ctx.project_today - timedelta(days=int(days) - 1)
    query = (
        select(HuddleAnswer, Person.display_name)
        .join(Person, Person.id == HuddleAnswer.person_id)
        .where(HuddleAnswer.project_id == ctx.the_project.id, HuddleAnswer.huddle_date >= first)
        .order_by(HuddleAnswer.huddle_date.desc(), HuddleAnswer.answered_at)
    )
    who = ""
    if mention is not None:
        person = await ctx.person_for(mention)
        query = query.where(HuddleAnswer.person_id == person.id)
        who = f" of {person.display_name}"
    rows = (await ctx.session.execute(query)).all()
    return ctx.whisper(
        Heading(f"Huddle history{who}: {ctx.the_project.name}, last {days} days"),
        Items(tuple(Item(_history_line(a, name), "info") for a, name in rows), "No answers."),
    )


def _history_line(answer: HuddleAnswer, name: str) -> str:
    if answer.skipped:
        reason = f" ({answer.skip_reason})" if answer.skip_reason else ""
        return f"{day_label(answer.huddle_date)} · {name}: skipped{reason}"
    said = " / ".join(str(a).strip() or "-" for a in answer.answers)
    return f"{day_label(answer.huddle_date)} · {name}: {said}"


@command(
    "huddle stats",
    usage="huddle stats",
    summary="The huddle over 4 weeks: who answers, how fast, open blockers, the mood trend",
    area="huddle",
    roles=PM,
    reads_only=True,
)
async def huddle_stats(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Huddle statistics")
    args.done()
    last = ctx.project_today
    first = last - timedelta(days=STATS_DAYS - 1)
    asked = await _prompts(ctx, first, last)
    answers = list(
        await ctx.session.scalars(
            select(HuddleAnswer).where(
                HuddleAnswer.project_id == ctx.the_project.id,
                HuddleAnswer.huddle_date.between(first, last),
            )
        )
    )
    blocks: list = [Heading(f"Huddle stats: {ctx.the_project.name}, last 4 weeks")]
    blocks.append(Facts(tuple(await _participation(ctx, asked, answers))))
    blocks.append(Text(f"Median answer time after the prompt: {_median_wait(asked, answers)}"))
    blocks += await _open_blockers(ctx)
    blocks += await _mood(ctx, first, last)
    return await draw_charts(ctx.whisper(*blocks))


async def _prompts(
    ctx: CommandContext, first: date, last: date
) -> dict[tuple[int, date], datetime]:
    """(person, huddle day) -> when their prompt went out, for days in [first, last]."""
    prefix = f"huddle-prompt:project={ctx.the_project.id}:person="
    rows = await ctx.session.execute(
        select(OccurrenceClaim.key, OccurrenceClaim.claimed_at).where(
            OccurrenceClaim.key.startswith(prefix), OccurrenceClaim.outcome == "queued"
        )
    )
    found: dict[tuple[int, date], datetime] = {}
    for key, claimed_at in rows:
        _, parts, day = parse_key(key)
        if day is not None and first <= day <= last:
            found[(int(parts["person"]), day)] = claimed_at
    return found


async def _participation(
    ctx: CommandContext, asked: dict[tuple[int, date], datetime], answers: list[HuddleAnswer]
) -> list[tuple[str, str]]:
    rows = await ctx.session.execute(
        select(Person.id, Person.display_name)
        .join(Membership, Membership.person_id == Person.id)
        .where(
            Membership.project_id == ctx.the_project.id,
            Membership.role.in_(("pm", "member")),
            Membership.huddle_optional.is_(False),
        )
        .order_by(Membership.id)
    )
    answered: dict[int, int] = defaultdict(int)
    skipped: dict[int, int] = defaultdict(int)
    for a in answers:
        if (a.person_id, a.huddle_date) in asked:
            (skipped if a.skipped else answered)[a.person_id] += 1
    pairs = []
    for person_id, name in rows:
        days = sum(1 for person, _ in asked if person == person_id)
        if not days:
            pairs.append((name, "not asked yet"))
            continue
        share = round(100 * answered[person_id] / days)
        text = f"answered {answered[person_id]} of {days} days ({share}%)"
        if skipped[person_id]:
            text += f", skipped {skipped[person_id]}"
        pairs.append((name, text))
    return pairs


def _median_wait(asked: dict[tuple[int, date], datetime], answers: list[HuddleAnswer]) -> str:
    waits = [
        (a.answered_at - asked[(a.person_id, a.huddle_date)]).total_seconds() / 60
        for a in answers
        if not a.skipped and (a.person_id, a.huddle_date) in asked
    ]
    if not waits:
        return "no answers yet"
    minutes = round(statistics.median(waits))
    hours, rest = divmod(minutes, 60)
    return f"{hours}h {rest:02d}min" if hours else f"{minutes} min"


async def _open_blockers(ctx: CommandContext) -> list:
    rows = (
        await ctx.session.execute(
            select(HuddleBlocker, Person.display_name)
            .join(Person, Person.id == HuddleBlocker.author_id)
            .where(
                HuddleBlocker.project_id == ctx.the_project.id,
                HuddleBlocker.status != "resolved",
            )
            .order_by(HuddleBlocker.first_day, HuddleBlocker.number)
        )
    ).all()
    project, today = ctx.the_project, ctx.project_today
    cal = calendar(project.working_days, project.country, today.year)
    items = tuple(
        Item(f"#{b.number} {name}: {b.text} ({age_label(blocker_age(cal, b.first_day, today))})",
             "blocked")
        for b, name in rows
    )  # fmt: skip
    return [Heading("Open blockers"), Items(items, "No open blockers.")]


async def _mood(ctx: CommandContext, first: date, last: date) -> list:
    project = ctx.the_project
    days = (await load_mood_days(ctx.session, [project.id], first, last)).get(project.id, [])
    if not days:
        return [Context(f"Mood: no day with {MIN_MOOD_ANSWERS} or more mood answers yet.")]
    return list(mood_blocks(project.name, days))
