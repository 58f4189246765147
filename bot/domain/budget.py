"""Budget rules: burn, burn rate, when the money runs out. Pure functions, no I/O.

`bot.views.ledger` reads the figures from the database into `LedgerFigures`; `summarise` turns
them into a `BudgetSummary` that commands, reports and the scheduler show or act on.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
TENTH = Decimal("0.1")
ZERO = Decimal("0.00")


@dataclass(frozen=True, slots=True)
class LedgerFigures:
    """What the ledger holds for one project, already summed by the database."""

    currency: str
    budget: Decimal | None
    start_date: date
    due_date: date | None
    by_category: tuple[tuple[str, Decimal], ...] = ()  # expenses per category
    by_person: tuple[tuple[str, Decimal, Decimal], ...] = ()  # (name, hours, time cost)
    # (expenses, time cost) when the database summed them without the breakdowns above
    # (status and reports show only the totals); otherwise the breakdowns' sums.
    totals: tuple[Decimal, Decimal] | None = None


@dataclass(frozen=True, slots=True)
class BudgetSummary:
    currency: str
    budget: Decimal | None
    spent: Decimal  # expenses + cost of logged time
    remaining: Decimal | None  # budget - spent (negative when over); None without a budget
    burn_percent: Decimal | None  # spent / budget * 100, rounded down to 0.1
    burn_rate_per_day: Decimal  # spent per calendar day since the project started
    forecast_run_out: date | None  # the day the money runs out at that rate
    due_date: date | None
    runs_out_before_due: bool
    by_category: tuple[tuple[str, Decimal], ...]
    by_person: tuple[tuple[str, Decimal, Decimal], ...]
    expenses: Decimal = ZERO
    time_cost: Decimal = ZERO
    hours: Decimal | None = ZERO  # None when read without the time by person
    today: date | None = None
    days_elapsed: int = 1
    projected_at_due: Decimal | None = None  # spend expected by the due date at this rate

    @property
    def over_budget(self) -> bool:
        return self.remaining is not None and self.remaining < 0

    @property
    def forecast_overrun(self) -> Decimal | None:
        """How much more than the budget the project is expected to cost by its due date."""
        if self.budget is None or self.projected_at_due is None:
            return None
        return max(ZERO, self.projected_at_due - self.budget)


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def days_elapsed(start: date, today: date) -> int:
    """Calendar days the project has run, counting its first day (so never zero)."""
    return max(1, (today - start).days + 1)


def burn_percent(spent: Decimal, budget: Decimal | None) -> Decimal | None:
    """Share of the budget used, rounded down so 99.99% never reads as 100%."""
    if budget is None or budget <= 0:
        return None
    return (spent * 100 / budget).quantize(TENTH, rounding=ROUND_DOWN)


def burn_rate_per_day(spent: Decimal, days: int) -> Decimal:
    return cents(spent / max(1, days))


def forecast_run_out_date(
    budget: Decimal | None, spent: Decimal, days: int, today: date
) -> date | None:
    """The day cumulative spend reaches the budget if spending goes on at today's average.

    Today when it already has; None without a budget or without any spend to project.
    The exact rate is used (not the rate rounded to the cent) so long projects stay right.
    """
    if budget is None:
        return None
    remaining = budget - spent
    if remaining <= 0:
        return today
    if spent <= 0:
        return None
    days_left = int((remaining * max(1, days) / spent).to_integral_value(rounding=ROUND_CEILING))
    if days_left > (date.max - today).days:
        return None
    return today + timedelta(days=days_left)


def runs_out_before_due(run_out: date | None, due: date | None) -> bool:
    return run_out is not None and due is not None and run_out < due


def projected_spend(spent: Decimal, days: int, today: date, until: date | None) -> Decimal | None:
    """Spend expected by `until` if the daily average holds."""
    if until is None:
        return None
    ahead = max(0, (until - today).days)
    return cents(spent + spent * ahead / max(1, days))


def crossed_thresholds(percent: Decimal | None, thresholds: Iterable[int]) -> list[int]:
    """The warning thresholds (percent of budget) that the burn has reached."""
    if percent is None:
        return []
    return sorted(t for t in thresholds if percent >= t)


def parse_thresholds(text: str) -> list[int]:
    """A project's stored thresholds, "50,75,90,100"."""
    return sorted({int(part) for part in text.split(",") if part.strip().isdigit()})


def ledger_totals(figures: LedgerFigures) -> tuple[Decimal, Decimal, Decimal | None]:
    """Expenses, time cost and, if read, the hours logged."""
    if figures.totals is not None:
        expenses, time_cost = figures.totals
        return cents(expenses), cents(time_cost), None
    return (
        cents(sum((amount for _, amount in figures.by_category), ZERO)),
        cents(sum((cost for _, _, cost in figures.by_person), ZERO)),
        sum((h for _, h, _ in figures.by_person), ZERO),
    )


def summarise(figures: LedgerFigures, today: date) -> BudgetSummary:
    expenses, time_cost, hours = ledger_totals(figures)
    spent = expenses + time_cost
    days = days_elapsed(figures.start_date, today)
    run_out = forecast_run_out_date(figures.budget, spent, days, today)
    return BudgetSummary(
        currency=figures.currency,
        budget=figures.budget,
        spent=spent,
        remaining=None if figures.budget is None else figures.budget - spent,
        burn_percent=burn_percent(spent, figures.budget),
        burn_rate_per_day=burn_rate_per_day(spent, days),
        forecast_run_out=run_out,
        due_date=figures.due_date,
        runs_out_before_due=runs_out_before_due(run_out, figures.due_date),
        by_category=tuple(sorted(figures.by_category, key=lambda c: (-c[1], c[0]))),
        by_person=tuple(sorted(figures.by_person, key=lambda p: (-p[2], -p[1], p[0]))),
        expenses=expenses,
        time_cost=time_cost,
        hours=hours,
        today=today,
        days_elapsed=days,
        projected_at_due=projected_spend(spent, days, today, figures.due_date),
    )


def format_money(amount: Decimal, currency: str) -> str:
    return f"{currency} {amount:,.2f}"


def format_hours(hours: Decimal) -> str:
    """`1.5h`, `0.33h`: hours to two places for people; costs use the exact duration."""
    return f"{hours.quantize(CENT, rounding=ROUND_HALF_UP).normalize():f}h"
