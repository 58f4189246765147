"""Charts people would rather look at than read: the budget burn-up and the milestone
timeline.

The series are pure functions over plain data (tested for their values); the drawing
(`bot.views.drawing`) only plots them; the loader reads what the series need in fixed
statements.

A chart is first a `Chart` block (its series as JSON values) and becomes an `Image` when
drawn: a command's reply draws at once, a scheduled post when it is delivered, so a
due-step that writes a thousand weekly reports draws nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.budget import BudgetSummary, cents
from bot.domain.client_view import client_view
from bot.domain.pulse import PulsePoint
from bot.domain.snapshot import ProjectSnapshot
from bot.messages import Audience, Chart, Image, Message
from bot.views.drawing import (
    BurnUp,
    MilestoneMark,
    MilestoneState,
    Point,
    burn_up_data,
    draw,
    pulse_data,
    timeline_data,
)
from bot.views.ledger import DailySpend, load_daily_spends
from storage.models import Project

ZERO = Decimal("0.00")


class MilestoneLike(Protocol):
    """What the timeline needs of a milestone (`bot.domain.snapshot.MilestoneFacts`)."""

    @property
    def title(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def done(self) -> bool: ...
    @property
    def client_signoff(self) -> bool: ...


class DeliverableLike(Protocol):
    """A deliverable of the client view (`bot.domain.client_view.Deliverable`)."""

    @property
    def title(self) -> str: ...
    @property
    def due(self) -> date: ...
    @property
    def state(self) -> str: ...


# The client view's words for a deliverable, as the timeline colours them.
DELIVERABLE_STATES: dict[str, MilestoneState] = {
    "late": "overdue",
    "awaiting your sign-off": "done",
    "signed off": "done",
}


# --- series (pure) -----------------------------------------------------------------------


def cumulative_spend(
    daily: Iterable[tuple[date, Decimal]], start: date, today: date
) -> tuple[Point, ...]:
    """Running total of spend, one point per day with spend, from the start to today.

    Spend dated before the project started counts on its first day; the line is carried
    flat to today so the chart ends where the project is."""
    by_day: dict[date, Decimal] = {}
    for day, amount in daily:
        key = max(day, start)
        by_day[key] = by_day.get(key, ZERO) + amount
    points = [Point(start, cents(by_day.pop(start, ZERO)))]
    total = points[0].amount
    for day in sorted(by_day):
        total = cents(total + by_day[day])
        points.append(Point(day, total))
    if points[-1].day < today:
        points.append(Point(today, total))
    return tuple(points)


def burn_up(summary: BudgetSummary, daily: Iterable[tuple[date, Decimal]], start: date) -> BurnUp:
    """The burn-up series of one project, using the budget rules' own forecast."""
    today = summary.today or start
    actual = cumulative_spend(daily, start, today)
    due = summary.due_date
    forecast: tuple[Point, ...] = ()
    if due is not None and due > today and summary.projected_at_due is not None:
        forecast = (Point(today, summary.spent), Point(due, summary.projected_at_due))
    budget_line: tuple[Point, ...] = ()
    if summary.budget is not None:
        end = max(d for d in (due, today, summary.forecast_run_out, actual[-1].day) if d)
        budget_line = (Point(start, summary.budget), Point(end, summary.budget))
    return BurnUp(
        currency=summary.currency,
        actual=actual,
        budget_line=budget_line,
        forecast=forecast,
        run_out=summary.forecast_run_out if summary.budget is not None else None,
        due=due,
        today=today,
    )


def milestone_state(due: date, done: bool, today: date) -> MilestoneState:
    if done:
        return "done"
    return "overdue" if due < today else "upcoming"


def timeline(milestones: Iterable[MilestoneLike], today: date) -> tuple[MilestoneMark, ...]:
    """Milestones in date order, each done, overdue or upcoming as of `today`."""
    marks = (
        MilestoneMark(m.title, m.due, milestone_state(m.due, m.done, today), m.client_signoff)
        for m in milestones
    )
    return tuple(sorted(marks, key=lambda mark: (mark.due, mark.title)))


def deliverable_timeline(deliverables: Iterable[DeliverableLike]) -> tuple[MilestoneMark, ...]:
    """The client's timeline: only the deliverables the client view shows them."""
    marks = (
        MilestoneMark(d.title, d.due, DELIVERABLE_STATES.get(d.state, "upcoming"), True)
        for d in deliverables
    )
    return tuple(sorted(marks, key=lambda mark: (mark.due, mark.title)))


# --- loaders ---------------------------------------------------------------------------


async def load_daily_spend(session: AsyncSession, project_id: int) -> DailySpend:
    """One project's spend per day (see `bot.views.ledger.load_daily_spends`)."""
    return (await load_daily_spends(session, [project_id])).get(project_id, [])


# --- charts for messages ------------------------------------------------------------------


def burn_up_chart(
    summary: BudgetSummary, daily: Iterable[tuple[date, Decimal]], start: date, project: str
) -> Chart:
    series = burn_up(summary, daily, start)
    alt = f"Budget burn-up of {project}: spend over time against the budget"
    if series.forecast:
        alt += " and the forecast to the due date"
    data = burn_up_data(series, f"{project}: budget burn-up")
    return Chart("burn-up", data, alt, "budget-burn-up.png")


def timeline_chart(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, project: str
) -> Chart:
    alt = f"Milestone timeline of {project}: " + (
        "; ".join(f"{m.title} {m.due.isoformat()} ({m.state})" for m in marks) or "no milestones"
    )
    data = timeline_data(marks, today, project_due, f"{project}: milestones")
    return Chart("timeline", data, alt[:500], "milestones.png")


def pulse_chart(points: Sequence[PulsePoint], project: str) -> Chart:
    """Internal only: the averages of the last pulses."""
    series = [(p.asked_on, float(p.average) if p.average is not None else None) for p in points]
    alt = f"Client satisfaction of {project}, last pulses: " + "; ".join(
        f"{p.asked_on.isoformat()} {p.average if p.average is not None else 'no answers'}"
        for p in points
    )
    return Chart(
        "pulse", pulse_data(series, f"{project}: client satisfaction"), alt[:500], "pulse.png"
    )


def budget_image(
    summary: BudgetSummary, daily: Iterable[tuple[date, Decimal]], start: date, project: str
) -> Image:
    return draw(burn_up_chart(summary, daily, start, project))


def timeline_image(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, project: str
) -> Image:
    return draw(timeline_chart(marks, today, project_due, project))


def attach(message: Message, *charts: Image | Chart) -> Message:
    """The same message with charts added at its end."""
    return replace(message, blocks=(*message.blocks, *charts))


def report_charts(
    project: Project,
    snapshot: ProjectSnapshot,
    audience: Audience,
    daily: Iterable[tuple[date, Decimal]] = (),
) -> tuple[Chart, ...]:
    """The weekly report's charts, not drawn yet: for the team the burn-up and every
    milestone; for the client the timeline of the deliverables its client view shows, and
    nothing about money."""
    if audience == "client":
        view = client_view(snapshot)
        marks = deliverable_timeline(view.deliverables)
        return (timeline_chart(marks, snapshot.today, view.due_date, project.name),)
    charts = []
    if snapshot.budget is not None:
        charts.append(burn_up_chart(snapshot.budget, daily, project.start_date, project.name))
    marks = timeline(snapshot.milestones, snapshot.today)
    charts.append(timeline_chart(marks, snapshot.today, snapshot.due_date, project.name))
    if snapshot.pulse:
        charts.append(pulse_chart(snapshot.pulse, project.name))
    return tuple(charts)
