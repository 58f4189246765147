"""The budget: set it, record spend, log time, and see burn and forecast. Internal only."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import exists, select

from bot.domain.budget import CENT, BudgetSummary, format_hours, format_money, summarise
from bot.engine.context import CommandContext
from bot.engine.parsing import Args, Money, parse_currency, parse_duration, parse_money
from bot.engine.registry import PM, TEAM, command
from bot.errors import UserError
from bot.messages import Chart, Context, Facts, Heading, Message, Text
from bot.views.charts import burn_up_chart
from bot.views.ledger import load_ledger_and_days
from storage.models import Expense, Task, TimeEntry

MAX_CATEGORY = 40


def _internal_only(ctx: CommandContext) -> None:
    """Money never goes to a client audience, even when a PM asks in the client channel."""
    if ctx.audience == "client":
        raise ctx.refuse(
            "Budget figures are internal, and this is the client's channel. "
            "Ask me in the team channel or a direct message."
        )


def _amount(ctx: CommandContext, args: Args, what: str) -> Money:
    """An amount, which may be split over two words: `EUR 900` or `900 EUR`."""
    free = [i for i, t in enumerate(args.tokens) if i not in args.used and t.kind == "word"]
    if not free:
        raise ctx.fail(f"Missing {what}.")
    first = free[0]
    parts = [first]
    nxt = first + 1
    # A trailing code must be in capitals, so `spend 100 top hats` is not Tongan money.
    following = args.tokens[nxt].value if nxt in free else ""
    if following and (
        _is_currency(args.tokens[first].value) or (following.isupper() and _is_currency(following))
    ):
        parts.append(nxt)
    args.used.update(parts)
    return parse_money(" ".join(args.tokens[i].value for i in parts))


DURATION_WORDS = 3  # "half a day", "90 minutes"


def _duration(args: Args, day_hours: Decimal) -> Decimal:
    """The duration in the leading words: the most of them (up to three) that read as one."""
    free = [i for i, t in enumerate(args.tokens) if i not in args.used and t.kind == "word"]
    leading = [i for n, i in enumerate(free[:DURATION_WORDS]) if i == free[0] + n]
    for count in range(len(leading), 1, -1):
        try:
            typed = " ".join(args.tokens[i].value for i in leading[:count])
            hours = parse_duration(typed, day_hours)
        except UserError:
            continue
        args.used.update(leading[:count])
        return hours
    return parse_duration(args.word("how long, like 90m or 1.5h") or "", day_hours)


def _is_currency(word: str) -> bool:
    if len(word) != 3 or not word.isalpha():
        return False
    try:
        parse_currency(word)
    except UserError:
        return False
    return True


def _same_currency(ctx: CommandContext, money: Money) -> Decimal:
    currency = ctx.the_project.currency
    if money.currency and money.currency != currency:
        raise ctx.fail(
            f"{ctx.the_project.name} is kept in {currency}, and this is in {money.currency}. "
            f"Convert it to {currency} and enter that."
        )
    return money.amount


@command(
    "budget set",
    usage="budget set AMOUNT [CURRENCY]",
    summary="Set the project's budget (and its currency while nothing is spent)",
    area="budget",
    roles=PM,
)
async def budget_set(ctx: CommandContext, args: Args) -> Message:
    _internal_only(ctx)
    money = _amount(ctx, args, "the budget, like 50,000 or EUR 50k")
    project = ctx.the_project
    currency = money.currency
    if (word := args.word()) is not None:
        if currency is not None:
            raise ctx.fail("Give the currency once.")
        currency = parse_currency(word)
    if currency and currency != project.currency:
        if await _has_spend(ctx):
            raise ctx.fail(
                f"{project.name} already has spend in {project.currency}; "
                f"its currency can't change to {currency}."
            )
        project.currency = currency
    old, project.budget = project.budget, money.amount
    was = f" (was {format_money(old, project.currency)})" if old is not None else ""
    return ctx.say(
        Text(f"Budget of {project.name}: {format_money(money.amount, project.currency)}{was}.")
    )


async def _has_spend(ctx: CommandContext) -> bool:
    project_id = ctx.the_project.id
    return bool(
        await ctx.session.scalar(
            select(
                exists().where(Expense.project_id == project_id)
                | exists().where(TimeEntry.project_id == project_id)
            )
        )
    )


@command(
    "spend",
    usage='spend AMOUNT "what" [category]',
    summary="Record money spent against the budget",
    area="budget",
    roles=PM,
    turn="project",
)
async def spend(ctx: CommandContext, args: Args) -> Message:
    _internal_only(ctx)
    amount = _same_currency(ctx, _amount(ctx, args, "the amount, like 1,200 or $90"))
    description = args.text("what it was for")
    assert description is not None
    category = (args.option("category") or args.word() or "general").lower()
    if len(category) > MAX_CATEGORY:
        raise ctx.fail(f"Keep the category under {MAX_CATEGORY} characters.")
    project = ctx.the_project
    await ctx.add_row(
        Expense,
        amount=amount,
        description=description,
        category=category,
        person_id=ctx.me.id,
        spent_on=ctx.project_today,
        created_at=ctx.now,
    )
    return ctx.say(
        Text(f"Spent {format_money(amount, project.currency)} on {description} ({category}).")
    )


@command(
    "log",
    usage='log 3h [task:12] ["note"]',
    summary="Log your time on the project (cost = hours x your rate)",
    area="budget",
    roles=TEAM,
    turn="project",
)
async def log_time(ctx: CommandContext, args: Args) -> Message:
    _internal_only(ctx)
    project = ctx.the_project
    hours = _duration(args, project.day_hours)
    task_text = args.option("task")
    note = args.text()
    task = None
    if task_text is not None:
        if not task_text.lstrip("#").isdigit() or len(task_text) > 9:
            raise ctx.fail(f"task: takes a task number, like task:12, not `{task_text}`.")
        task = await ctx.numbered(Task, int(task_text.lstrip("#")), "task")
    rate = ctx.membership.hourly_rate if ctx.membership else None
    cost = (hours * rate).quantize(CENT, rounding=ROUND_HALF_UP) if rate else Decimal("0.00")
    await ctx.add_row(
        TimeEntry,
        person_id=ctx.me.id,
        task_id=task.id if task else None,
        hours=hours,
        cost=cost,
        note=note,
        logged_on=ctx.today,
        created_at=ctx.now,
    )
    on_task = f" on task {task.number} ({task.title})" if task else ""
    blocks: list[Text | Context] = [
        Text(f"Logged {format_hours(hours)}{on_task}: {format_money(cost, project.currency)}.")
    ]
    if not rate:
        blocks.append(
            Context(
                "You have no rate on this project yet, so this costs 0; the PM should set one "
                f"with `team add @{ctx.me.display_name} rate:120/h`."
            )  # fmt: skip
        )
    return ctx.whisper(*blocks)


@command(
    "budget",
    cached="project",
    shared=True,
    usage="budget",
    questions=(
        ("how's the budget", ""),
        ("how much is left", ""),
        ("how much have we spent", ""),
    ),
    summary="Budget, spent, remaining, burn rate and when the money runs out",
    area="budget",
    roles=TEAM,
)
async def budget(ctx: CommandContext, args: Args) -> Message:
    _internal_only(ctx)
    project = ctx.the_project
    figures, daily = await load_ledger_and_days(ctx.session, project)
    summary = summarise(figures, ctx.project_today)
    blocks: list[Heading | Facts | Text | Context | Chart] = [
        Heading(f"Budget of {project.name}"),
        Facts(tuple(_headline(summary))),
        burn_up_chart(summary, daily, project.start_date, project.name),
    ]
    if summary.by_category:
        blocks += [Heading("Spend by category"), Facts(_by_category(summary))]
    if summary.by_person:
        blocks += [Heading("Time by person"), Facts(_by_person(summary))]
    if summary.budget is None:
        blocks.append(Context("No budget set yet: `budget set 50,000`."))
    # The chart is drawn by whoever shows the reply, once per change of what it shows:
    # Slack uploads it after the text, which does not wait for it (bot.views.drawing).
    return ctx.say(*blocks)


def _headline(s: BudgetSummary) -> list[tuple[str, str]]:
    def money(amount: Decimal) -> str:
        return format_money(amount, s.currency)

    rows = [("Budget", money(s.budget) if s.budget is not None else "not set")]
    rows.append(
        ("Spent", f"{money(s.spent)} ({money(s.expenses)} spend, {money(s.time_cost)} time)")
    )
    if s.remaining is not None:
        rows.append(("Remaining", money(s.remaining)))
    if s.burn_percent is not None:
        rows.append(("Burn", f"{s.burn_percent}%"))
    rows.append(("Burn rate", f"{money(s.burn_rate_per_day)} a day over {s.days_elapsed} day(s)"))
    rows.append(("Forecast", _forecast_text(s)))
    return rows


def _forecast_text(s: BudgetSummary) -> str:
    if s.budget is None:
        return "no budget to run out"
    if s.over_budget:
        return f"over budget by {format_money(-(s.remaining or 0), s.currency)}"
    if s.forecast_run_out is None:
        return "nothing spent yet"
    due = s.due_date
    when = f"money runs out {s.forecast_run_out}"
    if due is None:
        return when + " (no due date set)"
    if s.runs_out_before_due:
        over = s.forecast_overrun
        extra = f", about {format_money(over, s.currency)} short" if over else ""
        return f"{when}, before the due date {due}{extra}"
    return f"{when}, after the due date {due}: on track"


def _by_category(s: BudgetSummary) -> tuple[tuple[str, str], ...]:
    return tuple((name, format_money(amount, s.currency)) for name, amount in s.by_category)


def _by_person(s: BudgetSummary) -> tuple[tuple[str, str], ...]:
    return tuple(
        (name, f"{format_hours(hours)}, {format_money(cost, s.currency)}")
        for name, hours, cost in s.by_person
    )
