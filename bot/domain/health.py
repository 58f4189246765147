"""Project health: green, amber or red, always with the reasons. Pure functions.

The level is the worst of the reasons. Amber: overdue tasks, a milestone at risk (it has
overdue or blocked tasks, or tasks planned after it), a forecast budget overrun, an open
high risk (likelihood x impact of 6 or more), a client request unanswered for more than
two working days. Red: a late milestone or project, spend over the budget, a risk rated
high on both counts.

The client's health is assessed from client-safe facts only (their deliverables, the
risks shared with them, their requests), never from money or internal tasks: it is a
separate assessment, not the internal one with words removed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.domain.budget import BudgetSummary, format_money
from bot.domain.pulse import PulsePoint, health_level, health_text, latest_two
from bot.domain.snapshot import (
    MilestoneFacts,
    ProjectSnapshot,
    RequestFacts,
    RiskFacts,
    TaskTotals,
)
from bot.domain.working_days import WorkCalendar

Level = Literal["green", "amber", "red"]
RANK: dict[str, int] = {"green": 0, "amber": 1, "red": 2}
REQUEST_WAIT_DAYS = 2
WORST_RISK = 9


@dataclass(frozen=True, slots=True)
class Reason:
    level: Level
    text: str


@dataclass(frozen=True, slots=True)
class Health:
    level: Level
    reasons: tuple[Reason, ...]

    @classmethod
    def of(cls, reasons: Iterable[Reason]) -> Health:
        ordered = tuple(sorted(reasons, key=lambda r: -RANK[r.level]))
        level: Level = ordered[0].level if ordered else "green"
        return cls(level, ordered)


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def task_reasons(totals: TaskTotals) -> list[Reason]:
    if not totals.overdue:
        return []
    return [Reason("amber", f"{plural(totals.overdue, 'task')} overdue")]


def milestone_at_risk(milestone: MilestoneFacts) -> bool:
    return not milestone.done and bool(
        milestone.overdue_tasks or milestone.blocked_tasks or milestone.late_tasks
    )


def why_at_risk(milestone: MilestoneFacts) -> str:
    parts = []
    if milestone.overdue_tasks:
        parts.append(f"{milestone.overdue_tasks} overdue")
    if milestone.blocked_tasks:
        parts.append(f"{milestone.blocked_tasks} blocked")
    if milestone.late_tasks:
        parts.append(f"{milestone.late_tasks} planned after it")
    return ", ".join(parts)


def milestone_reasons(milestones: Sequence[MilestoneFacts], today: date) -> list[Reason]:
    reasons = []
    for m in milestones:
        if m.done:
            continue
        if m.due < today:
            days = (today - m.due).days
            reasons.append(Reason("red", f'Milestone "{m.title}" is {plural(days, "day")} late'))
        elif milestone_at_risk(m):
            reasons.append(
                Reason("amber", f'Milestone "{m.title}" (due {m.due}) is at risk: {why_at_risk(m)}')
            )
    return reasons


def project_reasons(due: date | None, open_tasks: int, today: date) -> list[Reason]:
    if due is not None and due < today and open_tasks:
        return [Reason("red", f"The project was due on {due} and still has open work")]
    return []


def budget_reasons(budget: BudgetSummary | None) -> list[Reason]:
    if budget is None or budget.budget is None:
        return []
    if budget.over_budget and budget.remaining is not None:
        over = format_money(-budget.remaining, budget.currency)
        return [Reason("red", f"Spend is over the budget by {over}")]
    overrun = budget.forecast_overrun
    if budget.runs_out_before_due and budget.forecast_run_out:
        text = f"At this burn rate the budget runs out on {budget.forecast_run_out}"
        if budget.due_date:
            text += f", before the due date {budget.due_date}"
        return [Reason("amber", text)]
    if overrun:
        over = format_money(overrun, budget.currency)
        return [Reason("amber", f"Forecast to overrun the budget by {over}")]
    return []


def risk_reasons(risks: Sequence[RiskFacts]) -> list[Reason]:
    high = [r for r in risks if r.high]
    if not high:
        return []
    level: Level = "red" if any(r.score >= WORST_RISK for r in high) else "amber"
    titles = ", ".join(f'"{r.title}"' for r in high[:3])
    more = f" and {len(high) - 3} more" if len(high) > 3 else ""
    return [Reason(level, f"{plural(len(high), 'open high risk')}: {titles}{more}")]


def waiting_requests(
    requests: Sequence[RequestFacts], today: date, calendar: WorkCalendar
) -> list[tuple[RequestFacts, int]]:
    """Unanswered client requests older than the allowed wait, with working days waited."""
    found = []
    for request in requests:
        if request.status != "open":
            continue
        waited = calendar.between(request.raised_on, today)
        if waited > REQUEST_WAIT_DAYS:
            found.append((request, waited))
    return found


def request_reasons(
    requests: Sequence[RequestFacts], today: date, calendar: WorkCalendar, *, client: bool
) -> list[Reason]:
    whose = "Your request" if client else "Client request"
    return [
        Reason("amber", f"{whose} {r.number} has waited {waited} working days for an answer")
        for r, waited in waiting_requests(requests, today, calendar)
    ]


def assess(snapshot: ProjectSnapshot) -> Health:
    """The team's view of the project's health."""
    today = snapshot.today
    return Health.of(
        [
            *project_reasons(snapshot.due_date, snapshot.tasks.open, today),
            *milestone_reasons(snapshot.milestones, today),
            *task_reasons(snapshot.tasks),
            *budget_reasons(snapshot.budget),
            *risk_reasons(snapshot.risks),
            *request_reasons(snapshot.requests, today, snapshot.calendar, client=False),
            *pulse_reasons(snapshot.pulse),
        ]
    )


def pulse_reasons(points: Sequence[PulsePoint]) -> list[Reason]:
    """Amber while the latest pulse's average is 3 or less, red while 2 or less (internal:
    the client's view never reads the pulse)."""
    latest, previous = latest_two(points)
    level = health_level(latest)
    if level is None or latest is None:
        return []
    return [Reason(level, health_text(latest, previous))]  # type: ignore[arg-type]


def assess_for_client(snapshot: ProjectSnapshot) -> Health:
    """The client's view: their deliverables, shared risks and their own requests."""
    today = snapshot.today
    reasons = [*project_reasons(snapshot.due_date, snapshot.tasks.open, today)]
    for m in snapshot.milestones:
        if not m.client_signoff or m.done:
            continue
        if m.due < today:
            reasons.append(Reason("red", f'"{m.title}" was due on {m.due} and is late'))
        elif milestone_at_risk(m):
            reasons.append(Reason("amber", f'"{m.title}" (due {m.due}) is at risk of slipping'))
    reasons += risk_reasons([r for r in snapshot.risks if r.client_visible])
    reasons += request_reasons(snapshot.requests, today, snapshot.calendar, client=True)
    return Health.of(reasons)
