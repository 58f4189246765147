"""Client requests: logged and acknowledged in plain words, shown to the team, and turned
by the PM into a task, a change request or an answer."""

from __future__ import annotations

from sqlalchemy import select

from bot.clock import local_date
from bot.commands.changes import parse_days, parse_price, raise_change
from bot.commands.guards import team_person
from bot.engine.context import CommandContext
from bot.engine.parsing import Args
from bot.engine.registry import EVERYONE, PM, command
from bot.messages import Context, Heading, Item, Items, Message, Text
from storage.models import ChangeRequest, ClientRequest, Person, Task

LIST_LIMIT = 50
ACTION_NAMES = ("to-task", "to-change", "answer")
STATES = {
    "open": "waiting for the team",
    "task": "being worked on",
    "change": "proposed as a change",
    "answered": "answered",
}


@command(
    "request",
    usage='request "What you need"',
    summary="Ask the team for something; it is logged and you get an answer here",
    area="requests",
    roles=EVERYONE,  # checked below: clients and the PM raise, the PM handles
)
async def request_new(ctx: CommandContext, args: Args) -> Message:
    action = _pm_action(args)
    if action is not None:
        # `request 3 to-task @bob`: the number comes before the action's name.
        handler = ACTIONS[action]
        if ctx.role != "pm":
            raise ctx.refuse(f"`request N {action}` is for the project's PM.")
        ctx.usage = args.usage = handler.__commands__[0].usage  # type: ignore[attr-defined]
        return await handler(ctx, args)
    if ctx.role not in ("client", "pm"):
        raise ctx.refuse("Requests are raised by the client (or the PM for them).")
    text = args.text("your request")
    assert text is not None
    request = await ctx.add_numbered(
        ClientRequest, text=text, raised_by_id=ctx.me.id, status="open", created_at=ctx.now
    )
    n = request.number
    await ctx.post_to_side(
        "team",
        Message(
            (
                Heading(f"Client request {n} from {ctx.me.display_name}"),
                Text(text),
                Context(
                    f"`request {n} to-task @owner [due:DATE]`, "
                    f'`request {n} to-change cost:AMOUNT days:N` or `request {n} answer "..."`'
                ),
            )
        ),
    )
    return ctx.say(
        Text(
            f"Thank you, {ctx.me.display_name}. I have logged your request as number {n} "
            "and passed it to the team. You will hear back here."
        )
    )


def _pm_action(args: Args) -> str | None:
    """`to-task`, `to-change` or `answer` when the words after `request` are `N action`."""
    tokens = args.tokens
    if len(tokens) < 2 or tokens[0].kind != "word" or tokens[1].kind != "word":
        return None
    action = tokens[1].value.lower()
    if not tokens[0].value.lstrip("#").isdigit() or action not in ACTION_NAMES:
        return None
    args.used.add(1)
    return action


async def _open_request(ctx: CommandContext, number: int) -> ClientRequest:
    request = await ctx.numbered(ClientRequest, number, "request")
    if request.status != "open":
        raise ctx.fail(f"Request {number} is already {STATES[request.status]}.")
    return request


async def _tell_client(ctx: CommandContext, text: str) -> Message:
    message = Message((Text(text),), audience="client")
    await ctx.post_to_side("client", message)
    return message


@command(
    "request to-task",
    usage="request N to-task @owner [due:DATE]",
    summary="Turn a client request into a task for someone on the team",
    area="requests",
    roles=PM,
)
async def request_to_task(ctx: CommandContext, args: Args) -> Message:
    number = args.number("request number")
    mention = args.mention("the task's owner")
    due_text = args.option("due")
    assert mention is not None
    due_read = ctx.read_date(due_text) if due_text else None
    due = due_read.day if due_read else None
    request = await _open_request(ctx, number)
    owner = await team_person(ctx, mention)
    task = await ctx.add_numbered(
        Task,
        title=request.text[:500],
        owner_id=owner.id,
        due_date=due,
        status="open",
        created_by_id=ctx.me.id,
        created_at=ctx.now,
    )
    request.status, request.task_id = "task", task.id
    planned = f", planned for {due}" if due else ""
    told = await _tell_client(ctx, f"Your request {number} is being worked on{planned}.")
    if ctx.audience == "client":
        return told
    return ctx.say(
        Text(f"Request {number} is now task {task.number} for @{owner.display_name}{planned}."),
        *([ctx.date_said(due_read, "due")] if due_read else []),
        Context("I told the client it is being worked on."),
    )


@command(
    "request to-change",
    usage="request N to-change cost:AMOUNT days:N",
    summary="Turn a client request into a change request the client approves",
    area="requests",
    roles=PM,
)
async def request_to_change(ctx: CommandContext, args: Args) -> Message:
    number = args.number("request number")
    cost = parse_price(ctx, args.option("cost"))
    days = parse_days(ctx, args.option("days"))
    request = await _open_request(ctx, number)
    request.status = "change"
    return await raise_change(ctx, request.text, cost, days, request)


@command(
    "request answer",
    usage='request N answer "..."',
    summary="Answer a client request; the answer is posted to the client side",
    area="requests",
    roles=PM,
)
async def request_answer(ctx: CommandContext, args: Args) -> Message:
    number = args.number("request number")
    answer = args.text("the answer")
    assert answer is not None
    request = await ctx.numbered(ClientRequest, number, "request")
    if request.status == "answered":
        raise ctx.fail(f"Request {number} is already answered.")
    request.status, request.answer, request.resolved_at = "answered", answer, ctx.now
    told = await _tell_client(ctx, f'About your request {number} ("{request.text}"): {answer}')
    if ctx.audience == "client":
        return told
    return ctx.say(Text(f"Request {number} answered; I posted the answer for the client."))


ACTIONS = {
    "to-task": request_to_task,
    "to-change": request_to_change,
    "answer": request_answer,
}


@command(
    "requests",
    reads_only=True,
    usage="requests [open]",
    summary="Client requests and what became of them",
    area="requests",
    roles=EVERYONE,
)
async def requests_list(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    only_open = args.flag("open")
    query = (
        select(
            ClientRequest,
            Person.display_name,
            Task.number,
            ChangeRequest.number,
            ChangeRequest.status,
        )
        .join(Person, Person.id == ClientRequest.raised_by_id)
        .outerjoin(Task, Task.id == ClientRequest.task_id)
        .outerjoin(ChangeRequest, ChangeRequest.client_request_id == ClientRequest.id)
        .where(ClientRequest.project_id == project.id)
        .order_by(ClientRequest.number.desc())
        .limit(LIST_LIMIT)
    )
    if only_open:
        query = query.where(ClientRequest.status == "open")
    rows = (await ctx.session.execute(query)).all()
    client = ctx.audience == "client"
    items = tuple(
        _request_item(ctx, r, who, task, (change, decided), client=client)
        for r, who, task, change, decided in rows
    )
    heading = "Your requests" if client else f"Client requests of {project.name}"
    return ctx.say(Heading(heading), Items(items, empty="No requests."))


def _request_item(
    ctx: CommandContext,
    request: ClientRequest,
    who: str,
    task: int | None,
    change: tuple[int | None, str | None],
    *,
    client: bool,
) -> Item:
    day = local_date(request.created_at, ctx.the_project.timezone)
    text = f"Request {request.number} ({day}, {who}): {request.text}. {STATES[request.status]}"
    if request.status == "answered" and request.answer:
        text += f": {request.answer}"
    if change[0] is not None:
        text += f" (change {change[0]}, {change[1]})"
    if task is not None and not client:
        text += f" (task {task})"
    return Item(text, "open" if request.status == "open" else "info")
