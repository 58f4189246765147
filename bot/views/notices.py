"""What the scheduler says: the morning check-in, deadline and milestone reminders and
budget warnings, built from plain rows the due-step has already read (no I/O here)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from bot.domain.budget import BudgetSummary, format_money
from bot.domain.schedule import Teammate
from bot.messages import Actions, Button, Context, Facts, Heading, Item, Items, Message, Text
from storage.models import ChangeRequest, ClientRequest, Milestone, Person, Project, Risk, Task

SHOWN = 15  # items per section; the rest are counted


@lru_cache(maxsize=1024)
def day_label(day: date) -> str:
    return f"{day:%a} {day.day} {day:%b}"


def _more(items: list[Item], total: int) -> tuple[Item, ...]:
    if total > len(items):
        items = [*items, Item(f"... and {total - len(items)} more", "info")]
    return tuple(items)


def _section(title: str, items: list[Item]) -> list[Heading | Items]:
    if not items:
        return []
    return [Heading(title), Items(_more(items[:SHOWN], len(items)))]


def task_line(task: Task, owner: Person | Teammate | None) -> str:
    who = f" ({owner.display_name})" if owner else " (no owner)"
    return f"#{task.number} {task.title}{who}"


@dataclass(frozen=True, slots=True)
class Blocker:
    who: str
    text: str


def budget_line(budget: BudgetSummary | None) -> tuple[str, str] | None:
    if budget is None or budget.budget is None:
        return None
    percent = f" ({budget.burn_percent}%)" if budget.burn_percent is not None else ""
    spent = format_money(budget.spent, budget.currency)
    return ("Budget", f"{spent} of {format_money(budget.budget, budget.currency)} spent{percent}")


def checkin(
    project: Project,
    day: date,
    tasks: Sequence[tuple[Task, Person | Teammate | None]],
    blockers: Sequence[Blocker],
    requests: Sequence[ClientRequest],
    changes: Sequence[ChangeRequest],
    risks: Sequence[Risk],
    budget: BudgetSummary | None,
) -> Message | None:
    """The team side's morning check-in; None when there is nothing to say and the PM
    turned the all-clear line off."""
    overdue = [
        Item(f"{task_line(t, o)}, due {day_label(t.due_date)}", "overdue")
        for t, o in tasks
        if t.due_date is not None and t.due_date < day
    ]
    due_today = [Item(task_line(t, o), "due") for t, o in tasks if t.due_date == day]
    blocked = [Item(f"{b.who}: {b.text}", "blocked") for b in blockers]
    blocked += [
        Item(f"{task_line(t, o)}: {t.blocked_reason or 'blocked'}", "blocked")
        for t, o in tasks
        if t.status == "blocked"
    ]
    waiting = [Item(f"Client request {r.number}: {r.text}", "open") for r in requests]
    waiting += [
        Item(f"Change {c.number}: {c.title}, waiting for approval", "open") for c in changes
    ]
    review = [
        Item(f"Risk {r.number}: {r.title} (review was due {day_label(r.review_on)})", "amber")
        for r in risks
        if r.review_on is not None and r.review_on <= day
    ]
    sections = [
        *_section("Blockers", blocked),
        *_section("Overdue", overdue),
        *_section("Due today", due_today),
        *_section("Waiting on us", waiting),
        *_section("Risks to review", review),
    ]
    if not sections:
        if not project.checkin_all_clear:
            return None
        line = f"All clear for {project.name} on {day_label(day)}: nothing overdue, due or blocked."
        return Message(blocks=(Text(line),), audience="internal")
    money = budget_line(budget)
    facts = [Facts((money,))] if money else []
    heading = Heading(f"Good morning: {project.name}, {day_label(day)}")
    return Message(blocks=(heading, *sections, *facts), audience="internal")


DEADLINE_PHRASES = {
    "before": "is due {day}",
    "today": "is due today",
    "overdue": "is overdue (it was due {day})",
}
DEADLINE_STATUS = {"before": "due", "today": "due", "overdue": "overdue"}


def deadline_reminder(project: Project, reminders: Sequence[tuple[str, Task]]) -> Message:
    """One direct message to a task owner for the reminders due at one moment."""
    items = []
    buttons = []
    for phase, task in reminders:
        assert task.due_date is not None
        phrase = DEADLINE_PHRASES[phase].format(day=day_label(task.due_date))
        items.append(Item(f"#{task.number} {task.title} {phrase}", DEADLINE_STATUS[phase]))
        value = f'{task.number} project:"{project.name}"'
        buttons.append(Button(f"Done: #{task.number}", "task done", value, "primary"))
    return Message(
        blocks=(
            Heading(f"Your deadlines in {project.name}"),
            Items(tuple(items)),
            Actions(tuple(buttons[:5])),
            Context("Finished? Press Done, or type `task done N`."),
        ),
        audience="internal",
    )


def milestone_for_team(project: Project, milestone: Milestone, open_tasks: int) -> Message:
    due = day_label(milestone.due_date)
    facts: list[tuple[str, str]] = [("Due", due)]
    if open_tasks:
        facts.append(("Open tasks due by then", str(open_tasks)))
    if milestone.client_signoff:
        facts.append(("Client sign-off", "needed" if milestone.signed_off_at is None else "done"))
    return Message(
        blocks=(
            Heading(f"Milestone in 3 working days: {milestone.title}"),
            Facts(tuple(facts)),
        ),
        audience="internal",
    )


def milestone_for_client(project: Project, milestone: Milestone) -> Message:
    """The client view: the deliverable, its date and what is asked of the client only."""
    return Message(
        blocks=(
            Heading(f"Coming up: {milestone.title}"),
            Text(
                f"{milestone.title} is planned for {day_label(milestone.due_date)}. "
                "We will ask you to review and sign it off then; tell us here if anything "
                "might hold it up."
            ),
        ),
        audience="client",
    )


def budget_warning(project: Project, marks: Sequence[str], budget: BudgetSummary) -> Message | None:
    """One warning for the marks just crossed: the highest threshold, and the forecast."""
    assert budget.budget is not None
    lines = []
    thresholds = sorted(int(m) for m in marks if m.isdigit())
    spent = format_money(budget.spent, budget.currency)
    of = format_money(budget.budget, budget.currency)
    if thresholds:
        percent = budget.burn_percent if budget.burn_percent is not None else Decimal(0)
        lines.append(
            f"{project.name} has used {percent}% of its budget ({spent} of {of}), "
            f"past the {thresholds[-1]}% mark."
        )
    if "forecast" in marks and budget.forecast_run_out and budget.due_date:
        rate = format_money(budget.burn_rate_per_day, budget.currency)
        lines.append(
            f"At the current rate ({rate} a day) the budget runs out on "
            f"{day_label(budget.forecast_run_out)}, before the due date "
            f"{day_label(budget.due_date)}."
        )
    if not lines:
        return None
    return Message(
        blocks=(Heading(f"Budget warning: {project.name}"), *(Text(line) for line in lines)),
        audience="internal",
    )


def unreachable_notice(where: str, reason: str, *, email: bool = False) -> Message:
    if email:
        heading, fix = (
            "An email address refused my email",
            "Check the address with the client, then `email remove` it or `email add` the "
            "right one; `outbox failed` lists what did not go out.",
        )
    else:
        heading, fix = (
            "I can no longer post there",
            "Add me back to that conversation (or link another channel with "
            "`project link`); `outbox failed` lists what did not go out.",
        )
    return Message(
        blocks=(Heading(heading), Text(f"Posting to {where} failed: {reason}."), Context(fix)),
        audience="internal",
    )
