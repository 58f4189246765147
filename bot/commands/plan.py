"""The plan: milestones (some of them client deliverables) and tasks with owners and dates."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any

from sqlalchemy import Row, Select, and_, bindparam, case, func, select

from bot.commands.guards import team_side_only
from bot.domain.budget import format_hours
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, Mention, parse_duration
from bot.engine.registry import EVERYONE, PM, TEAM, command
from bot.messages import Actions, Button, Context, Heading, Item, Items, ItemStatus, Message, Text
from bot.schedule.pulse import ask_after_signoff
from storage.models import Membership, Milestone, Person, Task
from storage.reads import column_rows

LIST_LIMIT = 50
SOON_DAYS = 2  # a task due within this many days is marked "due"
MILESTONE_SOON_DAYS = 7


def item_status(done: bool, blocked: bool, due: date | None, today: date, soon: int) -> ItemStatus:
    if done:
        return "done"
    if blocked:
        return "blocked"
    if due is not None and due < today:
        return "overdue"
    if due is not None and (due - today).days <= soon:
        return "due"
    return "open"


def _date_words(ctx: CommandContext, args: Args, what: str) -> str:
    """A date given as bare words after the number (`fri`, `next tuesday`) or as due:."""
    given = args.option("due") or args.text()
    if not given:
        raise ctx.fail(f"Say the {what}, like 2026-12-18 or fri.")
    return given


# --- milestones ----------------------------------------------------------------------


@command(
    "milestone add",
    usage='milestone add "Title" due:DATE [client]',
    summary="Add a milestone; `client` marks a deliverable the client sees and signs off",
    area="plan",
    roles=PM,
)
async def milestone_add(ctx: CommandContext, args: Args) -> Message:
    title = args.text("milestone title")
    assert title is not None
    due_read = ctx.read_date(args.required_option("due", "when it is due"))
    due = due_read.day
    client = args.flag("client")
    project = ctx.the_project
    twin = await ctx.session.scalar(
        select(Milestone.number).where(
            Milestone.project_id == project.id, func.lower(Milestone.title) == title.lower()
        )
    )
    if twin is not None:
        raise ctx.fail(f'There is already a milestone "{title}" (number {twin}).')
    milestone = await ctx.add_numbered(
        Milestone, title=title, due_date=due, client_signoff=client, created_at=ctx.now
    )
    number = milestone.number
    kind = "client deliverable" if client else "milestone"
    blocks: list[Text | Context] = [
        Text(f'Added {kind} {number} "{title}", due {due}.'),
        ctx.date_said(due_read, "due"),
    ]
    if project.due_date and due > project.due_date:
        blocks.append(Context(f"That is after the project's due date, {project.due_date}."))
    return ctx.say(*blocks)


@command(
    "milestone due",
    usage="milestone due N DATE",
    summary="Move a milestone's due date",
    area="plan",
    roles=PM,
)
async def milestone_due(ctx: CommandContext, args: Args) -> Message:
    milestone = await ctx.numbered(Milestone, args.number("milestone number"), "milestone")
    due = ctx.read_date(_date_words(ctx, args, "new due date"))
    old, milestone.due_date = milestone.due_date, due.day
    return ctx.say(
        Text(f'Milestone {milestone.number} "{milestone.title}": due {due.day} (was {old}).'),
        ctx.date_said(due, "due"),
    )


@command(
    "milestone done",
    usage="milestone done N",
    summary="Mark a milestone delivered; a client deliverable then asks the client to sign off",
    area="plan",
    roles=PM,
)
async def milestone_done(ctx: CommandContext, args: Args) -> Message:
    milestone = await ctx.numbered(Milestone, args.number("milestone number"), "milestone")
    if milestone.done_at is not None:
        raise ctx.fail(f'Milestone {milestone.number} "{milestone.title}" is already done.')
    milestone.done_at = ctx.now
    if not milestone.client_signoff:
        return ctx.say(Text(f'Milestone {milestone.number} "{milestone.title}" is done.'))
    card = _signoff_card(ctx, milestone)
    if ctx.audience == "client":
        return card
    posted = await ctx.post_to_side("client", card)
    note = (
        f"I asked {ctx.the_project.client_name} to sign it off in the client channel."
        if posted
        else "No client channel is linked (`project link client`); the client can type "
        f"`milestone signoff {milestone.number}`."
    )
    return ctx.say(
        Text(f'Milestone {milestone.number} "{milestone.title}" is delivered.'), Context(note)
    )


def _signoff_card(ctx: CommandContext, milestone: Milestone) -> Message:
    return Message(
        blocks=(
            Heading(f"Delivered: {milestone.title}"),
            Text(
                f"{ctx.the_project.name}: this deliverable is ready. Please review and sign it off."
            ),
            Actions((Button("Sign off", "milestone signoff", str(milestone.number), "primary"),)),
        ),
        audience="client",
    )


@command(
    "milestone signoff",
    usage="milestone signoff N [on-behalf]",
    summary="The client signs off a delivered deliverable (a PM adds on-behalf)",
    area="plan",
    roles=frozenset({"pm", "client"}),
)
async def milestone_signoff(ctx: CommandContext, args: Args) -> Message:
    milestone = await ctx.numbered(Milestone, args.number("milestone number"), "milestone")
    on_behalf = args.flag("on-behalf")
    if ctx.role == "pm" and not on_behalf:
        raise ctx.refuse("Sign-off is the client's. If they confirmed elsewhere, add `on-behalf`.")
    if not milestone.client_signoff:
        raise ctx.fail(f"Milestone {milestone.number} is not a client deliverable.")
    if milestone.done_at is None:
        raise ctx.fail(f'"{milestone.title}" is not delivered yet, so it cannot be signed off.')
    if milestone.signed_off_at is not None:
        raise ctx.fail(f'"{milestone.title}" is already signed off.')
    milestone.signed_off_by_id, milestone.signed_off_at = ctx.me.id, ctx.now
    who = ctx.me.display_name + (" (on the client's behalf)" if ctx.role == "pm" else "")
    await ctx.post_to_side(
        "team",
        Message((Text(f'{who} signed off milestone {milestone.number} "{milestone.title}".'),)),
    )
    # The client just judged a deliverable: a good moment to ask how they feel overall.
    await ask_after_signoff(ctx.session, ctx.the_project, ctx.now)
    return ctx.say(Text(f'Thank you: "{milestone.title}" is signed off by {who}.'))


@command(
    "milestones",
    reads_only=True,
    usage="milestones",
    summary="Milestones with due dates and progress (clients see their deliverables)",
    area="plan",
    roles=EVERYONE,
)
async def milestones(ctx: CommandContext, args: Args) -> Message:
    project, client = ctx.the_project, ctx.audience == "client"
    done = func.sum(case((Task.status == "done", 1), else_=0))
    query = (
        select(Milestone, func.count(Task.id), done)
        .outerjoin(Task, Task.milestone_id == Milestone.id)
        .where(Milestone.project_id == project.id)
        .group_by(Milestone.id)
        .order_by(Milestone.due_date, Milestone.number)
    )
    if client:
        query = query.where(Milestone.client_signoff.is_(True))
    items = []
    for milestone, total, finished in (await ctx.session.execute(query)).all():
        text = f"{milestone.number}. {milestone.title} · due {milestone.due_date}"
        if not client and total:
            text += f" · {finished or 0}/{total} tasks done"
        if milestone.client_signoff:
            text += " · signed off" if milestone.signed_off_at else " · client sign-off"
        status = item_status(
            milestone.done_at is not None, False, milestone.due_date, ctx.project_today,
            MILESTONE_SOON_DAYS,
        )  # fmt: skip
        items.append(Item(text, status))
    return ctx.say(
        Heading(f"Milestones of {project.name}"), Items(tuple(items), "No milestones yet.")
    )


# --- tasks -----------------------------------------------------------------------------


async def _owner(ctx: CommandContext, mention: Mention) -> Person:
    person = await ctx.person_for(mention)
    membership = await ctx.membership_of(person)
    if membership is None or membership.role == "client" or await ctx.is_external(person):
        raise ctx.fail(
            f"{person.display_name} is not on the delivery team of {ctx.the_project.name}; "
            f"`team add @{person.display_name}` them first."
        )
    return person


async def _milestone_ref(ctx: CommandContext, text: str) -> Milestone:
    if text.lstrip("#").isdigit() and len(text) < 10:
        return await ctx.numbered(Milestone, int(text.lstrip("#")), "milestone")
    found = await ctx.session.scalar(
        select(Milestone)
        .where(
            Milestone.project_id == ctx.the_project.id,
            func.lower(Milestone.title) == text.lower(),
        )
        .order_by(Milestone.number)
        .limit(1)
    )
    if found is None:
        raise ctx.fail(f'There is no milestone "{text}"; `milestones` lists them.')
    return found


async def _tell_owner(ctx: CommandContext, owner: Person, task: Task, what: str) -> None:
    if owner.id == ctx.me.id:
        return
    value = f'{task.number} project:"{ctx.the_project.name}"'
    await ctx.direct_message(
        owner,
        Message(
            (
                Text(f"{ctx.me.display_name} {what} task {task.number}: {task.title}."),
                Context(f"{ctx.the_project.name} · due {task.due_date}"),
                Actions((Button("Mark done", "task done", value, "primary"),)),
            )
        ),
    )


@command(
    "task add",
    usage='task add "Title" @owner due:DATE [milestone:"Beta"|milestone:N] [est:8h]',
    summary="Add a task with an owner and a due date",
    area="plan",
    roles=PM,
    turn="project",
)
async def task_add(ctx: CommandContext, args: Args) -> Message:
    title = args.text("task title")
    assert title is not None
    mention = args.mention("the task's owner")
    assert mention is not None
    due_read = ctx.read_date(args.required_option("due", "when it is due"))
    due = due_read.day
    milestone_text = args.option("milestone")
    estimate_text = args.option("est")
    project = ctx.the_project
    estimate = parse_duration(estimate_text, project.day_hours) if estimate_text else None
    owner = await _owner(ctx, mention)
    milestone = await _milestone_ref(ctx, milestone_text) if milestone_text else None
    task = await ctx.add_numbered(
        Task,
        title=title,
        owner_id=owner.id,
        milestone_id=milestone.id if milestone else None,
        due_date=due,
        status="open",
        estimate_hours=estimate,
        created_by_id=ctx.me.id,
        created_at=ctx.now,
    )
    await _tell_owner(ctx, owner, task, "gave you")
    blocks: list[Text | Context] = [
        Text(f"Task {task.number} added: {title} · {owner.display_name} · due {due}"),
        ctx.date_said(due_read, "due"),
    ]
    if milestone and due > milestone.due_date:
        blocks.append(
            Context(f'Due after its milestone "{milestone.title}" ({milestone.due_date}).')
        )
    return ctx.say(*blocks)


@command(
    "task assign",
    usage="task assign N @who",
    summary="Give a task to someone on the team",
    area="plan",
    roles=PM,
)
async def task_assign(ctx: CommandContext, args: Args) -> Message:
    task = await ctx.numbered(Task, args.number("task number"), "task")
    mention = args.mention("who to give it to")
    assert mention is not None
    owner = await _owner(ctx, mention)
    task.owner_id = owner.id
    await _tell_owner(ctx, owner, task, "gave you")
    return ctx.say(Text(f"Task {task.number} ({task.title}) is now {owner.display_name}'s."))


@command(
    "task due",
    usage="task due N DATE",
    summary="Move a task's due date",
    area="plan",
    roles=PM,
)
async def task_due(ctx: CommandContext, args: Args) -> Message:
    task = await ctx.numbered(Task, args.number("task number"), "task")
    due = ctx.read_date(_date_words(ctx, args, "new due date"))
    old, task.due_date = task.due_date, due.day
    was = f" (was {old})" if old else ""
    return ctx.say(
        Text(f"Task {task.number} ({task.title}) is due {due.day}{was}."),
        ctx.date_said(due, "due"),
    )


async def _own_task(ctx: CommandContext, args: Args, doing: str) -> Task:
    """The numbered task, if the asker may change it: its owner or a PM."""
    task = await ctx.numbered(Task, args.number("task number"), "task")
    if ctx.is_pm or (task.owner_id is not None and task.owner_id == ctx.me.id):
        return task
    owner = await ctx.session.get(Person, task.owner_id) if task.owner_id else None
    whose = f"{owner.display_name}'s" if owner else "not yours"
    raise ctx.refuse(f"Task {task.number} is {whose}; only its owner or the PM can {doing} it.")


@command(
    "task done",
    usage="task done N",
    aliases=("done", "finish", "finished", "complete"),
    summary="Mark a task done (your own, or any as PM)",
    area="plan",
    roles=TEAM,
    turn="project",
)
async def task_done(ctx: CommandContext, args: Args) -> Message:
    task = await _own_task(ctx, args, "close")
    if task.status == "done":
        raise ctx.fail(f"Task {task.number} is already done.")
    task.status, task.done_at, task.blocked_reason = "done", ctx.now, None
    return ctx.say(Text(f"Task {task.number} done: {task.title}."))


@command(
    "task reopen",
    usage="task reopen N",
    summary="Reopen a done or blocked task",
    area="plan",
    roles=TEAM,
)
async def task_reopen(ctx: CommandContext, args: Args) -> Message:
    task = await _own_task(ctx, args, "reopen")
    if task.status == "open":
        raise ctx.fail(f"Task {task.number} is already open.")
    task.status, task.done_at, task.blocked_reason = "open", None, None
    return ctx.say(Text(f"Task {task.number} is open again: {task.title}."))


@command(
    "task block",
    usage='task block N "why"',
    summary="Mark a task blocked and say why",
    area="plan",
    roles=TEAM,
)
async def task_block(ctx: CommandContext, args: Args) -> Message:
    task = await _own_task(ctx, args, "block")
    reason = args.text("why it is blocked")
    assert reason is not None
    if task.status == "done":
        raise ctx.fail(f"Task {task.number} is done; `task reopen {task.number}` it first.")
    task.status, task.blocked_reason = "blocked", reason
    text = Text(f"Task {task.number} ({task.title}) is blocked: {reason}")
    await ctx.post_to_side("team", Message((text,)))
    return ctx.say(text)


# --- the list ----------------------------------------------------------------------------


def _due_window(ctx: CommandContext, text: str) -> tuple[date | None, date]:
    today = ctx.today
    key = text.lower()
    if key in ("this-week", "week"):
        return None, today + timedelta(days=6 - today.weekday())
    if key == "next-week":
        monday = today + timedelta(days=7 - today.weekday())
        return monday, monday + timedelta(days=6)
    return None, ctx.read_date(text).day


async def _member_named(ctx: CommandContext, mention: Mention) -> Person:
    """Someone on this project, found without creating anyone (this is only a read)."""
    named = (
        Person.external_id == mention.user_id
        if mention.user_id
        else func.lower(Person.display_name) == mention.name.lower()
    )
    person = await ctx.session.scalar(
        select(Person)
        .join(Membership, Membership.person_id == Person.id)
        .where(Membership.project_id == ctx.the_project.id, named)
        .limit(1)
    )
    if person is None:
        raise ctx.fail(f"@{mention.name} is not on {ctx.the_project.name}.")
    return person


# The task list's filters by name, each built once with bound parameters for what
# varies: a list's statement is built once for each combination used (_task_list_query).
_TASK_FILTERS: dict[str, Any] = {
    "not done": Task.status != "done",
    "done": Task.status == "done",
    "mine": Task.owner_id == bindparam("me_id"),
    "blocked": Task.status == "blocked",
    "overdue": and_(Task.due_date < bindparam("today"), Task.status != "done"),
    "owner": Task.owner_id == bindparam("owner_id"),
    "due by": Task.due_date <= bindparam("due_end"),
    "due from": Task.due_date >= bindparam("due_start"),
    "has due": Task.due_date.is_not(None),
}


async def _task_filters(
    ctx: CommandContext, args: Args
) -> tuple[tuple[str, ...], dict[str, Any], str]:
    """The names of the filters the line asks for, their parameters, and the list's title."""
    filters: list[str] = []
    params: dict[str, Any] = {}
    label = "Open tasks"
    if args.flag("all"):
        label = "All tasks"
    elif args.flag("done"):
        filters.append("done")
        label = "Done tasks"
    else:
        filters.append("not done")
    if args.flag("mine"):
        filters.append("mine")
        params["me_id"] = ctx.me.id
        label += " of yours"
    if args.flag("blocked"):
        filters.append("blocked")
        label = "Blocked tasks"
    if args.flag("overdue"):
        filters.append("overdue")
        params["today"] = ctx.today
        label = "Overdue tasks"
    if (who := args.mention()) is not None:
        person = await _member_named(ctx, who)
        filters.append("owner")
        params["owner_id"] = person.id
        label += f" of {person.display_name}"
    if (due := args.option("due")) is not None:
        start, end = _due_window(ctx, due)
        filters += ["due by", "due from" if start else "has due"]
        params |= {"due_end": end, "due_start": start} if start else {"due_end": end}
        label += f" due by {end}"
    return tuple(filters), params, label


