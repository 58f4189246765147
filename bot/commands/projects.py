"""Projects: start one, link its channels, change its settings, list them."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from bot.engine.context import CommandContext, projects_of
from bot.engine.dates import DateRead
from bot.engine.parsing import (
    Args,
    parse_clock,
    parse_currency,
    parse_money,
    parse_timezone,
)
from bot.engine.registry import ANYONE, PM, command
from bot.messages import Context, Facts, Heading, Item, Items, Message, Text
from storage.models import ChannelLink, Membership, Project

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@command(
    "project new",
    usage='project new "Name" client:"Client" [budget:AMOUNT] [due:DATE] [tz:Area/City]',
    summary="Start a project; you become its PM and this channel its team side",
    area="projects",
    roles=ANYONE,
    needs_project=False,
)
async def project_new(ctx: CommandContext, args: Args) -> Message:
    name = args.text("project name")
    assert name is not None
    if len(name) > 120:
        raise ctx.fail("Keep the project name under 120 characters.")
    client = args.required_option("client", "the client's name")
    zone = parse_timezone(args.option("tz") or ctx.zone)
    currency = parse_currency(args.option("currency") or "USD")
    budget = None
    if (budget_text := args.option("budget")) is not None:
        money = parse_money(budget_text)
        currency = money.currency or currency
        budget = money.amount
    due = ctx.read_date(due_text) if (due_text := args.option("due")) is not None else None
    if ctx.request.actor.external:
        raise ctx.refuse("Projects are started by the delivery team, not by a client.")
    if await ctx.session.scalar(
        select(Project.id).where(Project.tenant_id == ctx.tenant.id, Project.name == name)
    ):
        raise ctx.fail(f'There is already a project called "{name}" here.')
    place = ctx.request.place
    if place.shared_externally:
        # Its reply carries the budget: never in a channel the client can read.
        raise ctx.fail(
            "This channel is shared with another organisation. Start the project in your "
            "team's channel, then run `project link client` here."
        )
    if place.kind == "channel" and await _linked_elsewhere(ctx):
        raise ctx.fail("This channel already belongs to a project; start the new one elsewhere.")
    project = Project(
        tenant_id=ctx.tenant.id,
        name=name,
        client_name=client[:200],
        timezone=zone,
        currency=currency,
        budget=budget,
        start_date=ctx.today,
        due_date=due.day if due else None,
        created_at=ctx.now,
    )
    ctx.session.add(project)
    await ctx.session.flush()
    # The asker is now this project's PM (they may be a client of another project).
    ctx.membership = Membership(
        project_id=project.id, person_id=ctx.me.id, role="pm", created_at=ctx.now
    )
    ctx.session.add(ctx.membership)
    side_note = "This channel is its team side."
    if place.kind == "channel":
        ctx.session.add(_link(ctx, project, "team"))
    else:
        side_note = "Run `project link team` in the team's channel to give it a team side."
    ctx.project, ctx.side = project, "team" if place.kind == "channel" else None
    facts = [("Client", client), ("PM", ctx.me.display_name), ("Time zone", zone)]
    if due:
        facts.append(("Due", due.day.isoformat()))
    if budget is not None:
        facts.append(("Budget", f"{currency} {budget:,.2f}"))
    return Message(
        blocks=(
            Heading(f"Project {name} started"),
            Facts(tuple(facts)),
            *([ctx.date_said(due, "due")] if due else []),
            Text(side_note),
            Context(
                'Next: `team add @someone`, `task add "..." @owner due:fri`, `project link client`.'
            ),
        ),
        audience="internal",
    )


async def _linked_elsewhere(ctx: CommandContext) -> bool:
    place = ctx.request.place
    found = await ctx.session.scalar(
        select(ChannelLink.id).where(
            ChannelLink.platform == place.platform, ChannelLink.channel_id == place.channel_id
        )
    )
    return found is not None


def _link(ctx: CommandContext, project: Project, side: str) -> ChannelLink:
    place = ctx.request.place
    return ChannelLink(
        project_id=project.id,
        platform=place.platform,
        tenant=place.tenant,
        channel_id=place.channel_id,
        side=side,
        name=place.name,
        created_at=ctx.now,
    )


@command(
    "project link",
    usage='project link client|team [project:"Name"]',
    summary="Make this channel the project's client side (shared with the client) or team side",
    area="projects",
    roles=PM,
)
async def project_link(ctx: CommandContext, args: Args) -> Message:
    side = (args.word("which side: client or team") or "").lower()
    if side not in ("client", "team"):
        raise ctx.fail(
            "Say which side this channel is: `project link client` or `project link team`."
        )
    place = ctx.request.place
    if place.kind != "channel":
        raise ctx.fail("Run this in the channel you want to link, not in a direct message.")
    project = ctx.the_project
    if ctx.side is not None:
        raise ctx.fail(f"This channel is already the {ctx.side} side of {project.name}.")
    if await _linked_elsewhere(ctx):
        # A Slack Connect channel has one id in every workspace that shares it.
        raise ctx.fail("This channel already belongs to a project of another organisation.")
    if side == "team" and place.shared_externally:
        raise ctx.fail(
            "This channel is shared with another organisation, so it can't be the team side. "
            "Run `project link client` here, and link an internal channel as the team side."
        )
    existing = await ctx.link_of(side)
    if existing is not None:
        raise ctx.fail(
            f"{project.name} already has a {side} side. "
            f"Unlink it first with `project unlink {side}`."
        )
    ctx.session.add(_link(ctx, project, side))
    ctx.side = side
    if side == "client":
        return Message(
            blocks=(
                Heading(f"This channel is now shared with {project.client_name}"),
                Text(
                    f"I will post updates about {project.name} here for the client: milestones, "
                    "dates, what we need from you, and approvals. "
                    'Ask anything with `request "..."`.'
                ),
            ),
            audience="client",
        )
    return Message(blocks=(Text(f"This channel is now the team side of {project.name}."),))


@command(
    "project unlink",
    usage="project unlink client|team",
    summary="Stop using a channel as the project's client or team side",
    area="projects",
    roles=PM,
)
async def project_unlink(ctx: CommandContext, args: Args) -> Message:
    side = (args.word("which side: client or team") or "").lower()
    if side not in ("client", "team"):
        raise ctx.fail("Say which side: `project unlink client` or `project unlink team`.")
    link = await ctx.link_of(side)
    if link is None:
        raise ctx.fail(f"{ctx.the_project.name} has no {side} side linked.")
    await ctx.session.delete(link)
    return ctx.whisper(Text(f"{ctx.the_project.name} no longer posts to its {side} side there."))


@command(
    "project set",
    usage=(
        'project set [due:DATE] [tz:Area/City] [country:DE] [client:"Name"] [checkin:09:00] '
        "[all-clear:on|off] [report:fri] [report-time:15:00] [thresholds:50,75,90,100] "
        "[hours:8] [days:mon-fri]"
    ),
    summary="Change the project's dates, zone, holidays, schedule and budget warnings",
    area="projects",
    roles=PM,
)
async def project_set(ctx: CommandContext, args: Args) -> Message:
    project = ctx.the_project
    changes: list[tuple[str, str]] = []
    setters = {
        "due": _set_due,
        "tz": _set_zone,
        "country": _set_country,
        "client": _set_client,
        "checkin": _set_checkin,
        "all-clear": _set_all_clear,
        "report": _set_report_day,
        "report-time": _set_report_time,
        "thresholds": _set_thresholds,
        "hours": _set_hours,
        "days": _set_days,
    }
    for key, setter in setters.items():
        value = args.option(key)
        if value is not None:
            changes.append(setter(ctx, project, value))
    if not changes:
        raise ctx.fail("Say what to change, for example `project set country:DE`.")
    # A new due date is said in words in the small print, which also warns when it is past.
    due_said = (
        [ctx.date_said(DateRead(project.due_date), "due")]
        if project.due_date and any(label == "Due" for label, _ in changes)
        else []
    )
    return ctx.say(Heading(f"{project.name} updated"), Facts(tuple(changes)), *due_said)


def _set_due(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    due = ctx.read_date(value).day
    project.due_date = due
    return ("Due", due.isoformat())


def _set_zone(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    project.timezone = parse_timezone(value)
    return ("Time zone", project.timezone)


def _set_country(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    import holidays

    code = value.strip().upper()
    if value.lower() in ("none", "off"):
        project.country = None
        return ("Public holidays", "none")
    if code not in holidays.list_supported_countries():
        raise ctx.fail(f"`{value}` is not a country code I have holidays for (try DE, US, GB).")
    project.country = code
    return ("Public holidays", code)


def _set_client(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    project.client_name = value[:200]
    return ("Client", project.client_name)


def _set_checkin(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    project.checkin_time = parse_clock(value)
    return ("Morning check-in", project.checkin_time)


def _set_all_clear(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    if value.lower() not in ("on", "off"):
        raise ctx.fail("all-clear is `on` or `off`.")
    project.checkin_all_clear = value.lower() == "on"
    return ("All-clear check-ins", value.lower())


def _set_report_day(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    name = value.lower()[:3]
    if name not in WEEKDAY_NAMES:
        raise ctx.fail("report is a weekday, like `report:fri`.")
    project.report_weekday = WEEKDAY_NAMES.index(name) + 1
    return ("Weekly report", name)


def _set_report_time(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    project.report_time = parse_clock(value)
    return ("Weekly report time", project.report_time)


def _set_thresholds(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    try:
        numbers = sorted({int(part) for part in value.split(",") if part.strip()})
    except ValueError:
        raise ctx.fail("thresholds are percentages, like `thresholds:50,75,90,100`.") from None
    if not numbers or any(n <= 0 or n > 1000 for n in numbers):
        raise ctx.fail("thresholds are percentages between 1 and 1000.")
    project.budget_thresholds = ",".join(str(n) for n in numbers)
    return ("Budget warnings at", ", ".join(f"{n}%" for n in numbers))


def _set_hours(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    try:
        hours = Decimal(value.rstrip("h"))
    except ArithmeticError:
        raise ctx.fail("hours is the length of a working day, like `hours:8`.") from None
    if not Decimal("1") <= hours <= Decimal("24"):
        raise ctx.fail("A working day is between 1 and 24 hours.")
    project.day_hours = hours
    return ("Working day", f"{hours}h")


def _set_days(ctx: CommandContext, project: Project, value: str) -> tuple[str, str]:
    days: set[int] = set()
    for part in value.lower().split(","):
        first, _, last = part.partition("-")
        if first[:3] not in WEEKDAY_NAMES or (last and last[:3] not in WEEKDAY_NAMES):
            raise ctx.fail("days are weekdays, like `days:mon-fri` or `days:mon,tue,thu`.")
        start = WEEKDAY_NAMES.index(first[:3])
        end = WEEKDAY_NAMES.index(last[:3]) if last else start
        days.update(range(start + 1, end + 2) if end >= start else [])
    if not days:
        raise ctx.fail("Name at least one working day.")
    project.working_days = ",".join(str(d) for d in sorted(days))
    return ("Working days", ", ".join(WEEKDAY_NAMES[d - 1] for d in sorted(days)))


@command(
    "projects",
    cached=True,
    usage="projects [all]",
    summary="The active projects you are on; `all` adds the closed ones with their closing date",
    area="projects",
    roles=ANYONE,
    needs_project=False,
)
async def projects_list(ctx: CommandContext, args: Args) -> Message:
    which = (args.word() or "").lower()
    if which not in ("", "all"):
        raise ctx.fail(f"`{which}` is not a list; say `projects` or `projects all`.")
    mine = await projects_of(ctx.session, ctx.tenant, ctx.me, closed=which == "all")
    items = tuple(
        Item(f"{p.name} ({p.client_name}): closed on {p.closed_on}", "done")
        if p.archived
        else Item(f"{p.name} ({p.client_name})", "info")
        for p in mine
    )
    return ctx.whisper(Heading("Your projects"), Items(items, empty="You are on no project yet."))
