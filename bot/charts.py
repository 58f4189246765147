"""Charts people would rather look at than read: the budget burn-up and the milestone
timeline, drawn as PNG with matplotlib's Agg renderer (no display, no pyplot state).

The series are pure functions over plain data (tested for their values); the drawing
functions only plot them; the two loaders read what the series need in fixed statements.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.budget import BudgetSummary, cents
from bot.domain.client_view import client_view
from bot.domain.snapshot import ProjectSnapshot
from bot.messages import Audience, Image, Message
from storage.models import Expense, Project, TimeEntry

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

ZERO = Decimal("0.00")
MilestoneState = Literal["done", "overdue", "upcoming"]
COLOURS = {"done": "#2e7d32", "overdue": "#c62828", "upcoming": "#1565c0"}


@dataclass(frozen=True, slots=True)
class Point:
    day: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class BurnUp:
    currency: str
    actual: tuple[Point, ...]  # cumulative spend at the end of each day with spend
    budget_line: tuple[Point, ...]  # flat at the budget; empty without one
    forecast: tuple[Point, ...]  # today's spend to the spend expected by the due date
    run_out: date | None  # when the money runs out at today's average burn
    due: date | None
    today: date


@dataclass(frozen=True, slots=True)
class MilestoneMark:
    title: str
    due: date
    state: MilestoneState
    client: bool


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


async def load_daily_spend(session: AsyncSession, project_id: int) -> list[tuple[date, Decimal]]:
    """Expenses and the cost of logged time per day, in two statements."""
    rows: list[tuple[date, Decimal]] = []
    for day_column, amount_column, model in (
        (Expense.spent_on, Expense.amount, Expense),
        (TimeEntry.logged_on, TimeEntry.cost, TimeEntry),
    ):
        # Whole cents, like the ledger: SQLite sums NUMERIC as floating point.
        result = await session.execute(
            select(day_column, func.sum(func.round(amount_column * 100)))
            .where(model.project_id == project_id)
            .group_by(day_column)
        )
        rows.extend((day, Decimal(str(total or 0)) / 100) for day, total in result)
    return rows


# --- drawing -----------------------------------------------------------------------------


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return figure, figure.add_subplot()


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure).print_png(buffer)
    return buffer.getvalue()


def _date_axis(axes: Axes) -> None:
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    locator = AutoDateLocator(minticks=3, maxticks=8)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))


def draw_burn_up(series: BurnUp, title: str) -> bytes:
    from matplotlib.ticker import StrMethodFormatter

    figure, axes = _figure(7, 3.6)
    days = [p.day for p in series.actual]
    axes.plot(
        days,
        [float(p.amount) for p in series.actual],
        drawstyle="steps-post",
        color="#1565c0",
        linewidth=2,
        label="Spent",
    )
    if series.budget_line:
        axes.plot(
            [p.day for p in series.budget_line],
            [float(p.amount) for p in series.budget_line],
            color="#c62828",
            linestyle="--",
            label="Budget",
        )
    if series.forecast:
        axes.plot(
            [p.day for p in series.forecast],
            [float(p.amount) for p in series.forecast],
            color="#ef6c00",
            linestyle=":",
            linewidth=2,
            label="Forecast to due date",
        )
    if series.due is not None:
        axes.axvline(series.due, color="#555555", linewidth=1)
        axes.annotate(
            "due",
            (series.due, 0),
            xytext=(3, 3),
            textcoords="offset points",
            fontsize=8,
            color="#555555",
        )
    if series.run_out is not None and series.budget_line:
        axes.plot(
            [series.run_out],
            [float(series.budget_line[0].amount)],
            marker="o",
            color="#c62828",
            label=f"Runs out {series.run_out.isoformat()}",
        )
    axes.set_title(title, fontsize=11, loc="left")
    axes.set_ylabel(series.currency)
    axes.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, frameon=False)
    _date_axis(axes)
    return _png(figure)


def draw_timeline(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, title: str
) -> bytes:
    height = 1.4 + 0.35 * max(1, len(marks))
    figure, axes = _figure(7, min(height, 8))
    for row, mark in enumerate(marks):
        axes.plot(
            [mark.due],
            [row],
            marker="D" if mark.client else "o",
            markersize=9,
            color=COLOURS[mark.state],
            linestyle="none",
        )
        axes.annotate(
            mark.title[:40], (mark.due, row), xytext=(8, -3), textcoords="offset points", fontsize=8
        )
    axes.axvline(today, color="#555555", linewidth=1, linestyle="--")
    axes.annotate("today", (today, -0.6), fontsize=8, color="#555555", ha="center")
    if project_due is not None:
        axes.axvline(project_due, color="#c62828", linewidth=1)
    edges = [m.due for m in marks] + [today] + ([project_due] if project_due else [])
    axes.set_xlim(min(edges) - timedelta(days=3), max(edges) + timedelta(days=10))
    axes.set_ylim(len(marks) - 0.4 if marks else 0.6, -1)
    axes.set_yticks([])
    legend = "green: done   red: overdue   blue: upcoming   diamond: client signs off"
    axes.set_xlabel(legend, fontsize=8, color="#555555")
    axes.set_title(title, fontsize=11, loc="left")
    axes.grid(axis="x", alpha=0.3)
    _date_axis(axes)
    return _png(figure)


# --- images for messages ------------------------------------------------------------


def budget_image(
    summary: BudgetSummary, daily: Iterable[tuple[date, Decimal]], start: date, project: str
) -> Image:
    series = burn_up(summary, daily, start)
    alt = f"Budget burn-up of {project}: spend over time against the budget"
    if series.forecast:
        alt += " and the forecast to the due date"
    return Image(draw_burn_up(series, f"{project}: budget burn-up"), alt, "budget-burn-up.png")


def timeline_image(
    marks: Sequence[MilestoneMark], today: date, project_due: date | None, project: str
) -> Image:
    alt = f"Milestone timeline of {project}: " + (
        "; ".join(f"{m.title} {m.due.isoformat()} ({m.state})" for m in marks) or "no milestones"
    )
    png = draw_timeline(marks, today, project_due, f"{project}: milestones")
    return Image(png, alt[:500], "milestones.png")


def attach(message: Message, *images: Image) -> Message:
    """The same message with charts added at its end."""
    return replace(message, blocks=(*message.blocks, *images))


async def report_charts(
    session: AsyncSession, project: Project, snapshot: ProjectSnapshot, audience: Audience
) -> tuple[Image, ...]:
    """The weekly report's charts: for the team the burn-up and every milestone; for the
    client the timeline of the deliverables its client view shows, and nothing about money."""
    if audience == "client":
        view = client_view(snapshot)
        marks = deliverable_timeline(view.deliverables)
        return (timeline_image(marks, snapshot.today, view.due_date, project.name),)
    images = []
    if snapshot.budget is not None:
        daily = await load_daily_spend(session, project.id)
        images.append(budget_image(snapshot.budget, daily, project.start_date, project.name))
    marks = timeline(snapshot.milestones, snapshot.today)
    images.append(timeline_image(marks, snapshot.today, snapshot.due_date, project.name))
    return tuple(images)