@lru_cache(maxsize=64)
def _task_list_query(filters: tuple[str, ...]) -> Select[Any]:
    """The list's columns, owners and milestones joined, soonest first, for the filters
    named: built once for each combination asked for. `_task_item` unpacks its columns
    in this order."""
    return (
        select(
            Task.number,
            Task.title,
            Task.due_date,
            Task.estimate_hours,
            Task.status,
            Task.blocked_reason,
            Person.display_name.label("owner"),
            Milestone.title.label("milestone"),
            func.count().over().label("total"),
        )
        .outerjoin(Person, Person.id == Task.owner_id)
        .outerjoin(Milestone, Milestone.id == Task.milestone_id)
        .where(Task.project_id == bindparam("project_id"))
        .where(*(_TASK_FILTERS[name] for name in filters))
        .order_by(Task.status == "done", Task.due_date.is_(None), Task.due_date, Task.number)
        .limit(LIST_LIMIT)
    )


@command(
    "tasks",
    cached="project",
    shared=True,
    usage="tasks [mine|@who|overdue|blocked|done|all] [due:this-week|next-week|DATE]",
    questions=(
        ("what's overdue", "overdue"),
        ("what is late", "overdue"),
        ("what's due this week", "due:this-week"),
        ("what's due next week", "due:next-week"),
        ("what's blocked", "blocked"),
        ("what are my tasks", "mine"),
    ),
    summary="The task list, with overdue, due-soon, blocked and done marks",
    area="plan",
    roles=TEAM,
)
async def tasks(ctx: CommandContext, args: Args) -> Message:
    # Owners, estimates and blocked reasons are internal: never listed where a client reads.
    team_side_only(ctx, "Task lists")
    project = ctx.the_project
    filters, params, label = await _task_filters(ctx, args)
    rows = await column_rows(
        ctx.session, _task_list_query(filters), {"project_id": project.id, **params}
    )
    today = ctx.today  # the asker's day, worked out once for the whole list
    items = tuple(_task_item(row, today) for row in rows)
    blocks: list[Heading | Items | Context] = [
        Heading(f"{label}: {project.name}"),
        Items(items, empty="No tasks match."),
    ]
    total = rows[0].total if rows else 0
    if total > len(rows):
        blocks.append(
            Context(f"Showing {len(rows)} of {total}; narrow it with mine, @who or due:.")
        )
    return ctx.say(*blocks)


def _task_item(task: Row[Any], today: date) -> Item:
    """One line of the list, from the columns `tasks` reads (no ORM object per task).
    The row is unpacked once: reading a Row's columns by name costs ~0.3 us each, a dozen
    a line, fifty lines a list."""
    number, title, due, estimate, state, reason, owner, milestone, _ = task
    parts = [f"{number}. {title}", owner or "no owner"]
    if due:
        parts.append(f"due {due}")
    if milestone:
        parts.append(milestone)
    if estimate:
        parts.append(f"est {_hours(estimate)}")
    blocked = state == "blocked"
    if blocked:
        if due and due < today:
            parts.append("overdue")  # the blocked mark hides it otherwise
        parts.append(f"blocked: {reason or 'no reason given'}")
    status = item_status(state == "done", blocked, due, today, SOON_DAYS)
    return Item(" · ".join(parts), status)


def _hours(hours: Decimal) -> str:
    return format_hours(hours)
