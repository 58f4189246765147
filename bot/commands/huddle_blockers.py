"""Following up huddle blockers: `blockers [all]`, `blocker ack N`, `blocker resolve N
["note"]` (the PM or the blocker's author; the author is told), `blocker assign N @who`
and `blocker N to-task @owner [due:DATE]`. The digest's and the escalation's Acknowledge
and Resolve buttons are these commands. Blockers are internal: never on the client side."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.commands import plan
from bot.commands.guards import team_side_only
from bot.domain.blocker_rules import age_label, blocker_age
from bot.domain.schedule import calendar
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, parse_date
from bot.engine.registry import PM, TEAM, command
from bot.messages import Context, Heading, Item, Items, Message, Text
from storage.models import HuddleBlocker, Membership, Person, Task

MAX_NOTE = 500


async def _blocker(ctx: CommandContext, args: Args) -> HuddleBlocker:
    team_side_only(ctx, "Blockers")
    return await ctx.numbered(HuddleBlocker, args.number("blocker number"), "blocker")


def _open(ctx: CommandContext, blocker: HuddleBlocker) -> None:
    if blocker.status == "resolved":
        raise ctx.fail(f"Blocker {blocker.number} is already resolved.")


def _age(ctx: CommandContext, blocker: HuddleBlocker) -> int:
    project = ctx.the_project
    cal = calendar(project.working_days, project.country, ctx.project_today.year)
    return blocker_age(cal, blocker.first_day, ctx.project_today)


@command(
    "blockers",
    usage="blockers [all]",
    summary="The huddle's open blockers with their age in working days (all: resolved too)",
    area="huddle",
    roles=TEAM,
    reads_only=True,
)
async def blockers_list(ctx: CommandContext, args: Args) -> Message:
    team_side_only(ctx, "Blockers")
    everything = args.flag("all")
    args.done()
    query = select(HuddleBlocker).where(HuddleBlocker.project_id == ctx.the_project.id)
    if not everything:
        query = query.where(HuddleBlocker.status != "resolved")
    items = list(await ctx.session.scalars(query.order_by(HuddleBlocker.number)))
    ids = {i for b in items for i in (b.author_id, b.assignee_id) if i is not None}
    names = {
        p.id: p.display_name
        for p in await ctx.session.scalars(select(Person).where(Person.id.in_(ids)))
    }
    return ctx.whisper(
        Heading(f"Blockers of {ctx.the_project.name}" + (" (all)" if everything else "")),
        Items(
            tuple(_item(ctx, b, names) for b in items),
            empty="No open blockers." if not everything else "No blockers yet.",
        ),
    )


def _item(ctx: CommandContext, b: HuddleBlocker, names: dict[int, str]) -> Item:
    parts = [f"#{b.number} {names.get(b.author_id, 'someone')}: {b.text}"]
    if b.status == "resolved":
        parts.append("resolved" + (f": {b.resolution}" if b.resolution else ""))
        return Item(" · ".join(parts), "done")
    parts.append(age_label(_age(ctx, b)))
    if b.status == "acknowledged":
        parts.append("acknowledged")
    if b.assignee_id is not None:
        parts.append(f"with {names.get(b.assignee_id, 'someone')}")
    return Item(" · ".join(parts), "blocked")


@command(
    "blocker ack",
    usage="blocker ack N",
    summary="Acknowledge a huddle blocker: someone is on it",
    area="huddle",
    roles=TEAM,
)
async def blocker_ack(ctx: CommandContext, args: Args) -> Message:
    blocker = await _blocker(ctx, args)
    args.done()
    _open(ctx, blocker)
    if blocker.status == "acknowledged":
        return ctx.whisper(Text(f"Blocker {blocker.number} was already acknowledged."))
    blocker.status, blocker.acknowledged_by_id = "acknowledged", ctx.me.id
    return ctx.say(Text(f"{ctx.me.display_name} acknowledged blocker {blocker.number}: "
                        f"{blocker.text}"))  # fmt: skip


@command(
    "blocker resolve",
    usage='blocker resolve N ["note"]',
    summary="Resolve a huddle blocker (the PM or its author); its author is told",
    area="huddle",
    roles=TEAM,
)
async def blocker_resolve(ctx: CommandContext, args: Args) -> Message:
    blocker = await _blocker(ctx, args)
    note = args.text()
    args.done()
    _open(ctx, blocker)
    if not ctx.is_pm and blocker.author_id != ctx.me.id:
        raise ctx.refuse("Only the PM or the person blocked can resolve a blocker.")
    if note is not None and len(note) > MAX_NOTE:
        raise ctx.fail(f"Keep the note under {MAX_NOTE} characters.")
    _resolve(ctx, blocker, note)
    if blocker.author_id != ctx.me.id:
        author = await ctx.session.get(Person, blocker.author_id)
        assert author is not None  # a foreign key
        await ctx.direct_message(
            author,
            Message(
                blocks=(
                    Text(
                        f"{ctx.me.display_name} resolved your blocker {blocker.number} "
                        f"in {ctx.the_project.name}: {blocker.text}"
                    ),  # fmt: skip
                    *((Context(f"Note: {note}"),) if note else ()),
                ),
                audience="internal",
            ),
        )
    return ctx.say(Text(f"Blocker {blocker.number} resolved: {blocker.text}"))


def _resolve(ctx: CommandContext, blocker: HuddleBlocker, note: str | None) -> None:
    blocker.status = "resolved"
    blocker.resolved_by_id, blocker.resolved_at = ctx.me.id, ctx.now
    blocker.resolution = note


@command(
    "blocker assign",
    usage="blocker assign N @who",
    summary="Give a huddle blocker to someone on the team to clear",
    area="huddle",
    roles=TEAM,
)
async def blocker_assign(ctx: CommandContext, args: Args) -> Message:
    blocker = await _blocker(ctx, args)
    mention = args.mention("who clears it")
    assert mention is not None
    args.done()
    _open(ctx, blocker)
    if not ctx.is_pm and blocker.author_id != ctx.me.id:
        raise ctx.refuse("Only the PM or the person blocked can assign a blocker.")
    person = await ctx.person_for(mention)
    on_team = await ctx.session.scalar(
        select(Membership.id).where(
            Membership.project_id == ctx.the_project.id,
            Membership.person_id == person.id,
            Membership.role.in_(("pm", "member")),
        )
    )
    if on_team is None:
        raise ctx.fail(f"{person.display_name} is not on the {ctx.the_project.name} team.")
    blocker.assignee_id = person.id
    if person.id != ctx.me.id:
        await ctx.direct_message(
            person,
            Message(
                blocks=(
                    Text(
                        f"{ctx.me.display_name} asked you to clear blocker {blocker.number} "
                        f"in {ctx.the_project.name}: {blocker.text}"
                    ),  # fmt: skip
                    Context(f"`blocker resolve {blocker.number}` when it is gone."),
                ),
                audience="internal",
            ),
        )
    return ctx.say(Text(f"Blocker {blocker.number} is with {person.display_name}."))


@command(
    "blocker",
    usage="blocker N to-task @owner [due:DATE]",
    summary="Turn a huddle blocker into a task (the blocker is resolved by it)",
    area="huddle",
    roles=PM,
)
async def blocker_to_task(ctx: CommandContext, args: Args) -> Message:
    blocker = await _blocker(ctx, args)
    if (args.word() or "").lower() != "to-task":
        raise ctx.fail(f"Say what to do: `blocker {blocker.number} to-task @owner [due:DATE]`.")
    mention = args.mention("the task's owner")
    assert mention is not None
    due_text = args.option("due")
    args.done()
    _open(ctx, blocker)
    due = parse_date(due_text, ctx.today) if due_text else _next_working_day(ctx)
    title = blocker.text.replace('"', "\u201d")[:480]
    owner = f"<@{mention.user_id}|{mention.name}>" if mention.user_id else f"@{mention.name}"
    added = await plan.task_add(ctx, Args.parse(f'"{title}" {owner} due:{due.isoformat()}'))
    task = await ctx.session.scalar(
        select(Task)
        .where(Task.project_id == ctx.the_project.id)
        .order_by(Task.number.desc())
        .limit(1)
    )
    assert task is not None
    blocker.task_id = task.id
    _resolve(ctx, blocker, f"task {task.number}")
    return ctx.say(
        *added.blocks, Context(f"Blocker {blocker.number} is resolved into task {task.number}.")
    )


def _next_working_day(ctx: CommandContext) -> date:
    project = ctx.the_project
    today = ctx.project_today
    return calendar(project.working_days, project.country, today.year).add(today, 1)
