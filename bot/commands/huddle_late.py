"""A huddle day after its digest: whether the digest has gone out, and a late answer that
edits the posted digest in place (an outbox `update` row, Slack chat.update / Teams update
activity) and follows in its thread marked late. Both rows are written in the answer's own
transaction, so the edit happens exactly when the answer is kept, and the outbox delivers
it once, after the digest itself (same channel, same queue)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.delivery.outbox import enqueue
from bot.domain.schedule import calendar, occurrence_key
from bot.engine.context import CommandContext
from bot.views.huddle_notes import answer_reply, blocker_lines, digest, questions_of
from storage.models import (
    Delivery,
    HuddleAnswer,
    HuddleBlocker,
    HuddleConfig,
    Membership,
    OccurrenceClaim,
    Person,
)


def digest_key(project_id: int, day: date) -> str:
    return occurrence_key("huddle-digest", project_id, day)


async def digest_claimed(ctx: CommandContext, day: date) -> bool:
    """Whether the day's digest was claimed (posted, or recorded as skipped)."""
    key = digest_key(ctx.the_project.id, day)
    found = await ctx.session.scalar(select(OccurrenceClaim.id).where(OccurrenceClaim.key == key))
    return found is not None


async def posted_digest(ctx: CommandContext, day: date) -> Delivery | None:
    """The outbox row of the day's digest itself (not its replies, not its edits)."""
    return await ctx.session.scalar(
        select(Delivery).where(
            Delivery.occurrence_key == digest_key(ctx.the_project.id, day),
            Delivery.thread_of.is_(None),
            Delivery.operation == "post",
        )
    )


async def asked_on(ctx: CommandContext, day: date) -> list[Person]:
    """Who was prompted for the day's huddle, in the order they were asked."""
    prefix = f"huddle-prompt:project={ctx.the_project.id}:person="
    keys = await ctx.session.scalars(
        select(OccurrenceClaim.key)
        .where(
            OccurrenceClaim.key.like(f"{prefix}%:{day.isoformat()}"),
            OccurrenceClaim.outcome == "queued",
        )
        .order_by(OccurrenceClaim.id)
    )
    ids = [int(key.removeprefix(prefix).split(":", 1)[0]) for key in keys]
    if not ids:
        return []
    people = {p.id: p for p in await ctx.session.scalars(select(Person).where(Person.id.in_(ids)))}
    return [people[i] for i in dict.fromkeys(ids) if i in people]


async def optional_people(ctx: CommandContext) -> set[int]:
    rows = await ctx.session.scalars(
        select(Membership.person_id).where(
            Membership.project_id == ctx.the_project.id, Membership.huddle_optional.is_(True)
        )
    )
    return set(rows)


async def queue_digest_edit(
    ctx: CommandContext, config: HuddleConfig | None, day: date, person_id: int
) -> bool:
    """Rewrite the posted digest with every answer of `day` and add the late answer to its
    thread. False when no digest was posted (nobody was asked, or no team side)."""
    parent = await posted_digest(ctx, day)
    if parent is None:
        return False
    answers = list(
        await ctx.session.scalars(
            select(HuddleAnswer)
            .where(HuddleAnswer.project_id == ctx.the_project.id, HuddleAnswer.huddle_date == day)
            .order_by(HuddleAnswer.answered_at)
            .execution_options(populate_existing=True)  # just written by a core upsert
        )
    )
    asked = await asked_on(ctx, day)
    names = {p.id: p.display_name for p in asked}
    names[ctx.me.id] = ctx.me.display_name
    missing_names = {a.person_id for a in answers} - set(names)
    if missing_names:
        for person in await ctx.session.scalars(select(Person).where(Person.id.in_(missing_names))):
            names[person.id] = person.display_name
    questions = questions_of(config.questions if config else None)
    project = ctx.the_project
    items = await ctx.session.scalars(
        select(HuddleBlocker)
        .where(HuddleBlocker.project_id == project.id, HuddleBlocker.status != "resolved")
        .order_by(HuddleBlocker.number)
    )
    cal = calendar(project.working_days, project.country, day.year)
    lines = blocker_lines(list(items), day, names, cal)
    optional = await optional_people(ctx)
    message, _ = digest(project, day, questions, answers, asked, names, optional, lines)
    where = {
        "project_id": ctx.the_project.id,
        "platform": parent.platform,
        "tenant": parent.tenant,
        "channel_id": parent.channel_id,
        "target_kind": parent.target_kind,
        "now": ctx.now,
        "thread_of": parent.id,
    }
    enqueue(ctx.session, message=message, operation="update", **where)
    mine = next(a for a in answers if a.person_id == person_id)
    if not mine.skipped:
        enqueue(ctx.session, message=answer_reply(mine, questions, names, late=True), **where)
    return True
