"""Action items: what someone agreed to do, usually in the client meeting
(`action "Send the logo files" @carol due:fri`), numbered per project. The team records
them; the owner may be anyone, a client person included: a client's item is listed on the
client agenda and reminded in the client side the working day before and on its due day
(`bot.schedule.meeting_posts`). A client lists the items not kept `--internal` and marks
their own done.

Room: commands."""

from __future__ import annotations

from bot.commands.guards import future_date
from bot.engine.context import CommandContext
from bot.engine.dates import date_in_words
from bot.engine.parsing import Args
from bot.engine.registry import EVERYONE, TEAM, command
from bot.messages import Heading, Items, Message, Text
from bot.views.meeting_data import load_actions
from bot.views.meeting_notes import action_item, client_actions
from storage.models import ActionItem, Person

INTERNAL = "--internal"


@command(
    "action",
    usage='action "Send the logo files" [@who] [due:fri] [--internal]',
    summary="Record an action item (a client person may own it: they get reminders)",
    area="meetings",
    roles=TEAM,
)
async def action_add(ctx: CommandContext, args: Args) -> Message:
    internal = args.flag(INTERNAL)
    due_text = args.option("due")
    mention = args.mention()
    title = args.text("the action")
    args.done()
    assert title is not None
    if internal and ctx.audience == "client":
        raise ctx.refuse(
            "This channel is shared with the client: record internal items in the team channel."
        )
    due = future_date(ctx, due_text, "due date") if due_text else None
    owner: Person | None = await ctx.person_for(mention) if mention else None
    client_owned = owner is not None and await _is_client(ctx, owner)
    if client_owned and internal:
        raise ctx.fail("A client's action item is shown to the client; leave out --internal.")
    item = await ctx.add_numbered(
        ActionItem,
        title=title,
        owner_id=owner.id if owner else None,
        client_owned=client_owned,
        internal=internal,
        due_date=due,
        created_by_id=ctx.me.id,
        created_at=ctx.now,
    )
    who = f" for @{owner.display_name}" if owner else ""
    when = f", due {date_in_words(due)}" if due else ""
    said = [Text(f"Action {item.number} recorded{who}: {title}{when}.")]
    if client_owned and due:
        said.append(
            Text("I'll remind them in the client channel the working day before and on the day.")
        )
    return ctx.say(*said)


async def _is_client(ctx: CommandContext, person: Person) -> bool:
    membership = await ctx.membership_of(person)
    if membership is not None and membership.role == "client":
        return True
    return membership is None and await ctx.is_external(person)


@command(
    "action done",
    usage="action done N",
    summary="Mark an action item done (a client: their own)",
    area="meetings",
    roles=EVERYONE,
)
async def action_done(ctx: CommandContext, args: Args) -> Message:
    number = args.number("action item number")
    args.done()
    item = await ctx.numbered(ActionItem, number, "action item")
    if ctx.role == "client" and not (item.client_owned and item.owner_id == ctx.me.id):
        raise ctx.refuse("You can mark done the action items you own; `actions` lists them.")
    if ctx.audience == "client" and item.internal:
        raise ctx.fail(f"There is no action item {number} in {ctx.the_project.name}.")
    if item.status == "done":
        raise ctx.fail(f"Action item {number} is already done.")
    item.status, item.done_at, item.done_by_id = "done", ctx.now, ctx.me.id
    return ctx.say(Text(f"Action item {number} done: {item.title}."))


@command(
    "actions",
    reads_only=True,
    usage="actions [open|all]",
    questions=(("what are the action items", ""), ("what did we agree to do", "")),
    summary="The action items, open ones or all (to a client: those shown to the client)",
    area="meetings",
    roles=EVERYONE,
)
async def actions_list(ctx: CommandContext, args: Args) -> Message:
    which = (args.word() or "open").lower()
    args.done()
    if which not in ("open", "all"):
        raise ctx.fail(f"`actions` lists open or all items, not `{which[:20]}`.")
    project = ctx.the_project
    found = (await load_actions(ctx.session, [project.id], open_only=which == "open")).get(
        project.id, []
    )
    client = ctx.audience == "client"
    shown = client_actions(found) if client else found
    items = tuple(action_item(a, ctx.project_today, mark=not client) for a in shown)
    label = "Open action items" if which == "open" else "Action items"
    return ctx.say(Heading(f"{label}: {project.name}"), Items(items, empty="No action items."))
